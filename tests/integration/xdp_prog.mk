# The XDP program and its loader (issue 13, ntpd/xdp_prog.c): crafted
# frames through BPF_PROG_TEST_RUN in a namespace of the test's own, and
# attaching to a veth in namespaces (native, generic, SIGKILL).  Root.
EXTRA_DIST += tests/integration/xdp_attach_test.sh
if ENABLE_XDP
check_PROGRAMS += tests/integration/xdp_prog_test tests/integration/xdp_attach
TESTS += tests/integration/xdp_prog_test tests/integration/xdp_attach_test.sh
tests_integration_xdp_prog_test_SOURCES = tests/integration/xdp_prog_test.c \
	tests/integration/itest.c tests/integration/itest.h
tests_integration_xdp_prog_test_LDADD = ntpd/libntpresp.a $(COMMON_LIBS)
tests_integration_xdp_attach_SOURCES = tests/integration/xdp_attach.c
tests_integration_xdp_attach_LDADD = ntpd/libntpresp.a $(COMMON_LIBS)
endif
