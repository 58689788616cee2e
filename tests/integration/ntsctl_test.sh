#!/usr/bin/env bash
# ntsctl_test.sh: ntsctl keys and ntsctl probe, black box.
#
#   keys init     creates FILE mode 0600, refuses to overwrite
#   keys rotate   adds a key; prunes by retention; never the sealing key
#                 or a key in the propagation window (key files crafted in
#                 ntsd's text format, doc/key-file.md); --if-older-than
#                 no-op; keeps the file's owner; parallel rotations lose no
#                 key; a held lock gives exit 3
#   keys list     roles sealing / pending / accepted, no secret printed
#   keys check    exit 1 with FILE:LINE on a corrupted file
#   exit codes    0 / 1 / 2 / 3 as ntsctl(8) documents
#   probe         OK verdict and exit 0 against a running ntsd; exit 1
#                 against a closed port, an NTP host without the keys, an
#                 untrusted CA
#   daemon        a bad key file is logged with FILE:LINE and the old set
#                 keeps serving; (root) keyfile_chown_reload: a key file
#                 ntsd could not read is picked up once chown'ed to ntsd's
#                 user, without a SIGHUP
# Run by make check (srcdir set, binaries in the build dir); by hand:
#   cd BUILDDIR && srcdir=SRCDIR SRCDIR/tests/integration/ntsctl_test.sh
# Exit 0 all passed, 1 a failure, 77 a tool missing outside CI (CI=true:
# missing tools fail).  NTSCTL_TEST_KEEP=1 keeps the temp dir.
# The setup and ready functions run through ntsd_up.
# shellcheck disable=SC2317
set -u

