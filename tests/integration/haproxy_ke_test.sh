#!/usr/bin/env bash
# haproxy_ke_test.sh: ntsd's NTS-KE behind Debian's HAProxy with PROXY
# protocol v2 (issue 14 part 2), in network namespaces as hosts:
#
#   c1 10.44.1.2 (allowed) --\
#   c2 10.44.2.2 (allowed) ---- lb (HAProxy, mode tcp, send-proxy-v2,
#   c3 10.44.5.2 (denied)  --/       httpchk GET /health)
#                                     10.44.3.1 -- ntsd 10.44.3.2
#
# ntsd has `ke-proxy-protocol 10.44.3.1/32`, ke-allow for c1's and c2's
# networks only, and `ke-max-sessions-per-address 2`; lb routes, so the
# clients' NTP exchanges go straight to ntsd.  Shown, with the evidence
# printed:
#   (a) HAProxy's own view (its stats socket: show stat, show servers
#       state): the server UP through its health check on ntsd's /health
#   (b) c1 completes NTS-KE through HAProxy (ntsctl probe: cookies from
#       the KE, then authenticated NTP exchanges with them); ntsd's log
#       names c1's address (not HAProxy's) and proxy_header counts it
#   (c) c3, denied by ke-allow, is refused, logged with its own address
#   (d) the per-address cap counts the real client: with two sessions of
#       c1 held open, c1's third is refused (refused_per_address) while
#       c2 still gets in
#   (e) c2 connecting to ntsd directly with a PROXY header (naming c1 as
#       the client) is refused: proxy_refused_unexpected
#   (f) the listed balancer connecting without a header is refused:
#       proxy_refused_bad_signature
#   (g) ke-proxy-protocol reloads on SIGHUP: with HAProxy no longer
#       listed its connections are judged by its own address (denied by
#       ke-allow); listed again, c1 gets in again
#   (h) with no ke-proxy-protocol at all the listener does not peek
#       before TLS: a PROXY header fails the handshake (handshake_failed,
#       not proxy_refused_unexpected)
# Needs root (namespaces), haproxy, python3 (HAProxy's stats socket), openssl.  Run by make check; by hand:
#   cd BUILDDIR && srcdir=SRCDIR SRCDIR/tests/integration/haproxy_ke_test.sh
# Exit 0 all passed, 1 a failure, 77 a prerequisite missing outside CI
# (CI=true: it fails).  HAPROXY_KE_TEST_KEEP=1 keeps the temp dir.
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

need_tools "apt-get install openssl" openssl
haproxy_need
netns_need
need_programs NTSD NTSCTL make_certs
tmp_make
dev_certs certs

lb_front=10.44.1.1:4460
ntsd_addr=10.44.3.2
metrics=$ntsd_addr:9123

# --- hosts -----------------------------------------------------------------

netns_add c1 c2 c3 lb ntsd
netns_link c1 10.44.1.2/24 lb 10.44.1.1/24
netns_link c2 10.44.2.2/24 lb 10.44.2.1/24
netns_link c3 10.44.5.2/24 lb 10.44.5.1/24
netns_link lb 10.44.3.1/24 ntsd 10.44.3.2/24
netns_route c1 default 10.44.1.1
netns_route c2 default 10.44.2.1
netns_route c3 default 10.44.5.1
netns_route ntsd 10.44.0.0/16 10.44.3.1
in_ns lb sysctl -qw net.ipv4.ip_forward=1

# --- helpers ---------------------------------------------------------------

# ke_event NAME: ntsd's ntsd_ke_events_total{event="NAME"}, read with
# ntsctl stats from ntsd's host.
ke_event() {
	in_ns ntsd "$NTSCTL" stats "$metrics" --raw 2>/dev/null |
		awk -v k="ntsd_ke_events_total{event=\"$1\"}" '$1 == k { print $2 }'
}
event_above() { [ "$(ke_event "$1")" -gt "$2" ]; }

# probe NS KE_ADDR:PORT [COUNT]: ntsctl probe from ns NS (the certificate
# is for localhost), NTP straight to ntsd; output in $tmp/probe.out.
probe() {
	in_ns "$1" "$NTSCTL" probe "$2" --ca "$tmp/certs/ca.pem" --name localhost \
		--count "${3:-2}" --ntp-server "$ntsd_addr:123" >"$tmp/probe.out" 2>&1
}

