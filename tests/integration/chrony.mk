# Stock chrony as an NTS client of the built ntsd (needs chrony, util-linux).
TESTS += tests/integration/chrony_test.sh
# lib.sh: the helpers every shell test here (and chrony-client) sources.
EXTRA_DIST += tests/integration/chrony_test.sh tests/integration/chrony-client \
	tests/integration/lib.sh \
	tests/integration/netns.sh
# clock-source ntp: chronyd -x as the source, then the test-only NTP source
# (tests/integration/ntp-source, python3) for leap seconds and unsynchronised
# or broken answers.
TESTS += tests/integration/clock_source_test.sh
EXTRA_DIST += tests/integration/clock_source_test.sh tests/integration/ntp-source
