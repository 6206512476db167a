//! The regression guard for hostile input: thousands of mutants of the corpus and of the shared
//! reproducers (truncations, byte flips, deep nesting, huge strings, duplicated, dropped and
//! swapped lines, odd line endings, extreme numbers) must each end in a verdict or a clear error
//! (exit 0, 1, 2 or 3) without a panic, within a time bound.
//!
//! Most mutants go through the library in-process, on both cores, where a panic is caught and
//! named; a sample goes through the `photofinish check` binary, which must exit by itself with
//! one of those codes and never print "panicked". Mutants are made from a fixed seed, so a
//! failure names a mutant that the next run makes again.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use photofinish::checker::{check_model, CheckOptions};
use photofinish::history::{read_with, Format, ReadOptions, Value};

/// How much of each source file the mutants start from: enough events for every kind of
/// mutation, few enough that each check takes milliseconds.
const BASE_BYTES: usize = 12 << 10;
/// Mutants made from each source file.
const MUTANTS_PER_FILE: usize = 40;
/// The check's budget for one mutant in-process, and the most one may take with reading.
const CHECK_BUDGET: Duration = Duration::from_millis(500);
const MUTANT_LIMIT: Duration = Duration::from_secs(10);
/// Mutants run through the binary, and the time one may take.
const BINARY_SAMPLE: usize = 60;
const BINARY_LIMIT: Duration = Duration::from_secs(20);

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// A history to mutate: its bytes, format and model.
struct Source {
    name: String,
    bytes: Vec<u8>,
    format: Option<Format>,
    model: String,
    init: Option<Value>,
}

fn format_named(name: &str) -> Option<Format> {
    match name {
        "jsonl" => Some(Format::JsonLines),
        "edn" => Some(Format::Edn),
        "jepsen-log" => Some(Format::JepsenLog),
        _ => None,
    }
}

/// The start of `bytes`, cut after a line ending once past `BASE_BYTES`.
fn base(bytes: &[u8]) -> Vec<u8> {
    if bytes.len() <= BASE_BYTES {
        return bytes.to_vec();
    }
    let end = bytes[BASE_BYTES..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| BASE_BYTES + i + 1);
    bytes[..end].to_vec()
}

fn sources() -> Vec<Source> {
    let root = shared();
    let table = std::fs::read_to_string(root.join("corpus/expected.tsv"))
        .unwrap_or_else(|e| panic!("the corpus is expected at {}: {e}", root.display()));
    let mut sources = Vec::new();
    for line in table.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [path, format, model, init, _] = cols[..] else {
            panic!("malformed expected.tsv line: {line}");
        };
        let bytes = std::fs::read(root.join("corpus").join(path)).unwrap();
        sources.push(Source {
            name: path.to_string(),
            bytes: base(&bytes),
            format: format_named(format),
            model: model.to_string(),
            init: (init != "-").then(|| Value::from_json_str(init).unwrap()),
        });
    }
    let mut repros: Vec<PathBuf> = std::fs::read_dir(root.join("repro"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("jsonl" | "edn" | "log")
            )
        })
        .collect();
    repros.sort();
    for path in repros {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let model = if name.starts_with("set-") {
            "set"
        } else if name.starts_with("queue-") {
            "queue"
        } else if name.starts_with("no-ok") {
            "counter"
        } else {
            "register"
        };
        sources.push(Source {
            bytes: base(&std::fs::read(&path).unwrap()),
            name: format!("repro/{name}"),
            format: None,
            model: model.to_string(),
            init: None,
        });
    }
    sources
}

