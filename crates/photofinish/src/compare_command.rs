//! `photofinish compare`: options side by side with the same seed and clients. Either one race
//! lab scenario's fix options on each replica count (`--scenario`), or your own system's
//! variants (`--run`, `--http`): each row a `photofinish run` command line, run one after
//! another (see [`photofinish::compare`]).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{ArgMatches, Args};
use photofinish::compare::{
    compare_runs, Load, RowOutcome, RowPlan, RunCompareOptions, RunRow, RunSpec,
};
use photofinish::runner::targets::http::HttpSpec;
use photofinish_lab::{compare_blocking, CompareError, CompareOptions, DemoRow, SCENARIOS};

use crate::run_command::RunArgs;
use crate::{guard_outputs, options, usage_error};

#[derive(clap::Args)]
pub struct CompareArgs {
    /// The race lab scenario whose options to compare: create-once, counter, decimal-counter,
    /// status, snapshot, stale-read or deadlock.
    #[arg(long, required_unless_present_any = ["run", "http"], conflicts_with_all = ["run", "http"])]
    scenario: Option<String>,
    /// An option of your own system to compare: the arguments of a `photofinish run` command,
    /// such as 'redis --spawn -w counter --variant get-set'. Repeat it, one per option; the
    /// first is the baseline the others' added latency is measured against. The text is split
    /// into words as a shell would split it (quotes, backslashes), but no shell runs it. A row
    /// may give anything `run` takes except what compare gives every row (--clients, --ops,
    /// --seed, --duration, --op-timeout) and the files compare writes (--output, --html,
    /// --json, --quiet, --force).
    #[arg(long = "run", value_name = "RUN ARGS", conflicts_with = "http")]
    run: Vec<String>,
    /// An HTTP workload file to compare (the same as --run 'http FILE'). Repeat it, one per
    /// file; the first is the baseline.
    #[arg(long, value_name = "FILE")]
    http: Vec<PathBuf>,
    /// With --scenario: replica counts to run every option on, comma-separated (default 1,3).
    /// Rows of your own take theirs from the target (an HTTP file's base URLs).
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["run", "http"])]
    replicas: Option<Vec<usize>>,
    /// Concurrent clients per run.
    #[arg(long, short, default_value_t = 20)]
    clients: usize,
    /// Operations per run (default 1000, or unlimited with --duration; create-once lab runs
    /// take a quarter: each fingerprint gets one create per client).
    #[arg(long, short = 'n')]
    ops: Option<u64>,
    /// With --run/--http: how long each row runs, e.g. 10s.
    #[arg(long, value_parser = options::wait, conflicts_with = "scenario")]
    duration: Option<Duration>,
    /// With --run/--http: an operation unanswered after this long is recorded as
    /// indeterminate (info). Default 5s.
    #[arg(long, value_parser = options::wait, conflicts_with = "scenario")]
    op_timeout: Option<Duration>,
    /// Seed for the operations each client issues, the same for every option.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where to keep each run's history, report and output (default: a new directory under
    /// the system's temporary directory).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Print the matrix as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Also write the matrix as an HTML page, each row linking to its run's report.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

pub fn run(args: CompareArgs) -> ExitCode {
    match args.scenario.clone() {
        Some(scenario) => compare_scenario(args, scenario),
        None => compare_own(args),
    }
}

