# ntsctl keys / probe, and a fleet on one machine (KE host + two NTP hosts
# sharing one key file, stock chrony, rotations under load); a fleet whose
# hosts hold their own copies of the key file: first start and first rotation.
TESTS += tests/integration/ntsctl_test.sh tests/integration/fleet_test.sh \
	tests/integration/fleet_keys_test.sh
EXTRA_DIST += tests/integration/ntsctl_test.sh tests/integration/fleet_test.sh \
	tests/integration/fleet_keys_test.sh
