#!/usr/bin/env bash
# xdp_test.sh: ntp-xdp, NTP served through the XDP program and AF_XDP
# sockets, between two network namespaces the test creates (a veth pair,
# 10.213.0.0/24 and fd00:213::/64 inside them only; removed on exit).
#
# In namespace srv, three ntsd:
#   xdp      ntp-xdp on the veth: 10.213.0.1 and fd00:213::1, ntp-deny
#            10.213.0.9/32
#   sock     ntp-xdp on an interface that does not exist (the fallback to
#            sockets): 10.213.0.5, served by the kernel's UDP path (xdp's
#            program passes what is not its own)
#   generic  ntp-xdp on a macvlan over the veth, which has no native XDP
#            (the fallback to generic mode): 10.213.0.7
# From namespace cli:
#   (a) stock chrony (chrony-client: chronyd -x, no CAP_SYS_TIME) syncs
#       over NTS through XDP, IPv4, and the program redirected its requests
#   (b) the same over IPv6
#   (c) ntsctl probe (NTS-KE, then NTS-authenticated NTP) through XDP
#   (d) plain NTP through XDP, IPv4 and IPv6
#   (e) the denied prefix gets no reply and the program's drop counter
#       rises by what it sent; after SIGHUP with the rule gone it is
#       answered through XDP
#   (f) the responder's malformed cases (xdp-client hostile: every cut of
#       a plain and of chrony's NTS requests, every version and mode, bad
#       extension field lengths, flipped bytes, junk) through XDP: ntsd
#       lives, no reply is longer than its request, the sockets saw them;
#       requests with a bad UDP checksum are refused, counted by reason
#   (g) sock: the fallback is logged and it serves on its socket
#   (h) generic: native mode failed and that is logged, generic mode is
#       used, and it serves through its AF_XDP socket
#   (i) receive timestamps: one client alternates plain requests between
#       xdp (XDP path) and sock (socket path) of the same host clock; the
#       median difference of neighbouring offsets is within 50 us
#   (j) ntsctl stats shows the program's and the sockets' counters
#   (k) SIGKILL of xdp: the veth is left without an XDP program
#   (l) sock and generic stop cleanly on SIGTERM
# Needs root (namespaces, XDP), iproute2, chrony, python3 and an ntsd
# built with XDP; without them it is skipped, and fails under CI=true.
# XDP_TEST_KEEP=1 keeps the temp dir.
# shellcheck disable=SC2317
set -u

