//! `photofinish run http` end to end with the workload file's `[[proxy]]` links: the service
//! reaches a real Redis through the declared proxy, `--nemesis partition` cuts it off during
//! its windows, and the history shows them; `--nemesis` without a `[[proxy]]` is refused.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use photofinish::faults::{Server, ServerKind, ServerOptions};

fn photofinish() -> Command {
    Command::new(env!("CARGO_BIN_EXE_photofinish"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pf-http-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The test service of the run crate: a counter whose store is Redis at the address given.
struct Service(Child, String);

impl Service {
    fn start(store: &str) -> Service {
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../run/tests/fixtures/counter_over_redis.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(store)
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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn workload_file(url: &str, proxy: Option<(&str, &str)>) -> String {
    let mut text = format!(
        r#"base_url = "{url}"
workload = "counter"
keys = 2

[ops.add]
method = "POST"
path = "/counters/{{run}}-{{key}}/add"
body = '{{"amount": {{value}}}}'

[ops.read]
path = "/counters/{{run}}-{{key}}"
value = "/value"
"#
    );
    if let Some((listen, upstream)) = proxy {
        text.push_str(&format!(
            "\n[[proxy]]\nname = \"store\"\nlisten = \"{listen}\"\nupstream = \"{upstream}\"\n"
        ));
    }
    text
}

#[test]
fn the_nemesis_partitions_a_declared_proxy_link() {
    let dir = scratch("partition");
    let redis = Server::start(ServerKind::Redis, &ServerOptions::default()).unwrap();
    let link = format!("127.0.0.1:{}", free_port());
    let service = Service::start(&link);
    let file = dir.join("proxied.toml");
    let upstream = redis.addr().to_string();
    std::fs::write(&file, workload_file(&service.1, Some((&link, &upstream)))).unwrap();
    let history = dir.join("history.jsonl");
    let out = photofinish()
        .args(["run", "http"])
        .arg(&file)
        .args(["--nemesis", "partition", "--nemesis-interval", "400ms"])
        .args([
            "--nemesis-duration",
            "800ms",
            "--duration",
            "4s",
            "--rate",
            "200",
        ])
        .args([
            "--clients",
            "4",
            "--op-timeout",
            "2s",
            "--seed",
            "3",
            "--quiet",
        ])
        .arg("--output")
        .arg(&history)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("proxy store on {link}")),
        "{stderr}"
    );
    assert!(stdout.contains("partition"), "{stdout}");
    let text = std::fs::read_to_string(&history).unwrap();
    assert!(text.contains(r#""f":"start-partition""#), "{text}");
    assert!(text.contains(r#""f":"stop-partition""#), "{text}");
    assert!(
        text.contains(r#""type":"info""#),
        "no request was cut off:\n{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_nemesis_without_proxies_is_refused() {
    let dir = scratch("no-proxy");
    let file = dir.join("plain.toml");
    std::fs::write(&file, workload_file("http://127.0.0.1:9", None)).unwrap();
    let out = photofinish()
        .args(["run", "http"])
        .arg(&file)
        .args(["--nemesis", "partition", "--quiet"])
        .arg("--output")
        .arg(dir.join("h.jsonl"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("declares none"), "{stderr}");
    // Links can be partitioned and slowed; there is no server of photofinish's to kill.
    let link = format!("127.0.0.1:{}", free_port());
    std::fs::write(
        &file,
        workload_file("http://127.0.0.1:9", Some((&link, "127.0.0.1:9"))),
    )
    .unwrap();
    let out = photofinish()
        .args(["run", "http"])
        .arg(&file)
        .args(["--nemesis", "kill", "--quiet"])
        .arg("--output")
        .arg(dir.join("h2.jsonl"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("kill"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
