#!/usr/bin/env bash
# bench_plot_test.sh: bench/compare's plots (issue 16 part 3), drawn from a
# small synthetic kept run with --retable: no server, no load, no root.
#
#   plots         compare-rate, compare-cpu, compare-latency and
#                 compare-soak-rss as PNG and SVG, in the work dir and in
#                 --plots DIR (and next to --out FILE when no --plots)
#   data          the bars are the medians of the table; the latency
#                 curves sum every round's ntsbench --hist histogram
#   --no-plots    draws nothing and needs no gnuplot
#   a bad plot    gnuplot's error is shown and bench/compare exits 1
# Run by make check; by hand:
#   cd BUILDDIR && srcdir=SRCDIR SRCDIR/tests/integration/bench_plot_test.sh
# Exit 0 all passed, 1 a failure, 77 gnuplot missing outside CI (CI=true:
# it fails).  BENCH_PLOT_TEST_KEEP=1 keeps the temp dir.
# The helpers run through check.
# shellcheck disable=SC2317
set -u

srcdir=${srcdir:-$(dirname "$0")/../..}
srcdir=$(cd "$srcdir" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$srcdir/tests/integration/lib.sh"

need_tools "apt-get install gnuplot-nox python3" gnuplot python3
tmp_make
compare=$srcdir/bench/compare
plots="compare-rate compare-cpu compare-latency compare-soak-rss"

# --- a kept run, made up -----------------------------------------------------

# result SERVER TEST PER_S CPU_US P50 P99: one ntsbench RESULT line.
result() {
	local mode=nts
	case $2 in plain) mode=plain ;; ke) mode=ke ;; esac
	if [ $mode = ke ]; then
		echo "RESULT label=$1-$2 mode=ke threads=8 sockets=0 window=0 rate=0 duration=2.000" \
			"handshakes=3000 failed=0 per_s=$3 p50_us=$5 p99_us=$6 server_procs=1" \
			"server_cpu_s=0.9 cpu_us_per=$4 server_hwm_kb=10400 gen_cpu=1.000"
	else
		echo "RESULT label=$1-$2 mode=$mode threads=1 sockets=4 window=16 rate=0 duration=2.000" \
			"sent=1000 valid=1000 nak=0 kod=0 invalid=0 lost=0 loss=0.000000 per_s=$3" \
			"rtt_p50_us=$5 rtt_p99_us=$6 srv_p50_us=$5 srv_p99_us=$6 stray=0 unsent=0" \
			"cookie_reuse=0 placeholder_reqs=0 oversize=0 server_procs=1 server_cpu_s=1.9" \
			"cpu_us_per=$4 server_hwm_kb=10400 gen_cpu=0.800"
	fi
}

make_run() { # DIR
	local d=$1 s round seq=0
	mkdir -p "$d"
	cat >"$d/meta" <<'META'
declare -- started="2026-12-01T00:00:00Z"
declare -- load_before="0.10 0.20 0.30"
declare -- cpu_model="Test CPU"
declare -- chrony_version="4.3"
declare -- ntsd_version="ntsd test"
declare -- pinning="not pinned"
declare -- ncpu="2"
declare -- rounds="2"
declare -- duration="2"
declare -- warmup="0.5"
declare -- rate="20000"
declare -- cmdline="bench/compare --quick"
declare -- scaling="no"
declare -- retried="0"
META
	echo "RESULT crypto_ns=1610 socket_b16_ns=1100 floor_ns=2710 responder_nts_ns=1750" \
		"tls_ns=204000 wake_cpu_ns=10900 wake_lat_p50_ns=29300" >"$d/micro.out"
	: >"$d/results.log"
	# Two rounds; ntsd's NTS flood rates 270000 and 274000 (median 272000).
	for round in 1 2; do
		for s in ntsd chronyd; do
			if [ $s = ntsd ]; then
				result ntsd nts $((266000 + 4000 * round)) 3.6 220 300
				result ntsd plain 531000 1.86 100 150
				result ntsd steady 20000 18.1 87 469
				result ntsd ke 1502 308 5014 6000
			else
				result chronyd nts 243585 4.07 250 350
				result chronyd plain 441262 2.24 110 160
				result chronyd steady 19975 18.5 88 185
				result chronyd ke 1496 274 5014 6100
			fi >>"$d/results.log"
			# Histograms as ntsbench --hist writes them: 90 replies at
			# 50 us and 10 at 400 us per round (the KE run 1000 us).
			for t in nts steady ke; do
				seq=$((seq + 1))
				{
					echo "# ntsbench latency histogram: series microseconds count"
					if [ $t = ke ]; then
						echo "ke 1000.000 100"
					else
						printf 'rtt 50.000 90\nrtt 400.000 10\nsrv 20.000 99\nsrv 300.000 1\n'
					fi
				} >"$d/hist-$s-$t-$seq.txt"
			done
		done
	done
	printf '# seconds VmRSS_kB VmHWM_kB\n3 10436 10436\n6 10440 10440\n9 - -\n12 10460 10460\n' \
		>"$d/soak-rss.dat"
	echo "Soak: made up" >"$d/soak.txt"
}

