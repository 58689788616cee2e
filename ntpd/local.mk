# libntpresp: the NTP responder (pure core, sockets, workers, clock state,
# rate limiting over common/ratelimit).  It knows common/ only: never
# nts-ke/ nor ntsd/.
noinst_LIBRARIES += ntpd/libntpresp.a
ntpd_libntpresp_a_SOURCES = \
	ntpd/clock.c ntpd/clock.h \
	ntpd/clock_source.c ntpd/clock_source.h \
	ntpd/ntp_judge.c ntpd/ntp_judge.h \
	ntpd/ntp_service.c ntpd/ntp_service.h \
	ntpd/phc.c ntpd/phc.h \
	ntpd/phc_dev.c ntpd/phc_dev.h \
	ntpd/responder.c ntpd/responder.h \
	ntpd/txstamp.c ntpd/txstamp.h \
	ntpd/xdp_frame.c ntpd/xdp_frame.h \
	ntpd/xleave.c ntpd/xleave.h
