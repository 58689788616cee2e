# Operations (issue 7): access rules, /metrics and /health, ntsctl stats,
# against the built ntsd (needs openssl, iproute2's ss, coreutils' timeout).
TESTS += tests/integration/metrics_test.sh
EXTRA_DIST += tests/integration/metrics_test.sh
