#!/usr/bin/env bash
# How fast the grow-only set procedure decides set histories of 10^5 operations.
#
# Generates seeded set histories (10 and 100 clients; unique elements, a read of the whole set
# every thousand operations or so and a final one; valid, with 1% crashed adds, with a planted
# lost element, an element never added, an element seen before its add began) and checks each
# RUNS times (default 5): prints the verdict, whether it is the expected one, and the medians
# of the check alone, of reading and checking the file in one process, and of a whole
# `photofinish check` process. Exits 1 if any verdict is wrong.
#
# Usage: bench/growing-sets.sh [OPS]     (default 100000; SEARCH=generic to compare)
set -euo pipefail
cd "$(dirname "$0")/.."

ops=${1:-100000}
cargo build --release -q -p photofinish
cargo run --release -q -p photofinish-check --example growing_sets -- \
  --ops "$ops" --runs "${RUNS:-5}" --search "${SEARCH:-auto}" \
  --photofinish target/release/photofinish
