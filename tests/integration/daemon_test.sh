#!/usr/bin/env bash
# daemon_test.sh: the daemon's own behaviour against the built ntsd on
# free loopback ports with a throw-away CA (issue 11 item 8, issue 17
# part 4):
#   (a) allow-only access rules: `ntp-allow 10.0.0.0/8` alone refuses
#       127.0.0.1 (NTS-KE served, the NTP request dropped and counted);
#       `ke-allow 10.0.0.0/8` alone closes 127.0.0.1's NTS-KE connection;
#       ntsd -n names the default of each family
#   (b) an NTS-KE-only host (ntp-service no) exports no ntsd_clock_*
#   (c) a second ntsd on the same addresses refuses to start, with a clear
#       error: the same pid file (its lock), pid-file none (the address
#       check, NTP and NTS-KE); the first one keeps serving
#   (d) SIGHUP with start-only directives changed: each is logged as
#       needing a restart; the access rules are still applied
#   (e) shutdown-drain: SIGTERM turns /health 503 and NTS keeps being
#       served until the drain ends, then a clean exit; a second SIGTERM,
#       or SIGINT, stops at once
# Metrics and health are read with ntsctl stats.  Run by make check; by
# hand:
#   cd BUILDDIR && srcdir=SRCDIR SRCDIR/tests/integration/daemon_test.sh
# Exit 0 all passed, 1 a failure, 77 a tool missing outside CI (CI=true:
# missing tools fail).  DAEMON_TEST_KEEP=1 keeps the temp dir.
# The setup and ready functions run through ntsd_up.
# shellcheck disable=SC2317
set -u

