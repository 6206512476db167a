//! `photofinish proxy`: the fault proxy on its own, between your service and its database or
//! cache, until Ctrl-C.

use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use photofinish::faults::{wait_for_ctrl_c, Proxy, ProxyConfig};

use crate::{options, usage_error};

#[derive(clap::Args)]
pub struct ProxyArgs {
    /// Where to listen, host:port (port 0: any free port). Loopback only, unless
    /// --allow-remote.
    #[arg(long, value_name = "ADDR")]
    listen: String,
    /// Where to forward every connection, host:port.
    #[arg(long, value_name = "ADDR")]
    upstream: String,
    /// Added to every round trip, such as 20ms (at most a day).
    #[arg(long, value_parser = options::delay, default_value = "0s")]
    latency: Duration,
    /// Each round trip's added delay varies by up to this much either way, such as 5ms (at
    /// most a day).
    #[arg(long, value_parser = options::delay, default_value = "0s")]
    jitter: Duration,
    /// At most this many bytes per second in each direction of each connection.
    #[arg(long, value_name = "BYTES")]
    bandwidth: Option<u64>,
    /// Allow --listen on an address other machines can reach: anyone who reaches it gets
    /// through to the upstream.
    #[arg(long)]
    allow_remote: bool,
}

fn resolve(flag: &str, addr: &str) -> Result<SocketAddr, ExitCode> {
    addr.to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| usage_error(format!("{flag} {addr:?} is not a host:port that resolves")))
}

pub fn run(args: ProxyArgs) -> ExitCode {
    let listen = match resolve("--listen", &args.listen) {
        Ok(addr) => addr,
        Err(code) => return code,
    };
    if !listen.ip().is_loopback() && !args.allow_remote {
        return usage_error(format!(
            "--listen {listen} is reachable from other machines; listen on 127.0.0.1, or add \
             --allow-remote to mean it"
        ));
    }
    let upstream = match resolve("--upstream", &args.upstream) {
        Ok(addr) => addr,
        Err(code) => return code,
    };
    let proxy = match Proxy::start(ProxyConfig {
        listen,
        ..ProxyConfig::new(upstream)
    }) {
        Ok(proxy) => proxy,
        Err(e) => return usage_error(format!("cannot listen on {listen}: {e}")),
    };
    proxy.set_latency(args.latency, args.jitter);
    proxy.set_bandwidth(args.bandwidth);
    let mut faults = Vec::new();
    if !args.latency.is_zero() || !args.jitter.is_zero() {
        faults.push(format!(
            "latency {} ± {}",
            humantime::format_duration(args.latency),
            humantime::format_duration(args.jitter)
        ));
    }
    if let Some(bandwidth) = args.bandwidth {
        faults.push(format!("bandwidth {bandwidth} bytes/s"));
    }
    let faults = if faults.is_empty() {
        "no faults".to_string()
    } else {
        faults.join(", ")
    };
    println!(
        "photofinish proxy: {} -> {upstream} ({faults}); Ctrl-C stops",
        proxy.listen_addr()
    );
    if let Err(e) = wait_for_ctrl_c() {
        eprintln!("photofinish: cannot wait for Ctrl-C: {e}");
        return ExitCode::from(2);
    }
    let accepted = proxy.accepted();
    println!(
        "photofinish proxy: stopped after {accepted} connection{}",
        if accepted == 1 { "" } else { "s" }
    );
    ExitCode::SUCCESS
}
