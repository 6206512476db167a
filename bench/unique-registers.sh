#!/usr/bin/env bash
# How fast the unique-values procedure decides register histories of 10^5 operations.
#
# Generates seeded register histories (10, 50 and 100 clients; valid, with a planted stale
# read, with 1% info writes, with 30% compare-and-sets) and checks each RUNS times (default
# 5): prints the verdict, whether it is the expected one, and the medians of the check alone,
# of reading and checking the file in one process, and of a whole `photofinish check` process.
# Exits 1 if any verdict is wrong.
#
# Usage: bench/unique-registers.sh [OPS]     (default 100000; SEARCH=generic to compare)
set -euo pipefail
cd "$(dirname "$0")/.."

ops=${1:-100000}
cargo build --release -q -p photofinish
cargo run --release -q -p photofinish-check --example unique_registers -- \
  --ops "$ops" --runs "${RUNS:-5}" --search "${SEARCH:-auto}" \
  --photofinish target/release/photofinish
