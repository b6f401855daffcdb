#!/usr/bin/env bash
# bench/run.sh: throughput, p99 latency and memory of cachalot next to a real
# redis-server, both on 127.0.0.1. Invoked by `make bench`.
#
# Environment:
#   ROUNDS=3              rounds per configuration (A B A B ... interleaved); medians are reported
#   BENCH_N_P1=100000     requests per run with -P 1
#   BENCH_N_P16=1000000   requests per run with -P 16
#   BENCH_TESTS="ping set get incr mset lpush lpop sadd hset zadd zrange100"
#                         tests to run: redis-benchmark -t names (ping means PING_MBULK),
#                         plus zrange100 = "ZRANGE myzset 0 99" on the set the zadd test filled
#   BENCH_CLIENTS=50      redis-benchmark -c
#   BENCH_RANGE=100000    redis-benchmark -r
#   BENCH_MEM=1           0 skips the memory step
#   BENCH_MEM_KEYS=1000000  keys loaded by the memory step: strings with 100-byte values,
#                         then (fresh servers) hashes of 10 fields with 10-byte values
#   BENCH_MEM_HASH=1      0 skips the hash rows of the memory step
#   BENCH_TASKSET=0       1 pins each server to CPU 0 and redis-benchmark to CPU 1 (taskset)
#   BENCH_AOF=1           0 skips the append-only-file step (SET under appendfsync always and everysec;
#                         load time of a BENCH_AOF_KEYS=1000000-key AOF); BENCH_N_AOF=100000 requests per run
#   BENCH_SELF=0          1 puts a second redis-server in the cachalot slot (to check this script)
#   CACHALOT_BIN=         use this binary instead of building one
#   CACHALOT_ARGS=        extra arguments for cachalot (split on spaces)
# The results table is printed on stdout, progress on stderr.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=${ROUNDS:-3}
BENCH_N_P1=${BENCH_N_P1:-100000}
BENCH_N_P16=${BENCH_N_P16:-1000000}
BENCH_TESTS=${BENCH_TESTS:-ping set get incr mset lpush lpop sadd hset zadd zrange100}
BENCH_CLIENTS=${BENCH_CLIENTS:-50}
BENCH_RANGE=${BENCH_RANGE:-100000}
BENCH_MEM=${BENCH_MEM:-1}
BENCH_MEM_KEYS=${BENCH_MEM_KEYS:-1000000}
BENCH_MEM_HASH=${BENCH_MEM_HASH:-1}
BENCH_TASKSET=${BENCH_TASKSET:-0}
BENCH_SELF=${BENCH_SELF:-0}
BENCH_AOF=${BENCH_AOF:-1}
BENCH_N_AOF=${BENCH_N_AOF:-100000}
BENCH_AOF_KEYS=${BENCH_AOF_KEYS:-1000000}
CACHALOT_BIN=${CACHALOT_BIN:-}
CACHALOT_ARGS=${CACHALOT_ARGS:-}
PIPELINES=(1 16)

BENCH_TAG=bench
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh" # log, die, TMP, PID/PORT, start_server, stop_server, cli

for tool in redis-server redis-benchmark redis-cli awk; do
	command -v "$tool" >/dev/null || die "$tool not found (apt-get install redis-server redis-tools)"
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer, got '$ROUNDS'"

# With BENCH_TASKSET=1 the servers run on CPU 0 and the load generator on
# CPU 1, so the generator does not steal the server's core.
SERVER_PIN=() CLIENT_PIN=()
if [[ $BENCH_TASKSET == 1 ]]; then
	command -v taskset >/dev/null || die "taskset not found (util-linux)"
	[[ $(nproc) -ge 2 ]] || die "BENCH_TASKSET=1 needs at least 2 CPUs"
	SERVER_PIN=(taskset -c 0) CLIENT_PIN=(taskset -c 1)
fi
CLK_TCK=$(getconf CLK_TCK)

# cpu_ticks PID: the process's user + system CPU time so far, in clock ticks
# (fields 14 and 15 of /proc/PID/stat, counted after the command name).
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

# The server in the cachalot slot.
if [[ $BENCH_SELF == 1 ]]; then
	SUBJECT_KIND=redis
	SUBJECT_LABEL="cachalot slot = redis-server (BENCH_SELF=1)"
else
	SUBJECT_KIND=cachalot
	if [[ -z $CACHALOT_BIN ]]; then
		log "building cachalot"
		(cd "$ROOT" && go build -o "$TMP/cachalot" .) || die "go build failed"
		CACHALOT_BIN=$TMP/cachalot
	fi
	[[ -x $CACHALOT_BIN ]] || die "$CACHALOT_BIN is not executable"
	SUBJECT_LABEL="cachalot = $CACHALOT_BIN"
