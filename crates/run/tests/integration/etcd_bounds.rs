//! The etcd target reads answers up to its bound: a server that answers 100 MB, or streams
//! without end, costs an error naming the bound, never the memory.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use photofinish_history::Value;
use photofinish_run::targets::etcd::{EtcdRead, EtcdTarget};
use photofinish_run::{Client, Completion, Invocation, Target, WorkloadKind};

const SERVER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/repro/http-misbehaving-server.py"
);

/// The misbehaving server, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn misbehaving_server(mode: &str) -> (Server, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("python3")
        .args([SERVER, &port.to_string(), mode])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 runs");
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server listens");
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_beyond_the_bound_are_not_read() {
    for mode in ["huge", "infinite"] {
        let (_server, port) = misbehaving_server(mode);
        let endpoints = [format!("http://127.0.0.1:{port}")];
        let target = EtcdTarget::new(&endpoints, WorkloadKind::Register, EtcdRead::Linearizable)
            .unwrap()
            .with_max_body_bytes(64 << 10);
        let bound = "the response body is longer than 65536 bytes (not read further)";

        let setup = tokio::time::timeout(Duration::from_secs(20), target.setup())
            .await
            .expect("setup answers");
        let error = setup.expect_err("a setup whose answer is too long fails");
        assert!(error.contains(bound), "{mode}: {error}");

        let mut client = target.connect(0).await.unwrap();
        let write = Invocation::new("write", None, Value::Int(1));
        let written = tokio::time::timeout(Duration::from_secs(20), client.invoke(&write))
            .await
            .expect("the write answers");
        assert!(
            matches!(&written, Completion::Info(error) if error.contains(bound)),
            "{mode}: {written:?}"
        );
        let read = Invocation::new("read", None, Value::Null);
        let read = tokio::time::timeout(Duration::from_secs(20), client.invoke(&read))
            .await
            .expect("the read answers");
        assert!(
            matches!(&read, Completion::Fail(error) if error.contains(bound)),
            "{mode}: {read:?}"
        );
    }
}
