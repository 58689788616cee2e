#!/usr/bin/env bash
# metrics_test.sh: access rules, /metrics, /health and ntsctl stats against
# the built ntsd on free loopback ports with a throw-away CA:
#   (a) /health 200 "ok", /metrics in the Prometheus text format
#   (b) NTS-KE + 5 authenticated exchanges (ntsctl probe): the counters move
#       by exactly that and nothing else moves
#   (c) ntsctl stats prints the same figures as a table
#   (d) ntp-deny for the client's address (SIGHUP): KE works, the NTP
#       request gets no reply, the denied counter moves by one; ke-deny:
#       the connection is closed before TLS, counted; a bad file on SIGHUP
#       keeps the rules; rules removed: service again
#   (e) 4 clients x 50 exchanges while /metrics is scraped in a loop: no
#       reply lost, counters exact
#   (f) key file gone: /health 503 naming it; back: 200
#   (g) certificate replaced by an expired one: /health 503, expiry < 0,
#       ntsctl stats (and --raw) exit 4; the valid one back: 200
#   (h) restarted with ke-rate-limit 0.001 2: two probes served, the
#       third closed at accept and counted as refused_rate_limit, before TLS
# HTTP is spoken with bash's /dev/tcp so the endpoint is checked by a
# client that is not ours.  Run by make check; by hand:
#   cd BUILDDIR && srcdir=SRCDIR SRCDIR/tests/integration/metrics_test.sh
# Exit 0 all passed, 1 a failure, 77 a tool missing outside CI (CI=true:
# missing tools fail).  METRICS_TEST_KEEP=1 keeps the temp dir.
# The setup and ready functions run through ntsd_up.
# shellcheck disable=SC2317
set -u

