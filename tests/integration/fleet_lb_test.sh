#!/usr/bin/env bash
# fleet_lb_test.sh: the fleet on real parts: ntsd hosts behind an L4 load
# balancer with health checks, network namespaces as hosts.
#
#   client 10.77.0.2 --- 10.77.0.1 [lb] 10.77.N.1 --- 10.77.N.2 hN  (N = 1..5)
#
# lb forwards (ip_forward in its namespace) and DNATs the virtual IP
# 10.77.255.1, UDP 123 and TCP 4460, over the healthy hosts by
# jhash(source address . source port) mod their number: an nftables map
# that tests/integration/lb-health-checker rewrites in one transaction
# from each host's /health (every 0.5 s, 0.4 s timeout, healthy after 2
# passes, unhealthy after 2 failures), as an NLB's target group does.
# The hosts route back through lb.  Each host runs NTP and NTS-KE with a
# certificate for the VIP, and its own copy of the fleet's key file
# (copied as doc/deployment.md says: a temporary file, then rename),
# key-file-create no, key-propagation 3s, key-max-age 7m.  The fleet's key
# file holds the keys of the rotations of the last 15 minutes.  Stock
# chrony on the client (chrony-client: chronyd -x without CAP_SYS_TIME)
# syncs to the VIP with nts from the first step to the end.
#
# Steps (a function step_NAME each, run in this order; FLEET_LB_STEPS
# names a subset, "sync" first):
#   sync          chrony's NTS-KE lands on one host, its NTS requests on
#                 the others too: authenticated sync on cookies another
#                 host sealed
#   kill_rejoin   SIGKILL the host that sealed chrony's cookies: the
#                 checker drops it within its interval, chrony stays
#                 synchronised on the same NTS-KE session, no host NAKs;
#                 restarted, it rejoins and serves again
#   scale_out     h4, started with a copy of the key file, joins and opens
#                 chrony's cookies (sealed by another host): no NAK
#   rotate        ntsctl keys rotate once, copied to every host, each loads
#                 it live; the new key seals after key-propagation; no NAK
#   missing_key   a host's key file is deleted: /health 503, drained;
#                 copied back, it rejoins
#   stale_key     h5 starts from an image whose key file is ten minutes
#                 behind: /health 503 (key-max-age), never in the map; its
#                 cookies NAK on the others (a direct probe shows it);
#                 given the current file, it joins
#   expired_cert  a host's certificate is replaced by an expired one:
#                 /health 503, drained; NTS-KE through the VIP still works;
#                 the good one back, it rejoins
#   haproxy       HAProxy on lb (tests/integration/haproxy.sh: mode tcp,
#                 send-proxy-v2, option httpchk GET /health on each host's
#                 metrics port) on a second VIP 10.77.255.2, TCP 4460, over
#                 h1 h2 h3, whose configs name their lb address in
#                 ke-proxy-protocol; UDP 123 to that VIP is DNATed like the
#                 first (no ke-ntp-server: clients send NTP where they did
#                 NTS-KE, as behind an NLB).  A second stock chrony syncs
#                 with NTS through it; client2 10.77.100.2 is allowed,
#                 rogue 10.77.200.2 is not (ke-allow): refused and logged
#                 under its own address; with client's sessions at
#                 ke-max-sessions-per-address on every host, its next is
#                 refused while client2's is not; a host killed is DOWN in
#                 HAProxy's show stat, and NTS-KE through it still works
# Then chrony-client checks more samples on the same NTS-KE session, and
# the hosts' NAK counts sum to 0 (but for stale_key's direct probe).
# Each step prints its evidence: the balancer's map and the checker's
# log, HAProxy's show stat once it runs, each host's /health and counters
# (NTS-KE responses, NTS replies, NAKs), chrony's sources, authdata and
# ntpdata.
# Needs root (namespaces), nft, curl, python3, chrony, haproxy.  Run by make check
# (srcdir set, binaries in the build dir); by hand:
#   cd BUILDDIR && srcdir=SRCDIR SRCDIR/tests/integration/fleet_lb_test.sh
# Exit 0 all passed, 1 a failure, 77 cannot run outside CI (CI=true: a
# failure).  FLEET_LB_TEST_KEEP=1 keeps the temp dir.
# Functions called through wait_for, check and the steps list look unused.
# shellcheck disable=SC2317
set -u

