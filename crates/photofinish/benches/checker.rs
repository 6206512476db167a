//! `cargo bench -p photofinish --bench checker`: the checker's speed, as tables of medians.
//!
//! 1. Every corpus file: the median time to check it in-process (the file already read), and
//!    the median wall time of the whole `photofinish check` process on it.
//! 2. `--all-partitions` on Porcupine's c50-bad history, whose hard keys defeat generic searches.
//! 3. Generated cas-register histories of 10^5 operations over 10 processes.
//! 4. Reading JSON Lines: events per second on a 10^6-event file.
//!
//! Set `PHOTOFINISH_BENCH_RUNS` to change how many runs each median is taken over.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use photofinish::checker::{check_model, CheckOptions, Verdict};
use photofinish::history::{read_path, Event, EventKind, History, HistoryWriter, Process, Value};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

fn runs() -> usize {
    std::env::var("PHOTOFINISH_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(15)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut last = None;
    let samples = (0..runs)
        .map(|_| {
            let start = Instant::now();
            last = Some(f());
            start.elapsed()
        })
        .collect();
    (median(samples), last.expect("at least one run"))
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Valid => "valid",
        Verdict::Invalid => "invalid",
        Verdict::Unknown => "unknown",
    }
}

fn corpus_table() {
    let root = corpus();
    let Ok(table) = std::fs::read_to_string(root.join("expected.tsv")) else {
        println!(
            "corpus not found at {}; skipping the corpus table",
            root.display()
        );
        return;
    };
    println!("\n## Corpus: median of {} runs (check = in-process, file already read; cli = whole process)\n", runs());
    println!("| file | ops | expected | got | check ms | cli ms |");
    println!("|---|---:|---|---|---:|---:|");
    let mut worst_check = Duration::ZERO;
    let mut worst_cli = Duration::ZERO;
    for line in table.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [path, _format, model, init, expected] = cols[..] else {
            continue;
        };
        let file = root.join(path);
        let init = (init != "-").then(|| Value::from_json_str(init).expect("corpus init is JSON"));
        let history = read_path(&file, None).expect("corpus file reads");
        let (check, report) = time(runs(), || {
            check_model(
                model,
                init.as_ref(),
                None,
                &history,
                &CheckOptions::default(),
            )
            .unwrap()
        });
        let mut args = vec![
            "check".to_string(),
            "--model".into(),
            model.into(),
            file.display().to_string(),
        ];
        if let Some(init) = &init {
            args.extend(["--init".to_string(), init.to_json_string()]);
        }
        let (cli, _) = time(runs(), || {
            Command::new(env!("CARGO_BIN_EXE_photofinish"))
                .args(&args)
                .output()
                .expect("the binary runs")
        });
        worst_check = worst_check.max(check);
        worst_cli = worst_cli.max(cli);
        println!(
            "| {path} | {} | {expected} | {} | {} | {} |",
            history.operations.len(),
            verdict_name(report.verdict),
            ms(check),
            ms(cli)
        );
    }
    println!(
        "\nslowest check: {} ms; slowest whole process: {} ms",
        ms(worst_check),
        ms(worst_cli)
    );
}

fn all_partitions_table() {
    let file = corpus().join("porcupine/kv/c50-bad.txt");
    let Ok(history) = read_path(&file, None) else {
        return;
    };
    let options = CheckOptions {
        all_partitions: true,
        ..CheckOptions::default()
    };
    let (elapsed, report) = time(runs(), || {
        check_model("kv", Some(&Value::from("")), None, &history, &options).unwrap()
    });
    let failing: Vec<String> = report
        .failures
        .iter()
        .filter_map(|f| f.key.as_ref().map(Value::to_json_string))
        .collect();
    println!("\n## --all-partitions on porcupine/kv/c50-bad.txt\n");
    println!("| partitions | decided | failing keys | configurations | median ms |");
    println!("|---:|---:|---|---:|---:|");
    println!(
        "| {} | {} | {} | {} | {} |",
        report.partitions,
        report.decided,
        failing.join(" "),
        report.configurations,
        ms(elapsed)
    );
}

