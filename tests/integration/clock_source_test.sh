#!/usr/bin/env bash
# clock_source_test.sh: clock-source ntp, with a real chronyd as the source
# and then the test-only NTP source (tests/integration/ntp-source).
#
# ntsd runs with clock-source ntp 127.0.0.1 PORT, clock-source-poll 1 and
# local-stratum 10, on free loopback ports.  Its replies are read with
# "ntp-source query", its /health and /metrics over HTTP.
#   (a) chronyd -x (local stratum 5, manual; port PORT, bindaddress
#       127.0.0.1, allow 127.0.0.1, cmdport 0; without CAP_SYS_TIME): ntsd's
#       replies carry stratum 5 and chronyd's refid 127.127.1.1, /health
#       and ntsd_clock_source_state say synchronised, the log says so once
#   (b) chronyd stopped: within the poll interval (+ the responder's 1 s
#       refresh) ntsd serves the kernel's state and local-stratum (refid
#       NTSD), logs it once, /health names it
#   (c) the test source announces a leap second insert, then a delete:
#       ntsd's replies carry leap 1, then 2
#   (d) it says it is unsynchronised (leap 3 stratum 0, then stratum 16):
#       ntsd falls back at once and logs it
#   (e) its answers stop making sense (wrong origin): after three polls
#       ntsd falls back (state invalid), rejects counted by reason
#   (f) it goes silent: after three polls ntsd falls back (unreachable)
#   (g) ntsd stops cleanly (exit 0, no sanitizer report)
# Run by make check; by hand: cd BUILDDIR && srcdir=SRCDIR SRCDIR/tests/integration/clock_source_test.sh
# Exit 0 all passed, 1 a failure, 77 chrony or python3 missing outside CI
# (CI=true: missing tools fail).  CLOCK_SOURCE_TEST_KEEP=1 keeps the temp dir.
# Functions called through wait_for look unreachable.
# shellcheck disable=SC2317
set -u

srcdir=${srcdir:-$(dirname "$0")/../..}
srcdir=$(cd "$srcdir" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$srcdir/tests/integration/lib.sh"
source_tool=$itest_dir/ntp-source

need_tools --sbin "apt-get install chrony util-linux iproute2 openssl python3" \
	chronyd setpriv ss openssl python3
need_programs NTSD make_certs
tmp_make
dev_certs certs
chronyd_bin=$(tool_path chronyd)

# --- ntsd ------------------------------------------------------------------

ntp_port='' ke_port='' metrics_port='' src_port=''
setup() {
	local ports
	ports=$(pick_ports 4) || return 1
	read -r ntp_port ke_port metrics_port src_port <<<"$ports"
	ntsd_conf ntsd "ntp-listen 127.0.0.1 $ntp_port" "ke-listen 127.0.0.1 $ke_port" \
		"metrics-listen 127.0.0.1 $metrics_port" \
		"clock-source ntp 127.0.0.1 $src_port" "clock-source-poll 1"
}
listening() { ports_listen "$ke_port" "$ntp_port" "$metrics_port"; }

# --- reading ntsd ----------------------------------------------------------

# reply: one NTP reply from ntsd, its fields in $reply ("leap=0 ... ").
reply=
ask() { reply=$("$source_tool" query --port "$ntp_port" --timeout 1); }
# reply_is WORD...: the reply has every KEY=VALUE WORD.
reply_is() {
	local w
	ask || return 1
	for w in "$@"; do
		[[ " $reply " == *" $w "* ]] || return 1
	done
}
# http PATH: ntsd's metrics endpoint; "STATUS BODY" in $http.
http=
get() {
	http=$(python3 - "$metrics_port" "$1" <<'EOF'
import sys, urllib.error, urllib.request
try:
    r = urllib.request.urlopen("http://127.0.0.1:%s%s" % (sys.argv[1], sys.argv[2]), timeout=3)
    print(r.status, r.read().decode(), end="")
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode(), end="")
EOF
)
}
health_has() { get /health && [[ $http == *"$1"* ]]; }
state_is() { get /metrics && grep -qx "ntsd_clock_source_state{state=\"$1\"} 1" <<<"$http"; }
metric() { get /metrics && awk -v k="$1" '$1 == k { print $2 }' <<<"$http"; }
# logged PATTERN: the number of ntsd log lines since the last log_mark
# matching PATTERN (grep -E).
mark=0
log_mark() { mark=$(wc -l <"$tmp/ntsd.log"); }
logged() { tail -n +$((mark + 1)) "$tmp/ntsd.log" | grep -Ec -- "$1"; }
# logged_is N PATTERN: exactly N such lines.
logged_is() { [ "$(logged "$2")" = "$1" ]; }
# within TENTHS LABEL CMD...: ok when CMD succeeds within TENTHS tenths.
within() {
	local n=$1 label=$2
	shift 2
	if wait_for "$n" "$@"; then
		ok "$label"
	else
		not_ok "$label (last reply: ${reply:-none}; last HTTP: ${http:0:300})"
	fi
}

