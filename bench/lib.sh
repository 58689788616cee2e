# bench/lib.sh: what bench/compare and bench/accuracy share: the tools and
# the build, free ports, pinning, starting ntsd and chronyd as NTS servers on
# 127.0.0.1 with the same certificate, stopping what was started by its PID.
#
# Sourced, not run.  The caller sets: prog (for messages), top (the source
# tree), work (its work directory, with certs/ from certs/make-dev-certs),
# and may set NTSD_EXTRA / CHRONYD_EXTRA (configuration lines added to each
# server's file), server_addr and client_allow (the address the servers
# listen on and the clients chronyd allows: 127.0.0.1 unless set) and
# NS_EXEC (a prefix the servers and ss run under: bench/veth's
# "ip netns exec NS").  It gets: NTSD BENCH MICRO CHRONYD, server_pid,
# server_name, ntp_port, ke_port.
# shellcheck shell=bash

say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { say "$*"; exit 1; }

# need_tools TOOL...: root, and every tool (apt packages named on failure).
need_tools() {
	local tool missing=
	[ "$(id -u)" -eq 0 ] || die "run as root (chronyd needs it to start; it never gets CAP_SYS_TIME)"
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || missing="$missing $tool"
	done
	[ -z "$missing" ] || die "missing:$missing (apt-get install chrony util-linux iproute2 openssl coreutils)"
	CHRONYD=$(command -v chronyd || echo /usr/sbin/chronyd)
	CHRONYC=$(command -v chronyc || echo /usr/bin/chronyc)
}

# build_tools [DIR]: make bench in DIR (default build/gcc if built, else
# build/bench, configured here); sets NTSD BENCH MICRO.
build_tools() {
	local build=${1:-} f
	if [ -z "$build" ]; then
		if [ -x "$top/build/gcc/ntsd/ntsd" ]; then
			build=$top/build/gcc
		else
			build=$top/build/bench
		fi
	fi
	mkdir -p "$build"
	build=$(cd "$build" && pwd)
	if [ ! -f "$build/Makefile" ]; then
		say "configuring in $build"
		if [ ! -x "$top/configure" ]; then
			(cd "$top" && autoreconf -fi >/dev/null 2>&1) || die "autoreconf failed (run scripts/install-deps)"
		fi
		(cd "$build" && "$top/configure" -q) || die "configure failed (run scripts/install-deps)"
	fi
	say "building in $build"
	make -C "$build" -j"$(nproc)" bench >"$build/bench-build.log" 2>&1 ||
		{ tail -n 30 "$build/bench-build.log"; die "make bench failed"; }
	NTSD=$build/ntsd/ntsd
	BENCH=$build/bench/ntsbench
	MICRO=$build/bench/micro
	for f in "$NTSD" "$BENCH" "$MICRO"; do
		[ -x "$f" ] || die "$f was not built"
	done
}

server_pid= server_name= ntp_port= ke_port=
server_addr=${server_addr:-127.0.0.1}
client_allow=${client_allow:-127.0.0.1}
[ -n "${NS_EXEC+set}" ] || NS_EXEC=()
stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for i in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
}
stop_server() {
	stop_pid "$server_pid"
	server_pid=
}
used_ports() { ss -Htuan 2>/dev/null | awk '{ n = split($5, a, ":"); print a[n] }' | sort -u; }
# A port nothing uses on TCP or UDP, below the ephemeral range.
pick_port() {
	local lo=20000 hi=32000 eph p i
	read -r eph _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || eph=32768
	[ "$eph" -gt $((lo + 1000)) ] && [ "$eph" -le 65535 ] && hi=$((eph - 1))
	for i in $(seq 1 100); do
		p=$((lo + RANDOM % (hi - lo)))
		case " $* " in *" $p "*) continue ;; esac
		used_ports | grep -qx "$p" || { echo "$p"; return 0; }
	done
	return 1
}
listening() { # NTP-PORT KE-PORT: UDP and TCP both bound (where the server runs)
	"${NS_EXEC[@]}" ss -Hlnt "sport = :$2" 2>/dev/null | grep -q . &&
		"${NS_EXEC[@]}" ss -Hlnu "sport = :$1" 2>/dev/null | grep -q .
}

# PIN=(taskset -c CPULIST) or nothing.  A prefix rather than a function:
# "${PIN[@]}" CMD & is one simple command, so $! is CMD's own pid (taskset
# execs it), which is what the generator measures and what we stop.
set_pin() {
	PIN=()
	[ -z "$1" ] || PIN=(taskset -c "$1")
}

