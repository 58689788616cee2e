#!/usr/bin/env bash
# fleet_test.sh: a fleet on one machine, sharing one key file.
#
#   127.0.0.2  ntsd, NTS-KE only (ntp-service no), Server Negotiation to
#              127.0.0.3 and Port Negotiation to port P
#   127.0.0.3  ntsd, NTP only (ke-service no), port P
#   127.0.0.4  ntsd, NTP only (ke-service no), port P
# All three read one key file, key-propagation 2s.
#
#   1. stock chrony (tests/integration/chrony-client) asks the KE host,
#      follows Server Negotiation to 127.0.0.3 and gets NTS-authenticated
#      samples;
#   2. meanwhile `ntsctl probe --ntp-server` streams authenticated requests
#      at both NTP hosts with cookies from the KE host, and the key file is
#      rotated six times with `ntsctl keys rotate --propagation 2s`:
#      three with --retain 60s (they prune only keys nobody holds cookies
#      for: chrony must keep its first NTS-KE session), one with --retain
#      3s (it prunes the key chrony's cookies are sealed under: chrony is
#      NAKed and redoes NTS-KE), two more with --retain 60s;
#   3. every NAK any probe got is for a key a rotation had pruned before
#      it; no other failure; both NTP hosts sealed cookies under the new
#      keys as they came into service; chrony recovered.
# Prints the counts (requests, OK, NAK) and "N passed, N failed".
# Run by make check (srcdir set, binaries in the build dir); by hand:
#   cd BUILDDIR && srcdir=SRCDIR SRCDIR/tests/integration/fleet_test.sh
# Exit 0 all passed, 1 a failure, 77 a tool missing outside CI (CI=true:
# missing tools fail).  FLEET_TEST_KEEP=1 keeps the temp dir.
# The loops run in the background, setup through ntsd_up.
# shellcheck disable=SC2317
set -u