if ! ntsd_up setup listening ntsd; then
	not_ok "ntsd starts with clock-source ntp"
	finish
fi
src="127.0.0.1:$src_port"
echo "clock_source_test: ntsd pid ${ntsd_pid[ntsd]}: NTP $ntp_port, metrics $metrics_port, source $src"

# --- (a) chronyd as the source ---------------------------------------------

chrony_dir=$tmp/chrony
mkdir -p "$chrony_dir"
cat >"$chrony_dir/chrony.conf" <<EOF
# written by clock_source_test.sh: a source that never touches the clock
local stratum 5
manual
port $src_port
bindaddress 127.0.0.1
allow 127.0.0.1
cmdport 0
pidfile $chrony_dir/chronyd.pid
driftfile $chrony_dir/drift
EOF
if [ "$(id -u)" -eq 0 ]; then
	priv=(--bounding-set=-sys_time)
	user=(-u root)
else
	priv=(--no-new-privs)
	user=(-U -u "$(id -un)")
fi
# setpriv execs chronyd: $! is chronyd's pid.
setpriv "${priv[@]}" "$chronyd_bin" -x -d "${user[@]}" -f "$chrony_dir/chrony.conf" \
	>"$chrony_dir/chronyd.log" 2>&1 </dev/null &
chronyd_pid=$!
bg_pids+=("$chronyd_pid")
source_is_chrony() {
	local a
	a=$("$source_tool" query --port "$src_port" --timeout 1) || return 1
	[[ " $a " == *" stratum=5 "* && " $a " == *" refid=127.127.1.1 "* ]]
}
if ! wait_for 100 source_is_chrony; then
	not_ok "(a) chronyd answers on $src at stratum 5"
	show "$chrony_dir/chronyd.log"
	finish
fi
echo "clock_source_test: chronyd pid $chronyd_pid: $("$source_tool" query --port "$src_port")"

within 50 "(a) ntsd replies carry chronyd's stratum 5 and refid 127.127.1.1" \
	reply_is leap=0 stratum=5 refid=127.127.1.1
echo "  ntsd: $reply"
within 30 "(a) /health: ok; clock-source $src synchronised" \
	health_has "200 ok; clock-source $src synchronised"
within 30 "(a) ntsd_clock_source_state synchronised" state_is synchronised
within 30 "(a) logged once: synchronised, stratum 5, refid 127.127.1.1" \
	logged_is 1 "clock-source $src: synchronised: stratum 5, refid 127.127.1.1"

# --- (b) chronyd stops -----------------------------------------------------

log_mark
pid_stop "$chronyd_pid"
bg_pids=()
t0=$SECONDS
within 30 "(b) chronyd stopped: ntsd serves the kernel's state and local-stratum (refid NTSD)" \
	reply_is refid_hex=4e545344