# log_has PATTERN: ntsd's log has a line matching PATTERN; the last one shown.
log_has() {
	grep -E "$1" "$ntsd_dir/ntsd.log" | tail -n 1 | show || return 1
	grep -Eq "$1" "$ntsd_dir/ntsd.log"
}

proxy_list=10.44.3.1/32
write_conf() {
	ntsd_conf ntsd \
		"ke-listen $ntsd_addr 4460" \
		"ntp-listen $ntsd_addr 123" \
		"metrics-listen $ntsd_addr 9123" \
		"ke-proxy-protocol $proxy_list" \
		"ke-allow 10.44.1.0/24" \
		"ke-allow 10.44.2.0/24" \
		"ke-max-sessions-per-address 2" \
		"ke-timeout 8" \
		"log-level debug"
}

# send_header NS: a PROXY v2 header (TCP over IPv4, naming c1,
# 10.44.1.2:40000 -> 10.44.3.2:4460) from ns NS straight to ntsd, then
# whatever ntsd answers until it closes.
send_header() {
	local hdr='\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c\x0a\x2c\x01\x02\x0a\x2c\x03\x02\x9c\x40\x11\x6c'
	in_ns "$1" bash -c 'exec 3<>"/dev/tcp/$1/4460" || exit 1
	printf "$2" >&3
	timeout 5 cat <&3 >/dev/null 2>&1' _ "$ntsd_addr" "$hdr"
}

server_up() { [ "$(haproxy_status "$tmp/haproxy.sock" ntsd_ke ntsd1)" = UP ]; }

# --- start -----------------------------------------------------------------

write_conf
netns_ntsd ntsd ntsd
if ! ntsd_start ntsd :; then
	show "$ntsd_dir/ntsd.log"
	not_ok "ntsd starts in its namespace"
	finish
fi
haproxy_conf "$tmp/haproxy.cfg" "$tmp/haproxy.sock" "$lb_front" "ntsd1 $ntsd_addr:4460 9123"
if ! haproxy_start haproxy "$tmp/haproxy.cfg" in_ns lb; then
	not_ok "haproxy -db starts in its namespace"
	finish
fi

# (a) HAProxy's view of the server
wait_for 100 server_up
check "(a) HAProxy shows the server UP through GET /health on ntsd's metrics port" server_up
echo "  HAProxy's stats socket, show stat (backend ntsd_ke):"
haproxy_show "$tmp/haproxy.sock" ntsd_ke
echo "  HAProxy's stats socket, show servers state:"
haproxy_cmd "$tmp/haproxy.sock" "show servers state ntsd_ke" | show

# (b) an allowed client through HAProxy
if probe c1 "$lb_front"; then
	ok "(b) c1 completes NTS-KE through HAProxy and NTS exchanges with its cookies"
else
	not_ok "(b) c1 completes NTS-KE through HAProxy"
fi
show "$tmp/probe.out"
check "(b) ntsd logs c1's own address as the client, via HAProxy" \
	log_has '^.*10\.44\.1\.2:[0-9]+: NTS-KE via 10\.44\.3\.1:[0-9]+ \(PROXY v2 PROXY\)'
check "(b) proxy_header counts it" event_above proxy_header 0

# (c) a denied client through HAProxy
denied=$(ke_event refused_denied)
if probe c3 "$lb_front" 0; then
	not_ok "(c) c3 (not in ke-allow) is refused through HAProxy"
else
	ok "(c) c3 (not in ke-allow) is refused through HAProxy"
fi
show "$tmp/probe.out"
check "(c) refused_denied counts it" event_above refused_denied "$denied"
check "(c) ntsd logs c3's own address as the one denied" \
	log_has '10\.44\.5\.2:[0-9]+: NTS-KE denied by ke-allow'

# (d) the per-address cap counts the real client
headers=$(ke_event proxy_header)
per_addr=$(ke_event refused_per_address)
# ip netns exec and bash exec: the PID is the sleep holding them
ip netns exec "${ns[c1]}" bash -c 'exec 3<>"/dev/tcp/${1%:*}/${1##*:}" 4<>"/dev/tcp/${1%:*}/${1##*:}"
	exec sleep 20' _ "$lb_front" &