srcdir=${srcdir:-$(dirname "$0")/../..}
srcdir=$(cd "$srcdir" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$srcdir/tests/integration/lib.sh"

need_tools "apt-get install iproute2 openssl util-linux coreutils" ss openssl flock stat sha256sum
need_programs NTSD NTSCTL make_certs
tmp_make
# fd 9 holds a key file's lock in one case.
cleanup_hook() { exec 9>&- 2>/dev/null; }

# --- helpers ---------------------------------------------------------------

now=$(date +%s)
# key_line ID CREATED: one key record with a fresh random secret; the
# secret is also appended to $tmp/secrets (to prove list never prints it).
key_line() {
	local secret
	secret=$(openssl rand -hex 32)
	echo "$secret" >>"$tmp/secrets"
	printf 'key %s %s 15 %s\n' "$1" "$2" "$secret"
}
# craft FILE ID:AGE...: a key file with keys created AGE seconds ago
# (a negative AGE is in the future), mode 0600.
craft() {
	local f=$1 spec
	shift
	{
		echo "# crafted by ntsctl_test.sh"
		echo "ntsd-keys 1"
		for spec in "$@"; do
			key_line "${spec%%:*}" $((now - ${spec#*:}))
		done
	} >"$f"
	chmod 600 "$f"
}
ids() { awk '$1 == "key" { print $2 }' "$1" | sort | tr '\n' ' '; }
nkeys() { awk '$1 == "key"' "$1" | wc -l; }
has_id() { awk -v id="$2" '$1 == "key" && $2 == id { f = 1 } END { exit !f }' "$1"; }
role_of() { awk -v id="$2" '$1 == id { print $NF }' "$1"; }

# run OUTFILE CMD...: run, stdout+stderr to OUTFILE, return the exit code
run() {
	local out=$1
	shift
	"$@" >"$out" 2>&1
}

# --- keys init -------------------------------------------------------------

echo "ntsctl_test: keys init"
k=$tmp/init/keys
mkdir -p "$tmp/init"
run "$tmp/out" "$NTSCTL" keys init "$k"
rc=$?
show "$tmp/out"
check "init: exit 0" [ $rc -eq 0 ]
check "init: file mode 0600" [ "$(stat -c %a "$k" 2>/dev/null)" = 600 ]
check "init: one key, valid (keys check)" \
	bash -c "[ \"\$(awk '\$1 == \"key\"' '$k' | wc -l)\" = 1 ] && '$NTSCTL' keys check '$k' >/dev/null"
sum=$(sha256sum <"$k")
run "$tmp/out" "$NTSCTL" keys init "$k"
rc=$?
show "$tmp/out"
check "init: refuses to overwrite (exit 1, file unchanged)" \
	bash -c "[ $rc -eq 1 ] && [ \"\$(sha256sum <'$k')\" = '$sum' ] && grep -q 'already exists' '$tmp/out'"
ln -s "$tmp/init/nowhere" "$tmp/init/dangling"
run "$tmp/out" "$NTSCTL" keys init "$tmp/init/dangling"
rc=$?
check "init: refuses a dangling symlink too (exit 1)" \
	bash -c "[ $rc -eq 1 ] && [ ! -e '$tmp/init/nowhere' ]"
run "$tmp/out" "$NTSCTL" keys init "$tmp/no/such/dir/keys"
check "init: missing directory: exit 1" [ $? -eq 1 ]

# --- keys rotate -----------------------------------------------------------

echo "ntsctl_test: keys rotate"
run "$tmp/out" "$NTSCTL" keys rotate "$k"
rc=$?
show "$tmp/out"
check "rotate: adds a key (exit 0, 1 -> 2 keys, mode 0600)" \
	bash -c "[ $rc -eq 0 ] && [ \"\$(awk '\$1 == \"key\"' '$k' | wc -l)\" = 2 ] && [ \"\$(stat -c %a '$k')\" = 600 ]"

# Pruning: with --propagation 120s --retain 300s
#   0000000a  1000 s old  older than retain, not sealing  -> pruned
#   0000000b   400 s old  older than retain, but sealing  -> kept
#   0000000c   100 s old  in the propagation window        -> kept
#   0000000d  -600 s      created in the future (skew)     -> kept
p=$tmp/prune
craft "$p" 0000000a:1000 0000000b:400 0000000c:100 0000000d:-600
echo "  crafted: $(ids "$p")"
run "$tmp/out" "$NTSCTL" keys rotate "$p" --propagation 120s --retain 300s
rc=$?
show "$tmp/out"
echo "  after:   $(ids "$p")"
check "rotate: prunes the key older than the retention (0000000a)" \
	bash -c "[ $rc -eq 0 ] && ! grep -q '^key 0000000a ' '$p' && grep -q 'pruned key 0000000a' '$tmp/out'"
check "rotate: never the sealing key, even older than the retention (0000000b)" has_id "$p" 0000000b
check "rotate: never a key in the propagation window (0000000c, 0000000d)" \
	bash -c "grep -q '^key 0000000c ' '$p' && grep -q '^key 0000000d ' '$p'"
check "rotate: 3 kept + 1 new = 4 keys" [ "$(nkeys "$p")" = 4 ]
"$NTSCTL" keys list "$p" --propagation 120s >"$tmp/list"
show "$tmp/list"
check "rotate: 0000000b still seals after the rotation" [ "$(role_of "$tmp/list" 0000000b)" = sealing ]

# A retention within the propagation window would prune keys other hosts
# may not have yet: refused as a usage error, file untouched.
sum=$(sha256sum <"$p")
run "$tmp/out" "$NTSCTL" keys rotate "$p" --propagation 1h --retain 30m
rc=$?
show "$tmp/out"
check "rotate: --retain <= --propagation: exit 2, file unchanged" \
	bash -c "[ $rc -eq 2 ] && [ \"\$(sha256sum <'$p')\" = '$sum' ]"

# --if-older-than: a no-op while the newest key is younger.
o=$tmp/older
craft "$o" 00000101:5000 00000102:10
sum=$(sha256sum <"$o")
ino=$(stat -c %i "$o")
run "$tmp/out" "$NTSCTL" keys rotate "$o" --if-older-than 1h
rc=$?
show "$tmp/out"
check "rotate --if-older-than 1h, newest key 10 s old: exit 0, nothing written" \
	bash -c "[ $rc -eq 0 ] && grep -q 'nothing to do' '$tmp/out' && [ \"\$(sha256sum <'$o')\" = '$sum' ] && [ \"\$(stat -c %i '$o')\" = '$ino' ]"
run "$tmp/out" "$NTSCTL" keys rotate "$o" --if-older-than 5s
rc=$?
show "$tmp/out"
check "rotate --if-older-than 5s, newest key 10 s old: rotates (3 keys)" \
	bash -c "[ $rc -eq 0 ] && [ \"\$(awk '\$1 == \"key\"' '$o' | wc -l)\" = 3 ]"
f=$tmp/future
craft "$f" 00000201:5000 00000202:-3600
sum=$(sha256sum <"$f")
run "$tmp/out" "$NTSCTL" keys rotate "$f" --if-older-than 20h
rc=$?
show "$tmp/out"
check "rotate --if-older-than, newest key in the future (clock skew): no-op" \
	bash -c "[ $rc -eq 0 ] && [ \"\$(sha256sum <'$f')\" = '$sum' ]"

# Parallel rotations: the lock serialises them, none loses a key.
c=$tmp/conc/keys
mkdir -p "$tmp/conc"
"$NTSCTL" keys init "$c" >/dev/null
pids=()
for i in 1 2 3 4 5 6 7 8; do
	"$NTSCTL" keys rotate "$c" --retain 7d --propagation 1h >"$tmp/conc/out.$i" 2>&1 &
	pids+=($!)
done
bad=0
for pid in "${pids[@]}"; do
	wait "$pid" || bad=$((bad + 1))
done
added=$(cat "$tmp"/conc/out.* | sed -n 's/.*: added key \([0-9a-f]*\);.*/\1/p' | sort | tr '\n' ' ')
echo "  8 parallel rotations: $bad failed; keys now: $(ids "$c")"
check "rotate: 8 at once: all exit 0, 1 + 8 = 9 keys, every added key present" \
	bash -c "[ $bad -eq 0 ] && [ \"\$(awk '\$1 == \"key\"' '$c' | wc -l)\" = 9 ] &&
		[ \"\$(echo '$added' | wc -w)\" = 8 ] &&
		for id in $added; do grep -q \"^key \$id \" '$c' || exit 1; done &&
		'$NTSCTL' keys check '$c' >/dev/null"

# A lock held elsewhere: exit 3 after --lock-wait, file untouched.
sum=$(sha256sum <"$c")
exec 9>>"$c.lock"
flock -x 9
start=$SECONDS
run "$tmp/out" "$NTSCTL" keys rotate "$c" --lock-wait 1s
rc=$?
took=$((SECONDS - start))
exec 9>&-
show "$tmp/out"
check "rotate: lock held by another process: exit 3 after --lock-wait 1s (took ${took}s), file unchanged" \
	bash -c "[ $rc -eq 3 ] && [ $took -le 5 ] && [ \"\$(sha256sum <'$c')\" = '$sum' ]"
run "$tmp/out" "$NTSCTL" keys rotate "$c" --lock-wait 1s
check "rotate: lock released: exit 0" [ $? -eq 0 ]

# The rewritten file keeps its owner: a root timer must not take ntsd's
# key file away from ntsd's user.
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	chown nobody: "$c"
	run "$tmp/out" "$NTSCTL" keys rotate "$c"
	rc=$?
	check "rotate as root keeps the file's owner (nobody, mode 0600)" \
		bash -c "[ $rc -eq 0 ] && [ \"\$(stat -c '%U %a' '$c')\" = 'nobody 600' ]"
else
	echo "skip - rotate keeps the file's owner: needs root and user nobody"
fi

# --- keys list -------------------------------------------------------------

echo "ntsctl_test: keys list"
l=$tmp/list.keys
#   00000301  9000 s old: accepted (older than the sealing key)
#   00000302  5000 s old: sealing (newest older than 1h)
#   00000303    10 s old: pending
craft "$l" 00000301:9000 00000302:5000 00000303:10
run "$tmp/list" "$NTSCTL" keys list "$l" --propagation 1h
rc=$?
show "$tmp/list"
check "list: exit 0, roles accepted / sealing / pending" \
	bash -c "[ $rc -eq 0 ] && [ \"\$(awk '\$1 == \"00000301\" { print \$NF }' '$tmp/list')\" = accepted ] &&
		[ \"\$(awk '\$1 == \"00000302\" { print \$NF }' '$tmp/list')\" = sealing ] &&
		[ \"\$(awk '\$1 == \"00000303\" { print \$NF }' '$tmp/list')\" = pending ]"
check "list: algorithm and age shown" \
	bash -c "grep -q '^00000302 .*AEAD_AES_SIV_CMAC_256 .* 83m ' '$tmp/list' || grep -q '^00000302 .*AEAD_AES_SIV_CMAC_256 .* 84m ' '$tmp/list'"
"$NTSCTL" keys list "$p" >>"$tmp/list" 2>&1
"$NTSCTL" keys list "$c" >>"$tmp/list" 2>&1
leak=0
while read -r secret; do
	# Any 16 hex digits of a secret, in either case.
	for off in 0 16 32 48; do
		grep -qi -- "${secret:$off:16}" "$tmp/list" && leak=$((leak + 1))
	done
done <"$tmp/secrets"
check "list: no secret (nor 16 hex digits of one) printed, $(wc -l <"$tmp/secrets") secrets checked" [ $leak -eq 0 ]
run "$tmp/out" "$NTSCTL" keys rotate "$l" --propagation 1h --retain 1d
check "list: no secret in rotate's output either" \
	bash -c "! grep -qiF -f <(cut -c1-16 '$tmp/secrets') '$tmp/out'"

# --- keys check ------------------------------------------------------------

echo "ntsctl_test: keys check"
run "$tmp/out" "$NTSCTL" keys check "$l"
rc=$?
show "$tmp/out"
check "check: a good file: exit 0, OK" bash -c "[ $rc -eq 0 ] && grep -q ': OK, ' '$tmp/out'"
bad=$tmp/bad.keys
craft "$bad" 00000401:100 00000402:50
# Line 4 is the second key: cut its secret short.
sed -i '4s/[0-9a-f][0-9a-f]$//' "$bad"
run "$tmp/out" "$NTSCTL" keys check "$bad"
rc=$?
show "$tmp/out"
check "check: a corrupted file: exit 1 with $bad:4:" \
	bash -c "[ $rc -eq 1 ] && grep -q '^$bad:4: ' '$tmp/out'"
craft "$bad" 00000401:100 00000401:50
run "$tmp/out" "$NTSCTL" keys check "$bad"
rc=$?
show "$tmp/out"
check "check: a duplicate key id: exit 1 with $bad:4:" \
	bash -c "[ $rc -eq 1 ] && grep -q '^$bad:4: ' '$tmp/out'"
craft "$bad" 00000401:100
chmod 644 "$bad"
run "$tmp/out" "$NTSCTL" keys check "$bad"
rc=$?
show "$tmp/out"
check "check: mode 0644: exit 1, says chmod 600" bash -c "[ $rc -eq 1 ] && grep -q 'chmod 600' '$tmp/out'"
run "$tmp/out" "$NTSCTL" keys check "$tmp/missing"
check "check: a missing file: exit 1" [ $? -eq 1 ]
craft "$bad" 00000401:100 00000402:50
sed -i '4s/.*/key nothex 1 15 00/' "$bad"
run "$tmp/out" "$NTSCTL" keys rotate "$bad"
rc=$?
show "$tmp/out"
check "rotate refuses a corrupted file: exit 1, FILE:LINE, file unchanged" \
	bash -c "[ $rc -eq 1 ] && grep -q '$bad:4: ' '$tmp/out' && grep -q '^key nothex' '$bad'"

# --- exit codes ------------------------------------------------------------

echo "ntsctl_test: exit codes"
codes_ok=yes
expect_rc() { # expect_rc RC ARG...
	local want=$1 got
	shift
	"$NTSCTL" "$@" >/dev/null 2>&1
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "  ntsctl $*: exit $got, want $want"
		codes_ok=no
	fi
}
expect_rc 0 --help
expect_rc 0 --version
expect_rc 2
expect_rc 2 frobnicate
expect_rc 2 keys
expect_rc 2 keys frob "$k"
expect_rc 2 keys list
expect_rc 2 keys list "$k" "$k"
expect_rc 2 keys rotate "$k" --bogus
expect_rc 2 keys rotate "$k" --retain
expect_rc 2 keys rotate "$k" --retain 7x
expect_rc 2 keys check "$k" --retain 7d
expect_rc 2 probe
expect_rc 2 probe localhost --count many
expect_rc 2 probe localhost --json=yes
expect_rc 2 probe localhost --ntp-server '[::1'
expect_rc 1 keys list "$tmp/missing"
expect_rc 1 keys rotate "$tmp/missing"
check "exit codes: 0 success, 1 failure, 2 usage (3 locked: above)" [ $codes_ok = yes ]

# --- a running ntsd: probe -------------------------------------------------

dev_certs certs other

# As root, ntsd runs as nobody, as in production (user _ntsd): the key
# file and the way to it must then be readable by that user.
run_user=
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	run_user=nobody
fi
d=$tmp/daemon
mkdir -p "$d"
chmod 755 "$tmp" "$d"
dk=$d/keys
"$NTSCTL" keys init "$dk" >/dev/null
[ -z "$run_user" ] || chown "$run_user": "$dk"

ntsd_dir=$d
ntp_port=
ke_port=
setup() {
	local ports
	ports=$(pick_ports 2) || return 1
	read -r ntp_port ke_port <<<"$ports"
	ntsd_conf ntsd "ntp-listen 127.0.0.1 $ntp_port" "ke-listen 127.0.0.1 $ke_port" \
		"ntp-listen ::1 $ntp_port" "ke-listen ::1 $ke_port" \
		"key-file $dk" "key-propagation 1h" ${run_user:+"user $run_user"}
}
listening() { ports_listen "$ke_port" "$ntp_port"; }

echo "ntsctl_test: probe"
if ! ntsd_up setup listening ntsd; then
	not_ok "ntsd starts on 127.0.0.1"
	finish
fi
echo "ntsctl_test: ntsd pid ${ntsd_pid[ntsd]}${run_user:+ (user $run_user)}: NTP port $ntp_port, NTS-KE port $ke_port"

run "$tmp/probe" "$NTSCTL" probe "127.0.0.1:$ke_port" --ca "$tmp/certs/ca.pem" --count 4 --interval 50
rc=$?
show "$tmp/probe"
check "probe: exit 0 and an OK verdict" \
	bash -c "[ $rc -eq 0 ] && grep -q '^probe: OK: NTS-KE with 127.0.0.1 port $ke_port and 4/4 authenticated exchanges with 127.0.0.1 port $ntp_port\$' '$tmp/probe'"
check "probe: prints AEAD, NTP server and port, cookies, offset, delay, stratum, leap" \
	bash -c "grep -q '^nts-ke: .*AEAD AEAD_AES_SIV_CMAC_256, 8 cookies of 104 bytes' '$tmp/probe' &&
		grep -q '^nts-ke: NTP server 127.0.0.1 port $ntp_port (Port Negotiation)' '$tmp/probe' &&
		[ \"\$(grep -c '^ntp [1-4]: offset [-+][0-9.]* s  delay [0-9.]* s  stratum 10  leap 0  cookies 1 ' '$tmp/probe')\" = 4 ]"
kid=$(awk '$1 == "key" { print $2 }' "$dk")
check "probe: cookies sealed under the file's key ($kid)" grep -q "(master key $kid)" "$tmp/probe"

# probe --json: the same fields as the text, one JSON object, same exit codes.
run "$tmp/probe.json" "$NTSCTL" probe "127.0.0.1:$ke_port" --ca "$tmp/certs/ca.pem" --count 3 --interval 20 --json
rc=$?
show "$tmp/probe.json"
check "probe --json: exit 0, valid JSON (python3 -m json.tool)" \
	bash -c "[ $rc -eq 0 ] && python3 -m json.tool '$tmp/probe.json' >/dev/null"
check "probe --json: the text output's fields" python3 - "$tmp/probe.json" "$ke_port" "$ntp_port" "$kid" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ke_port, ntp_port, kid = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
k, n = d["nts_ke"], d["ntp"]
assert k["ok"] is True and k["host"] == "127.0.0.1" and k["port"] == ke_port, k
assert k["alpn"] == "ntske/1" and k["aead"] == "AEAD_AES_SIV_CMAC_256" and k["aead_id"] == 15, k
assert k["cookies"] == 8 and k["cookie_bytes"] == 104 and k["master_key"] == kid, k
assert k["ntp_server"] == "127.0.0.1" and k["server_negotiation"] is False, k
assert k["ntp_port"] == ntp_port and k["port_negotiation"] is True, k
assert n["host"] == "127.0.0.1" and n["port"] == ntp_port and n["ntp_server_option"] is False, n
ex = n["exchanges"]
assert [e["exchange"] for e in ex] == [1, 2, 3], ex
for e in ex:
    assert e["ok"] is True and e["stratum"] == 10 and e["leap"] == 0 and e["cookies"] == 1, e
    assert isinstance(e["offset_s"], float) and e["delay_s"] >= 0, e
    assert e["key_sent"] == kid and e["key_returned"] == kid, e
    assert 0 < e["reply_bytes"] <= e["request_bytes"], e
assert d["exchanges_ok"] == 3 and d["count"] == 3, d
assert d["verdict"] == "OK" and d["exit_status"] == 0, d
assert d["reason"] == "NTS-KE with 127.0.0.1 port %d and 3/3 authenticated exchanges with 127.0.0.1 port %d" % (ke_port, ntp_port), d
PY
# A failed probe in JSON: exit 1 as in text, the reason in the object.
run "$tmp/bad.json" "$NTSCTL" probe "127.0.0.1:$ke_port" --ca "$tmp/certs/ca.pem" --count 2 \
	--ntp-server "127.0.0.1:$(pick_port)" --json
rc=$?
show "$tmp/bad.json"
check "probe --json, NTP port closed: exit 1, FAILED, the failed exchange named" python3 - "$tmp/bad.json" "$rc" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert int(sys.argv[2]) == 1 and d["exit_status"] == 1, d
assert d["verdict"] == "FAILED" and "0/2 authenticated exchanges" in d["reason"], d
assert d["ntp"]["ntp_server_option"] is True, d
e = d["ntp"]["exchanges"]
assert len(e) == 1 and e[0]["ok"] is False and e[0]["error"], e
PY
run "$tmp/bad.json" "$NTSCTL" probe "127.0.0.1:$(pick_port)" --json
rc=$?
check "probe --json, NTS-KE port closed: exit 1, nts_ke.ok false with the error" python3 - "$tmp/bad.json" "$rc" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert int(sys.argv[2]) == 1 and d["nts_ke"]["ok"] is False and d["nts_ke"]["error"], d
assert d["verdict"] == "FAILED" and d["reason"].startswith("NTS-KE"), d
assert "ntp" not in d, d
PY

run "$tmp/out" "$NTSCTL" probe "127.0.0.1:$ke_port" --ca "$tmp/certs/ca.pem" --count 2 --aead 17
rc=$?
show "$tmp/out"
check "probe --aead 17: exit 0, AEAD_AES_SIV_CMAC_512, 168-byte cookies" \
	bash -c "[ $rc -eq 0 ] && grep -q 'AEAD AEAD_AES_SIV_CMAC_512, 8 cookies of 168 bytes' '$tmp/out'"

# probe_v6_port: an IPv6 address with a port goes in brackets; without
# them "::1:PORT" is refused as ambiguous (it is also the address
# ::1:PORT), saying how to write either.  It used to probe port 4460 of
# the address ::1:PORT.
# probe_case LABEL RC TEXT ARG...: ntsctl probe ARG... exits RC and says TEXT.
probe_case() {
	local label=$1 want=$2 text=$3 rc
	shift 3
	run "$tmp/out" "$NTSCTL" probe "$@"
	rc=$?
	show "$tmp/out"
	if [ $rc -eq "$want" ] && grep -qF -- "$text" "$tmp/out"; then
		ok "$label"
	else
		not_ok "$label (exit $rc)"
	fi
}
probe_case "probe [::1]:PORT: exit 0, NTS-KE with ::1 port $ke_port" 0 \
	"probe: OK: NTS-KE with ::1 port $ke_port and 2/2 " \
	"[::1]:$ke_port" --ca "$tmp/certs/ca.pem" --count 2 --interval 50
probe_case "probe ::1:PORT: exit 2, ambiguous, both bracket forms named" 2 \
	"ntsctl: probe: '::1:$ke_port' is ambiguous: write [::1]:$ke_port for port $ke_port, or [::1:$ke_port] for the IPv6 address" \
	"::1:$ke_port" --ca "$tmp/certs/ca.pem" --count 1
probe_case "probe --ntp-server ::1:PORT: exit 2, ambiguous" 2 \
	"ntsctl: probe: --ntp-server: '::1:$ntp_port' is ambiguous" \
	"127.0.0.1:$ke_port" --ca "$tmp/certs/ca.pem" --ntp-server "::1:$ntp_port"
probe_case "probe --ntp-server [::1]:PORT: exit 0, exchanges with ::1 port $ntp_port" 0 \
	"authenticated exchanges with ::1 port $ntp_port" \
	"127.0.0.1:$ke_port" --ca "$tmp/certs/ca.pem" --ntp-server "[::1]:$ntp_port" --count 2 --interval 50

closed=$(pick_port "$ntp_port" "$ke_port")
run "$tmp/out" "$NTSCTL" probe "127.0.0.1:$closed" --ca "$tmp/certs/ca.pem"
rc=$?
show "$tmp/out"
check "probe: closed NTS-KE port: exit 1, FAILED verdict" \
	bash -c "[ $rc -eq 1 ] && grep -q '^probe: FAILED: ' '$tmp/out'"
run "$tmp/out" "$NTSCTL" probe "127.0.0.1:$ke_port" --ca "$tmp/certs/ca.pem" --ntp-server "127.0.0.1:$closed"
rc=$?
show "$tmp/out"
check "probe --ntp-server to a closed port: exit 1, FAILED verdict" \
	bash -c "[ $rc -eq 1 ] && grep -q '^ntp: sending to 127.0.0.1 port $closed' '$tmp/out' && grep -q '^probe: FAILED: 0/3 ' '$tmp/out'"
run "$tmp/out" "$NTSCTL" probe "127.0.0.1:$ke_port" --ca "$tmp/other/ca.pem"
rc=$?
show "$tmp/out"
check "probe: untrusted CA: exit 1, certificate named" \
	bash -c "[ $rc -eq 1 ] && grep -q '^probe: FAILED: .*certificate' '$tmp/out'"

# --- a running ntsd: key file reloads --------------------------------------

echo "ntsctl_test: daemon reloads"
loads() { grep -c ': loaded [0-9]* master keys' "$d/ntsd.log"; }
loaded() { [ "$(loads)" -ge "$1" ]; }
wait_loads() { wait_for 30 loaded "$1"; } # wait_loads N: up to 3 s for the N-th load
n=$(loads)
"$NTSCTL" keys rotate "$dk" --propagation 1h >/dev/null
check "daemon: picks up a rotation within 2 s (no SIGHUP)" wait_loads $((n + 1))
tail -n 1 "$d/ntsd.log" | show /dev/stdin

# install_keys: stdin replaces the key file the way a distribution tool
# does (temp file, owner and mode set, rename).
install_keys() {
	cat >"$dk.tmp" && chmod 600 "$dk.tmp" &&
		{ [ -z "$run_user" ] || chown "$run_user": "$dk.tmp"; } && mv -f "$dk.tmp" "$dk"
}

# A bad file: logged with FILE:LINE, the last good set keeps serving.
good=$(cat "$dk")
{ head -n 3 "$dk"; echo "key zz"; } | install_keys
wait_for 30 grep -q "$dk:4: .*keeping the key set already loaded" "$d/ntsd.log"
grep "$dk:4:" "$d/ntsd.log" | show /dev/stdin
run "$tmp/out" "$NTSCTL" probe "127.0.0.1:$ke_port" --ca "$tmp/certs/ca.pem" --count 2 --interval 10
rc=$?
check "daemon: a bad key file is logged with FILE:LINE and the old set keeps serving (probe exit $rc)" \
	bash -c "grep -q '$dk:4: .*keeping the key set already loaded' '$d/ntsd.log' && [ $rc -eq 0 ]"
n=$(loads)
printf '%s\n' "$good" | install_keys
check "daemon: the repaired file is loaded" wait_loads $((n + 1))

# keyfile_chown_reload: the file replaced by one ntsd's user cannot read
# (as a root job writing it would); once chown'ed, ntsd must load it
# without a SIGHUP.  It used to wait for the next content change.
if [ -n "$run_user" ]; then
	cp "$dk" "$dk.tmp" && chown root: "$dk.tmp" && chmod 600 "$dk.tmp" && mv -f "$dk.tmp" "$dk"
	wait_for 30 grep -q "$dk: cannot open: Permission denied" "$d/ntsd.log"
	denied=$(grep -c "$dk: cannot open: Permission denied" "$d/ntsd.log")
	sleep 1.5
	denied2=$(grep -c "$dk: cannot open: Permission denied" "$d/ntsd.log")
	n=$(loads)
	chown "$run_user": "$dk"
	if wait_loads $((n + 1)); then
		ok "keyfile_chown_reload: unreadable file logged once ($denied2 lines), loaded within 2 s of the chown"
	else
		not_ok "keyfile_chown_reload: not loaded within 3 s of the chown (Permission denied logged $denied, then $denied2 times)"
	fi
	check "keyfile_chown_reload: the failure is logged once, not every second" [ "$denied2" -eq 1 ]
else
	echo "skip - keyfile_chown_reload: needs root and user nobody"
fi

ntsd_stop ntsd
echo "ntsctl_test: ntsd log:"
show "$d/ntsd.log"
check "ntsd: no sanitizer report" no_sanitizer_report "$d/ntsd.log"
finish
