# bench: the load generator and microbenchmarks (doc/BENCHMARKS.md).  `make
# bench` builds them (and ntsd); bench/compare runs the side-by-side
# comparison against chronyd on loopback, bench/veth the same between two
# network namespaces.  The load generator is also a check program: its
# replay mode has a functional test (tests/integration/bench_replay_test.sh,
# no timed assertion).  bench/micro is built by `make bench` only.
check_PROGRAMS += bench/ntsbench
EXTRA_PROGRAMS += bench/micro
bench_ntsbench_SOURCES = bench/ntsbench.c bench/replay.c bench/replay.h
bench_ntsbench_LDADD = client/libntsclient.a $(COMMON_LIBS)
bench_micro_SOURCES = bench/micro.c
bench_micro_LDADD = ntpd/libntpresp.a $(COMMON_LIBS)
CLEANFILES += bench/micro$(EXEEXT)
EXTRA_DIST += bench/compare bench/veth bench/accuracy bench/lib.sh doc/BENCHMARKS.md

.PHONY: bench
bench: bench/ntsbench$(EXEEXT) bench/micro$(EXEEXT) ntsd/ntsd$(EXEEXT)

# bench/compare's plots (gnuplot) from a made-up kept run: no benchmark runs.
TESTS += tests/integration/bench_plot_test.sh
EXTRA_DIST += tests/integration/bench_plot_test.sh doc/plots/compare-rate.png \
	doc/plots/compare-cpu.png doc/plots/compare-latency.png doc/plots/compare-soak-rss.png
# ntsbench -m replay against a local ntsd for a second: the sampled full
# verification finds only good replies, and at least one.
TESTS += tests/integration/bench_replay_test.sh
EXTRA_DIST += tests/integration/bench_replay_test.sh
# bench/replay's unit tests run in the one CUnit runner.
tests_unit_unit_tests_SOURCES += tests/unit/test_replay.c bench/replay.c bench/replay.h
