#!/usr/bin/env bash
# valgrind_test.sh: ntsd under valgrind's memcheck through a real exchange,
# and memcheck reports no error.
#
#   ntsd runs under valgrind --error-exitcode=99 --leak-check=full
#   --errors-for-leak-kinds=definite; meanwhile: NTS-KE and 4 NTS NTP
#   exchanges (ntsctl probe), a /metrics and /health scrape (ntsctl stats),
#   a garbage NTS-KE connection and a garbage NTP datagram (both counted),
#   SIGHUP, a key rotation (ntsctl keys rotate, picked up without a
#   signal), a second probe, then SIGTERM.  Passes when ntsd exits 0 (99 would be memcheck's
#   errors) and memcheck's log says 0 errors and nothing definitely lost.
#   Possibly lost / still reachable blocks (liburcu's call_rcu thread, which
#   is never joined) are shown, not counted.
# Not run in a sanitizer build (valgrind cannot run an ASan binary; that
# build has ASan's own checks): tests/integration/valgrind.mk.
# Run by make check (srcdir set, binaries in the build dir); by hand:
#   cd BUILDDIR && srcdir=SRCDIR SRCDIR/tests/integration/valgrind_test.sh
# Exit 0 all passed, 1 a failure, 77 a tool missing outside CI (CI=true:
# missing tools fail).  VALGRIND_TEST_KEEP=1 keeps the temp dir.
# The setup and ready functions run through ntsd_up.
# shellcheck disable=SC2317
set -u

srcdir=${srcdir:-$(dirname "$0")/../..}
srcdir=$(cd "$srcdir" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$srcdir/tests/integration/lib.sh"

need_tools "apt-get install valgrind iproute2 openssl" valgrind ss openssl
need_programs NTSD NTSCTL make_certs
tmp_make
dev_certs certs
"$NTSCTL" keys init "$tmp/keys" >/dev/null || { not_ok "ntsctl keys init"; finish; }

vg_log=$tmp/memcheck.log
ntsd_prefix[ntsd]="valgrind --tool=memcheck --error-exitcode=99 --leak-check=full
	--errors-for-leak-kinds=definite --track-origins=yes --log-file=$vg_log"
ntp_port='' ke_port='' metrics_port=''
setup() {
	local ports
	ports=$(pick_ports 3) || return 1
	read -r ntp_port ke_port metrics_port <<<"$ports"
	ntsd_conf ntsd "ntp-listen 127.0.0.1 $ntp_port" "ke-listen 127.0.0.1 $ke_port" \
		"metrics-listen 127.0.0.1 $metrics_port" "pid-file none" "threads 2" "ke-threads 2" \
		"sandbox no"	# valgrind cannot run seccomp filters (it has no seccomp(2))
}
listening() { ports_listen "$ke_port" "$ntp_port" "$metrics_port"; }
keys_loaded() { grep -q "loaded $1 master keys" "$ntsd_dir/ntsd.log"; }

# probe LABEL: NTS-KE and 4 NTS exchanges, an OK verdict.
probe() {
	"$NTSCTL" probe "127.0.0.1:$ke_port" --ca "$tmp/certs/ca.pem" --count 4 --interval 50 \
		>"$tmp/probe.out" 2>&1
	local rc=$?
	show "$tmp/probe.out"
	check "$1: ntsctl probe exit 0, 4/4 authenticated exchanges" \
		bash -c "[ $rc -eq 0 ] && grep -q '^probe: OK: .* 4/4 authenticated' '$tmp/probe.out'"
}

echo "valgrind_test: $(valgrind --version), ntsd under memcheck"
if ! ntsd_up setup listening ntsd; then
	show "$vg_log" 2>/dev/null
	not_ok "ntsd starts under valgrind"
	finish
fi
echo "valgrind_test: ntsd pid ${ntsd_pid[ntsd]}: NTP $ntp_port, NTS-KE $ke_port, metrics $metrics_port"

probe "before"
"$NTSCTL" stats "127.0.0.1:$metrics_port" >"$tmp/stats.out" 2>&1
rc=$?
check "ntsctl stats: exit 0, healthy, the 4 NTS replies counted" \
	bash -c "[ $rc -eq 0 ] && grep -q '^health: healthy' '$tmp/stats.out' &&
		grep -Eq '^ntp_replies_total +protocol=nts +4\$' '$tmp/stats.out'" ||
	show "$tmp/stats.out"

# Bad input on both ports: counted and dropped, and the daemon carries on.
printf 'not a TLS ClientHello\r\n' >"/dev/tcp/127.0.0.1/$ke_port" 2>/dev/null
printf '\x23garbage' >"/dev/udp/127.0.0.1/$ntp_port" 2>/dev/null
bad_input_counted() {
	"$NTSCTL" stats "127.0.0.1:$metrics_port" >"$tmp/stats.out" 2>&1 &&
		grep -Eq '^ntp_requests_total +outcome=drop_short +1$' "$tmp/stats.out" &&
		grep -Eq '^ke_events_total +event=handshake_failed +1$' "$tmp/stats.out"
}
check "garbage on both ports: counted (drop_short, handshake_failed) within 10 s" \
	wait_for 100 bad_input_counted || show "$tmp/stats.out"

check "SIGHUP: ntsd reloads" ntsd_reload ntsd
"$NTSCTL" keys rotate "$tmp/keys" >"$tmp/rotate.out" 2>&1
rc=$?
show "$tmp/rotate.out"
check "key rotation: ntsctl keys rotate exit 0, ntsd loads the 2 keys within 10 s" \
	bash -c "[ $rc -eq 0 ]" && wait_for 100 keys_loaded 2
probe "after the reload and the rotation"

ntsd_stop ntsd
echo "valgrind_test: memcheck's summary:"
grep -E '(HEAP|LEAK|ERROR) SUMMARY|in use at exit|(definitely|indirectly|possibly) lost:|still reachable:|All heap blocks' \
	"$vg_log" | sed 's/^==[0-9]*== */  | /'
check "ntsd exits 0 on SIGTERM under memcheck (99: memcheck found errors), got ${ntsd_status[ntsd]}" \
	[ "${ntsd_status[ntsd]}" = 0 ]
check "memcheck: ERROR SUMMARY: 0 errors" grep -q 'ERROR SUMMARY: 0 errors from 0 contexts' "$vg_log"
check "memcheck: nothing definitely lost" \
	bash -c "grep -Eq 'definitely lost: 0 bytes|All heap blocks were freed' '$vg_log' &&
		! grep -Eq 'definitely lost: [1-9]' '$vg_log'"
[ "$failed" -eq 0 ] || show "$vg_log"
finish
