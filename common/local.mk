# libntscommon: the core both services and the tools link: pure code, plus
# the few OpenSSL helpers (error log, key exporter) every TLS user needs.
noinst_LIBRARIES += common/libntscommon.a
common_libntscommon_a_SOURCES = \
	common/acl.c common/acl.h \
	common/aead.c common/aead.h common/aead_private.c \
	common/buf.c common/buf.h \
	common/config.c common/config.h \
	common/counters.h \
	common/cookie.c common/cookie.h \
	common/decimal.c common/decimal.h \
	common/file.c common/file.h \
	common/ke_export.c common/ke_export.h \
	common/ke_record.c common/ke_record.h \
	common/keypolicy.c common/keypolicy.h \
	common/listener.c common/listener.h \
	common/keyset.c common/keyset.h \
	common/log.c common/log.h \
	common/monotime.h \
	common/netaddr.c common/netaddr.h \
	common/nts_request.c common/nts_request.h \
	common/pem.c common/pem.h \
	common/proxy_v2.c common/proxy_v2.h \
	common/ntp_ef.c common/ntp_ef.h \
	common/ntp_packet.c common/ntp_packet.h \
	common/ratelimit.c common/ratelimit.h \
	common/rng.c common/rng.h \
	common/secmem.c common/secmem.h \
	common/seqlock.h \
	common/snapshot.c common/snapshot.h \
	common/thread_start.h

# XDP_LIBS (libbpf, libxdp; empty with --disable-xdp): libntpresp's XDP
# loader and workers need them, and every program that links libntpresp.a
# links COMMON_LIBS after it.
COMMON_LIBS = common/libntscommon.a $(NETTLE_LIBS) $(OPENSSL_LIBS) $(URCU_LIBS) $(PTHREAD_LIBS) \
	$(XDP_LIBS)
