#!/bin/bash
# xdp_attach_test: ntsd's XDP program (ntpd/xdp_prog.c) on a veth inside a
# network namespace this test makes: native mode on veth, reported so;
# other traffic (ARP, UDP to other ports) still passes; a second loader on the same
# interface is refused; after SIGKILL the interface has no XDP program
# (the bpf_link dies with the process); an MTU native XDP cannot take
# falls back to generic mode with the reason in the log.  Needs root and
# iproute2 and python3: fails under CI=true without them, skips otherwise.
set -u
. "$srcdir/tests/integration/lib.sh"
. "$srcdir/tests/integration/netns.sh"

ATTACH=${ATTACH:-./tests/integration/xdp_attach}
need_programs ATTACH
need_tools "apt-get install python3" python3
netns_need
tmp_make
netns_add srv cli
netns_link srv 10.13.0.1/24 cli 10.13.0.2/24
dev=${ns_if[srv:cli]}
peer=${ns_if[cli:srv]}

link_show() { ip -n "${ns[srv]}" -d link show dev "$dev"; }
xdp_on() { link_show | grep -q 'prog/xdp'; }
xdp_off() { ! xdp_on; }

# attach NAME: the loader in ns srv on $dev, in the background, until it
# says it attached (or gives up); its PID in att_pid, its output in
# $tmp/NAME.log.
attach() {
	# Not through in_ns: $! must be the loader itself (ip netns exec execs it).
	ip netns exec "${ns[srv]}" "$ATTACH" "$dev" >"$tmp/$1.log" 2>&1 &
	att_pid=$!
	bg_pids+=("$att_pid")
	wait_for 100 grep -q '^attached ' "$tmp/$1.log"
}

# udp_through PORT: a datagram from ns cli reaches a socket on
# 10.13.0.1:PORT in ns srv.
udp_through() {
	local out=$tmp/udp$1.out
	rm -f "$out"
	in_ns srv python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.13.0.1", int(sys.argv[1])))
s.settimeout(10)
open(sys.argv[2] + ".ready", "w").close()
data, peer = s.recvfrom(100)
open(sys.argv[2], "wb").write(data)
' "$1" "$out" &
	local rx=$!
	wait_for 50 test -e "$out.ready" || return 1
	in_ns cli python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(20):
    s.sendto(b"through", ("10.13.0.1", int(sys.argv[1])))
    try:
        open(sys.argv[2])
        break
    except OSError:
        import time
        time.sleep(0.2)
' "$1" "$out"
	wait "$rx"
	grep -q through "$out" 2>/dev/null
}

# killed NAME: SIGKILL to the loader, reaped; the interface must be clean.
killed() {
	kill -KILL "$att_pid"
	wait "$att_pid" 2>/dev/null
	if wait_for 50 xdp_off; then
		ok "$1: no XDP program on $dev after SIGKILL"
	else
		not_ok "$1: an XDP program is still on $dev after SIGKILL"
		link_show | show
	fi
}

# --- native on veth --------------------------------------------------------
check "native: the loader starts" attach native
if grep -q '^attached native$' "$tmp/native.log"; then
	ok "native: attached in native mode on veth"
else
	not_ok "native: not in native mode"
	show "$tmp/native.log"
fi
check "native: ip link shows the program" xdp_on
if link_show | grep -q ' xdp '; then
	ok "native: ip link says driver mode (xdp)"
else
	not_ok "native: ip link does not say driver mode"
	link_show | show
fi
# What is not for a worker reaches the kernel: ARP, UDP to another port,
# and NTP itself while the queue has no AF_XDP socket.
check "native: ARP and UDP to another port pass" udp_through 9999
check "native: NTP with no socket on the queue goes to the kernel" udp_through 123

# --- a second loader -------------------------------------------------------
if in_ns srv "$ATTACH" "$dev" >"$tmp/second.log" 2>&1; then
	not_ok "second loader: attached over a running one"
else
	if grep -q 'attached through a bpf_link: another ntsd is serving this interface' "$tmp/second.log"; then
		ok "second loader: refused, saying another ntsd serves $dev"
	else
		not_ok "second loader: refused without the reason"
		show "$tmp/second.log"
	fi
fi
check "second loader: the first one's program stays" xdp_on
killed native

# --- generic when native cannot ---------------------------------------------
# veth takes native XDP only for frames that fit a page: a 9000-byte MTU
# on the peer makes the driver refuse (ERANGE).
ip -n "${ns[cli]}" link set "$peer" mtu 9000
ip -n "${ns[srv]}" link set "$dev" mtu 9000
check "generic: the loader starts" attach generic
if grep -q '^attached generic$' "$tmp/generic.log"; then
	ok "generic: attached in generic mode"
else
	not_ok "generic: not in generic mode"
	show "$tmp/generic.log"
fi
if grep -q "xdp: $dev: cannot attach in native mode (.*MTU is too large.*); trying generic mode" "$tmp/generic.log"; then
	ok "generic: the log says why native failed"
else
	not_ok "generic: no reason for the fallback in the log"
	show "$tmp/generic.log"
fi
check "generic: ip link shows the program" xdp_on
killed generic

finish
