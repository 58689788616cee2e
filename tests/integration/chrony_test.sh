#!/usr/bin/env bash
# chrony_test.sh: stock chrony (Debian's chronyd) as an NTS client of ntsd.
#
# Starts the built ntsd on free loopback ports with a throw-away CA and
# certificate, then runs tests/integration/chrony-client (chronyd -x,
# without CAP_SYS_TIME) against it:
#   (a) IPv4: >= 10 NTS-authenticated samples, |offset| < 1 ms, no NAK
#   (b) the same over ::1
#   (c) a CA chrony does not trust: NTS-KE fails, no sample
#   (d) key file replaced by a new key set: NAK, chrony redoes NTS-KE and
#       gets authenticated samples again
#   (f) chrony with xleave over IPv4: ntpdata says Interleaved: Yes and
#       Authenticated: Yes, |offset| < 1 ms, and ntsd counted interleaved
#       replies and kernel transmit timestamps
#   (g) the same over ::1
#   (e) ntsd then stops cleanly on SIGTERM (exit 0, no sanitizer report)
# ntsd runs two NTP workers: chrony sends each request from a new port, so
# its requests reach both and the interleaved-mode table they share.
# Run by make check (srcdir set, ntsd in the build dir); by hand:
#   cd BUILDDIR && srcdir=SRCDIR SRCDIR/tests/integration/chrony_test.sh
# Exit 0 all passed, 1 a failure, 77 chrony missing outside CI (CI=true:
# missing tools fail).  CHRONY_TEST_KEEP=1 keeps the temp dir.
# The setup and ready functions run through ntsd_up.
# shellcheck disable=SC2317
set -u

