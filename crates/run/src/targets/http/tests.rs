use super::*;
use crate::WorkloadKind;

const COUNTER: &str = r#"
base_url = "http://127.0.0.1:8080"
workload = "counter"
keys = 2

[ops.add]
method = "POST"
path = "/counters/{key}/add"
body = '{"amount": {value}}'
ok = [200]
fail = [409]

[ops.read]
path = "/counters/{key}"
value = "/value"
"#;

#[test]
fn a_counter_file_parses() {
    let spec = HttpSpec::from_toml(COUNTER, "counter.toml").unwrap();
    assert_eq!(spec.workload, WorkloadKind::Counter);
    assert_eq!(spec.keys, 2);
    assert_eq!(spec.base_url, vec!["http://127.0.0.1:8080".to_string()]);
    assert_eq!(spec.ops["read"].method, Method::default());
    assert_eq!(
        spec.ops["read"].value,
        Some(Pointer::parse("/value").unwrap())
    );
    assert_eq!(spec.ops["read"].absent, Absent::Info);
}

fn error_of(text: &str) -> String {
    HttpSpec::from_toml(text, "w.toml").unwrap_err().to_string()
}

#[test]
fn misspelt_placeholders_are_reported_where_they_are() {
    let text = COUNTER.replace("/counters/{key}/add", "/counters/{kye}/add");
    let error = error_of(&text);
    assert!(error.starts_with("w.toml:8:8: "), "{error}");
    assert!(error.contains("unknown placeholder `{kye}`"), "{error}");
}

#[test]
fn syntax_errors_and_bad_fields_carry_line_and_column() {
    let error = error_of("base_url = \"http://x\"\nworkload = \"countr\"\n[ops]\n");
    assert!(error.starts_with("w.toml:2:12: "), "{error}");
    assert!(error.contains("unknown workload `countr`"), "{error}");
    let error = error_of("base_url = \"http://x\"\nworkload = \n");
    assert!(error.starts_with("w.toml:2:"), "{error}");
    let error = error_of(&COUNTER.replace("fail = [409]", "fial = [409]"));
    assert!(error.starts_with("w.toml:11:1: "), "{error}");
    let error = error_of(&COUNTER.replace("method = \"POST\"", "method = \"PO ST\""));
    assert!(error.contains("not an HTTP method"), "{error}");
    let error = error_of(&COUNTER.replace(
        "value = \"/value\"",
        "value = \"/value\"\ndecode = \"base65\"",
    ));
    assert!(error.starts_with("w.toml:16:10: "), "{error}");
    assert!(error.contains("unknown codec `base65`"), "{error}");
}

#[test]
fn missing_and_unknown_operations_are_named_where_they_are() {
    let error = error_of(&COUNTER.replace("[ops.read]", "[ops.raed]"));
    assert!(
        error.contains("issues `read`, but there is no [ops.read]"),
        "{error}"
    );
    let without_value = COUNTER.replace("value = \"/value\"", "");
    let error = error_of(&without_value);
    assert!(
        error.contains("[ops.read]: `read` returns a result"),
        "{error}"
    );
    assert!(error.starts_with("w.toml:13:1: "), "{error}");
    let both = COUNTER.replace("fail = [409]", "fail = [200]");
    let error = error_of(&both);
    assert!(
        error.contains("status 200 is in both ok and fail"),
        "{error}"
    );
    assert!(error.starts_with("w.toml:11:8: "), "{error}");
    let relative = COUNTER.replace("path = \"/counters/{key}\"", "path = \"counters\"");
    let error = error_of(&relative);
    assert!(error.contains("must start with `/`"), "{error}");
    assert!(error.starts_with("w.toml:14:8: "), "{error}");
    let ftp = COUNTER.replace("http://127.0.0.1:8080", "ftp://x");
    assert!(error_of(&ftp).contains("not an http or https URL"));
    let stray = COUNTER.replace("value = \"/value\"", "absent = \"null\"");
    assert!(error_of(&stray).contains("`decode` and `absent` say how to read the result"));
}

