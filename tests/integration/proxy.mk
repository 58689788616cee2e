# NTS-KE behind Debian's HAProxy with PROXY protocol v2 (issue 14 part 2),
# in network namespaces (needs root and haproxy; skipped otherwise outside
# CI).  haproxy.sh writes and runs the HAProxy config for other tests too.
TESTS += tests/integration/haproxy_ke_test.sh
EXTRA_DIST += tests/integration/haproxy_ke_test.sh tests/integration/haproxy.sh
