//! Every history in the shared corpus gets its known verdict from the `photofinish` command.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Rows of `expected.tsv` that contradict the rule its own README states ("a history in which no
/// client operation completed `:ok` proves nothing: its expected verdict is `unknown`"): these
/// Knossos histories contain only failed operations, yet their rows still say `valid`. The rule
/// wins (issue 10 asks for it too); the list is exact, so any other disagreement still fails.
const NOTHING_COMPLETED_OK: &[&str] = &[
    "knossos/cas-register/good/mongodb-v0-ack-rollback-9.edn",
    "knossos/cas-register/good/mongodb-v0-ack-rollback-10.edn",
    "knossos/cas-register/good/mongodb-v0-ack-rollback-11.edn",
];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

#[test]
fn every_corpus_history_gets_its_expected_verdict() {
    let root = corpus();
    let table = std::fs::read_to_string(root.join("expected.tsv")).unwrap_or_else(|e| {
        panic!(
            "the corpus is expected beside the repository at {}: {e}",
            root.display()
        )
    });
    let mut checked = 0;
    let mut wrong = Vec::new();
    for line in table.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [path, format, model, init, mut expected] = cols[..] else {
            panic!("malformed expected.tsv line: {line}");
        };
        if NOTHING_COMPLETED_OK.contains(&path) {
            assert_eq!(
                expected, "valid",
                "{path}: the corpus row changed; update this test"
            );
            expected = "unknown";
        }
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_photofinish"));
        cmd.args(["check", "--model", model, "--format", format]);
        if init != "-" {
            cmd.args(["--init", init]);
        }
        let out = cmd.arg(root.join(path)).output().expect("the binary runs");
        let got = match out.status.code() {
            Some(0) => "valid",
            Some(1) => "invalid",
            Some(3) => "unknown",
            _ => "error",
        };
        if got != expected {
            wrong.push(format!(
                "{path}: expected {expected}, got {got}\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        checked += 1;
    }
    assert!(checked > 100, "only {checked} corpus entries");
    assert!(
        wrong.is_empty(),
        "{} wrong verdicts:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