/// A small deterministic generator (xorshift64*), so that every run makes the same mutants.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Where the lines of `bytes` start.
fn line_starts(bytes: &[u8]) -> Vec<usize> {
    std::iter::once(0)
        .chain(
            bytes
                .iter()
                .enumerate()
                .filter(|(_, &b)| b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .filter(|&i| i < bytes.len())
        .collect()
}

fn line(bytes: &[u8], starts: &[usize], i: usize) -> Vec<u8> {
    let end = starts.get(i + 1).copied().unwrap_or(bytes.len());
    bytes[starts[i]..end].to_vec()
}

/// Mutant `kind` of `bytes`, and a short name of what was done.
fn mutate(bytes: &[u8], kind: usize, rng: &mut Rng) -> (Vec<u8>, String) {
    let mut out = bytes.to_vec();
    let at = rng.below(bytes.len() + 1);
    let starts = line_starts(bytes);
    let name = match kind % 14 {
        0 => {
            out.truncate(at);
            format!("truncated at {at}")
        }
        1 => {
            for _ in 0..1 + rng.below(3) {
                if !out.is_empty() {
                    let i = rng.below(out.len());
                    out[i] = rng.next() as u8;
                }
            }
            "bytes flipped".to_string()
        }
        2 => {
            let open = ["[", "{\"a\":", "{:a ", "#{", "(", "#_"][rng.below(6)];
            let deep = open.repeat(20_000 + rng.below(100_000));
            out.splice(at..at, deep.bytes());
            format!("{open} nested deeply at {at}")
        }
        3 => {
            let huge = format!("\"{}\"", "x".repeat(1 << (10 + rng.below(14))));
            out.splice(at..at, huge.bytes());
            format!("a {}-byte string at {at}", huge.len())
        }
        4 if !starts.is_empty() => {
            let i = rng.below(starts.len());
            let copy = line(bytes, &starts, i);
            let to = starts[rng.below(starts.len())];
            out.splice(to..to, copy);
            format!("line {} duplicated", i + 1)
        }
        5 if !starts.is_empty() => {
            let i = rng.below(starts.len());
            let end = starts.get(i + 1).copied().unwrap_or(bytes.len());
            out.drain(starts[i]..end);
            format!("line {} dropped", i + 1)
        }
        6 if starts.len() > 1 => {
            let i = rng.below(starts.len() - 1);
            let (a, b) = (line(bytes, &starts, i), line(bytes, &starts, i + 1));
            let end = starts.get(i + 2).copied().unwrap_or(bytes.len());
            out.splice(starts[i]..end, b.into_iter().chain(a));
            format!("lines {} and {} swapped", i + 1, i + 2)
        }
        7 => {
            let ending: &[u8] = [&b"\r"[..], b"\r\n", b"\n\r"][rng.below(3)];
            out = bytes
                .iter()
                .flat_map(|&b| if b == b'\n' { ending.to_vec() } else { vec![b] })
                .collect();
            format!("line endings {ending:?}")
        }
        8 => {
            let number = [
                "18446744073709551616",
                "-9223372036854775809",
                "1e400",
                "-0",
                "99999999999999999999999999999999999999999999",
                "0.1e-400",
                "1N",
                "NaN",
            ][rng.below(8)];
            let digit = bytes[at.min(bytes.len())..]
                .iter()
                .position(u8::is_ascii_digit)
                .map_or(at, |i| at + i);
            out.splice(digit..digit, number.bytes());
            format!("{number} at {digit}")
        }
        9 => {
            let bytes: &[u8] = [
                &b"\xEF\xBB\xBF"[..],
                b"\x00",
                b"\x1b[2J",
                b"\xff\xfe",
                b"\\u0000",
                b"\"",
                b"\\",
            ][rng.below(7)];
            out.splice(at..at, bytes.iter().copied());
            format!("{bytes:?} at {at}")
        }
        10 => {
            let keep = rng.below(bytes.len() + 1);
            out = bytes[keep..].to_vec();
            format!("first {keep} bytes dropped")
        }
        11 => {
            // One line repeated to a long history: a stress on pairing, not on size.
            let copy = if starts.is_empty() {
                bytes.to_vec()
            } else {
                line(bytes, &starts, rng.below(starts.len()))
            };
            out = copy.repeat(200);
            "one line repeated 200 times".to_string()
        }
        12 => {
            let array = [&b"["[..], b"]", b",", b"{", b"}"][rng.below(5)];
            out.splice(at..at, array.iter().copied());
            format!("{:?} at {at}", String::from_utf8_lossy(array))
        }
        _ => {
            for _ in 0..1 + rng.below(8) {
                if !out.is_empty() {
                    let i = rng.below(out.len());
                    out.remove(i);
                }
            }
            "bytes deleted".to_string()
        }
    };
    (out, name)
}

/// What one mutant came to: the exit code `check` would give, or the panic.
fn check_in_process(source: &Source, bytes: &[u8]) -> Result<i32, String> {
    let options = ReadOptions {
        format: source.format,
        max_record_bytes: 1 << 20,
    };
    catch_unwind(AssertUnwindSafe(|| {
        let Ok(history) = read_with(bytes, "mutant", &options) else {
            return 2;
        };
        let check = CheckOptions {
            timeout: Some(CHECK_BUDGET),
            max_memory: 512 << 20,
            ..CheckOptions::default()
        };
        match check_model(&source.model, source.init.as_ref(), None, &history, &check) {
            Ok(report) => match report.verdict {
                photofinish::checker::Verdict::Valid => 0,
                photofinish::checker::Verdict::Invalid => 1,
                photofinish::checker::Verdict::Unknown => 3,
            },
            Err(_) => 2,
        }
    }))
    .map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

#[test]
fn mutants_end_in_a_verdict_or_an_error() {
    let started = Instant::now();
    let sources = sources();
    assert!(sources.len() > 100, "only {} sources", sources.len());
    let jobs: Vec<(usize, usize)> = (0..sources.len())
        .flat_map(|s| (0..MUTANTS_PER_FILE).map(move |k| (s, k)))
        .collect();
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let codes = Mutex::new([0usize; 4]);
    // Panics are expected to be caught and reported here, not printed for each mutant.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let job = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(s, k)) = jobs.get(job) else { break };
                let source = &sources[s];
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ ((s as u64) << 20 | k as u64));
                let (bytes, what) = mutate(&source.bytes, k, &mut rng);
                let start = Instant::now();
                let outcome = check_in_process(source, &bytes);
                let took = start.elapsed();
                let mut failures = failures.lock().unwrap();
                match outcome {
                    Err(panic) => failures.push(format!(
                        "{} ({what}, mutant {k}): panicked: {panic}",
                        source.name
                    )),
                    Ok(_) if took > MUTANT_LIMIT => failures.push(format!(
                        "{} ({what}, mutant {k}): took {took:?}",
                        source.name
                    )),
                    Ok(code) => codes.lock().unwrap()[code as usize] += 1,
                }
            });
        }
    });
    std::panic::set_hook(hook);
    let failures = failures.into_inner().unwrap();
    let codes = codes.into_inner().unwrap();
    eprintln!(
        "{} mutants in-process in {:?}: exit 0 ×{}, 1 ×{}, 2 ×{}, 3 ×{}",
        jobs.len(),
        started.elapsed(),
        codes[0],
        codes[1],
        codes[2],
        codes[3]
    );
    assert!(jobs.len() >= 6000, "only {} mutants", jobs.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The mutants must reach the checker, not only the readers' errors.
    assert!(codes[0] + codes[1] + codes[3] > jobs.len() / 4, "{codes:?}");
}

