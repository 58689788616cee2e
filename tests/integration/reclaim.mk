# Reclamation that waits for readers (issue 15 part 3): replaced key sets,
# access rules and TLS contexts are freed only once every reader thread
# passed a quiescent point, whatever a stopped worker holds; reloads never
# stall the main loop.  thread_stall stops one thread with ptrace.
check_PROGRAMS += tests/integration/thread_stall
tests_integration_thread_stall_SOURCES = tests/integration/thread_stall.c
tests_integration_thread_stall_LDADD = $(PTHREAD_LIBS)
TESTS += tests/integration/reclaim_test.sh
EXTRA_DIST += tests/integration/reclaim_test.sh
