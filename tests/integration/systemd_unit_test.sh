#!/usr/bin/env bash
# systemd_unit_test.sh: the documented one-host setup under a real systemd.
# A minimal Debian 12 root (debootstrap, cached) gets this build by
# `make install DESTDIR=root NTSD_CREATE_USER=yes` (as make install on the
# host would, it creates the _ntsd user), a certificate with the
# permissions certs/README.md gives, and the installed example config;
# booted with systemd-nspawn --boot (its own network namespace, loopback
# only), `systemctl enable --now ntsd` must then work with nothing else:
#   first_start        ntsd.service starts; ntsd -n passed as the run user
#   runs_as_user       its main process runs as user _ntsd, in no way root
#   sandbox_stacked    ntsd -n (ExecStartPre) says its own seccomp filters
#                      are on, stacked on the unit's (the unit's
#                      SystemCallFilter lacked seccomp(2): ntsd -n refused
#                      the start), and ntsd serves with them loaded
#   cpu_pinned         each thread pinned itself (the unit allows
#                      sched_setaffinity, which ~@resources would deny)
#   key_file_created   it created the key file, owned by _ntsd, mode 0600
#                      (the shipped unit had no CAP_CHOWN and a root-owned
#                      state directory: the start failed, or every re-read
#                      failed after the privilege drop)
#   pid_file           the default pid file holds the main pid (the shipped
#                      unit's ProtectSystem=strict made it read-only)
#   health             /metrics says the key file is OK and /health gives
#                      the clock as its only possible complaint
#   clock_read         ntsd reads the kernel's clock state under its unit:
#                      ntsd_clock_synchronised is exported and equals what
#                      adjtimex() says outside the unit (ProtectClock=yes
#                      denied the read: no ntsd_clock_* at all, leap 3)
#   clock_not_settable the same sandbox (a copy of the installed unit with
#                      only the commands replaced) cannot set the clock
#   rotation_live      ntsctl-rotate.service (as shipped) rotates the key
#                      file and the running ntsd loads the new key set
#   reload             systemctl reload ntsd keeps it running
#   security_score     systemd-analyze security --offline=true scores the
#                      installed ntsd.service 1.9 or lower
#   precheck_missing_dir  with the key-file directory gone and its setup
#                      skipped, ntsd -n (ExecStartPre) refuses the start
#                      and says which directory
#   caps_dropped       once started, ntsd holds no capability: the unit's
#                      AmbientCapabilities=CAP_NET_BIND_SERVICE stayed in
#                      every thread for the daemon's life
#   xdp_fallback       (builds with XDP) ntp-xdp on a veth whose other end
#                      is in a namespace of the test's: under the shipped
#                      unit ntsd says why it cannot and serves on sockets
#   xdp_dropin         with the shipped drop-in ntsd-xdp.conf it serves
#                      through XDP in native mode (ntsctl probe from the
#                      other namespace, 3 requests redirected), keeps only
#                      CAP_BPF, and a reload updates the program's rules
# Usage (as root): systemd_unit_test.sh BUILDDIR   (run by ./run-tests)
# The root: see nspawn.sh (cached, booted with systemd-nspawn).
# Exit 0 all passed, 1 a failure, 77 skipped (not root or a tool missing; CI=true: fails).
# SYSTEMD_UNIT_TEST_KEEP=1 keeps the temp dir.
set -u

builddir=$(cd "${1:?usage: $0 BUILDDIR}" && pwd)
srcdir=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=nspawn.sh
. "$srcdir/tests/integration/nspawn.sh"
# shellcheck source-path=SCRIPTDIR source=netns.sh
. "$srcdir/tests/integration/netns.sh"
NTSD=$builddir/ntsd/ntsd
probe=$builddir/tests/integration/clock_probe
need_programs NTSD probe make_certs

tmp_make
nspawn_make_root
nspawn_copy_root
if ! make -C "$builddir" install DESTDIR="$root" NTSD_CREATE_USER=yes >"$tmp/install.log" 2>&1; then
	tail -n 20 "$tmp/install.log" | show
	not_ok "prerequisites: make install into the root"
	finish
