//! `photofinish proxy` end to end: it refuses to listen where other machines can reach it
//! unless told, adds the latency it is given to a real Redis's round trips, and stops cleanly
//! on Ctrl-C.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use photofinish::faults::{Server, ServerKind, ServerOptions};

fn photofinish() -> Command {
    Command::new(env!("CARGO_BIN_EXE_photofinish"))
}

#[test]
fn a_listen_address_other_machines_reach_needs_allow_remote() {
    let out = photofinish()
        .args([
            "proxy",
            "--listen",
            "0.0.0.0:0",
            "--upstream",
            "127.0.0.1:6379",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--allow-remote"), "{stderr}");
}

#[test]
fn an_upstream_that_does_not_resolve_is_a_usage_error() {
    let out = photofinish()
        .args([
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            "no-port-here",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--upstream \"no-port-here\""));
}

#[test]
fn adds_latency_to_a_real_redis_until_ctrl_c() {
    let redis = Server::start(ServerKind::Redis, &ServerOptions::default()).unwrap();
    let mut child = photofinish()
        .args(["proxy", "--listen", "127.0.0.1:0", "--upstream"])
        .arg(redis.addr().to_string())
        .args(["--latency", "30ms"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    stdout.read_line(&mut banner).unwrap();
    // "photofinish proxy: 127.0.0.1:PORT -> 127.0.0.1:PORT (latency 30ms ± 0s); Ctrl-C stops"
    let listen = banner
        .strip_prefix("photofinish proxy: ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("banner: {banner}"));
    assert!(banner.contains("latency 30ms"), "{banner}");

    let mut client = TcpStream::connect(listen).unwrap();
    client.set_nodelay(true).unwrap();
    for _ in 0..3 {
        let started = Instant::now();
        client.write_all(b"PING\r\n").unwrap();
        let mut answer = [0u8; 7];
        client.read_exact(&mut answer).unwrap();
        assert_eq!(&answer, b"+PONG\r\n");
        let rtt = started.elapsed();
        assert!(rtt >= Duration::from_millis(30), "{rtt:?}");
        assert!(rtt < Duration::from_millis(200), "{rtt:?}");
    }

    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "photofinish proxy stops on Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("stopped after 1 connection"), "{rest}");

    let (pid, dir) = (redis.pid().unwrap(), redis.dir().to_path_buf());
    drop(redis);
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists() || zombie(pid));
    assert!(!dir.exists(), "{} is removed", dir.display());
}

/// Whether `pid` is a zombie: gone but for its exit status, holding nothing.
fn zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat[stat.rfind(')').unwrap() + 1..]
            .trim_start()
            .starts_with('Z')
    })
}
