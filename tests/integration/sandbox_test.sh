#!/usr/bin/env bash
# sandbox_test.sh: the seccomp sandbox (ntsd/sandbox.h) is on every thread.
#   (a) ntsd -n says whether the sandbox is available and on
#   (b) sandbox yes: every thread (comm, Seccomp and NoNewPrivs lines
#       printed) shows "Seccomp: 2" and "NoNewPrivs: 1"; NTS-KE + NTP
#       (ntsctl probe) and a SIGHUP still work
#   (c) for each role (ntp, ke, metrics, reclaim, main), the test-only
#       trigger NTSD_SANDBOX_SELFTEST=ROLE makes one such thread call
#       mount(2): the process dies of SIGSYS with the handler's line
#       naming the call, the thread and the role
#   (d) sandbox no: every thread shows "Seccomp: 0", and the trigger's
#       call is not stopped
# Run by make check; by hand:
#   cd BUILDDIR && srcdir=SRCDIR SRCDIR/tests/integration/sandbox_test.sh
# Exit 0 all passed, 1 a failure.  SANDBOX_TEST_KEEP=1 keeps the temp dir.
# shellcheck disable=SC2317
set -u

srcdir=${srcdir:-$(dirname "$0")/../..}
srcdir=$(cd "$srcdir" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$srcdir/tests/integration/lib.sh"

need_tools "apt-get install iproute2 openssl" ss openssl
need_programs NTSD NTSCTL make_certs
tmp_make
dev_certs certs
"$NTSCTL" keys init "$tmp/keys" >/dev/null

sandbox=yes
setup() {
	local ports
	ports=$(pick_ports 3) || return 1
	read -r ntp_port ke_port metrics_port <<<"$ports"
	ntsd_conf ntsd "ntp-listen 127.0.0.1 $ntp_port" "ke-listen 127.0.0.1 $ke_port" \
		"metrics-listen 127.0.0.1 $metrics_port" "ntp-allow 127.0.0.0/8" \
		"ke-allow 127.0.0.0/8" "sandbox $sandbox"
}
listening() { ports_listen "$ke_port" "$ntp_port" "$metrics_port"; }

# threads PID: "comm Seccomp: N NoNewPrivs: M" for each thread, to
# $tmp/threads.
threads() {
	local t
	: >"$tmp/threads"
	for t in /proc/"$1"/task/*; do
		printf '%-14s %s %s\n' "$(cat "$t/comm")" "$(grep '^Seccomp:' "$t/status")" \
			"$(grep '^NoNewPrivs:' "$t/status")" >>"$tmp/threads"
	done
	show "$tmp/threads"
}
# every_thread PATTERN: every line of $tmp/threads matches PATTERN.
every_thread() { ! grep -v -- "$1" "$tmp/threads" | grep -q .; }
# all_mode N: every thread in $tmp/threads has Seccomp mode N, and there
# is one of each role's threads.
all_mode() {
	local comm
	every_thread "Seccomp:[[:space:]]*$1[[:space:]]" || return 1
	for comm in ntsd ntsd-ntp/0 ntsd-ke/0 ntsd-reclaim MHD-single; do
		grep -q "^$comm " "$tmp/threads" || { echo "  no thread $comm"; return 1; }
	done
}
probe() {
	"$NTSCTL" probe "127.0.0.1:$ke_port" --ca "$tmp/certs/ca.pem" --name localhost \
		--count 2 --interval 0 >"$tmp/probe.out" 2>&1
}

not_grep() { ! grep -q "$@"; }

# --- (a) ntsd -n --------------------------------------------------------------
setup
"$NTSD" -n -c "$ntsd_dir/ntsd.conf" >"$tmp/n.out" 2>&1
show "$tmp/n.out"
check "(a) ntsd -n: sandbox available and on" grep -q '^sandbox: on' "$tmp/n.out"

# --- (b) every thread filtered ---------------------------------------------
if ntsd_up setup listening ntsd; then
	pid=${ntsd_pid[ntsd]}
	probe
	threads "$pid"
	check "(b) sandbox yes: Seccomp: 2 on every thread" all_mode 2
	check "(b) sandbox yes: NoNewPrivs: 1 on every thread" \
		every_thread "NoNewPrivs:[[:space:]]*1\$"
	check "(b) NTS-KE and NTP served under the sandbox" grep -q 'PASS\|ok' "$tmp/probe.out"
	check "(b) a SIGHUP is applied under the sandbox" ntsd_reload ntsd
	check "(b) still running" kill -0 "$pid"
	ntsd_stop ntsd
	check "(b) clean stop, no sanitizer report" no_sanitizer_report "$ntsd_dir/ntsd.log"
	check "(b) no thread was killed by its filter (run and stop)" \
		not_grep 'sandbox: thread' "$ntsd_dir/ntsd.log"
else
	not_ok "(b) ntsd starts with sandbox yes"
fi

# --- (c) the test-only trigger kills -----------------------------------------
# killed ROLE: ntsd with the trigger for ROLE died of SIGSYS (exit 159)
# and logged the handler's line naming mount and ROLE.
killed() {
	local rc
	setup
	NTSD_SANDBOX_SELFTEST=$1 timeout 20 "$NTSD" -c "$ntsd_dir/ntsd.conf" -f \
		>"$ntsd_dir/self.log" 2>&1 </dev/null
	rc=$?
	grep 'sandbox' "$ntsd_dir/self.log" | grep -v '^.*sandbox: on' | show
	[ $rc = $((128 + 31)) ] || { echo "  exit status $rc"; return 1; }
	grep -q "sandbox: thread [^ ]* (role $1) made system call [0-9]* (mount), which its allow-list forbids" \
		"$ntsd_dir/self.log"
}
for role in ntp ke metrics reclaim main; do
	check "(c) trigger in a $role thread: SIGSYS kills, the line names mount and $role" \
		killed "$role"
done

# --- (d) sandbox no ------------------------------------------------------------
sandbox=no
if ntsd_up setup listening ntsd; then
	pid=${ntsd_pid[ntsd]}
	threads "$pid"
	check "(d) sandbox no: Seccomp: 0 on every thread" all_mode 0
	ntsd_stop ntsd
else
	not_ok "(d) ntsd starts with sandbox no"
fi
setup
NTSD_SANDBOX_SELFTEST=ntp timeout 20 "$NTSD" -c "$ntsd_dir/ntsd.conf" -f \
	>"$ntsd_dir/self.log" 2>&1 </dev/null &
spid=$!
check "(d) sandbox no: the trigger's call is not stopped" \
	wait_for 100 grep -q 'no filter stopped it' "$ntsd_dir/self.log"
kill "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
finish
