# shellcheck shell=bash
# haproxy.sh: Debian's HAProxy as the TCP load balancer in front of ntsd's
# NTS-KE port, for tests.  Source it after lib.sh:
#	. "$srcdir/tests/integration/haproxy.sh"
#
#   haproxy_need             haproxy and python3 (for its stats socket)
#                            installed (cannot_run otherwise)
#   haproxy_conf FILE SOCKET BIND SERVER...
#                            writes FILE: a `mode tcp` frontend on BIND
#                            (ADDR:PORT) balanced over each SERVER, given
#                            as "NAME ADDR:PORT HEALTH_PORT": sent a PROXY
#                            v2 header (send-proxy-v2) and health-checked
#                            with GET /health on HEALTH_PORT (ntsd's
#                            metrics-listen) every 0.5 s; the stats socket
#                            (admin level) at SOCKET, a file path
#   haproxy_start NAME FILE [PREFIX...]
#                            haproxy -db -f FILE in the foreground, run
#                            under PREFIX (e.g. in_ns lb), output in
#                            $tmp/NAME.log, PID in bg_pids (stopped on
#                            exit) and haproxy_pid[NAME]; 0 once it runs
#   haproxy_cmd SOCKET COMMAND
#                            a stats socket command's answer ("show stat",
#                            "show servers state", "disable server B/S")
#   haproxy_status SOCKET BACKEND SERVER
#                            that server's status in `show stat` (UP, DOWN)
#   haproxy_show SOCKET BACKEND
#                            prints HAProxy's view of BACKEND's servers,
#                            one "  | " line each from `show stat`: status,
#                            last check's result and HTTP code, sessions
# The Debian package's own service is never used.
# shellcheck disable=SC2034

declare -A haproxy_pid=()

haproxy_need() {
	need_tools --sbin "apt-get install haproxy python3" haproxy python3
	HAPROXY=$(tool_path haproxy)
}

haproxy_conf() {
	local file=$1 sock=$2 bind=$3 s name addr hport
	shift 3
	{
		cat <<CFG
# written by $test_name.sh
global
	log stdout format raw local0 info
	stats socket $sock mode 600 level admin
defaults
	mode tcp
	log global
	option tcplog
	timeout connect 2s
	timeout client 30s
	timeout server 30s
	timeout check 1s
frontend nts_ke
	bind $bind
	default_backend ntsd_ke
backend ntsd_ke
	balance roundrobin
	option httpchk GET /health
	default-server inter 500ms fastinter 200ms rise 1 fall 2
CFG
		for s in "$@"; do
			read -r name addr hport <<<"$s"
			echo "	server $name $addr send-proxy-v2 check port $hport"
		done
	} >"$file"
}

haproxy_start() {
	local n=$1 file=$2
	shift 2
	"$@" "$HAPROXY" -db -f "$file" >"$tmp/$n.log" 2>&1 </dev/null &
	haproxy_pid[$n]=$!
	bg_pids+=("$!")
	# -db: a config error ends it at once; else it is up within a moment
	sleep 0.5
	if pid_gone "${haproxy_pid[$n]}"; then
		show "$tmp/$n.log"
		return 1
	fi
}

haproxy_cmd() {
	python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.write(out.decode(errors="replace"))
PY
}

haproxy_status() {
	haproxy_cmd "$1" "show stat" | awk -F, -v b="$2" -v s="$3" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == "status") c = i }
		$1 == b && $2 == s { print $c }'
}

haproxy_show() {
	haproxy_cmd "$1" "show stat" | awk -F, -v b="$2" '
		NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) c[$i] = i; next }
		$1 == b && $2 != "FRONTEND" && $2 != "BACKEND" {
			printf "  | %s/%s status=%s check=%s code=%s check_duration_ms=%s sessions_total=%s\n",
				$1, $2, $c["status"], $c["check_status"], $c["check_code"],
				$c["check_duration"], $c["stot"] }'
}
