//! `photofinish demo`: the race lab, with no external service.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use photofinish::checker::Verdict;
use photofinish::history::escape_and_clip;
use photofinish_lab::{demo_blocking, DemoOptions, DemoRow};

use crate::usage_error;

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Where to keep the histories (default: a new directory under the system's temporary
    /// directory). Each can be checked again, or shown with `photofinish report`.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Concurrent clients per scenario.
    #[arg(long, short, default_value_t = 20)]
    clients: usize,
    /// Operations per scenario.
    #[arg(long, short = 'n', default_value_t = 1000)]
    ops: u64,
    /// Seed for the operations each client issues.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

pub fn run(args: DemoArgs) -> ExitCode {
    if args.clients < 2 {
        return usage_error("a race needs at least 2 --clients".into());
    }
    let options = DemoOptions {
        dir: args.dir,
        clients: args.clients,
        ops: args.ops,
        seed: args.seed,
        // A short line per scenario as it ends; the full table follows on standard output.
        progress: Some(Arc::new(|row: &DemoRow| {
            let verdict = match (row.verdict, &row.reason) {
                (Verdict::Valid, _) => "valid".to_string(),
                (Verdict::Invalid, _) => "INVALID".to_string(),
                (Verdict::Unknown, Some(reason)) => {
                    format!("UNKNOWN: {}", escape_and_clip(reason, 200))
                }
                (Verdict::Unknown, None) => "unknown".to_string(),
            };
            eprintln!(
                "photofinish: {} by {} on {} replica{}: {verdict}",
                row.scenario,
                row.strategy,
                row.replicas,
                if row.replicas == 1 { "" } else { "s" },
            )
        })),
        ..DemoOptions::default()
    };
    match demo_blocking(&options) {
        Ok(report) => {
            println!("{report}");
            ExitCode::from(report.exit_code() as u8)
        }
        Err(e) => usage_error(format!("demo: {e}")),
    }
}
