//! The HTTP target against a scripted server on 127.0.0.1: what goes over the wire, and how
//! each answer becomes a completion.

use std::sync::{Arc, Mutex};

use photofinish_history::Value;
use photofinish_run::targets::http::{HttpSpec, HttpTarget};
use photofinish_run::{Client, Completion, Invocation, Target};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A request as the server saw it: method, path, body.
type Seen = Arc<Mutex<Vec<(String, String, String)>>>;

/// Serves HTTP/1.1 with keep-alive, answering each request with `answer(method, path)`.
async fn serve(answer: fn(&str, &str) -> (u16, &'static str)) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut read = BufReader::new(read);
                loop {
                    let mut request_line = String::new();
                    if read.read_line(&mut request_line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let mut parts = request_line.split_whitespace();
                    let method = parts.next().unwrap_or("").to_string();
                    let path = parts.next().unwrap_or("").to_string();
                    let mut length = 0;
                    loop {
                        let mut header = String::new();
                        read.read_line(&mut header).await.unwrap();
                        if header.trim().is_empty() {
                            break;
                        }
                        if let Some((name, value)) = header.split_once(':') {
                            if name.eq_ignore_ascii_case("content-length") {
                                length = value.trim().parse().unwrap();
                            }
                        }
                    }
                    let mut body = vec![0; length];
                    read.read_exact(&mut body).await.unwrap();
                    let (status, reply) = answer(&method, &path);
                    log.lock()
                        .unwrap()
                        .push((method, path, String::from_utf8(body).unwrap()));
                    let response = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n\
                         content-length: {}\r\n\r\n{reply}",
                        reply.len()
                    );
                    write.write_all(response.as_bytes()).await.unwrap();
                }
            });
        }
    });
    (url, seen)
}

fn register_file(url: &str) -> String {
    format!(
        r#"
base_url = "{url}"
workload = "cas-register"
keys = 3
headers = {{ authorization = "Bearer t" }}

[[setup]]
method = "DELETE"
path = "/r/{{key}}"

[ops.read]
path = "/r/{{key}}"
value = "/v"

[ops.write]
method = "PUT"
path = "/r/{{key}}"
body = '{{"v": {{value}}}}'

[ops.cas]
method = "POST"
path = "/r/{{key}}/cas?from={{value.0}}&to={{value.1}}"
fail = [412]
"#
    )
}

fn register_answers(method: &str, path: &str) -> (u16, &'static str) {
    match (method, path) {
        ("DELETE", _) => (204, ""),
        ("GET", "/r/1") => (200, r#"{"v": 3}"#),
        ("GET", _) => (200, r#"{"nothing": true}"#),
        ("PUT", _) => (503, "{}"),
        (_, p) if p.ends_with("from=1&to=2") => (412, "{}"),
        _ => (200, "{}"),
    }
}

#[tokio::test]
async fn answers_become_completions_and_values_arrive_encoded() {
    let (url, seen) = serve(register_answers).await;
    let spec = HttpSpec::from_toml(&register_file(&url), "register.toml").unwrap();
    let target = HttpTarget::new(spec).unwrap();
    target.setup().await.unwrap();
    let mut client = target.connect(0).await.unwrap();
    let key = |k: i64| Some(Value::Int(k));
    let cas = |from, to| Value::List(vec![Value::Int(from), Value::Int(to)]);

    let read = Invocation::new("read", key(1), Value::Null);
    assert_eq!(client.invoke(&read).await, Completion::Ok(Value::Int(3)));
    let read_missing = Invocation::new("read", key(2), Value::Null);
    assert!(client.invoke(&read_missing).await.is_info());
    let write = Invocation::new("write", key(1), Value::from("a \"quoted\" value"));
    assert_eq!(
        client.invoke(&write).await,
        Completion::Info("HTTP 503".to_string())
    );
    let refused = Invocation::new("cas", key(1), cas(1, 2));
    assert_eq!(
        client.invoke(&refused).await,
        Completion::Fail("HTTP 412".to_string())
    );
    let applied = Invocation::new("cas", key(1), cas(2, 3));
    assert_eq!(client.invoke(&applied).await, Completion::Ok(Value::Null));

    let seen = seen.lock().unwrap();
    let requests: Vec<_> = seen.iter().map(|(m, p, _)| format!("{m} {p}")).collect();
    assert_eq!(
        requests,
        [
            "DELETE /r/0",
            "DELETE /r/1",
            "DELETE /r/2",
            "GET /r/1",
            "GET /r/2",
            "PUT /r/1",
            "POST /r/1/cas?from=1&to=2",
            "POST /r/1/cas?from=2&to=3",
        ]
    );
    let body: serde_json::Value = serde_json::from_str(&seen[5].2).unwrap();
    assert_eq!(body["v"], "a \"quoted\" value");
}

#[tokio::test]
async fn a_failing_setup_is_an_error() {
    let (url, _) = serve(|_, _| (500, "{}")).await;
    let spec = HttpSpec::from_toml(&register_file(&url), "register.toml").unwrap();
    let error = HttpTarget::new(spec).unwrap().setup().await.unwrap_err();
    assert!(error.contains("answered HTTP 500"), "{error}");
}

#[tokio::test]
async fn a_refused_connection_certainly_sent_nothing() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let spec = HttpSpec::from_toml(&register_file(&url), "register.toml").unwrap();
    let target = HttpTarget::new(spec).unwrap();
    let mut client = target.connect(0).await.unwrap();
    let read = Invocation::new("read", None, Value::Null);
    match client.invoke(&read).await {
        Completion::Fail(error) => assert!(error.starts_with("cannot connect"), "{error}"),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn workload_files_are_read_from_disk_with_their_name_in_errors() {
    let dir = std::env::temp_dir().join(format!("pf-http-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    std::fs::write(
        &path,
        "base_url = \"http://x\"\nworkload = \"counter\"\nkeys = -1\n",
    )
    .unwrap();
    let error = HttpSpec::from_path(&path).unwrap_err().to_string();
    assert!(
        error.starts_with(&format!("{}:3:8: ", path.display())),
        "{error}"
    );
    let missing = HttpSpec::from_path(&dir.join("missing.toml"))
        .unwrap_err()
        .to_string();
    assert!(missing.starts_with("cannot read "), "{missing}");
    std::fs::remove_dir_all(&dir).unwrap();
}
