//! What the CLI tests share: running the binary and reading what it said.

use std::process::{Command, Output};

/// Runs `photofinish ARGS...` and waits for it.
pub fn photofinish(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_photofinish"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Everything a run printed: standard output, then standard error.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