/// `--scenario`: exit code 0 when every option turned out as the lab expects (each race
/// caught, each fix passed), 1 when one did not, 2 on bad usage.
fn compare_scenario(args: CompareArgs, scenario: String) -> ExitCode {
    if args.clients < 2 {
        return usage_error("a race needs at least 2 --clients".into());
    }
    if !SCENARIOS.contains(&scenario.as_str()) {
        return usage_error(format!(
            "unknown --scenario `{scenario}`: expected one of {}",
            SCENARIOS.join(", ")
        ));
    }
    let mut options = CompareOptions::new(&scenario);
    options.replicas = args.replicas.unwrap_or(vec![1, 3]);
    options.clients = args.clients;
    options.ops = args.ops.unwrap_or(1000);
    options.seed = args.seed;
    options.dir = args.dir;
    options.progress = Some(Arc::new(|row: &DemoRow| {
        eprintln!(
            "photofinish: {} on {} replica{}: {:?}",
            row.strategy,
            row.replicas,
            if row.replicas == 1 { "" } else { "s" },
            row.verdict
        )
    }));
    let matrix = match compare_blocking(&options) {
        Ok(matrix) => matrix,
        Err(e @ (CompareError::UnknownScenario(_) | CompareError::NoReplicas)) => {
            return usage_error(e.to_string())
        }
        Err(e) => return usage_error(format!("compare: {e}")),
    };
    if let Err(code) = present(&matrix, args.html.as_deref(), args.json, |page| {
        matrix.write_html(page).map(drop)
    }) {
        return code;
    }
    if matrix.rows.iter().all(|row| row.held) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `--run`/`--http`: every row checked before the first runs, then each run in turn as
/// `photofinish run`. Exit code 0 when every row ran and was decided (valid or INVALID: which
/// is which is the answer), 3 when a row decided nothing (unknown, ended stalled, stopped
/// early, could not run), 2 on bad usage.
fn compare_own(args: CompareArgs) -> ExitCode {
    if args.clients == 0 {
        return usage_error("--clients must be at least 1".into());
    }
    if let Err(code) = guard_outputs(&[], &[args.html.as_deref()], false) {
        return code;
    }
    let texts: Vec<(String, Vec<String>)> = if args.http.is_empty() {
        let mut texts = Vec::new();
        for text in &args.run {
            match shlex::split(text) {
                Some(words) if !words.is_empty() => texts.push((text.clone(), words)),
                Some(_) => return usage_error("--run '' names no target".into()),
                None => {
                    return usage_error(format!(
                        "--run '{text}': a quote or backslash is not closed"
                    ))
                }
            }
        }
        texts
    } else {
        let texts = args.http.iter().map(|file| {
            let words = vec!["http".to_string(), file.display().to_string()];
            (file.display().to_string(), words)
        });
        texts.collect()
    };
    let mut rows = Vec::with_capacity(texts.len());
    for (label, words) in texts {
        match row_spec(&label, words) {
            Ok(spec) => rows.push(spec),
            Err(message) => return usage_error(message),
        }
    }
    let total = rows.len();
    let options = RunCompareOptions {
        load: Load {
            clients: args.clients,
            ops: args.ops.or(if args.duration.is_some() {
                None
            } else {
                Some(1000)
            }),
            duration: args.duration,
            seed: args.seed,
            op_timeout: args.op_timeout.unwrap_or(Duration::from_secs(5)),
        },
        dir: args.dir,
        progress: Some(Arc::new(move |row: &RunRow| {
            eprintln!(
                "photofinish: {}: {}, {} operations",
                photofinish::terminal::sanitize(&row.label),
                row.verdict_text(),
                row.operations,
            )
        })),
    };
    eprintln!(
        "photofinish: comparing {total} option{}, one after another",
        if total == 1 { "" } else { "s" }
    );
    let matrix = match compare_runs(rows, &options) {
        Ok(matrix) => matrix,
        Err(e) => return usage_error(e.to_string()),
    };
    if let Err(code) = present(&matrix, args.html.as_deref(), args.json, |page| {
        matrix.write_html(page)
    }) {
        return code;
    }
    ExitCode::from(matrix.exit_code())
}

/// Writes the matrix's page if `--html` asked for one, then prints the matrix as JSON
/// (`--json`) or as a table, its text sanitised (labels and findings come from the user and
/// from histories).
fn present(
    matrix: &(impl serde::Serialize + std::fmt::Display),
    html: Option<&Path>,
    json: bool,
    write_html: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<(), ExitCode> {
    if let Some(html) = html {
        write_html(html).map_err(usage_error)?;
        eprintln!("photofinish: wrote {}", html.display());
    }
    if json {
        match serde_json::to_string_pretty(matrix) {
            Ok(json) => println!("{json}"),
            Err(e) => return Err(usage_error(format!("cannot write the matrix: {e}"))),
        }
    } else {
        print!("{}", photofinish::terminal::sanitize(&matrix.to_string()));
    }
    Ok(())
}

/// What compare gives every row, by the argument's name in `run`.
const COMMON: [(&str, &str); 5] = [
    ("clients", "--clients"),
    ("ops", "--ops"),
    ("seed", "--seed"),
    ("duration", "--duration"),
    ("op_timeout", "--op-timeout"),
];

/// What compare writes for every row.
const WRITTEN: [(&str, &str); 5] = [
    ("output", "--output"),
    ("html", "--html"),
    ("json", "--json"),
    ("quiet", "--quiet"),
    ("force", "--force"),
];

/// The row for one `run` command line: parsed as `photofinish run` parses it, so that a
/// mistake is a usage error before anything runs; run as `photofinish run` in a process of its
/// own.
fn row_spec(label: &str, words: Vec<String>) -> Result<RunSpec, String> {
    let command = RunArgs::augment_args(clap::Command::new("photofinish run").no_binary_name(true));
    let matches = command
        .try_get_matches_from(&words)
        .map_err(|e| format!("--run '{label}': {}", clap_message(&e)))?;
    let Some((target, flags)) = matches.subcommand() else {
        return Err(format!("--run '{label}' names no target"));
    };
    for (id, flag) in COMMON {
        if given(flags, id) {
            return Err(format!(
                "--run '{label}' gives {flag}: give it to compare instead, which runs every row with the same"
            ));
        }
    }
    for (id, flag) in WRITTEN {
        if given(flags, id) {
            return Err(format!(
                "--run '{label}' gives {flag}: compare writes each row's history and reports into --dir"
            ));
        }
    }
    let replicas = replicas(target, flags)?;
    Ok(RunSpec::new(label, replicas, move |plan: &RowPlan| {
        run_row(&words, plan)
    }))
}

/// The first line of a clap error, without its `error: ` prefix.
fn clap_message(error: &clap::Error) -> String {
    let text = error.render().to_string();
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    line.trim_start_matches("error: ").to_string()
}

fn given(flags: &ArgMatches, id: &str) -> bool {
    flags.value_source(id) == Some(ValueSource::CommandLine)
}

/// The replicas (or cluster nodes) a row's system has: an HTTP file's base URLs (the file is
/// read now, so that a bad one is refused before anything runs), a spawned Redis primary with
/// its replicas, a spawned etcd cluster's members.
fn replicas(target: &str, flags: &ArgMatches) -> Result<Option<usize>, String> {
    let spawned = || flags.get_flag("spawn");
    Ok(match target {
        "http" => {
            let Some(file) = flags.get_one::<PathBuf>("file") else {
                return Ok(None);
            };
            let spec = HttpSpec::from_path(file).map_err(|e| e.to_string())?;
            Some(spec.base_url.len())
        }
        "redis" if spawned() => {
            let replicas = flags.get_one::<usize>("replicas").copied().unwrap_or(0);
            (replicas > 0).then_some(1 + replicas)
        }
        "etcd" if spawned() => {
            let members = flags.get_one::<usize>("members").copied().unwrap_or(1);
            (members > 1).then_some(members)
        }
        _ => None,
    })
}

/// Runs one row as `photofinish run TARGET <the load> <the row's files> REST...` (the load
/// goes right after the target's name, before an exec program's `--`), its output into the
/// row's log, and reads back the JSON it wrote.
fn run_row(words: &[String], plan: &RowPlan) -> RowOutcome {
    let failed = |message: String| RowOutcome::Failed {
        exit_code: 3,
        message,
    };
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return failed(format!("cannot find the photofinish program: {e}")),
    };
    let log = match File::create(&plan.log).and_then(|f| Ok((f.try_clone()?, f))) {
        Ok(log) => log,
        Err(e) => return failed(format!("cannot write {}: {e}", plan.log.display())),
    };
    let load = &plan.load;
    let mut args: Vec<String> = vec!["run".into(), words[0].clone()];
    args.extend(["--clients".into(), load.clients.to_string()]);
    if let Some(ops) = load.ops {
        args.extend(["--ops".into(), ops.to_string()]);
    }
    if let Some(duration) = load.duration {
        let duration = humantime::format_duration(duration).to_string();
        args.extend(["--duration".into(), duration]);
    }
    let op_timeout = humantime::format_duration(load.op_timeout).to_string();
    args.extend(["--op-timeout".into(), op_timeout]);
    args.extend(["--seed".into(), load.seed.to_string()]);
    args.extend(["--output".into(), plan.history.display().to_string()]);
    args.extend(["--html".into(), plan.html.display().to_string()]);
    args.push(format!("--json={}", plan.json.display()));
    args.push("--quiet".into());
    args.extend(words[1..].iter().cloned());
    eprintln!(
        "photofinish: [{}] {}",
        plan.index,
        photofinish::terminal::sanitize(&plan.label)
    );
    let status = Command::new(exe)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(log.0)
        .stderr(log.1)
        .status();
    let exit_code = match status {
        Ok(status) => match status.code() {
            Some(code) => u8::try_from(code).unwrap_or(3),
            None => return failed(format!("the run was stopped ({status})")),
        },
        Err(e) => return failed(format!("cannot start the run: {e}")),
    };
    let json = std::fs::read_to_string(&plan.json)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok());
    match json {
        Some(run) if run.get("report").is_some() => RowOutcome::Ran { run, exit_code },
        Some(run) if run["error"].is_string() => RowOutcome::Failed {
            exit_code: if exit_code == 2 { 2 } else { 3 },
            message: run["error"].as_str().unwrap_or_default().to_string(),
        },
        _ => RowOutcome::Failed {
            exit_code: if exit_code == 2 { 2 } else { 3 },
            message: last_line(&plan.log).unwrap_or_else(|| format!("the run exited {exit_code}")),
        },
    }
}

/// The last line the run printed that says something: why it could not run.
fn last_line(log: &Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    let line = text.lines().rev().find(|l| !l.trim().is_empty())?;
    Some(line.trim_start_matches("photofinish: ").to_string())
}
