# Integration tests: real sockets, real TLS, the real daemon, real chrony.
check_PROGRAMS += tests/integration/ke_tls_test tests/integration/ntp_service_test
TESTS += tests/integration/ke_tls_test tests/integration/ntp_service_test
tests_integration_ke_tls_test_SOURCES = tests/integration/ke_tls_test.c tests/integration/itest.c tests/integration/itest.h
tests_integration_ke_tls_test_LDADD = nts-ke/libntske.a client/libntsclient.a \
	$(COMMON_LIBS) $(LIBEV_LIBS)
tests_integration_ntp_service_test_SOURCES = tests/integration/ntp_service_test.c tests/integration/itest.c tests/integration/itest.h
tests_integration_ntp_service_test_LDADD = ntpd/libntpresp.a $(COMMON_LIBS)
