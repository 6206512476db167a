//! The HTTP target from a user's TOML workload file, against the lab: the read-modify-write
//! counter is caught, the atomic one passes, and the duplicates the checker proves are really
//! in the store.

use std::sync::Arc;

use photofinish_check::{check_model, CheckOptions, Verdict};
use photofinish_history::Format;
use photofinish_lab::{Lab, StoreConfig};
use photofinish_run::targets::http::{HttpSpec, HttpTarget};
use photofinish_run::{run, CancellationToken, RunConfig};

fn counter_file(url: &str, strategy: &str) -> String {
    format!(
        r#"
base_url = "{url}"
workload = "counter"
keys = 1

[ops.add]
method = "POST"
path = "/counters/{strategy}/{{key}}/add"
body = '{{"amount": {{value}}}}'
ok = [200]
fail = [400, 404, 422]

[ops.read]
path = "/counters/{{key}}"
value = "/value"
"#
    )
}

async fn run_and_check(file: &str, ops: u64) -> Verdict {
    let spec = HttpSpec::from_toml(file, "workload.toml").unwrap();
    let model = spec.workload.model();
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.jsonl");
    let mut config = RunConfig::new(spec.workload(10), &history);
    config.ops = Some(ops);
    let target = HttpTarget::new(spec).unwrap();
    assert!(target.spec().base_url[0].starts_with("http://127.0.0.1:"));
    let summary = run(Arc::new(target), &config, CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(summary.info, 0, "{summary}");
    let recorded = photofinish_history::read_path(&history, Some(Format::JsonLines)).unwrap();
    check_model(model, None, None, &recorded, &CheckOptions::default())
        .unwrap()
        .verdict
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_toml_workload_catches_the_read_modify_write_counter() {
    // A fresh lab for each, so that each counter starts at 0 as the model does.
    for (strategy, verdict) in [
        ("read-modify-write", Verdict::Invalid),
        ("atomic-add", Verdict::Valid),
    ] {
        let lab = Lab::start(1, StoreConfig::default()).await.unwrap();
        let file = counter_file(&lab.urls()[0], strategy);
        assert_eq!(run_and_check(&file, 300).await, verdict, "{strategy}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_duplicates_the_checker_proves_are_in_the_store() {
    let lab = Lab::start(2, StoreConfig::default()).await.unwrap();
    let urls: Vec<String> = lab.urls().iter().map(|u| format!("{u:?}")).collect();
    let file = format!(
        r#"
base_url = [{}]
workload = "create-once"

[ops.create]
method = "POST"
path = "/objects/cached-check-then-create/{{key}}"
value = "/result"
"#,
        urls.join(", ")
    );
    assert_eq!(run_and_check(&file, 100).await, Verdict::Invalid);
    assert!(lab.store().objects_with("0") > 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_strategy_is_a_failed_operation() {
    use photofinish_history::Value;
    use photofinish_run::{Client, Completion, Invocation, Target};

    let lab = Lab::start(1, StoreConfig::default()).await.unwrap();
    let spec = HttpSpec::from_toml(&counter_file(&lab.urls()[0], "optimism"), "w.toml").unwrap();
    let target = HttpTarget::new(spec).unwrap();
    let mut client = target.connect(0).await.unwrap();
    let add = Invocation::new("add", None, Value::Int(1));
    assert_eq!(
        client.invoke(&add).await,
        Completion::Fail("HTTP 404".to_string())
    );
    let read = Invocation::new("read", None, Value::Null);
    assert_eq!(client.invoke(&read).await, Completion::Ok(Value::Int(0)));
}
