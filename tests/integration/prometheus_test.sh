#!/usr/bin/env bash
# prometheus_test.sh: ntsd's /metrics read by Debian's prometheus and
# promtool, and the contrib/ alert rules and Grafana dashboard checked
# against it:
#   (a) promtool check rules and promtool test rules on
#       contrib/prometheus/ntsd-alerts.yml (one unit test per alert)
#   (b) promtool check metrics on a scrape of ntsd: no complaint at all
#   (c) prometheus on loopback (own storage in the temp dir, 1 s scrapes,
#       the alert rules loaded) scrapes ntsd before and between two NTS
#       loads (ntsctl probe: NTS-KE + 10 exchanges each); its HTTP API has
#       the NTP, NTS-KE, key and certificate series with the values the
#       load implies, and their history (0 before, 20 after); one plain
#       NTP request and one short datagram add a plain reply and a reject
#   (d) the rules evaluate without error in it, and the only alert pending
#       is NtsdClockSourceLost (ntsd's clock-source is a port where nothing
#       listens: unreachable)
#   (e) every query of contrib/grafana/ntsd.json names metrics, labels and
#       label values of the real scrape, and returns series in prometheus
# Run by make check; by hand:
#   cd BUILDDIR && srcdir=SRCDIR SRCDIR/tests/integration/prometheus_test.sh
# Exit 0 all passed, 1 a failure, 77 a tool missing outside CI (CI=true:
# missing tools fail).  PROMETHEUS_TEST_KEEP=1 keeps the temp dir.
# The setup and ready functions run through ntsd_up.
# shellcheck disable=SC2317
set -u

