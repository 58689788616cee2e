#!/usr/bin/env bash
# bench_replay_test.sh: bench/ntsbench's replay mode (issue 13 part 3)
# against the built ntsd on free loopback ports, about a second a run.
# What the tool reports is checked, never how fast anything is:
#   (a) window (closed loop): replies, 1 in 64 fully verified, every check
#       good and at least one, no NAK, KoD, invalid or oversize reply; with
#       --server-pid and --server-cpus the server's CPU and its cores' busy
#       time are in the RESULT line
#   (b) --verify-every 1: every reply is verified, so verified = valid
#   (c) --rate: the same checks at a fixed rate
#   (d) --flood: the same checks, open loop
#   (e) -m replay-plain: plain requests built once, verified by header
#   (f) --source: sent from that address: from 127.0.0.2 all good; from
#       127.0.0.3, which ntsd denies (ntp-deny), requests go out and none
#       is answered (so they left from there); from 127.0.0.4, which
#       ke-deny refuses, NTS-KE fails (so it binds there too); a source
#       that is no address is refused
#   (g) no server on the port: no reply, the tool exits non-zero
# Run by make check; by hand:
#   cd BUILDDIR && srcdir=SRCDIR SRCDIR/tests/integration/bench_replay_test.sh
# Exit 0 all passed, 1 a failure, 77 a tool missing outside CI (CI=true:
# missing tools fail).  BENCH_REPLAY_TEST_KEEP=1 keeps the temp dir.
# The setup and ready functions run through ntsd_up.
# shellcheck disable=SC2317
set -u

srcdir=${srcdir:-$(dirname "$0")/../..}
srcdir=$(cd "$srcdir" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$srcdir/tests/integration/lib.sh"

BENCH=${BENCH:-./bench/ntsbench}
need_tools "apt-get install openssl iproute2 coreutils" openssl ss timeout
need_programs NTSD BENCH make_certs
tmp_make
dev_certs certs

ntp_port=
ke_port=
setup() {
	local ports
	ports=$(pick_ports 2) || return 1
	read -r ntp_port ke_port <<<"$ports"
	ntsd_conf ntsd "ntp-listen 127.0.0.1 $ntp_port" "ke-listen 127.0.0.1 $ke_port" \
		"pid-file none" "log-level notice" "ntp-deny 127.0.0.3/32" "ke-deny 127.0.0.4/32"
}
listens() { ports_listen "$ntp_port" "$ke_port"; }
if ! ntsd_up setup listens ntsd; then
	not_ok "ntsd starts"
	finish
fi

# replay NAME ARGS...: one short ntsbench run; its exit status in rc[NAME],
# its RESULT line in res[NAME], everything in $tmp/NAME.out.
declare -A rc=() res=()
replay() {
	local n=$1
	shift
	timeout -k 5 30 "$BENCH" --ca "$tmp/certs/ca.pem" -k "$ke_port" -p "$ntp_port" \
		-d 1 --warmup 0.2 --timeout 500 --label "$n" "$@" 127.0.0.1 >"$tmp/$n.out" 2>&1
	rc[$n]=$?
	res[$n]=$(grep '^RESULT ' "$tmp/$n.out" | tail -n 1)
}
get() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"${res[$1]}"; }

# good NAME: exit 0, replies, verified > 0 and no failed check, nothing
# NAK, KoD, invalid or oversize.
good() {
	local n=$1 k
	[ "${rc[$n]}" -eq 0 ] || { show "$tmp/$n.out"; return 1; }
	[ "$(get "$n" valid)" -gt 0 ] && [ "$(get "$n" verified)" -gt 0 ] || { show "$tmp/$n.out"; return 1; }
	for k in verify_failed nak kod invalid oversize; do
		[ "$(get "$n" "$k")" = 0 ] || { echo "  $k=$(get "$n" "$k")"; show "$tmp/$n.out"; return 1; }
	done
}
# sampled NAME: about 1 in 64 replies verified (64 * verified within one
# sample of the valid replies counted), as the option says.
sampled() {
	local v w
	v=$(get "$1" verified) w=$(get "$1" valid)
	[ $((v * 64)) -le "$w" ] && [ $(((v + 1) * 64)) -gt "$w" ] ||
		{ echo "  verified $v of $w valid replies"; return 1; }
}
has_cost() {
	local k
	for k in server_cpu_s cpu_us_per core_busy_s core_us_per core_util; do
		[ -n "$(get "$1" "$k")" ] || { echo "  no $k in: ${res[$1]}"; return 1; }
	done
}
all_verified() { [ "$(get "$1" verified)" = "$(get "$1" valid)" ]; }

replay window -m replay --sessions 2 -s 2 -w 8 --server-pid "${ntsd_pid[ntsd]}" --server-cpus 0
check "(a) window: only good replies, at least one verified: $(get window verified) of $(get window valid)" good window
check "(a) window: 1 in 64 verified" sampled window
check "(a) window: server CPU and core busy time reported" has_cost window
replay every -m replay --sessions 1 -s 1 -w 4 --verify-every 1
check "(b) --verify-every 1: all $(get every valid) replies verified" good every
check "(b) --verify-every 1: verified = valid" all_verified every
replay rate -m replay -r 2000
check "(c) --rate 2000: only good replies, $(get rate verified) verified" good rate
replay flood -m replay --flood -s 2 -b 32
check "(d) --flood: only good replies, $(get flood verified) verified" good flood
replay plain -m replay-plain -s 2 -w 8
check "(e) replay-plain: only good replies, $(get plain verified) verified" good plain

replay src -m replay --sessions 1 -s 2 -w 8 --source 127.0.0.2
check "(f) --source 127.0.0.2: only good replies, $(get src verified) verified" good src
replay srcdeny -m replay-plain --flood -s 1 -b 8 --source 127.0.0.3
denied_none() {
	[ "${rc[srcdeny]}" -ne 0 ] && [ "$(get srcdeny sent)" -gt 0 ] && [ "$(get srcdeny valid)" = 0 ] ||
		{ show "$tmp/srcdeny.out"; return 1; }
}
check "(f) --source 127.0.0.3 (ntp-deny): $(get srcdeny sent) sent, none answered" denied_none
replay srcke -m replay --sessions 1 -s 1 -w 4 --source 127.0.0.4
ke_refused() {
	[ "${rc[srcke]}" -ne 0 ] && grep -q 'NTS-KE with' "$tmp/srcke.out" || { show "$tmp/srcke.out"; return 1; }
}
check "(f) --source 127.0.0.4 (ke-deny): NTS-KE refused" ke_refused
replay srcbad -m replay-plain --source not-an-address
bad_source() { [ "${rc[srcbad]}" -eq 2 ] && grep -q 'bad value for an option: not-an-address' "$tmp/srcbad.out"; }
check "(f) --source not-an-address: refused (exit 2)" bad_source

ntsd_stop ntsd
replay dead -m replay-plain -s 1 -w 4
check "(g) no server: exit non-zero" test "${rc[dead]}" -ne 0
finish
