#!/usr/bin/env bash
# debian_package_test.sh: the Debian package, built from this build's
# distribution tree with `dpkg-buildpackage -us -uc -b`, checked by lintian,
# and taken through install / upgrade / remove / purge in a throw-away
# Debian 12 root booted with systemd-nspawn (nspawn.sh; the same cached root
# as systemd_unit_test.sh):
#   build             dpkg-buildpackage builds ntsd_VERSION_ARCH.deb
#   lintian           no errors and no warnings (--pedantic; none needs an
#                     override today: any would be explained in
#                     debian/source/lintian-overrides)
#   install_user      dpkg -i creates the system user and group _ntsd, no
#                     login shell
#   install_dirs      /var/lib/ntsd 0700 _ntsd, /run/ntsd 0755 _ntsd,
#                     /etc/ntsd/tls 0750 root:_ntsd, /etc/ntsd.conf a conffile
#   install_not_started  with no certificate ntsd.service is enabled but not
#                     started, and dpkg's output says why and what to do next
#   start             with a certificate in /etc/ntsd/tls, systemctl start
#                     ntsd works and ntsd creates its key file, as _ntsd
#   upgrade           dpkg -i of a newer version restarts the running ntsd
#                     and keeps the key file and the edited configuration
#   remove            dpkg -r stops ntsd, removes the programs, keeps the
#                     configuration, the certificate and the key file
#   purge             dpkg -P removes the configuration, /etc/ntsd, the key
#                     file's directory, the user and the group, and leaves
#                     no unit enabled
# Everything is made in the temp dir: the host keeps no package, user or
# file of the test (only the cached root).
# Usage (as root): debian_package_test.sh BUILDDIR   (run by ./run-tests)
# Exit 0 all passed, 1 a failure, 77 skipped (not root or a tool missing;
# CI=true: fails). DEBIAN_PACKAGE_TEST_KEEP=1 keeps the temp dir.
set -u

builddir=$(cd "${1:?usage: $0 BUILDDIR}" && pwd)
srcdir=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=nspawn.sh
. "$srcdir/tests/integration/nspawn.sh"
need_tools "apt-get install dpkg-dev debhelper fakeroot lintian" \
	dpkg-buildpackage dh lintian dpkg-deb
need_programs make_certs

tmp_make

# --- build and lintian, on the host, in $tmp ---------------------------------
version=$(sed -n 's/^PACKAGE_VERSION = //p' "$builddir/Makefile")
src=$tmp/src/ntsd-$version
mkdir -p "$tmp/src"
if ! make -C "$builddir" distdir distdir="$src" >"$tmp/dist.log" 2>&1; then
	tail -n 20 "$tmp/dist.log" | show
	not_ok "prerequisites: make distdir"
	finish
