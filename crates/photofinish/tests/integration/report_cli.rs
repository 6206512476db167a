//! `photofinish report` and `check --html`: the HTML page written by the command.

use crate::common::photofinish;
use std::path::{Path, PathBuf};

fn example() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/lost-update.jsonl"
    )
    .to_string()
}

/// A fresh path for a page named `name`.
fn page_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("photofinish-report-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// The data the page embeds, parsed back.
fn page_data(path: &Path) -> serde_json::Value {
    let html = std::fs::read_to_string(path).expect("the page was written");
    assert!(html.starts_with("<!DOCTYPE html>"), "{html:.200}");
    let start = html
        .find(r#"id="photofinish-data">"#)
        .expect("the page embeds its data")
        + 22;
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).expect("the data is JSON")
}

#[test]
fn report_without_a_model_shows_the_history_only() {
    let out_path = page_path("plain.html");
    let out = photofinish(&["report", &example(), "-o", out_path.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let data = page_data(&out_path);
    assert!(data["report"].is_null());
    assert_eq!(data["title"], "lost-update.jsonl");
    assert_eq!(data["ops"]["o"].as_str().unwrap().len(), 8);
}

#[test]
fn report_with_a_model_includes_the_counterexample() {
    let out_path = page_path("checked.html");
    let out = photofinish(&[
        "report",
        &example(),
        "--model",
        "counter",
        "--init",
        "0",
        "-o",
        out_path.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the verdict's exit code, as check gives it: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let data = page_data(&out_path);
    assert_eq!(data["report"]["verdict"], "invalid");
    assert!(data["report"]["failures"][0]["stuck"].is_u64());
}

#[test]
fn check_html_writes_the_page_and_keeps_the_verdict() {
    let out_path = page_path("check.html");
    let out = photofinish(&[
        "check",
        "--model",
        "counter",
        &example(),
        "--html",
        out_path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("timeline (events"), "{text}");
    assert_eq!(page_data(&out_path)["report"]["verdict"], "invalid");
}

#[test]
fn report_errors_exit_two() {
    let nowhere = page_path("missing-dir").join("nested").join("page.html");
    let out = photofinish(&["report", &example(), "-o", nowhere.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write"));
    let out = photofinish(&["report", &example(), "--format", "edn", "-o", "x.html"]);
    assert_eq!(out.status.code(), Some(2), "a history that is not EDN");
    let out = photofinish(&["report", &example(), "--model", "nope", "-o", "x.html"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown model"));
}
