# The seccomp sandbox (issue 15 part 1): every thread filtered, the
# test-only trigger kills with the SIGSYS handler's line, sandbox no is off.
TESTS += tests/integration/sandbox_test.sh
EXTRA_DIST += tests/integration/sandbox_test.sh