srcdir=${srcdir:-$(dirname "$0")/../..}
srcdir=$(cd "$srcdir" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$srcdir/tests/integration/lib.sh"
KE_ADDR=127.0.0.2
NTP_ADDRS="127.0.0.3 127.0.0.4"
SAMPLES=8

need_tools --sbin "apt-get install chrony util-linux iproute2 openssl" \
	chronyd chronyc setpriv ss openssl
need_programs NTSD NTSCTL client make_certs
tmp_make
# chrony-client's --keep dir lies inside: chronyd's own user must reach it.
chmod 755 "$tmp"
# The probe loops end when $tmp/stop exists.
cleanup_hook() { touch "$tmp/stop" 2>/dev/null; }

# --- certificates: the development CA, a KE certificate for 127.0.0.2 ------

dev_certs certs
printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
	"extendedKeyUsage=serverAuth" "subjectAltName=IP:$KE_ADDR" >"$tmp/ke.ext"
if ! { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/ke.key" &&
	openssl req -new -key "$tmp/ke.key" -subj "/CN=$KE_ADDR" -out "$tmp/ke.csr" &&
	openssl x509 -req -in "$tmp/ke.csr" -CA "$tmp/certs/ca.pem" -CAkey "$tmp/certs/ca.key" \
		-CAcreateserial -CAserial "$tmp/ca.srl" -days 2 -sha256 -extfile "$tmp/ke.ext" \
		-out "$tmp/ke.pem"; } >>"$tmp/certs.log" 2>&1; then
	show "$tmp/certs.log"
	not_ok "prerequisites: cannot make a certificate for $KE_ADDR"
	finish
fi

# --- the shared key file ---------------------------------------------------

# Two old keys nobody holds cookies for (the first rotation prunes them)
# and the key in service, 5 s old: past the 2 s propagation, it seals.
keys=$tmp/keys
now=$(date +%s)
{
	echo "# fleet_test.sh: one key file for the whole fleet"
	echo "ntsd-keys 1"
	echo "key 0000001a $((now - 600)) 15 $(openssl rand -hex 32)"
	echo "key 0000001b $((now - 300)) 15 $(openssl rand -hex 32)"
	echo "key 0000001c $((now - 5)) 15 $(openssl rand -hex 32)"
} >"$keys"
chmod 600 "$keys"

# --- ports and daemons -----------------------------------------------------

ntp_port=
ke_port=
setup() {
	local ports a ntp1=${NTP_ADDRS%% *}
	ports=$(pick_ports 2) || return 1
	read -r ntp_port ke_port <<<"$ports"
	ntsd_conf ke "# KE-only host: clients are sent to $ntp1 port $ntp_port" \
		"ntp-service no" "ke-listen $KE_ADDR $ke_port" \
		"ke-certificate $tmp/ke.pem" "ke-private-key $tmp/ke.key" \
		"ke-ntp-server $ntp1" "ke-ntp-port $ntp_port" "key-file $keys" \
		"key-propagation 2s" "local-stratum -" "threads -"
	for a in $NTP_ADDRS; do
		ntsd_conf "ntp-$a" "# NTP-only host" "ke-service no" "ntp-listen $a $ntp_port" \
			"key-file $keys" "key-propagation 2s" \
			"ke-certificate -" "ke-private-key -" "ke-threads -"
	done
}

names=(ke)
for a in $NTP_ADDRS; do names+=("ntp-$a"); done
if ! ntsd_up setup : "${names[@]}"; then
	not_ok "three ntsd processes start on $KE_ADDR, $NTP_ADDRS"
	finish
fi
ok "KE host $KE_ADDR:$ke_port (pid ${ntsd_pid[ke]}), NTP hosts $(for a in $NTP_ADDRS; do printf '%s:%s (pid %s) ' "$a" "$ntp_port" "${ntsd_pid[ntp-$a]}"; done)sharing $keys"
"$NTSCTL" keys list "$keys" --propagation 2s | show

# --- probes: each NTP host with cookies from the KE host ---------------------

probe() { "$NTSCTL" probe "$KE_ADDR:$ke_port" --ca "$tmp/certs/ca.pem" "$@"; }
probe --count 2 --interval 50 >"$tmp/out" 2>&1
rc=$?
show "$tmp/out"
if [ $rc -eq 0 ] && grep -q "^nts-ke: NTP server ${NTP_ADDRS%% *} (Server Negotiation) port $ntp_port (Port Negotiation)" "$tmp/out"; then
	ok "probe: the KE host negotiates ${NTP_ADDRS%% *} port $ntp_port; authenticated exchanges there"
else
	not_ok "probe of the KE host: exit $rc"
fi
for a in $NTP_ADDRS; do
	probe --ntp-server "$a" --count 2 --interval 50 >"$tmp/out" 2>&1
	rc=$?
	show "$tmp/out"
	if [ $rc -eq 0 ] && grep -q "^probe: OK: .* with $a port $ntp_port\$" "$tmp/out"; then
		ok "probe --ntp-server $a: cookies from the KE host open on $a"
	else
		not_ok "probe --ntp-server $a: exit $rc"
	fi
done

# Streams of probes (5 exchanges each, 100 ms apart), one per NTP host,
# until $tmp/stop exists.  "T start" and "E end rc" frame each probe.
probe_loop() {
	local a=$1 rc
	while [ ! -e "$tmp/stop" ]; do
		echo "T $(date +%s.%N)"
		probe --ntp-server "$a" --count 5 --interval 100 2>&1
		rc=$?
		echo "E $(date +%s.%N) rc $rc"
	done
}
for a in $NTP_ADDRS; do
	probe_loop "$a" >"$tmp/stream-$a" &
	bg_pids+=($!)
done

# --- rotations, run by chrony-client once chrony is synchronised ------------

# Each rotation is logged as "R START END rc RC retain RETAIN" followed by
# ntsctl's lines (indented); "C TIME KEYID NAK" is chrony's authdata after
# the --retain 60s rotations.
cat >"$tmp/rotate" <<EOF
#!/usr/bin/env bash
set -u
fail=0
rot() {
	local s e rc
	s=\$(date +%s.%N)
	"$NTSCTL" keys rotate "$keys" --propagation 2s --retain "\$1" >"$tmp/rot.out" 2>&1
	rc=\$?
	e=\$(date +%s.%N)
	echo "R \$s \$e rc \$rc retain \$1"
	sed 's/^/  /' "$tmp/rot.out"
	[ \$rc -eq 0 ] || fail=1
}
{
	rot 60s; sleep 3
	rot 60s; sleep 3
	rot 60s
	# A client that keeps its NTS-KE cookies (sealed under the key that
	# seals now) and uses one a second, across the --retain 3s rotation.
	{
		echo "T \$(date +%s.%N)"
		"$NTSCTL" probe "$KE_ADDR:$ke_port" --ca "$tmp/certs/ca.pem" \
			--ntp-server "${NTP_ADDRS##* }" --count 8 --interval 1000 2>&1
		rc=\$?
		echo "E \$(date +%s.%N) rc \$rc"
	} >"$tmp/holder" &
	holder=\$!
	sleep 2.5
	echo "C \$(date +%s.%N) \$(chronyc -n -h "$tmp/chrony/chronyd.sock" authdata 2>&1 |
		awk 'f && NF >= 10 { print \$3, \$8; exit } /^=+\$/ { f = 1 }')"
	rot 3s; sleep 3
	rot 60s; sleep 3
	rot 60s
	wait \$holder
} >>"$tmp/rotations" 2>&1
echo "rotate: six rotations done (exit \$fail)"
exit \$fail
EOF
chmod 755 "$tmp/rotate"