fi
if (cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
	dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1; then
	ok "build: dpkg-buildpackage -us -uc -b"
else
	tail -n 30 "$tmp/build.log" | show
	not_ok "build: dpkg-buildpackage -us -uc -b"
	finish
fi
arch=$(dpkg --print-architecture)
deb=$tmp/src/ntsd_${version}_$arch.deb
check "build: $(basename "$deb") exists" test -f "$deb"
lintian --pedantic "$tmp/src/ntsd_${version}_$arch.changes" >"$tmp/lintian.log" 2>&1
grep -v '^running with root privileges' "$tmp/lintian.log" | show
check "lintian: no errors, no warnings" \
	test -z "$(grep -E '^[EW]: ' "$tmp/lintian.log")"

# A newer version of the same package, for the upgrade.
mkdir -p "$tmp/v2"
dpkg-deb -R "$deb" "$tmp/v2/pkg" &&
	sed -i "s/^Version: .*/Version: $version+test1/" "$tmp/v2/pkg/DEBIAN/control" &&
	dpkg-deb -b "$tmp/v2/pkg" "$tmp/v2/ntsd_upgrade.deb" >/dev/null ||
	{ not_ok "prerequisites: the upgrade package"; finish; }

# --- the cycle, in the booted root --------------------------------------------
nspawn_make_root
nspawn_copy_root
mkdir -p "$root/root/debs"
cp "$deb" "$root/root/debs/ntsd.deb"
cp "$tmp/v2/ntsd_upgrade.deb" "$root/root/debs/ntsd_upgrade.deb"
nspawn_boot

# dpkg_in LOG ARGS...: dpkg ARGS in the root, its output in $tmp/LOG.
dpkg_in() {
	local log=$1
	shift
	in_root env DEBIAN_FRONTEND=noninteractive dpkg "$@" >"$tmp/$log" 2>&1 && return 0
	show "$tmp/$log"
	return 1
}
# mode_owner PATH: "MODE USER:GROUP" of PATH in the root.
mode_owner() { in_root stat -c '%a %U:%G' "$1" 2>/dev/null; }
active() { in_root systemctl is-active -q ntsd.service; }
inactive() { ! active; }

check "install: dpkg -i ntsd.deb" dpkg_in install.log -i /root/debs/ntsd.deb
echo "$test_name: what dpkg -i said:"
grep -A 20 '^Setting up ntsd' "$tmp/install.log" | show
pw=$(in_root getent passwd _ntsd)
check "install_user: _ntsd exists ($pw)" test -n "$pw"
uid=$(cut -d: -f3 <<<"$pw")
check "install_user: _ntsd is a system user (uid ${uid:-none} < 1000)" test "${uid:-1000}" -lt 1000
check "install_user: _ntsd has no login shell" grep -Eq ':/(usr/)?s?bin/(nologin|false)$' <<<"$pw"
check "install_user: the group _ntsd exists" test -n "$(in_root getent group _ntsd)"
for want in "/var/lib/ntsd 700 _ntsd:_ntsd" "/run/ntsd 755 _ntsd:_ntsd" \
	"/etc/ntsd/tls 750 root:_ntsd" "/etc/ntsd.conf 644 root:root"; do
	path=${want%% *}
	got=$(mode_owner "$path")
	check "install_dirs: $path is ${want#* } (${got:-missing})" test "$got" = "${want#* }"
done
check "install_dirs: /etc/ntsd.conf is a conffile" \
	grep -q '^ /etc/ntsd.conf ' <<<"$(in_root dpkg-query -W -f='${Conffiles}\n' ntsd)"
check "install_not_started: ntsd.service is not running" inactive
check "install_not_started: ntsd.service is enabled" in_root systemctl is-enabled -q ntsd.service
check "install_not_started: dpkg's output says it did not start" grep -q '^ntsd: not started' "$tmp/install.log"
check "install_not_started: and names the certificate that is missing" \
	grep -q '/etc/ntsd/tls/fullchain.pem' "$tmp/install.log"
check "install_not_started: and what to do next" grep -q 'systemctl start ntsd' "$tmp/install.log"
check "install: ntsctl-rotate.timer is active" in_root systemctl is-active -q ntsctl-rotate.timer

# The operator's step: a certificate where the installed config names it,
# with certs/README.md's permissions; and one edit of the conffile.
dev_certs certs
install -m 0644 "$tmp/certs/server.pem" "$root/etc/ntsd/tls/fullchain.pem"
gid=$(in_root getent group _ntsd | cut -d: -f3)
install -m 0640 -o 0 -g "$gid" "$tmp/certs/server.key" "$root/etc/ntsd/tls/privkey.pem"
sed -i 's|^#metrics-listen 127.0.0.1 9123|metrics-listen 127.0.0.1 9123|' "$root/etc/ntsd.conf"
key_file=/var/lib/ntsd/keys
if in_root systemctl start ntsd.service 2>"$tmp/start.log" && wait_for 50 active; then
	ok "start: systemctl start ntsd with the certificate in place"
else
	show "$tmp/start.log"
	journal ntsd.service
	not_ok "start: systemctl start ntsd with the certificate in place"
fi
has_key_file() { in_root test -s "$key_file"; }
check "start: ntsd created $key_file" wait_for 100 has_key_file
check "start: $key_file is _ntsd's, mode 600 ($(mode_owner "$key_file"))" \
	test "$(mode_owner "$key_file")" = "600 _ntsd:_ntsd"
keys_sum=$(in_root sha256sum "$key_file")
pid1=$(in_root systemctl show -p MainPID --value ntsd.service)

check "upgrade: dpkg -i of version $version+test1" dpkg_in upgrade.log -i /root/debs/ntsd_upgrade.deb
check "upgrade: version $version+test1 installed" \
	test "$(in_root dpkg-query -W -f='${Version}' ntsd)" = "$version+test1"
if ! wait_for 50 active; then
	show "$tmp/upgrade.log"
	journal ntsd.service
	not_ok "upgrade: ntsd is running"
else
	ok "upgrade: ntsd is running"
fi
pid2=$(in_root systemctl show -p MainPID --value ntsd.service)
check "upgrade: ntsd was restarted (main pid $pid1 -> $pid2)" test "$pid2" != "$pid1" -a "$pid2" != 0
check "upgrade: the key file is unchanged" test "$(in_root sha256sum "$key_file")" = "$keys_sum"
check "upgrade: the edited /etc/ntsd.conf is kept" \
	grep -q '^metrics-listen 127.0.0.1 9123' "$root/etc/ntsd.conf"

check "remove: dpkg -r ntsd" dpkg_in remove.log -r ntsd
check "remove: ntsd.service is stopped" inactive
check "remove: no ntsd process is left" test -z "$(in_root pgrep -x ntsd)"
check "remove: /usr/sbin/ntsd is gone" test ! -e "$root/usr/sbin/ntsd"
for path in /etc/ntsd.conf /etc/ntsd/tls/privkey.pem "$key_file"; do
	check "remove: $path is kept" test -e "$root$path"
done
check "remove: the key file is unchanged" test "$(in_root sha256sum "$key_file")" = "$keys_sum"
check "remove: the user _ntsd is kept (it owns the keys)" test -n "$(in_root getent passwd _ntsd)"

check "purge: dpkg -P ntsd" dpkg_in purge.log -P ntsd
for path in /etc/ntsd.conf /etc/ntsd /var/lib/ntsd; do
	check "purge: $path is gone" test ! -e "$root$path"
done
check "purge: the user _ntsd is gone" test -z "$(in_root getent passwd _ntsd)"
check "purge: the group _ntsd is gone" test -z "$(in_root getent group _ntsd)"
left=$(find "$root/etc/systemd/system" -name 'ntsd*' -o -name 'ntsctl*' | sed "s|^$root||")
check "purge: no unit left enabled (${left:-none})" test -z "$left"
check "purge: dpkg knows no ntsd" test -z "$(in_root dpkg-query -W -f='${Status}' ntsd 2>/dev/null)"
finish
