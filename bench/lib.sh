# bench/lib.sh: what bench/run.sh and bench/ratelimit.sh share: logging, a
# scratch directory, free ports, and starting and stopping redis-server and
# cachalot on 127.0.0.1. Source it after setting BENCH_TAG (the log prefix)
# and, optionally, BENCH_TMP_PREFIX, SERVER_PIN (a command prefix such as
# "taskset -c 0") and CACHALOT_ARGS. CACHALOT_BIN must be set before the
# first start_server of a cachalot.

log() { printf '[%s] %s\n' "${BENCH_TAG:-bench}" "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

[[ -v SERVER_PIN ]] || SERVER_PIN=()
CACHALOT_ARGS=${CACHALOT_ARGS:-}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/${BENCH_TMP_PREFIX:-cachalot-bench}.XXXXXX")
declare -A PID=() PORT=()

stop_server() {
	local name=$1
	if [[ -n ${PID[$name]:-} ]]; then
		kill "${PID[$name]}" 2>/dev/null || true
		wait "${PID[$name]}" 2>/dev/null || true
		unset "PID[$name]"
	fi
}

cleanup() {
	local name
	for name in "${!PID[@]}"; do
		stop_server "$name"
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A port below the Linux ephemeral range (32768+) that nothing answers on.
free_port() {
	local p i
	for i in $(seq 1 200); do
		p=$((20000 + RANDOM % 12000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

cli() { redis-cli -h 127.0.0.1 -p "$1" "${@:2}"; }

wait_ping() {
	local port=$1 pid=$2 i
	for i in $(seq 1 600); do
		kill -0 "$pid" 2>/dev/null || return 1
		if [[ $(cli "$port" PING 2>/dev/null || true) == PONG ]]; then
			return 0
		fi
		sleep 0.025
	done
	return 1
}

# start_server NAME KIND [ARGS...]: KIND is redis or cachalot; sets PID[NAME]
# and PORT[NAME]. ARGS go to either server (both read --name value).
start_server() {
	local name=$1 kind=$2 attempt port pid dir="$TMP/$1"
	local -a extra=() more=("${@:3}")
	mkdir -p "$dir"
	for attempt in 1 2 3; do
		port=$(free_port) || die "no free port found"
		if [[ $kind == redis ]]; then
			"${SERVER_PIN[@]}" redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
				--daemonize no --dir "$dir" "${more[@]}" >"$dir/log" 2>&1 &
		else
			read -r -a extra <<<"$CACHALOT_ARGS"
			"${SERVER_PIN[@]}" "$CACHALOT_BIN" --port "$port" --bind 127.0.0.1 --dir "$dir" "${extra[@]}" "${more[@]}" >"$dir/log" 2>&1 &
		fi
		pid=$!
		if wait_ping "$port" "$pid"; then
			PID[$name]=$pid
			PORT[$name]=$port
			log "$name ($kind) pid $pid on 127.0.0.1:$port"
			return 0
		fi
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		log "$name did not start on port $port (attempt $attempt/3):"
		tail -n 5 "$dir/log" >&2 || true
	done
	die "$name did not start"
}
