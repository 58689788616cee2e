#!/usr/bin/env bash
# steering_test.sh: cpu-steering and ntp-busy-poll against the built ntsd
# on free loopback ports with a throw-away CA.  Over loopback a packet is
# received on the CPU that sent it, so a client pinned with taskset picks
# the receiving CPU:
#   (a) threads 2, ke-threads 2: ntsd-ntp/N and ntsd-ke/N each pinned to
#       the N-th CPU ntsd may use (/proc/PID/task/*/status), steering on
#       (its log line, ntsd_cpu_steering 1 for both services)
#   (b) NTS-KE + 3 NTP exchanges (ntsctl probe) from a client pinned to
#       the first CPU: served by worker 0 and accepted by KE thread 0 only
#       (the per-worker view in /metrics); from the second CPU: by worker 1
#       and KE thread 1 only
#   (c) ntp-busy-poll 50: applied, SO_BUSY_POLL read back as 50 (log)
#   (d) ntsd under taskset -c SECOND with threads 0: one worker and one KE
#       thread, pinned to that CPU (the allowed set, not the host's)
#   (e) fallbacks, logged: cpu-steering no (nothing pinned, steering 0)
#       and more workers than CPUs (pinned, not steered, steering 0)
# Needs two CPUs.  Run by make check; by hand:
#   cd BUILDDIR && srcdir=SRCDIR SRCDIR/tests/integration/steering_test.sh
# Exit 0 all passed, 1 a failure, 77 a tool missing outside CI (CI=true:
# missing tools fail).  STEERING_TEST_KEEP=1 keeps the temp dir.
# shellcheck disable=SC2317 # setup functions run through ntsd_up
set -u