srcdir=${srcdir:-$(dirname "$0")/../..}
srcdir=$(cd "$srcdir" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$srcdir/tests/integration/lib.sh"

need_tools "apt-get install openssl iproute2" openssl ss
need_programs NTSD NTSCTL make_certs
tmp_make
dev_certs certs

# --- helpers ---------------------------------------------------------------

ntp_port=
ke_port=
metrics_port=
ports3() {
	local ports
	ports=$(pick_ports 3) || return 1
	read -r ntp_port ke_port metrics_port <<<"$ports"
}
listens() { ports_listen "$ke_port" "$metrics_port"; }

# probe NAME COUNT: NTS-KE + COUNT exchanges; output in $tmp/NAME.probe
probe() {
	"$NTSCTL" probe "127.0.0.1:$ke_port" --ca "$tmp/certs/ca.pem" --name localhost \
		--count "$2" --interval 0 >"$tmp/$1.probe" 2>&1
}
# metric NAME 'name{labels}': the sample's value from /metrics, "absent"
metric() {
	"$NTSCTL" stats "127.0.0.1:$metrics_port" --raw >"$tmp/$1.metrics" 2>&1
	awk -v k="$2" '$1 == k { print $2; found = 1; exit } END { if (!found) print "absent" }' \
		"$tmp/$1.metrics"
}
# health_says PATTERN: ntsctl stats' health line matches PATTERN
health_says() {
	"$NTSCTL" stats "127.0.0.1:$metrics_port" >"$tmp/health.out" 2>&1
	grep -q -- "$1" "$tmp/health.out"
}
logged() { grep -q -- "$2" "$tmp/$1.log"; }

# --- (a) allow-only rules ----------------------------------------------------

echo "$test_name: (a) allow-only access rules"
setup_a() {
	ports3 || return 1
	ntsd_conf acl "ntp-listen 127.0.0.1 $ntp_port" "ke-listen 127.0.0.1 $ke_port" \
		"metrics-listen 127.0.0.1 $metrics_port" "pid-file none" "ntp-allow 10.0.0.0/8"
}
if ntsd_up setup_a listens acl; then
	"$NTSD" -n -c "$tmp/acl.conf" >"$tmp/check.out" 2>&1
	if grep -q '^NTP access (ntp-allow/ntp-deny), IPv4: 1 rule; unmatched addresses are denied (allow rules, none for 0.0.0.0/0)$' "$tmp/check.out" &&
		grep -q '^NTP access (ntp-allow/ntp-deny), IPv6: 0 rules; unmatched addresses are allowed (no rules)$' "$tmp/check.out" &&
		grep -q '^NTS-KE access (ke-allow/ke-deny), IPv4: 0 rules; unmatched addresses are allowed' "$tmp/check.out"; then
		ok "(a) ntsd -n: IPv4 NTP default denied, IPv6 and NTS-KE allowed"
	else
		show "$tmp/check.out"
		not_ok "(a) ntsd -n names each family's default"
	fi
	if ! probe acl 1 && grep -q 'no reply' "$tmp/acl.probe" &&
		[ "$(metric acl ntsd_ntp_denied_total)" = 1 ] &&
		[ "$(metric acl 'ntsd_ke_events_total{event="responses"}')" = 1 ]; then
		ok "(a) ntp-allow 10.0.0.0/8 alone: 127.0.0.1 gets NTS-KE, its NTP request dropped, counted"
	else
		show "$tmp/acl.probe"
		not_ok "(a) ntp-allow 10.0.0.0/8 alone must refuse NTP from 127.0.0.1"
	fi
	ntsd_stop acl
else
	not_ok "(a) ntsd starts with ntp-allow 10.0.0.0/8"
fi

setup_a_ke() {
	ports3 || return 1
	ntsd_conf acl "ntp-listen 127.0.0.1 $ntp_port" "ke-listen 127.0.0.1 $ke_port" \
		"metrics-listen 127.0.0.1 $metrics_port" "pid-file none" "ke-allow 10.0.0.0/8"
}
if ntsd_up setup_a_ke listens acl; then
	if ! probe acl 1 && [ "$(metric acl ntsd_ke_denied_total)" = 1 ] &&
		[ "$(metric acl 'ntsd_ke_events_total{event="handshake_ok"}')" = 0 ]; then
		ok "(a) ke-allow 10.0.0.0/8 alone: 127.0.0.1's NTS-KE closed before TLS, counted"
	else
		show "$tmp/acl.probe"
		not_ok "(a) ke-allow 10.0.0.0/8 alone must refuse NTS-KE from 127.0.0.1"
	fi
	ntsd_stop acl
else
	not_ok "(a) ntsd starts with ke-allow 10.0.0.0/8"
fi

# --- (b) NTS-KE-only host -----------------------------------------------------

echo "$test_name: (b) NTS-KE-only host"
setup_b() {
	ports3 || return 1
	ntsd_conf keonly "ntp-service no" "ke-listen 127.0.0.1 $ke_port" \
		"ke-ntp-server 127.0.0.1" "ke-ntp-port $ntp_port" \
		"metrics-listen 127.0.0.1 $metrics_port" "pid-file none"
}
if ntsd_up setup_b listens keonly; then
	metric keonly ntsd_keyset_keys >/dev/null
	if grep -q '^ntsd_keyset_keys 1$' "$tmp/keonly.metrics" &&
		grep -q '^ntsd_ke_events_total' "$tmp/keonly.metrics" &&
		! grep -q '^ntsd_clock_' "$tmp/keonly.metrics" &&
		! grep -q '^# TYPE ntsd_clock_' "$tmp/keonly.metrics"; then
		ok "(b) ntp-service no: no ntsd_clock_* metrics (KE and key metrics present)"
	else
		grep 'ntsd_clock_\|ntsd_keyset_keys' "$tmp/keonly.metrics" | show
		not_ok "(b) ntp-service no must not export ntsd_clock_*"
	fi
	ntsd_stop keonly
else
	not_ok "(b) NTS-KE-only ntsd starts"
fi

# --- (c) a second instance ------------------------------------------------------

echo "$test_name: (c) a second ntsd on the same addresses"
setup_c() {
	ports3 || return 1
	ntsd_conf first "ntp-listen 127.0.0.1 $ntp_port" "ke-listen 127.0.0.1 $ke_port" \
		"metrics-listen 127.0.0.1 $metrics_port"
}
# second NAME: ntsd -f -c NAME.conf, which must exit by itself within 10 s;
# its exit status in $second_rc, output in NAME.log.
second() {
	local p
	"$NTSD" -f -c "$tmp/$1.conf" >"$tmp/$1.log" 2>&1 </dev/null &
	p=$!
	if ! wait_for 100 pid_gone "$p"; then
		pid_stop "$p"
		second_rc=running
		return
	fi
	wait "$p"
	second_rc=$?
}
if ntsd_up setup_c listens first; then
	first_pid=${ntsd_pid[first]}
	# The same configuration: the same pid file.
	cp "$tmp/first.conf" "$tmp/same.conf"
	second same
	if [ "$second_rc" = 1 ] &&
		logged same "$tmp/first.pid: locked by a running ntsd (pid $first_pid): refusing to start a second one"; then
		ok "(c) same pid file: refused, naming the pid file and pid $first_pid"
	else
		show "$tmp/same.log"
		not_ok "(c) same pid file: a second ntsd must refuse (exit $second_rc)"
	fi
	# pid-file none, the same NTP and NTS-KE addresses, another metrics port.
	other=$(pick_port "$ntp_port" "$ke_port" "$metrics_port")
	ntsd_conf nopid "ntp-listen 127.0.0.1 $ntp_port" "ke-listen 127.0.0.1 $ke_port" \
		"metrics-listen 127.0.0.1 $other" "pid-file none"
	second nopid
	if [ "$second_rc" = 1 ] &&
		logged nopid "ntp-listen 127.0.0.1:$ntp_port: address already in use by another process"; then
		ok "(c) pid-file none: refused, naming ntp-listen 127.0.0.1:$ntp_port"
	else
		show "$tmp/nopid.log"
		not_ok "(c) pid-file none: a second ntsd must refuse (exit $second_rc)"
	fi
	# An NTS-KE-only second instance: the NTS-KE address check.
	ntsd_conf keonly2 "ntp-service no" "ke-listen 127.0.0.1 $ke_port" "pid-file none"
	second keonly2
	if [ "$second_rc" = 1 ] &&
		logged keonly2 "ke-listen 127.0.0.1:$ke_port: address already in use by another process"; then
		ok "(c) NTS-KE only, pid-file none: refused, naming ke-listen 127.0.0.1:$ke_port"
	else
		show "$tmp/keonly2.log"
		not_ok "(c) NTS-KE only: a second ntsd must refuse (exit $second_rc)"
	fi
	if probe first 3 && [ "$(metric first 'ntsd_ntp_replies_total{protocol="nts"}')" = 3 ] &&
		[ "$(cat "$tmp/first.pid")" = "$first_pid" ]; then
		ok "(c) the first ntsd serves every exchange and keeps its pid file"
	else
		show "$tmp/first.probe"
		not_ok "(c) the first ntsd after the refused starts"
	fi
	ntsd_stop first
	if [ "${ntsd_status[first]}" = 0 ] && [ ! -e "$tmp/first.pid" ]; then
		ok "(c) the first ntsd stops cleanly and removes its pid file"
	else
		not_ok "(c) first ntsd exit ${ntsd_status[first]}, pid file $(ls "$tmp/first.pid" 2>&1)"
	fi
	# Its pid file left behind (as after a crash) does not block a start.
	echo "$first_pid" >"$tmp/first.pid"
	if ntsd_up setup_c listens first && [ "$(cat "$tmp/first.pid")" = "${ntsd_pid[first]}" ]; then
		ok "(c) a stale pid file is taken over"
	else
		not_ok "(c) a stale pid file must not block a start"
	fi
	ntsd_stop first
else
	not_ok "(c) the first ntsd starts"
fi

# --- (d) SIGHUP and start-only directives ----------------------------------------

echo "$test_name: (d) SIGHUP names the start-only directives that changed"
# conf_d [LINE...]: the (d) configuration with these extra lines
conf_d() {
	ntsd_conf hup "ntp-listen 127.0.0.1 $ntp_port" "ke-listen 127.0.0.1 $ke_port" \
		"metrics-listen 127.0.0.1 $metrics_port" "pid-file none" "$@"
}
setup_d() { ports3 && conf_d; }
# sighup LINE...: rewrite the configuration, SIGHUP, wait for the reload
sighup() { conf_d "$@" && ntsd_reload hup; }
start_only_lines() { grep -c 'read at start only' "$tmp/hup.log"; }
if ntsd_up setup_d listens hup; then
	# The same file again (reformatted): nothing to report.
	sed -i 's/ / \t /' "$tmp/hup.conf"
	if ntsd_reload hup && [ "$(start_only_lines)" = 0 ]; then
		ok "(d) SIGHUP, file unchanged but for spacing: no restart reported"
	else
		show "$tmp/hup.log"
		not_ok "(d) SIGHUP with an unchanged file"
	fi
	if sighup "ntp-deny 127.0.0.1" "threads 2" "ke-timeout 3" "stratum 3" &&
		logged hup "$tmp/hup.conf: ke-timeout, stratum, threads changed since the start but are read at start only: restart ntsd to apply" &&
		! probe hup 1 && grep -q 'no reply' "$tmp/hup.probe"; then
		ok "(d) SIGHUP: ke-timeout, stratum, threads named as start-only; ntp-deny applied"
	else
		show "$tmp/hup.log"
		not_ok "(d) SIGHUP with start-only directives changed"
	fi
	if sighup && [ "$(start_only_lines)" = 1 ] && probe hup 1; then
		ok "(d) SIGHUP back to the start's file: nothing reported, rules gone"
	else
		show "$tmp/hup.log"
		not_ok "(d) SIGHUP back to the original file"
	fi
	ntsd_stop hup
else
	not_ok "(d) ntsd starts"
fi

# --- (e) shutdown-drain --------------------------------------------------------------

echo "$test_name: (e) shutdown drain"
drain=
setup_e() {
	ports3 || return 1
	ntsd_conf drain "ntp-listen 127.0.0.1 $ntp_port" "ke-listen 127.0.0.1 $ke_port" \
		"metrics-listen 127.0.0.1 $metrics_port" "pid-file none" "shutdown-drain $drain"
}
# exits_by_itself NAME: ntsd NAME exits within 15 s; reaped, status in
# ntsd_status[NAME]
exits_by_itself() {
	wait_for 150 pid_gone "${ntsd_pid[$1]}" || return 1
	ntsd_stop "$1"
}

# SIGTERM: 503 and still serving; a second SIGTERM stops at once.
drain=1h
if ntsd_up setup_e listens drain; then
	health_says '^health: healthy' || not_ok "(e) /health before SIGTERM: $(cat "$tmp/health.out")"
	kill -TERM "${ntsd_pid[drain]}"
	if wait_for 50 health_says 'HTTP 503: shutting down: draining (shutdown-drain)'; then
		ok "(e) SIGTERM: /health 503 'shutting down: draining'"
	else
		show "$tmp/health.out"
		not_ok "(e) SIGTERM must turn /health 503"
	fi
	if probe drain 3 && ! pid_gone "${ntsd_pid[drain]}" &&
		[ "$(metric drain 'ntsd_ntp_replies_total{protocol="nts"}')" = 3 ] &&
		[ "$(metric drain ntsd_healthy)" = 0 ]; then
		ok "(e) draining: NTS-KE and 3 NTS exchanges still served, ntsd_healthy 0"
	else
		show "$tmp/drain.probe"
		not_ok "(e) draining: ntsd must keep serving"
	fi
	kill -TERM "${ntsd_pid[drain]}" 2>/dev/null
	if exits_by_itself drain && [ "${ntsd_status[drain]}" = 0 ] &&
		logged drain 'SIGTERM: /health answers 503, serving 3600s more (shutdown-drain)' &&
		logged drain 'signal 15: shutting down' && logged drain 'ntsd stopped'; then
		ok "(e) a second SIGTERM stops at once (long before the 1h drain), exit 0"
	else
		show "$tmp/drain.log"
		not_ok "(e) a second SIGTERM must stop ntsd"
	fi
else
	not_ok "(e) ntsd starts with shutdown-drain 1h"
fi

# stop_case LABEL SETUP READY SIGNAL LOGGED [NOT_LOGGED]: ntsd "drain"
# started through SETUP gets SIGNAL, then must exit by itself with status
# 0, having logged LOGGED and not NOT_LOGGED.
stop_case() {
	local label=$1 setup=$2 ready=$3 sig=$4 want=$5 unwanted=${6:-}
	if ! ntsd_up "$setup" "$ready" drain; then
		not_ok "$label: ntsd starts"
		return
	fi
	kill -"$sig" "${ntsd_pid[drain]}"
	if exits_by_itself drain && [ "${ntsd_status[drain]}" = 0 ] && logged drain "$want" &&
		logged drain 'ntsd stopped' && { [ -z "$unwanted" ] || ! logged drain "$unwanted"; }; then
		ok "$label"
	else
		show "$tmp/drain.log"
		not_ok "$label"
	fi
}
drain=1s
stop_case "(e) shutdown-drain 1s: ntsd stops when the drain is over, exit 0" \
	setup_e listens TERM 'shutdown drain over: shutting down'
drain=1h
stop_case "(e) SIGINT: stops at once, no drain" setup_e listens INT \
	'signal 2: shutting down' 'shutdown-drain'
# Without metrics-listen there is no /health to turn: SIGTERM stops at once.
setup_e2() {
	ports3 || return 1
	ntsd_conf drain "ntp-listen 127.0.0.1 $ntp_port" "ke-listen 127.0.0.1 $ke_port" \
		"pid-file none" "shutdown-drain 1h"
}
listens_ke() { ports_listen "$ke_port"; }
stop_case "(e) no metrics-listen: SIGTERM stops at once" setup_e2 listens_ke TERM \
	'signal 15: shutting down' 'shutdown-drain'

# --- the end -------------------------------------------------------------------

for log in "$tmp"/*.log; do
	no_sanitizer_report "$log" && continue
	show "$log"
	not_ok "sanitizer report in $(basename "$log")"
done
finish
