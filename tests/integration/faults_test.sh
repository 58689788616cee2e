#!/usr/bin/env bash
# faults_test.sh: faults that lose nothing (issue 15 part 4), against the
# built ntsd and ntsctl.
#   disk_full        ntsctl keys rotate on a full tmpfs: exit 1 naming the
#                    cause, the key file byte-identical, no temp file left,
#                    ntsd serving on (NTS-KE and NTP, 0 NAK); with room
#                    again the next rotation lands and ntsd loads it
#   kill_rotate      SIGKILL (strace inject) at every call of each system
#                    call of a rotation, one run per call: the file is the
#                    old set or the new one, never a mix or empty; a
#                    rotation after the kills succeeds and removes the temp
#                    files they left
#   secret_swap      the key file and the certificate in a Kubernetes-style
#                    Secret volume (FILE -> ..data/FILE, ..data -> a
#                    timestamped dir swapped by rename): picked up live,
#                    NTS-KE serves the new certificate (fingerprint) and
#                    cookies under the new key, NTP accepts them
#   bad_files        through the same volume: a certificate and private key
#                    that do not match, a truncated PEM, a key file whose
#                    only key is dated a year ahead: each logged (the key
#                    file with FILE:LINE) and the last good certificate and
#                    keys keep serving; a good update afterwards loads
#   emfile           ntsd's descriptor limit lowered (prlimit) and a KE
#                    storm holding connections open: NTP keeps answering,
#                    accept is paused (refused_out_of_fds counts, CPU stays
#                    low), NTS-KE serves again once the storm lets go
#   ke_storm         ke_storm holds 1,000 stalled KE connections from
#                    127.0.0.2-9 (ntsd holds the two thirds that sent
#                    bytes; the kernel the silent third), resets 50 and floods TLS handshakes from
#                    one host (caps raised so that ntsd admits and holds them
#                    all, rate limit off so the flood reaches TLS): each
#                    ntsctl probe from 127.0.0.1 completes NTS-KE and NTP
#                    within 1 s (the time printed), ntsd refuses nothing
#                    and serves on after it
# disk_full needs root (a tmpfs mount, in a private mount namespace: the
# script runs itself again under unshare -m); without root it is reported
# as not run.  Run by make check; by hand:
#   cd BUILDDIR && srcdir=SRCDIR SRCDIR/tests/integration/faults_test.sh
# Exit 0 all passed, 1 a failure, 77 skipped (CI=true: a missing tool or
# not being root fails).  FAULTS_TEST_KEEP=1 keeps the temp dir.  The
# test raises its own descriptor limit (ulimit -n, which ntsd inherits) for
# ke_storm's 1,000 connections.
# The setup and ready functions run through ntsd_up.
# shellcheck disable=SC2317
set -u

srcdir=${srcdir:-$(dirname "$0")/../..}
srcdir=$(cd "$srcdir" && pwd)
# Root: the whole test in a private mount namespace, so its tmpfs is
# nobody else's and goes with it.
if [ "$(id -u)" -eq 0 ] && [ -z "${FAULTS_TEST_MOUNT_NS:-}" ] && command -v unshare >/dev/null; then
	FAULTS_TEST_MOUNT_NS=1 exec unshare -m --propagation private -- "$0" "$@"
fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$srcdir/tests/integration/lib.sh"

need_tools "apt-get install iproute2 openssl coreutils strace util-linux" \
	ss openssl timeout stdbuf strace prlimit cmp
KE_STORM=${KE_STORM:-./tests/integration/ke_storm}
need_programs NTSD NTSCTL KE_STORM make_certs
tmp_make
dev_certs certs certs2
ca=$tmp/certs/ca.pem
mnt=
cleanup_hook() {
	bg_stop
	[ -z "$mnt" ] || umount "$mnt" 2>/dev/null
}

# --- helpers ---------------------------------------------------------------

