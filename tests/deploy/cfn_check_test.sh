#!/usr/bin/env bash
# cfn_check_test.sh: the CloudFormation templates in deploy/aws/ checked
# against the CloudFormation resource specification (npm's
# @aws-cdk/cfnspec, pinned with the YAML parser in tests/deploy's
# package-lock.json and installed with npm ci), and the files the
# instances run checked by the programs that run them:
#   (a) every deploy/aws/*.yaml passes tests/deploy/cfn-check.js: no error
#   (b) every tests/deploy/bad/*.yaml is rejected, with exactly one error
#       matching its "# expect: REGEX" line (the checker can fail)
#   (c) the instance scripts in deploy/aws/instance parse (bash -n) and
#       pass shellcheck; the systemd units pass systemd-analyze verify
#   (d) the ntsd configurations they install pass the built ntsd's -n (with
#       this test's certificate, key file and user), and so does every
#       ```ntsd.conf block of doc/deployment.md; the chrony configuration
#       parses (chronyd -p)
# Run by make check; by hand:
#   cd BUILDDIR && srcdir=SRCDIR SRCDIR/tests/deploy/cfn_check_test.sh
# The npm packages go to NTSD_NPM_CACHE (default /var/cache/ntsd-test/npm
# when writable, else tests/deploy/npm in the build directory), one
# directory per package-lock.json.  Exit 0 all passed, 1 a failure, 77 a
# tool or the npm registry missing outside CI (CI=true: they fail).
set -u

srcdir=${srcdir:-$(dirname "$0")/../..}
srcdir=$(cd "$srcdir" && pwd)
# shellcheck source-path=SCRIPTDIR source=../integration/lib.sh
. "$srcdir/tests/integration/lib.sh"

need_tools "apt-get install nodejs npm shellcheck" node npm shellcheck sha256sum
need_tools --sbin "apt-get install chrony" chronyd
need_programs NTSD make_certs
here=$srcdir/tests/deploy
aws=$srcdir/deploy/aws
tmp_make

# --- the pinned npm packages ----------------------------------------------

cache=${NTSD_NPM_CACHE:-/var/cache/ntsd-test/npm}
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
	cache=$(pwd)/tests/deploy/npm
	mkdir -p "$cache" || cannot_run "cannot make $cache"
fi
lock_id=$(sha256sum "$here/package-lock.json" | cut -c1-16)
modules=$cache/cfn-check-$lock_id
if [ ! -f "$modules/.installed" ]; then
	# npm ci in a new directory, renamed into place when complete: a
	# concurrent run sees either no directory or a whole one.
	work=$(mktemp -d "$cache/.cfn-check.XXXXXX")
	cp "$here/package.json" "$here/package-lock.json" "$work/"
	if ! (cd "$work" && npm ci --ignore-scripts --no-audit --no-fund \
		--cache "$cache/.npm" >"$tmp/npm-ci.log" 2>&1); then
		show "$tmp/npm-ci.log"
		rm -rf "$work"
		cannot_run "npm ci of tests/deploy/package-lock.json failed (is the npm registry reachable?)"
	fi
	touch "$work/.installed"
	mv -T "$work" "$modules" 2>/dev/null || rm -rf "$work"
fi
check "npm ci: @aws-cdk/cfnspec and yaml as pinned in package-lock.json ($modules)" \
	test -f "$modules/.installed"

cfn_check() { node "$here/cfn-check.js" --modules "$modules" "$@"; }

# --- (a) the real templates -----------------------------------------------