srcdir=${srcdir:-$(dirname "$0")/../..}
srcdir=$(cd "$srcdir" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$srcdir/tests/integration/lib.sh"
# shellcheck source-path=SCRIPTDIR source=netns.sh
. "$srcdir/tests/integration/netns.sh"
# shellcheck source-path=SCRIPTDIR source=haproxy.sh
. "$srcdir/tests/integration/haproxy.sh"

VIP=10.77.255.1
CLIENT_ADDR=10.77.0.2
LB_ADDR=10.77.0.1
# The haproxy step: a second virtual IP on lb, NTS-KE (TCP 4460) to
# HAProxy bound there, NTP (UDP 123) DNATed like the first; a second
# allowed client and a denied one, each on its own link to lb.
VIP2=10.77.255.2
CLIENT2_ADDR=10.77.100.2
ROGUE_ADDR=10.77.200.2
KE_CAP=2
METRICS_PORT=9123
PROPAGATION=3s
PROPAGATION_S=3
KEY_MAX_AGE=7m
RETAIN=8m
CHECK_INTERVAL=0.5
CHECK_TIMEOUT=0.4
HEALTHY_AFTER=2
UNHEALTHY_AFTER=2
# The longest a failed host may stay in the map: its failures, one
# interval of phase, the check's timeout, and a second of scheduling on a
# busy machine.
DRAIN_LIMIT=$(awk -v i=$CHECK_INTERVAL -v n=$UNHEALTHY_AFTER -v t=$CHECK_TIMEOUT \
	'BEGIN { print (n + 1) * i + t + 1 }')
POLL=-2
SAMPLES=8
STEPS=${FLEET_LB_STEPS:-sync kill_rejoin scale_out rotate missing_key stale_key expired_cert haproxy}

need_tools --sbin "apt-get install chrony util-linux iproute2 openssl nftables curl python3" \
	chronyd chronyc setpriv ss openssl nft curl python3
haproxy_need
netns_need
need_programs NTSD NTSCTL client make_certs
checker=$itest_dir/lb-health-checker
tmp_make
# chrony-client's --keep dir lies inside: chronyd's own user must reach it.
chmod 755 "$tmp"
table="fleet_lb$$"
hap_sock=$tmp/haproxy.sock
lb_log=$tmp/checker.log
targets=$tmp/targets
: >"$targets"
declare -A addr=() c_ke=() c_nts=() c_nak=() gone_ke=() gone_nts=() gone_nak=() \
	p_ke=() p_nts=() p_nak=()
hosts=()
# NAKs the stale_key step causes on purpose (a direct probe, not the VIP).
expected_naks=0
# The host that sealed chrony's cookies, and chrony's NTS-KE session.
ke_host=
keyid=

# --- certificates, the fleet's key file ---------------------------------------

# certs DIR ARG...: make-dev-certs DIR ARG..., or a failed case and finish.
certs() {
	local d=$1
	shift
	"$make_certs" "$tmp/$d" "$@" >>"$tmp/certs.log" 2>&1 && return 0
	show "$tmp/certs.log"
	not_ok "prerequisites: make-dev-certs $d $* failed"
	finish
}
certs certs --san "IP:$VIP" --san "IP:$VIP2"
mkdir -p "$tmp/expired"
cp "$tmp/certs/ca.pem" "$tmp/certs/ca.key" "$tmp/expired/"
certs expired --expired --san "IP:$VIP"

# The controller's copy (the one place that rotates): the keys of the
# rotations every 5 minutes of the last 15, the newest one sealing.  An
# image made ten minutes ago holds the first two only.
fleet_keys=$tmp/fleet/keys
image_keys=$tmp/image/keys
mkdir -p "$tmp/fleet" "$tmp/image"
now=$(date +%s)
key_line() { echo "key $1 $((now - $2)) 15 $(openssl rand -hex 32)"; }
{
	echo "# fleet_lb_test.sh: the fleet's key file"
	echo "ntsd-keys 1"
	key_line 000000a1 930
	key_line 000000a2 630
} >"$image_keys"
{
	cat "$image_keys"
	key_line 000000a3 330
	key_line 000000a4 30
} >"$fleet_keys"
chmod 600 "$fleet_keys" "$image_keys"

# copy_keys FILE HOST: FILE to HOST's key-file, the way doc/deployment.md
# says: a temporary file in the same directory (mode kept), then rename.
copy_keys() {
	cp -p "$1" "$tmp/$2/keys.tmp" && mv -f "$tmp/$2/keys.tmp" "$tmp/$2/keys"
}
# key_loads HOST: how many key sets HOST's log says it loaded.
key_loads() { grep -c ': loaded [0-9]* master keys' "$tmp/$1.log"; }
key_loads_above() { [ "$(key_loads "$1")" -gt "$2" ]; }

# --- the network: client, lb, hosts ------------------------------------------

netns_add client client2 rogue lb
netns_link client "$CLIENT_ADDR/24" lb "$LB_ADDR/24"
netns_link client2 "$CLIENT2_ADDR/24" lb 10.77.100.1/24
netns_link rogue "$ROGUE_ADDR/24" lb 10.77.200.1/24
netns_route client default "$LB_ADDR"
netns_route client2 default 10.77.100.1
netns_route rogue default 10.77.200.1
in_ns lb sysctl -qw net.ipv4.ip_forward=1
ip -n "${ns[lb]}" addr add "$VIP2/32" dev lo
# The data plane: the VIP's packets go to chain vip, which the checker
# fills with the DNAT over map backends.
if ! in_ns lb nft -f - <<EOF; then
table ip $table {
	map backends {
		typeof numgen inc mod 1 : ip daddr
	}
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr $VIP jump vip
		ip daddr $VIP2 udp dport 123 jump vip
	}
	chain vip {
	}
}
EOF
	not_ok "prerequisites: nft cannot make table ip $table in the lb namespace"
	finish
fi
in_ns lb python3 "$checker" --targets "$targets" --table "$table" --log "$lb_log" \
	--interval $CHECK_INTERVAL --timeout $CHECK_TIMEOUT \
	--healthy-threshold $HEALTHY_AFTER --unhealthy-threshold $UNHEALTHY_AFTER \
	>"$tmp/checker.out" 2>&1 &
bg_pids+=($!)

# The checker's log: lb_members is its last map line's hosts.
lb_members() {
	awk '$3 == "map:" { m = $0 } END { sub(/^[^ ]+ [^ ]+ map: /, "", m); sub(/ \(.*/, "", m)
		print m }' "$lb_log" 2>/dev/null
}
lb_has() { [[ " $(lb_members) " == *" $1 "* ]]; }
lb_lacks() { [ -s "$lb_log" ] && ! lb_has "$1"; }
lb_map_time() { awk '$3 == "map:" { t = $1 } END { print t }' "$lb_log"; }
# lb_went HOST STATE: the checker logged HOST becoming STATE.
lb_went() { grep -q " $1 [0-9.]*: [a-z]* -> $2 " "$lb_log"; }
lb_lines_since() { tail -n +"$(($1 + 1))" "$lb_log"; }
lb_nlines() { wc -l <"$lb_log"; }
lb_register() {
	{ cat "$targets"; echo "$1 ${addr[$1]} $METRICS_PORT"; } >"$targets.new" &&
		mv -f "$targets.new" "$targets"
}

