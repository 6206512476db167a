//! The command under hostile use, without a running system: extreme options are usage errors
//! naming their range, reports never overwrite a history or a file photofinish did not write,
//! and nothing from a hostile history reaches the terminal as a raw control character.

use crate::common::{photofinish, text};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const REPRO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/repro");
const EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/lost-update.jsonl"
);

/// A directory of its own for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pf-hardening-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A copy of the lost-update example in `dir`.
fn history_in(dir: &Path) -> PathBuf {
    let history = dir.join("h.jsonl");
    std::fs::copy(EXAMPLE, &history).unwrap();
    history
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// No byte 0x1b (ESC), nor any other control character but line breaks, on either stream.
fn assert_no_raw_controls(what: &str, out: &Output) {
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        assert!(
            !bytes.contains(&0x1b),
            "{what}: raw ESC on {stream}: {}",
            text(out)
        );
        let printed = String::from_utf8_lossy(bytes);
        assert!(
            !printed.chars().any(|c| c.is_control() && c != '\n'),
            "{what}: raw control character on {stream}: {printed:?}"
        );
    }
}

#[test]
fn extreme_options_are_usage_errors_that_name_the_range() {
    let history = EXAMPLE;
    let exec = |extra: &[&'static str]| {
        let mut args = vec!["run", "exec", "-w", "counter"];
        args.extend_from_slice(extra);
        args.extend(["--", "true"]);
        args
    };
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["check", "-m", "counter", "--timeout", "1e20", history],
            "at most 31536000",
        ),
        (
            vec!["check", "-m", "counter", "--timeout", "nan", history],
            "more than 0",
        ),
        (
            vec!["check", "-m", "counter", "--timeout", "0", history],
            "more than 0",
        ),
        (
            vec![
                "check",
                "-m",
                "counter",
                "--max-memory",
                "99999999999",
                history,
            ],
            "from 0 to 16777216",
        ),
        (
            vec![
                "report",
                "-m",
                "counter",
                "--timeout=-3",
                history,
                "-o",
                "x.html",
            ],
            "more than 0",
        ),
        (
            exec(&["--duration", "18446744073709551615s"]),
            "at most 365 days",
        ),
        (
            exec(&["--check-timeout", "18446744073709551615s"]),
            "at most 365 days",
        ),
        (exec(&["--op-timeout", "0s"]), "longer than 0"),
        (exec(&["--setup-timeout", "400days"]), "at most 365 days"),
        (
            exec(&["--keys", "18446744073709551615"]),
            "from 1 to 100000",
        ),
        (exec(&["--keys", "1000000000"]), "from 1 to 100000"),
        (exec(&["--keys", "0"]), "from 1 to 100000"),
        (exec(&["-c", "0"]), "from 1 to 10000"),
        (exec(&["-n", "0"]), "from 1 to"),
        (exec(&["--rate", "0"]), "from 0.001"),
        (exec(&["--rate", "inf"]), "from 0.001"),
        (exec(&["--max-answer-bytes", "2GiB"]), "64 bytes to 1 GiB"),
        (exec(&["--max-answer-bytes", "0"]), "64 bytes to 1 GiB"),
        (
            vec![
                "run",
                "redis",
                "-w",
                "mutex",
                "--lock-ttl",
                "18446744073709551615s",
            ],
            "at most 365 days",
        ),
        (
            vec![
                "run",
                "redis",
                "-w",
                "counter",
                "--spawn",
                "--nemesis-interval",
                "0s",
            ],
            "longer than 0",
        ),
        (vec!["demo", "-c", "1"], "from 2 to 1000"),
        (vec!["demo", "-n", "0"], "from 1 to 1000000"),
        (
            vec![
                "proxy",
                "--listen",
                "127.0.0.1:0",
                "--upstream",
                "127.0.0.1:1",
                "--latency",
                "100000000s",
            ],
            "at most 1 day",
        ),
    ];
    let mut wrong = Vec::new();
    for (args, range) in &cases {
        let out = photofinish(args);
        let all = text(&out);
        if out.status.code() != Some(2) || !all.contains(range) || all.contains("panicked") {
            wrong.push(format!(
                "{}: exit {:?}, expected the range `{range}`:\n{all}",
                args.join(" "),
                out.status.code()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

#[test]
fn a_report_is_never_written_over_the_history() {
    let dir = scratch("over-history");
    let history = history_in(&dir);
    let before = std::fs::read(&history).unwrap();
    let link = dir.join("link.html");
    std::os::unix::fs::symlink(&history, &link).unwrap();
    let dotted = dir.join(".").join("h.jsonl");
    let json_over_history = format!("--json={}", s(&history));
    let attempts: Vec<Vec<&str>> = vec![
        vec!["report", s(&history), "-o", s(&history)],
        vec!["report", s(&history), "-o", s(&history), "--force"],
        vec!["report", s(&history), "-o", s(&dotted), "-m", "counter"],
        vec!["report", s(&history), "-o", s(&link)],
        vec!["check", "-m", "counter", "--html", s(&history), s(&history)],
        vec![
            "check",
            "-m",
            "counter",
            "--html",
            s(&link),
            "--force",
            s(&history),
        ],
        vec!["check", "-m", "counter", &json_over_history, s(&history)],
    ];
    for args in &attempts {
        let out = photofinish(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}: {}",
            args.join(" "),
            text(&out)
        );
        assert!(
            text(&out).contains("is the history"),
            "{}: {}",
            args.join(" "),
            text(&out)
        );
        assert_eq!(
            std::fs::read(&history).unwrap(),
            before,
            "{}",
            args.join(" ")
        );
    }
}

#[test]
fn reports_overwrite_only_reports_of_ours_unless_forced() {
    let dir = scratch("foreign");
    let history = history_in(&dir);
    let page = dir.join("page.html");
    let json = dir.join("report.json");
    let write = |extra: &[&str]| {
        let mut args = vec!["check", "-m", "counter", "--html", s(&page)];
        let json_arg = format!("--json={}", s(&json));
        args.push(&json_arg);
        args.extend_from_slice(extra);
        args.push(s(&history));
        photofinish(&args)
    };
    // New files: written, marked as ours, and the text report still printed.
    let out = write(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("INVALID"), "{}", text(&out));
    let written = std::fs::read_to_string(&page).unwrap();
    assert!(written.contains(r#"<meta name="generator" content="photofinish">"#));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["generator"], "photofinish");
    assert_eq!(report["verdict"], "invalid");
    // Written again over our own reports.
    let out = write(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));

    // Someone else's files are kept, unless --force.
    std::fs::write(&page, "<html>my own notes</html>").unwrap();
    let out = write(&[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("is not a report photofinish wrote"),
        "{}",
        text(&out)
    );
    assert_eq!(
        std::fs::read_to_string(&page).unwrap(),
        "<html>my own notes</html>"
    );
    let out = write(&["--force"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(std::fs::read_to_string(&page)
        .unwrap()
        .contains("generator"));

    // report -o: the same rules; a symbolic link needs --force.
    let notes = dir.join("notes.txt");
    std::fs::write(&notes, "notes").unwrap();
    let out = photofinish(&["report", s(&history), "-o", s(&notes)]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "notes");
    let link = dir.join("link.html");
    std::os::unix::fs::symlink(&page, &link).unwrap();
    let out = photofinish(&["report", s(&history), "-o", s(&link)]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("symbolic link"), "{}", text(&out));
    let out = photofinish(&["report", s(&history), "-o", s(&link), "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn a_run_whose_report_would_overwrite_its_history_is_refused_before_it_starts() {
    let dir = scratch("run-outputs");
    let history = dir.join("new.jsonl");
    // The program would leave this file behind if it were ever started.
    let started = dir.join("started");
    let program = ["--", "touch", s(&started)];
    let mut refused: Vec<Vec<String>> = vec![
        vec!["--html".into(), s(&history).into()],
        vec![format!("--json={}", s(&history))],
        vec![
            "--html".into(),
            s(&dir.join("./new.jsonl")).into(),
            "--force".into(),
        ],
        vec![
            "--html".into(),
            s(&dir.join("r")).into(),
            format!("--json={}", s(&dir.join("r"))),
        ],
    ];
    let foreign = dir.join("foreign.html");
    std::fs::write(&foreign, "not ours").unwrap();
    refused.push(vec!["--html".into(), s(&foreign).into()]);
    for extra in &refused {
        let out = Command::new(env!("CARGO_BIN_EXE_photofinish"))
            .args(["run", "exec", "-w", "counter", "--quiet", "-o", s(&history)])
            .args(extra)
            .args(program)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", text(&out));
        assert!(!history.exists(), "{extra:?}: the run started");
        assert!(!started.exists(), "{extra:?}: the program was started");
        assert!(!text(&out).contains("recheck with"), "{}", text(&out));
    }
}

/// Every way a history is shown: the text report, JSON, the HTML page, for the models that
/// read the hostile fields.
#[test]
fn hostile_histories_never_put_a_raw_escape_on_the_terminal() {
    let dir = scratch("hostile");
    let page = dir.join("page.html");
    for name in [
        "hostile-f.jsonl",
        "hostile-type.jsonl",
        "hostile-process.jsonl",
        "hostile-key.jsonl",
        "hostile-values.jsonl",
        "hostile-html.jsonl",
    ] {
        let file = format!("{REPRO}/{name}");
        for model in ["register", "counter", "set", "create-once", "list-append"] {
            for extra in [&[][..], &["--json"], &["--html", s(&page)]] {
                let mut args = vec!["check", "-m", model];
                args.extend_from_slice(extra);
                args.push(&file);
                let out = photofinish(&args);
                assert_no_raw_controls(&args.join(" "), &out);
                assert!(matches!(out.status.code(), Some(0..=3)), "{}", text(&out));
            }
        }
        let out = photofinish(&["report", &file, "-o", s(&page), "-m", "register"]);
        assert_no_raw_controls(&format!("report {name}"), &out);
        let out = photofinish(&["check", &file]);
        assert_no_raw_controls(&format!("check {name}"), &out);
    }
}
