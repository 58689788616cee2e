# Operations (issue 7): access rules, /metrics and /health, ntsctl stats,
# against the built ntsd (needs openssl, iproute2's ss, coreutils' timeout).
TESTS += tests/integration/metrics_test.sh
EXTRA_DIST += tests/integration/metrics_test.sh
# Certificate reloads as an unprivileged user: a chown or chmod alone gets
# an unreadable certificate loaded (needs root; skipped otherwise).
TESTS += tests/integration/cert_reload_test.sh
EXTRA_DIST += tests/integration/cert_reload_test.sh
# The daemon itself (issue 11 item 8, issue 17 part 4): allow-only access
# rules, no clock metrics on NTS-KE-only hosts, a second instance refused,
# start-only directives named on SIGHUP, shutdown-drain.
TESTS += tests/integration/daemon_test.sh
EXTRA_DIST += tests/integration/daemon_test.sh