# server_up: the server just started listens on both ports within 10 s;
# else it is stopped and 1 (the caller retries on other ports).
server_up() {
	local i
	for i in $(seq 1 100); do
		kill -0 "$server_pid" 2>/dev/null || break
		listening "$ntp_port" "$ke_port" && return 0
		sleep 0.1
	done
	stop_server
	return 1
}

# start_ntsd WORKERS KE_THREADS CPULIST
start_ntsd() {
	local workers=$1 ke_threads=$2 cpus=$3 attempt
	for attempt in 1 2 3; do
		ntp_port=$(pick_port) && ke_port=$(pick_port "$ntp_port") || return 1
		cat >"$work/ntsd.conf" <<EOF
# written by $prog
ntp-listen $server_addr $ntp_port
ke-listen $server_addr $ke_port
ke-certificate $work/certs/server.pem
ke-private-key $work/certs/server.key
key-file $work/ntsd-keys
pid-file $work/ntsd.pid
local-stratum 10
threads $workers
ke-threads $ke_threads
log-level notice
${NTSD_EXTRA:-}
EOF
		set_pin "$cpus"
		"${NS_EXEC[@]}" "${PIN[@]}" "$NTSD" -c "$work/ntsd.conf" -f >>"$work/ntsd.log" 2>&1 </dev/null &
		server_pid=$! server_name=ntsd
		server_up && return 0
	done
	tail -n 20 "$work/ntsd.log" >&2
	return 1
}

# start_chronyd CPULIST: chronyd as an NTS server, configured as chrony.conf(5)
# describes: ntsserverkey/ntsservercert, ntsport, port, allow, ntsdumpdir;
# "local stratum" so it serves with no reference, "manual" so nothing
# steers it; no ratelimit or ntsratelimit directive (both off, as in ntsd).
# -x: never touch the clock; setpriv drops CAP_SYS_TIME from its bounding
# set so it could not even if asked.  NTS-KE runs in ntsprocesses helper
# processes (default 1), children of chronyd: their CPU time is counted.
start_chronyd() {
	local cpus=$1 attempt user=root
	if id _chrony >/dev/null 2>&1; then
		user=_chrony
	fi
	for attempt in 1 2 3; do
		ntp_port=$(pick_port) && ke_port=$(pick_port "$ntp_port") || return 1
		rm -rf "$work/chrony" && mkdir -p "$work/chrony/nts" && chmod 700 "$work/chrony"
		cp "$work/certs/server.pem" "$work/certs/server.key" "$work/chrony/"
		cat >"$work/chrony/chrony.conf" <<EOF
# written by $prog: chronyd as an NTS server
port $ntp_port
bindaddress $server_addr
allow $client_allow
ntsport $ke_port
ntsservercert $work/chrony/server.pem
ntsserverkey $work/chrony/server.key
ntsdumpdir $work/chrony/nts
ntsprocesses 1
local stratum 10
manual
pidfile $work/chrony/chronyd.pid
bindcmdaddress $work/chrony/chronyd.sock
cmdport 0
driftfile $work/chrony/drift
${CHRONYD_EXTRA:-}
EOF
		[ $user = root ] || chown -R _chrony: "$work/chrony"
		set_pin "$cpus"
		"${NS_EXEC[@]}" "${PIN[@]}" setpriv --bounding-set=-sys_time "$CHRONYD" -x -d -u "$user" \
			-f "$work/chrony/chrony.conf" >>"$work/chronyd.log" 2>&1 </dev/null &
		server_pid=$! server_name=chronyd
		server_up && return 0
	done
	tail -n 20 "$work/chronyd.log" >&2
	return 1
}

start_server() { # NAME CPULIST [WORKERS KE_THREADS]
	case $1 in
	ntsd) start_ntsd "${3:-1}" "${4:-1}" "$2" ;;
	chronyd) start_chronyd "$2" ;;
	esac
}

# --- results -----------------------------------------------------------------

get() { # KEY RESULT-LINE: one value of an ntsbench RESULT line
	sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"
}

# Values by server and metric, one per round: add files one, med and
# least read them back.
declare -A vals
add() { # SERVER METRIC VALUE
	[ -n "$3" ] || return 0
	vals[$1:$2]="${vals[$1:$2]:-} $3"
}
least() { # SERVER METRIC: the best (lowest) round; CPU costs only grow with interference
	# shellcheck disable=SC2086
	printf '%s\n' ${vals[$1:$2]:-} | grep -v '^$' | sort -g | head -n 1 | grep . || echo -
}
med() { # SERVER METRIC
	# shellcheck disable=SC2086
	median ${vals[$1:$2]:-}
}
ratio() { # A B
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}
fmt() { # VALUE DECIMALS
	awk -v v="$1" -v d="$2" 'BEGIN { if (v == "-" || v == "") print "-"; else printf "%.*f", d, v }'
}

