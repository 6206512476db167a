//! `[[proxy]]` tables: links between the service under test and what it depends on (its
//! database, its cache), which photofinish runs as fault proxies for the run's duration. The
//! service is configured to reach its store at `listen`; the proxy forwards to `upstream`; the
//! nemesis partitions and slows the links during `run http --nemesis partition,latency`.

use std::net::{SocketAddr, ToSocketAddrs};

use photofinish_faults::{Links, ProxyConfig};
use serde::Deserialize;

/// One link, as the file declares it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxySpec {
    /// The link's name, as the nemesis events and the summary show it.
    pub name: String,
    /// Where the proxy listens, host:port: where the service must connect.
    pub listen: String,
    /// Where it forwards every connection, host:port.
    pub upstream: String,
    /// Allow `listen` on an address other machines can reach (anyone who reaches it gets
    /// through to the upstream). Loopback only unless this says so.
    #[serde(default)]
    pub allow_remote: bool,
}

impl ProxySpec {
    /// Checks the link; an error names the field at fault.
    pub(super) fn check(&self) -> Result<(), (Option<&'static str>, String)> {
        if self.name.trim().is_empty() {
            return Err((Some("name"), "a proxy needs a name".into()));
        }
        let listen = resolve(&self.listen).map_err(|e| (Some("listen"), e))?;
        if !listen.ip().is_loopback() && !self.allow_remote {
            return Err((
                Some("listen"),
                format!(
                    "listen = \"{}\" is reachable from other machines; listen on 127.0.0.1, or \
                     add allow_remote = true to mean it",
                    self.listen
                ),
            ));
        }
        resolve(&self.upstream).map_err(|e| (Some("upstream"), e))?;
        Ok(())
    }

    /// The proxy's configuration.
    pub fn config(&self) -> Result<ProxyConfig, String> {
        Ok(ProxyConfig {
            listen: resolve(&self.listen)?,
            ..ProxyConfig::new(resolve(&self.upstream)?)
        })
    }
}

fn resolve(addr: &str) -> Result<SocketAddr, String> {
    addr.to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| format!("{addr:?} is not a host:port that resolves"))
}

/// Starts every link of `specs`, in order; the proxies stop when the [`Links`] is dropped.
pub(super) fn start(specs: &[ProxySpec]) -> Result<Links, String> {
    let mut links = Links::default();
    for spec in specs {
        links.start(&spec.name, spec.config()?).map_err(|e| {
            format!(
                "[[proxy]] {}: cannot listen on {}: {e}",
                spec.name, spec.listen
            )
        })?;
    }
    Ok(links)
}
