//! Clusters on loopback: a 3-member etcd cluster and a Redis primary with a replica come up
//! behind proxies, and a partition cuts exactly the links between its two sides.

use crate::common;

use std::time::{Duration, Instant};

use common::{etcdctl, Resp, Traces};
use photofinish_faults::{Cluster, ClusterSpec, Role};

/// Retries `attempt` until it returns `Some` or `within` passes.
fn eventually<T>(within: Duration, mut attempt: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = attempt() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn traces(cluster: &Cluster) -> Traces {
    Traces {
        processes: cluster.processes(),
        dirs: cluster.dirs(),
    }
}

#[test]
fn a_partitioned_etcd_member_serves_stale_serializable_reads_and_no_linearizable_ones() {
    let cluster = Cluster::start(&ClusterSpec::etcd_members(3)).unwrap();
    assert_eq!(cluster.len(), 3);
    assert!(cluster.nodes().iter().all(|n| n.role() == Role::Member));
    let mut traces = traces(&cluster);
    let n1 = cluster.node(0).client_addr();
    let n3 = cluster.node(2).client_addr();
    let quick = Duration::from_secs(3);
    assert_eq!(etcdctl(n1, &["put", "k", "v1"], quick).unwrap(), "OK");
    let value = |addr, consistency: &str, timeout| {
        etcdctl(
            addr,
            &[
                "get",
                "k",
                "--print-value-only",
                &format!("--consistency={consistency}"),
            ],
            timeout,
        )
    };
    assert_eq!(
        eventually(quick, || value(n3, "s", quick).ok().filter(|v| v == "v1")).as_deref(),
        Some("v1"),
        "n3 has the first write"
    );

    cluster.partition(&[2]).unwrap();
    // The majority elects a leader of its own if n3 led, and accepts the write.
    let written = eventually(Duration::from_secs(20), || {
        etcdctl(n1, &["put", "k", "v2"], quick).ok()
    });
    assert_eq!(written.as_deref(), Some("OK"));
    assert_eq!(value(n1, "l", quick).unwrap(), "v2");
    assert_eq!(
        value(n3, "s", quick).unwrap(),
        "v1",
        "a serializable read on the isolated member is stale"
    );
    let linearizable = value(n3, "l", Duration::from_secs(2));
    assert!(
        linearizable.is_err(),
        "no quorum, no linearizable read: {linearizable:?}"
    );

    cluster.heal();
    assert_eq!(
        eventually(Duration::from_secs(20), || value(n3, "l", quick)
            .ok()
            .filter(|v| v == "v2"))
        .as_deref(),
        Some("v2"),
        "n3 catches up once the partition heals"
    );

    // A member killed and restarted rejoins on its own data.
    let n2 = cluster.node(1).server().processes();
    cluster.kill(1).unwrap();
    assert!(n2.iter().all(|&pid| !common::alive(pid)));
    cluster.restart(1).unwrap();
    assert_eq!(
        value(cluster.node(1).client_addr(), "l", quick).unwrap(),
        "v2"
    );
    traces.add(self::traces(&cluster));
    drop(cluster);
    traces.assert_gone();
}

#[test]
fn a_partitioned_redis_replica_keeps_its_connection_and_falls_behind() {
    let cluster = Cluster::start(&ClusterSpec::redis_replicas(1)).unwrap();
    assert_eq!(cluster.node(0).role(), Role::Primary);
    assert_eq!(cluster.node(1).role(), Role::Replica);
    let traces = traces(&cluster);
    let mut primary = Resp::connect(cluster.node(0).client_addr());
    let mut replica = Resp::connect(cluster.node(1).client_addr());
    assert_eq!(primary.call("SET k v1"), "+OK");
    let replicated = |replica: &mut Resp, value: &str| {
        eventually(Duration::from_secs(5), || {
            (replica.call("GET k") == value).then_some(())
        })
        .is_some()
    };
    assert!(replicated(&mut replica, "v1"));

    cluster.partition(&[1]).unwrap();
    assert_eq!(primary.call("SET k v2"), "+OK");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        replica.call("GET k"),
        "v1",
        "the replica serves a stale value"
    );
    let info = replica.call("INFO replication");
    assert!(
        info.contains("master_link_status:up"),
        "a partition closes no connection: {info}"
    );

    cluster.heal();
    assert!(
        replicated(&mut replica, "v2"),
        "the held bytes arrive after the heal"
    );
    drop((primary, replica));
    drop(cluster);
    traces.assert_gone();
}

#[test]
fn a_single_server_partition_cuts_its_clients_off() {
    let cluster =
        Cluster::start(&ClusterSpec::single(photofinish_faults::ServerKind::Redis)).unwrap();
    assert_eq!(cluster.node(0).role(), Role::Single);
    assert!(cluster
        .url(cluster.node(0))
        .starts_with("redis://127.0.0.1:"));
    let traces = traces(&cluster);
    let mut client = Resp::connect(cluster.node(0).client_addr());
    assert_eq!(client.call("PING"), "+PONG");
    cluster.partition(&[0]).unwrap();
    client
        .stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    client.send("INCR k");
    assert!(client.answer().is_err(), "no answer across the partition");
    let mut direct = Resp::connect(cluster.node(0).server_addr());
    assert_eq!(
        direct.call("GET k"),
        "(nil)",
        "the request was held, not delivered"
    );
    cluster.heal();
    client
        .stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(
        client.answer().unwrap(),
        ":1",
        "delivered after the heal, on the same connection"
    );
    drop((client, direct));
    drop(cluster);
    traces.assert_gone();
}

#[test]
fn a_cluster_that_fails_to_start_or_is_interrupted_leaves_nothing_behind() {
    let root = tempfile::tempdir().unwrap();
    let root_path = root.path().to_str().unwrap().to_string();
    let mut spec = ClusterSpec::etcd_members(3);
    spec.options.temp_root = Some(root.path().to_path_buf());
    // Members take longer than this to elect a leader: every wait fails.
    spec.options.ready_timeout = Duration::from_millis(1);
    let error = Cluster::start(&spec).err().expect("not ready in 1 ms");
    assert!(!error.interrupted);
    assert!(error.step.contains("waiting for GET /health"), "{error}");
    assert!(common::processes_mentioning(&root_path).is_empty());
    assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);

    spec.options.ready_timeout = Duration::from_secs(30);
    spec.options.stop.cancel();
    let error = Cluster::start(&spec).err().expect("interrupted");
    assert!(error.interrupted, "{error}");
    assert!(common::processes_mentioning(&root_path).is_empty());
    assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);
}