/// A small deterministic generator (xorshift), so generated histories are the same every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A linearizable cas-register history: each operation takes effect at its completion.
/// One in a hundred operations times out (`info`): it took effect or not, at random, and its
/// process is replaced by a fresh one, as Jepsen does.
fn generated_register_history(ops: usize, processes: usize, seed: u64) -> Vec<Event> {
    let mut rng = Rng(seed);
    let mut value = 0i64;
    let mut ids: Vec<i64> = (0..processes as i64).collect();
    let mut next_id = processes as i64;
    let mut pending: Vec<Option<(String, Value)>> = vec![None; processes];
    let mut events = Vec::with_capacity(ops * 2);
    let mut invoked = 0;
    while invoked < ops || pending.iter().any(Option::is_some) {
        let slot = rng.below(processes as u64) as usize;
        let process = Process::Client(ids[slot]);
        match pending[slot].take() {
            None if invoked < ops => {
                invoked += 1;
                let (f, arg) = match rng.below(3) {
                    0 => ("read", Value::Null),
                    1 => ("write", Value::Int(rng.below(5) as i64)),
                    _ => (
                        "cas",
                        Value::from(vec![rng.below(5) as i64, rng.below(5) as i64]),
                    ),
                };
                events.push(Event::new(EventKind::Invoke, process, f, arg.clone()));
                pending[slot] = Some((f.to_string(), arg));
            }
            None => {}
            Some((f, arg)) => {
                let timed_out = rng.below(100) == 0;
                let takes_effect = !timed_out || rng.below(2) == 0;
                let (kind, result) = match f.as_str() {
                    "read" => (EventKind::Ok, Value::Int(value)),
                    "write" => {
                        if takes_effect {
                            value = arg.as_i64().unwrap_or(0);
                        }
                        (EventKind::Ok, arg)
                    }
                    _ => {
                        let (expected, new) = match arg.as_list().as_deref() {
                            Some([Value::Int(e), Value::Int(n)]) => (*e, *n),
                            _ => unreachable!("generated cas arguments"),
                        };
                        if expected == value {
                            if takes_effect {
                                value = new;
                            }
                            (EventKind::Ok, arg)
                        } else {
                            (EventKind::Fail, arg)
                        }
                    }
                };
                let kind = if timed_out { EventKind::Info } else { kind };
                events.push(Event::new(kind, process, f, result));
                if timed_out {
                    ids[slot] = next_id;
                    next_id += 1;
                }
            }
        }
    }
    events
}

fn write_jsonl(path: &Path, events: &[Event]) {
    let _ = std::fs::remove_file(path);
    let mut writer = HistoryWriter::append(path).unwrap();
    for e in events {
        writer.write_buffered(e).unwrap();
    }
    writer.sync().unwrap();
}

fn generated_table(dir: &Path) {
    println!(
        "\n## Generated cas-register histories, 10 processes (median of {} runs)\n",
        runs()
    );
    println!("| ops | verdict | check ms | read+check ms |");
    println!("|---:|---|---:|---:|");
    for (ops, seed) in [(10_000, 7), (100_000, 11), (100_000, 12)] {
        let path = dir.join(format!("register-{ops}-{seed}.jsonl"));
        write_jsonl(&path, &generated_register_history(ops, 10, seed));
        let check_it = |history: &History| {
            check_model(
                "cas-register",
                Some(&Value::Int(0)),
                None,
                history,
                &CheckOptions::default(),
            )
            .unwrap()
        };
        let history = read_path(&path, None).unwrap();
        let (check, report) = time(runs(), || check_it(&history));
        let (total, _) = time(runs(), || check_it(&read_path(&path, None).unwrap()));
        println!(
            "| {ops} | {} | {} | {} |",
            verdict_name(report.verdict),
            ms(check),
            ms(total)
        );
    }
}

fn reading_table(dir: &Path) {
    let events = generated_register_history(500_000, 10, 3);
    let path = dir.join("read-1m.jsonl");
    write_jsonl(&path, &events);
    let bytes = std::fs::metadata(&path).unwrap().len();
    let (elapsed, history) = time(runs().min(7), || read_path(&path, None).unwrap());
    let rate = history.event_count as f64 / elapsed.as_secs_f64();
    println!(
        "\n## Reading JSON Lines (median of {} runs)\n",
        runs().min(7)
    );
    println!("| events | MB | median ms | events/s | MB/s |");
    println!("|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {:.1} | {} | {:.2e} | {:.0} |",
        history.event_count,
        bytes as f64 / 1e6,
        ms(elapsed),
        rate,
        bytes as f64 / 1e6 / elapsed.as_secs_f64()
    );
}

fn main() {
    // `cargo bench -p photofinish --bench checker -- NAME` runs only the tables whose name
    // contains NAME: corpus, all-partitions, generated, reading.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wanted = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    let dir = std::env::temp_dir().join(format!("photofinish-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    println!(
        "photofinish checker benchmark on {} threads",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    if wanted("corpus") {
        corpus_table();
    }
    if wanted("all-partitions") {
        all_partitions_table();
    }
    if wanted("generated") {
        generated_table(&dir);
    }
    if wanted("reading") {
        reading_table(&dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