#[test]
fn vars_setup_teardown_and_proxies_are_checked_where_they_are() {
    let with = |extra: &str| format!("{COUNTER}\n{extra}");
    let error = error_of(&with("[vars]\nk = \"{run}/{other}\"\nother = \"x\""));
    assert!(error.contains("a var may use only"), "{error}");
    assert!(error.starts_with("w.toml:18:5: "), "{error}");
    let error = error_of(&with(
        "[[setup]]\npath = \"/a\"\n\n[[teardown]]\npath = \"/b/{nope}\"",
    ));
    assert!(
        error.contains("[[teardown]] number 1: unknown placeholder `{nope}`"),
        "{error}"
    );
    assert!(error.starts_with("w.toml:21:8: "), "{error}");
    let error = error_of(&with(
        "[[proxy]]\nname = \"db\"\nlisten = \"0.0.0.0:7000\"\nupstream = \"127.0.0.1:6379\"",
    ));
    assert!(error.contains("reachable from other machines"), "{error}");
    assert!(error.starts_with("w.toml:19:10: "), "{error}");
    let remote = with(
        "[[proxy]]\nname = \"db\"\nlisten = \"0.0.0.0:7000\"\nupstream = \"127.0.0.1:6379\"\nallow_remote = true",
    );
    assert_eq!(
        HttpSpec::from_toml(&remote, "w.toml").unwrap().proxy.len(),
        1
    );
    let twice = with(
        "[[proxy]]\nname = \"db\"\nlisten = \"127.0.0.1:0\"\nupstream = \"127.0.0.1:6379\"\n\
         [[proxy]]\nname = \"db\"\nlisten = \"127.0.0.1:0\"\nupstream = \"127.0.0.1:6380\"",
    );
    assert!(error_of(&twice).contains("another [[proxy]] is named `db`"));
}

#[test]
fn statuses_decide_the_completion() {
    let text = r#"
base_url = ["http://127.0.0.1:1", "http://127.0.0.1:2"]
workload = "create-once"
[ops.create]
method = "PUT"
path = "/alerts/{key}"
results = { 201 = "created", 200 = "exists" }
fail = [400]
"#;
    let spec = HttpSpec::from_toml(text, "w.toml").unwrap();
    assert_eq!(spec.base_url.len(), 2);
    let create = &spec.ops["create"];
    assert!(matches!(create.classify(201), Answer::Known(Value::Str(s)) if s == "created"));
    assert!(matches!(create.classify(400), Answer::Failed));
    assert!(matches!(create.classify(500), Answer::Unknown));
    assert!(matches!(create.classify(204), Answer::Happened));
}

#[test]
fn setup_requests_repeat_per_key_only_when_they_use_it() {
    let spec = HttpSpec::from_toml(
        &format!(
            "{COUNTER}\n[vars]\nk = \"ns/{{key}}\"\n\n[[setup]]\nmethod = \"DELETE\"\npath = \"/all\"\n\n\
             [[setup]]\npath = \"/c/{{k}}\"\n"
        ),
        "w.toml",
    )
    .unwrap();
    assert!(!spec.setup[0].per_key(&spec.vars));
    assert!(spec.setup[1].per_key(&spec.vars));
    assert_eq!(spec.setup[1].describe(), "GET /c/{k}");
}

#[test]
fn each_target_has_a_run_id_of_its_own() {
    let spec = HttpSpec::from_toml(COUNTER, "w.toml").unwrap();
    let one = HttpTarget::new(spec.clone()).unwrap();
    let two = HttpTarget::new(spec).unwrap();
    assert_ne!(one.run_id(), two.run_id());
    assert!(one.run_id().bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(one
        .describe()
        .ends_with(&format!("(counter, run {})", one.run_id())));
    assert_eq!(one.clone().with_run_id("fixed").run_id(), "fixed");
}

#[test]
fn list_append_and_rw_register_map_txn_and_bank_is_refused() {
    for kind in ["list-append", "rw-register"] {
        let text = format!(
            "base_url = \"http://127.0.0.1:1\"\nworkload = \"{kind}\"\nkeys = 5\n\
             [ops.txn]\nmethod = \"POST\"\npath = \"/txn/{{run}}\"\n\
             body = '{{\"ops\": {{value}}}}'\nvalue = \"/value\"\n"
        );
        let spec = HttpSpec::from_toml(&text, "t.toml").unwrap();
        assert_eq!(spec.workload(2).kind.model(), kind);
        let without_value = text.replace("value = \"/value\"\n", "");
        assert!(error_of(&without_value).contains("`txn` returns a result"));
    }
    let text = COUNTER.replace(r#"workload = "counter""#, r#"workload = "bank""#);
    let error = error_of(&text);
    assert!(
        error.contains("the http target does not run the bank workload"),
        "{error}"
    );
}