# setup_ntsd NAME KEYFILE CERT KEY LINE...: ports in NAME_ntp, NAME_ke,
# NAME_metrics; the config, new cookies sealed with the newest key.
declare -A port=()
setup_ntsd() {
	local n=$1 keys=$2 cert=$3 key=$4 ports
	shift 4
	ports=$(pick_ports 3) || return 1
	read -r "port[${n}_ntp]" "port[${n}_ke]" "port[${n}_metrics]" <<<"$ports"
	ntsd_conf "$n" "ntp-listen 127.0.0.1 ${port[${n}_ntp]}" \
		"ke-listen 127.0.0.1 ${port[${n}_ke]}" \
		"metrics-listen 127.0.0.1 ${port[${n}_metrics]}" \
		"key-file $keys" "ke-certificate $cert" "ke-private-key $key" \
		"key-propagation 0" "$@"
}
# up NAME SETUP: ntsd NAME started through ntsd_up, or a failed case.
listening_on=
listening() { ports_listen "${port[${listening_on}_ke]}" "${port[${listening_on}_ntp]}"; }
up() {
	listening_on=$1
	if ntsd_up "$2" listening "$1"; then
		echo "$test_name: ntsd $1: pid ${ntsd_pid[$1]}, NTS-KE ${port[${1}_ke]}," \
			"NTP ${port[${1}_ntp]}, metrics ${port[${1}_metrics]}"
		return 0
	fi
	not_ok "$1: ntsd starts"
	return 1
}

# probe NAME CA: ntsctl probe --json (NTS-KE, 3 NTP exchanges) against
# ntsd NAME, output in $tmp/probe.out; 0 on its OK verdict.
probe() {
	"$NTSCTL" probe "127.0.0.1:${port[${1}_ke]}" --ca "$2" --count 3 --interval 10 --json \
		>"$tmp/probe.out" 2>&1
}
# cookie_keys: the master key ids the last probe's cookies named: NTS-KE's
# then each NTP reply's ("a b c d").
cookie_keys() {
	sed -n 's/.*"\(master_key\|key_returned\)": *"\([0-9a-f]*\)".*/\2/p' "$tmp/probe.out" |
		tr '\n' ' '
}
probe_ok() { grep -Eq '"verdict": *"OK"' "$tmp/probe.out"; }
exchanges() { grep -Ec '"key_returned"' "$tmp/probe.out"; }
# metric NAME PROMQL-NAME [LABEL]: a value from ntsd NAME's /metrics.
metric() {
	"$NTSCTL" stats "127.0.0.1:${port[${1}_metrics]}" --raw 2>/dev/null |
		awk -v m="$2" -v l="${3:-}" '$1 == m || (l != "" && $1 == m "{" l "}") { print $2 }'
}
naks() { metric "$1" ntsd_ntp_naks_total; }
# served NAME: the SHA-256 fingerprint of the certificate a TLS 1.3 client
# with ALPN ntske/1 gets from ntsd NAME.
served() {
	timeout 5 openssl s_client -connect "127.0.0.1:${port[${1}_ke]}" -tls1_3 -alpn ntske/1 \
		</dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 2>/dev/null
}
fingerprint() { openssl x509 -in "$1" -noout -fingerprint -sha256; }
# key_ids FILE: the file's key ids, sorted, one line ("" if it does not
# load).
key_ids() {
	"$NTSCTL" keys list "$1" 2>/dev/null | awk 'NR > 1 { print $1 }' | sort | tr '\n' ' '
}
# count_lines FILE PATTERN: lines of FILE matching the extended regex.
count_lines() { grep -cE -- "$2" "$1"; }
more_lines() { [ "$(count_lines "$1" "$2")" -gt "$3" ]; }
# cpu_ticks PID: user + system clock ticks the process has used.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# served_by NAME ID: the last probe of ntsd NAME passed, every cookie it
# got names master key ID, and ntsd NAME has sent no NAK.
served_by() {
	probe_ok && [ "$(exchanges)" -eq 3 ] && [ "$(naks "$1")" = 0 ] &&
		[ "$(cookie_keys | tr -s ' ' '\n' | grep -v '^$' | sort -u)" = "$2" ]
}

# --- disk_full: rotation on a full disk ------------------------------------

