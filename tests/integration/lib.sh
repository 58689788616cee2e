# shellcheck shell=bash
# lib.sh: what the shell integration tests share.  Each test sets srcdir
# (the source tree, absolute) and sources it:
#	. "$srcdir/tests/integration/lib.sh"
# chrony-client sources it too, for pid_stop and tool_path only.
#
#   ok, not_ok, check, finish  "ok - ..." / "FAIL - ..." lines and the
#                              closing "NAME: N passed, N failed"
#   need_tools, need_programs  prerequisites: a missing tool fails under
#                              CI=true, else skips (exit 77)
#   tmp_make                   the temp dir; on exit whatever the test
#                              started is stopped by PID, the dir removed
#                              (kept when NAME_KEEP=1, NAME in upper case)
#   dev_certs                  development CA and server certificate
#   pick_port, pick_ports      free loopback ports
#   ntsd_conf, ntsd_up         configs and daemons in $ntsd_dir
#   ntsd_reload                SIGHUP, and wait for the access rules' reload
# NAME is the script's name without .sh (chrony_test, ...).
# Variables set here are read by the scripts that source this file.
# shellcheck disable=SC2034

test_name=$(basename "$0" .sh)
itest_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NTSD=${NTSD:-./ntsd/ntsd}
NTSCTL=${NTSCTL:-./ntsctl}
client=$itest_dir/chrony-client
make_certs=$(cd "$itest_dir/../.." && pwd)/certs/make-dev-certs
passed=0
failed=0
tmp=
# Where ntsd_conf and ntsd_up keep NAME.conf, NAME.log, NAME.pid: $tmp
# unless the test sets it.
ntsd_dir=
declare -A ntsd_pid=() ntsd_status=()
# What ntsd NAME runs under, when set (netns.sh's netns_ntsd: ip netns exec NS).
declare -A ntsd_prefix=()
# Background processes the test started (PIDs): stopped on exit.
bg_pids=()

# --- results ---------------------------------------------------------------

ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "FAIL - $*"; failed=$((failed + 1)); }
check() { # check LABEL COMMAND...: ok when COMMAND succeeds
	local label=$1
	shift
	if "$@"; then ok "$label"; else not_ok "$label"; fi
}
finish() {
	echo "$test_name: $passed passed, $failed failed"
	[ "$failed" -eq 0 ] && exit 0
	exit 1
}
show() { sed 's/^/  | /' "$@"; }
no_sanitizer_report() { ! grep -Eq 'Sanitizer|runtime error:' "$1"; }

# wait_for TENTHS COMMAND...: 0 as soon as COMMAND succeeds, tried every
# 0.1 s; 1 after TENTHS tries.
wait_for() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# --- prerequisites ---------------------------------------------------------

# tool_path TOOL: where TOOL is, on the PATH or in /usr/sbin (chronyd is
# there, and /usr/sbin is not on every user's PATH).
tool_path() {
	command -v "$1" 2>/dev/null && return 0
	[ -x "/usr/sbin/$1" ] || return 1
	echo "/usr/sbin/$1"
}

# need_tools [--sbin] HINT TOOL...: every TOOL is on the PATH (--sbin: or
# in /usr/sbin).  Else a failed case and finish under CI=true (CI installs
# them), a skip (exit 77) otherwise; HINT says how to install them.
need_tools() {
	local sbin=no hint tool missing=
	if [ "$1" = --sbin ]; then
		sbin=yes
		shift
	fi
	hint=$1
	shift
	for tool in "$@"; do
		if [ $sbin = yes ]; then
			tool_path "$tool" >/dev/null && continue
		else
			command -v "$tool" >/dev/null 2>&1 && continue
		fi
		missing="$missing $tool"
	done
	[ -n "$missing" ] || return 0
	cannot_run "missing$missing ($hint)"
}

# cannot_run WHY: this environment cannot run the test: a failed case and
# finish under CI=true (CI must run it), a skip (exit 77) otherwise.
cannot_run() {
	if [ "${CI:-}" = true ]; then
		not_ok "prerequisites: $1"
		finish
	fi
	echo "$test_name: SKIP: $1"
	exit 77
}

# need_root WHAT: root, else cannot_run saying what needs it.
need_root() {
	[ "$(id -u)" -eq 0 ] || cannot_run "$1 need root"
}

