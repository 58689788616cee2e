# Stock chrony as an NTS client of the built ntsd (needs chrony, util-linux).
TESTS += tests/integration/chrony_test.sh
# lib.sh: the helpers every shell test here (and chrony-client) sources.
EXTRA_DIST += tests/integration/chrony_test.sh tests/integration/chrony-client \
	tests/integration/lib.sh