srcdir=${srcdir:-$(dirname "$0")/../..}
srcdir=$(cd "$srcdir" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$srcdir/tests/integration/lib.sh"
SAMPLES=10

need_tools --sbin "apt-get install chrony util-linux iproute2 openssl" \
	chronyd chronyc setpriv ss openssl
need_programs NTSD client make_certs
tmp_make
dev_certs certs other

have_ipv6=no
if grep -q '^0\{31\}1 .* lo$' /proc/net/if_inet6 2>/dev/null; then
	have_ipv6=yes
fi

# --- ntsd ------------------------------------------------------------------

ntp_port=
ke_port=
metrics_port=
setup() {
	local ports v6=()
	ports=$(pick_ports 3) || return 1
	read -r ntp_port ke_port metrics_port <<<"$ports"
	[ "$have_ipv6" = no ] || v6=("ntp-listen ::1 $ntp_port" "ke-listen ::1 $ke_port")
	ntsd_conf ntsd "ntp-listen 127.0.0.1 $ntp_port" "ke-listen 127.0.0.1 $ke_port" "${v6[@]}" \
		"threads 2" "metrics-listen 127.0.0.1 $metrics_port"
	rm -f "$tmp/keys"
}
listening() { ports_listen "$ke_port" "$ntp_port" "$metrics_port"; }

if ! ntsd_up setup listening ntsd; then
	not_ok "ntsd starts on 127.0.0.1 (and ::1)"
	finish
fi
echo "chrony_test: ntsd pid ${ntsd_pid[ntsd]}: NTP port $ntp_port, NTS-KE port $ke_port, IPv6 $have_ipv6"
sed 's/^/  ntsd: /' "$tmp/ntsd.log"

# run_case LABEL PATTERN... -- ARG...: run chrony-client with ARGs; the
# case passes if it says PASS, every PATTERN (grep -E) is in its output,
# its chronyd is gone and ntsd still runs.
run_case() {
	local label=$1 pats=() out rc verdict cpid p
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		pats+=("$1")
		shift
	done
	shift
	out=$("$client" --ke-port "$ke_port" --samples "$SAMPLES" "$@" 2>&1)
	rc=$?
	echo "$out" | sed 's/^/  /'
	verdict=$(client_verdict <<<"$out")
	cpid=$(echo "$out" | sed -n 's/^chrony-client\[[^]]*\]: chronyd pid \([0-9]*\) .*/\1/p' | head -n 1)
	if [ -n "$cpid" ] && kill -0 "$cpid" 2>/dev/null && grep -q chronyd "/proc/$cpid/comm" 2>/dev/null; then
		not_ok "$label: chronyd pid $cpid still running after chrony-client exited"
		kill -TERM "$cpid" 2>/dev/null
		return
	fi
	if pid_gone "${ntsd_pid[ntsd]}"; then
		not_ok "$label: ntsd died: $(tail -n 5 "$tmp/ntsd.log" | tr '\n' ' ')"
		return
	fi
	if [ $rc -ne 0 ] || [[ $verdict != *": PASS: "* ]]; then
		not_ok "$label: exit $rc: ${verdict:-no verdict}"
		return
	fi
	for p in "${pats[@]}"; do
		if ! grep -Eq -- "$p" <<<"$out"; then
			not_ok "$label: '$p' not in chrony-client's output; ${verdict#*: }"
			return
		fi
	done
	ok "$label: ${verdict#*: PASS: }"
}

# (a) IPv4.  No --ntp-port: chrony must learn ntsd's NTP port from NTS-KE
# (ntsd advertises it when it is not 123 and ke-ntp-port is unset).
echo "chrony_test: (a) chrony over IPv4"
run_case "(a) IPv4 127.0.0.1" "PASS: .*NTS-KE ok" "changed port to $ntp_port\$" -- \
	--server 127.0.0.1 --ca "$tmp/certs/ca.pem" --name ipv4 --timeout 20

# (b) IPv6.
echo "chrony_test: (b) chrony over IPv6"
if [ $have_ipv6 = yes ]; then
	run_case "(b) IPv6 ::1" "PASS: .*NTS-KE ok" "changed port to $ntp_port\$" -- \
		--server ::1 --ca "$tmp/certs/ca.pem" --name ipv6 --timeout 20
elif [ "${CI:-}" = true ]; then
	not_ok "(b) IPv6 ::1: no ::1 on the loopback interface"
else
	echo "skip - (b) IPv6 ::1: no ::1 on the loopback interface"
fi

# (c) Untrusted CA: ntsd's certificate is not from the CA chrony trusts.
echo "chrony_test: (c) chrony trusting another CA"
run_case "(c) untrusted CA: NTS-KE refused, no sample" "PASS: .*TLS handshake.*certificate" -- \
	--server 127.0.0.1 --ca "$tmp/other/ca.pem" --name untrusted --expect-ke-failure --timeout 10

# (d) Key replacement: a new key set without the old keys, written the way
# ntsctl writes it (mode 0600, temp file, rename).  chrony's cookies then
# cannot be opened: NAK, new NTS-KE, samples again.
cat >"$tmp/replace-keys" <<EOF
#!/usr/bin/env bash
set -eu
keys=$tmp/keys
old=\$(awk '\$1 == "key" { print \$2 }' "\$keys")
[ -n "\$old" ] || { echo "replace-keys: no keys in \$keys" >&2; exit 1; }
while :; do
	id=\$(openssl rand -hex 4)
	echo "\$old" | grep -qix "\$id" || break
done
umask 077
t=\$(mktemp "\$keys.tmp.XXXXXX")
printf '# replaced by chrony_test.sh\nntsd-keys 1\nkey %s %s 15 %s\n' \\
	"\$id" "\$(date +%s)" "\$(openssl rand -hex 32)" >"\$t"
mv -f "\$t" "\$keys"
echo "replace-keys: key ids \$(echo \$old) -> \$id (mode \$(stat -c %a "\$keys"))"
EOF
chmod 755 "$tmp/replace-keys"
echo "chrony_test: (d) key file replaced while chrony runs"
if [ -s "$tmp/keys" ]; then
	run_case "(d) key replacement: NAK, chrony redoes NTS-KE and recovers" \
		"PASS: .*NAK seen, chrony redid NTS-KE" "^replace-keys: key ids" -- \
		--server 127.0.0.1 --ca "$tmp/certs/ca.pem" --name rekey --poll -1 --timeout 30 \
		--then "$tmp/replace-keys" --expect-nak
else
	not_ok "(d) key replacement: ntsd did not create $tmp/keys"
fi

# metric NAME LABEL: the value of ntsd's counter NAME{LABEL} on /metrics.
metric() {
	local body
	body=$(exec 3<>"/dev/tcp/127.0.0.1/$metrics_port" &&
		printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && timeout 5 cat <&3)
	awk -v k="$1{$2}" '$1 == k { print $2; exit }' <<<"$body"
}

# xleave_case LABEL SERVER: chrony with xleave; chrony-client checks
# Interleaved: Yes on its NTS-authenticated samples, and ntsd must have
# served interleaved replies with kernel transmit timestamps since.
xleave_case() {
	local label=$1 server=$2 il0 tx0 il1 tx1
	il0=$(metric ntsd_ntp_timestamps_total 'event="interleaved_replies"')
	tx0=$(metric ntsd_ntp_timestamps_total 'event="tx_kernel"')
	run_case "$label" "PASS: .*NTS-authenticated interleaved \(Interleaved: Yes\)" -- \
		--server "$server" --ca "$tmp/certs/ca.pem" --name "xleave-$server" --xleave \
		--timeout 30
	il1=$(metric ntsd_ntp_timestamps_total 'event="interleaved_replies"')
	tx1=$(metric ntsd_ntp_timestamps_total 'event="tx_kernel"')
	if [ -z "$il0" ] || [ -z "$il1" ] || [ "$il1" -lt $((il0 + SAMPLES - 2)) ] ||
		[ -z "$tx1" ] || [ "$tx1" -le "${tx0:-0}" ]; then
		not_ok "$label: ntsd's counters: interleaved replies ${il0:-?} -> ${il1:-?}, kernel transmit timestamps ${tx0:-?} -> ${tx1:-?}"
	else
		ok "$label: ntsd served $((il1 - il0)) interleaved replies, $((tx1 - tx0)) kernel transmit timestamps"
	fi
}

# (f) interleaved mode over IPv4, (g) over IPv6.
echo "chrony_test: (f) chrony with xleave over IPv4"
xleave_case "(f) xleave IPv4 127.0.0.1" 127.0.0.1
echo "chrony_test: (g) chrony with xleave over IPv6"
if [ $have_ipv6 = yes ]; then
	xleave_case "(g) xleave IPv6 ::1" ::1
elif [ "${CI:-}" = true ]; then
	not_ok "(g) xleave IPv6 ::1: no ::1 on the loopback interface"
else
	echo "skip - (g) xleave IPv6 ::1: no ::1 on the loopback interface"
fi

# (e) ntsd stops cleanly after all this (under sanitizers: no report).
echo "chrony_test: ntsd log:"
ntsd_stop ntsd
sed 's/^/  ntsd: /' "$tmp/ntsd.log"
if [ "${ntsd_status[ntsd]:-}" != 0 ]; then
	not_ok "(e) ntsd exits 0 on SIGTERM: exit status ${ntsd_status[ntsd]:-}"
elif ! no_sanitizer_report "$tmp/ntsd.log"; then
	not_ok "(e) ntsd exits 0 on SIGTERM: sanitizer report in its log"
else
	ok "(e) ntsd exits 0 on SIGTERM, no sanitizer report"
fi
finish