case_disk_full() {
	local keys before out rc
	mnt=$tmp/full
	mkdir "$mnt"
	if ! mount -t tmpfs -o size=64k,mode=0700 "faults_test_$$" "$mnt"; then
		not_ok "disk_full: cannot mount a tmpfs on $mnt"
		mnt=
		return
	fi
	keys=$mnt/keys
	"$NTSCTL" keys init "$keys" >/dev/null || { not_ok "disk_full: keys init"; return; }
	cp -p "$keys" "$tmp/keys.before"
	setup_disk() { setup_ntsd disk "$keys" "$tmp/certs/server.pem" "$tmp/certs/server.key"; }
	up disk setup_disk || return
	before=$(count_lines "$tmp/disk.log" 'loaded [0-9]+ master keys')
	dd if=/dev/zero of="$mnt/fill" bs=4k >/dev/null 2>&1
	echo "$test_name: disk_full: $(df -k --output=size,avail "$mnt" | tail -n 1 |
		awk '{ print $1 " KiB tmpfs, " $2 " KiB free" }')"
	out=$("$NTSCTL" keys rotate "$keys" 2>&1)
	rc=$?
	show <<<"$out"
	check "disk_full: ntsctl keys rotate exits 1 (exit $rc)" [ "$rc" -eq 1 ]
	check "disk_full: it says why (No space left on device)" \
		grep -q 'No space left on device' <<<"$out"
	check "disk_full: the key file is byte-identical" cmp -s "$keys" "$tmp/keys.before"
	check "disk_full: no temporary file left ($(find "$mnt" -name 'keys.tmp.*' | wc -l))" \
		[ -z "$(find "$mnt" -name 'keys.tmp.*')" ]
	sleep 1.5
	if probe disk "$ca" && [ "$(naks disk)" = 0 ] &&
		! grep -q 'keeping the key set' "$tmp/disk.log"; then
		ok "disk_full: ntsd serves on (probe: NTS-KE and $(exchanges) NTP" \
			"exchanges OK, $(naks disk) NAK, no reload failure)"
	else
		show "$tmp/probe.out"
		not_ok "disk_full: ntsd serves on (NAKs $(naks disk))"
	fi
	rm -f "$mnt/fill"
	if "$NTSCTL" keys rotate "$keys" >/dev/null 2>&1 &&
		wait_for 50 more_lines "$tmp/disk.log" 'loaded 2 master keys' 0 &&
		probe disk "$ca" && [ "$(naks disk)" = 0 ]; then
		ok "disk_full: with room again the rotation lands and ntsd loads it (2 keys, 0 NAK)"
	else
		not_ok "disk_full: with room again the rotation lands and ntsd loads it" \
			"(loads: $(count_lines "$tmp/disk.log" 'loaded [0-9]+ master keys'), was $before)"
	fi
	ntsd_stop disk
	umount "$mnt" && mnt=
}

# --- kill_rotate: SIGKILL at each system call ------------------------------

# The system calls of a rotation, its write among them: lock, read, the
# temporary file (open, chmod, write, fsync, chown, close), rename, the
# directory's fsync.
kill_syscalls="openat flock newfstatat read close getrandom fchmod write fsync fchown rename"

