#!/usr/bin/env bash
# How close photofinish's runner comes to redis-benchmark on INCR, and what recording costs.
#
# Starts its own redis-server on a free loopback port, measures redis-benchmark's INCR rate,
# then the runner's counter workload (`incr` variant) with the same clients and operations:
# bare (the same clients, nothing recorded), recording to a history on disk, and recording to
# tmpfs. Each is run REPEAT times (default 3), interleaved, and the median is reported, since
# the machine is shared. Prints a markdown table.
#
# Usage: bench/redis-incr.sh [CLIENTS [OPS]]     (default 50 clients, 200000 operations)
set -euo pipefail
cd "$(dirname "$0")/.."

clients=${1:-50}
ops=${2:-200000}
repeat=${REPEAT:-3}
for tool in redis-server redis-benchmark redis-cli cargo; do
  command -v "$tool" >/dev/null || { echo "bench/redis-incr.sh: $tool is required" >&2; exit 2; }
done

work=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$work"
  [ -n "${shm:-}" ] && rm -rf "$shm"
  return 0
}
trap cleanup EXIT

port=""
for _ in $(seq 50); do
  candidate=$((20000 + RANDOM % 40000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
    port=$candidate
    break
  fi
done
[ -n "$port" ] || { echo "bench/redis-incr.sh: no free port found" >&2; exit 1; }

redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.05
done
redis-cli -p "$port" ping >/dev/null || { echo "redis-server did not start:" >&2; cat "$work/redis.log" >&2; exit 1; }

cargo build --quiet --release -p photofinish-run --example redis_rate
rate_bin=${CARGO_TARGET_DIR:-target}/release/examples/redis_rate

shm=""
if [ -d /dev/shm ] && [ -w /dev/shm ]; then shm=$(mktemp -d -p /dev/shm); fi

# One measurement: prints operations per second.
benchmark() {
  redis-benchmark -p "$port" -c "$clients" -n "$ops" -t incr -q \
    | tr '\r' '\n' | awk '/requests per second/ { rate = $2 } END { print rate }'
}
photofinish() {
  local history=$1
  [ "$history" = --bare ] || rm -f "$history"
  "$rate_bin" "127.0.0.1:$port" "$clients" "$ops" "$history" | awk '{ print $2 }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

: >"$work/benchmark"; : >"$work/bare"; : >"$work/disk"; : >"$work/tmpfs"
for _ in $(seq "$repeat"); do
  benchmark >>"$work/benchmark"
  photofinish --bare >>"$work/bare"
  photofinish "$work/history.jsonl" >>"$work/disk"
  [ -z "$shm" ] || photofinish "$shm/history.jsonl" >>"$work/tmpfs"
done
bytes_per_op=$(awk -v size="$(stat -c %s "$work/history.jsonl")" -v ops="$ops" 'BEGIN { printf "%.0f", size / ops }')

reference=$(median <"$work/benchmark")
row() {
  local tool=$1 rate=$2 overhead=$3
  awk -v tool="$tool" -v c="$clients" -v n="$ops" -v r="$rate" -v ref="$reference" -v o="$overhead" \
    'BEGIN { printf "| %s | %d | %d | %.0f | %.0f%% | %s |\n", tool, c, n, r, 100 * r / ref, o }'
}
overhead() {  # µs of throughput each recorded operation costs over the bare clients
  awk -v r="$1" -v bare="$2" 'BEGIN { printf "%.2f", 1e6 / r - 1e6 / bare }'
}
bare=$(median <"$work/bare")
disk=$(median <"$work/disk")
echo "median of $repeat runs each; history: $bytes_per_op bytes per operation"
echo
echo "| tool | clients | ops | ops/s | ratio to redis-benchmark | recording overhead µs/op |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
row "redis-benchmark" "$reference" "-"
row "photofinish clients, nothing recorded" "$bare" "-"
row "photofinish run, history on disk" "$disk" "$(overhead "$disk" "$bare")"
if [ -n "$shm" ]; then
  tmpfs=$(median <"$work/tmpfs")
  row "photofinish run, history on tmpfs" "$tmpfs" "$(overhead "$tmpfs" "$bare")"
fi
