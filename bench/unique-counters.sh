#!/usr/bin/env bash
# How fast the uniform-adds counter procedure decides counter histories of 10^5 operations.
#
# Generates seeded counter histories as `run -w counter` makes them (10 and 100 clients; adds
# of 1 and reads, then a final read; valid, with 1% crashed operations, and with a planted lost
# increment, a read too high, or a read lower than one before it) and checks each RUNS times
# (default 5): prints the verdict, whether it is the expected one, the procedure that decided,
# the witness's operations, and the medians of the check alone, of reading and checking the
# file in one process, and of a whole `photofinish check` process. Exits 1 if any verdict is
# wrong.
#
# Usage: bench/unique-counters.sh [OPS]     (default 100000; SEARCH=generic to compare;
#        PROFILE=ci to reuse the test profile's build instead of release)
set -euo pipefail
cd "$(dirname "$0")/.."

ops=${1:-100000}
profile=${PROFILE:-release}
cargo build --profile "$profile" -q -p photofinish
cargo run --profile "$profile" -q -p photofinish-check --example unique_counters -- \
  --ops "$ops" --runs "${RUNS:-5}" --search "${SEARCH:-auto}" \
  --photofinish "${CARGO_TARGET_DIR:-target}/$profile/photofinish"