case_kill_rotate() {
	local dir=$tmp/kill keys old_ids s n calls runs=0 killed=0 same=0 new=0 bad=0 ids temps
	mkdir "$dir"
	keys=$dir/keys
	if ! { "$NTSCTL" keys init "$keys" && "$NTSCTL" keys rotate "$keys" &&
		cp -p "$keys" "$tmp/kill.old"; } >/dev/null; then
		not_ok "kill_rotate: a key file"
		return
	fi
	old_ids=$(key_ids "$keys")
	# How often a clean rotation (of the same file) calls each.
	strace -f -qq -o "$tmp/kill.trace" "$NTSCTL" keys rotate "$keys" >/dev/null
	cp -p "$tmp/kill.old" "$keys"
	for s in $kill_syscalls; do
		calls=$(grep -cE "^[0-9]+ +$s\(" "$tmp/kill.trace")
		echo "$test_name: kill_rotate: $s: $calls calls"
		[ "$calls" -gt 0 ] || { not_ok "kill_rotate: a rotation calls $s"; continue; }
		for ((n = 1; n <= calls; n++)); do
			runs=$((runs + 1))
			# In a shell of its own, which says nothing of the kill.
			bash -c 'strace -f -qq -o /dev/null -e trace="$1" \
				-e inject="$1:signal=KILL:when=$2" "$3" keys rotate "$4" >/dev/null 2>&1
				echo $?' _ "$s" "$n" "$NTSCTL" "$keys" 2>/dev/null >"$tmp/kill.rc"
			[ "$(cat "$tmp/kill.rc")" = 137 ] && killed=$((killed + 1))
			ids=$(key_ids "$keys")
			if cmp -s "$keys" "$tmp/kill.old"; then
				same=$((same + 1))
			elif [ "$(wc -w <<<"$ids")" -eq $(($(wc -w <<<"$old_ids") + 1)) ] &&
				[ "$(tr ' ' '\n' <<<"$ids" | grep -cxFf <(tr ' ' '\n' <<<"$old_ids" | grep .))" \
					-eq "$(wc -w <<<"$old_ids")" ]; then
				new=$((new + 1))
			else
				bad=$((bad + 1))
				echo "$test_name: kill_rotate: after $s #$n: ids '$ids', file:"
				sed 's/[0-9a-f]\{64\}/(secret)/' "$keys" | show
			fi
			cp -p "$tmp/kill.old" "$keys"
		done
	done
	check "kill_rotate: $runs runs, $killed killed by SIGKILL at a system call" \
		[ "$killed" -ge $((runs * 9 / 10)) ]
	if [ "$bad" -eq 0 ] && [ "$same" -gt 0 ] && [ "$new" -gt 0 ]; then
		ok "kill_rotate: the file was the old set $same times, the new set $new times, never a mix"
	else
		not_ok "kill_rotate: the file was the old set $same times, the new set $new times," \
			"something else $bad times"
	fi
	temps=$(find "$dir" -name 'keys.tmp.*' | wc -l)
	if "$NTSCTL" keys rotate "$keys" >"$tmp/kill.out" 2>&1 &&
		[ "$(wc -w <<<"$(key_ids "$keys")")" -eq $(($(wc -w <<<"$old_ids") + 1)) ]; then
		ok "kill_rotate: a rotation after the kills succeeds ($temps temporary files were left)"
	else
		show "$tmp/kill.out"
		not_ok "kill_rotate: a rotation after the kills succeeds ($temps temporary files left)"
	fi
	check "kill_rotate: and removes the temporary files ($(find "$dir" -name 'keys.tmp.*' |
		wc -l) left)" [ -z "$(find "$dir" -name 'keys.tmp.*')" ]
}

# --- secret_swap and bad_files: a Kubernetes Secret volume -----------------

vol=$tmp/secret
gen=0
# secret_update CERT KEY KEYFILE: what the kubelet does: a new timestamped
# dir with the files, a ..data_tmp symlink to it renamed over ..data, the
# old dir removed.  The files are symlinks FILE -> ..data/FILE.
secret_update() {
	local d old f
	gen=$((gen + 1))
	d=..$(date -u +%Y_%m_%d_%H_%M_%S).$gen
	mkdir "$vol/$d" && cp "$1" "$vol/$d/tls.crt" && cp "$2" "$vol/$d/tls.key" &&
		cp "$3" "$vol/$d/keys" && chmod 600 "$vol/$d/keys" "$vol/$d/tls.key" || return 1
	# The first update makes the volume: no ..data yet.
	old=$(readlink "$vol/..data" 2>/dev/null)
	ln -s "$d" "$vol/..data_tmp" && mv -T "$vol/..data_tmp" "$vol/..data" || return 1
	for f in tls.crt tls.key keys; do
		[ -L "$vol/$f" ] || ln -s "..data/$f" "$vol/$f"
	done
	[ -z "$old" ] || rm -rf "${vol:?}/$old"
}
cert_loads() { count_lines "$tmp/k8s.log" "certificate $vol/tls.crt loaded"; }
key_loads() { count_lines "$tmp/k8s.log" "$vol/keys: loaded"; }

