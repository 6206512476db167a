//! How an etcd member is run: its data in the temporary directory, client and peer URLs on
//! loopback, and, in a cluster, advertised URLs that point at the proxies in front of it.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use super::{find_program, free_addr, temp_dir, Launch, Server, ServerKind, ServerOptions};
use crate::probe::Probe;
use crate::Error;

/// Where one member listens and what it tells the others.
pub(crate) struct MemberAddrs {
    pub client: SocketAddr,
    pub advertised_client: SocketAddr,
    pub peer: SocketAddr,
    pub advertised_peer: SocketAddr,
}

/// `http://127.0.0.1:2380`, the form etcd writes its URLs in (and sends as `X-PeerURLs`).
pub(crate) fn url(addr: SocketAddr) -> String {
    format!("http://{addr}")
}

/// A token no other cluster on this machine has, so that members never join a stranger.
pub(crate) fn cluster_token() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "photofinish-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The command line of member `name`; `initial_cluster` is `n1=http://..,n2=http://..`.
pub(crate) fn launch(
    name: &str,
    addrs: &MemberAddrs,
    initial_cluster: &str,
    token: &str,
    dir: &Path,
    settings: &[String],
) -> Result<Launch, Error> {
    let program = find_program("etcd", "etcd-server")?;
    let mut data = OsString::from("--data-dir=");
    data.push(dir.join("data"));
    let mut args: Vec<OsString> = vec![format!("--name={name}").into(), data];
    args.extend(
        [
            format!("--listen-client-urls={}", url(addrs.client)),
            format!("--advertise-client-urls={}", url(addrs.advertised_client)),
            format!("--listen-peer-urls={}", url(addrs.peer)),
            format!(
                "--initial-advertise-peer-urls={}",
                url(addrs.advertised_peer)
            ),
            format!("--initial-cluster={initial_cluster}"),
            format!("--initial-cluster-token={token}"),
            "--initial-cluster-state=new".to_string(),
            "--logger=zap".to_string(),
            "--log-outputs=stderr".to_string(),
        ]
        .map(OsString::from),
    );
    for setting in settings {
        args.push(setting_arg(setting)?.into());
    }
    Ok(Launch {
        program,
        args,
        user: None,
        probe: Probe::EtcdHealth(addrs.client),
        stop_signal: None,
    })
}

/// A single-member cluster, clients and peer straight to it.
pub(crate) fn start_single(name: &str, options: &ServerOptions) -> Result<Server, Error> {
    let client = free_addr()?;
    let peer = free_addr()?;
    let addrs = MemberAddrs {
        client,
        advertised_client: client,
        peer,
        advertised_peer: peer,
    };
    let dir = temp_dir(ServerKind::Etcd, name, options)?;
    let initial = format!("{name}={}", url(peer));
    let launch = launch(
        name,
        &addrs,
        &initial,
        &cluster_token(),
        dir.path(),
        &options.settings,
    )?;
    Server::spawn(name, ServerKind::Etcd, client, launch, dir, options)
}

/// `snapshot-count=1000` (or `snapshot-count 1000`, or `--snapshot-count=1000`) as
/// `--snapshot-count=1000`.
fn setting_arg(setting: &str) -> Result<String, Error> {
    let setting = setting.trim().trim_start_matches('-');
    let (name, value) = setting
        .split_once('=')
        .or_else(|| setting.split_once(char::is_whitespace))
        .unwrap_or((setting, ""));
    if name.trim().is_empty() {
        return Err(Error::new(
            "etcd",
            "reading the server settings",
            "an empty setting (expected an etcd flag such as 'snapshot-count=1000')",
        ));
    }
    Ok(if value.trim().is_empty() && !setting.contains('=') {
        format!("--{}", name.trim())
    } else {
        format!("--{}={}", name.trim(), value.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_become_flags() {
        assert_eq!(
            setting_arg("snapshot-count=1000").unwrap(),
            "--snapshot-count=1000"
        );
        assert_eq!(
            setting_arg("--snapshot-count 1000").unwrap(),
            "--snapshot-count=1000"
        );
        assert_eq!(setting_arg("enable-pprof").unwrap(), "--enable-pprof");
        assert!(setting_arg(" -- ").is_err());
    }
}
