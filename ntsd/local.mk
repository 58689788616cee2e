# The ntsd daemon: main, daemonising and privilege drop, reload and file
# watching, ops.  The only part that includes both ntpd/ and nts-ke/.
sbin_PROGRAMS += ntsd/ntsd
ntsd_ntsd_SOURCES = ntsd/main.c ntsd/daemon.c ntsd/daemon.h ntsd/caps.c ntsd/caps.h \
	ntsd/keywatch.c ntsd/keywatch.h \
	ntsd/ops.c ntsd/ops.h \
	ntsd/precheck.c ntsd/precheck.h \
	ntsd/clockwatch.c ntsd/clockwatch.h \
	ntsd/sandbox.c ntsd/sandbox.h
ntsd_ntsd_LDADD = nts-ke/libntske.a ntpd/libntpresp.a ntsd/libntsops.a \
	$(COMMON_LIBS) $(LIBEV_LIBS) $(MHD_LIBS) $(SECCOMP_LIBS)

# libntsops: the metrics and health endpoint (libmicrohttpd) and its pure
# parts: the Prometheus text format and the health verdict.
noinst_LIBRARIES += ntsd/libntsops.a
ntsd_libntsops_a_SOURCES = \
	ntsd/health.c ntsd/health.h \
	ntsd/metrics.c ntsd/metrics.h \
	ntsd/promtext.c ntsd/promtext.h
ntsd_libntsops_a_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS)