echo "  ntsd after $((SECONDS - t0)) s: $reply"
within 30 "(b) logged once: unreachable, refused" \
	logged_is 1 "clock-source $src: unreachable: refused"
within 30 "(b) /health names the fallback" \
	health_has "clock-source $src unreachable, serving the kernel's state"

# --- (c)-(f) the test-only source ------------------------------------------

ctl=$tmp/source.ctl
control() { printf '%s\n' "$@" >"$ctl.new" && mv -f "$ctl.new" "$ctl"; }
control leap=1 stratum=3 refid=192.0.2.1
"$source_tool" serve --port "$src_port" --control "$ctl" >"$tmp/source.log" 2>&1 &
bg_pids+=("$!")
within 60 "(c) leap second insert from the source: leap 1, stratum 3, refid 192.0.2.1" \
	reply_is leap=1 stratum=3 refid=192.0.2.1
control leap=2 stratum=3 refid=192.0.2.1
within 40 "(c) leap second delete from the source: leap 2" reply_is leap=2 stratum=3
within 30 "(c) logged: the leap second insert" logged_is 1 "leap second insert pending"
within 30 "(c) logged: the leap second delete" logged_is 1 "leap second delete pending"

control leap=3 stratum=0 refid=0.0.0.0
within 40 "(d) the source says unsynchronised (leap 3, stratum 0): ntsd falls back" \
	reply_is refid_hex=4e545344
within 30 "(d) ntsd_clock_source_state unsynchronised" state_is unsynchronised
control leap=0 stratum=4 refid=192.0.2.2
within 40 "(d) synchronised again: stratum 4" reply_is leap=0 stratum=4 refid=192.0.2.2
control leap=0 stratum=16 refid=192.0.2.2
within 40 "(d) stratum 16: ntsd falls back" reply_is refid_hex=4e545344
within 30 "(d) logged each time it said so" \
	logged_is 2 "clock-source $src: unsynchronised: it says"

control leap=0 stratum=4 refid=192.0.2.2
within 40 "(e) synchronised again" reply_is stratum=4 refid=192.0.2.2
control leap=0 stratum=4 refid=192.0.2.2 origin=wrong
t0=$SECONDS
within 80 "(e) answers with a wrong origin: ntsd falls back after three polls" \
	reply_is refid_hex=4e545344
echo "  after $((SECONDS - t0)) s"
within 30 "(e) ntsd_clock_source_state invalid" state_is invalid
rejected=$(metric 'ntsd_clock_source_answers_total{result="origin"}')
check "(e) rejects counted: answers_total{result=\"origin\"} = ${rejected:-none} >= 3" \
	test "${rejected:-0}" -ge 3
within 30 "(e) logged once: invalid (origin)" \
	logged_is 1 "clock-source $src: invalid: answers rejected \(origin\)"

control leap=0 stratum=4 refid=192.0.2.2
within 40 "(f) synchronised again" reply_is stratum=4 refid=192.0.2.2
control silent=1
within 80 "(f) the source goes silent: ntsd falls back after three polls" \
	reply_is refid_hex=4e545344
within 30 "(f) logged once: unreachable, no answer (3 polls)" \
	logged_is 1 "clock-source $src: unreachable: no answer \(3 polls\)"
bg_stop

# --- (g) -------------------------------------------------------------------

ntsd_stop ntsd
echo "clock_source_test: ntsd log:"
show "$tmp/ntsd.log"
if [ "${ntsd_status[ntsd]:-}" != 0 ]; then
	not_ok "(g) ntsd exits 0 on SIGTERM: exit status ${ntsd_status[ntsd]:-}"
elif ! no_sanitizer_report "$tmp/ntsd.log"; then
	not_ok "(g) ntsd exits 0 on SIGTERM: sanitizer report in its log"
else
	ok "(g) ntsd exits 0 on SIGTERM, no sanitizer report"
fi
finish
