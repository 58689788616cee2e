# ntsctl keys / probe, and a fleet on one machine (KE host + two NTP hosts
# sharing one key file, stock chrony, rotations under load); a fleet whose
# hosts hold their own copies of the key file: first start and first rotation.
TESTS += tests/integration/ntsctl_test.sh tests/integration/fleet_test.sh \
	tests/integration/fleet_keys_test.sh
EXTRA_DIST += tests/integration/ntsctl_test.sh tests/integration/fleet_test.sh \
	tests/integration/fleet_keys_test.sh
# The fleet on real parts (as root): ntsd hosts in network namespaces behind
# an nftables DNAT load balancer whose map lb-health-checker (python3) keeps
# from /health; stock chrony through the virtual IP across host failure,
# scale-out, rotation and drained hosts.
TESTS += tests/integration/fleet_lb_test.sh
EXTRA_DIST += tests/integration/fleet_lb_test.sh tests/integration/lb-health-checker
