#!/usr/bin/env bash
# How fast the checker decides every linearizable runner workload at scale, on histories the
# real runner records.
#
# Runs register, cas-register, counter, set, queue, mutex and create-once with CLIENTS clients
# (default 100) for OPS operations (default 100000) on one key against the in-memory system,
# correct (each operation atomic under a lock) and racy (each workload's classic race: lost
# updates, compare-then-set, check-then-act, a dequeue that looks then removes...), RUNS times
# each (default 3), and checks every history with the model's normal choice of procedure:
# prints the operations, the verdict and the one expected, the procedure that decided, and the
# medians of the run, the check alone, and the whole (run, read and check), in ms. Exits 1 if
# any verdict is wrong or undecided.
#
# Usage: bench/runner-workloads.sh [OPS]     (default 100000; CLIENTS=100, RUNS=3,
#        SEARCH=generic to compare, TIMEOUT=60 seconds per check, ONLY=WORKLOAD,
#        PROFILE=ci to reuse the test profile's build instead of release)
set -euo pipefail
cd "$(dirname "$0")/.."

args=(--ops "${1:-100000}" --clients "${CLIENTS:-100}" --runs "${RUNS:-3}"
  --search "${SEARCH:-auto}" --timeout "${TIMEOUT:-60}")
if [[ -n "${ONLY:-}" ]]; then
  args+=(--only "$ONLY")
fi
cargo run --profile "${PROFILE:-release}" -q -p photofinish-run --example workloads_at_scale -- "${args[@]}"
