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

# The shipped systemd units under a booted systemd (run-tests runs
# tests/integration/systemd_unit_test.sh; it needs root): clock_probe reads
# the kernel clock state and checks the unit's sandbox cannot set the clock.
check_PROGRAMS += tests/integration/clock_probe
tests_integration_clock_probe_SOURCES = tests/integration/clock_probe.c
EXTRA_DIST += tests/integration/systemd_unit_test.sh tests/integration/nspawn.sh \
	tests/integration/debian_package_test.sh
# Faults that lose nothing (issue 15 part 4): a full disk and SIGKILL
# (strace) during ntsctl keys rotate, a Kubernetes-style Secret swap, bad
# certificates and key files on a running ntsd, EMFILE under a KE storm,
# a good NTS-KE client within 1 s through 1,000 stalled connections,
# resets and a handshake flood (ke_storm makes them; the tmpfs case needs
# root).
check_PROGRAMS += tests/integration/ke_storm
tests_integration_ke_storm_SOURCES = tests/integration/ke_storm.c \
	tests/integration/itest.c tests/integration/itest.h
tests_integration_ke_storm_LDADD = $(COMMON_LIBS)
TESTS += tests/integration/faults_test.sh
EXTRA_DIST += tests/integration/faults_test.sh
# CPU steering and busy polling (issue 13 part 2): each worker and KE
# thread pinned to its CPU, each CPU's packets served by the thread pinned
# there (clients pinned with taskset over loopback), ntp-busy-poll applied,
# the fallbacks logged (needs util-linux's taskset and two CPUs).
TESTS += tests/integration/steering_test.sh
EXTRA_DIST += tests/integration/steering_test.sh
