//! `photofinish run ... --spawn --nemesis` end to end: the server is started and stopped by
//! the command, the faults land in the history and the summary, and the verdict comes back as
//! the exit code; flags that need --spawn or replicas are usage errors.

use std::process::Command;

fn photofinish() -> Command {
    Command::new(env!("CARGO_BIN_EXE_photofinish"))
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pf-faults-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Redis servers this test's runs started, by the port in their command line.
fn redis_servers_on(stdout_and_err: &str) -> Vec<String> {
    stdout_and_err
        .lines()
        .filter_map(|l| l.split("started redis n1 (").nth(1))
        .map(|rest| rest.trim_end_matches(')').to_string())
        .collect()
}

#[test]
fn a_killed_redis_without_persistence_loses_increments_and_the_history_shows_the_kills() {
    let dir = scratch("kill");
    let history = dir.join("h.jsonl");
    let out = photofinish()
        .args([
            "run",
            "redis",
            "--spawn",
            "--nemesis",
            "kill",
            "--nemesis-interval",
            "400ms",
            "--nemesis-duration",
            "400ms",
            "-w",
            "counter",
            "-c",
            "4",
            "--duration",
            "2s",
            "--op-timeout",
            "1s",
            "--seed",
            "3",
            "--quiet",
            "-o",
        ])
        .arg(&history)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("inside the fault windows"), "{stdout}");
    assert!(stdout.contains("increments lost"), "{stdout}");
    let text = std::fs::read_to_string(&history).unwrap();
    assert!(
        text.contains(r#""process":"nemesis","f":"kill""#)
            && text.contains(r#""process":"nemesis","f":"restart""#),
        "no kill window in the history"
    );
    // The server is gone: nothing listens where it did.
    let servers = redis_servers_on(&stderr);
    assert_eq!(servers.len(), 1, "{stderr}");
    assert!(std::net::TcpStream::connect(&servers[0]).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fault_flags_without_what_they_need_are_usage_errors() {
    for args in [
        &["run", "redis", "--nemesis", "kill", "-w", "counter"][..],
        &[
            "run",
            "redis",
            "--spawn",
            "--nemesis",
            "flood",
            "-w",
            "counter",
        ][..],
        &["run", "redis", "--read-from", "replica", "-w", "register"][..],
    ] {
        let out = photofinish().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty());
    }
}
