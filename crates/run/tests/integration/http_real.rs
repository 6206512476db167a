//! The shipped HTTP workload files against real services: etcd from Debian's etcd-server
//! through its v3 JSON gateway, the plain REST example service, a webdis look-alike, and a
//! service whose store is reached through a `[[proxy]]` the nemesis partitions. Each test
//! asserts the checker's verdict.

use crate::common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::{assert_verdict, check, free_port, run_and_check, Scratch};
use photofinish_check::Verdict;
use photofinish_run::faults::{FaultKind, NemesisConfig, Server, ServerKind, ServerOptions};
use photofinish_run::targets::http::{HttpSpec, HttpTarget};
use photofinish_run::{run_blocking, NemesisPlan, RunConfig};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/http")
        .join(name)
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A Python service started for one test, stopped when dropped.
struct Service {
    child: Child,
    url: String,
}

impl Service {
    /// Runs `script` with `args`; the first line it prints is its URL.
    fn start(script: &Path, args: &[&str]) -> Service {
        let mut child = Command::new("python3")
            .arg(script)
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("the service prints its URL");
        assert!(line.starts_with("http://"), "{line:?}");
        Service {
            child,
            url: line.trim().to_string(),
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn etcd() -> (Server, String) {
    let server = Server::start(ServerKind::Etcd, &ServerOptions::default()).expect("etcd starts");
    let url = format!("http://{}", server.addr());
    (server, url)
}

/// The workload file at `path` (its text changed by `edit`), pointed at `url`.
fn spec_at(path: &Path, url: &str, edit: impl Fn(String) -> String) -> HttpSpec {
    let text = std::fs::read_to_string(path).expect("the file is there");
    let mut spec = HttpSpec::from_toml(&edit(text), &path.display().to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    spec.base_url = vec![url.to_string()];
    spec
}

fn run_file(spec: HttpSpec, history: &Path, ops: u64) -> common::Outcome {
    let workload = spec.workload(5);
    run_and_check(HttpTarget::new(spec).unwrap(), workload, ops, history)
}

#[test]
fn etcd_register_and_cas_through_the_shipped_files_are_valid() {
    let scratch = Scratch::new("http-etcd");
    let (_etcd, url) = etcd();
    for (file, ops) in [("etcd-register.toml", 400), ("etcd-cas.toml", 400)] {
        let spec = spec_at(&example(file), &url, |text| text);
        let target = HttpTarget::new(spec.clone()).unwrap();
        let keeper = target.clone();
        let outcome = run_and_check(
            target,
            spec.workload(5),
            ops,
            &scratch.path.join(format!("{file}.jsonl")),
        );
        assert_verdict(&outcome, Verdict::Valid);
        // Reads saw values, and cas both succeeded and failed: the codecs and the body's
        // verdict were at work, not a run of nulls and failures.
        assert!(outcome.summary.ok > ops / 2, "{:?}", outcome.summary);
        if file == "etcd-cas.toml" {
            assert!(outcome.summary.fail > 0, "no cas ever failed");
        }
        keeper
            .teardown_blocking(Duration::from_secs(10))
            .expect("the teardown deletes the run's keys");
    }
}

#[test]
fn a_client_side_get_then_put_cas_on_etcd_is_invalid() {
    let scratch = Scratch::new("http-etcd-racy");
    let (_etcd, url) = etcd();
    let relay = Service::start(&fixture("etcd_get_then_put.py"), &[&url]);
    let spec = spec_at(&example("etcd-cas.toml"), &relay.url, |text| {
        let start = text.find("[ops.cas]").unwrap();
        let end = text.find("[[teardown]]").unwrap();
        format!(
            "{}[ops.cas]\nmethod = \"POST\"\npath = \"/racy-cas\"\n\
             body = '{{\"key\": {{k|base64}}, \"from\": {{value.0|json|base64}}, \"to\": {{value.1|json|base64}}}}'\n\
             fail = [409]\n\n{}",
            &text[..start],
            &text[end..]
        )
    });
    let mut spec = spec;
    spec.keys = 1;
    let outcome = run_file(spec, &scratch.path.join("racy.jsonl"), 600);
    assert_eq!(
        outcome.report.verdict,
        Verdict::Invalid,
        "{:?}",
        outcome.summary
    );
}

#[test]
fn the_rest_example_is_valid_and_its_racy_mode_is_not() {
    let scratch = Scratch::new("http-rest");
    let service = Service::start(&example("rest_service.py"), &["--port", "0"]);
    let spec = spec_at(&example("rest-cas-register.toml"), &service.url, |text| {
        text
    });
    assert_verdict(
        &run_file(spec.clone(), &scratch.path.join("safe.jsonl"), 400),
        Verdict::Valid,
    );
    let racy = Service::start(&example("rest_service.py"), &["--port", "0", "--racy"]);
    let mut spec = spec_at(&example("rest-cas-register.toml"), &racy.url, |text| text);
    spec.keys = 1;
    let outcome = run_file(spec, &scratch.path.join("racy.jsonl"), 600);
    assert_eq!(
        outcome.report.verdict,
        Verdict::Invalid,
        "{:?}",
        outcome.summary
    );
}

/// kv (appends and gets of lists) and multi-register (transactions in one request) through the
/// shipped files: the locked service is valid, the racy one, whose appends and transactions are
/// not atomic, is caught.
#[test]
fn rest_kv_and_multi_register_files_catch_non_atomic_updates() {
    let scratch = Scratch::new("http-rest-kv");
    let safe = Service::start(&example("rest_service.py"), &["--port", "0"]);
    let racy = Service::start(&example("rest_service.py"), &["--port", "0", "--racy"]);
    for file in ["rest-kv.toml", "rest-multi-register.toml"] {
        let stem = file.trim_end_matches(".toml");
        let spec = spec_at(&example(file), &safe.url, |text| text);
        let outcome = run_file(spec, &scratch.path.join(format!("{stem}-safe.jsonl")), 600);
        assert_verdict(&outcome, Verdict::Valid);
        assert!(outcome.summary.ok > 500, "{file}: {:?}", outcome.summary);
        // The race needs overlapping requests; a loaded machine may serialise a round, so up
        // to three rounds are run until one is caught.
        let caught = (0..3).any(|round| {
            let mut spec = spec_at(&example(file), &racy.url, |text| text);
            spec.keys = 1;
            let history = scratch.path.join(format!("{stem}-racy-{round}.jsonl"));
            run_file(spec, &history, 600).report.verdict == Verdict::Invalid
        });
        assert!(caught, "{file}: the racy service was never caught");
    }
}

#[test]
fn run_namespaces_make_a_rerun_without_reset_valid() {
    let scratch = Scratch::new("http-rerun");
    let service = Service::start(&example("rest_service.py"), &["--port", "0"]);
    let example = example("rest-cas-register.toml");
    for run in 0..2 {
        let spec = spec_at(&example, &service.url, |text| text);
        assert_verdict(
            &run_file(spec, &scratch.path.join(format!("ns-{run}.jsonl")), 300),
            Verdict::Valid,
        );
    }
    // The same file without {run}: the second run starts from the first one's values.
    let shared = |text: String| text.replace("{run}-", "shared-");
    for run in 0..2 {
        let outcome = run_file(
            spec_at(&example, &service.url, shared),
            &scratch.path.join(format!("shared-{run}.jsonl")),
            300,
        );
        let expected = if run == 0 {
            Verdict::Valid
        } else {
            Verdict::Invalid
        };
        assert_eq!(outcome.report.verdict, expected, "run {run}");
    }
}

const WEBDIS: &str = r#"
base_url = "http://127.0.0.1:7379"
workload = "counter"
keys = 2

[[setup]]
path = "/SET/{run}-{key}/0"
ok_when = { pointer = "/SET/1", equals = "OK" }

[ops.add]
path = "/INCRBY/{run}-{key}/{value}"

[ops.read]
path = "/GET/{run}-{key}"
value = "/GET"
decode = "number"
"#;

#[test]
fn webdis_string_numbers_are_decoded() {
    let scratch = Scratch::new("http-webdis");
    let webdis = Service::start(&fixture("webdis.py"), &[]);
    let mut spec = HttpSpec::from_toml(WEBDIS, "webdis.toml").unwrap();
    spec.base_url = vec![webdis.url.clone()];
    let history = scratch.path.join("webdis.jsonl");
    let outcome = run_file(spec, &history, 300);
    assert_verdict(&outcome, Verdict::Valid);
    let text = std::fs::read_to_string(&history).unwrap();
    let read_ints = text
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|e| e["type"] == "ok" && e["f"] == "read" && e["value"].as_i64() > Some(0))
        .count();
    assert!(read_ints > 0, "no read came back as an integer:\n{text}");
}

#[test]
fn a_partitioned_proxy_link_fails_requests_in_its_window() {
    let scratch = Scratch::new("http-proxy");
    let redis = Server::start(ServerKind::Redis, &ServerOptions::default()).expect("redis starts");
    let link = format!("127.0.0.1:{}", free_port());
    let service = Service::start(&fixture("counter_over_redis.py"), &[&link]);
    let file = format!(
        r#"
base_url = "{url}"
workload = "counter"
keys = 2

[ops.add]
method = "POST"
path = "/counters/{{run}}-{{key}}/add"
body = '{{"amount": {{value}}}}'

[ops.read]
path = "/counters/{{run}}-{{key}}"
value = "/value"

[[proxy]]
name = "store"
listen = "{link}"
upstream = "{store}"
"#,
        url = service.url,
        store = redis.addr(),
    );
    let spec = HttpSpec::from_toml(&file, "proxied.toml").unwrap_or_else(|e| panic!("{e}"));
    let links = Arc::new(spec.start_proxies().expect("the proxy listens"));
    let mut nemesis = NemesisConfig::new(vec![FaultKind::Partition]);
    nemesis.interval = Duration::from_millis(400);
    nemesis.duration = Duration::from_millis(800);
    let workload = spec.workload(4);
    let history = scratch.path.join("proxied.jsonl");
    let mut config = RunConfig::new(workload, &history);
    config.ops = None;
    config.duration = Some(Duration::from_secs(4));
    config.rate = Some(200.0);
    config.op_timeout = Duration::from_secs(2);
    config.nemesis = Some(NemesisPlan::new(links.clone(), nemesis));
    let summary = run_blocking(HttpTarget::new(spec).unwrap(), &config).expect("the run ends");
    let faults = summary.faults.as_ref().expect("the nemesis ran");
    assert!(!faults.faults.is_empty(), "{faults:?}");
    assert!(faults.faults.iter().all(|f| f.kind == "partition"));
    // Cut off from its store, the service answers 503 (info) or not in time.
    assert!(
        faults.inside.info + faults.inside.fail > 0,
        "inside the windows: {:?}",
        faults.inside
    );
    assert!(faults.outside.ok > 0, "outside: {:?}", faults.outside);
    let text = std::fs::read_to_string(&history).unwrap();
    assert!(text.contains(r#""f":"start-partition""#), "{text}");
    assert!(text.contains(r#""f":"stop-partition""#), "{text}");
    assert!(text.contains(r#""process":"nemesis""#));
    let (report, _) = check(&history, "counter");
    assert_eq!(report.verdict, Verdict::Valid, "{:?}", summary.errors);
    drop(links);
}

#[test]
fn a_result_of_the_wrong_shape_stops_the_run_early_and_says_where() {
    let scratch = Scratch::new("http-mismatch");
    let webdis = Service::start(&fixture("webdis.py"), &[]);
    let file = scratch.path.join("webdis.toml");
    // Without decode = "number", webdis's "1" is a string where the counter needs a number.
    std::fs::write(&file, WEBDIS.replace("decode = \"number\"\n", "")).unwrap();
    let mut spec = HttpSpec::from_path(&file).unwrap();
    spec.base_url = vec![webdis.url.clone()];
    let history = scratch.path.join("mismatch.jsonl");
    let mut config = RunConfig::new(spec.workload(4), &history);
    config.ops = Some(3000);
    let summary = run_blocking(HttpTarget::new(spec).unwrap(), &config).expect("the run ends");
    let halt = summary.stopped_early.expect("the run stopped early");
    assert_eq!(halt.kind, photofinish_run::HaltKind::WorkloadMismatch);
    let reason = &halt.reason;
    assert!(
        reason.starts_with(&format!("{}:13 ([ops.read])", file.display())),
        "{reason}"
    );
    assert!(reason.contains("decode = \"number\""), "{reason}");
    assert!(
        reason.contains("request: GET http://127.0.0.1:"),
        "{reason}"
    );
    assert!(
        reason.contains(r#"response: HTTP 200 {"GET": "#),
        "{reason}"
    );
    assert!(summary.operations < 3000, "{}", summary.operations);
}