fi

# Memory: fresh servers, so that allocations left by the throughput runs do
# not hide the growth.
gen_strings() {
	awk -v n="$1" 'BEGIN {
		for (i = 0; i < n; i++) {
			k = "key:" i
			v = sprintf("v%099d", i)
			printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$100\r\n%s\r\n", length(k), k, v
		}
	}'
}

# gen_hashes N: HSET hash:I field:0 vXXXXXXXXX … field:9 vXXXXXXXXX (10-byte
# values, not integers, so both servers keep them as strings).
gen_hashes() {
	awk -v n="$1" 'BEGIN {
		for (i = 0; i < n; i++) {
			k = "hash:" i
			printf "*22\r\n$4\r\nHSET\r\n$%d\r\n%s\r\n", length(k), k
			for (j = 0; j < 10; j++) {
				printf "$7\r\nfield:%d\r\n$10\r\nv%09d\r\n", j, i * 10 + j
			}
		}
	}'
}

median() {
	sort -g "$1" | awk '{ v[NR] = $1 }
		END {
			if (NR == 0) { print "nan"; exit }
			if (NR % 2) print v[(NR + 1) / 2]
			else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2
		}'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f\n", a / b }'; }

# bench_once PORT TEST PIPELINE N: prints "rps p99_ms". TEST is a
# redis-benchmark -t name, or zrange100.
bench_once() {
	local port=$1 test=$2 pipeline=$3 n=$4 out row
	local -a what=(-t "$test")
	if [[ $test == zrange100 ]]; then
		what=(ZRANGE myzset 0 99)
	fi
	out=$("${CLIENT_PIN[@]}" redis-benchmark -h 127.0.0.1 -p "$port" -c "$BENCH_CLIENTS" -P "$pipeline" \
		-n "$n" -r "$BENCH_RANGE" --csv "${what[@]}" 2>>"$TMP/benchmark.stderr") ||
		die "redis-benchmark -t $test -P $pipeline against port $port failed"
	# "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
	row=$(awk -F'","' '$1 != "\"test" && NF == 8 { print $2, $7; exit }' <<<"$out")
	[[ $row =~ ^[0-9.]+\ [0-9.]+$ ]] || die "no CSV row from redis-benchmark -t $test (output: $out)"
	echo "$row"
}

start_server redis redis
start_server cachalot "$SUBJECT_KIND"

