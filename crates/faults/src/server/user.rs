//! The unprivileged user PostgreSQL runs as when photofinish runs as root (PostgreSQL refuses
//! to run as root).

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::Error;

/// The system user created (or reused) for PostgreSQL servers when running as root.
pub const POSTGRES_USER: &str = "photofinish-pg";

/// A user to run a server's programs as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct User {
    pub uid: u32,
    pub gid: u32,
}

impl User {
    /// Makes `command` run as this user (std also drops root's supplementary groups).
    pub(crate) fn apply(&self, command: &mut Command) {
        command.uid(self.uid).gid(self.gid);
    }
}

pub(crate) fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// When running as root, the PostgreSQL user, created on first use; otherwise `None` (the
/// servers run as the current user).
pub(crate) fn postgres_user() -> Result<Option<User>, Error> {
    if !is_root() {
        return Ok(None);
    }
    // Once per process: tests start servers in parallel, and useradd refuses to run while
    // another holds the password file's lock.
    static USER: OnceLock<Result<User, Error>> = OnceLock::new();
    USER.get_or_init(ensure_user).clone().map(Some)
}

fn ensure_user() -> Result<User, Error> {
    if let Some(user) = lookup(POSTGRES_USER) {
        return Ok(user);
    }
    let out = Command::new("useradd")
        .args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            POSTGRES_USER,
        ])
        .stdin(Stdio::null())
        .output();
    // Another photofinish may have created it meanwhile: look again before failing.
    if let Some(user) = lookup(POSTGRES_USER) {
        return Ok(user);
    }
    let detail = match out {
        Ok(out) => format!(
            "useradd failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => format!("cannot run useradd: {e}"),
    };
    Err(Error::new(
        "postgres",
        format!("creating the system user {POSTGRES_USER} (PostgreSQL refuses to run as root)"),
        detail,
    ))
}

/// The ids of user `name`, from the system's user database.
fn lookup(name: &str) -> Option<User> {
    let name = std::ffi::CString::new(name).ok()?;
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; getpwnam_r writes the entry and its strings
    // into `entry` and `buf` only, and sets `found` to null when there is no such user.
    let status = unsafe {
        libc::getpwnam_r(
            name.as_ptr(),
            &mut entry,
            buf.as_mut_ptr(),
            buf.len(),
            &mut found,
        )
    };
    (status == 0 && !found.is_null()).then_some(User {
        uid: entry.pw_uid,
        gid: entry.pw_gid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_in_the_user_database_and_nobody_made_up_is() {
        assert_eq!(lookup("root"), Some(User { uid: 0, gid: 0 }));
        assert_eq!(lookup("photofinish-no-such-user"), None);
    }
}