srcdir=${srcdir:-$(dirname "$0")/../..}
srcdir=$(cd "$srcdir" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$srcdir/tests/integration/lib.sh"

need_tools "apt-get install openssl iproute2 coreutils" openssl ss timeout
need_programs NTSD NTSCTL make_certs
tmp_make
dev_certs certs

# An expired certificate for the same key, signed by the same CA: openssl
# ca sets any validity period (OpenSSL 3.0's x509 cannot backdate).
make_expired() {
	mkdir -p "$tmp/ca" && : >"$tmp/ca/index.txt" && echo 01 >"$tmp/ca/serial"
	cat >"$tmp/ca.cnf" <<EOF
[ca]
default_ca = test
[test]
dir = $tmp/ca
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
default_md = sha256
policy = anything
copy_extensions = copy
unique_subject = no
[anything]
commonName = supplied
EOF
	openssl req -new -key "$tmp/certs/server.key" -subj "/CN=localhost" \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
		-out "$tmp/expired.csr" &&
		openssl ca -batch -config "$tmp/ca.cnf" -cert "$tmp/certs/ca.pem" \
			-keyfile "$tmp/certs/ca.key" -in "$tmp/expired.csr" \
			-startdate 20200101000000Z -enddate 20200201000000Z \
			-out "$tmp/expired.pem"
}
if ! make_expired >"$tmp/expired.log" 2>&1 ||
	! openssl x509 -in "$tmp/expired.pem" -noout -checkend 0 2>/dev/null | grep -q "will expire"; then
	cat "$tmp/expired.log"
	not_ok "prerequisites: cannot make an expired certificate"
	finish
fi
cp "$tmp/certs/server.pem" "$tmp/valid.pem"

# --- HTTP over bash's /dev/tcp ---------------------------------------------

# http_get PATH: sets http_status, http_type and http_body.
http_get() {
	local resp
	http_status='' http_type='' http_body=''
	resp=$(timeout 5 bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" "$2" >&3
		cat <&3' _ "$metrics_port" "$1" | tr -d '\r') || return 1
	http_status=$(printf '%s\n' "$resp" | sed -n '1s/^HTTP\/1\.[01] \([0-9]*\) .*/\1/p')
	http_type=$(printf '%s\n' "$resp" | sed -n '/^$/q; s/^[Cc]ontent-[Tt]ype: //p')
	http_body=$(printf '%s\n' "$resp" | sed '1,/^$/d')
	[ -n "$http_status" ]
}

# scrape: the /metrics body into $tmp/m.N (N counts up); sets last_scrape.
n_scrapes=0
scrape() {
	n_scrapes=$((n_scrapes + 1))
	last_scrape=$tmp/m.$n_scrapes
	http_get /metrics && [ "$http_status" = 200 ] || return 1
	printf '%s\n' "$http_body" >"$last_scrape"
}

# value FILE 'name{labels}': the sample's value, "absent" when missing.
value() {
	awk -v k="$2" '$1 == k { print $2; found = 1; exit } END { if (!found) print "absent" }' "$1"
}

# moved BEFORE AFTER 'name{labels}' N: the sample grew by exactly N.
moved() {
	local a b
	a=$(value "$1" "$3")
	b=$(value "$2" "$3")
	if [ "$a" = absent ] || [ "$b" = absent ] || [ $((b - a)) -ne "$4" ]; then
		echo "  $3: $a -> $b, expected +$4"
		return 1
	fi
}

# summed BEFORE AFTER NAME N: the samples of NAME (every worker or thread)
# grew by exactly N together.
sum_of() { awk -v n="$2" 'index($1, n "{") == 1 { s += $2 } END { print s + 0 }' "$1"; }
summed() {
	local a b
	a=$(sum_of "$1" "$3")
	b=$(sum_of "$2" "$3")
	if [ $((b - a)) -ne "$4" ]; then
		echo "  $3 (all samples): $a -> $b, expected +$4"
		return 1
	fi
}

# unchanged_except BEFORE AFTER REGEX: every counter not matching REGEX
# has the same value in both scrapes.
unchanged_except() {
	local diffs
	diffs=$(join <(grep '_total' "$1" | grep -v '^#' | grep -Ev "$3" | sort) \
		<(grep '_total' "$2" | grep -v '^#' | grep -Ev "$3" | sort) |
		awk '$2 != $3')
	if [ -n "$diffs" ]; then
		echo "$diffs" | sed 's/^/  moved unexpectedly: /'
		return 1
	fi
}

# wait_health CODE [PATTERN]: /health answers CODE (and PATTERN) within 5 s.
health_is() {
	http_get /health && [ "$http_status" = "$1" ] &&
		{ [ -z "${2:-}" ] || grep -q -- "$2" <<<"$http_body"; }
}
wait_health() {
	wait_for 50 health_is "$@" && return 0
	echo "  /health: HTTP ${http_status:-none}: $http_body (wanted $1 ${2:-})"
	return 1
}

# --- ntsd ------------------------------------------------------------------

# write_config [RULE...]: ntsd.conf with these access rules.
write_config() {
	ntsd_conf ntsd "ntp-listen 127.0.0.1 $ntp_port" "ke-listen 127.0.0.1 $ke_port" \
		"metrics-listen 127.0.0.1 $metrics_port" "pid-file none" "threads 2" "ke-threads 2" "$@"
}

ntp_port=
ke_port=
metrics_port=
setup() {
	local ports
	ports=$(pick_ports 3) || return 1
	read -r ntp_port ke_port metrics_port <<<"$ports"
	write_config
}
answers() { http_get /health; }

# sighup [RULE...]: rewrite the config with these access rules, SIGHUP,
# wait until ntsd says it reloaded.
sighup() {
	write_config "$@"
	ntsd_reload ntsd && return 0
	echo "  ntsd did not reload its access rules"
	return 1
}

probe() {	# probe COUNT: KE + COUNT exchanges; output in $tmp/probe.out
	"$NTSCTL" probe "127.0.0.1:$ke_port" --ca "$tmp/certs/ca.pem" --name localhost \
		--count "$1" --interval 0 >"$tmp/probe.out" 2>&1
}

if ! ntsd_up setup answers ntsd; then
	not_ok "ntsd starts with metrics-listen"
	finish
fi
echo "metrics_test: ntsd pid ${ntsd_pid[ntsd]}: NTP $ntp_port, NTS-KE $ke_port, metrics $metrics_port"

# --- (a) the endpoint ------------------------------------------------------

check "(a) /health: 200 ok" wait_health 200 '^ok$'
if http_get /metrics && [ "$http_status" = 200 ] &&
	[[ $http_type == "text/plain; version=0.0.4"* ]] &&
	grep -q '^ntsd_build_info{version="[^"]*"} 1$' <<<"$http_body" &&
	grep -q '^# TYPE ntsd_ntp_requests_total counter$' <<<"$http_body"; then
	ok "(a) /metrics: 200, Prometheus text, build info"
else
	not_ok "(a) /metrics: HTTP $http_status, type '$http_type'"
fi
http_get /nope
check "(a) other paths: 404" test "$http_status" = 404
# Every sample line is NAME[{LABELS}] VALUE with a conventional name.
scrape
bad_lines=$(grep -v '^#' "$last_scrape" | grep -Ev '^ntsd_[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+]+$')
check "(a) every sample line well formed" test -z "$bad_lines"
[ -z "$bad_lines" ] || echo "$bad_lines" | sed 's/^/  /'

# --- (b) exact counts ------------------------------------------------------

scrape
before=$last_scrape
if probe 5; then
	scrape
	after=$last_scrape
	if moved "$before" "$after" 'ntsd_ntp_requests_total{outcome="nts_replies"}' 5 &&
		moved "$before" "$after" 'ntsd_ntp_replies_total{protocol="nts"}' 5 &&
		moved "$before" "$after" 'ntsd_ntp_replies_total{protocol="ntp"}' 0 &&
		moved "$before" "$after" 'ntsd_ntp_naks_total' 0 &&
		moved "$before" "$after" 'ntsd_ke_events_total{event="accepted"}' 1 &&
		moved "$before" "$after" 'ntsd_ke_events_total{event="handshake_ok"}' 1 &&
		moved "$before" "$after" 'ntsd_ke_events_total{event="responses"}' 1 &&
		summed "$before" "$after" ntsd_ntp_worker_received_total 5 &&
		summed "$before" "$after" ntsd_ke_thread_accepted_total 1 &&
		unchanged_except "$before" "$after" \
			'outcome="nts_replies"|protocol="nts"|event="(accepted|handshake_ok|responses)"|worker="|thread="'; then
		ok "(b) 1 NTS-KE + 5 NTS exchanges: counters moved by exactly that"
	else
		not_ok "(b) counters after 1 NTS-KE + 5 NTS exchanges"
	fi
else
	sed 's/^/  /' "$tmp/probe.out"
	not_ok "(b) ntsctl probe"
fi

# --- (c) ntsctl stats --------------------------------------------------------

"$NTSCTL" stats "127.0.0.1:$metrics_port" >"$tmp/stats.out" 2>&1
rc=$?
nts=$(value "$last_scrape" 'ntsd_ntp_replies_total{protocol="nts"}')
if [ $rc -eq 0 ] && grep -q '^health: healthy (HTTP 200: ok)$' "$tmp/stats.out" &&
	grep -Eq "^ntp_replies_total +protocol=nts +$nts\$" "$tmp/stats.out" &&
	grep -Eq '^keyset_keys +1$' "$tmp/stats.out"; then
	ok "(c) ntsctl stats: health and figures in a table"
else
	sed 's/^/  /' "$tmp/stats.out"
	not_ok "(c) ntsctl stats (exit $rc)"
fi
"$NTSCTL" stats "127.0.0.1:$metrics_port" --raw >"$tmp/raw.out" 2>&1
check "(c) ntsctl stats --raw: the exposition" grep -q '^# TYPE ntsd_ke_events_total counter$' "$tmp/raw.out"
# --json: the table's fields as one JSON object, every sample, same exit codes.
"$NTSCTL" stats "127.0.0.1:$metrics_port" --json >"$tmp/stats.json" 2>&1
rc=$?
check "(c) ntsctl stats --json: exit 0, valid JSON (python3 -m json.tool)" \
	bash -c "[ $rc -eq 0 ] && python3 -m json.tool '$tmp/stats.json' >/dev/null"
check "(c) ntsctl stats --json: identity, health and the samples" \
	python3 - "$tmp/stats.json" "$metrics_port" "$nts" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
port, nts = sys.argv[2], float(sys.argv[3])
assert d["ntsd"]["address"] == "127.0.0.1:" + port and d["ntsd"]["version"] not in ("", "?"), d["ntsd"]
assert d["ntsd"]["uptime_seconds"] >= 0 and d["ntsd"]["start_time_seconds"] > 0, d["ntsd"]
assert d["health"] == {"status": "healthy", "http_status": 200, "reason": "ok"}, d["health"]
m = {(s["name"], s["labels"]): s for s in d["metrics"]}
r = m[("ntsd_ntp_replies_total", "protocol=nts")]
assert r["value"] == nts and r["counter"] is True, r
assert m[("ntsd_keyset_keys", "")]["value"] == 1 and m[("ntsd_keyset_keys", "")]["counter"] is False
# every sample, the zero counters the table hides too
assert any(s["counter"] and s["labels"] and s["value"] == 0 for s in d["metrics"])
PY
"$NTSCTL" stats "127.0.0.1:$metrics_port" --json --raw >/dev/null 2>&1
check "(c) ntsctl stats --json --raw: a usage error (exit 2)" test $? -eq 2

# --- (d) access rules --------------------------------------------------------

scrape
before=$last_scrape
if sighup "ntp-deny 127.0.0.1" && ! probe 1 && grep -q 'no reply' "$tmp/probe.out"; then
	scrape
	if moved "$before" "$last_scrape" 'ntsd_ntp_denied_total' 1 &&
		moved "$before" "$last_scrape" 'ntsd_ntp_requests_total{outcome="drop_denied"}' 1 &&
		moved "$before" "$last_scrape" 'ntsd_ke_events_total{event="responses"}' 1 &&
		moved "$before" "$last_scrape" 'ntsd_ntp_replies_total{protocol="nts"}' 0 &&
		[ "$(value "$last_scrape" 'ntsd_access_rules{service="ntp"}')" = 1 ]; then
		ok "(d) ntp-deny: KE served, NTP request dropped without reply, counted once"
	else
		not_ok "(d) ntp-deny counters"
	fi
else
	sed 's/^/  /' "$tmp/probe.out"
	not_ok "(d) ntp-deny 127.0.0.1: the probe must get NTS-KE but no NTP reply"
fi

before=$last_scrape
if sighup "ke-deny 127.0.0.0/8" && ! probe 1; then
	scrape
	if moved "$before" "$last_scrape" 'ntsd_ke_denied_total' 1 &&
		moved "$before" "$last_scrape" 'ntsd_ke_events_total{event="handshake_ok"}' 0 &&
		moved "$before" "$last_scrape" 'ntsd_ke_events_total{event="handshake_failed"}' 0 &&
		moved "$before" "$last_scrape" 'ntsd_ntp_denied_total' 0; then
		ok "(d) ke-deny: connection closed before TLS, counted once"
	else
		not_ok "(d) ke-deny counters"
	fi
else
	sed 's/^/  /' "$tmp/probe.out"
	not_ok "(d) ke-deny 127.0.0.0/8: NTS-KE must fail"
fi

# A file with an error: the rules in force stay.
before=$last_scrape
write_config "ntp-allow 10.0.0.1/8"
kill -HUP "${ntsd_pid[ntsd]}"
wait_for 50 grep -q 'keeping the access rules in force' "$tmp/ntsd.log"
scrape
if grep -q "ntp-allow: bad prefix '10.0.0.1/8'" "$tmp/ntsd.log" &&
	moved "$before" "$last_scrape" 'ntsd_access_reloads_total{result="failed"}' 1 &&
	! probe 1 && moved "$before" "$last_scrape" 'ntsd_access_reloads_total{result="ok"}' 0; then
	ok "(d) bad rule on SIGHUP: logged with file and line, old rules kept"
else
	not_ok "(d) bad rule on SIGHUP"
fi

if sighup "ntp-deny 127.0.0.2" "ke-allow 127.0.0.1" "ke-deny 0.0.0.0/0" && probe 2; then
	ok "(d) rules that allow 127.0.0.1: served again"
else
	sed 's/^/  /' "$tmp/probe.out"
	not_ok "(d) rules that allow 127.0.0.1"
fi

# --- (e) scraping under load -------------------------------------------------

scrape
before=$last_scrape
(
	# Scrape as fast as the endpoint answers until killed.
	while :; do
		timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
			printf "GET /metrics HTTP/1.0\r\n\r\n" >&3; cat <&3 >/dev/null' _ "$metrics_port"
	done
) &
bg_pids+=($!)
pids=()
for c in 1 2 3 4; do
	"$NTSCTL" probe "127.0.0.1:$ke_port" --ca "$tmp/certs/ca.pem" --name localhost \
		--count 50 --interval 0 >"$tmp/load.$c" 2>&1 &
	pids+=($!)
done
load_ok=yes
for c in 1 2 3 4; do
	wait "${pids[$((c - 1))]}" || { load_ok=no; tail -n 3 "$tmp/load.$c" | sed 's/^/  /'; }
done
bg_stop
scrape
if [ $load_ok = yes ] &&
	moved "$before" "$last_scrape" 'ntsd_ntp_replies_total{protocol="nts"}' 200 &&
	moved "$before" "$last_scrape" 'ntsd_ke_events_total{event="responses"}' 4 &&
	moved "$before" "$last_scrape" 'ntsd_ntp_naks_total' 0; then
	ok "(e) 200 exchanges from 4 clients while scraping: none lost, counted exactly"
else
	not_ok "(e) exchanges under scraping"
fi

# --- (f) key set missing -----------------------------------------------------

mv "$tmp/keys" "$tmp/keys.away"
check "(f) key file gone: /health 503 naming it" wait_health 503 'key file'
scrape
check "(f) key file gone: ntsd_keyset_file_ok 0" \
	test "$(value "$last_scrape" ntsd_keyset_file_ok)" = 0
mv "$tmp/keys.away" "$tmp/keys"
check "(f) key file back: /health 200" wait_health 200 '^ok$'

# --- (g) expired certificate ----------------------------------------------

cp "$tmp/expired.pem" "$tmp/certs/server.pem.new" && mv "$tmp/certs/server.pem.new" "$tmp/certs/server.pem"
check "(g) expired certificate: /health 503" wait_health 503 'certificate expired'
scrape
expiry=$(value "$last_scrape" ntsd_ke_certificate_expiry_seconds)
check "(g) expired certificate: expiry seconds negative ($expiry)" test "${expiry:0:1}" = -
"$NTSCTL" stats "127.0.0.1:$metrics_port" >"$tmp/stats.out" 2>&1
rc=$?
check "(g) ntsctl stats reports it" grep -q '^health: UNHEALTHY (HTTP 503: certificate expired' "$tmp/stats.out"
# stats_exit_unhealthy: it used to exit 0 whatever /health said.
check "(g) ntsctl stats exits 4 (unhealthy): exit $rc" test "$rc" = 4
"$NTSCTL" stats "127.0.0.1:$metrics_port" --json >"$tmp/stats.json" 2>&1
rc=$?
check "(g) ntsctl stats --json: exit 4, health unhealthy with the reason (exit $rc)" \
	python3 - "$tmp/stats.json" "$rc" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
h = d["health"]
assert int(sys.argv[2]) == 4 and h["status"] == "unhealthy" and h["http_status"] == 503, h
assert h["reason"].startswith("certificate expired"), h
PY
"$NTSCTL" stats "127.0.0.1:$metrics_port" --raw >"$tmp/raw.out" 2>"$tmp/raw.err"
rc=$?
check "(g) ntsctl stats --raw: the exposition, exit 4, UNHEALTHY on stderr (exit $rc)" \
	bash -c "[ $rc -eq 4 ] && grep -q '^# TYPE ntsd_ke_events_total counter\$' '$tmp/raw.out' &&
		grep -q '^ntsctl: stats: 127.0.0.1:$metrics_port: UNHEALTHY (HTTP 503: certificate expired' '$tmp/raw.err'"
cp "$tmp/valid.pem" "$tmp/certs/server.pem.new" && mv "$tmp/certs/server.pem.new" "$tmp/certs/server.pem"
check "(g) valid certificate back: /health 200" wait_health 200 '^ok$'

# --- the end -----------------------------------------------------------------

if ! pid_gone "${ntsd_pid[ntsd]}"; then
	ok "ntsd still running"
else
	not_ok "ntsd died: $(tail -n 5 "$tmp/ntsd.log" | tr '\n' ' ')"
fi
ntsd_stop ntsd

# --- (h) ke-rate-limit (read at start only: a restart) -------------------------

write_config "ke-rate-limit 0.001 2"
if ntsd_start ntsd answers; then
	probe 1 && probe 1
	ok_probes=$?
	scrape
	before=$last_scrape
	if [ $ok_probes = 0 ] && ! probe 1; then
		scrape
		if moved "$before" "$last_scrape" 'ntsd_ke_events_total{event="refused_rate_limit"}' 1 &&
			moved "$before" "$last_scrape" 'ntsd_ke_events_total{event="accepted"}' 1 &&
			summed "$before" "$last_scrape" ntsd_ke_thread_accepted_total 1 &&
			unchanged_except "$before" "$last_scrape" 'event="(accepted|refused_rate_limit)"|thread="'; then
			ok "(h) ke-rate-limit: over the burst, closed at accept, counted once, no TLS"
		else
			not_ok "(h) ke-rate-limit counters"
		fi
	else
		sed 's/^/  /' "$tmp/probe.out"
		not_ok "(h) ke-rate-limit 0.001 2: two probes served, the third refused"
	fi
	ntsd_stop ntsd
else
	not_ok "(h) ntsd restarts with ke-rate-limit"
fi
finish