case_secret_swap() {
	local c0 k0 t0 t1 keys2
	mkdir -p "$vol"
	if ! { "$NTSCTL" keys init "$tmp/keys1" && "$NTSCTL" keys init "$tmp/keys2" &&
		secret_update "$tmp/certs/server.pem" "$tmp/certs/server.key" "$tmp/keys1"; } \
		>/dev/null; then
		not_ok "secret_swap: a Secret volume"
		return 1
	fi
	setup_k8s() { setup_ntsd k8s "$vol/keys" "$vol/tls.crt" "$vol/tls.key"; }
	up k8s setup_k8s || return 1
	probe k8s "$ca"
	echo "$test_name: secret_swap: before: $(served k8s), cookies under $(cookie_keys)"
	keys2=$(key_ids "$tmp/keys2")
	id2=${keys2% }
	c0=$(cert_loads)
	k0=$(key_loads)
	t0=$(date +%s%N)
	secret_update "$tmp/certs2/server.pem" "$tmp/certs2/server.key" "$tmp/keys2"
	if wait_for 50 more_lines "$tmp/k8s.log" "certificate $vol/tls.crt loaded" "$c0" &&
		wait_for 50 more_lines "$tmp/k8s.log" "$vol/keys: loaded" "$k0"; then
		t1=$(date +%s%N)
		ok "secret_swap: ntsd loaded the new certificate and key file" \
			"$(((t1 - t0) / 1000000)) ms after the swap, no SIGHUP"
	else
		not_ok "secret_swap: ntsd loaded the new certificate and key file within 5 s"
	fi
	check "secret_swap: NTS-KE serves the new certificate ($(served k8s))" \
		[ "$(served k8s)" = "$(fingerprint "$tmp/certs2/server.pem")" ]
	probe k8s "$tmp/certs2/ca.pem"
	check "secret_swap: cookies under the new key $id2, NTP accepts them: $(cookie_keys), $(naks k8s) NAK" \
		served_by k8s "$id2"
	check "secret_swap: nothing failed to load" \
		bash -c "! grep -qE 'keeping the|does not match|cannot load' '$tmp/k8s.log'"
}

# bad_update NAME WHAT CERT KEY KEYFILE LOG-PATTERN: the volume updated
# with a bad CERT/KEY/KEYFILE: LOG-PATTERN logged within 5 s and the
# certs2 certificate and keys2's key keep serving.
bad_update() {
	local name=$1 what=$2 pattern=$6 n0 line
	n0=$(count_lines "$tmp/k8s.log" "$pattern")
	secret_update "$3" "$4" "$5"
	if wait_for 50 more_lines "$tmp/k8s.log" "$pattern" "$n0"; then
		line=$(grep -E -- "$pattern" "$tmp/k8s.log" | tail -n 1)
		ok "bad_files: $name: logged: ${line#*ntsd: }"
	else
		not_ok "bad_files: $name: no log line matching '$pattern' within 5 s"
	fi
	sleep 1.2
	check "bad_files: $name: the last good certificate is served" \
		[ "$(served k8s)" = "$(fingerprint "$tmp/certs2/server.pem")" ]
	probe k8s "$tmp/certs2/ca.pem"
	check "bad_files: $name: the last good keys serve ($what): cookies $(cookie_keys), $(naks k8s) NAK" \
		served_by k8s "$id2"
}

case_bad_files() {
	local good_crt=$tmp/certs2/server.pem good_key=$tmp/certs2/server.key c0
	id2=$(key_ids "$tmp/keys2")
	id2=${id2% }
	# A key file whose only key is dated a year from now.
	awk -v t=$(($(date +%s) + 365 * 86400)) '$1 == "key" { $3 = t } { print }' "$tmp/keys1" \
		>"$tmp/keys.future"
	head -c "$(($(wc -c <"$good_crt") / 2))" "$good_crt" >"$tmp/truncated.pem"
	bad_update mismatch "certificate of one pair, private key of another" \
		"$good_crt" "$tmp/certs/server.key" "$tmp/keys2" "$vol/tls.key:[0-9]+: the private key does not match the certificate at $vol/tls.crt:[0-9]+"
	bad_update truncated_pem "the certificate cut in half" \
		"$tmp/truncated.pem" "$good_key" "$tmp/keys2" "$vol/tls.crt:[0-9]+: .*cut short"
	bad_update future_key "a key file with one key dated a year ahead" \
		"$good_crt" "$good_key" "$tmp/keys.future" "$vol/keys:[0-9]+: .*future"
	c0=$(cert_loads)
	secret_update "$tmp/certs/server.pem" "$tmp/certs/server.key" "$tmp/keys1"
	if wait_for 50 more_lines "$tmp/k8s.log" "certificate $vol/tls.crt loaded" "$c0" &&
		[ "$(served k8s)" = "$(fingerprint "$tmp/certs/server.pem")" ] && probe k8s "$ca"; then
		ok "bad_files: a good update afterwards is loaded and served"
	else
		not_ok "bad_files: a good update afterwards is loaded and served"
	fi
	ntsd_stop k8s
}