echo "fleet_test: chrony via $KE_ADDR; rotations while it runs"
start_s=$SECONDS
"$client" --server "$KE_ADDR" --ke-port "$ke_port" --ca "$tmp/certs/ca.pem" --name fleet \
	--samples "$SAMPLES" --poll -1 --timeout 40 --keep "$tmp/chrony" \
	--then "$tmp/rotate" --expect-nak >"$tmp/chrony.out" 2>&1
crc=$?
touch "$tmp/stop"
for p in "${bg_pids[@]}"; do
	wait "$p" 2>/dev/null
done
bg_pids=()
show "$tmp/chrony.out"
echo "fleet_test: rotations ($((SECONDS - start_s)) s for chrony and the rotations):"
show "$tmp/rotations"

# --- chrony's evidence -----------------------------------------------------

client_passed "$tmp/chrony.out" $crc "NAK seen, chrony redid NTS-KE" chrony
if grep -Eq "^Remote address +: ${NTP_ADDRS%% *} " "$tmp/chrony.out" &&
	grep -Eq "^Remote port +: $ntp_port\$" "$tmp/chrony.out" &&
	grep -Eq '^Authenticated +: Yes' "$tmp/chrony.out"; then
	ok "chrony followed Server and Port Negotiation to ${NTP_ADDRS%% *}:$ntp_port (ntpdata: Authenticated: Yes)"
else
	not_ok "chrony's ntpdata does not show authenticated samples from ${NTP_ADDRS%% *}:$ntp_port"
fi
read -r _ _ c_keyid c_nak < <(grep '^C ' "$tmp/rotations")
if [ "${c_keyid:-}" = 1 ] && [ "${c_nak:-}" = 0 ]; then
	ok "chrony: no NAK, same NTS-KE session (KeyID 1) through three rotations that changed the sealing key twice"
else
	not_ok "chrony after the --retain 60s rotations: KeyID '${c_keyid:-?}', NAK '${c_nak:-?}' (want 1, 0)"
fi

# --- rotations -------------------------------------------------------------

