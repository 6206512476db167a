//! `photofinish compare --run/--http`: your own system's variants side by side, on real
//! systems: a Redis counter read-modify-write against INCR (Redis spawned by the runs
//! themselves), and two HTTP workload files against a real service started here on a free
//! loopback port. The matrix's columns, its JSON, its HTML with a link per row, the exit
//! codes, and the usage errors refused before anything runs.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

fn photofinish(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_photofinish"))
        .args(args)
        .output()
        .unwrap()
}

/// A fresh directory of the test's own, emptied if an earlier run left it.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "photofinish-compare-runs-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const GET_SET: &str = "redis --spawn -w counter --variant get-set";
const INCR: &str = "redis --spawn -w counter --variant incr";

#[test]
fn two_redis_variants_a_racy_one_caught_and_its_fix_valid() {
    let dir = scratch("redis");
    let rows = dir.join("rows");
    let page = dir.join("compare.html");
    let out = photofinish(&[
        "compare",
        "--run",
        GET_SET,
        "--run",
        INCR,
        "-c",
        "20",
        "-n",
        "2000",
        "--seed",
        "7",
        "--dir",
        rows.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
        "--json",
    ]);
    let stdout = text(&out.stdout);
    // Comparing options is the point: an INVALID row is an answer, not a failure.
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let matrix: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(matrix["load"]["clients"], 20);
    assert_eq!(matrix["load"]["ops"], 2000);
    assert_eq!(matrix["load"]["seed"], 7);
    let rows_json = matrix["rows"].as_array().unwrap();
    assert_eq!(rows_json.len(), 2);
    let (racy, fixed) = (&rows_json[0], &rows_json[1]);
    assert_eq!(racy["label"], GET_SET);
    assert_eq!(racy["verdict"], "invalid");
    assert!(racy["finding"].as_str().unwrap().contains("lost"), "{racy}");
    assert_eq!(racy["exit_code"], 1);
    assert_eq!(
        racy["added_p50_us"],
        serde_json::Value::Null,
        "the baseline"
    );
    assert_eq!(fixed["label"], INCR);
    assert_eq!(fixed["verdict"], "valid");
    assert_eq!(fixed["finding"], serde_json::Value::Null);
    assert_eq!(fixed["exit_code"], 0);
    for row in [racy, fixed] {
        for field in [
            "operations",
            "ok",
            "fail",
            "info",
            "throughput",
            "p50_us",
            "p99_us",
        ] {
            assert!(row[field].is_number(), "{field}: {row}");
        }
        assert!(row["ok"].as_u64().unwrap() > 0, "{row}");
        assert!(row["throughput"].as_f64().unwrap() > 0.0, "{row}");
        // Each row's history and report are in --dir, and the history is what `run` wrote.
        for file in ["history", "report", "log"] {
            let path = PathBuf::from(row[file].as_str().unwrap());
            assert!(path.starts_with(rows.canonicalize().unwrap()), "{path:?}");
            assert!(path.exists(), "{path:?}");
        }
        let history = std::fs::read_to_string(row["history"].as_str().unwrap()).unwrap();
        assert!(history.contains("\"seed\":7"), "the same seed");
    }
    let added = fixed["added_p50_us"].as_f64().unwrap();
    let p50 = |row: &serde_json::Value| row["p50_us"].as_f64().unwrap();
    assert!((added - (p50(fixed) - p50(racy))).abs() < 1e-6);

    // The HTML matrix links each row to its report, relative to the page.
    let html = std::fs::read_to_string(&page).unwrap();
    for name in [
        "rows/01-redis-spawn-w-counter-variant-get-set.html",
        "rows/02-redis-spawn-w-counter-variant-incr.html",
    ] {
        assert!(html.contains(&format!("href=\"{name}\"")), "{name}: {html}");
        assert!(dir.join(name).exists());
    }
    assert!(html.contains("INVALID") && html.contains("(baseline)"));

    // The same as a table.
    let out = photofinish(&[
        "compare",
        "--run",
        GET_SET,
        "--run",
        INCR,
        "-n",
        "1000",
        "--dir",
        dir.join("table").to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for column in [
        "option",
        "verdict",
        "ops",
        "ok/fail/info",
        "ops/s",
        "p50",
        "p99",
        "+p50",
        "+p99",
        "(baseline)",
        "what the checker found:",
        "increments lost",
        "20 clients, 1000 operations, seed 0",
    ] {
        assert!(stdout.contains(column), "{column}: {stdout}");
    }
    let line = |label: &str| {
        stdout
            .lines()
            .find(|l| l.trim_start().starts_with(label) && !l.contains(':'))
            .unwrap_or_else(|| panic!("no row {label}: {stdout}"))
            .to_string()
    };
    assert!(line(GET_SET).contains("INVALID"), "{stdout}");
    assert!(line(INCR).contains("valid"), "{stdout}");
}

/// The example service of examples/http, on a free loopback port.
struct Service(Child, String);

impl Service {
    fn start() -> Service {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/http/counter_service.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(["--port", "0"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut url = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut url)
            .unwrap();
        Service(child, url.trim().to_string())
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The example workload file `name`, pointed at `url`.
fn workload_file(dir: &Path, name: &str, url: &str) -> PathBuf {
    let example = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/http")
        .join(name);
    let text = std::fs::read_to_string(example).unwrap();
    let text = text.replace("http://127.0.0.1:8090", url);
    assert!(text.contains(url), "the example's base_url moved");
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn two_http_workload_files_the_old_handler_caught_and_the_fix_valid() {
    let service = Service::start();
    let dir = scratch("http");
    let v1 = workload_file(&dir, "counter-v1.toml", &service.1);
    let v2 = workload_file(&dir, "counter-v2.toml", &service.1);
    let out = photofinish(&[
        "compare",
        "--http",
        v1.to_str().unwrap(),
        "--http",
        v2.to_str().unwrap(),
        "-c",
        "10",
        "-n",
        "600",
        "--seed",
        "3",
        "--dir",
        dir.join("rows").to_str().unwrap(),
        "--json",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let matrix: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let rows = matrix["rows"].as_array().unwrap();
    assert_eq!(rows[0]["label"], v1.to_str().unwrap());
    assert_eq!(rows[0]["verdict"], "invalid", "{}", rows[0]);
    assert_eq!(rows[1]["verdict"], "valid", "{}", rows[1]);
    // An HTTP row has the replicas its file lists.
    assert_eq!(rows[0]["replicas"], 1);
    assert_eq!(rows[1]["replicas"], 1);
    assert!(rows[1]["added_p99_us"].is_number());
}

#[test]
fn a_row_that_cannot_run_is_shown_and_the_others_still_run() {
    let dir = scratch("unreachable");
    // Nothing listens on port 1: run refuses the target.
    let out = photofinish(&[
        "compare",
        "--run",
        "redis --url redis://127.0.0.1:1 -w counter",
        "--run",
        INCR,
        "-n",
        "200",
        "--dir",
        dir.to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("error"), "{stdout}");
    assert!(stdout.contains("Connection refused"), "{stdout}");
    // The second row ran, and is the baseline since the first has no figures.
    let incr = stdout
        .lines()
        .find(|l| l.trim_start().starts_with(INCR))
        .unwrap();
    assert!(
        incr.contains("valid") && incr.contains("(baseline)"),
        "{stdout}"
    );
}

#[test]
fn usage_errors_are_refused_before_anything_runs() {
    let dir = scratch("usage");
    let workload = dir.join("bad.toml");
    std::fs::write(&workload, "base_url = 3\n").unwrap();
    let cases: [(&[&str], &str); 7] = [
        (&["--run", "redis -w counter -c 5"], "gives --clients"),
        (&["--run", "redis -w counter --seed=1"], "gives --seed"),
        (&["--run", "redis -w counter --html x.html"], "gives --html"),
        (&["--run", "redis 'x"], "not closed"),
        (&["--run", "redis --no-such-flag"], "--no-such-flag"),
        (
            &["--run", "redis", "--scenario", "counter"],
            "cannot be used",
        ),
        (&["--http", workload.to_str().unwrap()], "bad.toml"),
    ];
    for (args, expected) in cases {
        let mut all = vec!["compare", "--dir", dir.to_str().unwrap()];
        all.extend_from_slice(args);
        let out = photofinish(&all);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // Nothing ran: no row left a file.
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, [std::ffi::OsString::from("bad.toml")]);
}
