# ntsctl keys / probe, and a fleet on one machine (KE host + two NTP hosts
# sharing one key file, stock chrony, rotations under load).
TESTS += tests/integration/ntsctl_test.sh tests/integration/fleet_test.sh
EXTRA_DIST += tests/integration/ntsctl_test.sh tests/integration/fleet_test.sh
