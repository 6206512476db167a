//! The runtime the proxies live on: one background thread of this crate's own, so a proxy
//! works the same whether it is started from plain threads or from inside another tokio
//! runtime, and is never starved by the load it carries (a busy client runtime would otherwise
//! add its own queueing to every round trip the proxy measures).

use std::sync::OnceLock;

use tokio::runtime::{Builder, Handle};

/// The name of the thread that runs every proxy.
pub(crate) const THREAD_NAME: &str = "photofinish-proxy";

/// The handle of the proxies' runtime, started on first use. It lives as long as the process:
/// a stopped proxy leaves no task on it, only the idle thread.
pub(crate) fn handle() -> &'static Handle {
    static HANDLE: OnceLock<Handle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let runtime = Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("the proxy runtime starts (it needs only an epoll instance and a timer)");
        let handle = runtime.handle().clone();
        std::thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn(move || runtime.block_on(std::future::pending::<()>()))
            .expect("the proxy thread starts");
        handle
    })
}

/// Whether the caller is the proxies' own thread, where blocking would stall every proxy.
pub(crate) fn on_proxy_thread() -> bool {
    std::thread::current().name() == Some(THREAD_NAME)
}

/// Blocks until the process receives Ctrl-C (SIGINT). Once this has been called, SIGINT no
/// longer ends the process by itself: the caller decides what to do, and drops what it started.
///
/// ```no_run
/// let proxy = photofinish_faults::Proxy::start(photofinish_faults::ProxyConfig::new(
///     "127.0.0.1:6379".parse().unwrap(),
/// ))
/// .unwrap();
/// println!("proxying on {}", proxy.listen_addr());
/// photofinish_faults::wait_for_ctrl_c().unwrap();
/// drop(proxy);
/// ```
pub fn wait_for_ctrl_c() -> std::io::Result<()> {
    let (done, wait) = std::sync::mpsc::channel();
    handle().spawn(async move {
        let _ = done.send(tokio::signal::ctrl_c().await);
    });
    wait.recv()
        .unwrap_or_else(|_| Err(std::io::Error::other("the proxy runtime stopped")))
}