is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }
is_svg() {
	python3 -c 'import sys, xml.etree.ElementTree as E
r = E.parse(sys.argv[1]).getroot()
sys.exit(0 if r.tag.endswith("svg") and len(list(r.iter())) > 50 else 1)' "$1" 2>/dev/null
}
all_drawn() { # DIR
	local p
	for p in $plots; do
		is_png "$1/$p.png" || { echo "  $1/$p.png is not a PNG"; return 1; }
		is_svg "$1/$p.svg" || { echo "  $1/$p.svg is not an SVG with content"; return 1; }
	done
}

# --- plots from a kept run -----------------------------------------------------

run=$tmp/run
make_run "$run"
if "$compare" --retable "$run" --plots "$tmp/plots" >"$tmp/out" 2>&1; then
	ok "bench/compare --retable --plots exits 0"
else
	not_ok "bench/compare --retable --plots exits 0"
	show "$tmp/out"
fi
check "every plot drawn as PNG and SVG in the work dir" all_drawn "$run"
check "every plot copied to --plots DIR" all_drawn "$tmp/plots"
check "the table is still printed" grep -q '^| NTS replies/s, closed loop' "$tmp/out"
check "the rate bars are the table's medians" \
	grep -qx '"NTS flood" 272000 243585' "$run/compare-rate-ntp.dat"
check "the CPU bars: NTS at the steady rate" \
	grep -qx '"NTS at 20000/s" 18.1 18.5' "$run/compare-cpu-ntp.dat"
check "the KE bars" grep -qx '"NTS-KE storm" 308 274' "$run/compare-cpu-ke.dat"
# Both rounds summed: 180 at 50 us, 20 at 400 us; everything took >= 50 us,
# a tenth >= 400 us.
check "the latency curve sums the rounds' histograms" \
	diff <(printf '50.000 1\n400.000 0.1\n') "$run/compare-lat-ntsd-steady-rtt.dat"
check "the rx->tx curve: 1% at 300 us" \
	grep -qx '300.000 0.01' "$run/compare-lat-chronyd-nts-srv.dat"
check "the KE latency curve" grep -qx '1000.000 1' "$run/compare-lat-ntsd-ke-ke.dat"
check "the SVG carries its title" grep -q 'Replies per second' "$run/compare-rate.svg"
check "the soak plot reads the RSS samples" grep -q "soak-rss.dat" "$run/compare-soak-rss.gp"

# --- --out FILE puts them next to the table --------------------------------------

mkdir -p "$tmp/out-dir"
"$compare" --retable "$run" --out "$tmp/out-dir/table.md" >"$tmp/out2" 2>&1
check "--out FILE: the table written" grep -q 'ntsd/chronyd' "$tmp/out-dir/table.md"
check "--out FILE: the plots next to it" all_drawn "$tmp/out-dir"

# --- --no-plots ------------------------------------------------------------------

run2=$tmp/run2
make_run "$run2"
"$compare" --retable "$run2" --no-plots --plots "$tmp/none" >"$tmp/out3" 2>&1
check "--no-plots: exit 0" test $? -eq 0
check "--no-plots: nothing drawn" test -z "$(ls "$run2"/*.png "$tmp/none" 2>/dev/null)"

# --- a plot gnuplot cannot draw --------------------------------------------------

run3=$tmp/run3
make_run "$run3"
printf '# seconds VmRSS_kB VmHWM_kB\nnot numbers at all\n' >"$run3/soak-rss.dat"
"$compare" --retable "$run3" >"$tmp/out4" 2>&1
check "a bad plot: bench/compare exits 1" test $? -eq 1
check "a bad plot: gnuplot's message is shown" grep -q 'gnuplot failed on .*compare-soak-rss.gp' "$tmp/out4"

finish
