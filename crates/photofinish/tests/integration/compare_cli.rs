//! `photofinish compare`: the matrix as a table, as JSON and as HTML, and its usage errors.

use std::path::PathBuf;
use std::process::{Command, Output};

fn photofinish(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_photofinish"))
        .args(args)
        .output()
        .unwrap()
}

/// A fresh directory of the test's own, emptied if an earlier run left it.
fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("photofinish-compare-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_table_compares_every_option_per_replica_count() {
    let dir = scratch("table");
    let out = photofinish(&[
        "compare",
        "--scenario",
        "create-once",
        "--replicas",
        "1,3",
        "-n",
        "200",
        "--dir",
        dir.to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for heading in [
        "on 1 replica:",
        "on 3 replicas:",
        "+p50",
        "+p99",
        "(baseline)",
    ] {
        assert!(stdout.contains(heading), "{heading}: {stdout}");
    }
    for option in [
        "cached-check-then-create",
        "uncached-check",
        "local-lock",
        "unique-create",
        "redis-lock",
        "redis-lock-stall",
        "create-then-clean-up",
        "shorter-cache-lag",
    ] {
        // One table row per replica count (the findings below the tables name options too).
        let rows = stdout
            .lines()
            .filter(|l| l.starts_with(&format!("    {option} ")) && l.contains("  yes: "))
            .count();
        assert_eq!(rows, 2, "{option}: {stdout}");
    }
    assert!(stdout.contains("duplicates in all"), "{stdout}");
    // The histories are kept where asked, one per row.
    let histories = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(histories, 16);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn json_and_html_carry_the_same_matrix() {
    let dir = scratch("html");
    let html = dir.join("matrix.html");
    let out = photofinish(&[
        "compare",
        "--scenario",
        "stale-read",
        "--replicas",
        "3",
        "-n",
        "300",
        "--json",
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["scenario"], "stale-read");
    let rows = json["rows"].as_array().unwrap();
    let options: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r["strategy"].as_str().unwrap(),
                r["verdict"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        options,
        [("use-after-unlock", "invalid"), ("use-under-lock", "valid")]
    );
    for field in [
        "replicas",
        "expected",
        "ops",
        "throughput",
        "p50_us",
        "p99_us",
        "added_p50_us",
        "added_p99_us",
        "held",
        "finding",
        "history",
    ] {
        assert!(rows[0].get(field).is_some(), "{field}: {}", rows[0]);
    }
    assert_eq!(rows[0]["added_p99_us"], 0.0);
    assert!(rows[0]["finding"].is_string());
    assert!(rows[1]["finding"].is_null());

    let page = std::fs::read_to_string(&html).unwrap();
    for row in ["use-after-unlock", "use-under-lock"] {
        let report = format!("matrix-stale-read-{row}-3r.html");
        assert!(page.contains(&format!("href=\"{report}\"")), "{page}");
        let linked = std::fs::read_to_string(dir.join(&report)).unwrap();
        assert!(linked.contains("<html"), "{report}");
    }
    // The page is marked as photofinish's: the same command again writes over it (the README
    // runs `compare --http ... --html compare.html` after `compare --scenario ...` does). As
    // many operations as the first run: in fewer the race may not show, and the exit says so.
    let again = photofinish(&[
        "compare",
        "--scenario",
        "stale-read",
        "--replicas",
        "3",
        "-n",
        "300",
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["compare", "--scenario", "livelock"][..],
        &["compare", "--scenario", "counter", "--replicas", "0"],
        &["compare", "--scenario", "counter", "--clients", "1"],
        &["compare"],
    ] {
        let out = photofinish(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let out = photofinish(&["compare", "--scenario", "livelock"]);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("unknown --scenario `livelock`") && stderr.contains("create-once"),
        "{stderr}"
    );
}