# --- emfile: out of descriptors under a KE storm -------------------------

# storm PORT N: N connections to PORT held open until killed; how many
# were made goes to $tmp/storm.n.
storm() {
	local i fds=()
	for ((i = 0; i < $2; i++)); do
		exec {fd}<>"/dev/tcp/127.0.0.1/$1" || break
		fds+=("$fd")
	done
	echo "${#fds[@]}" >"$tmp/storm.n"
	exec sleep 600
}

case_emfile() {
	local pid nfd limit t0 t1 ticks cpu_ms refused0 refused1 shed storm_pid ntp_pid start end
	setup_emfile() {
		setup_ntsd emfile "$tmp/keys1" "$tmp/certs/server.pem" "$tmp/certs/server.key" \
			"ke-max-sessions 10000" "ke-max-sessions-per-address 10000" \
			"ke-rate-limit off" "ke-timeout 30"
	}
	up emfile setup_emfile || return
	pid=${ntsd_pid[emfile]}
	nfd=$(find "/proc/$pid/fd" -mindepth 1 | wc -l)
	limit=$((nfd + 32))
	prlimit --pid "$pid" --nofile="$limit:$limit" ||
		{ not_ok "emfile: prlimit --nofile on ntsd"; return; }
	refused0=$(metric emfile ntsd_ke_events_total 'event="refused_out_of_fds"')
	echo "$test_name: emfile: ntsd has $nfd descriptors open, limit now $limit"
	# NTS-KE now, then NTP exchanges every 200 ms through the storm.
	stdbuf -oL "$NTSCTL" probe "127.0.0.1:${port[emfile_ke]}" --ca "$ca" --count 40 \
		--interval 200 >"$tmp/ntp.out" 2>&1 &
	ntp_pid=$!
	wait_for 50 grep -q '^ntp 1:' "$tmp/ntp.out"
	storm "${port[emfile_ke]}" 300 &
	storm_pid=$!
	bg_pids+=("$storm_pid")
	wait_for 100 test -s "$tmp/storm.n"
	sleep 1
	t0=$(cpu_ticks "$pid")
	start=$(date +%s%N)
	sleep 3
	t1=$(cpu_ticks "$pid")
	end=$(date +%s%N)
	ticks=$((t1 - t0))
	nfd=$(find "/proc/$pid/fd" -mindepth 1 | wc -l)
	echo "$test_name: emfile: storm of $(cat "$tmp/storm.n") connections; ntsd holds $nfd" \
		"descriptors; $ticks CPU ticks in $(((end - start) / 1000000)) ms"
	check "emfile: the storm fills ntsd's descriptor table ($nfd open, limit $limit)" \
		[ "$nfd" -ge $((limit - 2)) ]
	cpu_ms=$((ticks * 1000 / $(getconf CLK_TCK)))
	check "emfile: no busy loop: ntsd used $cpu_ms ms of CPU in 3 s" [ "$cpu_ms" -lt 300 ]
	# Not asserted: queued behind the storm, a new client waits or is shed.
	timeout 3 "$NTSCTL" probe "127.0.0.1:${port[emfile_ke]}" --ca "$ca" --count 1 \
		>"$tmp/during.out" 2>&1
	shed=$?
	echo "$test_name: emfile: NTS-KE during the storm: exit $shed (124: no answer in 3 s)" \
		"$(tail -n 1 "$tmp/during.out")"
	wait "$ntp_pid"
	check "emfile: NTP answered through the storm ($(grep -c '^ntp ' "$tmp/ntp.out") of 40 exchanges, $(tail -n 1 "$tmp/ntp.out"))" \
		grep -q 'probe: OK' "$tmp/ntp.out"
	bg_stop
	start=$(date +%s%N)
	if wait_for 50 probe emfile "$ca"; then
		end=$(date +%s%N)
		ok "emfile: NTS-KE serves again $(((end - start) / 1000000)) ms after the storm let go"
	else
		show "$tmp/probe.out"
		not_ok "emfile: NTS-KE serves again within 5 s after the storm let go"
	fi
	refused1=$(metric emfile ntsd_ke_events_total 'event="refused_out_of_fds"')
	check "emfile: /metrics counts it: refused_out_of_fds $refused0 -> $refused1" \
		[ "${refused1:-0}" -gt "${refused0:-0}" ]
	check "emfile: NTP: $(naks emfile) NAK" [ "$(naks emfile)" = 0 ]
	ntsd_stop emfile
}

