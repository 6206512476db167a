//! The fault proxy in front of a real Redis: latency, jitter, one-way and two-way blackholes,
//! resets and bandwidth do what they claim, measured in round trips; per-source holds in front
//! of a real etcd.

use crate::common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::Resp;
use photofinish_faults::{Direction, Proxy, ProxyConfig, Server, ServerKind, ServerOptions};

fn redis() -> Server {
    Server::start(ServerKind::Redis, &ServerOptions::default()).unwrap()
}

/// Stops `server` and asserts it left nothing behind.
fn finish(server: Server) {
    let traces = common::Traces::of(&server);
    drop(server);
    traces.assert_gone();
}

/// Round trips of PING on one connection, each timed.
fn pings(client: &mut Resp, count: usize) -> Vec<Duration> {
    (0..count)
        .map(|_| {
            let started = Instant::now();
            assert_eq!(client.call("PING"), "+PONG");
            started.elapsed()
        })
        .collect()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[test]
fn latency_and_jitter_are_added_to_each_round_trip() {
    let server = redis();
    let proxy = Proxy::start(ProxyConfig::new(server.addr())).unwrap();
    let mut client = Resp::connect(proxy.listen_addr());
    let plain = median(pings(&mut client, 50));
    assert!(plain < Duration::from_millis(5), "{plain:?} with no fault");

    proxy.set_latency(Duration::from_millis(50), Duration::ZERO);
    for rtt in pings(&mut client, 10) {
        assert!(rtt >= Duration::from_millis(50), "{rtt:?}");
        assert!(rtt < Duration::from_millis(80), "{rtt:?}");
    }

    proxy.set_latency(Duration::from_millis(40), Duration::from_millis(20));
    let jittered = pings(&mut client, 40);
    let (low, high) = (
        *jittered.iter().min().unwrap(),
        *jittered.iter().max().unwrap(),
    );
    assert!(low >= Duration::from_millis(20), "{low:?}");
    assert!(high < Duration::from_millis(90), "{high:?}");
    assert!(
        high - low >= Duration::from_millis(10),
        "spread {low:?}..{high:?}"
    );

    proxy.clear();
    assert!(median(pings(&mut client, 20)) < Duration::from_millis(5));
    finish(server);
}

#[test]
fn a_one_way_blackhole_holds_requests_or_answers_and_closes_nothing() {
    let server = redis();
    let proxy = Proxy::start(ProxyConfig::new(server.addr())).unwrap();
    let mut direct = Resp::connect(server.addr());
    let mut client = Resp::connect(proxy.listen_addr());
    assert_eq!(client.call("PING"), "+PONG");
    let silent = |client: &mut Resp| {
        client
            .stream
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let answer = client.answer();
        client
            .stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        answer.is_err()
    };

    // Requests held: the server never sees the INCR until the heal.
    proxy.blackhole(Direction::ToUpstream);
    client.send("INCR up");
    assert!(silent(&mut client));
    assert_eq!(direct.call("GET up"), "(nil)", "not delivered");
    assert_eq!(proxy.connections(), 1, "nothing closed");
    proxy.heal();
    assert_eq!(client.answer().unwrap(), ":1");

    // Answers held: the INCR happens, its answer waits.
    proxy.blackhole(Direction::ToClient);
    client.send("INCR down");
    assert!(silent(&mut client));
    assert_eq!(direct.call("GET down"), "1", "delivered");
    proxy.heal();
    assert_eq!(client.answer().unwrap(), ":1");

    // Both: a partition.
    proxy.blackhole(Direction::Both);
    client.send("INCR both");
    assert!(silent(&mut client));
    assert_eq!(direct.call("GET both"), "(nil)");
    // A new connection is accepted, and held too.
    let mut late = Resp::connect(proxy.listen_addr());
    late.send("INCR both");
    assert!(silent(&mut late));
    proxy.heal();
    let mut answers = [client.answer().unwrap(), late.answer().unwrap()];
    answers.sort();
    assert_eq!(answers, [":1", ":2"], "both delivered, in either order");
    assert_eq!(proxy.accepted(), 2);
    finish(server);
}

#[test]
fn a_reset_sends_rst_to_both_sides() {
    let server = redis();
    let proxy = Proxy::start(ProxyConfig::new(server.addr())).unwrap();
    let mut direct = Resp::connect(server.addr());
    let clients = |direct: &mut Resp| direct.call("CLIENT LIST").lines().count();
    let mut client = Resp::connect(proxy.listen_addr());
    assert_eq!(client.call("PING"), "+PONG");
    assert_eq!(clients(&mut direct), 2);

    assert_eq!(proxy.reset_connections(), 1);
    let mut buf = [0u8; 16];
    let read = client.stream.read(&mut buf);
    assert_eq!(
        read.map_err(|e| e.kind()),
        Err(ErrorKind::ConnectionReset),
        "the client sees a reset, not an orderly close"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while clients(&mut direct) != 1 {
        assert!(Instant::now() < deadline, "the server lost its end too");
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut again = Resp::connect(proxy.listen_addr());
    assert_eq!(
        again.call("PING"),
        "+PONG",
        "new connections are not affected"
    );
    finish(server);
}

#[test]
fn bandwidth_is_limited_per_direction() {
    let server = redis();
    let proxy = Proxy::start(ProxyConfig::new(server.addr())).unwrap();
    let value = "x".repeat(64 * 1024);
    assert_eq!(
        Resp::connect(server.addr()).call(&format!("SET big {value}")),
        "+OK"
    );
    let mut client = Resp::connect(proxy.listen_addr());
    let timed_get = |client: &mut Resp| {
        let started = Instant::now();
        assert_eq!(client.call("GET big").len(), value.len());
        started.elapsed()
    };
    assert!(timed_get(&mut client) < Duration::from_millis(100));
    proxy.set_bandwidth(Some(128 * 1024));
    let throttled = timed_get(&mut client);
    assert!(
        throttled >= Duration::from_millis(400) && throttled < Duration::from_millis(1000),
        "64 KiB at 128 KiB/s took {throttled:?}"
    );
    proxy.set_bandwidth(None);
    assert!(timed_get(&mut client) < Duration::from_millis(100));
    finish(server);
}

#[test]
fn an_upstream_that_refuses_gets_the_client_reset() {
    let nobody = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = nobody.local_addr().unwrap();
    drop(nobody);
    let proxy = Proxy::start(ProxyConfig::new(addr)).unwrap();
    let mut client = TcpStream::connect(proxy.listen_addr()).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 1];
    assert_eq!(
        client.read(&mut buf).map_err(|e| e.kind()),
        Err(ErrorKind::ConnectionReset)
    );
}

#[test]
fn dropping_a_proxy_closes_its_port_and_connections() {
    let server = redis();
    let proxy = Proxy::start(ProxyConfig::new(server.addr())).unwrap();
    let addr = proxy.listen_addr();
    let mut client = Resp::connect(addr);
    assert_eq!(client.call("PING"), "+PONG");
    assert!(common::listening_here(addr.port()));
    drop(proxy);
    let mut buf = [0u8; 1];
    assert_eq!(client.stream.read(&mut buf).unwrap(), 0, "closed");
    // Other programs on the machine may take the freed port at once: what must hold is that
    // this process no longer listens on it.
    assert!(
        !common::listening_here(addr.port()),
        "nothing listens any more"
    );
    finish(server);
}

/// `GET /version` with an `X-PeerURLs` header naming `source`; `None` if no answer in 300 ms.
fn version_from(proxy: SocketAddr, source: Option<&str>) -> Option<String> {
    let mut stream = TcpStream::connect(proxy).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let header = source.map_or(String::new(), |s| format!("X-PeerURLs: {s}\r\n"));
    write!(
        stream,
        "GET /version HTTP/1.1\r\nHost: etcd\r\n{header}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

#[test]
fn held_sources_cut_some_clients_and_not_others() {
    let server = Server::start(ServerKind::Etcd, &ServerOptions::default()).unwrap();
    let proxy = Proxy::start(ProxyConfig {
        source_header: Some("X-PeerURLs".into()),
        ..ProxyConfig::new(server.addr())
    })
    .unwrap();
    let addr = proxy.listen_addr();
    let a = "http://127.0.0.1:1";
    let b = "http://127.0.0.1:2";
    assert!(version_from(addr, Some(a)).unwrap().contains("etcdserver"));
    proxy.hold_sources([a]);
    assert_eq!(version_from(addr, Some(a)), None, "a is cut off");
    assert!(
        version_from(addr, Some(b)).unwrap().contains("etcdserver"),
        "b is not"
    );
    assert_eq!(version_from(addr, None), None, "who knows: held");
    proxy.heal();
    assert!(version_from(addr, None).unwrap().contains("etcdserver"));
    finish(server);
}
