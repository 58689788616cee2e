# ntsctl: key rotation and inspection, NTS probe.
sbin_PROGRAMS += ntsctl
ntsctl_SOURCES = tools/ntsctl.c tools/ntsctl.h tools/keys.c tools/probe.c \
	tools/stats.c tools/stats.h tools/hostport.c tools/hostport.h \
	tools/json.c tools/json.h tools/probe_reply.c tools/probe_reply.h
ntsctl_LDADD = client/libntsclient.a $(COMMON_LIBS)