# --- ke_storm: a good client through stalled connections, resets, a flood -

storm_stalled=1000
# Of those, the ones that send a byte or more (ke_storm: all but every
# third); the others wait in the kernel, not in ntsd (TCP_DEFER_ACCEPT),
# and reach ntsd only after about 3 s.
storm_sending=$((storm_stalled - (storm_stalled + 2) / 3))
storm_resets=50
storm_flood=4
storm_probes=5
# How long ke_storm floods (s), the probes all within it.
storm_seconds=6

# timed_probe NAME: probe NAME (NTS-KE and one NTP exchange); its wall
# time in ms in $probe_ms.
timed_probe() {
	local t0 rc
	t0=$(date +%s%N)
	"$NTSCTL" probe "127.0.0.1:${port[${1}_ke]}" --ca "$ca" --count 1 --json \
		>"$tmp/probe.out" 2>&1
	rc=$?
	probe_ms=$((($(date +%s%N) - t0) / 1000000))
	return $rc
}
ke_event() { metric storm ntsd_ke_events_total "event=\"$1\""; }
# (case_ke_storm's locals)
all_served() { [ "$served" -eq "$storm_probes" ] && [ "$max_ms" -lt 1000 ]; }
none_refused() { ! grep -Eq '(refused_[a-z_]*|deadline) \+[1-9]' <<<"$line"; }

# storm_probe_all PID: storm_probes timed probes, 0.2 s apart, with ntsd
# PID's descriptor count before each; sets case_ke_storm's served (how
# many completed), max_ms and max_fds.
storm_probe_all() {
	local i nfd
	for ((i = 1; i <= storm_probes; i++)); do
		nfd=$(find "/proc/$1/fd" -mindepth 1 | wc -l)
		[ "$nfd" -gt "$max_fds" ] && max_fds=$nfd
		if timed_probe storm && probe_ok && [ "$(exchanges)" -eq 1 ]; then
			served=$((served + 1))
			echo "$test_name: ke_storm: probe $i: NTS-KE and NTP OK in $probe_ms ms" \
				"(ntsd holding $nfd descriptors)"
		else
			echo "$test_name: ke_storm: probe $i: failed after $probe_ms ms:"
			show "$tmp/probe.out"
		fi
		[ "$probe_ms" -gt "$max_ms" ] && max_ms=$probe_ms
		sleep 0.2
	done
}

