//! What the fault tests share: small real clients (RESP over a socket, psql, etcdctl) and the
//! check that a test left no process or directory behind.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A Redis connection speaking inline commands.
pub struct Resp {
    pub stream: TcpStream,
}

impl Resp {
    pub fn connect(addr: SocketAddr) -> Resp {
        let stream = TcpStream::connect(addr).expect("connect to redis");
        stream.set_nodelay(true).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Resp { stream }
    }

    /// Sends `command` and returns the answer's first line (a bulk string's content).
    pub fn call(&mut self, command: &str) -> String {
        self.send(command);
        self.answer().expect("redis answers")
    }

    pub fn send(&mut self, command: &str) {
        self.stream
            .write_all(format!("{command}\r\n").as_bytes())
            .expect("send to redis");
    }

    /// Reads one answer.
    pub fn answer(&mut self) -> std::io::Result<String> {
        let line = self.line()?;
        match line.strip_prefix('$').and_then(|n| n.parse::<i64>().ok()) {
            Some(-1) => Ok("(nil)".into()),
            Some(len) => {
                let mut body = vec![0; len as usize + 2];
                self.stream.read_exact(&mut body)?;
                body.truncate(len as usize);
                Ok(String::from_utf8_lossy(&body).into_owned())
            }
            None => Ok(line),
        }
    }

    fn line(&mut self) -> std::io::Result<String> {
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while !line.ends_with(b"\r\n") {
            if self.stream.read(&mut byte)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            line.push(byte[0]);
        }
        line.truncate(line.len() - 2);
        Ok(String::from_utf8_lossy(&line).into_owned())
    }
}

/// What must be gone after a server is dropped: its processes and its directory.
pub struct Traces {
    pub processes: Vec<u32>,
    pub dirs: Vec<PathBuf>,
}

impl Traces {
    pub fn of(server: &photofinish_faults::Server) -> Traces {
        let processes = server.processes();
        assert!(!processes.is_empty(), "{} runs", server.describe());
        Traces {
            processes,
            dirs: vec![server.dir().to_path_buf()],
        }
    }

    pub fn add(&mut self, more: Traces) {
        self.processes.extend(more.processes);
        self.dirs.extend(more.dirs);
    }

    /// Asserts every process is gone (a zombie holds nothing) and every directory removed.
    pub fn assert_gone(&self) {
        for &pid in &self.processes {
            assert!(!alive(pid), "process {pid} still runs");
        }
        for dir in &self.dirs {
            assert!(!dir.exists(), "{} still exists", dir.display());
        }
    }
}

pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat[stat.rfind(')').unwrap() + 1..].trim_start().as_bytes()[0];
        state != b'Z' && state != b'X'
    })
}

/// Runs `psql` against the server at `addr` and returns its unaligned output.
pub fn psql(addr: SocketAddr, sql: &str) -> String {
    let bin = newest_postgres_bin();
    let out = Command::new(bin.join("psql"))
        .args(["-h", &addr.ip().to_string(), "-p", &addr.port().to_string()])
        .args([
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-X",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn newest_postgres_bin() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL under /usr/lib/postgresql")
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .collect();
    versions.sort();
    versions.pop().expect("a PostgreSQL version").1
}

/// Runs `etcdctl` against `endpoint` with a command timeout of `timeout`; `Err` holds its
/// error output.
pub fn etcdctl(endpoint: SocketAddr, args: &[&str], timeout: Duration) -> Result<String, String> {
    let out = Command::new("etcdctl")
        .env("ETCDCTL_API", "3")
        .arg(format!("--endpoints=http://{endpoint}"))
        .arg(format!("--command-timeout={}ms", timeout.as_millis()))
        .arg(format!("--dial-timeout={}ms", timeout.as_millis()))
        .args(args)
        .output()
        .expect("etcdctl runs");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

pub fn exists(path: &Path) -> bool {
    path.exists()
}

impl Traces {
    /// Asserts the processes recorded so far are gone (after a kill, say).
    pub fn assert_processes_gone(&self) {
        for &pid in &self.processes {
            assert!(!alive(pid), "process {pid} still runs");
        }
    }
}

/// Whether this process has a socket listening on loopback TCP `port`: an entry in LISTEN
/// state in /proc/net/tcp whose inode is one of this process's file descriptors.
pub fn listening_here(port: u16) -> bool {
    let tcp = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    let listening: Vec<String> = tcp
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local_port = u16::from_str_radix(fields[1].rsplit(':').next()?, 16).ok()?;
            (local_port == port && fields[3] == "0A").then(|| format!("socket:[{}]", fields[9]))
        })
        .collect();
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .any(|target| listening.iter().any(|l| target.to_str() == Some(l)))
}

/// Processes (not zombies) whose command line mentions `needle`.
pub fn processes_mentioning(needle: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(needle))
        })
        .filter(|&pid| alive(pid))
        .collect()
}
