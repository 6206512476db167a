//! The check keeps its budgets: `--timeout T` answers within T + 1 s and `--max-memory M` keeps
//! peak resident memory within M + 5%, on the hard histories of `../shared/repro` (measured by
//! `/usr/bin/time -v`, as a user would).

use std::path::{Path, PathBuf};
use std::process::Command;

fn repro(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/repro")
        .join(name)
}

/// Seconds elapsed and peak resident memory in KiB, from `/usr/bin/time -v`'s report.
fn measured(report: &str) -> (f64, u64) {
    let field = |name: &str| {
        report
            .lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .unwrap_or_else(|| panic!("no `{name}` in:\n{report}"))
            .trim()
            .to_string()
    };
    let wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss):");
    let seconds = wall
        .split(':')
        .fold(0.0, |acc, part| acc * 60.0 + part.parse::<f64>().unwrap());
    let rss = field("Maximum resident set size (kbytes):")
        .parse()
        .unwrap();
    (seconds, rss)
}

#[test]
fn timeout_and_memory_budgets_are_kept_on_hard_histories() {
    let dir = std::env::temp_dir().join(format!("photofinish-budgets-{}", std::process::id()));
    let generated = Command::new("python3")
        .arg(repro("hard-histories.py"))
        .arg(&dir)
        .status()
        .expect("python3 runs (scripts/test installs it)");
    assert!(generated.success());
    let cases = [
        ("queue-conc-200-dup", "queue"),
        ("queue-dupvals-60", "queue"),
        ("set-5000-info", "set"),
        ("reg-info-200", "register"),
        ("cas-info-60", "cas-register"),
    ];
    let mut failures = Vec::new();
    for (name, model) in cases {
        let out = Command::new("/usr/bin/time")
            .arg("-v")
            .arg(env!("CARGO_BIN_EXE_photofinish"))
            .args([
                "check",
                "--model",
                model,
                "--timeout",
                "5",
                "--max-memory",
                "500",
            ])
            .arg(dir.join(format!("{name}.jsonl")))
            .output()
            .expect("/usr/bin/time runs (scripts/test installs it)");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let (seconds, rss_kib) = measured(&stderr);
        let code = out.status.code();
        if !matches!(code, Some(0 | 1 | 3)) || seconds > 6.0 || rss_kib > 525 * 1024 {
            failures.push(format!(
                "{name}: exit {code:?} after {seconds:.2} s, peak RSS {} MiB",
                rss_kib / 1024
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