case_ke_storm() {
	local need=$((storm_stalled + storm_resets + 2 * storm_flood + 256)) pid i
	local max_fds=0 max_ms=0 served=0 e done_line held line ev=() before=()
	# ke_storm's sockets and ntsd's sessions: ntsd inherits this limit.
	if [ "$(ulimit -Sn)" -lt "$need" ] && ! ulimit -Sn "$need" 2>/dev/null; then
		not_ok "ke_storm: ulimit -Sn $need (hard limit $(ulimit -Hn))"
		return
	fi
	# ke-max-sessions above everything the storm opens at once, 125
	# stalled per address under the per-address cap: ntsd admits and
	# holds every stalled connection instead of closing it at accept.
	# No rate limit: the flood's handshakes all reach TLS.
	setup_storm() {
		setup_ntsd storm "$tmp/keys.storm" "$tmp/certs/server.pem" "$tmp/certs/server.key" \
			"ke-max-sessions 2048" "ke-max-sessions-per-address 200" \
			"ke-rate-limit off" "ke-timeout 30"
	}
	"$NTSCTL" keys init "$tmp/keys.storm" >/dev/null || { not_ok "ke_storm: keys init"; return; }
	up storm setup_storm || return
	pid=${ntsd_pid[storm]}
	ev=(accepted handshake_ok handshake_failed io_error refused_max_sessions refused_per_address
		refused_rate_limit refused_out_of_fds deadline)
	for e in "${ev[@]}"; do
		before+=("$(ke_event "$e")")
	done
	timed_probe storm
	echo "$test_name: ke_storm: descriptor limit $(ulimit -Sn); ntsd: ke-threads 1," \
		"ke-max-sessions 2048, ke-max-sessions-per-address 200, ke-timeout 30;" \
		"ntsctl probe before the storm: $probe_ms ms"
	"$KE_STORM" "${port[storm_ke]}" "$storm_seconds" "$storm_stalled" \
		"$storm_resets" "$storm_flood" >"$tmp/storm.out" 2>&1 &
	bg_pids+=("$!")
	if ! wait_for 100 grep -qs 'ready' "$tmp/storm.out"; then
		show "$tmp/storm.out"
		not_ok "ke_storm: the storm is set up within 10 s"
		return
	fi
	sed "s/^/$test_name: /" "$tmp/storm.out"
	storm_probe_all "$pid"
	check "ke_storm: a good client (ntsctl probe from 127.0.0.1) completed NTS-KE and NTP within 1 s $served of $storm_probes times during the storm (slowest $max_ms ms)" \
		all_served
	check "ke_storm: meanwhile ntsd held the $storm_sending stalled connections that sent bytes (up to $max_fds descriptors)" \
		[ "$max_fds" -ge "$storm_sending" ]
	wait_for 150 grep -qs 'done:' "$tmp/storm.out"
	bg_stop
	done_line=$(grep 'done:' "$tmp/storm.out")
	echo "$test_name: $done_line"
	held=$(sed -n 's/.* held \([0-9]*\) of .*/\1/p' <<<"$done_line")
	check "ke_storm: ntsd kept all $storm_stalled stalled connections to the end (${held:-?})" \
		[ "${held:-0}" -eq "$storm_stalled" ]
	check "ke_storm: the flood's handshakes got through" \
		grep -Eq 'flood: [1-9][0-9]* handshakes completed' <<<"$done_line"
	line=
	for i in "${!ev[@]}"; do
		line+=" ${ev[$i]} +$(($(ke_event "${ev[$i]}") - ${before[$i]:-0}))"
	done
	echo "$test_name: ke_storm: ntsd's NTS-KE events during the storm:$line"
	check "ke_storm: ntsd refused nothing and cut nothing off (no refused_*, no deadline)" \
		none_refused
	if wait_for 30 probe storm "$ca" && [ "$(naks storm)" = 0 ]; then
		ok "ke_storm: after the storm NTS-KE and NTP serve ($(exchanges) exchanges, 0 NAK)"
	else
		show "$tmp/probe.out"
		not_ok "ke_storm: after the storm NTS-KE and NTP serve ($(naks storm) NAK)"
	fi
	ntsd_stop storm
}

# --- run -------------------------------------------------------------------

root_cases=
if [ "$(id -u)" -eq 0 ]; then
	case_disk_full
else
	root_cases="disk_full"
fi
case_kill_rotate
case_secret_swap && case_bad_files
case_emfile
case_ke_storm

for n in disk k8s emfile storm; do
	[ -f "$tmp/$n.log" ] || continue
	check "ntsd $n: no sanitizer report" no_sanitizer_report "$tmp/$n.log"
done
if [ "$failed" -eq 0 ] && [ -n "$root_cases" ]; then
	cannot_run "$root_cases need root (a tmpfs mount)"
fi
if [ "$failed" -gt 0 ]; then
	for n in disk k8s emfile storm; do
		[ -f "$tmp/$n.log" ] || continue
		echo "$test_name: ntsd $n log:"
		show "$tmp/$n.log"
	done
fi
finish
