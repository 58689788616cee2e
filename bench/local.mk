# bench: the load generator and microbenchmarks (doc/BENCHMARKS.md).  Not
# built by `make` or `make check`: `make bench` builds them (and ntsd), and
# bench/compare runs the side-by-side comparison against chronyd.
EXTRA_PROGRAMS += bench/ntsbench bench/micro
bench_ntsbench_SOURCES = bench/ntsbench.c
bench_ntsbench_LDADD = client/libntsclient.a $(COMMON_LIBS)
bench_micro_SOURCES = bench/micro.c
bench_micro_LDADD = ntpd/libntpresp.a $(COMMON_LIBS)
CLEANFILES += bench/ntsbench$(EXEEXT) bench/micro$(EXEEXT)
EXTRA_DIST += bench/compare bench/accuracy bench/lib.sh doc/BENCHMARKS.md

.PHONY: bench
bench: bench/ntsbench$(EXEEXT) bench/micro$(EXEEXT) ntsd/ntsd$(EXEEXT)

# bench/compare's plots (gnuplot) from a made-up kept run: no benchmark runs.
TESTS += tests/integration/bench_plot_test.sh
EXTRA_DIST += tests/integration/bench_plot_test.sh doc/plots/compare-rate.png \
	doc/plots/compare-cpu.png doc/plots/compare-latency.png doc/plots/compare-soak-rss.png
