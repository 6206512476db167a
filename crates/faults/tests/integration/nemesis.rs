//! The nemesis against real servers: faults come on schedule, each start and end is reported,
//! a stop ends the fault in progress, and a server that does not come back is an error.

use crate::common;

use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{etcdctl, Resp, Traces};
use photofinish_faults::{
    Cluster, ClusterSpec, Error, FaultKind, Links, Nemesis, NemesisConfig, NemesisEvent,
    NemesisSink, ProxyConfig, Server, ServerKind, ServerOptions,
};
use photofinish_history::Value;

fn quick(faults: &[FaultKind], max: usize) -> NemesisConfig {
    NemesisConfig {
        interval: Duration::from_millis(200),
        duration: Duration::from_millis(300),
        max_faults: Some(max),
        seed: 11,
        ..NemesisConfig::new(faults.to_vec())
    }
}

/// A sink that forwards events and failures to the test.
struct Forward(mpsc::Sender<Result<NemesisEvent, Error>>);

impl NemesisSink for Forward {
    fn event(&mut self, event: NemesisEvent) {
        let _ = self.0.send(Ok(event));
    }

    fn failed(&mut self, error: &Error) {
        let _ = self.0.send(Err(error.clone()));
    }
}

fn nodes(names: &[&str]) -> Value {
    Value::List(names.iter().map(|n| Value::Str(n.to_string())).collect())
}

fn traces(cluster: &Cluster) -> Traces {
    Traces {
        processes: cluster.processes(),
        dirs: cluster.dirs(),
    }
}

#[test]
fn kills_restart_the_server_and_every_window_is_reported() {
    let cluster = Arc::new(Cluster::start(&ClusterSpec::single(ServerKind::Redis)).unwrap());
    let mut traces = traces(&cluster);
    let first_pid = cluster.node(0).server().pid();
    let (events, received) = mpsc::channel();
    let nemesis = Nemesis::start(
        Arc::clone(&cluster),
        quick(&[FaultKind::Kill], 2),
        move |event: NemesisEvent| events.send(event).unwrap(),
    )
    .unwrap();
    let started = Instant::now();
    while !nemesis.is_finished() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "two faults end"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let report = nemesis.stop().unwrap();
    let got: Vec<NemesisEvent> = received.try_iter().collect();
    let fs: Vec<&str> = got.iter().map(|e| e.f.as_str()).collect();
    assert_eq!(fs, ["kill", "restart", "kill", "restart"]);
    assert!(got.iter().all(|e| e.value == nodes(&["n1"])));
    assert_eq!(report.windows.len(), 2);
    assert!(report
        .windows
        .iter()
        .all(|w| w.end - w.start >= Duration::from_millis(300)));
    assert!(report.windows[0].end <= report.windows[1].start);

    assert_ne!(cluster.node(0).server().pid(), first_pid, "a new process");
    let mut client = Resp::connect(cluster.node(0).client_addr());
    assert_eq!(client.call("PING"), "+PONG", "back, behind the same proxy");
    traces.add(self::traces(&cluster));
    drop(client);
    drop(
        Arc::try_unwrap(cluster)
            .ok()
            .expect("the nemesis let go of the cluster"),
    );
    traces.assert_gone();
}

#[test]
fn a_stop_ends_the_fault_in_progress() {
    let cluster = Arc::new(Cluster::start(&ClusterSpec::single(ServerKind::Redis)).unwrap());
    let traces = traces(&cluster);
    let (events, received) = mpsc::channel();
    let config = NemesisConfig {
        duration: Duration::from_secs(60),
        ..quick(&[FaultKind::Pause], 1)
    };
    let nemesis = Nemesis::start(Arc::clone(&cluster), config, move |event: NemesisEvent| {
        events.send(event).unwrap()
    })
    .unwrap();
    let paused = received.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(paused.f, "pause");
    std::thread::sleep(Duration::from_millis(100));
    assert!(cluster.node(0).server().is_paused());
    let stopping = Instant::now();
    let report = nemesis.stop().unwrap();
    assert!(
        stopping.elapsed() < Duration::from_secs(5),
        "no waiting out the 60 s"
    );
    assert_eq!(received.try_recv().unwrap().f, "resume");
    assert_eq!(report.windows.len(), 1);
    assert!(!cluster.node(0).server().is_paused());
    assert_eq!(
        Resp::connect(cluster.node(0).client_addr()).call("PING"),
        "+PONG"
    );
    drop(Arc::try_unwrap(cluster).ok().unwrap());
    traces.assert_gone();
}

