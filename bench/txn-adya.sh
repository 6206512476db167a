#!/usr/bin/env bash
# photofinish's transactional checker against the `adya` crate's command, side by side.
#
# Generates seeded list-append histories with the simulator of photofinish-txn (50 processes,
# 100 active keys, 1-4 micro-operations per transaction, 2% aborts, 1% crashes): 10^5 and
# 10^6 transactions from a serializable database (valid), and 10^5 from a snapshot-isolated
# one (write skew). Checks each with `photofinish check --model list-append` and
# `adya check -m list-append` (both read the same JSON Lines file; both check strict
# serializability by default), REPEAT times each (default 3), through hyperfine, and reports
# median wall time, their ratio, peak resident memory (one more run, with --json) and
# whether both found the same anomaly types. Also times Elle's huge-scc.edn, whole process.
#
# adya is not part of the project: install it outside the repository first, e.g.
#   cargo install adya --root /work/tools --no-default-features
# and point ADYA at it (default /work/tools/bin/adya). Without it, its columns read "n/a".
#
# Usage: bench/txn-adya.sh [SIZES...]   (default: 100000 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."

repeat=${REPEAT:-3}
adya=${ADYA:-/work/tools/bin/adya}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)
for tool in cargo hyperfine python3; do
  command -v "$tool" >/dev/null || { echo "bench/txn-adya.sh: $tool is required" >&2; exit 2; }
done
have_adya=1
[ -x "$adya" ] || { have_adya=0; echo "bench/txn-adya.sh: no adya at $adya; its columns read n/a" >&2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --quiet --release -p photofinish --bin photofinish
cargo build --quiet --release -p photofinish-txn --example generate
bin=${CARGO_TARGET_DIR:-target}/release
pf="$bin/photofinish"

# Runs the command once with --json into $1, and prints its peak resident memory in MB.
rss_json() {
  local out=$1
  shift
  /usr/bin/time -f "%M" "$@" --json >"$out" 2>"$work/time" || true
  awk '{kb=$1} END {printf "%.0f", kb/1024}' "$work/time"
}

# Median wall seconds of a hyperfine run's command number $2.
median() {
  python3 -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]["median"])' "$1" "$2"
}

# The anomaly types each tool reports, and whether they agree. A process-order cycle is also
# a real-time one (processes run one transaction at a time); adya does not search process
# order by default, so photofinish's -process types count as -realtime for the comparison.
compare() {
  python3 - "$work/pf.json" "$work/adya.json" <<'EOF'
import json, sys
pf = json.load(open(sys.argv[1]))["anomaly_types"]
adya = json.load(open(sys.argv[2]))["anomaly_types"]
norm = lambda ts: sorted(set(t.replace("-process", "-realtime") for t in ts))
if adya is None:
    print("%s | n/a | n/a" % (" ".join(pf) or "none"))
else:
    same = "yes" if norm(pf) == norm(adya) else "no"
    print("%s | %s | %s" % (" ".join(pf) or "none", " ".join(adya) or "none", same))
EOF
}

rows=()
run() {
  local label=$1 history=$2 runs=$3
  local cmds=("$pf check --model list-append $history")
  [ "$have_adya" = 1 ] && cmds+=("$adya check -m list-append $history")
  hyperfine --style none --ignore-failure --runs "$runs" --export-json "$work/h.json" "${cmds[@]}" >/dev/null 2>&1
  local t_pf t_adya ratio m_pf m_adya
  t_pf=$(median "$work/h.json" 0)
  m_pf=$(rss_json "$work/pf.json" "$pf" check --model list-append "$history")
  if [ "$have_adya" = 1 ]; then
    t_adya=$(median "$work/h.json" 1)
    ratio=$(python3 -c "print('%.1fx' % ($t_adya / $t_pf))")
    m_adya=$(rss_json "$work/adya.json" "$adya" check -m list-append "$history")
  else
    t_adya=n/a ratio=n/a m_adya=n/a
    echo '{"anomaly_types": null}' >"$work/adya.json"
  fi
  rows+=("| $label | $t_pf | $t_adya | $ratio | $m_pf | $m_adya | $(compare "$history") |")
}

for n in "${sizes[@]}"; do
  "$bin/examples/generate" "$work/serializable-$n.jsonl" "$n" serializable list-append 7
  run "$n serializable" "$work/serializable-$n.jsonl" "$repeat"
done
"$bin/examples/generate" "$work/si-100000.jsonl" 100000 snapshot-isolation list-append 7
run "100000 snapshot-isolation" "$work/si-100000.jsonl" "$repeat"

echo
echo "list-append histories: 50 processes, 100 keys, 1-4 micro-operations; medians of $repeat runs (hyperfine)"
echo
echo "| history | photofinish s | adya s | adya/photofinish | photofinish MB | adya MB | photofinish anomalies | adya anomalies | same |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"

huge=../shared/corpus/elle/huge-scc.edn
if [ -f "$huge" ]; then
  hyperfine --style none --ignore-failure --warmup 1 --runs "$((repeat * 3))" --export-json "$work/huge.json" \
    "$pf check --model list-append $huge" >/dev/null 2>&1
  echo
  echo "Elle's huge-scc.edn (20,602 events), whole process: median $(median "$work/huge.json" 0) s over $((repeat * 3)) runs"
fi
