# nspawn.sh: a throw-away Debian 12 root booted under systemd-nspawn, for
# the tests that need a real systemd (systemd_unit_test.sh,
# debian_package_test.sh). Sourcing it sources lib.sh and checks for root
# and the tools (nspawn_need_root). The caller then calls tmp_make,
# nspawn_make_root, copies the cache to $root
# (nspawn_copy_root), puts its files in, and nspawn_boot.
# The root is cached in $NTSD_SYSTEMD_ROOT_CACHE (default
# /var/cache/ntsd-test/bookworm-systemd); its mirror is the host's apt
# mirror unless NTSD_DEBOOTSTRAP_MIRROR is set. Everything else lives in
# $tmp, which lib.sh removes, after cleanup_hook has powered the container
# off: the host is left as it was (apart from the cache).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cache=${NTSD_SYSTEMD_ROOT_CACHE:-/var/cache/ntsd-test/bookworm-systemd}
# What the root has: systemd as init, procps (kill, for ExecReload, as on
# any Debian host), and the run-time libraries of ntsd and ntsctl (a make
# install of this build, or the package's dependencies). One list for every
# test, so they share one cache; it is made again when the list changes.
packages=systemd,systemd-sysv,dbus,procps,libev4,libssl3,libnettle8,libmicrohttpd12,liburcu8,libbpf1,libxdp1
nspawn_pid=
leader=

# nspawn_need_root: the tools and root, or skip (CI=true: fail).
nspawn_need_root() {
	need_tools --sbin "apt-get install debootstrap systemd-container util-linux" \
		debootstrap systemd-nspawn nsenter
	need_root "debootstrap and systemd-nspawn"
}

# The host's own Debian mirror (the first of its apt sources).
host_mirror() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && awk '$1 == "URIs:" { print $2; exit }' "$f"
	done | head -n 1 | grep . && return 0
	awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; exit } }' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n 1
}

# nspawn_make_root: the cached root, made once (about a minute) and reused.
nspawn_make_root() {
	[ -f "$cache/.ntsd-test-root" ] && [ "$(cat "$cache/.ntsd-test-root")" = "$packages" ] &&
		return 0
	local mirror=${NTSD_DEBOOTSTRAP_MIRROR:-$(host_mirror)}
	if [ -z "$mirror" ]; then
		not_ok "prerequisites: no Debian mirror in the apt sources (set NTSD_DEBOOTSTRAP_MIRROR)"
		finish
	fi
	echo "$test_name: making the cached root $cache (debootstrap bookworm)"
	rm -rf "$cache.new" && mkdir -p "$(dirname "$cache")"
	if ! debootstrap --variant=minbase --include="$packages" bookworm "$cache.new" \
		"$mirror" >"$tmp/debootstrap.log" 2>&1; then
		tail -n 20 "$tmp/debootstrap.log" | show
		rm -rf "$cache.new"
		not_ok "prerequisites: debootstrap failed"
		finish
	fi
	echo "$packages" >"$cache.new/.ntsd-test-root"
	rm -rf "$cache" && mv "$cache.new" "$cache"
}

# nspawn_copy_root: $root, a copy of the cache in $tmp.
nspawn_copy_root() {
	root=$tmp/root
	cp -a "$cache" "$root"
}

# in_root CMD...: run CMD inside the booted container (all its namespaces).
in_root() { nsenter -t "$leader" -a -- "$@"; }

# journal UNIT: the unit's last journal lines, indented.
journal() { in_root journalctl --no-pager -o cat -u "$1" | tail -n 30 | show; }

cleanup_hook() {
	[ -n "$nspawn_pid" ] || return 0
	if [ -n "$leader" ] && ! pid_gone "$nspawn_pid"; then
		in_root systemctl poweroff >/dev/null 2>&1
		wait_for 300 pid_gone "$nspawn_pid"
	fi
	pid_stop "$nspawn_pid"
}

nspawn_booted() {
	leader=$(pgrep -P "$nspawn_pid" | head -n 1)
	[ -n "$leader" ] || return 1
	case $(in_root systemctl is-system-running 2>/dev/null) in
	running | degraded) return 0 ;;
	esac
	return 1
}

# nspawn_boot: boot $root, wait until its systemd runs.
# --keep-unit --register=no: no host systemd or machined needed;
# --private-network: its own network namespace, loopback only.
# nspawn's own seccomp filter denies the clock calls to a container without
# CAP_SYS_TIME, reads included; --system-call-filter lets them through (as
# on a host), so that only the units' filters can refuse them, and the
# container still has no CAP_SYS_TIME: nothing in it can change the clock.
# CAP_BPF and CAP_IPC_LOCK (and bpf(2)) let a unit there load ntsd's XDP
# program, as on a host (systemd_unit_test's xdp_dropin).
nspawn_boot() {
	systemd-nspawn -D "$root" --boot --register=no --keep-unit --private-network \
		--capability=CAP_BPF,CAP_IPC_LOCK \
		--system-call-filter='adjtimex clock_adjtime clock_settime settimeofday bpf' \
		--console=read-only -M "ntsd-${test_name//_/-}-$$" >"$tmp/boot.log" 2>&1 &
	nspawn_pid=$!
	if ! wait_for 600 nspawn_booted; then
		tail -n 30 "$tmp/boot.log" | show
		not_ok "prerequisites: the root did not boot with systemd-nspawn --boot within 60 s"
		finish
	fi
	echo "$test_name: booted under systemd $(in_root systemctl --version | head -n 1)"
}

nspawn_need_root
