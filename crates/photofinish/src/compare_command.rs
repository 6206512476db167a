//! `photofinish compare`: one race lab scenario's fix options side by side, with the same seed
//! and clients, on each replica count.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use photofinish_lab::{compare_blocking, CompareError, CompareOptions, DemoRow, SCENARIOS};

use crate::usage_error;

#[derive(clap::Args)]
pub struct CompareArgs {
    /// The scenario whose options to compare: create-once, counter, decimal-counter, status,
    /// snapshot, stale-read or deadlock.
    #[arg(long)]
    scenario: String,
    /// Replica counts to run every option on, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,3")]
    replicas: Vec<usize>,
    /// Concurrent clients per run.
    #[arg(long, short, default_value_t = 20)]
    clients: usize,
    /// Operations per run (create-once runs take a quarter: each fingerprint gets one create
    /// per client).
    #[arg(long, short = 'n', default_value_t = 1000)]
    ops: u64,
    /// Seed for the operations each client issues, the same for every option.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where to keep the histories (default: a new directory under the system's temporary
    /// directory).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Print the matrix as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Also write the matrix as an HTML page, each row linking to its run's report (written
    /// beside it).
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

/// Exit code 0 when every option turned out as the lab expects (each race caught, each fix
/// passed), 1 when one did not, 2 on bad usage.
pub fn run(args: CompareArgs) -> ExitCode {
    if args.clients < 2 {
        return usage_error("a race needs at least 2 --clients".into());
    }
    if !SCENARIOS.contains(&args.scenario.as_str()) {
        return usage_error(format!(
            "unknown --scenario `{}`: expected one of {}",
            args.scenario,
            SCENARIOS.join(", ")
        ));
    }
    let mut options = CompareOptions::new(&args.scenario);
    options.replicas = args.replicas;
    options.clients = args.clients;
    options.ops = args.ops;
    options.seed = args.seed;
    options.dir = args.dir;
    options.progress = Some(Arc::new(|row: &DemoRow| {
        eprintln!(
            "photofinish: {} on {} replica{}: {:?}",
            row.strategy,
            row.replicas,
            if row.replicas == 1 { "" } else { "s" },
            row.verdict
        )
    }));
    let matrix = match compare_blocking(&options) {
        Ok(matrix) => matrix,
        Err(e @ (CompareError::UnknownScenario(_) | CompareError::NoReplicas)) => {
            return usage_error(e.to_string())
        }
        Err(e) => return usage_error(format!("compare: {e}")),
    };
    if let Some(html) = &args.html {
        if let Err(message) = matrix.write_html(html) {
            return usage_error(message);
        }
        eprintln!("photofinish: wrote {}", html.display());
    }
    if args.json {
        match serde_json::to_string_pretty(&matrix) {
            Ok(json) => println!("{json}"),
            Err(e) => return usage_error(format!("cannot write the matrix: {e}")),
        }
    } else {
        print!("{matrix}");
    }
    if matrix.rows.iter().all(|row| row.held) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