# need_programs VAR...: the file each VAR names is executable (else a
# failed case and finish); VAR is made an absolute path.
need_programs() {
	local v f
	for v in "$@"; do
		f=${!v}
		if [ ! -x "$f" ]; then
			not_ok "prerequisites: $f is missing or not executable"
			finish
		fi
		printf -v "$v" '%s/%s' "$(cd "$(dirname "$f")" && pwd)" "$(basename "$f")"
	done
}

# --- processes, temp dir, cleanup ------------------------------------------

# pid_stop PID: SIGTERM, up to 5 s to exit, then SIGKILL; reaps it and
# returns its exit status.
pid_gone() { ! kill -0 "$1" 2>/dev/null; }
pid_stop() {
	local p=$1
	if ! pid_gone "$p"; then
		kill -TERM "$p" 2>/dev/null
		if ! wait_for 50 pid_gone "$p"; then
			echo "$test_name: pid $p did not stop on SIGTERM within 5 s; killing it"
			kill -KILL "$p" 2>/dev/null
		fi
	fi
	wait "$p" 2>/dev/null
}

# bg_stop: SIGTERM to every PID in bg_pids, each reaped; bg_pids emptied.
bg_stop() {
	local p
	for p in "${bg_pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	bg_pids=()
}

# ntsd_stop NAME: pid_stop on ntsd NAME; its exit status in
# ntsd_status[NAME].
ntsd_stop() {
	local n=$1 p=${ntsd_pid[$1]:-}
	[ -n "$p" ] || return 0
	pid_stop "$p"
	ntsd_status[$n]=$?
	ntsd_pid[$n]=
}

# On exit: cleanup_hook if the test defines one, then bg_stop and
# ntsd_stop for every ntsd, then the temp dir goes.
tmp_cleanup() {
	local n keep=${test_name^^}_KEEP
	if declare -F cleanup_hook >/dev/null; then
		cleanup_hook
	fi
	bg_stop
	for n in "${!ntsd_pid[@]}"; do
		ntsd_stop "$n"
	done
	# tests/integration/netns.sh: the namespaces go after their processes.
	if declare -F netns_cleanup >/dev/null; then
		netns_cleanup
	fi
	if [ "${!keep:-}" = 1 ]; then
		echo "$test_name: kept $tmp"
	else
		rm -rf -- "$tmp"
	fi
}

# tmp_make: a new temp dir in $tmp (and $ntsd_dir), cleaned up on exit.
tmp_make() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$test_name.XXXXXX") || exit 1
	ntsd_dir=$tmp
	trap tmp_cleanup EXIT
	trap 'exit 1' INT TERM HUP
}

# dev_certs DIR...: certs/make-dev-certs into each $tmp/DIR (CA ca.pem,
# ca.key; server.pem, server.key for localhost, 127.0.0.1 and ::1); its
# output in $tmp/certs.log.  On failure a failed case and finish.
dev_certs() {
	local d
	for d in "$@"; do
		"$make_certs" "$tmp/$d" >>"$tmp/certs.log" 2>&1 && continue
		show "$tmp/certs.log"
		not_ok "prerequisites: $make_certs failed"
		finish
	done
}

# --- ports -----------------------------------------------------------------

used_ports() { ss -Htuan 2>/dev/null | awk '{ n = split($5, a, ":"); print a[n] }' | sort -u; }

# pick_port [TAKEN...]: a port nothing uses on TCP or UDP and not among
# TAKEN, below the ephemeral range so no outgoing connection takes it
# meanwhile.
pick_port() {
	local lo=20000 hi=32000 eph p i
	read -r eph _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || eph=32768
	[ "$eph" -gt $((lo + 1000)) ] && [ "$eph" -le 65535 ] && hi=$((eph - 1))
	for ((i = 0; i < 100; i++)); do
		p=$((lo + RANDOM % (hi - lo)))
		case " $* " in *" $p "*) continue ;; esac
		used_ports | grep -qx "$p" || { echo "$p"; return 0; }
	done
	return 1
}