#[test]
fn a_server_that_does_not_come_back_stops_the_nemesis_with_its_log() {
    let cluster = Arc::new(Cluster::start(&ClusterSpec::single(ServerKind::Redis)).unwrap());
    let traces = traces(&cluster);
    let port = cluster.node(0).server_addr();
    let (reports, received) = mpsc::channel();
    let config = NemesisConfig {
        duration: Duration::from_secs(1),
        ..quick(&[FaultKind::Kill], 1)
    };
    let nemesis = Nemesis::start(Arc::clone(&cluster), config, Forward(reports)).unwrap();
    assert_eq!(
        received
            .recv_timeout(Duration::from_secs(5))
            .unwrap()
            .unwrap()
            .f,
        "kill"
    );
    // Take the server's port while it is down: it cannot listen again.
    let squatter = {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Ok(listener) = std::net::TcpListener::bind(port) {
                break listener;
            }
            assert!(
                Instant::now() < deadline,
                "the killed server frees its port"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    let failure = received
        .recv_timeout(Duration::from_secs(30))
        .unwrap()
        .unwrap_err();
    let error = nemesis.stop().unwrap_err();
    assert_eq!(error, failure, "the sink and stop() tell the same story");
    let message = error.to_string();
    assert!(message.starts_with("redis n1 (127.0.0.1:"), "{message}");
    assert!(message.contains("restarting"), "{message}");
    assert!(message.contains("the server exited"), "{message}");
    assert!(
        message.contains("Address already in use"),
        "the log says why: {message}"
    );
    drop(squatter);
    drop(Arc::try_unwrap(cluster).ok().unwrap());
    traces.assert_gone();
}

#[test]
fn etcd_members_survive_partitions_and_kills_and_end_whole() {
    let cluster = Arc::new(Cluster::start(&ClusterSpec::etcd_members(3)).unwrap());
    let mut traces = traces(&cluster);
    let (events, received) = mpsc::channel();
    let config = NemesisConfig {
        duration: Duration::from_millis(1500),
        ..quick(
            &[FaultKind::Partition, FaultKind::Kill, FaultKind::Latency],
            3,
        )
    };
    let nemesis = Nemesis::start(Arc::clone(&cluster), config, move |event: NemesisEvent| {
        events.send(event).unwrap()
    })
    .unwrap();
    let addr = cluster.node(0).client_addr();
    let mut writes = 0;
    while !nemesis.is_finished() {
        if etcdctl(
            addr,
            &["put", "k", &writes.to_string()],
            Duration::from_secs(2),
        )
        .is_ok()
        {
            writes += 1;
        }
    }
    let report = nemesis.stop().unwrap();
    assert_eq!(report.windows.len(), 3);
    assert!(writes > 0);
    let got: Vec<NemesisEvent> = received.try_iter().collect();
    assert_eq!(got.len(), 6);
    for pair in got.chunks(2) {
        let ends = match pair[0].f.as_str() {
            "start-partition" => "stop-partition",
            "kill" => "restart",
            "start-latency" => "stop-latency",
            other => panic!("unexpected event {other}"),
        };
        assert_eq!(pair[1].f, ends);
        assert_eq!(pair[0].value, pair[1].value);
    }
    if let Some(partition) = got.iter().find(|e| e.f == "start-partition") {
        let Value::Map(map) = &partition.value else {
            panic!("{:?}", partition.value)
        };
        assert_eq!(map.len(), 2, "isolated and from: {map:?}");
    }
    // Whole again: every member answers a linearizable read, all the same value: the last
    // acknowledged write, or the attempt after it if that one timed out yet took effect.
    let reads: Vec<String> = cluster
        .nodes()
        .iter()
        .map(|node| {
            etcdctl(
                node.client_addr(),
                &["get", "k", "--consistency=l", "--print-value-only"],
                Duration::from_secs(10),
            )
            .unwrap_or_else(|e| panic!("{}: {e}", node.name()))
        })
        .collect();
    assert!(reads.iter().all(|r| *r == reads[0]), "{reads:?}");
    let last: usize = reads[0].parse().unwrap();
    assert!(
        last + 1 == writes || last == writes,
        "{last} after {writes} writes"
    );
    traces.add(self::traces(&cluster));
    drop(Arc::try_unwrap(cluster).ok().unwrap());
    traces.assert_gone();
}

#[test]
fn links_to_a_server_photofinish_did_not_start_are_partitioned_and_slowed() {
    // A Redis standing in for a service's own cache, reached through a named link.
    let redis = Server::start(ServerKind::Redis, &ServerOptions::default()).unwrap();
    let mut links = Links::default();
    links
        .start("cache", ProxyConfig::new(redis.addr()))
        .unwrap();
    let addr = links.listen_addr("cache").unwrap();
    let links = Arc::new(links);

    let refused = Nemesis::start(
        Arc::clone(&links),
        quick(&[FaultKind::Kill], 1),
        |_: NemesisEvent| {},
    );
    let error = refused.err().expect("links have no server to kill");
    assert!(
        error
            .to_string()
            .contains("kill needs servers photofinish started"),
        "{error}"
    );

    let (events, received) = mpsc::channel();
    let config = NemesisConfig {
        latency: Duration::from_millis(40),
        jitter: Duration::ZERO,
        duration: Duration::from_millis(1000),
        ..quick(&[FaultKind::Partition, FaultKind::Latency], 2)
    };
    let nemesis = Nemesis::start(Arc::clone(&links), config, move |event: NemesisEvent| {
        events.send(event).unwrap()
    })
    .unwrap();
    let mut client = Resp::connect(addr);
    for _ in 0..2 {
        let start = received.recv_timeout(Duration::from_secs(5)).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let Value::Map(value) = &start.value else {
            panic!("{:?}", start.value)
        };
        let node_key = if start.f == "start-partition" {
            "isolated"
        } else {
            "nodes"
        };
        assert_eq!(value[&Value::Str(node_key.into())], nodes(&["cache"]));
        client
            .stream
            .set_read_timeout(Some(Duration::from_millis(400)))
            .unwrap();
        let sent = Instant::now();
        client.send("PING");
        match start.f.as_str() {
            "start-partition" => {
                assert_eq!(value[&Value::Str("from".into())], nodes(&["clients"]));
                assert!(client.answer().is_err(), "cut off");
                client
                    .stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .unwrap();
                assert_eq!(client.answer().unwrap(), "+PONG", "after the heal");
            }
            "start-latency" => {
                assert_eq!(client.answer().unwrap(), "+PONG");
                assert!(sent.elapsed() >= Duration::from_millis(40));
            }
            other => panic!("unexpected {other}"),
        }
        let end = received.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(end.f.starts_with("stop-"), "{}", end.f);
    }
    nemesis.stop().unwrap();
    let traces = Traces::of(&redis);
    drop(redis);
    traces.assert_gone();
}
