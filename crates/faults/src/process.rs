//! Child processes the way a fault injector needs them: started so that they die with this
//! process even when it is killed, signalled as a whole tree (PostgreSQL's backends make
//! themselves session leaders, so a process group would miss them), and waited for until every
//! process of the tree is gone.

use std::collections::{HashMap, HashSet};
use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Starts `command` in a process group of its own (a Ctrl-C typed at the terminal reaches
/// photofinish only, which then stops its servers in order) with SIGKILL as its parent-death
/// signal, so that a server never outlives a photofinish that was killed.
///
/// Linux sends the parent-death signal when the *thread* that forked the child exits, so every
/// child is forked by one thread that lives as long as the process.
pub(crate) fn spawn(mut command: Command) -> io::Result<Child> {
    let parent = std::process::id() as libc::pid_t;
    command.process_group(0);
    // SAFETY: the closure runs in the forked child before exec and calls only async-signal-safe
    // functions (prctl, getppid).
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died between fork and prctl: then nobody would send it.
            if libc::getppid() != parent {
                return Err(io::Error::other(
                    "photofinish exited while starting a server",
                ));
            }
            Ok(())
        });
    }
    let (reply, answer) = mpsc::channel();
    spawner()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .send((command, reply))
        .map_err(|_| io::Error::other("the process spawner thread is gone"))?;
    answer
        .recv()
        .unwrap_or_else(|_| Err(io::Error::other("the process spawner thread is gone")))
}

type SpawnRequest = (Command, mpsc::Sender<io::Result<Child>>);

fn spawner() -> &'static Mutex<mpsc::Sender<SpawnRequest>> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (requests, incoming) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("photofinish-spawner".into())
            .spawn(move || {
                for (mut command, reply) in incoming {
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("the process spawner thread starts");
        Mutex::new(requests)
    })
}

/// What `/proc/PID/stat` says about a process.
struct Stat {
    state: u8,
    ppid: u32,
}

fn stat(pid: u32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the
    // last closing parenthesis.
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace();
    let state = fields.next()?.bytes().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some(Stat { state, ppid })
}

/// Whether `pid` is a process that still runs (or is stopped): not gone, and not a zombie,
/// which holds no memory, socket or lock any more.
pub(crate) fn alive(pid: u32) -> bool {
    stat(pid).is_some_and(|s| s.state != b'Z' && s.state != b'X')
}

/// `root` and every process descended from it, root first.
pub(crate) fn tree(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            if let Some(s) = stat(pid) {
                children.entry(s.ppid).or_default().push(pid);
            }
        }
    }
    let mut seen = HashSet::from([root]);
    let mut order = vec![root];
    let mut next = 0;
    while next < order.len() {
        for &child in children.get(&order[next]).map_or(&[][..], Vec::as_slice) {
            if seen.insert(child) {
                order.push(child);
            }
        }
        next += 1;
    }
    order.retain(|&pid| alive(pid));
    order
}

pub(crate) fn signal(pid: u32, signal: libc::c_int) {
    // SAFETY: kill has no memory-safety preconditions. A process that is already gone is not
    // an error here: the caller wants it stopped, and it is.
    unsafe {
        libc::kill(pid as libc::pid_t, signal);
    }
}

/// Sends `sig` to the whole tree under `root`. The root is stopped first so that it cannot fork
/// a process the snapshot would miss, and continued last when `sig` is not fatal.
pub(crate) fn signal_tree(root: u32, sig: libc::c_int) -> Vec<u32> {
    signal(root, libc::SIGSTOP);
    let members = tree(root);
    for &pid in members.iter().skip(1) {
        signal(pid, sig);
    }
    signal(root, sig);
    if sig != libc::SIGSTOP && sig != libc::SIGKILL {
        signal(root, libc::SIGCONT);
    }
    members
}

/// Waits until none of `pids` is alive; false if some still are after `timeout`.
pub(crate) fn wait_gone(pids: &[u32], timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if !pids.iter().any(|&pid| alive(pid)) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The last lines of a log file (at most `lines` lines from its last 8 KiB), for error messages.
pub(crate) fn tail(path: &std::path::Path, lines: usize) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map_or(0, |m| m.len());
    let start = len.saturating_sub(8192);
    let mut bytes = Vec::new();
    if file.seek(SeekFrom::Start(start)).is_err() || file.read_to_end(&mut bytes).is_err() {
        return String::new();
    }
    let text = String::from_utf8_lossy(&bytes);
    let all: Vec<&str> = text.lines().collect();
    let keep = &all[all.len().saturating_sub(lines)..];
    // A log may hold anything; keep control characters off the caller's terminal.
    keep.iter()
        .map(|line| {
            line.chars()
                .map(|c| if c.is_control() && c != '\t' { '?' } else { c })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_is_killed_whole_and_waited_for() {
        let mut command = Command::new("sh");
        command.args(["-c", "sleep 30 & sleep 30 & wait"]);
        let mut child = spawn(command).unwrap();
        let root = child.id();
        let deadline = Instant::now() + Duration::from_secs(5);
        while tree(root).len() < 3 {
            assert!(Instant::now() < deadline, "the shell starts its two sleeps");
            std::thread::sleep(Duration::from_millis(5));
        }
        let members = signal_tree(root, libc::SIGKILL);
        assert_eq!(members.len(), 3);
        child.wait().unwrap();
        assert!(wait_gone(&members, Duration::from_secs(5)));
    }

    #[test]
    fn tails_keep_the_last_lines_without_control_characters() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        std::fs::write(&log, "one\ntwo\x1b[31m\nthree\n").unwrap();
        assert_eq!(tail(&log, 2), "two?[31m\nthree");
        assert_eq!(tail(&dir.path().join("missing"), 2), "");
    }
}
