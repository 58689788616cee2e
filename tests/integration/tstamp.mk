# Timestamps (issue 12): hw-timestamp on a veth without hardware
# timestamping, in a network namespace the test makes (needs root, iproute2).
# chrony's xleave cases are in chrony_test.sh.
TESTS += tests/integration/hwts_test.sh
EXTRA_DIST += tests/integration/hwts_test.sh