# pick_ports N: N distinct free ports on one line.
pick_ports() {
	local taken=() p
	while [ ${#taken[@]} -lt "$1" ]; do
		p=$(pick_port "${taken[@]}") || return 1
		taken+=("$p")
	done
	echo "${taken[*]}"
}

# ports_listen PORT...: something listens on (or uses) every PORT.
ports_listen() {
	local used p
	used=$(used_ports)
	for p in "$@"; do
		grep -qx "$p" <<<"$used" || return 1
	done
}

# --- ntsd ------------------------------------------------------------------

# ntsd_conf NAME LINE...: writes $ntsd_dir/NAME.conf: the LINEs, then each
# of these settings that no LINE sets ("DIRECTIVE -" leaves it out): the
# certificate and key from dev_certs certs, key file $tmp/keys, pid file
# $ntsd_dir/NAME.pid, local stratum 10, one NTP and one NTS-KE thread,
# log level info, no shutdown drain (SIGTERM stops at once).
ntsd_conf() {
	local n=$1 line given=" "
	shift
	local defaults=(
		"ke-certificate $tmp/certs/server.pem"
		"ke-private-key $tmp/certs/server.key"
		"key-file $tmp/keys"
		"pid-file $ntsd_dir/$n.pid"
		"local-stratum 10"
		"threads 1"
		"ke-threads 1"
		"log-level info"
		"shutdown-drain 0"
	)
	{
		echo "# written by $test_name.sh"
		for line in "$@"; do
			given+="${line%% *} "
			[ "${line#* }" = - ] || echo "$line"
		done
		for line in "${defaults[@]}"; do
			case $given in
			*" ${line%% *} "*) ;;
			*) echo "$line" ;;
			esac
		done
	} >"$ntsd_dir/$n.conf"
}

# ntsd_start NAME READY...: ntsd -c $ntsd_dir/NAME.conf in the foreground,
# output in NAME.log, PID in ntsd_pid[NAME].  0 once it logged "started"
# and the command READY... succeeds, within 10 s; else it is stopped.
ntsd_start() {
	local n=$1 i
	shift
	# shellcheck disable=SC2086 # a command and its arguments, or nothing
	${ntsd_prefix[$n]:-} "$NTSD" -c "$ntsd_dir/$n.conf" -f >"$ntsd_dir/$n.log" 2>&1 </dev/null &
	ntsd_pid[$n]=$!
	for ((i = 0; i < 100; i++)); do
		pid_gone "${ntsd_pid[$n]}" && break
		grep -q 'started' "$ntsd_dir/$n.log" && "$@" && return 0
		sleep 0.1
	done
	ntsd_stop "$n"
	return 1
}

# ntsd_reload NAME: SIGHUP to ntsd NAME; 0 once NAME.log has one more
# "access rules reloaded" line than before, within 5 s.
ntsd_reloads() { grep -c 'access rules reloaded' "$ntsd_dir/$1.log"; }
ntsd_reloaded_since() { [ "$(ntsd_reloads "$1")" -gt "$2" ]; }
ntsd_reload() {
	local before
	before=$(ntsd_reloads "$1")
	kill -HUP "${ntsd_pid[$1]}"
	wait_for 50 ntsd_reloaded_since "$1" "$before"
}

# ntsd_up SETUP READY NAME...: up to three attempts: the command SETUP
# picks ports and writes the configs, then each NAME starts (ntsd_start
# NAME READY; READY is a command without arguments, ":" for none).  A
# failed attempt shows the log and stops them all; it is retried only when
# a log says an address was in use (taken after pick_port saw it free).
ntsd_up() {
	local setup=$1 ready=$2 attempt n up logs=()
	shift 2
	for n in "$@"; do
		logs+=("$ntsd_dir/$n.log")
	done
	for attempt in 1 2 3; do
		"$setup" || return 1
		up=yes
		for n in "$@"; do
			ntsd_start "$n" "$ready" && continue
			echo "$test_name: $n did not start (attempt $attempt):"
			show "$ntsd_dir/$n.log"
			up=no
			break
		done
		[ $up = no ] || return 0
		for n in "$@"; do
			ntsd_stop "$n"
		done
		grep -qi 'in use' "${logs[@]}" 2>/dev/null || return 1
	done
	return 1
}

# --- chrony-client ---------------------------------------------------------

# client_verdict: chrony-client's last PASS or FAIL line in its output
# (stdin).
client_verdict() { grep -E '^chrony-client\[[^]]*\]: (PASS|FAIL)' | tail -n 1; }

# client_passed FILE RC PATTERN LABEL: ok "LABEL: <chrony-client's verdict>"
# when chrony-client exited RC 0 and its verdict in FILE is a PASS whose
# text holds PATTERN (a glob fragment); else not_ok with both.
client_passed() {
	local v
	v=$(client_verdict <"$1")
	# shellcheck disable=SC2053 # $3 is a glob fragment on purpose
	if [ "$2" -eq 0 ] && [[ $v == *": PASS: "*$3* ]]; then
		ok "$4: ${v#*: PASS: }"
	else
		not_ok "$4: exit $2: ${v:-no verdict}"
	fi
}
