//! Is the server ready yet? One small question per kind, asked over loopback with short
//! timeouts, so that waiting for readiness stays bounded.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The longest one question may take; less when the wait it is part of ends sooner.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(2);

/// How to tell that a server accepts work.
#[derive(Clone, Debug)]
pub(crate) enum Probe {
    /// `PING` answers `+PONG` (not `-LOADING`, which a server replaying its log answers).
    RedisPing(SocketAddr),
    /// `pg_isready` says the server accepts connections (recovery is over).
    PgIsReady { program: PathBuf, addr: SocketAddr },
    /// `GET /health` says `"health":"true"`: the member is up and has a leader.
    EtcdHealth(SocketAddr),
}

impl Probe {
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Probe::RedisPing(_) => "waiting for PING to answer PONG",
            Probe::PgIsReady { .. } => "waiting for pg_isready to report accepting connections",
            Probe::EtcdHealth(_) => "waiting for GET /health to report healthy",
        }
    }

    /// `Ok` when ready; otherwise why not, for the error message if it never becomes ready.
    /// Takes at most `timeout` (at least a second for PostgreSQL, whose tool counts in
    /// seconds).
    pub(crate) fn check(&self, timeout: Duration) -> Result<(), String> {
        match self {
            Probe::RedisPing(addr) => {
                let answer = redis_command(*addr, "PING", timeout).map_err(|e| e.to_string())?;
                if answer.starts_with("+PONG") {
                    Ok(())
                } else {
                    Err(format!("PING answered {answer:?}"))
                }
            }
            Probe::PgIsReady { program, addr } => {
                let out = Command::new(program)
                    .args(["-h", &addr.ip().to_string(), "-p", &addr.port().to_string()])
                    .args(["-U", "postgres", "-t"])
                    // 0 would mean no limit at all.
                    .arg(timeout.as_secs().clamp(1, 2).to_string())
                    .stdin(Stdio::null())
                    .output()
                    .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
                if out.status.success() {
                    Ok(())
                } else {
                    Err(String::from_utf8_lossy(&out.stdout).trim().to_string())
                }
            }
            Probe::EtcdHealth(addr) => {
                let body = http_get(*addr, "/health", timeout).map_err(|e| e.to_string())?;
                if body.contains("\"health\":\"true\"") {
                    Ok(())
                } else {
                    Err(format!("GET /health answered {:?}", body.trim()))
                }
            }
        }
    }
}

fn connect(addr: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    // A zero timeout is an error to the socket calls; a millisecond is as good as none.
    let timeout = timeout.max(Duration::from_millis(1));
    let stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    Ok(stream)
}

/// Sends one inline Redis command and returns the first line of the answer, or a bulk
/// string's content.
pub(crate) fn redis_command(
    addr: SocketAddr,
    command: &str,
    timeout: Duration,
) -> io::Result<String> {
    let mut stream = connect(addr, timeout)?;
    stream.write_all(command.as_bytes())?;
    stream.write_all(b"\r\n")?;
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            ));
        }
        answer.extend_from_slice(&buf[..n]);
        if let Some(line_end) = answer.windows(2).position(|w| w == b"\r\n") {
            let first = String::from_utf8_lossy(&answer[..line_end]).into_owned();
            let Some(len) = first
                .strip_prefix('$')
                .and_then(|l| l.parse::<usize>().ok())
            else {
                return Ok(first);
            };
            let body = line_end + 2;
            if answer.len() >= body + len {
                return Ok(String::from_utf8_lossy(&answer[body..body + len]).into_owned());
            }
        }
    }
}

/// The body of `GET path`, whatever the status.
pub(crate) fn http_get(addr: SocketAddr, path: &str, timeout: Duration) -> io::Result<String> {
    let mut stream = connect(addr, timeout)?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let text = String::from_utf8_lossy(&response);
    Ok(text
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, body)| body.to_string()))
}