# host_add N: namespace hN on its own link to lb, its certificate, a copy
# of KEYS (default the fleet's), its config; not started.
host_add() {
	local h=h$1 keys=${2:-$fleet_keys}
	netns_add "$h"
	netns_link lb "10.77.$1.1/24" "$h" "10.77.$1.2/24"
	netns_route "$h" default "10.77.$1.1"
	addr[$h]=10.77.$1.2
	mkdir -p "$tmp/$h/tls"
	cp -p "$tmp/certs/server.pem" "$tmp/certs/server.key" "$tmp/$h/tls/"
	copy_keys "$keys" "$h"
	ntsd_conf "$h" "# fleet host $h behind the load balancer" \
		"ntp-listen ${addr[$h]} 123" "ke-listen ${addr[$h]} 4460" \
		"metrics-listen ${addr[$h]} $METRICS_PORT" \
		"ke-certificate $tmp/$h/tls/server.pem" "ke-private-key $tmp/$h/tls/server.key" \
		"key-file $tmp/$h/keys" "key-file-create no" "key-propagation $PROPAGATION" \
		"key-max-age $KEY_MAX_AGE" "ke-proxy-protocol 10.77.$1.1/32" \
		"ke-allow 10.77.0.0/24" "ke-allow 10.77.100.0/24" \
		"ke-max-sessions-per-address $KE_CAP" "ke-timeout 10" "log-level debug"
	netns_ntsd "$h" "$h"
	gone_ke[$h]=0 gone_nts[$h]=0 gone_nak[$h]=0
	p_ke[$h]=0 p_nts[$h]=0 p_nak[$h]=0
	hosts+=("$h")
}
host_ready() {
	local s
	s=$(in_ns "$1" ss -Htuln)
	grep -q ":123 " <<<"$s" && grep -q ":4460 " <<<"$s" && grep -q ":$METRICS_PORT " <<<"$s"
}
# host_start HOST: ntsd in HOST's namespace (an earlier log kept as .log.N).
host_start() {
	local h=$1 n=1
	if [ -e "$tmp/$h.log" ]; then
		while [ -e "$tmp/$h.log.$n" ]; do n=$((n + 1)); done
		mv "$tmp/$h.log" "$tmp/$h.log.$n"
	fi
	if ntsd_start "$h" host_ready "$h"; then
		return 0
	fi
	show "$tmp/$h.log"
	return 1
}
host_running() { [ -n "${ntsd_pid[$1]:-}" ] && ! pid_gone "${ntsd_pid[$1]}"; }

# --- evidence: counters, /health, chrony ---------------------------------------

