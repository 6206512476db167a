//! Shared by the procedure benchmarks (`unique_counters`, `unique_queues`, `unique_registers`,
//! `growing_sets`): their seeded generator, their command line, the timing of one history's
//! checks and the printing of their tables, so that every benchmark measures and reports alike.
//!
//! Each example includes it as `mod common;`; cargo takes only the files directly in
//! `examples/` for examples, so this folder is no example of its own.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use photofinish_check::{check_model, CheckOptions, Report, SearchChoice, Verdict};
use photofinish_history::{read_path, read_str, Format, Value};

/// xorshift64*: a small seeded generator, so every run checks the same histories.
pub struct Rng(u64);

impl Rng {
    /// The generator for `seed` (scrambled, and odd, since xorshift never leaves 0).
    pub fn seeded(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A benchmark's command line, `[--ops N] [--runs N] [--search auto|generic] [--photofinish
/// BIN]`, and the scratch folder its history files go to.
pub struct Bench {
    /// Operations a history (default 10^5).
    pub ops: usize,
    /// How often each history is checked (default 5).
    runs: usize,
    search: SearchChoice,
    /// A `photofinish` binary to time `check` processes of, if any.
    binary: Option<PathBuf>,
    dir: PathBuf,
    table: Table,
    /// Histories that got the wrong verdict so far.
    wrong: usize,
}

impl Bench {
    /// Reads the command line (panicking on an unknown argument: this is a benchmark, not a
    /// tool), makes the scratch folder `<name>-<pid>` in the temporary folder, and prints the
    /// header of `table`.
    pub fn from_args(name: &str, table: Table) -> Bench {
        let mut ops = 100_000;
        let mut runs = 5;
        let mut search = SearchChoice::Auto;
        let mut binary: Option<PathBuf> = None;
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || args.next().expect("a value after the flag");
            match arg.as_str() {
                "--ops" => ops = value().parse().expect("--ops N"),
                "--runs" => runs = value().parse().expect("--runs N"),
                "--search" => {
                    search = match value().as_str() {
                        "generic" => SearchChoice::Generic,
                        _ => SearchChoice::Auto,
                    }
                }
                "--photofinish" => binary = Some(PathBuf::from(value())),
                other => panic!("unknown argument {other}"),
            }
        }
        let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        table.print_header();
        Bench {
            ops,
            runs,
            search,
            binary,
            dir,
            table,
            wrong: 0,
        }
    }

    /// Writes the history `text` to a file named after `name`, and checks it as `model` from
    /// `init` (JSON) `runs` times each: from memory, reading the file in this process, and
    /// (with `--photofinish`) as a whole `photofinish check` process.
    pub fn measure(&self, name: &str, text: &str, model: &str, init: &str) -> Measured {
        let path = self
            .dir
            .join(format!("{}.jsonl", name.replace([' ', ',', '%'], "-")));
        std::fs::write(&path, text).expect("the history is written");
        let history = read_str(text, "bench", Some(Format::JsonLines)).expect("well formed");
        let options = CheckOptions {
            search: self.search,
            ..CheckOptions::default()
        };
        let init_value = Value::from_json_str(init).expect("init is JSON");
        let mut last: Option<Report> = None;
        let checks = self.median_of(|| {
            let started = Instant::now();
            let report =
                check_model(model, Some(&init_value), None, &history, &options).expect("checkable");
            let elapsed = started.elapsed();
            last = Some(report);
            elapsed
        });
        let whole = self.median_of(|| {
            let started = Instant::now();
            let history = read_path(&path, Some(Format::JsonLines)).expect("readable");
            check_model(model, Some(&init_value), None, &history, &options).expect("checkable");
            started.elapsed()
        });
        let process = self.binary.as_ref().map_or("-".to_string(), |bin| {
            ms(self.median_of(|| {
                let started = Instant::now();
                Command::new(bin)
                    .args(["check", "--model", model, "--init", init])
                    .arg(&path)
                    .output()
                    .expect("photofinish runs");
                started.elapsed()
            }))
        });
        let report = last.expect("at least one run");
        Measured {
            name: name.to_string(),
            events: history.event_count,
            verdict: report.verdict,
            decided_by: report
                .procedures
                .first()
                .map_or("-".to_string(), |p| p.name.replace(" procedure", "")),
            witness: report
                .witness
                .as_ref()
                .map_or("-".to_string(), |w| w.operations.len().to_string()),
            check: ms(checks),
            whole: ms(whole),
            process,
        }
    }

    /// The median of `runs` timings.
    fn median_of(&self, mut time: impl FnMut() -> Duration) -> Duration {
        let mut times: Vec<Duration> = (0..self.runs).map(|_| time()).collect();
        times.sort();
        times[times.len() / 2]
    }

    /// Prints the table row of `m`, with `own` in the table's own columns, and counts it wrong
    /// unless its verdict is valid just when `expect_valid`.
    pub fn row(&mut self, m: Measured, expect_valid: bool, own: Vec<String>) {
        let expected = if expect_valid {
            Verdict::Valid
        } else {
            Verdict::Invalid
        };
        let right = m.verdict == expected;
        self.wrong += usize::from(!right);
        self.table.print(Row {
            history: m.name,
            events: m.events.to_string(),
            own,
            verdict: format!("{:?}", m.verdict),
            expected: (if right { "yes" } else { "NO" }).to_string(),
            decided_by: m.decided_by,
            witness: m.witness,
            check: m.check,
            whole: m.whole,
            process: m.process,
        });
    }

    /// Removes the scratch folder; exits 1, saying so, if any history got the wrong verdict.
    pub fn finish(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if self.wrong > 0 {
            eprintln!("{} histories got the wrong verdict", self.wrong);
            std::process::exit(1);
        }
    }
}

/// What the checks of one history found, and their median times in milliseconds.
pub struct Measured {
    /// The history, as the table's first column names it.
    pub name: String,
    pub events: u64,
    pub verdict: Verdict,
    /// The procedure that decided the first partition (`-` when none did).
    pub decided_by: String,
    /// The operations in the witness of an invalid verdict (`-` when there is none).
    pub witness: String,
    /// Checking the history already in memory.
    pub check: String,
    /// Reading the file and checking it, in this process.
    pub whole: String,
    /// A whole `photofinish check` process (`-` without `--photofinish`).
    pub process: String,
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

/// The columns of a benchmark's table: the history's name, its events, the benchmark's own
/// columns, the verdict and whether it is the expected one, (if shown) the procedure that
/// decided and the witness's operations, and the median times of the check, of reading and
/// checking, and of a whole process.
pub struct Table {
    /// The width of the history's name.
    pub history: usize,
    /// The benchmark's own columns: title and width.
    pub own: &'static [(&'static str, usize)],
    /// The width of the procedure that decided, if shown (with the witness).
    pub decided_by: Option<usize>,
    /// The width of the check's median time.
    pub check: usize,
}

