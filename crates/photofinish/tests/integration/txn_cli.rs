//! `photofinish check` with the transactional models: Elle's corpus, the consistency-model
//! option, JSON and HTML output, Jepsen's bank, long-fork and set-full, and bad input.

use crate::common::photofinish;
use std::path::{Path, PathBuf};
use std::process::Output;

fn elle(name: &str) -> Option<PathBuf> {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/elle"
    ))
    .join(name);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("no corpus file {}; skipped", path.display());
        None
    }
}

/// Writes `content` to a fresh file named `name` and returns its path.
fn file(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("photofinish-txn-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn check(model: &str, path: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["check", "--model", model, path.to_str().unwrap()];
    args.extend_from_slice(extra);
    photofinish(&args)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn models_lists_the_transactional_models() {
    let out = photofinish(&["models"]);
    assert_eq!(out.status.code(), Some(0));
    for model in [
        "list-append",
        "rw-register",
        "bank",
        "long-fork",
        "set-full",
    ] {
        assert!(
            stdout(&out).lines().any(|l| l.starts_with(model)),
            "{model}"
        );
    }
}

#[test]
fn the_elle_corpus_is_decided_with_cycles() {
    let Some(paper) = elle("paper-example.edn") else {
        return;
    };
    let out = check("list-append", &paper, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("INVALID for strict-serializable"), "{text}");
    assert!(text.contains("G-single"), "{text}");
    assert!(
        text.contains("T4 < T2: T4 read key 255 as [2 3 4 5], without T2's append of 8"),
        "{text}"
    );
    let out = check(
        "list-append",
        &paper,
        &["--consistency-model", "read-committed"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    let Some(si) = elle("si-without-g-single.edn") else {
        return;
    };
    let out = check(
        "list-append",
        &si,
        &["--consistency-model", "snapshot-isolation"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("G2-item"));
    let out = check("list-append", &si, &["--consistency-model", "serializable"]);
    assert_eq!(out.status.code(), Some(1));

    let Some(huge) = elle("huge-scc.edn") else {
        return;
    };
    let out = check("list-append", &huge, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("G2-item-realtime"));
    let out = check(
        "list-append",
        &huge,
        &["--consistency-model", "serializable"],
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn json_and_html_reports() {
    let Some(paper) = elle("paper-example.edn") else {
        return;
    };
    let html = std::env::temp_dir().join(format!("photofinish-txn-{}.html", std::process::id()));
    let out = check(
        "list-append",
        &paper,
        &["--json", "--html", html.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["verdict"], "invalid");
    assert_eq!(json["anomaly_types"][0], "G-single");
    let cycle = &json["anomalies"][0];
    assert_eq!(cycle["type"], "G-single");
    assert_eq!(cycle["steps"].as_array().unwrap().len(), 3);
    assert!(cycle["steps"][0]["type"].is_string());
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg") && page.contains("G-single"));
    assert!(!page.contains("<script"));
}

#[test]
fn bad_input_and_usage_exit_2() {
    let path = file(
        "bad.jsonl",
        "{\"type\":\"invoke\",\"process\":0,\"f\":\"txn\",\"value\":[[\"append\",1,2]]}\n{\"type\":\"ok\",\"process\":0,\"f\":\"txn\",\"value\":[[\"append\",1,3]]}\n",
    );
    let out = check("list-append", &path, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("bad.jsonl:2: micro-operation 1 of the completion is [append 1 3]"),
        "{}",
        stderr(&out)
    );
    let ok = file(
        "ok.jsonl",
        "{\"type\":\"invoke\",\"process\":0,\"f\":\"txn\",\"value\":[[\"append\",1,2]]}\n{\"type\":\"ok\",\"process\":0,\"f\":\"txn\",\"value\":[[\"append\",1,2]]}\n",
    );
    let out = check("list-append", &ok, &["--consistency-model", "sequential"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown --consistency-model `sequential`"));
    let out = check("list-append", &ok, &["--init", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--init does not apply to --model list-append"));
    let out = check("rw-register", &ok, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is this a list-append history?"),
        "{}",
        stderr(&out)
    );
    let out = photofinish(&[
        "report",
        "--model",
        "bank",
        ok.to_str().unwrap(),
        "-o",
        "/dev/null",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn nothing_committed_is_undecided() {
    let path = file(
        "failed.jsonl",
        "{\"type\":\"invoke\",\"process\":0,\"f\":\"txn\",\"value\":[[\"append\",1,2]]}\n{\"type\":\"fail\",\"process\":0,\"f\":\"txn\",\"value\":[[\"append\",1,2]]}\n",
    );
    assert_eq!(check("list-append", &path, &[]).status.code(), Some(3));
}

#[test]
fn bank_long_fork_and_set_full() {
    let bank = file(
        "bank.edn",
        "{:process 0 :type :invoke :f :read :value nil}\n{:process 0 :type :ok :f :read :value {0 10 1 90}}\n{:process 1 :type :invoke :f :read :value nil}\n{:process 1 :type :ok :f :read :value {0 10 1 85}}\n",
    );
    let out = check("bank", &bank, &["--total", "100"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("wrong-total"), "{}", stdout(&out));
    assert!(stdout(&out).contains("add up to 95, not 100"));
    let out = check("bank", &bank, &["--total", "100", "--group-size", "2"]);
    assert_eq!(out.status.code(), Some(2));

    let fork = file(
        "fork.edn",
        "{:process 0 :type :invoke :f :txn :value [[:w 0 1]]}\n{:process 1 :type :invoke :f :txn :value [[:w 1 1]]}\n{:process 2 :type :invoke :f :txn :value [[:r 0 nil] [:r 1 nil]]}\n{:process 3 :type :invoke :f :txn :value [[:r 0 nil] [:r 1 nil]]}\n{:process 0 :type :ok :f :txn :value [[:w 0 1]]}\n{:process 1 :type :ok :f :txn :value [[:w 1 1]]}\n{:process 2 :type :ok :f :txn :value [[:r 0 1] [:r 1 nil]]}\n{:process 3 :type :ok :f :txn :value [[:r 0 nil] [:r 1 1]]}\n",
    );
    let out = check("long-fork", &fork, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("long-fork"));
    assert_eq!(
        check("long-fork", &fork, &["--group-size", "3"])
            .status
            .code(),
        Some(2)
    );

    let set = file(
        "set.jsonl",
        "{\"type\":\"invoke\",\"process\":0,\"f\":\"add\",\"value\":1}\n{\"type\":\"ok\",\"process\":0,\"f\":\"add\",\"value\":1}\n{\"type\":\"invoke\",\"process\":1,\"f\":\"read\",\"value\":null}\n{\"type\":\"ok\",\"process\":1,\"f\":\"read\",\"value\":[]}\n{\"type\":\"invoke\",\"process\":1,\"f\":\"read\",\"value\":null}\n{\"type\":\"ok\",\"process\":1,\"f\":\"read\",\"value\":[1]}\n",
    );
    assert_eq!(check("set-full", &set, &[]).status.code(), Some(0));
    let out = check("set-full", &set, &["--linearizable"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("stale"));
}

#[test]
fn budgets_are_kept() {
    let Some(huge) = elle("huge-scc.edn") else {
        return;
    };
    let out = check("list-append", &huge, &["--timeout", "0.000001"]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    assert!(stdout(&out).contains("stopped at the time limit"));
    let out = check("list-append", &huge, &["--max-memory", "1"]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    assert!(stdout(&out).contains("passed the limit of 1 MiB"));
}