# median VALUE...: the median of numbers ("-" for none)
median() { # values...
	printf '%s\n' "$@" | grep -v '^$' | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# plot_draw DIR NAME: DIR/NAME.png and DIR/NAME.svg from the gnuplot
# commands on standard input (kept as DIR/NAME.gp; run in DIR, so data files
# are named relative to it).  PLOT_SIZE (default 1000,420) is the size in
# pixels.  Needs gnuplot (Debian: gnuplot-nox); its messages go to
# DIR/NAME.log and are shown when it fails.
plot_draw() {
	local dir=$1 name=$2 size=${PLOT_SIZE:-1000,420}
	cat >"$dir/$name.gp" || return 1
	if ! (cd "$dir" &&
		gnuplot -e "set terminal pngcairo size $size font 'sans,10'; set output '$name.png'" "$name.gp" &&
		gnuplot -e "set terminal svg size $size font 'sans,10'; set output '$name.svg'" "$name.gp") \
		>"$dir/$name.log" 2>&1; then
		sed 's/^/  | /' "$dir/$name.log" >&2
		say "gnuplot failed on $dir/$name.gp"
		return 1
	fi
}

# --- memory under a soak ---------------------------------------------------------

# rss_watch PID SECONDS STEP FILE: PID's VmRSS and VmHWM (kB, from
# /proc/PID/status) every STEP seconds for SECONDS seconds, each sample a
# line "SECONDS RSS HWM" in FILE ("-" once PID is gone).  Wakes at fixed
# times from the start, so slow reads do not stretch the run.
rss_watch() {
	local pid=$1 secs=$2 step=$3 file=$4 t0 i n rss hwm wait
	n=$((secs / step))
	[ "$n" -ge 1 ] || n=1
	echo "# seconds VmRSS_kB VmHWM_kB (PID $pid)" >"$file"
	t0=$(date +%s.%N)
	for i in $(seq 1 "$n"); do
		wait=$(awk -v t0="$t0" -v t="$(date +%s.%N)" -v at="$((i * step))" \
			'BEGIN { w = t0 + at - t; printf "%.3f", (w > 0 ? w : 0) }')
		sleep "$wait"
		rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status" 2>/dev/null)
		hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status" 2>/dev/null)
		echo "$((i * step)) ${rss:--} ${hwm:--}" >>"$file"
	done
}

# rss_samples FILE: rss_watch's samples on one line, " 60s:RSS/HWM ...".
rss_samples() {
	awk '!/^#/ { printf " %ss:%s/%s", $1, $2 == "-" ? "?" : $2, $3 == "-" ? "?" : $3 }' "$1"
}

# rss_summary FILE: key=value figures of rss_watch's samples: n, first,
# last, min and max RSS, hwm_first and hwm_last, hwm_growth (last - first
# HWM), and the least-squares slope of RSS in kB per minute over all the
# samples (slope_kb_min) and over their second half (slope2_kb_min: growth
# that keeps on after the start-up allocations).
rss_summary() {
	awk '
	function slope(a, b,   i, n, sx, sy, sxx, sxy) {
		for (i = a; i <= b; i++) { sx += t[i]; sy += r[i]; sxx += t[i] * t[i]; sxy += t[i] * r[i]; n++ }
		if (n < 2 || n * sxx - sx * sx == 0) return "-"
		return sprintf("%.2f", 60 * (n * sxy - sx * sy) / (n * sxx - sx * sx))
	}
	!/^#/ && $2 != "-" {
		n++; t[n] = $1; r[n] = $2; h[n] = $3
		if (n == 1 || $2 < lo) lo = $2
		if (n == 1 || $2 > hi) hi = $2
	}
	END {
		if (n == 0) { print "n=0"; exit }
		printf "n=%d first=%d last=%d min=%d max=%d hwm_first=%d hwm_last=%d hwm_growth=%d slope_kb_min=%s slope2_kb_min=%s\n",
			n, r[1], r[n], lo, hi, h[1], h[n], h[n] - h[1], slope(1, n), slope(int((n + 1) / 2), n)
	}' "$1"
}
