//! A run whose history the model cannot read (a counter read that answers a string, as
//! webdis does) still shows what the run did before the error, and exits 2.

use std::process::Command;

#[test]
fn a_model_error_after_the_run_still_prints_the_run_summary() {
    let dir = std::env::temp_dir().join(format!("photofinish-model-error-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let history = dir.join("strings.jsonl");
    let _ = std::fs::remove_file(&history);
    // Every read answers the count as a string.
    let program = "import sys\n\
                   for line in sys.stdin:\n    \
                       print('{\"type\":\"ok\",\"value\":\"1\"}' if '\"read\"' in line \
                             else '{\"type\":\"ok\"}', flush=True)\n";
    let out = Command::new(env!("CARGO_BIN_EXE_photofinish"))
        .args([
            "run", "exec", "-w", "counter", "--quiet", "-c", "2", "-n", "20",
        ])
        .arg("--output")
        .arg(&history)
        .args(["--", "python3", "-c", program])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stdout.contains("operations: 21 in"), "{stdout}");
    assert!(
        stdout.contains("outcomes:   21 ok, 0 fail, 0 info"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("history: {}", history.display())),
        "{stdout}"
    );
    assert!(
        stderr.contains("cannot check the run's history"),
        "{stderr}"
    );
    assert!(stderr.contains("must be an integer"), "{stderr}");
}
