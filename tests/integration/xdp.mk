# ntp-xdp end to end (issue 13): chrony and ntsctl through the XDP path
# between two namespaces, denied sources, malformed requests, the
# fallbacks, timestamps against the socket path, SIGKILL.  Root; without
# XDP in the build it cannot run (skipped, failed under CI=true).
TESTS += tests/integration/xdp_test.sh
EXTRA_DIST += tests/integration/xdp_test.sh tests/integration/xdp-client