srcdir=${srcdir:-$(dirname "$0")/../..}
srcdir=$(cd "$srcdir" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$srcdir/tests/integration/lib.sh"

need_tools "apt-get install util-linux iproute2 openssl" taskset ss openssl
need_programs NTSD NTSCTL make_certs

# The CPUs this test (and so ntsd) may run on, as a list of numbers.
cpu_list() {
	local part lo hi out=()
	IFS=, read -ra parts <<<"$(awk '/^Cpus_allowed_list:/ { print $2 }' /proc/self/status)"
	for part in "${parts[@]}"; do
		lo=${part%-*} hi=${part#*-}
		for ((; lo <= hi; lo++)); do
			out+=("$lo")
		done
	done
	echo "${out[*]}"
}
read -ra cpus <<<"$(cpu_list)"
[ "${#cpus[@]}" -ge 2 ] || cannot_run "two CPUs needed, this process may use ${#cpus[@]}"
cpu_a=${cpus[0]} cpu_b=${cpus[1]}
all_cpus=$(awk '/^Cpus_allowed_list:/ { print $2 }' /proc/self/status)
if [ $((cpu_a + 1)) -eq "$cpu_b" ]; then pair="$cpu_a-$cpu_b"; else pair="$cpu_a,$cpu_b"; fi

tmp_make
dev_certs certs

declare -A ntp_port=() ke_port=() metrics_port=()
names=(steer busy alone plain many)
# conf NAME LINE...: NAME's config on its own ports and key file.
conf() {
	local n=$1
	shift
	ntsd_conf "$n" "ntp-listen 127.0.0.1 ${ntp_port[$n]}" "ke-listen 127.0.0.1 ${ke_port[$n]}" \
		"metrics-listen 127.0.0.1 ${metrics_port[$n]}" "key-file $tmp/keys.$n" "$@"
}
setup() {
	local n ports i=0
	ports=$(pick_ports $((3 * ${#names[@]}))) || return 1
	read -ra ports <<<"$ports"
	for n in "${names[@]}"; do
		ntp_port[$n]=${ports[i]} ke_port[$n]=${ports[i + 1]} metrics_port[$n]=${ports[i + 2]}
		i=$((i + 3))
	done
	conf steer "threads 2" "ke-threads 2"
	conf busy "threads 2" "ke-threads 1" "ntp-busy-poll 50"
	conf alone "threads 0" "ke-threads 0"
	conf plain "threads 2" "ke-threads 2" "cpu-steering no"
	conf many "threads $((${#cpus[@]} + 1))" "ke-threads 1"
}
ntsd_prefix[alone]="taskset -c $cpu_b"

if ! ntsd_up setup : "${names[@]}"; then
	not_ok "every ntsd starts"
	finish
fi

# logged NAME TEXT: NAME's log holds TEXT (a fixed string).
logged() {
	grep -qF -- "$2" "$ntsd_dir/$1.log" && return 0
	echo "  not in $1.log: $2"
	show "$ntsd_dir/$1.log"
	return 1
}

# thread_cpus NAME COMM: the Cpus_allowed_list of ntsd NAME's thread COMM.
thread_cpus() {
	local t
	for t in /proc/"${ntsd_pid[$1]}"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = "$2" ] || continue
		awk '/^Cpus_allowed_list:/ { print $2 }' "$t/status"
		return 0
	done
	echo none
}
# pinned NAME COMM LIST: that thread's allowed CPUs are LIST, within 5 s
# (a thread pins itself as it starts).
pinned_now() { [ "$(thread_cpus "$1" "$2")" = "$3" ]; }
pinned() {
	wait_for 50 pinned_now "$@" && return 0
	echo "  $1 $2: Cpus_allowed_list $(thread_cpus "$1" "$2"), expected $3"
	return 1
}

# metric NAME 'name{labels}': the sample's value in a fresh scrape of NAME.
metric() {
	"$NTSCTL" stats "127.0.0.1:${metrics_port[$1]}" --raw 2>/dev/null |
		awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print "absent" }'
}
views() {	# views NAME: worker 0, worker 1, KE thread 0, KE thread 1
	echo "$(metric "$1" 'ntsd_ntp_worker_received_total{worker="0"}')" \
		"$(metric "$1" 'ntsd_ntp_worker_received_total{worker="1"}')" \
		"$(metric "$1" 'ntsd_ke_thread_accepted_total{thread="0"}')" \
		"$(metric "$1" 'ntsd_ke_thread_accepted_total{thread="1"}')"
}
# probe_from CPU NAME: NTS-KE and 3 NTP exchanges with NAME, the client on CPU.
probe_from() {
	taskset -c "$1" "$NTSCTL" probe "127.0.0.1:${ke_port[$2]}" --ca "$tmp/certs/ca.pem" \
		--name localhost --count 3 --interval 0 >"$tmp/probe.out" 2>&1 && return 0
	show "$tmp/probe.out"
	return 1
}
# served_by CPU WANT: a probe from CPU moves (worker 0, worker 1, KE 0,
# KE 1) of ntsd steer by exactly WANT.
served_by() {
	local before after b a i got=()
	read -ra before <<<"$(views steer)"
	probe_from "$1" steer || return 1
	read -ra after <<<"$(views steer)"
	for i in 0 1 2 3; do
		b=${before[$i]} a=${after[$i]}
		[ "$a" != absent ] && [ "$b" != absent ] || { echo "  per-worker view absent"; return 1; }
		got+=($((a - b)))
	done
	[ "${got[*]}" = "$2" ] && return 0
	echo "  from CPU $1: worker 0, worker 1, KE 0, KE 1 moved by ${got[*]}, expected $2"
	return 1
}

# --- (a) pinned and steered --------------------------------------------------

check "(a) ntsd-ntp/0 and ntsd-ke/0 on CPU $cpu_a, ntsd-ntp/1 and ntsd-ke/1 on CPU $cpu_b" \
	eval 'pinned steer ntsd-ntp/0 "$cpu_a" && pinned steer ntsd-ntp/1 "$cpu_b" &&
		pinned steer ntsd-ke/0 "$cpu_a" && pinned steer ntsd-ke/1 "$cpu_b"'
check "(a) steering on, logged for both services" \
	eval 'logged steer "ntp: 2 threads pinned to CPUs $pair, each serving what its CPU receives (cpu-steering, 1 listen address)" &&
		logged steer "NTS-KE: 2 threads pinned to CPUs $pair, each serving what its CPU receives (cpu-steering, 1 listen address)"'
check "(a) ntsd_cpu_steering 1 for ntp and ke, ntsd_ntp_worker_cpu and ntsd_ke_thread_cpu name the CPUs" \
	eval '[ "$(metric steer "ntsd_cpu_steering{service=\"ntp\"}")" = 1 ] &&
		[ "$(metric steer "ntsd_cpu_steering{service=\"ke\"}")" = 1 ] &&
		[ "$(metric steer "ntsd_ntp_worker_cpu{worker=\"1\"}")" = "$cpu_b" ] &&
		[ "$(metric steer "ntsd_ke_thread_cpu{thread=\"0\"}")" = "$cpu_a" ]'

# --- (b) each CPU's traffic on its own worker ----------------------------------

check "(b) a client on CPU $cpu_a: 3 NTP requests to worker 0, its NTS-KE connection to KE thread 0" \
	served_by "$cpu_a" "3 0 1 0"
check "(b) a client on CPU $cpu_b: 3 NTP requests to worker 1, its NTS-KE connection to KE thread 1" \
	served_by "$cpu_b" "0 3 0 1"
check "(b) again from CPU $cpu_a: worker 0 and KE thread 0" served_by "$cpu_a" "3 0 1 0"

# --- (c) ntp-busy-poll -----------------------------------------------------------

if [ "$(id -u)" -eq 0 ]; then
	check "(c) ntp-busy-poll 50: SO_BUSY_POLL read back as 50 us" \
		logged busy "ntp: ntp-busy-poll 50: workers spin 50 us after each datagram; SO_BUSY_POLL 50 us on each socket"
else
	# Without CAP_NET_ADMIN the kernel may refuse it: then that is said.
	check "(c) ntp-busy-poll 50: applied, or its refusal logged" \
		eval 'grep -qE "ntp-busy-poll 50: (workers spin 50 us after each datagram; SO_BUSY_POLL 50 us|SO_BUSY_POLL refused)" "$ntsd_dir/busy.log"'
fi
check "(c) with ntp-busy-poll a client is served (NTS-KE and 3 NTP exchanges)" \
	probe_from "$cpu_a" busy

# --- (d) the allowed CPUs, not the host's ----------------------------------------

check "(d) under taskset -c $cpu_b, threads 0: one worker and one KE thread, on CPU $cpu_b" \
	eval 'pinned alone ntsd-ntp/0 "$cpu_b" && pinned alone ntsd-ke/0 "$cpu_b" &&
		[ "$(thread_cpus alone ntsd-ntp/1)" = none ] &&
		logged alone "ntp: 1 thread pinned to CPU $cpu_b, each serving"'

# --- (e) fallbacks, never silent ---------------------------------------------------

check "(e) cpu-steering no: logged, threads not pinned, ntsd_cpu_steering 0" \
	eval 'logged plain "ntp: threads not pinned and packets not steered by CPU: cpu-steering no" &&
		logged plain "NTS-KE: threads not pinned and packets not steered by CPU: cpu-steering no" &&
		pinned plain ntsd-ntp/1 "$all_cpus" &&
		[ "$(metric plain "ntsd_cpu_steering{service=\"ntp\"}")" = 0 ] &&
		[ "$(metric plain "ntsd_ntp_worker_cpu{worker=\"0\"}")" = -1 ]'
check "(e) cpu-steering no still serves" probe_from "$cpu_b" plain
more=$((${#cpus[@]} + 1))
check "(e) $more workers on ${#cpus[@]} CPUs: pinned, not steered, logged, ntsd_cpu_steering 0" \
	eval 'logged many "ntp: $more threads pinned to CPUs" &&
		logged many "packets not steered by CPU: $more threads on ${#cpus[@]} CPUs" &&
		pinned many "ntsd-ntp/${#cpus[@]}" "$cpu_a" &&
		[ "$(metric many "ntsd_cpu_steering{service=\"ntp\"}")" = 0 ]'

for n in "${names[@]}"; do
	check "ntsd $n: no sanitizer report" no_sanitizer_report "$ntsd_dir/$n.log"
done
finish
