#!/usr/bin/env bash
# cert_reload_test.sh: ntsd (as user nobody, as in production) picks up a
# certificate file it could not read once the operator fixes only its
# owner or mode, without a SIGHUP.  It used to compare inode, size and
# mtime only, so a chown or chmod went unseen until the next SIGHUP.
#   certfile_chown_reload  the certificate is replaced by a 90-day one that
#                          nobody cannot read (root, 0600): the failure is
#                          logged once and the old 30-day certificate keeps
#                          serving; after a chown alone, within 2 s, the log
#                          says it was loaded, /metrics' expiry and the
#                          certificate a TLS client gets are the new one's
#   certfile_chmod_reload  the same with a 60-day one and a chmod alone
# Needs root (skipped otherwise: ntsd must run as another user).  Run by
# make check; by hand:
#   cd BUILDDIR && srcdir=SRCDIR SRCDIR/tests/integration/cert_reload_test.sh
# Exit 0 all passed, 1 a failure, 77 skipped (CI=true: a missing tool,
# not being root or no user nobody fails).  CERT_RELOAD_TEST_KEEP=1 keeps the temp dir.
# The setup and ready functions run through ntsd_up.
# shellcheck disable=SC2317
set -u

srcdir=${srcdir:-$(dirname "$0")/../..}
srcdir=$(cd "$srcdir" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$srcdir/tests/integration/lib.sh"

need_tools "apt-get install iproute2 openssl coreutils" ss openssl timeout
need_programs NTSD NTSCTL make_certs
run_user=nobody
# CI runs as root with user nobody: there, not being able to is a failure.
if [ "$(id -u)" -ne 0 ] || ! id "$run_user" >/dev/null 2>&1; then
	cannot_run "needs root and user $run_user (ntsd must run as another user)"
fi
tmp_make
dev_certs certs
chmod 755 "$tmp" "$tmp/certs"
cert=$tmp/certs/server.pem
chown "$run_user": "$cert" "$tmp/certs/server.key"
cp "$cert" "$tmp/30.pem"
"$NTSCTL" keys init "$tmp/keys" >/dev/null && chown "$run_user": "$tmp/keys"

# make_cert DAYS: $tmp/DAYS.pem, for the same key, signed by the same CA,
# valid DAYS days.
make_cert() {
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n' >"$tmp/san.ext"
	openssl req -new -key "$tmp/certs/server.key" -subj "/CN=localhost" \
		-out "$tmp/$1.csr" 2>>"$tmp/certs.log" &&
		openssl x509 -req -in "$tmp/$1.csr" -CA "$tmp/certs/ca.pem" \
			-CAkey "$tmp/certs/ca.key" -set_serial "$1" -days "$1" \
			-extfile "$tmp/san.ext" -out "$tmp/$1.pem" 2>>"$tmp/certs.log"
}
if ! make_cert 90 || ! make_cert 60; then
	show "$tmp/certs.log"
	not_ok "prerequisites: cannot make the 90- and 60-day certificates"
	finish
fi

ntp_port=
ke_port=
metrics_port=
setup() {
	local ports
	ports=$(pick_ports 3) || return 1
	read -r ntp_port ke_port metrics_port <<<"$ports"
	ntsd_conf ntsd "ntp-listen 127.0.0.1 $ntp_port" "ke-listen 127.0.0.1 $ke_port" \
		"metrics-listen 127.0.0.1 $metrics_port" "user $run_user"
}
listening() { ports_listen "$ke_port" "$ntp_port" "$metrics_port"; }
if ! ntsd_up setup listening ntsd; then
	not_ok "ntsd starts as user $run_user"
	finish
fi
log=$tmp/ntsd.log
echo "$test_name: ntsd pid ${ntsd_pid[ntsd]} (user $run_user): NTS-KE port $ke_port, metrics $metrics_port"

# --- what is served --------------------------------------------------------

# expiry: /metrics' ntsd_ke_certificate_expiry_seconds.
expiry() {
	"$NTSCTL" stats "127.0.0.1:$metrics_port" --raw 2>/dev/null |
		awk '$1 == "ntsd_ke_certificate_expiry_seconds" { print $2 }'
}
# left FILE: seconds until certificate FILE expires.
left() { echo $(($(date -d "$(end_of "$1" | cut -d= -f2)" +%s) - $(date +%s))); }
# expiry_is FILE: /metrics' expiry is FILE's, give or take 5 s.
expiry_is() {
	local e l
	e=$(expiry)
	l=$(left "$1")
	[ -n "$e" ] && [ $((e - l)) -le 5 ] && [ $((l - e)) -le 5 ]
}
# served_end: the notAfter of the certificate a TLS 1.3 client with ALPN
# ntske/1 gets.
served_end() {
	timeout 5 openssl s_client -connect "127.0.0.1:$ke_port" -tls1_3 -alpn ntske/1 \
		</dev/null 2>/dev/null | openssl x509 -noout -enddate 2>/dev/null
}
end_of() { openssl x509 -in "$1" -noout -enddate; }
loads() { grep -c "certificate $cert loaded (expires in [0-9]* days)" "$log"; }
loaded() { [ "$(loads)" -ge "$1" ]; }
denied() { grep -c "$cert: Permission denied" "$log"; }
probe_ok() {
	"$NTSCTL" probe "127.0.0.1:$ke_port" --ca "$tmp/certs/ca.pem" --count 1 >"$tmp/probe" 2>&1
}

# install_unreadable DAYS: DAYS.pem replaces the certificate the way a
# root job does (temp file, root, mode 0600, rename).
install_unreadable() {
	cp "$tmp/$1.pem" "$cert.tmp" && chown root: "$cert.tmp" && chmod 600 "$cert.tmp" &&
		mv -f "$cert.tmp" "$cert"
}

# case_fix NAME OLD DAYS FIX...: the certificate OLD.pem is served; the
# unreadable DAYS-day one is logged once and OLD keeps serving; FIX (a
# chown or chmod) alone gets it loaded within 2 s.
case_fix() {
	local name=$1 old=$tmp/$2.pem new=$tmp/$3.pem days=$3 n0 n1 n2 l0
	shift 3
	n0=$(denied)
	l0=$(loads)
	install_unreadable "$days"
	wait_for 30 bash -c "[ \$(grep -c '$cert: Permission denied' '$log') -gt $n0 ]"
	sleep 1.5
	n1=$(denied)
	check "$name: the unreadable certificate is logged ($((n1 - n0)) line, not one per check)" \
		[ $((n1 - n0)) -eq 1 ]
	if grep -q 'keeping the certificate already in use' "$log" && expiry_is "$old" &&
		[ "$(served_end)" = "$(end_of "$old")" ] && probe_ok; then
		ok "$name: the old certificate keeps serving (expiry $(expiry) s, probe OK)"
	else
		not_ok "$name: the old certificate keeps serving (expiry $(expiry) s, was $(left "$old"))"
	fi
	"$@"
	if wait_for 20 loaded $((l0 + 1)); then
		ok "$name: loaded within 2 s of '$*', no SIGHUP"
	else
		not_ok "$name: not loaded within 2 s of '$*'"
	fi
	n2=$(denied)
	check "$name: /metrics shows the $days-day certificate's expiry ($(expiry) s)" \
		expiry_is "$new"
	check "$name: a TLS client gets the new certificate" [ "$(served_end)" = "$(end_of "$new")" ]
	check "$name: NTS-KE and NTP still work (ntsctl probe)" probe_ok
	check "$name: no failure logged after the fix" [ "$n2" -eq "$n1" ]
}

check "the 30-day certificate is served (expiry $(expiry) s)" expiry_is "$tmp/30.pem"
case_fix certfile_chown_reload 30 90 chown "$run_user": "$cert"
case_fix certfile_chmod_reload 90 60 chmod 644 "$cert"
check "no SIGHUP was needed" bash -c "! grep -q SIGHUP '$log'"

ntsd_stop ntsd
echo "$test_name: ntsd log:"
show "$log"
check "ntsd: no sanitizer report" no_sanitizer_report "$log"
finish
