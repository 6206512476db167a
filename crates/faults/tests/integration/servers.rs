//! Spawned servers: start, kill and restart on the same data and port, pause and resume, for
//! Redis, PostgreSQL and etcd; each test asserts it left no process or directory behind.

use crate::common;

use std::time::{Duration, Instant};

use common::{etcdctl, psql, Resp, Traces};
use photofinish_faults::{Server, ServerKind, ServerOptions};

fn options(settings: &[&str]) -> ServerOptions {
    ServerOptions {
        settings: settings.iter().map(|s| s.to_string()).collect(),
        ..ServerOptions::default()
    }
}

#[test]
fn redis_without_persistence_forgets_everything_when_killed() {
    let mut server = Server::start(ServerKind::Redis, &options(&[])).unwrap();
    let mut traces = Traces::of(&server);
    let addr = server.addr();
    assert_eq!(Resp::connect(addr).call("SET k v"), "+OK");
    server.kill().unwrap();
    traces.assert_processes_gone();
    assert!(!server.is_running());
    server.restart().unwrap();
    assert_eq!(server.addr(), addr, "same port");
    assert_eq!(Resp::connect(addr).call("GET k"), "(nil)");
    traces.add(Traces::of(&server));
    drop(server);
    traces.assert_gone();
}

#[test]
fn redis_with_an_fsynced_log_keeps_acknowledged_writes_across_a_kill() {
    let mut server = Server::start(
        ServerKind::Redis,
        &options(&["appendonly yes", "appendfsync always"]),
    )
    .unwrap();
    let mut traces = Traces::of(&server);
    let mut client = Resp::connect(server.addr());
    for i in 0..50 {
        let answer = client.call(&format!("INCR counter{}", i % 2));
        assert!(answer.starts_with(':'), "{answer}");
    }
    server.kill().unwrap();
    server.restart().unwrap();
    let mut client = Resp::connect(server.addr());
    assert_eq!(client.call("GET counter0"), "25");
    assert_eq!(client.call("GET counter1"), "25");
    traces.add(Traces::of(&server));
    drop(server);
    traces.assert_gone();
}

#[test]
fn a_paused_redis_answers_nothing_until_resumed() {
    let mut server = Server::start(ServerKind::Redis, &options(&[])).unwrap();
    let traces = Traces::of(&server);
    let mut client = Resp::connect(server.addr());
    client
        .stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    server.pause().unwrap();
    assert!(server.is_paused());
    client.send("PING");
    assert!(client.answer().is_err(), "no answer while paused");
    server.resume().unwrap();
    client
        .stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(
        client.answer().unwrap(),
        "+PONG",
        "the same connection answers after"
    );
    drop(server);
    traces.assert_gone();
}

#[test]
fn a_bad_setting_fails_with_the_servers_own_words() {
    let error = Server::start(ServerKind::Redis, &options(&["no-such-directive 1"])).unwrap_err();
    let message = error.to_string();
    assert!(message.starts_with("redis n1 (127.0.0.1:"), "{message}");
    assert!(message.contains("the server exited"), "{message}");
    assert!(
        message.contains("no-such-directive"),
        "the log tail: {message}"
    );
}

#[test]
fn postgres_keeps_committed_rows_across_a_kill_and_pauses_every_backend() {
    let mut server = Server::start(ServerKind::Postgres, &options(&[])).unwrap();
    let mut traces = Traces::of(&server);
    let addr = server.addr();
    psql(
        addr,
        "CREATE TABLE t (v int); INSERT INTO t VALUES (1), (2), (3)",
    );
    // Backends are processes of their own: a kill must take them all.
    assert!(server.processes().len() > 3, "{:?}", server.processes());
    traces.add(Traces::of(&server));
    server.kill().unwrap();
    traces.assert_processes_gone();
    server.restart().unwrap();
    assert_eq!(psql(addr, "SELECT sum(v) FROM t"), "6");

    server.pause().unwrap();
    let started = Instant::now();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(psql(addr, "SELECT 1")));
    assert!(
        finished.recv_timeout(Duration::from_millis(500)).is_err(),
        "no answer while paused"
    );
    server.resume().unwrap();
    assert_eq!(finished.recv_timeout(Duration::from_secs(10)).unwrap(), "1");
    assert!(started.elapsed() >= Duration::from_millis(500));
    traces.add(Traces::of(&server));
    drop(server);
    traces.assert_gone();
}

#[test]
fn postgres_settings_pass_through() {
    let server =
        Server::start(ServerKind::Postgres, &options(&["synchronous_commit=off"])).unwrap();
    let traces = Traces::of(&server);
    assert_eq!(psql(server.addr(), "SHOW synchronous_commit"), "off");
    drop(server);
    traces.assert_gone();
}

#[test]
fn etcd_keeps_its_data_across_a_kill_and_pauses() {
    let timeout = Duration::from_secs(5);
    let mut server = Server::start(ServerKind::Etcd, &options(&[])).unwrap();
    let mut traces = Traces::of(&server);
    let addr = server.addr();
    assert_eq!(etcdctl(addr, &["put", "k", "v1"], timeout).unwrap(), "OK");
    server.kill().unwrap();
    traces.assert_processes_gone();
    server.restart().unwrap();
    assert_eq!(
        etcdctl(addr, &["get", "k", "--print-value-only"], timeout).unwrap(),
        "v1"
    );
    server.pause().unwrap();
    assert!(etcdctl(addr, &["get", "k"], Duration::from_millis(500)).is_err());
    server.resume().unwrap();
    assert_eq!(
        etcdctl(addr, &["get", "k", "--print-value-only"], timeout).unwrap(),
        "v1"
    );
    traces.add(Traces::of(&server));
    drop(server);
    traces.assert_gone();
}

/// Set in the child process of the test below.
const CHILD: &str = "PHOTOFINISH_FAULTS_TEST_CHILD";

#[test]
fn servers_die_with_a_photofinish_that_is_killed() {
    if std::env::var_os(CHILD).is_some() {
        // The child: start a server, say where it is, and wait to be killed.
        let server = Server::start(ServerKind::Redis, &options(&[])).unwrap();
        println!("{} {}", server.pid().unwrap(), server.dir().display());
        std::thread::sleep(Duration::from_secs(60));
        return;
    }
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "servers::servers_die_with_a_photofinish_that_is_killed",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let (pid, dir) = loop {
        let mut line = String::new();
        assert!(
            std::io::BufRead::read_line(&mut stdout, &mut line).unwrap() > 0,
            "the child reports its server"
        );
        let mut words = line.split_whitespace();
        if let (Some(pid), Some(dir)) = (
            words.next().and_then(|w| w.parse::<u32>().ok()),
            words.next(),
        ) {
            break (pid, std::path::PathBuf::from(dir));
        }
    };
    assert!(common::alive(pid));
    child.kill().unwrap();
    child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while common::alive(pid) {
        assert!(
            Instant::now() < deadline,
            "redis-server {pid} outlived its photofinish"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // A killed process removes nothing: the directory is all that is left, and it goes here.
    std::fs::remove_dir_all(dir).unwrap();
}