metric() { awk -v k="$2" '$1 == k { v = $2 } END { print v + 0 }' "$tmp/m.$1"; }
# counters: every host's NTS-KE responses, NTS replies and NAKs, summed
# over its runs (a killed host's last scrape is kept in gone_*).
counters() {
	local h
	for h in "${hosts[@]}"; do
		: >"$tmp/m.$h"
		host_running "$h" &&
			in_ns lb curl -s --max-time 2 "http://${addr[$h]}:$METRICS_PORT/metrics" \
				>"$tmp/m.$h" 2>/dev/null
		c_ke[$h]=$((gone_ke[$h] + $(metric "$h" 'ntsd_ke_events_total{event="responses"}')))
		c_nts[$h]=$((gone_nts[$h] + $(metric "$h" 'ntsd_ntp_replies_total{protocol="nts"}')))
		c_nak[$h]=$((gone_nak[$h] + $(metric "$h" ntsd_ntp_naks_total)))
	done
}
nak_total() {
	local h t=0
	for h in "${hosts[@]}"; do t=$((t + c_nak[$h])); done
	echo "$t"
}
health_of() {
	host_running "$1" || { echo "(not running)"; return; }
	local out
	out=$(in_ns lb curl -s --max-time 1 -w '\n%{http_code}' \
		"http://${addr[$1]}:$METRICS_PORT/health" 2>/dev/null) || { echo "(no answer)"; return; }
	echo "[${out##*$'\n'}] $(head -n 1 <<<"$out")"
}
cc() { timeout 5 chronyc -n -h "$tmp/chrony/chronyd.sock" "$@" 2>&1; }
# chrony_read: chrony's KeyID, NAK flag, good samples and Authenticated.
ch_keyid='' ch_nak='' ch_good=0 ch_auth=''
chrony_read() {
	read -r ch_keyid ch_nak < <(cc authdata | awk 'f && NF >= 10 { print $3, $8; exit }
		/^=+$/ { f = 1 }')
	local nd
	nd=$(cc ntpdata)
	ch_good=$(awk -F' *: *' '$1 == "Total good RX" { print $2 + 0 }' <<<"$nd")
	ch_auth=$(awk -F' *: *' '$1 == "Authenticated" { print $2 }' <<<"$nd")
	ch_good=${ch_good:-0}
}
chrony_samples_above() { chrony_read; [ "$ch_good" -ge "$1" ]; }
# chrony_more N: N more good samples (up to 30 s).
chrony_more() {
	chrony_read
	wait_for 300 chrony_samples_above $((ch_good + $1))
}
show_chrony() {
	echo "  chronyc sources:"
	cc sources | show
	echo "  chronyc authdata:"
	cc authdata | show
	echo "  chronyc ntpdata:"
	cc ntpdata | grep -E '^(Remote address|Stratum|Offset|Authenticated|Total (TX|RX|valid RX|good RX)) ' | show
}
# show_fleet TITLE: the balancer's view, each host's /health and counters
# (with the change since the last show_fleet), chrony's view.
show_fleet() {
	local h
	counters
	echo "fleet_lb: --- $1 ---"
	echo "  balancer: map $(lb_members); nft:"
	{ in_ns lb nft list map ip "$table" backends | grep -E 'elements'
	  in_ns lb nft list chain ip "$table" vip | grep -E 'dnat|reject'; } | sed 's/^\s*//' | show
	if [ -S "$hap_sock" ]; then
		echo "  HAProxy (NTS-KE on $VIP2), show stat:"
		haproxy_show "$hap_sock" ntsd_ke
	fi
	printf '  %-3s %-10s %-9s %-10s %-8s %s\n' host address NTS-KE "NTS reply" NAKs /health
	for h in "${hosts[@]}"; do
		printf '  %-3s %-10s %-9s %-10s %-8s %s\n' "$h" "${addr[$h]}" \
			"${c_ke[$h]}(+$((c_ke[$h] - p_ke[$h])))" \
			"${c_nts[$h]}(+$((c_nts[$h] - p_nts[$h])))" \
			"${c_nak[$h]}(+$((c_nak[$h] - p_nak[$h])))" "$(health_of "$h")"
		p_ke[$h]=${c_ke[$h]} p_nts[$h]=${c_nts[$h]} p_nak[$h]=${c_nak[$h]}
	done
	show_chrony
}
# check_chrony LABEL: same NTS-KE session, no NAK flag, authenticated.
check_chrony() {
	chrony_read
	if [ "$ch_keyid" = "$keyid" ] && [ "$ch_nak" = 0 ] && [ "$ch_auth" = Yes ]; then
		ok "$1: chrony: same NTS-KE session (KeyID $ch_keyid), NAK 0, Authenticated: Yes, $ch_good good samples"
	else
		not_ok "$1: chrony: KeyID '$ch_keyid' (want $keyid), NAK '$ch_nak', Authenticated '$ch_auth'"
	fi
}
# check_naks LABEL: the hosts' NAKs sum to those caused on purpose.
check_naks() {
	local t
	counters
	t=$(nak_total)
	if [ "$t" -eq "$expected_naks" ]; then
		ok "$1: NAKs summed over every host: $t ($expected_naks of them stale_key's direct probe, on purpose)"
	else
		not_ok "$1: NAKs summed over every host: $t, want $expected_naks"
		for h in "${hosts[@]}"; do grep -i 'nak' "$tmp/$h.log" | tail -n 3 | show; done
	fi
}
# drained HOST LABEL SINCE: the checker took HOST out of the map within
# DRAIN_LIMIT seconds of SINCE (epoch); shows the checker's lines.
drained() {
	local h=$1 label=$2 since=$3 from=$4 t el
	if ! wait_for 100 lb_lacks "$h"; then
		not_ok "$label: $h still in the map 10 s later: $(lb_members)"
		lb_lines_since "$from" | show
		return 1
	fi
	t=$(lb_map_time)
	el=$(awk -v a="$since" -v b="$t" 'BEGIN { printf "%.2f", b - a }')
	lb_lines_since "$from" | show
	if awk -v e="$el" -v m="$DRAIN_LIMIT" 'BEGIN { exit !(e >= 0 && e <= m) }'; then
		ok "$label: the checker took $h out of the map ${el} s later (limit $DRAIN_LIMIT s: $UNHEALTHY_AFTER failures ${CHECK_INTERVAL} s apart); map now $(lb_members)"
	else
		not_ok "$label: the checker took $h out only ${el} s later (limit $DRAIN_LIMIT s)"
	fi
}
# rejoined HOST LABEL: back in the map, and serving chrony again.
nts_above() { counters; [ "${c_nts[$1]}" -gt "$2" ]; }
rejoined() {
	local h=$1 label=$2 from=$3 n
	if ! wait_for 100 lb_has "$h"; then
		not_ok "$label: $h not in the map: $(lb_members)"
		return 1
	fi
	lb_lines_since "$from" | show
	counters
	n=${c_nts[$h]}
	if wait_for 300 nts_above "$h" "$n"; then
		ok "$label: $h is in the map ($(lb_members)) and answers chrony (NTS replies ${n} -> ${c_nts[$h]}, NAKs ${c_nak[$h]})"
	else
		not_ok "$label: $h is in the map but answered no NTS request in 30 s"
	fi
}
# probe ARG...: ntsctl probe from the client, trusting the dev CA for the VIP.
probe() { in_ns client "$NTSCTL" probe "$@" --ca "$tmp/certs/ca.pem" --name "$VIP"; }

# --- the fleet: three hosts, registered with the checker ------------------------

for n in 1 2 3; do
	host_add "$n"
	if ! host_start "h$n"; then
		not_ok "ntsd starts in namespace h$n"
		finish
	fi
	lb_register "h$n"
done
all_in() { lb_has h1 && lb_has h2 && lb_has h3; }
if wait_for 100 all_in; then
	ok "three hosts started with copies of the fleet's key file, all healthy: map $(lb_members)"
else
	not_ok "the checker did not put h1 h2 h3 in the map: $(lb_members)"
	show "$lb_log"
	finish
fi
"$NTSCTL" keys list "$fleet_keys" --propagation "$PROPAGATION" | show

# chrony for the whole test: phase 1 is the sync step, the steps run
# while chrony-client's --then command waits for $tmp/steps-done.
printf '#!/bin/sh\n# fleet_lb_test.sh steps run meanwhile\nwhile [ ! -e %s ]; do sleep 0.2; done\n' \
	"$tmp/steps-done" >"$tmp/wait-steps"
chmod 755 "$tmp/wait-steps"
in_ns client "$client" --server "$VIP" --ca "$tmp/certs/ca.pem" --name vip \
	--samples "$SAMPLES" --poll "$POLL" --timeout 300 --keep "$tmp/chrony" \
	--then "$tmp/wait-steps" >"$tmp/chrony.out" 2>&1 &
chrony_pid=$!
bg_pids+=("$chrony_pid")
cleanup_hook() { touch "$tmp/steps-done" 2>/dev/null; }

# --- the steps -------------------------------------------------------------------

step_sync() {
	local h nts_hosts=() other=no
	if ! wait_for 600 grep -q 'phase 1 ok' "$tmp/chrony.out"; then
		not_ok "sync: chrony did not reach NTS-authenticated sync through $VIP in 60 s"
		show "$tmp/chrony.out"
		finish
	fi
	grep -E '^chrony-client\[[^]]*\]: (chronyd pid|phase 1 ok)' "$tmp/chrony.out" | show
	show_fleet "sync: chrony through $VIP"
	chrony_read
	keyid=$ch_keyid
	for h in "${hosts[@]}"; do
		[ "${c_ke[$h]}" -eq 1 ] && ke_host=$h
		if [ "${c_nts[$h]}" -gt 0 ]; then
			nts_hosts+=("$h")
			[ "$h" = "$ke_host" ] || other=yes
		fi
	done
	local ke_sum=$((c_ke[h1] + c_ke[h2] + c_ke[h3]))
	if [ "$ke_sum" -eq 1 ] && [ -n "$ke_host" ] && [ "$keyid" = 1 ]; then
		ok "sync: chrony's one NTS-KE (KeyID 1) landed on $ke_host"
	else
		not_ok "sync: NTS-KE responses summed $ke_sum (want 1), chrony KeyID '$keyid'"
		finish
	fi
	if [ "${#nts_hosts[@]}" -ge 2 ] && [ $other = yes ]; then
		ok "sync: chrony's NTS requests answered by ${nts_hosts[*]}: cookies $ke_host sealed open on other hosts"
	else
		not_ok "sync: NTS replies only from ${nts_hosts[*]:-none} (want the KE host and another)"
	fi
	check_chrony sync
	check_naks sync
}

# host_kill HOST: SIGKILL, its counters so far kept in gone_*.
host_kill() {
	local h=$1
	counters
	gone_ke[$h]=${c_ke[$h]} gone_nts[$h]=${c_nts[$h]} gone_nak[$h]=${c_nak[$h]}
	kill -KILL "${ntsd_pid[$h]}"
	wait "${ntsd_pid[$h]}" 2>/dev/null
	ntsd_pid[$h]=
}

step_kill_rejoin() {
	local h=${ke_host:-h1} from t0
	from=$(lb_nlines)
	t0=$(date +%s.%N)
	host_kill "$h"
	echo "fleet_lb: kill_rejoin: SIGKILL to $h (it sealed chrony's cookies) at $(date -d "@$t0" +%T.%N | cut -c1-12)"
	drained "$h" "kill_rejoin: $h killed" "$t0" "$from"
	chrony_more 8
	show_fleet "kill_rejoin: $h dead"
	check_chrony "kill_rejoin: $h dead, 8 more samples"
	check_naks "kill_rejoin: $h dead"
	from=$(lb_nlines)
	if host_start "$h"; then
		ok "kill_rejoin: $h restarted with the same config and key file"
	else
		not_ok "kill_rejoin: $h does not restart"
		return
	fi
	rejoined "$h" "kill_rejoin: $h restarted" "$from"
	show_fleet "kill_rejoin: $h back"
	check_chrony "kill_rejoin: $h back"
	check_naks "kill_rejoin: $h back"
}

step_scale_out() {
	local from n0 h4_before
	host_add 4
	if ! host_start h4; then
		not_ok "scale_out: h4 does not start"
		return
	fi
	from=$(lb_nlines)
	lb_register h4
	counters
	h4_before=${c_nts[h4]}
	rejoined h4 "scale_out: h4 registered" "$from"
	chrony_more 8
	show_fleet "scale_out: h4 added"
	n0=${c_nts[h4]}
	if [ "$n0" -gt "$h4_before" ] && [ "${c_nak[h4]}" -eq 0 ] && [ "${c_ke[h4]}" -eq 0 ]; then
		ok "scale_out: h4 answered $n0 of chrony's NTS requests, 0 NAKs, with cookies ${ke_host:-?} sealed (h4 did no NTS-KE)"
	else
		not_ok "scale_out: h4: $n0 NTS replies, ${c_nak[h4]} NAKs, ${c_ke[h4]} NTS-KE"
	fi
	probe "${addr[${ke_host:-h1}]}" --ntp-server "${addr[h4]}" --count 3 --interval 100 \
		>"$tmp/probe.out" 2>&1
	n0=$?
	show "$tmp/probe.out"
	if [ $n0 -eq 0 ]; then
		ok "scale_out: ntsctl probe: NTS-KE at ${ke_host:-h1}, 3 authenticated exchanges with h4"
	else
		not_ok "scale_out: probe NTS-KE at ${ke_host:-h1}, NTP at h4: exit $n0"
	fi
	check_chrony scale_out
	check_naks scale_out
}

# The hosts that run: the fleet's copies go to them.
running_hosts() {
	local h
	for h in "${hosts[@]}"; do host_running "$h" && echo "$h"; done
}

step_rotate() {
	local h rc new loads=() i=0 ok_all=yes
	"$NTSCTL" keys rotate "$fleet_keys" --propagation "$PROPAGATION" --retain "$RETAIN" \
		>"$tmp/rotate.out" 2>&1
	rc=$?
	show "$tmp/rotate.out"
	new=$(sed -n 's/.*: added key \([0-9a-f]*\);.*/\1/p' "$tmp/rotate.out")
	if [ $rc -eq 0 ] && [ -n "$new" ]; then
		ok "rotate: ntsctl keys rotate added key $new"
	else
		not_ok "rotate: ntsctl keys rotate: exit $rc"
		return
	fi
	mapfile -t run < <(running_hosts)
	for h in "${run[@]}"; do loads+=("$(key_loads "$h")"); done
	for h in "${run[@]}"; do copy_keys "$fleet_keys" "$h" || ok_all=no; done
	for h in "${run[@]}"; do
		if ! wait_for 50 key_loads_above "$h" "${loads[i]}"; then
			ok_all=no
			echo "  $h did not load the new file"
		fi
		i=$((i + 1))
	done
	for h in "${run[@]}"; do tail -n 1 "$tmp/$h.log" | show; done
	if [ $ok_all = yes ]; then
		ok "rotate: copied to ${run[*]}; each loaded it live (no restart, no SIGHUP)"
	else
		not_ok "rotate: not every host loaded the rotated file"
	fi
	# The new key seals once key-propagation has passed.
	sleep $((PROPAGATION_S + 1))
	"$NTSCTL" keys list "$fleet_keys" --propagation "$PROPAGATION" | show
	probe "$VIP" --count 2 --interval 100 >"$tmp/probe.out" 2>&1
	rc=$?
	show "$tmp/probe.out"
	if [ $rc -eq 0 ] && grep -q "(master key $new)\$" "$tmp/probe.out"; then
		ok "rotate: $PROPAGATION later, NTS-KE through $VIP seals cookies under the new key $new"
	else
		not_ok "rotate: probe through $VIP: exit $rc, cookies not under $new"
	fi
	# chrony's cookies turn over to the new key on every host.
	chrony_more 12
	show_fleet "rotate: key $new in service"
	check_chrony rotate
	check_naks "rotate: cookies under the retained keys, then the new one"
}

# A host other than the KE host and h4, to break.
victim() {
	local h
	for h in h1 h2 h3; do
		[ "$h" != "$ke_host" ] && [ "$h" != "${1:-}" ] && { echo "$h"; return; }
	done
}

step_missing_key() {
	local h from t0
	h=$(victim)
	from=$(lb_nlines)
	t0=$(date +%s.%N)
	rm -f "$tmp/$h/keys"
	echo "fleet_lb: missing_key: deleted $h's key file"
	drained "$h" "missing_key: $h's key file deleted" "$t0" "$from"
	if grep -q " $h .*-> unhealthy (.*key file missing or invalid" "$lb_log"; then
		ok "missing_key: the checker saw /health 503: key file missing or invalid"
	else
		not_ok "missing_key: the checker logged no 'key file missing' for $h"
	fi
	chrony_more 6
	show_fleet "missing_key: $h drained"
	check_chrony missing_key
	check_naks "missing_key: $h drained"
	from=$(lb_nlines)
	copy_keys "$fleet_keys" "$h"
	rejoined "$h" "missing_key: the key file copied back to $h" "$from"
}

step_stale_key() {
	local from rc before
	host_add 5 "$image_keys"
	if ! host_start h5; then
		not_ok "stale_key: h5 does not start"
		return
	fi
	echo "fleet_lb: stale_key: h5 from an image ten minutes old: its key file"
	"$NTSCTL" keys list "$tmp/h5/keys" --propagation "$PROPAGATION" | show
	echo "  the fleet's:"
	"$NTSCTL" keys list "$fleet_keys" --propagation "$PROPAGATION" | show
	from=$(lb_nlines)
	lb_register h5
	if wait_for 100 lb_went h5 unhealthy; then
		lb_lines_since "$from" | show
	fi
	if grep -q " h5 .*initial -> unhealthy (.*key file stale" "$lb_log" && lb_lacks h5; then
		ok "stale_key: h5's /health says its key file is stale; the checker keeps it out of the map ($(lb_members))"
	else
		not_ok "stale_key: h5 not held out as stale; map $(lb_members)"
	fi
	chrony_more 8
	show_fleet "stale_key: h5 registered, unhealthy"
	if [ "${c_nts[h5]}" -eq 0 ] && lb_lacks h5; then
		ok "stale_key: no VIP traffic reached h5 (0 NTS replies) over 8 chrony samples"
	else
		not_ok "stale_key: h5 answered ${c_nts[h5]} NTS requests, map $(lb_members)"
	fi
	# What it would have done: cookies under a key the fleet pruned.
	counters
	before=$(nak_total)
	probe "${addr[h5]}" --ntp-server "${addr[h1]}" --count 2 --interval 100 \
		>"$tmp/probe.out" 2>&1
	rc=$?
	show "$tmp/probe.out"
	counters
	expected_naks=$((expected_naks + $(nak_total) - before))
	if [ $rc -ne 0 ] && grep -q 'master key 000000a2' "$tmp/probe.out" &&
		grep -q 'FAILED: NTS NAK' "$tmp/probe.out"; then
		ok "stale_key: directly, h5 seals cookies under 000000a2, which the fleet pruned: h1 NAKs them ($((expected_naks)) NAKs on purpose)"
	else
		not_ok "stale_key: direct probe h5 -> h1: exit $rc, want NAKs for key 000000a2"
	fi
	check_chrony stale_key
	check_naks "stale_key: h5 kept out"
	from=$(lb_nlines)
	copy_keys "$fleet_keys" h5
	rejoined h5 "stale_key: the fleet's current file copied to h5" "$from"
	chrony_more 6
	check_naks "stale_key: h5 serving with the current keys"
}

step_expired_cert() {
	local h from t0 rc i fails=0
	h=$(victim "$(victim)")
	from=$(lb_nlines)
	t0=$(date +%s.%N)
	cp -p "$tmp/expired/server.key" "$tmp/$h/tls/server.key.tmp"
	cp -p "$tmp/expired/server.pem" "$tmp/$h/tls/server.pem.tmp"
	mv -f "$tmp/$h/tls/server.key.tmp" "$tmp/$h/tls/server.key"
	mv -f "$tmp/$h/tls/server.pem.tmp" "$tmp/$h/tls/server.pem"
	echo "fleet_lb: expired_cert: $h's certificate replaced by one that expired yesterday"
	drained "$h" "expired_cert: $h's certificate expired" "$t0" "$from"
	if grep -q " $h .*-> unhealthy (.*certificate expired" "$lb_log"; then
		ok "expired_cert: the checker saw /health 503: certificate expired"
	else
		not_ok "expired_cert: the checker logged no 'certificate expired' for $h"
	fi
	grep 'certificate' "$tmp/$h.log" | tail -n 2 | show
	for i in 1 2 3 4; do
		probe "$VIP" --count 1 >"$tmp/probe.out" 2>&1 || fails=$((fails + 1))
	done
	if [ $fails -eq 0 ]; then
		ok "expired_cert: 4 NTS-KE sessions through $VIP, all completed (none reached $h)"
	else
		not_ok "expired_cert: $fails of 4 NTS-KE sessions through $VIP failed"
		show "$tmp/probe.out"
	fi
	chrony_more 6
	show_fleet "expired_cert: $h drained"
	check_chrony expired_cert
	check_naks "expired_cert: $h drained"
	from=$(lb_nlines)
	cp -p "$tmp/certs/server.key" "$tmp/$h/tls/server.key.tmp"
	cp -p "$tmp/certs/server.pem" "$tmp/$h/tls/server.pem.tmp"
	mv -f "$tmp/$h/tls/server.key.tmp" "$tmp/$h/tls/server.key"
	mv -f "$tmp/$h/tls/server.pem.tmp" "$tmp/$h/tls/server.pem"
	rejoined "$h" "expired_cert: the good certificate back on $h" "$from"
}

# --- the haproxy step: NTS-KE through HAProxy with PROXY v2 ---------------------

# ke_sum EVENT: ntsd_ke_events_total{event="EVENT"} summed over the hosts
# that run (scraped by counters).
ke_sum() {
	local h t=0
	counters
	for h in "${hosts[@]}"; do
		t=$((t + $(metric "$h" "ntsd_ke_events_total{event=\"$1\"}")))
	done
	echo "$t"
}
ke_sum_above() { [ "$(ke_sum "$1")" -gt "$2" ]; }
# hosts_log PATTERN: the hosts' logs have a line matching PATTERN (ERE);
# the last one shown.
hosts_log() {
	local f=("$tmp"/h[0-9].log)
	grep -hE "$1" "${f[@]}" | tail -n 1 | show
	grep -qhE "$1" "${f[@]}"
}
hap_up() { [ "$(haproxy_status "$hap_sock" ntsd_ke "$1")" = UP ]; }
hap_down() { [ "$(haproxy_status "$hap_sock" ntsd_ke "$1")" = DOWN ]; }
hap_all_up() { hap_up h1 && hap_up h2 && hap_up h3; }
show_haproxy() {
	echo "fleet_lb: --- $1: HAProxy's view (show stat) ---"
	haproxy_show "$hap_sock" ntsd_ke
}
# hap_probe NS [COUNT]: ntsctl probe from NS, NTS-KE through HAProxy on
# VIP2, NTP to VIP2 (no ke-ntp-server: the KE's own address); output in
# $tmp/hprobe.out.
hap_probe() {
	in_ns "$1" "$NTSCTL" probe "$VIP2" --ca "$tmp/certs/ca.pem" --name "$VIP2" \
		--count "${2:-2}" --interval 100 >"$tmp/hprobe.out" 2>&1
}

# hap_start: HAProxy on lb, VIP2:4460, over h1 h2 h3; 0 once all are UP.
hap_start() {
	local h srv=()
	for h in h1 h2 h3; do srv+=("$h ${addr[$h]}:4460 $METRICS_PORT"); done
	haproxy_conf "$tmp/haproxy.cfg" "$hap_sock" "$VIP2:4460" "${srv[@]}"
	if ! haproxy_start haproxy "$tmp/haproxy.cfg" in_ns lb; then
		not_ok "haproxy: haproxy -db starts on lb"
		return 1
	fi
	if wait_for 100 hap_all_up; then
		ok "haproxy: HAProxy on lb ($VIP2:4460, send-proxy-v2) has h1 h2 h3 UP by GET /health"
	else
		not_ok "haproxy: not every server UP in HAProxy"
		show_haproxy "haproxy: start"
		return 1
	fi
	show_haproxy "haproxy: started"
}

# hap_chrony: a second stock chrony, on client, through VIP2.
hap_chrony() {
	local rc
	in_ns client "$client" --server "$VIP2" --ca "$tmp/certs/ca.pem" --name haproxy \
		--samples 4 --poll "$POLL" --timeout 60 >"$tmp/chrony2.out" 2>&1
	rc=$?
	grep -E '^(chrony-client|Remote address|Authenticated|Total good RX|NTS-KE|^\^)' \
		"$tmp/chrony2.out" | show
	client_passed "$tmp/chrony2.out" $rc "" "haproxy: chrony, NTS-KE via HAProxy on $VIP2"
	if grep -Eq "^Remote address +: $VIP2 " "$tmp/chrony2.out" &&
		grep -Eq '^Authenticated +: Yes' "$tmp/chrony2.out"; then
		ok "haproxy: chrony's NTP went to $VIP2 (the nft DNAT): Authenticated: Yes"
	else
		not_ok "haproxy: chrony's ntpdata shows no authenticated samples from $VIP2"
	fi
	check "haproxy: a host logged chrony's NTS-KE with the client's own address, via HAProxy" \
		hosts_log "^.*$CLIENT_ADDR:[0-9]+: NTS-KE via 10\.77\.[123]\.1:[0-9]+ \(PROXY v2 PROXY\)"
}

# hap_access: the denied client refused by its own address; the cap per
# address counts the real client, not HAProxy.
hap_access() {
	local n holder h each
	local -A before=()
	n=$(ke_sum refused_denied)
	if hap_probe rogue 0; then
		not_ok "haproxy: $ROGUE_ADDR (not in ke-allow) is refused through HAProxy"
	else
		ok "haproxy: $ROGUE_ADDR (not in ke-allow) is refused through HAProxy"
	fi
	check "haproxy: refused_denied counts it" ke_sum_above refused_denied "$n"
	check "haproxy: logged with the client's own address" \
		hosts_log "${ROGUE_ADDR//./\\.}:[0-9]+: NTS-KE denied by ke-allow"
	# Six idle connections from client: round robin gives each host two,
	# the cap; client's seventh is refused, client2 still gets in.
	n=$(ke_sum proxy_header)
	for h in h1 h2 h3; do before[$h]=$(metric "$h" 'ntsd_ke_events_total{event="proxy_header"}'); done
	ip netns exec "${ns[client]}" bash -c 'for fd in 3 4 5 6 7 8; do
		eval "exec $fd<>/dev/tcp/$1/4460"; done; exec sleep 20' _ "$VIP2" &
	holder=$!
	bg_pids+=("$holder")
	wait_for 50 ke_sum_above proxy_header $((n + 5))
	each=
	for h in h1 h2 h3; do
		each+=" $h +$(($(metric "$h" 'ntsd_ke_events_total{event="proxy_header"}') - before[$h]))"
	done
	if [ "$each" = " h1 +$KE_CAP h2 +$KE_CAP h3 +$KE_CAP" ]; then
		ok "haproxy: six idle connections of $CLIENT_ADDR, PROXY headers per host:$each: $KE_CAP sessions each, the cap"
	else
		not_ok "haproxy: six idle connections of $CLIENT_ADDR, PROXY headers per host:$each (want +$KE_CAP each)"
	fi
	n=$(ke_sum refused_per_address)
	if hap_probe client 0; then
		not_ok "haproxy: $CLIENT_ADDR's seventh connection is refused (cap $KE_CAP per address)"
	else
		ok "haproxy: $CLIENT_ADDR's seventh connection is refused (cap $KE_CAP per address)"
	fi
	check "haproxy: refused_per_address counts it" ke_sum_above refused_per_address "$n"
	check "haproxy: logged with the client's own address" \
		hosts_log "${CLIENT_ADDR//./\\.}:[0-9]+: NTS-KE refused: $KE_CAP sessions open from this address"
	if hap_probe client2; then
		ok "haproxy: meanwhile $CLIENT2_ADDR gets in through the same HAProxy"
	else
		not_ok "haproxy: $CLIENT2_ADDR refused while $CLIENT_ADDR is at its cap"
		show "$tmp/hprobe.out"
	fi
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
}

# hap_kill: a host killed, HAProxy marks it DOWN; NTS-KE still works.
hap_kill() {
	local h=$1 i fails=0 from
	from=$(lb_nlines)
	host_kill "$h"
	echo "fleet_lb: haproxy: SIGKILL to $h"
	if wait_for 100 hap_down "$h"; then
		ok "haproxy: HAProxy marks $h DOWN"
	else
		not_ok "haproxy: HAProxy does not mark $h DOWN: $(haproxy_status "$hap_sock" ntsd_ke "$h")"
	fi
	wait_for 100 lb_lacks "$h"
	show_haproxy "haproxy: $h killed"
	for i in 1 2 3 4; do hap_probe client 1 || fails=$((fails + 1)); done
	if [ $fails -eq 0 ]; then
		ok "haproxy: 4 NTS-KE sessions through HAProxy with $h down, all completed"
	else
		not_ok "haproxy: $fails of 4 NTS-KE sessions through HAProxy failed with $h down"
		show "$tmp/hprobe.out"
	fi
	if host_start "$h" && wait_for 100 hap_up "$h"; then
		ok "haproxy: $h restarted, HAProxy has it UP again"
	else
		not_ok "haproxy: $h restarted but not UP in HAProxy"
	fi
	rejoined "$h" "haproxy: $h restarted" "$from"
}

step_haproxy() {
	hap_start || return
	if hap_probe client; then
		ok "haproxy: ntsctl probe from $CLIENT_ADDR: NTS-KE through HAProxy, NTS exchanges via $VIP2"
	else
		not_ok "haproxy: ntsctl probe through HAProxy failed"
	fi
	show "$tmp/hprobe.out"
	hap_chrony
	hap_access
	hap_kill "$(victim)"
	show_haproxy "haproxy: end"
	show_fleet "haproxy: end"
	check_chrony haproxy
	check_naks haproxy
}

start_s=$SECONDS
for s in $STEPS; do
	echo "fleet_lb: === step $s ($((SECONDS - start_s)) s) ==="
	"step_$s"
done

# --- chrony's verdict, the hosts' logs ------------------------------------------------

touch "$tmp/steps-done"
wait "$chrony_pid"
crc=$?
bg_pids=("${bg_pids[@]/$chrony_pid/}")
echo "fleet_lb: chrony-client ($((SECONDS - start_s)) s of steps):"
show "$tmp/chrony.out"
client_passed "$tmp/chrony.out" $crc "on the same NTS-KE session (KeyID 1)" \
	"chrony through every step"
check_naks "end"
echo "fleet_lb: the checker's log:"
show "$lb_log"
bg_stop
for h in "${hosts[@]}"; do
	host_running "$h" || continue
	ntsd_stop "$h"
	if [ "${ntsd_status[$h]}" = 0 ] && no_sanitizer_report "$tmp/$h.log"; then
		ok "$h exited 0: $(sed -n 's/.*totals: //p' "$tmp/$h.log")"
	else
		not_ok "$h: exit ${ntsd_status[$h]}, or a sanitizer report:"
		show "$tmp/$h.log"
	fi
done
finish
