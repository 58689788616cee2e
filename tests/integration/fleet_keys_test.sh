#!/usr/bin/env bash
# fleet_keys_test.sh: a fleet's key file from its first start through its
# first rotation, with each host holding its own copy of the file.
#
#   127.0.0.1  ntsd, NTS-KE only, sends clients to 127.0.0.3 port P
#   127.0.0.3  ntsd, NTP only, port P
#   127.0.0.4  ntsd, NTP only, port P
# Every host: key-propagation 1h (the default), key-file-create no.
#
#   0. without a key file: one host (key-file-create yes, the default)
#      makes its own on first start (ntsd -n says it will); a host of the
#      fleet (key-file-create no) refuses to start and ntsd -n fails, both
#      saying the fleet's file must be copied there, and no file appears;
#   1. init the key file on the KE host, distribute copies to the NTP
#      hosts, start the NTP hosts, then the KE host; probes through the KE
#      host authenticate on both NTP hosts;
#   2. rotation_seals_unpropagated_key: rotate on the KE host only, soon
#      after the init (both keys younger than key-propagation): the
#      KE host keeps sealing with the init key, so neither NTP host (still
#      on the old file) NAKs; `ntsctl keys list` shows the init key
#      sealing and the new one pending;
#   3. distribute the rotated file: still no NAK, the NTP hosts load it.
# Prints "N passed, N failed".  Run by make check (srcdir set, binaries in
# the build dir); by hand:
#   cd BUILDDIR && srcdir=SRCDIR SRCDIR/tests/integration/fleet_keys_test.sh
# Exit 0 all passed, 1 a failure, 77 a tool missing outside CI (CI=true:
# missing tools fail).  FLEET_KEYS_TEST_KEEP=1 keeps the temp dir.
# The setup and ready functions run through ntsd_up.
# shellcheck disable=SC2317
set -u

