# libFuzzer targets: ./configure CC=clang --enable-fuzzing && make fuzz
# Each target is one file defining LLVMFuzzerTestOneInput.
FUZZ_TARGETS = \
	tests/fuzz/fuzz_clock_source \
	tests/fuzz/fuzz_config \
	tests/fuzz/fuzz_cookie \
	tests/fuzz/fuzz_ke_handler \
	tests/fuzz/fuzz_ke_record \
	tests/fuzz/fuzz_ke_reply \
	tests/fuzz/fuzz_ke_request \
	tests/fuzz/fuzz_keyset \
	tests/fuzz/fuzz_netaddr \
	tests/fuzz/fuzz_ntp_ef \
	tests/fuzz/fuzz_pem \
	tests/fuzz/fuzz_probe_reply \
	tests/fuzz/fuzz_proxy_v2 \
	tests/fuzz/fuzz_responder \
	tests/fuzz/fuzz_stats \
	tests/fuzz/fuzz_txstamp \
	tests/fuzz/fuzz_xdp_frame
FUZZER_LINK_FLAGS = -fsanitize=fuzzer
if ENABLE_FUZZING
noinst_PROGRAMS += $(FUZZ_TARGETS)
endif
EXTRA_PROGRAMS += $(FUZZ_TARGETS)
# The XDP program through the kernel (root; built with XDP only).
if ENABLE_XDP
FUZZ_TARGETS += tests/fuzz/fuzz_xdp_filter
endif
tests_fuzz_fuzz_xdp_filter_SOURCES = tests/fuzz/fuzz_xdp_filter.c
tests_fuzz_fuzz_xdp_filter_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_xdp_filter_LDADD = ntpd/libntpresp.a $(COMMON_LIBS)
tests_fuzz_fuzz_clock_source_SOURCES = tests/fuzz/fuzz_clock_source.c
tests_fuzz_fuzz_clock_source_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_clock_source_LDADD = ntpd/libntpresp.a $(COMMON_LIBS)
tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz_config.c
tests_fuzz_fuzz_config_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_config_LDADD = $(COMMON_LIBS)
tests_fuzz_fuzz_cookie_SOURCES = tests/fuzz/fuzz_cookie.c
tests_fuzz_fuzz_cookie_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_cookie_LDADD = $(COMMON_LIBS)
tests_fuzz_fuzz_ke_handler_SOURCES = tests/fuzz/fuzz_ke_handler.c
tests_fuzz_fuzz_ke_handler_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_ke_handler_LDADD = nts-ke/libntske.a $(COMMON_LIBS)
tests_fuzz_fuzz_ke_reply_SOURCES = tests/fuzz/fuzz_ke_reply.c
tests_fuzz_fuzz_ke_reply_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_ke_reply_LDADD = $(COMMON_LIBS)
tests_fuzz_fuzz_ke_request_SOURCES = tests/fuzz/fuzz_ke_request.c
tests_fuzz_fuzz_ke_request_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_ke_request_LDADD = $(COMMON_LIBS)
tests_fuzz_fuzz_keyset_SOURCES = tests/fuzz/fuzz_keyset.c
tests_fuzz_fuzz_keyset_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_keyset_LDADD = $(COMMON_LIBS)
tests_fuzz_fuzz_ntp_ef_SOURCES = tests/fuzz/fuzz_ntp_ef.c
tests_fuzz_fuzz_ntp_ef_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_ntp_ef_LDADD = $(COMMON_LIBS)
tests_fuzz_fuzz_pem_SOURCES = tests/fuzz/fuzz_pem.c
tests_fuzz_fuzz_pem_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_pem_LDADD = $(COMMON_LIBS)
tests_fuzz_fuzz_proxy_v2_SOURCES = tests/fuzz/fuzz_proxy_v2.c
tests_fuzz_fuzz_proxy_v2_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_proxy_v2_LDADD = $(COMMON_LIBS)
EXTRA_DIST += tests/fuzz/run-smoke tests/fuzz/campaign tests/fuzz/fuzz_check.h
# Seed corpora (tests/fuzz/corpus/TARGET/, a directory: copied whole) and
# what rebuilds them from loopback traffic.
EXTRA_DIST += tests/fuzz/corpus tests/fuzz/make-corpus tests/fuzz/corpus-relay \
	tests/fuzz/corpus-seeds doc/fuzzing.md
tests_fuzz_fuzz_responder_SOURCES = tests/fuzz/fuzz_responder.c
tests_fuzz_fuzz_responder_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_responder_LDADD = ntpd/libntpresp.a $(COMMON_LIBS)
tests_fuzz_fuzz_txstamp_SOURCES = tests/fuzz/fuzz_txstamp.c
tests_fuzz_fuzz_txstamp_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_txstamp_LDADD = ntpd/libntpresp.a $(COMMON_LIBS)
tests_fuzz_fuzz_ke_record_SOURCES = tests/fuzz/fuzz_ke_record.c
tests_fuzz_fuzz_ke_record_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_ke_record_LDADD = $(COMMON_LIBS)
tests_fuzz_fuzz_netaddr_SOURCES = tests/fuzz/fuzz_netaddr.c tools/hostport.c tools/hostport.h
tests_fuzz_fuzz_netaddr_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_netaddr_LDADD = $(COMMON_LIBS)
tests_fuzz_fuzz_stats_SOURCES = tests/fuzz/fuzz_stats.c tools/stats.c tools/stats.h \
	tools/json.c tools/json.h tools/hostport.c tools/hostport.h
tests_fuzz_fuzz_stats_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_stats_LDADD = $(COMMON_LIBS)
tests_fuzz_fuzz_probe_reply_SOURCES = tests/fuzz/fuzz_probe_reply.c tools/probe_reply.c \
	tools/probe_reply.h
tests_fuzz_fuzz_probe_reply_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_probe_reply_LDADD = $(COMMON_LIBS)
tests_fuzz_fuzz_xdp_frame_SOURCES = tests/fuzz/fuzz_xdp_frame.c
tests_fuzz_fuzz_xdp_frame_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_xdp_frame_LDADD = ntpd/libntpresp.a $(COMMON_LIBS)
