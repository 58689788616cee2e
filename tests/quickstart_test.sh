#!/usr/bin/env bash
# quickstart_test.sh: ./quickstart works after the README's in-tree build.
#
# In a copy of the source tree (the tracked files, as a fresh clone has
# them): autoreconf -fi, ./configure, make, as README.md says; then
# ./quickstart on free loopback ports.  It must build in the tree (no
# "source directory already configured", no build/gcc), start ntsd, and
# ntsctl probe must get an OK verdict from it.  Then the same in a fresh
# copy without the in-tree build: quickstart builds in build/gcc.
#
# quickstart_in_tree: quickstart used to run configure out of tree in
# build/gcc, which configure refuses in a tree configured in place.
#
# Run by ./run-tests (a full build per copy: not part of make check); by
# hand: tests/quickstart_test.sh (from anywhere).  Needs what quickstart
# installs (scripts/install-deps: as root it installs what is missing).
# Exit 0 all passed, 1 a failure.  QUICKSTART_TEST_KEEP=1 keeps the temp dir.
# shellcheck disable=SC2317
set -u

srcdir=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=integration/lib.sh
. "$srcdir/tests/integration/lib.sh"
JOBS=$(nproc 2>/dev/null || echo 2)

need_tools "apt-get install iproute2 git autoconf automake" ss autoreconf make
tmp_make

# copy_tree DIR: the tracked files of the source tree (with their working
# tree contents) into DIR; a tree without git (a release tarball) whole.
copy_tree() {
	mkdir -p "$1"
	if git -C "$srcdir" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$srcdir" && git ls-files -z | xargs -0 cp --parents -t "$1")
	else
		tar -C "$srcdir" --exclude=./build -cf - . | tar -C "$1" -xf -
	fi
}

# quickstart_up DIR NAME: ./quickstart in DIR in the background (output in
# $tmp/NAME.out), up to 600 s (it builds) until ntsctl probe gets an OK
# verdict from it.  The probe's output in $tmp/NAME.probe.
qs_pid=
qs_bin=
quickstart_up() {
	local dir=$1 name=$2 ports ntp ke i
	ports=$(pick_ports 2) || return 1
	read -r ntp ke <<<"$ports"
	(cd "$dir" && QUICKSTART_NTP_PORT=$ntp QUICKSTART_KE_PORT=$ke exec ./quickstart) \
		>"$tmp/$name.out" 2>&1 </dev/null &
	qs_pid=$!
	bg_pids+=("$qs_pid")
	for ((i = 0; i < 6000; i++)); do
		pid_gone "$qs_pid" && return 1
		if grep -q '^=== quickstart: ntsd serves' "$tmp/$name.out" &&
			ports_listen "$ntp" "$ke"; then
			qs_bin=$(sed -n 's|^  \(.*\)/ntsctl probe .*|\1|p' "$tmp/$name.out")
			"$qs_bin/ntsctl" probe "localhost:$ke" --ca "$dir/build/quickstart/ca.pem" \
				--count 2 --interval 50 >"$tmp/$name.probe" 2>&1
			return
		fi
		sleep 0.1
	done
	return 1
}
qs_stop() {
	pid_stop "$qs_pid"
	bg_pids=()
}

# --- the README's in-tree build, then quickstart ----------------------------

src=$tmp/in-tree
copy_tree "$src"
echo "quickstart_test: in $src: autoreconf -fi && ./configure && make"
if (cd "$src" && autoreconf -fi && ./configure -q && make -j"$JOBS") >"$tmp/build.log" 2>&1; then
	ok "README: autoreconf -fi, ./configure, make in the source tree"
else
	tail -n 30 "$tmp/build.log" | show
	not_ok "README: the in-tree build failed"
	finish
fi
if quickstart_up "$src" in-tree; then
	rc=0
else
	rc=1
fi
show "$tmp/in-tree.out"
[ -f "$tmp/in-tree.probe" ] && show "$tmp/in-tree.probe"
if [ $rc -eq 0 ] && grep -q '^probe: OK: ' "$tmp/in-tree.probe"; then
	ok "quickstart after the in-tree build: ntsd serves, ntsctl probe OK"
else
	not_ok "quickstart after the in-tree build: no working ntsd"
fi
check "quickstart after the in-tree build: built in the tree, no build/gcc" \
	bash -c "[ \"$qs_bin\" = \"$src\" ] && [ ! -e '$src/build/gcc' ] &&
		! grep -q 'already configured' '$tmp/in-tree.out'"
qs_stop

# --- a tree not configured in place: quickstart builds in build/gcc ----------

src=$tmp/fresh
copy_tree "$src"
echo "quickstart_test: in $src (not configured): ./quickstart"
if quickstart_up "$src" fresh; then
	rc=0
else
	rc=1
fi
show "$tmp/fresh.out"
[ -f "$tmp/fresh.probe" ] && show "$tmp/fresh.probe"
if [ $rc -eq 0 ] && grep -q '^probe: OK: ' "$tmp/fresh.probe" && [ "$qs_bin" = "$src/build/gcc" ] &&
	[ ! -e "$src/config.status" ]; then
	ok "quickstart in a fresh tree: builds in build/gcc, ntsd serves, ntsctl probe OK"
else
	not_ok "quickstart in a fresh tree: no working ntsd from build/gcc"
fi
qs_stop
finish
