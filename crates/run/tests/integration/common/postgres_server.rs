//! A real PostgreSQL server in a scratch directory on a free loopback port, for as long as the
//! value lives. PostgreSQL refuses to run as root, so when the tests run as root the server
//! runs as a system user created for it.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::{free_port, Scratch};

const USER: &str = "photofinish-pg";

pub struct PostgresServer {
    bin: PathBuf,
    data: PathBuf,
    run_as: Option<&'static str>,
    pub port: u16,
    // Dropped last: the server must stop before its directory goes.
    _scratch: Scratch,
}

impl PostgresServer {
    pub fn start() -> PostgresServer {
        let bin = postgres_bin();
        let run_as = is_root().then(|| {
            ensure_user();
            USER
        });
        let scratch = Scratch::new("postgres");
        let data = scratch.path.join("data");
        if let Some(user) = run_as {
            ok(Command::new("chown").arg(user).arg(&scratch.path), "chown");
        }
        let port = free_port();
        let server = PostgresServer {
            bin,
            data,
            run_as,
            port,
            _scratch: scratch,
        };
        server.pg(
            "initdb",
            [
                OsStr::new("-D"),
                server.data.as_os_str(),
                OsStr::new("-U"),
                OsStr::new("postgres"),
                OsStr::new("--auth=trust"),
                OsStr::new("--no-sync"),
                OsStr::new("--no-instructions"),
            ],
        );
        let options = format!(
            "-p {port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        );
        let log = server.data.join("server.log");
        server.pg(
            "pg_ctl",
            [
                OsStr::new("-D"),
                server.data.as_os_str(),
                OsStr::new("-l"),
                log.as_os_str(),
                OsStr::new("-o"),
                OsStr::new(&options),
                OsStr::new("-w"),
                OsStr::new("start"),
            ],
        );
        server
    }

    pub fn url(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            self.port
        )
    }

    /// Runs one of PostgreSQL's programs, as the server's user when there is one.
    fn pg<'a>(&self, program: &str, args: impl IntoIterator<Item = &'a OsStr>) {
        let mut command = self.command(program);
        command.args(args);
        ok(&mut command, program);
    }

    /// One of PostgreSQL's programs, to be run as the server's user when there is one.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(&path);
                command
            }
            None => Command::new(&path),
        }
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["stop", "-m", "fast", "-w"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` with a `pg_ctl` in it.
fn postgres_bin() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .expect("PostgreSQL under /usr/lib/postgresql (scripts/test installs it)")
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("pg_ctl").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .expect("a PostgreSQL version with pg_ctl under /usr/lib/postgresql")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

fn ensure_user() {
    // Once per test binary: tests start servers in parallel, and useradd refuses to run while
    // another holds the password file's lock.
    static CREATED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    CREATED.get_or_init(create_user);
}

fn create_user() {
    let exists = Command::new("id")
        .arg(USER)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !exists {
        ok(
            Command::new("useradd").args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                USER,
            ]),
            "useradd",
        );
    }
}

fn ok(command: &mut Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
