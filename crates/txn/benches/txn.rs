//! Where the time of a transactional check goes, phase by phase, on generated list-append
//! histories (50 processes, 100 keys, 1-4 micro-operations per transaction): reading the JSON
//! Lines file, inference, building the graph, and the cycle search. Prints a table of medians.
//!
//! `cargo bench -p photofinish-txn --bench txn` (10^4 and 10^5 transactions, 5 runs each);
//! `TXN_BENCH_SIZES=1000000 TXN_BENCH_RUNS=3` for others. The comparison with the `adya` crate,
//! whole process, is `bench/txn-adya.sh`.

use std::time::{Duration, Instant};

use photofinish_txn::generate::{generate, write_jsonl, GenConfig, SimIsolation};
use photofinish_txn::graph::{Graph, Realtime};
use photofinish_txn::read::read_txns;
use photofinish_txn::search::{find_cycles, SearchLimits};
use photofinish_txn::txns::WriteIndex;
use photofinish_txn::{list_append, Workload};

fn median(mut xs: Vec<Duration>) -> f64 {
    xs.sort();
    xs[xs.len() / 2].as_secs_f64() * 1e3
}

fn main() {
    let sizes: Vec<usize> = std::env::var("TXN_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000]);
    let runs: usize = std::env::var("TXN_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let dir = std::env::temp_dir().join(format!("photofinish-txn-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    println!("| transactions | isolation | read ms | infer ms | graph ms | cycles ms | total ms | anomalies |");
    println!("|---|---|---|---|---|---|---|---|");
    for &n in &sizes {
        for isolation in [SimIsolation::Serializable, SimIsolation::SnapshotIsolation] {
            let config = GenConfig {
                transactions: n,
                isolation,
                seed: 7,
                ..GenConfig::default()
            };
            let path = dir.join(format!("{n}-{isolation:?}.jsonl"));
            let mut out = std::io::BufWriter::new(std::fs::File::create(&path).expect("a file"));
            write_jsonl(&generate(&config), &mut out).expect("written");
            drop(out);
            let mut phases: [Vec<Duration>; 5] = Default::default();
            let mut found = 0;
            for _ in 0..runs {
                let start = Instant::now();
                let (txns, _) = read_txns(&path, Workload::ListAppend, None).expect("read");
                let read = start.elapsed();
                let t = Instant::now();
                WriteIndex::build(&txns).expect("unique appends");
                let inferred = list_append::infer(&txns);
                let infer = t.elapsed();
                let t = Instant::now();
                let graph = Graph::build(txns.txns.len(), inferred.edges);
                let realtime = Realtime::build(&txns);
                let build = t.elapsed();
                let t = Instant::now();
                let cycles = find_cycles(
                    &graph,
                    &realtime,
                    &txns,
                    SearchLimits::default(),
                    &mut || false,
                );
                let search = t.elapsed();
                found = cycles.found.len();
                for (slot, d) in
                    phases
                        .iter_mut()
                        .zip([read, infer, build, search, start.elapsed()])
                {
                    slot.push(d);
                }
            }
            let [read, infer, build, search, total] = phases.map(median);
            println!(
                "| {n} | {isolation:?} | {read:.0} | {infer:.0} | {build:.0} | {search:.0} | {total:.0} | {found} cycles |"
            );
            let _ = std::fs::remove_file(&path);
        }
    }
    println!("\nmedians of {runs} runs");
    let _ = std::fs::remove_dir_all(&dir);
}