#[test]
fn a_sample_of_mutants_through_the_binary_exits_cleanly() {
    let started = Instant::now();
    let sources = sources();
    let dir = std::env::temp_dir().join(format!("photofinish-mutants-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut failures = Vec::new();
    for i in 0..BINARY_SAMPLE {
        let source = &sources[rng.below(sources.len())];
        let kind = rng.below(14);
        let (bytes, what) = mutate(&source.bytes, kind, &mut rng);
        let path = dir.join(format!("mutant-{i}"));
        std::fs::write(&path, &bytes).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_photofinish"));
        cmd.args(["check", "--model", &source.model, "--timeout", "2"]);
        if let Some(init) = &source.init {
            cmd.args(["--init", &init.to_json_string()]);
        }
        let start = Instant::now();
        let out = cmd.arg(&path).output().expect("the binary runs");
        let took = start.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let problem = match out.status.code() {
            None => Some(format!("ended by a signal ({:?})", out.status)),
            Some(0..=3) if stderr.contains("panicked") => Some(format!("panicked: {stderr}")),
            Some(0..=3) if took > BINARY_LIMIT => Some(format!("took {took:?}")),
            Some(0..=3) => None,
            Some(code) => Some(format!("exit {code}: {stderr}")),
        };
        if let Some(problem) = problem {
            failures.push(format!("{} ({what}): {problem}", source.name));
        }
    }
    // Inputs no file in the corpus resembles: endless and huge records, and deep nesting.
    let specials: Vec<(&str, Vec<u8>)> = vec![
        ("zeros", vec![0; 20 << 20]),
        ("a 20 MiB line", {
            let mut line = br#"{"type":"invoke","process":0,"f":"write","value":""#.to_vec();
            line.extend(std::iter::repeat_n(b'x', 20 << 20));
            line.extend_from_slice(b"\"}\n");
            line
        }),
        ("a 20 MiB EDN form", {
            let mut form = b"{:type :invoke, :process 0, :f :write, :value \"".to_vec();
            form.extend(std::iter::repeat_n(b'x', 20 << 20));
            form.extend_from_slice(b"\"}\n");
            form
        }),
        ("nested arrays", "[".repeat(1 << 20).into_bytes()),
        (
            "nested values",
            format!(
                "{{\"type\":\"invoke\",\"process\":0,\"f\":\"write\",\"value\":{}",
                "[".repeat(1 << 20)
            )
            .into_bytes(),
        ),
    ];
    for (what, bytes) in specials {
        let path = dir.join("special");
        std::fs::write(&path, &bytes).unwrap();
        for format in ["jsonl", "edn", "jepsen-log"] {
            let start = Instant::now();
            let out = Command::new(env!("CARGO_BIN_EXE_photofinish"))
                .args([
                    "check",
                    "--model",
                    "register",
                    "--timeout",
                    "2",
                    "--format",
                    format,
                ])
                .arg(&path)
                .output()
                .expect("the binary runs");
            let stderr = String::from_utf8_lossy(&out.stderr);
            let fine = matches!(out.status.code(), Some(0..=3))
                && !stderr.contains("panicked")
                && start.elapsed() < BINARY_LIMIT;
            if !fine {
                failures.push(format!("{what} as {format}: {:?} {stderr}", out.status));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "{BINARY_SAMPLE} mutants and 15 special inputs through the binary in {:?}",
        started.elapsed()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
