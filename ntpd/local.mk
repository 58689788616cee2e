# libntpresp: the NTP responder (pure core, sockets, workers).
noinst_LIBRARIES += ntpd/libntpresp.a
ntpd_libntpresp_a_SOURCES = \
	ntpd/clock.c ntpd/clock.h \
	ntpd/ntp_service.c ntpd/ntp_service.h \
	ntpd/ratelimit.c ntpd/ratelimit.h \
	ntpd/responder.c ntpd/responder.h

# The ntsd daemon.
sbin_PROGRAMS += ntsd
ntsd_SOURCES = ntpd/main.c ntpd/daemon.c ntpd/daemon.h ntpd/keywatch.c ntpd/keywatch.h
ntsd_LDADD = nts-ke/libntske.a ntpd/libntpresp.a client/libntsclient.a $(COMMON_LIBS) $(LIBEV_LIBS)
