# One CUnit runner for every suite (tests/unit/unit.h).  Without CUnit,
# make check runs a stand-in that fails and says what to install.
EXTRA_DIST += tests/unit/cunit-missing
if HAVE_CUNIT
check_PROGRAMS += tests/unit/unit_tests
TESTS += tests/unit/unit_tests
else
TESTS += tests/unit/cunit-missing
endif
tests_unit_unit_tests_SOURCES = \
	tests/unit/runner.c tests/unit/unit.h \
	tests/unit/aead_testalg.c tests/unit/aead_testalg.h \
	tests/unit/vmflags.c tests/unit/vmflags.h \
	tests/unit/test_acl.c \
	tests/unit/test_aead.c \
	tests/unit/test_buf.c \
	tests/unit/test_clock_source.c \
	tests/unit/test_config.c \
	tests/unit/test_cookie.c \
	tests/unit/test_decimal.c \
	tests/unit/test_file.c \
	tests/unit/test_health.c \
	tests/unit/test_ke_admit.c \
	tests/unit/test_ke_record.c \
	tests/unit/test_ke_handler.c \
	tests/unit/test_ke_session.c \
	tests/unit/test_keypolicy.c \
	tests/unit/test_keyset.c \
	tests/unit/test_listener.c \
	tests/unit/test_log.c \
	tests/unit/test_metrics.c \
	tests/unit/test_netaddr.c \
	tests/unit/test_ntp_judge.c \
	tests/unit/test_ntp_ef.c \
	tests/unit/test_ntp_packet.c \
	tests/unit/test_nts_path.c \
	tests/unit/test_nts_request.c \
	tests/unit/test_pem.c \
	tests/unit/test_phc.c \
	tests/unit/test_precheck.c ntsd/precheck.c ntsd/precheck.h ntsd/daemon.c ntsd/daemon.h \
	tests/unit/test_caps.c ntsd/caps.c ntsd/caps.h \
	tests/unit/test_sandbox.c ntsd/sandbox.c ntsd/sandbox.h \
	tests/unit/test_promtext.c \
	tests/unit/test_proxy_v2.c \
	tests/unit/test_ratelimit.c \
	tests/unit/test_responder.c \
	tests/unit/test_rng.c \
	tests/unit/test_secmem.c \
	tests/unit/test_snapshot.c \
	tests/unit/test_xdp_frame.c \
	tests/unit/test_xleave.c \
	tests/unit/test_hostport.c tools/hostport.c tools/hostport.h \
	tests/unit/test_stats.c tools/stats.c tools/stats.h \
	tests/unit/test_json.c tools/json.c tools/json.h
tests_unit_unit_tests_LDADD = nts-ke/libntske.a ntpd/libntpresp.a ntsd/libntsops.a \
	client/libntsclient.a $(COMMON_LIBS) $(LIBEV_LIBS) $(MHD_LIBS) $(SECCOMP_LIBS) $(CUNIT_LIBS)
AM_TESTS_ENVIRONMENT = srcdir='$(abs_top_srcdir)'; export srcdir;