templates=("$aws"/*.yaml)
for t in "${templates[@]}"; do
	name=${t#"$srcdir"/}
	cfn_check "$t" >"$tmp/out" 2>&1
	rc=$?
	show "$tmp/out"
	check "(a) $name: no errors" test $rc -eq 0
	check "(a) $name: no warnings" bash -c "! grep -q '^warning:' '$tmp/out'"
	check "(a) $name: the checker checked properties and Refs" \
		grep -Eq "^$t: .*checked [1-9][0-9]* properties, [1-9][0-9]* Refs" "$tmp/out"
done
check "(a) three templates: regional, global, private-server" test ${#templates[@]} -eq 3

# --- (b) the negative fixtures ---------------------------------------------

n_bad=0
for t in "$here"/bad/*.yaml; do
	name=${t#"$srcdir"/}
	expect=$(sed -n 's/^# expect: //p' "$t")
	if [ -z "$expect" ]; then
		not_ok "(b) $name has no '# expect: REGEX' line"
		continue
	fi
	n_bad=$((n_bad + 1))
	cfn_check "$t" >"$tmp/out" 2>&1
	rc=$?
	show "$tmp/out"
	check "(b) $name: rejected (exit 1)" test $rc -eq 1
	errors=$(grep -c '^error: ' "$tmp/out")
	check "(b) $name: exactly one error (got $errors)" test "$errors" -eq 1
	check "(b) $name: the error says /$expect/" grep -Eq "^error: .*$expect" "$tmp/out"
done
check "(b) at least 8 negative fixtures (got $n_bad)" test $n_bad -ge 8

# --- (c) what the instances run -------------------------------------------

for f in "$aws"/instance/ntsd-aws-{setup,sync,rotate,tls-put}; do
	name=${f#"$srcdir"/}
	check "(c) $name: bash -n" bash -n "$f"
	shellcheck -x "$f" >"$tmp/sc.out" 2>&1
	rc=$?
	show "$tmp/sc.out"
	check "(c) $name: shellcheck clean" test $rc -eq 0
done
# ntsd-aws-setup installs from the unpacked ntsd-aws-instance.tar.gz
# (deploy/aws/instance): every file it names is there.
missing=
for f in $(grep -oE '\$share/[A-Za-z0-9.$_{}-]+' "$aws/instance/ntsd-aws-setup" | sort -u); do
	f=${f#\$share/}
	case $f in
	'$f') ;;	# the loop over the scripts, checked above
	*'$NTSD_ROLE'*) for role in fleet private; do
			[ -f "$aws/instance/${f/\$NTSD_ROLE/$role}" ] || missing+=" ${f/\$NTSD_ROLE/$role}"
		done ;;
	*) [ -f "$aws/instance/$f" ] || missing+=" $f" ;;
	esac
done
check "(c) every file ntsd-aws-setup installs is in deploy/aws/instance${missing:+ (missing:$missing)}" \
	test -z "$missing"
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$tmp/units"
	cp "$aws"/instance/*.service "$aws"/instance/*.timer "$tmp/units/"
	# ExecStart paths are where ntsd-aws-setup installs the scripts.
	sed -i "s|/usr/local/sbin/|$aws/instance/|" "$tmp/units"/*.service
	(cd "$tmp/units" && systemd-analyze verify --man=no ./*.timer ./*.service) \
		>"$tmp/verify.out" 2>&1
	rc=$?
	show "$tmp/verify.out"
	check "(c) systemd-analyze verify: the units and timers" test $rc -eq 0
else
	cannot_run "missing systemd-analyze (apt-get install systemd)"
fi

# --- (d) the configurations, by the programs that read them ----------------

dev_certs certs
"$NTSCTL" keys init "$tmp/keys" >/dev/null 2>&1 || true
# ntsd_accepts FILE NAME: ntsd -n accepts FILE with this test's paths
# and user in place of the instance's; every other line is FILE's.
ntsd_accepts() {
	{
		sed -e '/^ke-certificate /d' -e '/^ke-private-key /d' -e '/^key-file /d' \
			-e '/^user /d' -e '/^pid-file /d' "$1"
		echo "ke-certificate $tmp/certs/server.pem"
		echo "ke-private-key $tmp/certs/server.key"
		echo "key-file $tmp/keys"
		echo "pid-file $tmp/ntsd.pid"
	} >"$tmp/ntsd.conf"
	"$NTSD" -n -c "$tmp/ntsd.conf" >"$tmp/n.out" 2>&1
	local rc=$?
	show "$tmp/n.out"
	check "(d) $2: ntsd -n accepts it" test $rc -eq 0
}
for conf in "$aws"/instance/ntsd-*.conf; do
	ntsd_accepts "$conf" "${conf#"$srcdir"/}"
done
# Every ```ntsd.conf block of doc/deployment.md.
doc=$srcdir/doc/deployment.md
mkdir -p "$tmp/doc"
awk -v dir="$tmp/doc" '
	/^ *```ntsd\.conf *$/ { n++; f = sprintf("%s/%02d-line%d", dir, n, NR + 1); next }
	/^ *```/ { f = ""; next }
	f { sub(/^ +/, ""); print > f }' "$doc"
n_blocks=0
for b in "$tmp/doc"/*; do
	[ -f "$b" ] || continue
	n_blocks=$((n_blocks + 1))
	ntsd_accepts "$b" "doc/deployment.md:${b##*-line} (ntsd.conf block)"
done
check "(d) doc/deployment.md has ntsd.conf blocks (got $n_blocks)" test $n_blocks -ge 5
prop_conf=$(sed -n 's/^key-propagation //p' "$aws/instance/ntsd-fleet.conf")
prop_cfn=$(grep -oE 'NTSD_KEY_PROPAGATION=[^ ]+' "$aws/regional.yaml" | cut -d= -f2)
check "(d) the rotator's --propagation ($prop_cfn) is the fleet's key-propagation ($prop_conf)" \
	test -n "$prop_conf" -a "$prop_conf" = "$prop_cfn"
chronyd=$(tool_path chronyd)
"$chronyd" -p -f "$aws/instance/chrony.conf" >"$tmp/chrony.out" 2>&1
rc=$?
show "$tmp/chrony.out"
check "(d) deploy/aws/instance/chrony.conf: chronyd -p parses it" test $rc -eq 0
check "(d) chrony.conf: Amazon Time Sync, chronyd's NTP port off 123, on loopback" \
	grep -Eq '^server 169\.254\.169\.123 ' "$aws/instance/chrony.conf"
finish