srcdir=${srcdir:-$(dirname "$0")/../..}
srcdir=$(cd "$srcdir" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$srcdir/tests/integration/lib.sh"

need_tools "apt-get install prometheus python3 openssl iproute2 coreutils" \
	prometheus promtool python3 openssl ss timeout
need_programs NTSD NTSCTL make_certs
promql=$srcdir/tests/integration/promql-check
alerts=$srcdir/contrib/prometheus/ntsd-alerts.yml
dashboard=$srcdir/contrib/grafana/ntsd.json
tmp_make
dev_certs certs

# --- (a) the alert rules on their own ----------------------------------------

check "(a) promtool check rules ntsd-alerts.yml" \
	bash -c "promtool check rules '$alerts' >'$tmp/check-rules.out' 2>&1"
show "$tmp/check-rules.out"
# promtool test rules resolves rule_files from the test file's directory.
check "(a) promtool test rules: every alert's unit tests pass" \
	bash -c "cd '$srcdir/contrib/prometheus' && promtool test rules ntsd-alerts_test.yml >'$tmp/test-rules.out' 2>&1"
show "$tmp/test-rules.out"
alert_names=$(sed -n 's/^ *- alert: //p' "$alerts" | sort)
untested=$(comm -23 <(echo "$alert_names") \
	<(sed -n 's/^ *alertname: //p' "$srcdir/contrib/prometheus/ntsd-alerts_test.yml" | sort -u))
check "(a) every alert has a unit test${untested:+ (not: $untested)}" test -z "$untested"

# --- ntsd --------------------------------------------------------------------

ntp_port='' ke_port='' metrics_port='' prom_port='' source_port=''
setup() {
	local ports
	ports=$(pick_ports 5) || return 1
	read -r ntp_port ke_port metrics_port prom_port source_port <<<"$ports"
	ntsd_conf ntsd "ntp-listen 127.0.0.1 $ntp_port" "ke-listen 127.0.0.1 $ke_port" \
		"metrics-listen 127.0.0.1 $metrics_port" "pid-file none" \
		"clock-source ntp 127.0.0.1 $source_port"
}
t0=$(date +%s)
metrics_url() { echo "http://127.0.0.1:$metrics_port$1"; }
answers() { "$promql" get "$(metrics_url /health)" >/dev/null 2>&1; }
if ! ntsd_up setup answers ntsd; then
	not_ok "ntsd starts with metrics-listen"
	finish
fi
echo "prometheus_test: ntsd pid ${ntsd_pid[ntsd]}: NTP $ntp_port, NTS-KE $ke_port, metrics $metrics_port"

# scrape FILE: /metrics into FILE.
scrape() { "$promql" get "$(metrics_url /metrics)" >"$1"; }

probe() {	# probe COUNT: NTS-KE + COUNT exchanges
	"$NTSCTL" probe "127.0.0.1:$ke_port" --ca "$tmp/certs/ca.pem" --name localhost \
		--count "$1" --interval 0 >"$tmp/probe.out" 2>&1 && return 0
	show "$tmp/probe.out"
	return 1
}

# --- (b) promtool check metrics ----------------------------------------------

scrape "$tmp/scrape.0"
promtool check metrics <"$tmp/scrape.0" >"$tmp/check-metrics.out" 2>&1
rc=$?
check "(b) promtool check metrics on a scrape: exit $rc, no output" \
	test "$rc" = 0 -a ! -s "$tmp/check-metrics.out"
show "$tmp/check-metrics.out"

# --- (c) prometheus scrapes ntsd -----------------------------------------------

cat >"$tmp/prometheus.yml" <<EOF2
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $alerts
scrape_configs:
  - job_name: ntsd
    static_configs:
      - targets: ['127.0.0.1:$metrics_port']
EOF2
check "(c) promtool check config" bash -c "promtool check config '$tmp/prometheus.yml' >'$tmp/check-config.out' 2>&1" ||
	show "$tmp/check-config.out"
prom=http://127.0.0.1:$prom_port
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
	--web.listen-address="127.0.0.1:$prom_port" >"$tmp/prometheus.log" 2>&1 </dev/null &
bg_pids+=($!)
prom_pid=$!
prom_ready() { "$promql" get "$prom/-/ready" >/dev/null 2>&1; }
if ! wait_for 300 prom_ready; then
	tail -n 20 "$tmp/prometheus.log" | show
	not_ok "(c) prometheus (pid $prom_pid) ready on 127.0.0.1:$prom_port"
	finish
fi

# value EXPR: the value of the one series EXPR returns ("none" if it
# returns none, "many" if more than one).
value() {
	local out
	out=$("$promql" query "$prom" "$1") || { echo error; return; }
	case $(printf '%s' "$out" | grep -c .) in
	0) echo none ;;
	1) echo "${out##* }" ;;
	*) echo many ;;
	esac
}
value_is() { [ "$(value "$1")" = "$2" ]; }
# expect EXPR VALUE: a case; the value got when it is not VALUE.
expect() {
	local got
	got=$(value "$1")
	if [ "$got" = "$2" ]; then ok "(c) $1 = $2"; else not_ok "(c) $1 = $got, expected $2"; fi
}
nts='ntsd_ntp_replies_total{protocol="nts"}'

if wait_for 150 value_is 'up{job="ntsd"}' 1; then
	ok "(c) prometheus scrapes ntsd: up 1"
else
	tail -n 20 "$tmp/prometheus.log" | show
	not_ok "(c) prometheus scrapes ntsd: up is $(value 'up{job="ntsd"}')"
	finish
fi
expect "$nts" 0
# Each load, then a scrape that saw it.
if probe 10 && wait_for 100 value_is "$nts" 10 && probe 10 && wait_for 100 value_is "$nts" 20; then
	ok "(c) two loads of NTS-KE + 10 exchanges, each seen by a scrape"
else
	not_ok "(c) loads seen by prometheus: $nts = $(value "$nts")"
fi
# One plain NTP client request (answered) and one 10-byte datagram
# (dropped as short), so that a plain reply and a named reject are there.
plain_ntp() {
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(b"\x0a" + bytes(9), ("127.0.0.1", int(sys.argv[1])))
s.sendto(b"\x23" + bytes(47), ("127.0.0.1", int(sys.argv[1])))
reply = s.recv(100)
sys.exit(0 if len(reply) == 48 and reply[0] & 7 == 4 else 1)' "$ntp_port"
}
if plain_ntp && wait_for 100 value_is 'ntsd_ntp_replies_total{protocol="ntp"}' 1; then
	ok "(c) a plain NTP request answered and seen by a scrape"
else
	not_ok "(c) plain NTP request: replies{protocol=ntp} = $(value 'ntsd_ntp_replies_total{protocol="ntp"}')"