holder=$!
bg_pids+=("$holder")
wait_for 50 event_above proxy_header $((headers + 1))
check "(d) two idle connections of c1 through HAProxy hold two sessions" \
	event_above proxy_header $((headers + 1))
if probe c1 "$lb_front" 0; then
	not_ok "(d) c1's third concurrent connection is refused (cap 2 per address)"
else
	ok "(d) c1's third concurrent connection is refused (cap 2 per address)"
fi
check "(d) refused_per_address counts it" event_above refused_per_address "$per_addr"
check "(d) logged with c1's address" \
	log_has '10\.44\.1\.2:[0-9]+: NTS-KE refused: 2 sessions open from this address'
if probe c2 "$lb_front"; then
	ok "(d) meanwhile c2 gets in through the same HAProxy"
else
	not_ok "(d) meanwhile c2 gets in through the same HAProxy"
fi
show "$tmp/probe.out"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

# (e) a PROXY header from a peer not listed
unexpected=$(ke_event proxy_refused_unexpected)
# PROXY v2, TCP over IPv4, 10.44.1.2:40000 -> 10.44.3.2:4460 (c1, forged)
send_header c2
check "(e) c2 sending a PROXY header straight to ntsd: closed, proxy_refused_unexpected" \
	event_above proxy_refused_unexpected "$unexpected"
check "(e) logged with c2's own address" \
	log_has '10\.44\.2\.2:[0-9]+: NTS-KE PROXY header from a peer not in ke-proxy-protocol'

# (f) the listed balancer without a header
bad_sig=$(ke_event proxy_refused_bad_signature)
if probe lb "$ntsd_addr:4460" 0; then
	not_ok "(f) the balancer's own connection without a header is refused"
else
	ok "(f) the balancer's own connection without a header is refused"
fi
check "(f) proxy_refused_bad_signature counts it" \
	event_above proxy_refused_bad_signature "$bad_sig"

# (g) SIGHUP reloads the list
denied=$(ke_event refused_denied)
proxy_list=10.44.9.0/24
write_conf
check "(g) SIGHUP: ke-proxy-protocol reloaded without HAProxy" ntsd_reload ntsd
if probe c1 "$lb_front" 0; then
	not_ok "(g) HAProxy's header refused once it is not listed"
else
	ok "(g) HAProxy's header refused once it is not listed"
fi
check "(g) judged as HAProxy's own connection: not in ke-allow, refused_denied" \
	event_above refused_denied "$denied"
check "(g) logged with HAProxy's address" \
	log_has '10\.44\.3\.1:[0-9]+: NTS-KE denied by ke-allow'
proxy_list=10.44.3.1/32
write_conf
check "(g) SIGHUP: HAProxy listed again" ntsd_reload ntsd
check "(g) c1 gets in again" probe c1 "$lb_front"

# (h) no ke-proxy-protocol at all: no peek before TLS; a PROXY header
# fails the handshake (it is no TLS record), counted as handshake_failed
unexpected=$(ke_event proxy_refused_unexpected)
hs_failed=$(ke_event handshake_failed)
proxy_list=-
write_conf
check "(h) SIGHUP: ke-proxy-protocol removed" ntsd_reload ntsd
send_header c2
check "(h) c2's PROXY header straight to ntsd fails the TLS handshake: handshake_failed" \
	event_above handshake_failed "$hs_failed"
check "(h) not looked at before TLS: proxy_refused_unexpected stays $unexpected" \
	test "$(ke_event proxy_refused_unexpected)" -eq "$unexpected"
check "(h) c2 completes NTS-KE directly" probe c2 "$ntsd_addr:4460"

echo "  ntsctl stats (NTS-KE events):"
in_ns ntsd "$NTSCTL" stats "$metrics" | grep -E '^ke_events_total' | show
echo "  HAProxy's log (last lines):"
tail -n 4 "$tmp/haproxy.log" | show

ntsd_stop ntsd
check "ntsd exits cleanly" test "${ntsd_status[ntsd]}" -eq 0
check "no sanitizer report in ntsd's log" no_sanitizer_report "$ntsd_dir/ntsd.log"
finish
