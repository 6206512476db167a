#!/usr/bin/env bash
# Ingest and whole-process cost of `photofinish check` on large histories (issue 11, item 5).
#
# Generates, in a temporary directory: a valid register history of EVENTS events (default
# 10^6) from 10 processes with unique write values, as JSON Lines and as EDN; and, when
# ../shared/repro/set-seq.py is there, `set-seq.py SETN` (default 100000: a sequential valid
# set history whose reads return the whole set). For each file it prints two tables:
#   1. ingest alone (`cargo run --example ingest`): median wall ms, events/s, CPU ms of all
#      threads, peak RSS of reading;
#   2. the whole `photofinish check` process (/usr/bin/time): median wall s, median peak RSS,
#      RSS bytes per event, and the verdict's exit code (0 = valid, the expected one).
# Each process is capped at 120 s (`timeout`); RUNS (default 5) runs per median. The machine's
# load average is printed first: on a busy machine wall time is mostly waiting for a CPU.
#
# Usage: bench/ingest.sh [EVENTS] [SETN]      (RUNS=5)
set -euo pipefail
cd "$(dirname "$0")/.."

events=${1:-1000000}
setn=${2:-100000}
runs=${RUNS:-5}
cargo build --release -q -p photofinish --bin photofinish
cargo build --release -q -p photofinish-history --example ingest
bin=target/release/photofinish
ingest=target/release/examples/ingest

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# A valid register history: rounds in which each of 10 processes invokes a read or a write of a
# new value, then all complete in a seeded random order, each taking effect as it completes.
python3 - "$events" "$dir/register.jsonl" "$dir/register.edn" <<'EOF'
import random, sys
events, jsonl, edn = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rng = random.Random(11)
state, nxt, n, t = 0, 1, 0, 0
with open(jsonl, "w") as j, open(edn, "w") as e:
    while n < events:
        ops = []
        for p in range(10):
            if rng.random() < 0.5:
                ops.append((p, "write", nxt)); nxt += 1
            else:
                ops.append((p, "read", None))
        for p, f, v in ops:
            if n == events: break
            t += 1000
            jv, ev = ("null", "nil") if v is None else (v, v)
            j.write('{"type":"invoke","f":"%s","value":%s,"process":%d,"time":%d,"index":%d}\n' % (f, jv, p, t, n))
            e.write('{:type :invoke, :f :%s, :value %s, :process %d, :time %d, :index %d}\n' % (f, ev, p, t, n))
            n += 1
        rng.shuffle(ops)
        for p, f, v in ops:
            if n == events: break
            t += 1000
            if f == "write": state = v
            j.write('{"type":"ok","f":"%s","value":%d,"process":%d,"time":%d,"index":%d}\n' % (f, state, p, t, n))
            e.write('{:type :ok, :f :%s, :value %d, :process %d, :time %d, :index %d}\n' % (f, state, p, t, n))
            n += 1
EOF
files=("$dir/register.jsonl" "$dir/register.edn")
models=(register register)
if [[ -f ../shared/repro/set-seq.py ]]; then
  python3 ../shared/repro/set-seq.py "$setn" > "$dir/set-seq-$setn.jsonl"
  files+=("$dir/set-seq-$setn.jsonl")
  models+=(set)
fi

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs; $runs runs per median"
echo
echo "ingest alone (read_path):"
for f in "${files[@]}"; do
  timeout 600 "$ingest" --runs "$runs" "$f" | sed "s|$dir/||" | { [[ $f == "${files[0]}" ]] && cat || tail -n +3; }
done

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo
echo "whole process (photofinish check --model M FILE):"
echo "| file | events | median wall s | median peak RSS MB | RSS bytes/event | exit |"
echo "|---|---:|---:|---:|---:|---:|"
for i in "${!files[@]}"; do
  f=${files[$i]}
  n=$(grep -c . "$f")
  walls=() rss=() code=0
  for _ in $(seq "$runs"); do
    set +e
    /usr/bin/time -f "%e %M" -o "$dir/time" timeout 120 "$bin" check --model "${models[$i]}" "$f" > /dev/null 2>&1
    code=$?
    set -e
    out=$(tail -1 "$dir/time")
    walls+=("${out% *}") rss+=("${out#* }")
  done
  w=$(printf '%s\n' "${walls[@]}" | median)
  r=$(printf '%s\n' "${rss[@]}" | median)
  awk -v f="${f#"$dir"/}" -v n="$n" -v w="$w" -v r="$r" -v c="$code" \
    'BEGIN { printf "| %s | %d | %.2f | %.0f | %.0f | %s |\n", f, n, w, r * 1024 / 1e6, r * 1024 / n, c }'
done
