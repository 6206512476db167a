//! Benchmark of deciding every linearizable runner workload at scale: `register`,
//! `cas-register`, `counter`, `set`, `queue`, `mutex` and `create-once`, each run by the real
//! runner with `--clients` clients (default 100) for `--ops` operations (default 10^5) on one
//! key against the in-memory system ([`MemoryTarget`]), correct and racy, then checked with the
//! model's normal choice of procedure. Prints, for each: the operations recorded, the verdict
//! and the one expected (valid for the correct system, invalid for the racy one, whose races
//! happen at every chance), the procedure that decided, the medians over `--runs` runs (default
//! 3, each with its own seed) of the run, of the check alone, and of the whole (run, read and
//! check). Exits 1 if any verdict is wrong (an undecided check is wrong), 2 on bad arguments.
//!
//! The set workload reads the whole set, so its history grows with the square of the
//! operations; at the default mix (a read for every 19 adds) 10^5 operations on one key would
//! record some 2.4 × 10^8 elements. It runs with one read for every 999 adds instead.
//!
//! ```text
//! cargo run --release -p photofinish-run --example workloads_at_scale -- \
//!     [--ops N] [--clients N] [--runs N] [--search auto|generic] [--timeout SECONDS] [--only WORKLOAD]
//! ```

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use photofinish_check::{check_model, CheckOptions, Report, SearchChoice, Verdict};
use photofinish_history::read_path;
use photofinish_run::controls::Mix;
use photofinish_run::targets::memory::{MemoryTarget, MemoryVariant};
use photofinish_run::{run, CancellationToken, RunConfig, Workload, WorkloadKind};

const WORKLOADS: [WorkloadKind; 7] = [
    WorkloadKind::Register,
    WorkloadKind::CasRegister,
    WorkloadKind::Counter,
    WorkloadKind::Set,
    WorkloadKind::Queue,
    WorkloadKind::Mutex,
    WorkloadKind::CreateOnce,
];