read -r -a TESTS <<<"$BENCH_TESTS"
ROWS=() ROUND_ROWS=()
for test in "${TESTS[@]}"; do
	case $test in
	ping | ping_mbulk) bt=ping_mbulk label=PING_MBULK ;;
	zrange100) bt=zrange100 label="ZRANGE 0 99" ;;
	*) bt=$test label=$(tr '[:lower:]' '[:upper:]' <<<"$test") ;;
	esac
	for pipeline in "${PIPELINES[@]}"; do
		if [[ $pipeline == 1 ]]; then n=$BENCH_N_P1; else n=$BENCH_N_P16; fi
		key="$bt.P$pipeline"
		for round in $(seq 1 "$ROUNDS"); do
			for name in redis cachalot; do
				t0=$(cpu_ticks "${PID[$name]}")
				res=$(bench_once "${PORT[$name]}" "$bt" "$pipeline" "$n")
				t1=$(cpu_ticks "${PID[$name]}")
				read -r rps p99 <<<"$res"
				cpu=$(awk -v d=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.3f\n", d * 1e6 / hz / n }')
				echo "$rps" >>"$TMP/$key.$name.rps"
				echo "$p99" >>"$TMP/$key.$name.p99"
				echo "$cpu" >>"$TMP/$key.$name.cpu"
				log "$label -P $pipeline round $round/$ROUNDS $name: $rps rps, p99 $p99 ms, CPU $cpu µs/request"
			done
		done
		r_rps=$(median "$TMP/$key.redis.rps")
		c_rps=$(median "$TMP/$key.cachalot.rps")
		r_p99=$(median "$TMP/$key.redis.p99")
		c_p99=$(median "$TMP/$key.cachalot.p99")
		r_cpu=$(median "$TMP/$key.redis.cpu")
		c_cpu=$(median "$TMP/$key.cachalot.cpu")
		ROWS+=("| $label | $pipeline | $r_rps | $c_rps | $(ratio "$c_rps" "$r_rps") | $r_p99 | $c_p99 | $(ratio "$c_p99" "$r_p99") | $r_cpu | $c_cpu | $(ratio "$c_cpu" "$r_cpu") |")
		ROUND_ROWS+=("| $label | $pipeline | $(paste -sd/ "$TMP/$key.redis.rps") | $(paste -sd/ "$TMP/$key.cachalot.rps") | $(paste -sd/ "$TMP/$key.redis.cpu") | $(paste -sd/ "$TMP/$key.cachalot.cpu") |")
	done
done

echo "## Throughput and latency"
echo
PINNING="no CPU pinning"
[[ $BENCH_TASKSET == 1 ]] && PINNING="servers pinned to CPU 0, redis-benchmark to CPU 1 (BENCH_TASKSET=1)"
echo "redis-benchmark -c $BENCH_CLIENTS -r $BENCH_RANGE, -n $BENCH_N_P1 (P1) / $BENCH_N_P16 (P16);" \
	"median of $ROUNDS interleaved rounds; $(redis-server --version | awk '{print $3}'); $(nproc) cores; $PINNING; $SUBJECT_LABEL"
echo "CPU µs/req is the server process's utime+stime (/proc/PID/stat) over the run, divided by the requests."
echo
echo "| test | pipeline | redis rps | cachalot rps | ratio rps | redis p99 ms | cachalot p99 ms | ratio p99 | redis CPU µs/req | cachalot CPU µs/req | ratio CPU |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${ROWS[@]}"
echo
echo "Round by round (rps and CPU µs/req, rounds separated by /):"
echo
echo "| test | pipeline | redis rps | cachalot rps | redis CPU | cachalot CPU |"
echo "| --- | ---: | --- | --- | --- | --- |"
printf '%s\n' "${ROUND_ROWS[@]}"

# ---------------------------------------------------------------- AOF
# SET with appendonly yes under each fsync policy, both servers' files on
# the same disk ($TMP), then the time each takes to load the same 1M-key AOF
# (written by cachalot, which redis-server loads too).
if [[ $BENCH_AOF == 1 ]]; then
	AOF_ROWS=()
	for policy in always everysec; do
		for name in redis cachalot; do
			kind=$name
			[[ $name == cachalot ]] && kind=$SUBJECT_KIND
			start_server "aof-$policy-$name" "$kind" --appendonly yes --appendfsync "$policy"
		done
		for round in $(seq 1 "$ROUNDS"); do
			for name in redis cachalot; do
				srv="aof-$policy-$name"
				t0=$(cpu_ticks "${PID[$srv]}")
				res=$(bench_once "${PORT[$srv]}" set 1 "$BENCH_N_AOF")
				t1=$(cpu_ticks "${PID[$srv]}")
				read -r rps p99 <<<"$res"
				echo "$rps" >>"$TMP/aof.$policy.$name.rps"
				echo "$p99" >>"$TMP/aof.$policy.$name.p99"
				log "SET appendfsync $policy round $round/$ROUNDS $name: $rps rps, p99 $p99 ms, CPU $(((t1 - t0) * 1000000 / CLK_TCK / BENCH_N_AOF)) µs/request"
			done
		done
		stop_server "aof-$policy-redis"
		stop_server "aof-$policy-cachalot"
		r=$(median "$TMP/aof.$policy.redis.rps")
		c=$(median "$TMP/aof.$policy.cachalot.rps")
		rp=$(median "$TMP/aof.$policy.redis.p99")
		cp=$(median "$TMP/aof.$policy.cachalot.p99")
		AOF_ROWS+=("| SET, appendfsync $policy | $r | $c | $(ratio "$c" "$r") | $rp | $cp | $(paste -sd/ "$TMP/aof.$policy.redis.rps") | $(paste -sd/ "$TMP/aof.$policy.cachalot.rps") |")
	done
	echo
	echo "## Append-only file"
	echo
	echo "redis-benchmark -t set -c $BENCH_CLIENTS -P 1 -n $BENCH_N_AOF -r $BENCH_RANGE, appendonly yes, both servers' files in $TMP; median of $ROUNDS rounds."
	echo
	echo "| workload | redis rps | cachalot rps | ratio | redis p99 ms | cachalot p99 ms | rounds redis | rounds cachalot |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"
	printf '%s\n' "${AOF_ROWS[@]}"

	# Load time: one file, written by cachalot, loaded by both.
	start_server aof-writer "$SUBJECT_KIND" --appendonly yes --appendfsync no
	gen_strings "$BENCH_AOF_KEYS" | cli "${PORT[aof-writer]}" --pipe >/dev/null 2>&1 || die "loading the AOF writer failed"
	stop_server aof-writer
	LOAD_ROWS=()
	for round in $(seq 1 "$ROUNDS"); do
		for name in redis cachalot; do
			kind=$name
			[[ $name == cachalot ]] && kind=$SUBJECT_KIND
			srv="aof-load-$name-$round"
			rm -rf "$TMP/$srv" && mkdir -p "$TMP/$srv"
			cp -r "$TMP/aof-writer/appendonlydir" "$TMP/$srv/"
			t0=$(date +%s.%N)
			start_server "$srv" "$kind" --appendonly yes
			t1=$(date +%s.%N)
			[[ $(cli "${PORT[$srv]}" DBSIZE) == "$BENCH_AOF_KEYS" ]] || log "warning: $srv DBSIZE $(cli "${PORT[$srv]}" DBSIZE)"
			stop_server "$srv"
			awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }' >>"$TMP/aofload.$name"
			log "AOF load round $round/$ROUNDS $name: $(tail -n 1 "$TMP/aofload.$name") s"
		done
	done
	r=$(median "$TMP/aofload.redis")
	c=$(median "$TMP/aofload.cachalot")
	echo
	echo "Loading an AOF of $BENCH_AOF_KEYS SETs (100-byte values, written by cachalot) at start, until PING answers:" \
		"redis $r s, cachalot $c s, ratio $(ratio "$c" "$r") (rounds: redis $(paste -sd/ "$TMP/aofload.redis"), cachalot $(paste -sd/ "$TMP/aofload.cachalot"))."
