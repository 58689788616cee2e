# Operations (issue 7): access rules, /metrics and /health, ntsctl stats,
# against the built ntsd (needs openssl, iproute2's ss, coreutils' timeout).
TESTS += tests/integration/metrics_test.sh
EXTRA_DIST += tests/integration/metrics_test.sh
# Certificate reloads as an unprivileged user: a chown or chmod alone gets
# an unreadable certificate loaded (needs root; skipped otherwise).
TESTS += tests/integration/cert_reload_test.sh
EXTRA_DIST += tests/integration/cert_reload_test.sh
