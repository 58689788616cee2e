# libntpresp: the NTP responder (pure core, sockets, workers).
noinst_LIBRARIES += ntpd/libntpresp.a
ntpd_libntpresp_a_SOURCES = \
	ntpd/clock.c ntpd/clock.h \
	ntpd/ntp_service.c ntpd/ntp_service.h \
	ntpd/ratelimit.c ntpd/ratelimit.h \
	ntpd/responder.c ntpd/responder.h

# The ntsd daemon.
sbin_PROGRAMS += ntsd
ntsd_SOURCES = ntpd/main.c ntpd/daemon.c ntpd/daemon.h ntpd/keywatch.c ntpd/keywatch.h \
	ntpd/ops.c ntpd/ops.h
ntsd_LDADD = nts-ke/libntske.a ntpd/libntpresp.a ntpd/libntsops.a client/libntsclient.a \
	$(COMMON_LIBS) $(LIBEV_LIBS) $(MHD_LIBS)

# libntsops: the metrics and health endpoint (libmicrohttpd) and its pure
# parts: the Prometheus text format and the health verdict.
noinst_LIBRARIES += ntpd/libntsops.a
ntpd_libntsops_a_SOURCES = \
	ntpd/health.c ntpd/health.h \
	ntpd/metrics.c ntpd/metrics.h \
	ntpd/promtext.c ntpd/promtext.h
ntpd_libntsops_a_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS)