fi

[[ $BENCH_MEM == 0 ]] && exit 0


rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

DATASETS=(strings)
[[ $BENCH_MEM_HASH == 1 ]] && DATASETS+=(hashes)
MEM_ROWS=() MEM_RATIOS=()
for dataset in "${DATASETS[@]}"; do
	declare -A PERKEY=() RSS0=() RSS1=() DBSIZE=()
	for name in redis cachalot; do
		# Fresh servers, so that allocations left by earlier runs do not
		# hide the growth.
		stop_server "$name"
		if [[ $name == redis ]]; then kind=redis; else kind=$SUBJECT_KIND; fi
		start_server "$name" "$kind"
		port=${PORT[$name]}
		[[ $(cli "$port" FLUSHALL) == OK ]] || die "FLUSHALL failed on $name"
		sleep 1
		RSS0[$name]=$(rss_kb "${PID[$name]}")
		log "$name: loading $BENCH_MEM_KEYS $dataset"
		out=$("gen_$dataset" "$BENCH_MEM_KEYS" | cli "$port" --pipe 2>&1) || die "redis-cli --pipe into $name failed: $out"
		grep -q "errors: 0, replies: $BENCH_MEM_KEYS" <<<"$out" || die "redis-cli --pipe into $name: $out"
		sleep 2
		RSS1[$name]=$(rss_kb "${PID[$name]}")
		DBSIZE[$name]=$(cli "$port" DBSIZE)
		[[ ${DBSIZE[$name]} == "$BENCH_MEM_KEYS" ]] || log "warning: $name DBSIZE ${DBSIZE[$name]}, expected $BENCH_MEM_KEYS"
		PERKEY[$name]=$(awk -v a="${RSS0[$name]}" -v b="${RSS1[$name]}" -v n="$BENCH_MEM_KEYS" \
			'BEGIN { printf "%.1f\n", (b - a) * 1024 / n }')
		stop_server "$name"
		MEM_ROWS+=("| $dataset | $name | ${RSS0[$name]} | ${RSS1[$name]} | ${DBSIZE[$name]} | ${PERKEY[$name]} |")
	done
	MEM_RATIOS+=("bytes per key ratio, $dataset (cachalot/redis): $(ratio "${PERKEY[cachalot]}" "${PERKEY[redis]}")")
	unset PERKEY RSS0 RSS1 DBSIZE
done

echo
echo "## Memory"
echo
echo "$BENCH_MEM_KEYS keys loaded with redis-cli --pipe into a fresh server: strings key:0..key:$((BENCH_MEM_KEYS - 1))" \
	"with 100-byte values; hashes hash:0.. with 10 fields field:0..field:9 of 10-byte values. RSS from /proc/PID/status."
echo
echo "| data | server | RSS before KiB | RSS after KiB | DBSIZE | bytes per key |"
echo "| --- | --- | ---: | ---: | ---: | ---: |"
printf '%s\n' "${MEM_ROWS[@]}"
echo
printf '%s\n' "${MEM_RATIOS[@]}"
