# ntsd under valgrind's memcheck through a real exchange: NTS-KE, NTS NTP,
# /metrics, bad input, SIGHUP, a key rotation, shutdown; no memcheck error
# (needs valgrind, openssl, iproute2's ss).  Not in a sanitizer build:
# valgrind cannot run an AddressSanitizer binary, and ASan checks that one.
if !ENABLE_SANITIZERS
TESTS += tests/integration/valgrind_test.sh
endif
EXTRA_DIST += tests/integration/valgrind_test.sh