n_rot=$(grep -c '^R .* rc 0 ' "$tmp/rotations")
if [ "$n_rot" -eq 6 ] && ! grep -q '^R .* rc [1-9]' "$tmp/rotations"; then
	ok "six rotations, all exit 0"
else
	not_ok "rotations: $n_rot of 6 succeeded"
fi
first=$(awk '/^R /{ n++ } n == 1' "$tmp/rotations")
if grep -q 'pruned key 0000001a' <<<"$first" && grep -q 'pruned key 0000001b' <<<"$first" &&
	! grep -q 'pruned key 0000001c' <<<"$first"; then
	ok "first rotation pruned the two old keys, kept the sealing key 0000001c"
else
	not_ok "first rotation: expected 0000001a and 0000001b pruned, 0000001c kept"
fi
fourth=$(awk '/^R /{ n++ } n == 4' "$tmp/rotations")
n_pruned4=$(grep -c 'pruned key' <<<"$fourth")
if [ "$n_pruned4" -ge 2 ] && grep -q 'sealing key' <<<"$fourth"; then
	ok "the --retain 3s rotation pruned $n_pruned4 keys, kept the sealing and the new key"
else
	not_ok "the --retain 3s rotation pruned $n_pruned4 keys (want >= 2)"
fi

# --- the probe streams -----------------------------------------------------

# A NAK is for a pruned key when a rotation that pruned it started before
# the probe ended; any other NAK or failure is a fault.
for a in $NTP_ADDRS; do
	awk -v host="$a" '
	FNR == NR {
		if ($1 == "R") start = $2 + 0
		if ($0 ~ /: pruned key /) {
			id = $0; sub(/.*pruned key /, "", id); sub(/ .*/, "", id)
			pruned[id] = start
		}
		next
	}
	$1 == "T" { probes++; n = 0; next }
	$1 == "E" {
		for (i = 0; i < n; i++) {
			if ((nak[i] in pruned) && pruned[nak[i]] < $2 + 0) {
				legit++
			} else {
				bad++
				printf "  fault: NAK for key %s, in the file at %s\n", nak[i], $2
			}
		}
		n = 0
		next
	}
	/^ntp [0-9]+: offset/ {
		req++; okc++
		k = $0; sub(/.*key [0-9a-f]+->/, "", k); sub(/ .*/, "", k)
		if (!(k in seen)) { seen[k] = 1; keys = keys " " k; nkeys++ }
		next
	}
	/^ntp [0-9]+: FAILED: NTS NAK/ {
		req++
		k = $0; sub(/.*master key /, "", k); sub(/\).*/, "", k)
		nak[n++] = k
		next
	}
	/^ntp [0-9]+: FAILED/ { req++; other++; print "  fault: " $0; next }
	/^probe: FAILED: NTS-KE/ { kefail++; print "  fault: " $0; next }
	END {
		printf "%s %d %d %d %d %d %d %d %d%s\n", host, probes, req, okc, legit, bad, other,
			kefail, nkeys, keys
	}' "$tmp/rotations" "$tmp/stream-$a" >"$tmp/count-$a"
	grep '^  fault' "$tmp/count-$a" | head -n 20
	read -r _ probes req okc legit bad other kefail nkeys rkeys < <(grep -v '^  ' "$tmp/count-$a")
	echo "fleet: $a: $probes probes, $req requests: $okc OK, $((legit + bad)) NAK ($legit for pruned keys, $bad for keys in the file), $other other failures, $kefail NTS-KE failures; new cookies under $nkeys keys:$rkeys"
	if [ "$bad" -eq 0 ] && [ "$other" -eq 0 ] && [ "$kefail" -eq 0 ] && [ "$req" -ge 40 ]; then
		ok "$a: $req authenticated requests, no NAK for a key still in the file, no failure"
	else
		not_ok "$a: $bad NAKs for keys in the file, $other failures, $kefail NTS-KE failures, $req requests (want >= 40)"
	fi
	if [ "$nkeys" -ge 4 ]; then
		ok "$a sealed new cookies under $nkeys successive keys as rotations put them in service"
	else
		not_ok "$a sealed new cookies under only $nkeys keys:$rkeys"
	fi
