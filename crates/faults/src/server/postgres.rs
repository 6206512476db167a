//! How a PostgreSQL server is run: a fresh cluster made by initdb in the temporary directory,
//! the postmaster started directly (not through pg_ctl, so that killing it is killing the
//! server), TCP on loopback only and no Unix socket, as an unprivileged user when photofinish
//! runs as root.
//!
//! `fsync=off` is a default: the faults here are process crashes, which the operating system's
//! page cache survives, not power cuts. `synchronous_commit=off` still loses acknowledged
//! commits in a crash, since they wait in PostgreSQL's own memory. Settings override it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::user::postgres_user;
use super::{free_addr, temp_dir, Launch, Server, ServerKind, ServerOptions};
use crate::probe::Probe;
use crate::Error;

/// Creates the cluster and starts the server.
pub(crate) fn start(name: &str, options: &ServerOptions) -> Result<Server, Error> {
    let bin = bin_dir()?;
    let user = postgres_user()?;
    let dir = temp_dir(ServerKind::Postgres, name, options)?;
    let what = format!("postgres {name}");
    if let Some(user) = &user {
        std::os::unix::fs::chown(dir.path(), Some(user.uid), Some(user.gid)).map_err(|e| {
            Error::new(
                &what,
                format!(
                    "handing {} to {}",
                    dir.path().display(),
                    super::POSTGRES_USER
                ),
                e,
            )
        })?;
    }
    let data = dir.path().join("data");
    let mut initdb = Command::new(bin.join("initdb"));
    initdb
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "--no-locale",
            "-E",
            "UTF8",
        ])
        .current_dir(dir.path())
        .stdin(Stdio::null());
    if let Some(user) = &user {
        user.apply(&mut initdb);
    }
    let out = initdb
        .output()
        .map_err(|e| Error::new(&what, "running initdb", e))?;
    if !out.status.success() {
        return Err(Error::new(
            &what,
            "running initdb",
            format!("it failed ({})", out.status),
        )
        .with_log(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let addr = free_addr()?;
    let mut args: Vec<OsString> = vec!["-D".into(), data.into_os_string()];
    args.extend(["-p".into(), addr.port().to_string().into()]);
    let defaults = [
        format!("listen_addresses={}", addr.ip()),
        "unix_socket_directories=".to_string(),
        "fsync=off".to_string(),
        "max_connections=200".to_string(),
        "logging_collector=off".to_string(),
    ];
    for setting in defaults.iter().chain(&options.settings) {
        args.push("-c".into());
        args.push(setting_arg(setting)?.into());
    }
    let launch = Launch {
        program: bin.join("postgres"),
        args,
        user,
        probe: Probe::PgIsReady {
            program: bin.join("pg_isready"),
            addr,
        },
        // A fast shutdown: PostgreSQL removes its shared memory segment on a clean stop.
        stop_signal: Some(libc::SIGINT),
    };
    Server::spawn(name, ServerKind::Postgres, addr, launch, dir, options)
}

/// `synchronous_commit = off` as `synchronous_commit=off`.
fn setting_arg(setting: &str) -> Result<String, Error> {
    match setting.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok(format!("{}={}", name.trim(), value.trim()))
        }
        _ => Err(Error::new(
            "postgres",
            "reading the server settings",
            format!("{setting:?} is not a setting (expected name=value, such as 'synchronous_commit=off')"),
        )),
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` that has a `postgres` in it.
fn bin_dir() -> Result<PathBuf, Error> {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("postgres").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| {
        Error::new(
            "photofinish",
            "looking for PostgreSQL",
            "no /usr/lib/postgresql/<version>/bin/postgres (install the Debian package postgresql)",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_name_value_pairs() {
        assert_eq!(
            setting_arg("synchronous_commit = off").unwrap(),
            "synchronous_commit=off"
        );
        assert_eq!(
            setting_arg("unix_socket_directories=").unwrap(),
            "unix_socket_directories="
        );
        assert!(setting_arg("synchronous_commit off").is_err());
        assert!(setting_arg("=off").is_err());
    }
}