srcdir=${srcdir:-$(dirname "$0")/../..}
srcdir=$(cd "$srcdir" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$srcdir/tests/integration/lib.sh"
# shellcheck source-path=SCRIPTDIR source=netns.sh
. "$srcdir/tests/integration/netns.sh"

SRV4=10.213.0.1
SRV6=fd00:213::1
SOCK4=10.213.0.5
GEN4=10.213.0.7
CLI4=10.213.0.2
CLI6=fd00:213::2
DENIED4=10.213.0.9
SAMPLES=8
xclient=$itest_dir/xdp-client
seeds=("$srcdir"/tests/fuzz/corpus/fuzz_ntp_ef/chrony-request-[01])

need_tools --sbin "apt-get install chrony util-linux iproute2 openssl python3 ethtool" \
	chronyd chronyc setpriv ip openssl python3 ethtool
netns_need
need_programs NTSD NTSCTL client make_certs xclient
tmp_make
# chrony-client's --keep dir lies inside: chronyd's own user must reach it.
chmod 755 "$tmp"
"$make_certs" "$tmp/certs" --san "IP:$SRV4" --san "IP:$SRV6" --san "IP:$SOCK4" \
	--san "IP:$GEN4" >>"$tmp/certs.log" 2>&1 || { show "$tmp/certs.log"; not_ok "prerequisites: make-dev-certs"; finish; }

# --- the network -------------------------------------------------------------

netns_add srv cli
netns_link srv "$SRV4/24" cli "$CLI4/24"
vsrv=${ns_if[srv:cli]}
vcli=${ns_if[cli:srv]}
ip -n "${ns[srv]}" addr add "$SRV6/64" dev "$vsrv" nodad
ip -n "${ns[srv]}" addr add "$SOCK4/24" dev "$vsrv"
ip -n "${ns[cli]}" addr add "$CLI6/64" dev "$vcli" nodad
ip -n "${ns[cli]}" addr add "$DENIED4/24" dev "$vcli"
ip -n "${ns[srv]}" link add link "$vsrv" name mvl0 type macvlan mode bridge ||
	cannot_run "this kernel has no macvlan (ip link add type macvlan)"
ip -n "${ns[srv]}" addr add "$GEN4/24" dev mvl0
ip -n "${ns[srv]}" link set mvl0 up
# ARP for an address only from the interface that has it: the macvlan's
# address must lead to the macvlan's MAC, not the veth's.
in_ns srv sysctl -qw net.ipv4.conf.all.arp_ignore=1
# The veth pair does not compute UDP checksums for its peer (checksum
# offload): a real wire carries complete ones, and the XDP path checks
# them.  The client's side computes them.
in_ns cli ethtool -K "$vcli" tx off >/dev/null ||
	cannot_run "cannot turn off tx checksum offload on the client's veth"

# --- the servers ---------------------------------------------------------------

for n in xdp sock generic; do
	netns_ntsd "$n" srv
done
KE=4460
ntsd_conf xdp "ntp-listen $SRV4 123" "ntp-listen $SRV6 123" "ke-listen $SRV4 $KE" \
	"ke-listen $SRV6 $KE" "ntp-xdp $vsrv" "ntp-deny $DENIED4/32" "threads 2" \
	"metrics-listen 127.0.0.1 9100" "key-file $tmp/keys-xdp" \
	"ke-certificate $tmp/certs/server.pem" "ke-private-key $tmp/certs/server.key"
ntsd_conf sock "ntp-listen $SOCK4 123" "ke-listen $SOCK4 $KE" "ntp-xdp nosuch0" \
	"metrics-listen 127.0.0.1 9101" "key-file $tmp/keys-sock" \
	"ke-certificate $tmp/certs/server.pem" "ke-private-key $tmp/certs/server.key"
ntsd_conf generic "ntp-listen $GEN4 123" "ke-listen $GEN4 $KE" "ntp-xdp mvl0" \
	"metrics-listen 127.0.0.1 9102" "key-file $tmp/keys-generic" \
	"ke-certificate $tmp/certs/server.pem" "ke-private-key $tmp/certs/server.key"

# metrics PORT: the /metrics body of the ntsd in srv listening on PORT.
metrics() {
	in_ns srv bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 &&
		printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && timeout 5 cat <&3"
}
# metric PORT PATTERN: the sum of the samples whose line matches PATTERN.
metric() { metrics "$1" | awk -v p="$2" '$0 ~ p { s += $NF } END { print s + 0 }'; }

for n in xdp sock generic; do
	if ! ntsd_start "$n" :; then
		not_ok "ntsd $n starts"
		show "$tmp/$n.log"
		finish
	fi
done
if grep -q 'built without XDP support' "$tmp/xdp.log"; then
	cannot_run "this ntsd was built without XDP support (configure --disable-xdp, or it found no clang, libbpf or libxdp)"
fi
if ! grep -q "ntp-xdp $vsrv: serving NTP through XDP" "$tmp/xdp.log"; then
	not_ok "ntsd xdp attached its program to $vsrv"
	show "$tmp/xdp.log"
	finish
fi
grep 'ntp-xdp' "$tmp/xdp.log" | show

# --- (a) (b) chrony over NTS through XDP ------------------------------------------

chrony_case() {
	local label=$1 server=$2 out rc before after
	before=$(metric 9100 'ntsd_xdp_socket_events_total.*event="tx"')
	out=$(in_ns cli "$client" --server "$server" --ca "$tmp/certs/ca.pem" --ke-port $KE \
		--samples $SAMPLES --timeout 30 --name "$label" 2>&1)
	rc=$?
	echo "$out" | sed 's/^/  /'
	after=$(metric 9100 'ntsd_xdp_socket_events_total.*event="tx"')
	if ! grep -q 'Authenticated *: Yes' <<<"$out"; then
		not_ok "$label: chronyc ntpdata does not say Authenticated: Yes"
	elif [ $((after - before)) -lt $SAMPLES ]; then
		not_ok "$label: only $((after - before)) replies left through XDP"
	else
		echo "$out" >"$tmp/$label.out"
		client_passed "$tmp/$label.out" $rc "NTS-KE ok" "$label: through XDP ($((after - before)) replies)"
	fi
}
echo "xdp_test: (a) chrony over NTS, IPv4"
chrony_case "(a) IPv4" "$SRV4"
echo "xdp_test: (b) chrony over NTS, IPv6"
chrony_case "(b) IPv6" "$SRV6"

# --- (c) ntsctl probe ------------------------------------------------------------

echo "xdp_test: (c) ntsctl probe"
before=$(metric 9100 'ntsd_xdp_socket_events_total.*event="tx"')
wbefore=$(metric 9100 'ntsd_ntp_worker_received_total')
out=$(in_ns cli "$NTSCTL" probe "$SRV4:$KE" --ca "$tmp/certs/ca.pem" --count 3 --interval 50 2>&1)
rc=$?
echo "$out" | show
after=$(metric 9100 'ntsd_xdp_socket_events_total.*event="tx"')
wafter=$(metric 9100 'ntsd_ntp_worker_received_total')
if [ $rc -eq 0 ] && [ $((after - before)) -ge 3 ] && [ $((wafter - wbefore)) -ge 3 ]; then
	ok "(c) ntsctl probe: exit 0, $((after - before)) replies through XDP, the workers counted $((wafter - wbefore)) received"
else
	not_ok "(c) ntsctl probe: exit $rc, $((after - before)) replies through XDP, ntsd_ntp_worker_received_total +$((wafter - wbefore))"
fi

# The kernel's own statistics of the AF_XDP sockets, read at the scrape
# (getsockopt XDP_STATISTICS from the metrics thread, under the sandbox).
body=$(metrics 9100)
kern=$(grep -c '^ntsd_xdp_socket_events_total{.*event="kernel_' <<<"$body")
invalid=$(awk '/^ntsd_xdp_socket_events_total\{.*event="kernel_(rx|tx)_invalid"/ { s += $NF } END { print s + 0 }' <<<"$body")
if [ "$kern" -eq 5 ] && [ "$invalid" -eq 0 ] && ! pid_gone "${ntsd_pid[xdp]}"; then
	ok "(c) /metrics has the AF_XDP sockets' kernel statistics ($kern events, $invalid invalid descriptors): $(grep 'event="kernel_rx_ring_full"' <<<"$body")"
else
	not_ok "(c) AF_XDP kernel statistics: $kern of 5 events, $invalid invalid descriptors"
	grep '^ntsd_xdp_socket_events_total' <<<"$body" | show
fi

# --- (d) plain NTP ----------------------------------------------------------------

echo "xdp_test: (d) plain NTP"
for a in "$SRV4" "$SRV6"; do
	before=$(metric 9100 'ntsd_ntp_requests_total.*outcome="plain_replies"')
	out=$(in_ns cli python3 "$xclient" plain "$a" 123 2>&1)
	rc=$?
	after=$(metric 9100 'ntsd_ntp_requests_total.*outcome="plain_replies"')
	if [ $rc -eq 0 ] && [ "$after" -gt "$before" ]; then
		ok "(d) plain NTP to $a: $out"
	else
		not_ok "(d) plain NTP to $a: exit $rc: $out"
	fi
done

# --- (e) a denied prefix ----------------------------------------------------------

echo "xdp_test: (e) a denied source"
before=$(metric 9100 'ntsd_xdp_packets_total.*denied')
out=$(in_ns cli python3 "$xclient" silent "$SRV4" 123 --source "$DENIED4" --count 5 2>&1)
rc=$?
after=$(metric 9100 'ntsd_xdp_packets_total.*denied')
if [ $rc -eq 0 ] && [ $((after - before)) -ge 5 ]; then
	ok "(e) $DENIED4 denied: $out; the program dropped $((after - before))"
else
	not_ok "(e) $DENIED4 denied: exit $rc: $out; the program's denied counter rose by $((after - before))"
	metrics 9100 | grep ntsd_xdp_packets_total | show
fi

# The same prefix allowed again by a reload: the program takes the new
# rules (xdp_prog_update) and the source is answered through XDP.
sed -i "/^ntp-deny /d" "$tmp/xdp.conf"
before=$(metric 9100 'ntsd_xdp_socket_events_total.*event="tx"')
if ! ntsd_reload xdp; then
	not_ok "(e) reload: no 'access rules reloaded' in the log"
elif out=$(in_ns cli python3 "$xclient" plain "$SRV4" 123 --source "$DENIED4" 2>&1) &&
	[ "$(metric 9100 'ntsd_xdp_socket_events_total.*event="tx"')" -gt "$before" ]; then
	ok "(e) after SIGHUP without the ntp-deny line, $DENIED4 is answered through XDP: $out"
else
	not_ok "(e) after SIGHUP without the ntp-deny line: $out"
	grep -i 'xdp' "$tmp/xdp.log" | tail -n 5 | show
fi

# --- (f) malformed requests ------------------------------------------------------

echo "xdp_test: (f) the responder's malformed cases through XDP"
before=$(metric 9100 'ntsd_xdp_socket_events_total.*event="rx"')
out=$(in_ns cli python3 "$xclient" hostile "$SRV4" 123 "${seeds[@]}" 2>&1)
rc=$?
echo "$out" | show
after=$(metric 9100 'ntsd_xdp_socket_events_total.*event="rx"')
sent=$(sed -n 's/^xdp-client: \([0-9]*\) malformed.*/\1/p' <<<"$out")
if pid_gone "${ntsd_pid[xdp]}"; then
	not_ok "(f) malformed: ntsd died"
	tail -n 20 "$tmp/xdp.log" | show
	finish
elif [ $rc -ne 0 ] || [ -z "$sent" ]; then
	not_ok "(f) malformed: exit $rc (a reply longer than its request)"
elif [ $((after - before)) -lt $((sent / 2)) ]; then
	not_ok "(f) malformed: only $((after - before)) of $sent reached the AF_XDP sockets"
elif ! in_ns cli python3 "$xclient" plain "$SRV4" 123 >/dev/null; then
	not_ok "(f) malformed: no reply to a valid request afterwards"
else
	ok "(f) malformed: $sent requests ($((after - before)) through XDP), no reply longer than its request, ntsd answers after"
fi

# A frame the program hands on but the worker's parser refuses: a UDP
# checksum that does not verify (the kernel's check on the socket path).
before=$(metric 9100 'ntsd_xdp_frames_refused_total.*reason="udp_checksum"')
out=$(in_ns cli python3 "$xclient" badsum "$SRV4" 123 --count 5 2>&1)
rc=$?
after=$(metric 9100 'ntsd_xdp_frames_refused_total.*reason="udp_checksum"')
if [ $rc -eq 0 ] && [ $((after - before)) -ge 5 ]; then
	ok "(f) bad UDP checksums: $out; refused and counted ($((after - before)))"
else
	not_ok "(f) bad UDP checksums: exit $rc: $out; udp_checksum refusals rose by $((after - before))"
fi

# --- (g) (h) fallbacks ----------------------------------------------------------

echo "xdp_test: (g) fallback to sockets"
line=$(grep -o 'ntp-xdp nosuch0: .*serving it on sockets' "$tmp/sock.log")
out=$(in_ns cli python3 "$xclient" plain "$SOCK4" 123 2>&1)
rc=$?
if [ -n "$line" ] && [ $rc -eq 0 ]; then
	ok "(g) sockets: '$line'; $out"
else
	not_ok "(g) sockets: log '${line:-}', exit $rc: $out"
	show "$tmp/sock.log"
fi

echo "xdp_test: (h) fallback to generic mode"
before=$(metric 9102 'ntsd_xdp_socket_events_total.*event="tx"')
out=$(in_ns cli python3 "$xclient" plain "$GEN4" 123 2>&1)
rc=$?
after=$(metric 9102 'ntsd_xdp_socket_events_total.*event="tx"')
mode=$(metrics 9102 | grep -o 'ntsd_xdp_queues{interface="mvl0",mode="[a-z]*"}')
if grep -qi 'native' "$tmp/generic.log" && [[ $mode == *generic* ]] && [ $rc -eq 0 ] &&
	[ $((after - before)) -ge 1 ]; then
	ok "(h) generic: $(grep -i -m1 'native' "$tmp/generic.log" | sed 's/^.*ntp-xdp/ntp-xdp/'); $mode; $out"
else
	not_ok "(h) generic: $mode, exit $rc, $((after - before)) replies through XDP: $out"
	show "$tmp/generic.log"
fi

# --- (i) receive timestamps agree ------------------------------------------------

echo "xdp_test: (i) receive timestamps, XDP path against socket path"
out=$(in_ns cli python3 "$xclient" offsets "$SRV4" 123 "$SOCK4" 123 --count 300 2>&1)
rc=$?
echo "$out" | show
diff_us=$(sed -n 's/^xdp-client: median offset difference \(-\?[0-9.]*\) us.*/\1/p' <<<"$out")
meta=$(metric 9100 'ntsd_xdp_socket_events_total.*event="rx_meta"')
if [ $rc -eq 0 ] && [ -n "$diff_us" ] && awk -v d="$diff_us" 'BEGIN { exit !(d < 50 && d > -50) }' &&
	[ "$meta" -gt 0 ]; then
	ok "(i) timestamps: median offset difference $diff_us us (< 50), $meta receive times from the program"
else
	not_ok "(i) timestamps: exit $rc, difference ${diff_us:-?} us, $meta receive times from the program"
fi

# --- (j) ntsctl stats shows the XDP families -------------------------------------

out=$(in_ns srv "$NTSCTL" stats 127.0.0.1:9100 2>&1)
rc=$?
rows=$(grep -E "^xdp_(queues|packets_total|socket_events_total) .*interface=$vsrv" <<<"$out")
if [ $rc -eq 0 ] && grep -q '^xdp_packets_total .*verdict=redirected' <<<"$rows" &&
	grep -q '^xdp_socket_events_total .*event=tx' <<<"$rows"; then
	ok "(j) ntsctl stats: $(wc -l <<<"$rows") xdp_ rows for $vsrv"
else
	not_ok "(j) ntsctl stats: exit $rc, no xdp_ rows for $vsrv"
	echo "$out" | show
fi

# --- (k) SIGKILL leaves the interface clean ---------------------------------------

echo "xdp_test: (k) SIGKILL"
xdp_on() { ip -n "${ns[srv]}" -d link show dev "$vsrv" | grep -q 'prog/xdp\|xdpgeneric\|xdpdrv\| xdp '; }
if ! xdp_on; then
	not_ok "(k) no XDP program on $vsrv while ntsd xdp runs"
	ip -n "${ns[srv]}" -d link show dev "$vsrv" | show
fi
if ! no_sanitizer_report "$tmp/xdp.log"; then
	not_ok "(k) ntsd xdp's log has a sanitizer report"
	grep -A20 -E 'Sanitizer|runtime error:' "$tmp/xdp.log" | head -n 40 | show
fi
kill -KILL "${ntsd_pid[xdp]}"
wait "${ntsd_pid[xdp]}" 2>/dev/null
ntsd_pid[xdp]=
if wait_for 50 eval '! xdp_on'; then
	ok "(k) after SIGKILL $vsrv has no XDP program"
else
	not_ok "(k) after SIGKILL $vsrv still has an XDP program"
	ip -n "${ns[srv]}" -d link show dev "$vsrv" | show
fi

# --- (l) clean stops ---------------------------------------------------------------

for n in sock generic; do
	ntsd_stop "$n"
	if [ "${ntsd_status[$n]:-}" = 0 ] && no_sanitizer_report "$tmp/$n.log"; then
		ok "(l) $n exits 0 on SIGTERM, no sanitizer report"
	else
		not_ok "(l) $n: exit status ${ntsd_status[$n]:-?}"
		tail -n 20 "$tmp/$n.log" | show
	fi
done
finish