/// The cells of one row of a [`Table`], in its columns' order.
struct Row {
    history: String,
    events: String,
    own: Vec<String>,
    verdict: String,
    expected: String,
    decided_by: String,
    witness: String,
    check: String,
    whole: String,
    process: String,
}

impl Table {
    /// Prints the row's cells, each padded to its column, one space apart: the history's
    /// name left-aligned, the others right-aligned.
    fn print(&self, row: Row) {
        let mut line = format!("{:<w$} {:>8}", row.history, row.events, w = self.history);
        for ((_, width), cell) in self.own.iter().zip(&row.own) {
            line += &format!(" {cell:>width$}");
        }
        line += &format!(" {:>9} {:>9}", row.verdict, row.expected);
        if let Some(width) = self.decided_by {
            line += &format!(" {:>width$} {:>8}", row.decided_by, row.witness);
        }
        line += &format!(
            " {:>w$} {:>10} {:>10}",
            row.check,
            row.whole,
            row.process,
            w = self.check
        );
        println!("{line}");
    }

    fn print_header(&self) {
        self.print(Row {
            history: "history".into(),
            events: "events".into(),
            own: self
                .own
                .iter()
                .map(|(title, _)| title.to_string())
                .collect(),
            verdict: "verdict".into(),
            expected: "expected".into(),
            decided_by: "decided by".into(),
            witness: "witness".into(),
            check: "check ms".into(),
            whole: "read+check".into(),
            process: "process ms".into(),
        });
    }
}
