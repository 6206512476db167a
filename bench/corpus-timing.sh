#!/usr/bin/env bash
# Whether a change to the checker slows any history of the shared corpus: runs every row of
# ../shared/corpus/expected.tsv through two `photofinish` binaries, BEFORE and AFTER,
# alternating (before, after, before, after...) RUNS times each (default 5), with the command
# line the corpus test uses (crates/photofinish/tests/integration/corpus.rs). Prints the files
# whose median wall time grew by more than LIMIT percent (default 10) with both medians, any
# file whose exit code (its verdict) differs between the two, and the totals of the medians.
# Exits 1 if a file got slower than the limit or changed its verdict.
#
# A file's median is over its runs. FLOOR_MS (default 0) counts a difference of at most that
# many milliseconds as none, for a loaded machine where process start-up jitters.
#
# Usage: bench/corpus-timing.sh BEFORE AFTER
#   e.g. git archive main | tar -x -C /tmp/main && (cd /tmp/main && cargo build --release -p photofinish)
#        cp "$CARGO_TARGET_DIR/release/photofinish" /tmp/photofinish-main
#        cargo build --release -p photofinish && bench/corpus-timing.sh /tmp/photofinish-main "$CARGO_TARGET_DIR/release/photofinish"
#   RUNS=N, LIMIT=PERCENT, FLOOR_MS=N, CORPUS=DIR (default ../shared/corpus beside the repository),
#   ONLY=REGEX (the rows whose path matches, e.g. to time again the files a loaded machine flagged)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -ne 2 || ! -x "$1" || ! -x "$2" ]]; then
  echo "usage: bench/corpus-timing.sh BEFORE-BINARY AFTER-BINARY (both executable)" >&2
  exit 2
fi
before=$1
after=$2
runs=${RUNS:-5}
limit=${LIMIT:-10}
floor=${FLOOR_MS:-0}
corpus=${CORPUS:-../shared/corpus}
table=$corpus/expected.tsv
[[ -r $table ]] || { echo "no $table" >&2; exit 2; }

# One run: prints "EXIT MILLISECONDS".
time_one() {
  local bin=$1 model=$2 format=$3 init=$4 path=$5 start end code=0
  local args=(check --model "$model" --format "$format")
  [[ $init != "-" ]] && args+=(--init "$init")
  start=$(date +%s%N)
  "$bin" "${args[@]}" "$corpus/$path" >/dev/null 2>&1 || code=$?
  end=$(date +%s%N)
  echo "$code $(( (end - start) / 1000 ))"
}

# Median of the numbers on standard input.
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf '%-62s %10s %10s %7s\n' "file (over ${limit}% slower, or verdict changed)" "before ms" "after ms" "change"
total_before=0
total_after=0
files=0
bad=0
while IFS=$'\t' read -r path format model init _expected; do
  [[ $path == path || -z $path ]] && continue
  [[ -n ${ONLY:-} && ! $path =~ $ONLY ]] && continue
  b_times=()
  a_times=()
  b_code=""
  a_code=""
  for ((r = 0; r < runs; r++)); do
    read -r code us < <(time_one "$before" "$model" "$format" "$init" "$path")
    b_times+=("$us")
    b_code=$code
    read -r code us < <(time_one "$after" "$model" "$format" "$init" "$path")
    a_times+=("$us")
    a_code=$code
  done
  b=$(printf '%s\n' "${b_times[@]}" | median)
  a=$(printf '%s\n' "${a_times[@]}" | median)
  total_before=$(awk -v t="$total_before" -v x="$b" 'BEGIN { print t + x }')
  total_after=$(awk -v t="$total_after" -v x="$a" 'BEGIN { print t + x }')
  files=$((files + 1))
  slower=$(awk -v b="$b" -v a="$a" -v l="$limit" -v f="$floor" \
    'BEGIN { print (a > b * (1 + l / 100) && a - b > f * 1000) ? 1 : 0 }')
  if [[ $b_code != "$a_code" ]]; then
    printf '%-62s %10.1f %10.1f %7s  exit %s -> %s\n' "$path" "$(awk -v x="$b" 'BEGIN{print x/1000}')" \
      "$(awk -v x="$a" 'BEGIN{print x/1000}')" "VERDICT" "$b_code" "$a_code"
    bad=1
  elif [[ $slower == 1 ]]; then
    printf '%-62s %10.1f %10.1f %+6.0f%%\n' "$path" "$(awk -v x="$b" 'BEGIN{print x/1000}')" \
      "$(awk -v x="$a" 'BEGIN{print x/1000}')" "$(awk -v b="$b" -v a="$a" 'BEGIN{print (a / b - 1) * 100}')"
    bad=1
  fi
done <"$table"
printf '%-62s %10.1f %10.1f %+6.1f%%\n' "total of the medians, $files files, $runs runs each" \
  "$(awk -v x="$total_before" 'BEGIN{print x/1000}')" "$(awk -v x="$total_after" 'BEGIN{print x/1000}')" \
  "$(awk -v b="$total_before" -v a="$total_after" 'BEGIN{print (a / b - 1) * 100}')"
exit $bad