fi
# Where this build put things (configure's paths, as the units name them).
unit_dir=$(sed -n 's/^systemdsystemunitdir = //p' "$builddir/Makefile")
prefix=$(sed -n 's/^prefix = //p' "$builddir/Makefile")
unit_dir=${unit_dir//\$\{prefix\}/$prefix}
unit=$root$unit_dir/ntsd.service
exec_line=$(grep '^ExecStart=' "$unit")
sbindir=$(dirname "${exec_line#ExecStart=}" | awk '{ print $1 }')
sbindir=${exec_line#ExecStart=}
sbindir=$(dirname "${sbindir%% *}")
conf=$(sed -n 's/.* -c \([^ ]*\)$/\1/p' <<<"$exec_line")
key_file=$(sed -n 's/^key-file //p' "$root$(dirname "$sbindir")/share/doc/ntsd/ntsd.conf.example")
pid_file=$(sed -n 's/^d \(.*\) 0755 .*/\1/p' "$root$(dirname "$unit_dir")/../tmpfiles.d/ntsd.conf")/ntsd.pid
cp "$probe" "$root/usr/local/sbin/ntsd-clock-probe"
# One set of paths: the example config's key file is ntsd's built-in
# default, the one the rotation unit rotates and the man pages name.
printf 'ke-service no\npid-file none\n' >"$tmp/default.conf"
builtin_key_file=$("$NTSD" -n -c "$tmp/default.conf" 2>&1 | grep -o '/[^ :]*/keys' | head -n 1)
check "paths: the example's key-file $key_file is ntsd's default ($builtin_key_file)" \
	test "$key_file" = "$builtin_key_file"
check "paths: ntsctl-rotate.service rotates $key_file" \
	grep -q "keys rotate $key_file " "$root$unit_dir/ntsctl-rotate.service"
for page in man8/ntsd.8 man5/ntsd.conf.5 man8/ntsctl.8; do
	check "paths: the installed $page names $key_file" \
		grep -qF "$key_file" "$root$(dirname "$sbindir")/share/man/$page"
done
echo "$test_name: unit $unit_dir/ntsd.service, config $conf, key file $key_file"
# systemd's own measure of the sandbox: 1.9 or lower ("SAFE" or "OK"
# near it; the unit before RemoveIPC, PrivateMounts, ProtectProc,
# ProcSubset, UMask and ~@resources scored 2.3).
score=$(systemd-analyze security --offline=true --no-pager "$unit" 2>&1 | sed -n 's/.*exposure level for .*: \([0-9.]*\) .*/\1/p')
score_ok() { systemd-analyze security --offline=true --no-pager --threshold=19 "$unit" >/dev/null 2>&1; }
check "security_score: systemd-analyze security --offline=true scores ntsd.service ${score:-nothing} <= 1.9" \
	score_ok

# The operator's steps: a certificate readable by ntsd (certs/README.md),
# the example configuration with its paths and metrics on.
dev_certs certs
tls=$root$(dirname "$conf")/ntsd/tls
mkdir -p "$tls"
cp "$tmp/certs/server.pem" "$tls/fullchain.pem"
cp "$tmp/certs/server.key" "$tls/privkey.pem"
if ! grep -q '^_ntsd:' "$root/etc/passwd"; then
	not_ok "make install created the user _ntsd"
	finish
fi
ok "make install created the user _ntsd"
ntsd_gid=$(awk -F: '$1 == "_ntsd" { print $3 }' "$root/etc/group")
chown "0:$ntsd_gid" "$tls/privkey.pem" && chmod 640 "$tls/privkey.pem"
sed -e "s|^ke-certificate .*|ke-certificate ${tls#"$root"}/fullchain.pem|" \
	-e "s|^ke-private-key .*|ke-private-key ${tls#"$root"}/privkey.pem|" \
	-e 's|^#metrics-listen 127.0.0.1 9123|metrics-listen 127.0.0.1 9123|' \
	"$root$(dirname "$sbindir")/share/doc/ntsd/ntsd.conf.example" >"$root$conf"

nspawn_boot

# http PATH: the body of GET PATH from the metrics endpoint, inside.
http() {
	in_root bash -c 'exec 3<>/dev/tcp/127.0.0.1/9123 || exit 1
		printf "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n" "$1" >&3
		sed "1,/^\r$/d" <&3' http "$1"
}
metric() { http /metrics | awk -v m="$1" '$1 == m { print $2 }'; }

if in_root systemctl enable --now ntsd.service >"$tmp/enable.log" 2>&1 &&
	wait_for 50 in_root systemctl is-active -q ntsd.service; then
	ok "first_start: systemctl enable --now ntsd"
else
	show "$tmp/enable.log"
	journal ntsd.service
	not_ok "first_start: systemctl enable --now ntsd"
	finish
fi

# Type=simple is "active" from the fork on: wait until ntsd serves.
serving() { test -n "$(metric ntsd_keyset_file_ok 2>/dev/null)"; }
if ! wait_for 100 serving; then
	journal ntsd.service
	not_ok "first_start: ntsd serves /metrics within 10 s"
	finish
fi
main_pid=$(in_root systemctl show -p MainPID --value ntsd.service)
ntsd_uid=$(awk -F: '$1 == "_ntsd" { print $3 }' "$root/etc/passwd")
uids=$(in_root awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$main_pid/status")
check "runs_as_user: uids of pid $main_pid are _ntsd's ($uids)" \
	test "$uids" = "$ntsd_uid $ntsd_uid $ntsd_uid $ntsd_uid"
# caps PID: its permitted, effective and ambient sets, as /proc shows them.
caps() { in_root awk '/^Cap(Prm|Eff|Amb):/ { printf "%s%s", s, $2; s = " " }' "/proc/$1/status"; }
held=$(caps "$main_pid")
check "caps_dropped: pid $main_pid holds no capability (permitted, effective, ambient: $held)" \
	test "$held" = "0000000000000000 0000000000000000 0000000000000000"
sandbox_line=$(in_root journalctl --no-pager -o cat -u ntsd.service | grep '^sandbox: ' | tail -n 1)
check "sandbox_stacked: ${sandbox_line:-ntsd -n said nothing of its sandbox}" \
	grep -q "^sandbox: on: .*stacked on the service manager's filter" <<<"$sandbox_line"
# The unit lets each thread pin itself (cpu-steering): no refusal logged,
# and the metrics name a CPU for NTP worker 0.
pin_refused=$(in_root journalctl --no-pager -o cat -u ntsd.service | grep -F 'cannot pin thread' | tail -n 1)
check "cpu_pinned: under the unit ntsd-ntp/0 is pinned to CPU $(metric 'ntsd_ntp_worker_cpu{worker="0"}') ${pin_refused:+($pin_refused)}" \
	eval '[ -z "$pin_refused" ] && [ "$(metric "ntsd_ntp_worker_cpu{worker=\"0\"}")" -ge 0 ]'
owner=$(stat -c '%u %a' "$root$key_file" 2>/dev/null)
check "key_file_created: $key_file (uid, mode: $owner)" test "$owner" = "$ntsd_uid 600"
check "pid_file: $pid_file holds $main_pid" test "$(cat "$root$pid_file" 2>/dev/null)" = "$main_pid"
check "health: ntsd_keyset_file_ok 1" test "$(metric ntsd_keyset_file_ok)" = 1

# The kernel's state as adjtimex() reads it outside the unit (in a
# container it is the host's kernel).
kernel_sync=$(in_root /usr/local/sbin/ntsd-clock-probe read | awk '{ print $2 }')
served_sync=$(metric ntsd_clock_synchronised)
check "clock_read: ntsd_clock_synchronised '$served_sync' = kernel's '$kernel_sync'" \
	test -n "$served_sync" -a "$served_sync" = "$kernel_sync"
health=$(http /health)
if [ "$kernel_sync" = 1 ]; then
	check "health: /health ok on a synchronised host ($health)" grep -q '^ok' <<<"$health"
	check "clock_read: leap is not 3 on a synchronised host" test "$(metric ntsd_clock_leap)" != 3
else
	echo "$test_name: the kernel clock is not synchronised here: /health says so, as it must"
	check "health: /health complains of the clock only ($health)" \
		grep -q 'clock not synchronised' <<<"$health"
fi

# The sandbox without ntsd: the installed unit, its commands replaced.
sed -e '/^ExecStartPre=/d' -e '/^ExecReload=/d' -e '/^Restart=/d' \
	-e 's|^Type=simple|Type=oneshot|' \
	-e 's|^ExecStart=.*|ExecStart=/usr/local/sbin/ntsd-clock-probe sandbox|' \
	"$unit" >"$root/etc/systemd/system/ntsd-sandbox-probe.service"
in_root systemctl daemon-reload
if in_root systemctl start ntsd-sandbox-probe.service 2>/dev/null; then
	ok "clock_not_settable: under the unit's sandbox the clock reads and cannot be set"
	journal ntsd-sandbox-probe.service | grep -E 'refused|synchronised'
else
	journal ntsd-sandbox-probe.service
	not_ok "clock_not_settable: under the unit's sandbox the clock reads and cannot be set"
fi
caps=$(in_root systemctl show -p CapabilityBoundingSet --value ntsd.service)
check "clock_not_settable: no CAP_SYS_TIME in the unit's bounding set ($caps)" \
	test "$caps" = cap_net_bind_service

# Rotation: a key file as a fleet would distribute it, its key 2 days old
# (so --if-older-than 20h rotates), then the shipped rotation unit.
reloads=$(metric ntsd_keyset_reloads_total)
old=$(($(date +%s) - 2 * 86400))
"$builddir/ntsctl" keys init "$tmp/keys" >/dev/null &&
	sed -i "s/^key \([0-9a-f]*\) [0-9]* /key \1 $old /" "$tmp/keys" &&
	install -o "$ntsd_uid" -g "$ntsd_gid" -m 600 "$tmp/keys" "$root$key_file.new" &&
	mv "$root$key_file.new" "$root$key_file"
reloaded() { test "$(metric ntsd_keyset_reloads_total)" -gt "${reloads:-0}"; }
check "rotation_live: ntsd loaded a key file replaced under it" wait_for 50 reloaded
if in_root systemctl start ntsctl-rotate.service 2>/dev/null; then
	keys_ok() { test "$(metric ntsd_keyset_keys)" = 2; }
	check "rotation_live: ntsctl-rotate.service added a key and ntsd loaded it" wait_for 50 keys_ok
	owner=$(stat -c '%u %a' "$root$key_file")
	check "rotation_live: the rotated file is still _ntsd's, mode 600 ($owner)" \
		test "$owner" = "$ntsd_uid 600"
else
	journal ntsctl-rotate.service
	not_ok "rotation_live: ntsctl-rotate.service"
fi
in_root systemctl reload ntsd.service
sleep 1
check "reload: ntsd still running after systemctl reload" in_root systemctl is-active -q ntsd.service

# ntsd -n (ExecStartPre, as the run user) refuses a start that would fail:
# precheck_refuses CASE SED GREP: the config edited by SED, the start must
# fail and the journal say GREP.
cp "$root$conf" "$tmp/ntsd.conf.good"
precheck_refuses() {
	sed -e "$2" "$tmp/ntsd.conf.good" >"$root$conf"
	in_root systemctl reset-failed ntsd.service 2>/dev/null
	in_root systemctl start ntsd.service 2>/dev/null
	check "precheck_$1: ntsd -n refused the start" not_active
	log=$(in_root journalctl --no-pager -o cat -u ntsd.service | grep -F "$3" | tail -n 1)
	check "precheck_$1: and said why (${log:-nothing logged})" test -n "$log"
}
not_active() { ! in_root systemctl is-active -q ntsd.service; }
in_root systemctl stop ntsd.service
precheck_refuses missing_dir "s|^key-file .*|key-file /var/lib/ntsd-missing/keys|" \
	"key-file /var/lib/ntsd-missing/keys: directory /var/lib/ntsd-missing: No such file"
precheck_refuses missing_user "s|^user .*|user ntsd-missing|" "user ntsd-missing: no such user"
cp "$tmp/ntsd.conf.good" "$root$conf"

# XDP under the unit: a veth from the container to a namespace of ours
# (10.212.0.1 inside, 10.212.0.2 ours, without transmit checksum offload:
# the program checks the UDP checksum the veth would leave partial).
if grep -q '^#define HAVE_XDP 1' "$builddir/build_config.h"; then
	netns_need
	need_tools --sbin "apt-get install ethtool" ethtool
	netns_add cli
	ip link add "xa$$" type veth peer name "xb$$" &&
		ip link set "xa$$" netns "$leader" name ntsx0 &&
		ip link set "xb$$" netns "${ns[cli]}" name ntsx1 &&
		nsenter -t "$leader" -n ip addr add 10.212.0.1/24 dev ntsx0 &&
		nsenter -t "$leader" -n ip link set ntsx0 up &&
		in_ns cli ip addr add 10.212.0.2/24 dev ntsx1 &&
		in_ns cli ip link set ntsx1 up &&
		in_ns cli ethtool -K ntsx1 tx off >/dev/null ||
		{ not_ok "xdp: a veth from the container to ${ns[cli]}"; finish; }
	# local-stratum: the probe wants a synchronised server, and a test
	# host's clock may not be.
	printf 'ntp-xdp ntsx0 1\nlocal-stratum 10\n' >>"$root$conf"
	# xdp_start NAME: ntsd (re)started; its journal since then in $tmp/NAME.log.
	xdp_start() {
		local since
		since=$(in_root date '+%Y-%m-%d %H:%M:%S')
		in_root systemctl daemon-reload
		in_root systemctl reset-failed ntsd.service 2>/dev/null
		in_root systemctl restart ntsd.service
		wait_for 100 serving
		in_root journalctl --no-pager -o cat -u ntsd.service --since "$since" >"$tmp/$1.log"
	}
	# probe_check LABEL: ntsctl probe from our namespace must pass.
	probe_check() {
		local rc=0
		in_ns cli "$builddir/ntsctl" probe 10.212.0.1 --ca "$tmp/certs/ca.pem" --name localhost \
			>"$tmp/probe.out" 2>&1 || rc=$?
		check "$1: ntsctl probe from ${ns[cli]}: $(tail -n 1 "$tmp/probe.out")" test "$rc" = 0
	}
	redirected() { metric 'ntsd_xdp_packets_total{interface="ntsx0",verdict="redirected"}'; }
	xdp_start xdp-unit
	why=$(grep -F 'ntp-xdp ntsx0: ' "$tmp/xdp-unit.log" | grep -F 'serving it on sockets' | tail -n 1)
	check "xdp_fallback: under the shipped unit ntsd says why it cannot (${why:-nothing logged})" \
		test -n "$why"
	probe_check "xdp_fallback: and serves on sockets"
	mkdir -p "$root/etc/systemd/system/ntsd.service.d"
	cp "$root$(dirname "$sbindir")/share/doc/ntsd/ntsd-xdp.conf" \
		"$root/etc/systemd/system/ntsd.service.d/xdp.conf"
	xdp_start xdp-dropin
	line=$(grep -F 'ntp-xdp ntsx0: serving NTP through XDP' "$tmp/xdp-dropin.log" | tail -n 1)
	check "xdp_dropin: ${line:-no line says ntsd serves through XDP}" \
		grep -q 'native mode' <<<"$line"
	[ -n "$line" ] || show "$tmp/xdp-dropin.log"
	probe_check "xdp_dropin"
	check "xdp_dropin: the program redirected its requests ($(redirected))" \
		test "$(redirected)" -ge 3
	main_pid=$(in_root systemctl show -p MainPID --value ntsd.service)
	held=$(caps "$main_pid")
	check "xdp_dropin: pid $main_pid keeps CAP_BPF only (permitted, effective, ambient: $held)" \
		test "$held" = "0000008000000000 0000008000000000 0000000000000000"
	since=$(in_root date '+%Y-%m-%d %H:%M:%S')
	in_root systemctl reload ntsd.service
	updated() {
		in_root journalctl --no-pager -o cat -u ntsd.service --since "$since" |
			grep -q 'xdp: ntsx0: access rules, rate limit and NTP addresses updated'
	}
	check "xdp_dropin: systemctl reload updated the program's rules" wait_for 50 updated
	probe_check "xdp_dropin: after the reload"
	rm -rf "$root/etc/systemd/system/ntsd.service.d"
	cp "$tmp/ntsd.conf.good" "$root$conf"
fi
finish
