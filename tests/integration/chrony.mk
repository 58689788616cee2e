# Stock chrony as an NTS client of the built ntsd (needs chrony, util-linux).
TESTS += tests/integration/chrony_test.sh
EXTRA_DIST += tests/integration/chrony_test.sh tests/integration/chrony-client
