# shellcheck shell=bash
# netns.sh: network namespaces as hosts, for tests that need more than
# loopback.  Source it after lib.sh (it needs need_root, cannot_run and
# tmp_make's cleanup):
#	. "$srcdir/tests/integration/netns.sh"
#
#   netns_need                 root, ip and a kernel that makes namespaces
#                              (cannot_run otherwise)
#   netns_add NAME...          namespaces (lo up); the real name is in
#                              ns[NAME], unique to this run
#   netns_link A ADDR_A B ADDR_B
#                              a veth pair between ns A and ns B with these
#                              addresses (CIDR, IPv4 or IPv6); prints
#                              nothing; the interface in A is in
#                              ns_if[A:B], the one in B in ns_if[B:A]
#   netns_route NAME DEST VIA  a route in ns NAME
#   in_ns NAME COMMAND...      COMMAND inside ns NAME
#   netns_ntsd NTSD NAME       lib.sh's ntsd_start runs ntsd NTSD inside
#                              ns NAME (its PID is ntsd's own)
#
# Namespaces are removed on exit (after lib.sh has stopped the test's
# processes), with whatever still runs inside them killed first.
# shellcheck disable=SC2034

declare -A ns=() ns_if=()
ns_prefix="${test_name%_test}$$"
ns_seq=0

netns_need() {
	need_root "network namespaces"
	command -v ip >/dev/null 2>&1 || cannot_run "missing ip (apt-get install iproute2)"
	local probe="${ns_prefix}probe"
	ip netns add "$probe" 2>/dev/null || cannot_run "this kernel or container cannot make network namespaces (ip netns add failed)"
	ip netns del "$probe"
}

netns_add() {
	local n real
	for n in "$@"; do
		real="${ns_prefix}-$n"
		ip netns add "$real" || { not_ok "ip netns add $real"; finish; }
		ns[$n]=$real
		ip -n "$real" link set lo up
	done
}

in_ns() {
	local n=$1
	shift
	ip netns exec "${ns[$n]}" "$@"
}

netns_link() {
	local a=$1 addr_a=$2 b=$3 addr_b=$4 ia ib
	ns_seq=$((ns_seq + 1))
	# Interface names are at most 15 bytes; unique inside each namespace.
	ia="v${ns_seq}${b:0:8}"
	ib="v${ns_seq}${a:0:8}"
	ip link add "tmpa$$" type veth peer name "tmpb$$" || { not_ok "ip link add veth"; finish; }
	ip link set "tmpa$$" netns "${ns[$a]}" name "$ia"
	ip link set "tmpb$$" netns "${ns[$b]}" name "$ib"
	ip -n "${ns[$a]}" addr add "$addr_a" dev "$ia" nodad 2>/dev/null || ip -n "${ns[$a]}" addr add "$addr_a" dev "$ia"
	ip -n "${ns[$b]}" addr add "$addr_b" dev "$ib" nodad 2>/dev/null || ip -n "${ns[$b]}" addr add "$addr_b" dev "$ib"
	ip -n "${ns[$a]}" link set "$ia" up
	ip -n "${ns[$b]}" link set "$ib" up
	ns_if["$a:$b"]=$ia
	ns_if["$b:$a"]=$ib
}

# ip netns exec execs its command: ntsd_pid is ntsd's PID.
netns_ntsd() {
	ntsd_prefix[$1]="ip netns exec ${ns[$2]}"
}

netns_route() {
	ip -n "${ns[$1]}" route add "$2" via "$3"
}

netns_cleanup() {
	local n p
	for n in "${!ns[@]}"; do
		for p in $(ip netns pids "${ns[$n]}" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
		ip netns del "${ns[$n]}" 2>/dev/null
	done
	ns=()
}
