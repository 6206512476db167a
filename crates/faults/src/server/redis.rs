//! How a Redis server is run: no persistence unless the settings ask for it, its data in the
//! temporary directory, listening on loopback only.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::Path;

use super::{find_program, Launch};
use crate::probe::Probe;
use crate::Error;

/// The command line of a Redis server on `addr` with its data in `dir`, a replica of
/// `replica_of` when given. `settings` are redis.conf lines such as `appendonly yes`.
pub(crate) fn launch(
    addr: SocketAddr,
    dir: &Path,
    replica_of: Option<SocketAddr>,
    settings: &[String],
) -> Result<Launch, Error> {
    let program = find_program("redis-server", "redis-server")?;
    let mut args: Vec<OsString> = Vec::new();
    let mut push = |parts: &[&str]| args.extend(parts.iter().map(OsString::from));
    push(&[
        "--port",
        &addr.port().to_string(),
        "--bind",
        &addr.ip().to_string(),
    ]);
    push(&[
        "--daemonize",
        "no",
        "--logfile",
        "",
        "--save",
        "",
        "--appendonly",
        "no",
    ]);
    // Redis 7 waits 5 s for more replicas before a full sync by default; one is enough here.
    push(&["--repl-diskless-sync-delay", "0"]);
    if let Some(primary) = replica_of {
        push(&[
            "--replicaof",
            &primary.ip().to_string(),
            &primary.port().to_string(),
        ]);
    }
    args.push("--dir".into());
    args.push(dir.into());
    for setting in settings {
        args.extend(setting_args(setting)?);
    }
    Ok(Launch {
        program,
        args,
        user: None,
        probe: Probe::RedisPing(addr),
        stop_signal: None,
    })
}

/// `appendonly yes` as `--appendonly yes`; `save ""` as `--save` and an empty argument.
fn setting_args(setting: &str) -> Result<Vec<OsString>, Error> {
    let mut words = setting.split_whitespace();
    let Some(name) = words.next() else {
        return Err(Error::new(
            "redis",
            "reading the server settings",
            "an empty setting (expected a redis.conf line such as 'appendonly yes')",
        ));
    };
    let mut args = vec![OsString::from(format!(
        "--{}",
        name.trim_start_matches('-')
    ))];
    for word in words {
        let empty = word == "\"\"" || word == "''";
        args.push(if empty { OsString::new() } else { word.into() });
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_become_flags() {
        assert_eq!(
            setting_args("appendonly yes").unwrap(),
            ["--appendonly", "yes"]
        );
        assert_eq!(
            setting_args("--appendfsync always").unwrap(),
            ["--appendfsync", "always"]
        );
        assert_eq!(
            setting_args("save 60 1000").unwrap(),
            ["--save", "60", "1000"]
        );
        assert_eq!(setting_args("save \"\"").unwrap(), ["--save", ""]);
        assert!(setting_args("  ").is_err());
    }
}