done

# The holder: exchanges OK while its cookies' key is in the file, then a
# NAK once the --retain 3s rotation (the 4th) pruned it.
echo "fleet_test: a probe holding its NTS-KE cookies across the --retain 3s rotation:"
show "$tmp/holder"
h_key=$(sed -n 's/^nts-ke: .*(master key \([0-9a-f]*\))$/\1/p' "$tmp/holder")
h_ok=$(grep -c '^ntp [0-9]*: offset' "$tmp/holder")
h_nak=$(sed -n 's/^ntp [0-9]*: FAILED: NTS NAK.*(master key \([0-9a-f]*\))$/\1/p' "$tmp/holder")
h_end=$(awk '$1 == "E" { print $2 }' "$tmp/holder")
p_start=$(awk '/^R /{ n++; s = $2 } n == 4 && /pruned key '"${h_key:-none}"' / { print s; exit }' "$tmp/rotations")
if [ -n "$h_key" ] && [ "$h_ok" -ge 2 ] && [ "$h_nak" = "$h_key" ] && [ -n "$p_start" ] &&
	awk -v a="$p_start" -v b="$h_end" 'BEGIN { exit !(a < b) }'; then
	ok "cookies under key $h_key: $h_ok exchanges OK while it was in the file, NAK after the rotation pruned it"
else
	not_ok "holder: key '${h_key:-?}', $h_ok OK, NAK for '${h_nak:-none}', pruned by the 4th rotation: ${p_start:-no}"
fi

# The NTP hosts' own NAK counts: 127.0.0.3 NAKed chrony's old cookies.
naks() { sed -n 's/.*totals: .*, \([0-9]*\) NTS NAKs,.*/\1/p' "$tmp/ntp-$1.log"; }

# --- afterwards --------------------------------------------------------------

echo "fleet_test: the key file now:"
"$NTSCTL" keys list "$keys" --propagation 2s | show
for a in $NTP_ADDRS; do
	probe --ntp-server "$a" --count 3 --interval 50 >"$tmp/out" 2>&1
	rc=$?
	show "$tmp/out"
	if [ $rc -eq 0 ]; then
		ok "after the rotations: probe --ntp-server $a OK"
	else
		not_ok "after the rotations: probe --ntp-server $a: exit $rc"
	fi
done
for n in "${names[@]}"; do
	alive=yes
	pid_gone "${ntsd_pid[$n]}" && alive=no
	ntsd_stop "$n"
	echo "fleet_test: $n log:"
	grep -v ': loaded [0-9]* master keys' "$tmp/$n.log" | show
	echo "  | ($(grep -c ': loaded [0-9]* master keys' "$tmp/$n.log") key set loads)"
	[ "$n" = ke ] || echo "fleet: $n: $(sed -n 's/.*totals: //p' "$tmp/$n.log")"
	if [ $alive = yes ] && [ "${ntsd_status[$n]}" = 0 ] &&
		no_sanitizer_report "$tmp/$n.log" && ! grep -q 'error: .*keys' "$tmp/$n.log"; then
		ok "$n ran throughout, reloaded the key file without an error, exited 0"
	else
		not_ok "$n: alive until the end: $alive, exit ${ntsd_status[$n]}, or errors in its log"
	fi
done
a3=${NTP_ADDRS%% *}
if [ "$(naks "$a3")" -ge 1 ] 2>/dev/null; then
	ok "$a3 counted $(naks "$a3") NTS NAKs (chrony's cookies under the pruned key)"
else
	not_ok "$a3 counted no NTS NAK, yet chrony was NAKed"
fi
finish