fi
expect "$nts" 20
expect "min_over_time(${nts}[5m])" 0
expect "max_over_time(${nts}[5m])" 20
expect 'ntsd_ntp_requests_total{outcome="nts_replies"}' 20
expect 'ntsd_ntp_requests_total{outcome="plain_replies"}' 1
expect 'ntsd_ntp_requests_total{outcome="drop_short"}' 1
expect 'ntsd_ntp_naks_total' 0
expect 'sum(ntsd_ntp_requests_total)' 22
expect 'ntsd_ke_events_total{event="accepted"}' 2
expect 'ntsd_ke_events_total{event="handshake_ok"}' 2
expect 'ntsd_ke_events_total{event="responses"}' 2
expect 'ntsd_ke_events_total{event="handshake_failed"}' 0
expect 'ntsd_keyset_keys' 1
expect 'ntsd_keyset_file_ok' 1
expect 'ntsd_keyset_reload_failures_total' 0
expect 'ntsd_healthy' 1
expect 'ntsd_clock_source_state{state="unreachable"}' 1
expect 'sum(ntsd_clock_source_state)' 1
# ntsd made the key file when it started: its only key is younger than
# the test, and it seals (key-propagation does not hold back a first key).
key_age=$(value ntsd_keyset_newest_key_age_seconds)
check "(c) newest key age $key_age s: since this test started" \
	test "$key_age" -ge 0 -a "$key_age" -le $(($(date +%s) - t0 + 1))
expect 'ntsd_keyset_sealing_key_age_seconds - ntsd_keyset_newest_key_age_seconds' 0
# The certificate's notAfter, to the minute.
not_after=$(date -d "$(openssl x509 -in "$tmp/certs/server.pem" -noout -enddate | cut -d= -f2)" +%s)
expiry=$(value ntsd_ke_certificate_expiry_seconds)
left=$((not_after - $(date +%s)))
check "(c) certificate expiry $expiry s: notAfter - now = $left s (within 60)" \
	test "${expiry%.*}" -ge $((left - 60)) -a "${expiry%.*}" -le $((left + 60))

# --- (d) the alert rules in a real prometheus --------------------------------

"$promql" get "$prom/api/v1/rules" >"$tmp/rules.json"
scrape "$tmp/scrape.1"
if "$promql" names "$tmp/scrape.1" --rules "$tmp/rules.json" >"$tmp/rules-names.out"; then
	ok "(d) every rule evaluated without error and names what ntsd exports"
else
	not_ok "(d) alert rules against prometheus and the scrape"
fi
show "$tmp/rules-names.out"
alerts_now() { "$promql" query "$prom" 'ALERTS' | sed 's/^.*alertname=\([A-Za-z]*\),alertstate=\([a-z]*\),.*$/\1 \2/'; }
wait_for 50 bash -c "[ -n \"\$('$promql' query '$prom' ALERTS)\" ]"
active=$(alerts_now | sort | tr '\n' ' ')
check "(d) alerts: only NtsdClockSourceLost pending (got: $active)" \
	test "$active" = "NtsdClockSourceLost pending "

# --- (e) the Grafana dashboard -------------------------------------------------

if "$promql" names "$tmp/scrape.1" --dashboard "$dashboard" >"$tmp/dashboard-names.out"; then
	ok "(e) every dashboard query names metrics, labels and values of the scrape"
else
	not_ok "(e) dashboard queries against the scrape"
fi
show "$tmp/dashboard-names.out"
empty=0 n=0
while IFS= read -r expr; do
	n=$((n + 1))
	out=$("$promql" query "$prom" "$expr") || { empty=$((empty + 1)); continue; }
	[ -n "$out" ] && continue
	echo "  no series: $expr"
	empty=$((empty + 1))
done < <("$promql" exprs --dashboard "$dashboard")
check "(e) all $n dashboard queries return series in prometheus ($empty do not)" \
	test "$n" -gt 0 -a "$empty" = 0

# --- the end -------------------------------------------------------------------

check "prometheus still running" kill -0 "$prom_pid"
check "ntsd still running" kill -0 "${ntsd_pid[ntsd]}"
finish
