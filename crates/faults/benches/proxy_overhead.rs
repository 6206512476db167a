//! What the fault proxy costs with no fault active: the same Redis INCR load straight to a
//! throwaway redis-server and through a proxy in front of it, side by side in one run,
//! alternating, repeated; prints a markdown table of medians over the repetitions.
//!
//! cargo bench -p photofinish-faults --bench proxy_overhead [-- --ops=20000 --repeat=7 --clients=1,8]
//!
//! Each client is a thread with one blocking connection and one request in flight, timing
//! every round trip. The proxy runs on its own thread, as it does under `photofinish run`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use photofinish_faults::{Proxy, ProxyConfig, Server, ServerKind, ServerOptions};

struct Args {
    ops: usize,
    repeat: usize,
    clients: Vec<usize>,
}

fn args() -> Args {
    let mut args = Args {
        ops: 20_000,
        repeat: 7,
        clients: vec![1, 8],
    };
    // `cargo bench` adds flags of its own (--bench); only ours are read.
    for arg in std::env::args().skip(1) {
        if let Some(n) = arg.strip_prefix("--ops=") {
            args.ops = n.parse().expect("--ops=N");
        } else if let Some(n) = arg.strip_prefix("--repeat=") {
            args.repeat = n.parse().expect("--repeat=N");
        } else if let Some(list) = arg.strip_prefix("--clients=") {
            args.clients = list
                .split(',')
                .map(|n| n.parse().expect("--clients=1,8"))
                .collect();
        }
    }
    args
}

/// One measurement: every round trip's time, and the wall time of the whole load.
struct Load {
    round_trips: Vec<Duration>,
    elapsed: Duration,
}

/// `ops` INCRs in total, split over `clients` connections to `addr`.
fn load(addr: SocketAddr, clients: usize, ops: usize) -> Load {
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            std::thread::spawn(move || {
                let mut stream = TcpStream::connect(addr).expect("connect");
                stream.set_nodelay(true).unwrap();
                let mut times = Vec::with_capacity(ops / clients);
                let mut buf = [0u8; 64];
                for _ in 0..ops / clients {
                    let sent = Instant::now();
                    stream.write_all(b"INCR photofinish-bench\r\n").unwrap();
                    let mut got = 0;
                    while !buf[..got].ends_with(b"\r\n") {
                        let n = stream.read(&mut buf[got..]).unwrap();
                        assert!(n > 0, "redis closed the connection");
                        got += n;
                    }
                    times.push(sent.elapsed());
                }
                times
            })
        })
        .collect();
    let mut round_trips = Vec::with_capacity(ops);
    for worker in workers {
        round_trips.extend(worker.join().expect("a client thread"));
    }
    Load {
        round_trips,
        elapsed: started.elapsed(),
    }
}

/// p50 and p99 in µs, and operations per second.
fn figures(mut load: Load) -> (f64, f64, f64) {
    load.round_trips.sort();
    let at = |q: f64| {
        let i = ((load.round_trips.len() as f64 * q) as usize).min(load.round_trips.len() - 1);
        load.round_trips[i].as_secs_f64() * 1e6
    };
    let rate = load.round_trips.len() as f64 / load.elapsed.as_secs_f64();
    (at(0.50), at(0.99), rate)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let args = args();
    let server =
        Server::start(ServerKind::Redis, &ServerOptions::default()).expect("redis-server starts");
    let proxy = Proxy::start(ProxyConfig::new(server.addr())).expect("the proxy starts");
    let direct = server.addr();
    let proxied = proxy.listen_addr();
    // Warm both paths (connection set-up, caches) before measuring.
    load(direct, 1, 2_000);
    load(proxied, 1, 2_000);

    println!(
        "Redis INCR, {} operations per run, median of {} runs, direct and proxied alternating",
        args.ops, args.repeat
    );
    println!();
    println!("| clients | path | p50 µs | p99 µs | ops/s | proxy adds at p50 µs |");
    println!("| ---: | --- | ---: | ---: | ---: | ---: |");
    for &clients in &args.clients {
        let mut runs: [Vec<(f64, f64, f64)>; 2] = [Vec::new(), Vec::new()];
        let mut added = Vec::new();
        for rep in 0..args.repeat {
            // Alternate which path goes first, so that drift in the machine's load is shared.
            let order = if rep % 2 == 0 { [0, 1] } else { [1, 0] };
            let mut p50 = [0.0; 2];
            for path in order {
                let addr = if path == 0 { direct } else { proxied };
                let measured = figures(load(addr, clients, args.ops));
                p50[path] = measured.0;
                runs[path].push(measured);
            }
            added.push(p50[1] - p50[0]);
        }
        for (path, name) in [(0, "direct"), (1, "through the proxy")] {
            let column =
                |f: fn(&(f64, f64, f64)) -> f64| median(runs[path].iter().map(f).collect());
            let extra = if path == 1 {
                format!("{:.1}", median(added.clone()))
            } else {
                "-".to_string()
            };
            println!(
                "| {clients} | {name} | {:.1} | {:.1} | {:.0} | {extra} |",
                column(|r| r.0),
                column(|r| r.1),
                column(|r| r.2),
            );
        }
    }
    drop(proxy);
    drop(server);
}