srcdir=${srcdir:-$(dirname "$0")/../..}
srcdir=$(cd "$srcdir" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$srcdir/tests/integration/lib.sh"
KE_ADDR=127.0.0.1
NTP_ADDRS="127.0.0.3 127.0.0.4"

need_tools "apt-get install iproute2 openssl coreutils" ss openssl timeout stat
need_programs NTSD NTSCTL make_certs
tmp_make
dev_certs certs

# Each host's own copy of the key file, in its own directory.
keys_of() { echo "$tmp/$1/keys"; }
for n in ke $(for a in $NTP_ADDRS; do echo "ntp-$a"; done); do
	mkdir -p "$tmp/$n"
done
# distribute: copy the KE host's file to every NTP host, atomically, mode
# and owner kept (what configuration management does).
distribute() {
	local a dst
	for a in $NTP_ADDRS; do
		dst=$(keys_of "ntp-$a")
		cp -p "$(keys_of ke)" "$dst.tmp" && mv -f "$dst.tmp" "$dst" || return 1
	done
}
# loaded NAME N: NAME's log says it loaded a key set of N keys.
loaded() { grep -q ": loaded $2 master keys" "$tmp/$1.log"; }

# --- 0. no key file ------------------------------------------------------------

echo "fleet_keys_test: first start without a key file"
mkdir -p "$tmp/solo"
solo_setup() {
	local ports
	ports=$(pick_ports 2) || return 1
	read -r p1 p2 <<<"$ports"
	ntsd_conf solo "# one host, key-file-create left at its default" \
		"ntp-listen 127.0.0.1 $p1" "ke-listen 127.0.0.1 $p2" "key-file $tmp/solo/keys"
}
solo_setup
"$NTSD" -n -c "$tmp/solo.conf" >"$tmp/out" 2>&1
rc=$?
show "$tmp/out"
check "one host, ntsd -n: exit 0, says it will create the key file" \
	bash -c "[ $rc -eq 0 ] && grep -q 'does not exist yet; ntsd will create it' '$tmp/out'"
if ntsd_up solo_setup : solo && [ "$(stat -c %a "$tmp/solo/keys" 2>/dev/null)" = 600 ] &&
	grep -q 'key file did not exist; created it' "$tmp/solo.log"; then
	ok "one host: the first start creates its key file (mode 0600)"
else
	not_ok "one host: no key file created on first start"
	show "$tmp/solo.log"
fi
ntsd_stop solo

# A host of the fleet whose copy has not arrived.
ntsd_conf lone "# NTP host of a fleet, before the key file reached it" "ke-service no" \
	"ntp-listen 127.0.0.3 $(pick_port)" "key-file $tmp/lone/keys" "key-file-create no" \
	"ke-certificate -" "ke-private-key -" "ke-threads -"
mkdir -p "$tmp/lone"
no_create_msg="$tmp/lone/keys: no key file, and key-file-create is no: this host shares the fleet's key file and does not make its own"
"$NTSD" -n -c "$tmp/lone.conf" >"$tmp/out" 2>&1
rc=$?
show "$tmp/out"
check "key-file-create no, ntsd -n: exit 1, says the fleet's key file must be copied first" \
	bash -c "[ $rc -eq 1 ] && grep -qF \"$no_create_msg\" '$tmp/out'"
timeout 10 "$NTSD" -f -c "$tmp/lone.conf" >"$tmp/lone.log" 2>&1 </dev/null
rc=$?
show "$tmp/lone.log"
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -qF "$no_create_msg" "$tmp/lone.log" &&
	[ ! -e "$tmp/lone/keys" ]; then
	ok "key-file-create no: ntsd refuses to start (exit $rc), makes no key of its own"
else
	not_ok "key-file-create no: exit $rc (want a refusal), key file made: $([ -e "$tmp/lone/keys" ] && echo yes || echo no)"
fi

# --- 1. first start ----------------------------------------------------------

echo "fleet_keys_test: init on the KE host, distribute, start"
"$NTSCTL" keys init "$(keys_of ke)" >"$tmp/out" 2>&1
rc=$?
show "$tmp/out"
k_init=$(sed -n 's/.*: created with key \([0-9a-f]*\) .*/\1/p' "$tmp/out")
if [ $rc -eq 0 ] && [ -n "$k_init" ] && distribute; then
	ok "keys init (key $k_init) on the KE host, copies on $NTP_ADDRS"
else
	not_ok "keys init and distribute: exit $rc"
	finish
fi

ntp_port=
ke_port=
setup() {
	local ports a ntp1=${NTP_ADDRS%% *}
	ports=$(pick_ports 2) || return 1
	read -r ntp_port ke_port <<<"$ports"
	for a in $NTP_ADDRS; do
		ntsd_conf "ntp-$a" "# NTP-only host with its own copy of the key file" \
			"ke-service no" "ntp-listen $a $ntp_port" "key-file $(keys_of "ntp-$a")" \
			"key-file-create no" "ke-certificate -" "ke-private-key -" "ke-threads -"
	done
	ntsd_conf ke "# KE-only host: clients are sent to $ntp1 port $ntp_port" \
		"ntp-service no" "ke-listen $KE_ADDR $ke_port" "ke-ntp-server $ntp1" \
		"ke-ntp-port $ntp_port" "key-file $(keys_of ke)" "key-file-create no" \
		"local-stratum -" "threads -"
}
names=()
for a in $NTP_ADDRS; do names+=("ntp-$a"); done
names+=(ke)
if ! ntsd_up setup : "${names[@]}"; then
	not_ok "ntsd starts on $NTP_ADDRS (NTP) and $KE_ADDR (NTS-KE)"
	finish
fi
ok "NTP hosts on $NTP_ADDRS port $ntp_port, then the KE host on $KE_ADDR:$ke_port"

# probe_all WHAT: a probe through the KE host at each NTP host must get
# 2 authenticated exchanges, its NTS-KE cookies and every fresh cookie
# under key $want_key, and no NAK.
want_key=$k_init
probe_all() {
	local a rc out=$tmp/probe.out
	for a in $NTP_ADDRS; do
		"$NTSCTL" probe "$KE_ADDR:$ke_port" --ca "$tmp/certs/ca.pem" --name localhost \
			--ntp-server "$a" --count 2 --interval 50 >"$out" 2>&1
		rc=$?
		show "$out"
		if [ $rc -eq 0 ] && grep -q "(master key $want_key)\$" "$out" &&
			[ "$(grep -c "key $want_key->$want_key " "$out")" -eq 2 ] &&
			! grep -q 'NAK' "$out"; then
			ok "$1: $a: authenticated, cookies under key $want_key, no NAK"
		else
			not_ok "$1: $a: exit $rc (want 0, cookies under $want_key, no NAK)"
		fi
	done
}
probe_all "first start"

# --- 2. rotate on the KE host only --------------------------------------------

echo "fleet_keys_test: rotate on the KE host only, both keys younger than key-propagation"
# In a later second than the init, so the new key is the newer by its
# creation time alone (the same second is a unit test: keypolicy).
t_init=$(awk '$1 == "key" { print $3 }' "$(keys_of ke)")
later() { [ "$(date +%s)" -gt "$t_init" ]; }
wait_for 20 later
"$NTSCTL" keys rotate "$(keys_of ke)" >"$tmp/out" 2>&1
rc=$?
show "$tmp/out"
k_new=$(sed -n 's/.*: added key \([0-9a-f]*\);.*/\1/p' "$tmp/out")
if [ $rc -eq 0 ] && [ -n "$k_new" ] && grep -q "sealing key $k_init\$" "$tmp/out"; then
	ok "rotate added key $k_new; key $k_init still seals"
else
	not_ok "rotate: exit $rc, added '${k_new:-?}' (want the sealing key to stay $k_init)"
fi
"$NTSCTL" keys list "$(keys_of ke)" >"$tmp/list" 2>&1
show "$tmp/list"
if grep -Eq "^$k_init .* sealing\$" "$tmp/list" && grep -Eq "^${k_new:-none} .* pending\$" "$tmp/list"; then
	ok "keys list: $k_init sealing, $k_new pending"
else
	not_ok "keys list: want $k_init sealing and ${k_new:-?} pending"
fi
check "the KE host loaded the rotated file (2 keys)" wait_for 50 loaded ke 2
probe_all "rotated on the KE host only"

# --- 3. distribute --------------------------------------------------------------

echo "fleet_keys_test: distribute the rotated file"
distribute
for a in $NTP_ADDRS; do
	check "ntp-$a loaded the distributed file (2 keys)" wait_for 50 loaded "ntp-$a" 2
done
probe_all "distributed"

for n in "${names[@]}"; do
	ntsd_stop "$n"
	if [ "${ntsd_status[$n]}" = 0 ] && no_sanitizer_report "$tmp/$n.log"; then
		ok "$n exited 0"
	else
		not_ok "$n: exit ${ntsd_status[$n]}, or a sanitizer report:"
		show "$tmp/$n.log"
	fi
done
finish
