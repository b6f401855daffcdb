#!/usr/bin/env bash
# bench/ratelimit.sh: rate-limit decisions per second, interleaved in one run:
#   cachalot  CL.THROTTLE key 99 10 1          (GCRA, capacity 100, 10/s)
#   cachalot  RL.TAKE key 100 10 1000          (token bucket, same limits)
#   redis     EVALSHA <gcra.lua> 1 key 99 10 1 1  (a GCRA Lua script in the way
#             go-redis/redis_rate does it: TIME, GET, SET ... EX; written for
#             this benchmark, not copied)
#   redis     INCR key                          (fixed window: INCR, plus an EXPIRE
#             only when INCR returns 1, i.e. once per key and window; the rare
#             EXPIRE is not timed, so this is the pattern's upper bound)
# Invoked by `make bench-ratelimit`.
#
# Environment:
#   ROUNDS=3          rounds (each runs the four tests in turn); medians are reported
#   BENCH_N=200000    requests per test run
#   BENCH_CLIENTS=50  redis-benchmark -c
#   BENCH_KEYS=1000   distinct limiter keys (redis-benchmark -r)
#   CACHALOT_BIN=     use this binary instead of building one
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=${ROUNDS:-3}
BENCH_N=${BENCH_N:-200000}
BENCH_CLIENTS=${BENCH_CLIENTS:-50}
BENCH_KEYS=${BENCH_KEYS:-1000}
CACHALOT_BIN=${CACHALOT_BIN:-}

BENCH_TAG=bench-ratelimit BENCH_TMP_PREFIX=cachalot-bench-rl
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh" # log, die, TMP, PID/PORT, start_server, cli
for tool in redis-server redis-benchmark redis-cli awk sort; do
	command -v "$tool" >/dev/null || die "$tool not found (apt-get install redis-server redis-tools)"
done

if [[ -z $CACHALOT_BIN ]]; then
	log "building cachalot"
	(cd "$ROOT" && go build -o "$TMP/cachalot" .) || die "go build failed"
	CACHALOT_BIN=$TMP/cachalot
fi
start_server redis redis
start_server cachalot cachalot

# GCRA in Lua, the algorithm go-redis/redis_rate runs: times are seconds
# (floats) since a fixed epoch taken from TIME; the state is the TAT.
# KEYS[1] key; ARGV burst, rate, period (s), cost.
# Returns {allowed, remaining, retry_after, reset_after} (times as strings).
cat >"$TMP/gcra.lua" <<'LUA'
redis.replicate_commands()
local key = KEYS[1]
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local interval = period / rate
local need = interval * cost
local tolerance = interval * burst
local t = redis.call("TIME")
local now = (t[1] - 1600000000) + t[2] / 1e6
local tat = tonumber(redis.call("GET", key)) or now
if tat < now then tat = now end
local next_tat = tat + need
local slack = now - (next_tat - tolerance)
local left = math.floor(slack / interval)
if left < 0 then
  return {0, 0, tostring(-slack), tostring(tat - now)}
end
local ttl = next_tat - now
if ttl > 0 then
  redis.call("SET", key, next_tat, "EX", math.ceil(ttl))
end
return {cost, left, "-1", tostring(ttl)}
LUA
SHA=$(cli "${PORT[redis]}" SCRIPT LOAD "$(cat "$TMP/gcra.lua")")
[[ $SHA =~ ^[0-9a-f]{40}$ ]] || die "SCRIPT LOAD failed: $SHA"
# Sanity: every command answers as expected before timing.
[[ $(cli "${PORT[cachalot]}" CL.THROTTLE probe 99 10 1 | head -1) == 0 ]] || die "CL.THROTTLE probe failed"
[[ $(cli "${PORT[cachalot]}" RL.TAKE probe2 100 10 1000 | head -1) == 1 ]] || die "RL.TAKE probe failed"
[[ $(cli "${PORT[redis]}" EVALSHA "$SHA" 1 probe 99 10 1 1 | head -1) == 1 ]] || die "EVALSHA probe failed"

NAMES=("cachalot CL.THROTTLE" "cachalot RL.TAKE" "redis EVALSHA gcra.lua" "redis INCR fixed window")
SERVERS=(cachalot cachalot redis redis)
CMDS=("CL.THROTTLE cl:__rand_int__ 99 10 1" "RL.TAKE tb:__rand_int__ 100 10 1000"
	"EVALSHA $SHA 1 lua:__rand_int__ 99 10 1 1" "INCR win:__rand_int__")
declare -A RPS=()
for round in $(seq 1 "$ROUNDS"); do
	for i in "${!NAMES[@]}"; do
		read -r -a argv <<<"${CMDS[$i]}"
		rps=$(redis-benchmark -h 127.0.0.1 -p "${PORT[${SERVERS[$i]}]}" -c "$BENCH_CLIENTS" -n "$BENCH_N" \
			-r "$BENCH_KEYS" --csv "${argv[@]}" | awk -F'"' 'NR==2 {print $4}')
		[[ -n $rps ]] || die "no result for ${NAMES[$i]}"
		RPS[$i]="${RPS[$i]:-} $rps"
		log "round $round: ${NAMES[$i]}: $rps decisions/s"
	done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
declare -A MED=()
for i in "${!NAMES[@]}"; do
	MED[$i]=$(echo "${RPS[$i]}" | median)
done
printf '\nrate-limit decisions/s: redis-benchmark -c %s -n %s -r %s, median of %s interleaved rounds; %s cores\n' \
	"$BENCH_CLIENTS" "$BENCH_N" "$BENCH_KEYS" "$ROUNDS" "$(nproc)"
printf '%-26s %14s %12s %12s\n' "test" "decisions/s" "vs EVALSHA" "vs INCR"
for i in "${!NAMES[@]}"; do
	awk -v n="${NAMES[$i]}" -v r="${MED[$i]}" -v e="${MED[2]}" -v f="${MED[3]}" \
		'BEGIN {printf "%-26s %14.0f %11.2fx %11.2fx\n", n, r, r/e, r/f}'
done