struct Args {
    ops: u64,
    clients: usize,
    runs: usize,
    search: SearchChoice,
    timeout: Duration,
    only: Option<WorkloadKind>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        ops: 100_000,
        clients: 100,
        runs: 3,
        search: SearchChoice::Auto,
        timeout: Duration::from_secs(60),
        only: None,
    };
    let mut rest = std::env::args().skip(1);
    while let Some(flag) = rest.next() {
        let value = rest.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |what: &str| {
            value
                .parse::<u64>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("{what} must be a positive whole number, not {value:?}"))
        };
        match flag.as_str() {
            "--ops" => args.ops = number("--ops")?,
            "--clients" => args.clients = number("--clients")? as usize,
            "--runs" => args.runs = number("--runs")? as usize,
            "--timeout" => args.timeout = Duration::from_secs(number("--timeout")?),
            "--search" => {
                args.search = match value.as_str() {
                    "auto" => SearchChoice::Auto,
                    "generic" => SearchChoice::Generic,
                    other => return Err(format!("--search is auto or generic, not {other:?}")),
                }
            }
            "--only" => args.only = Some(value.parse()?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

/// What one run and its check found.
struct Sample {
    ops: usize,
    verdict: Verdict,
    procedures: String,
    run: Duration,
    check: Duration,
    whole: Duration,
}

fn workload(kind: WorkloadKind, clients: usize) -> Result<Workload, String> {
    let workload = Workload::new(kind, 1, clients);
    Ok(if kind == WorkloadKind::Set {
        workload.with_mix(Mix::parse(kind, "read=1,add=999")?)
    } else {
        workload
    })
}

async fn sample(
    kind: WorkloadKind,
    variant: MemoryVariant,
    args: &Args,
    seed: u64,
) -> Result<Sample, String> {
    let dir = std::env::temp_dir().join(format!("pf-workloads-at-scale-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(format!("{kind}-{variant}-{seed}.jsonl"));
    let _ = std::fs::remove_file(&path);
    let mut config = RunConfig::new(workload(kind, args.clients)?, &path);
    config.ops = Some(args.ops);
    config.seed = seed;
    let started = Instant::now();
    let target = MemoryTarget::new(kind, variant)?;
    let summary = run(Arc::new(target), &config, CancellationToken::new())
        .await
        .map_err(|e| e.to_string())?;
    let ran = started.elapsed();
    if summary.info > 0 {
        return Err(format!("{kind} {variant}: operations timed out\n{summary}"));
    }
    let history = read_path(&path, None).map_err(|e| e.to_string())?;
    let options = CheckOptions {
        timeout: Some(args.timeout),
        search: args.search,
        ..CheckOptions::default()
    };
    let checking = Instant::now();
    let report = check_model(kind.model(), None, None, &history, &options)
        .map_err(|e| format!("{kind} {variant}: {e}"))?;
    let check = checking.elapsed();
    let whole = started.elapsed();
    for undecided in &report.undecided {
        eprintln!(
            "{kind} {variant} seed {seed}: undecided: {}",
            undecided.reason
        );
    }
    let _ = std::fs::remove_file(&path);
    Ok(Sample {
        ops: history.operations.len(),
        verdict: report.verdict,
        procedures: procedures(&report),
        run: ran,
        check,
        whole,
    })
}

/// The procedures that decided partitions, joined.
fn procedures(report: &Report) -> String {
    let names: Vec<&str> = report
        .procedures
        .iter()
        .filter(|p| p.partitions > 0)
        .map(|p| p.name.as_str())
        .collect();
    if names.is_empty() {
        "-".to_string()
    } else {
        names.join(" + ")
    }
}

fn median<T: Ord + Copy>(mut values: Vec<T>) -> T {
    values.sort();
    values[values.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1e3)
}

fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Valid => "valid",
        Verdict::Invalid => "INVALID",
        Verdict::Unknown => "unknown",
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(error) => {
            eprintln!("workloads_at_scale: {error}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("workloads_at_scale: cannot start the runtime: {error}");
            return ExitCode::from(2);
        }
    };
    println!(
        "{} clients, {} operations on one key, medians of {} runs (ms)",
        args.clients, args.ops, args.runs
    );
    println!(
        "{:<12} {:<7} {:>7} {:<8} {:<9} {:<32} {:>7} {:>7} {:>7}",
        "workload", "system", "ops", "verdict", "expected", "procedure", "run", "check", "whole"
    );
    let mut wrong = false;
    for kind in WORKLOADS
        .into_iter()
        .filter(|k| args.only.is_none_or(|only| only == *k))
    {
        for (variant, expected) in [
            (MemoryVariant::Atomic, Verdict::Valid),
            (MemoryVariant::Racy, Verdict::Invalid),
        ] {
            let mut samples = Vec::new();
            for seed in 0..args.runs as u64 {
                match runtime.block_on(sample(kind, variant, &args, seed)) {
                    Ok(sample) => samples.push(sample),
                    Err(error) => {
                        eprintln!("workloads_at_scale: {error}");
                        return ExitCode::from(2);
                    }
                }
            }
            let verdicts: Vec<Verdict> = samples.iter().map(|s| s.verdict).collect();
            let all_expected = verdicts.iter().all(|v| *v == expected);
            wrong |= !all_expected;
            let mut shown: Vec<&str> = verdicts.iter().map(|v| verdict_name(*v)).collect();
            shown.dedup();
            let mut decided_by: Vec<&str> = samples.iter().map(|s| s.procedures.as_str()).collect();
            decided_by.sort();
            decided_by.dedup();
            println!(
                "{:<12} {:<7} {:>7} {:<8} {:<9} {:<32} {:>7} {:>7} {:>7}",
                kind.model(),
                variant.to_string(),
                median(samples.iter().map(|s| s.ops).collect()),
                shown.join("/"),
                format!(
                    "{}{}",
                    verdict_name(expected),
                    if all_expected { "" } else { " WRONG" }
                ),
                decided_by.join(" | "),
                ms(median(samples.iter().map(|s| s.run).collect())),
                ms(median(samples.iter().map(|s| s.check).collect())),
                ms(median(samples.iter().map(|s| s.whole).collect())),
            );
        }
    }
    runtime.shutdown_timeout(Duration::from_secs(1));
    if wrong {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
