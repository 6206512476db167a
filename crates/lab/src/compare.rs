//! `compare`: one scenario's options side by side, with the same seed and clients, on each
//! replica count: which are caught, which pass, and what each costs in throughput and
//! latency against the original code.
//!
//! It lives in the lab, beside the demo, because it is the demo's own machinery (a fresh lab
//! per run, the HTTP target, the check) pointed at one scenario; the demo prints the same
//! matrix for every scenario.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use photofinish_history::Format;
use serde::Serialize;

use crate::demo::{by_scenario, demo, held_text, write_scenario, DemoError, DemoOptions, DemoRow};
use crate::scenarios::{scenario_runs, SCENARIOS};
use crate::store::StoreConfig;
use crate::Progress;

/// What to compare.
#[derive(Clone)]
pub struct CompareOptions {
    /// One of [`SCENARIOS`].
    pub scenario: String,
    /// Every option runs on each of these replica counts.
    pub replicas: Vec<usize>,
    pub clients: usize,
    /// Operations per run (create-once runs take a quarter, as in the demo).
    pub ops: u64,
    pub seed: u64,
    /// Where the histories go; a fresh temporary directory when `None`.
    pub dir: Option<PathBuf>,
    pub store: StoreConfig,
    pub check_timeout: Duration,
    pub progress: Option<Progress>,
}

impl CompareOptions {
    /// The demo's defaults for `scenario`, on 1 and 3 replicas.
    pub fn new(scenario: &str) -> CompareOptions {
        let demo = DemoOptions::default();
        CompareOptions {
            scenario: scenario.to_string(),
            replicas: vec![1, 3],
            clients: demo.clients,
            ops: demo.ops,
            seed: demo.seed,
            dir: None,
            store: demo.store,
            check_timeout: demo.check_timeout,
            progress: None,
        }
    }
}

/// The matrix: one row per option and replica count.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub scenario: String,
    pub clients: usize,
    pub seed: u64,
    pub rows: Vec<DemoRow>,
    pub dir: PathBuf,
    #[serde(serialize_with = "as_seconds")]
    pub elapsed: Duration,
}

fn as_seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Why `compare` could not run.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("unknown scenario `{0}`: expected one of {list}", list = SCENARIOS.join(", "))]
    UnknownScenario(String),
    #[error("--replicas needs at least one count, each at least 1")]
    NoReplicas,
    #[error(transparent)]
    Demo(#[from] DemoError),
}

/// Runs every option of the scenario on each replica count and checks each history.
///
/// ```
/// use photofinish_lab::{compare_blocking, CompareOptions};
///
/// let mut options = CompareOptions::new("stale-read");
/// options.replicas = vec![3];
/// options.ops = 200;
/// let matrix = compare_blocking(&options)?;
/// let options: Vec<_> = matrix.rows.iter().map(|r| (r.strategy, r.verdict)).collect();
/// use photofinish_check::Verdict::*;
/// assert_eq!(options, [("use-after-unlock", Invalid), ("use-under-lock", Valid)]);
/// println!("{matrix}");
/// # Ok::<(), photofinish_lab::CompareError>(())
/// ```
pub async fn compare(options: &CompareOptions) -> Result<Comparison, CompareError> {
    if options.replicas.is_empty() || options.replicas.contains(&0) {
        return Err(CompareError::NoReplicas);
    }
    let scenarios = scenario_runs(&options.scenario, &options.replicas)
        .ok_or_else(|| CompareError::UnknownScenario(options.scenario.clone()))?;
    // A fault scenario runs its own number of clients, whatever was asked.
    let clients = scenarios
        .first()
        .and_then(|s| s.strategy.fault())
        .map_or(options.clients, |fault| fault.clients);
    let report = demo(&DemoOptions {
        dir: options.dir.clone(),
        clients: options.clients,
        ops: options.ops,
        seed: options.seed,
        scenarios,
        store: options.store,
        check_timeout: options.check_timeout,
        progress: options.progress.clone(),
    })
    .await?;
    Ok(Comparison {
        scenario: options.scenario.clone(),
        clients,
        seed: options.seed,
        rows: report.rows,
        dir: report.dir,
        elapsed: report.elapsed,
    })
}

/// [`compare`] on a runtime of its own.
pub fn compare_blocking(options: &CompareOptions) -> Result<Comparison, CompareError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CompareError::Demo(DemoError::Runtime(e)))?;
    runtime.block_on(compare(options))
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (scenario, rows) in by_scenario(&self.rows) {
            write_scenario(f, scenario, &rows)?;
        }
        writeln!(
            f,
            "\n{} runs with {} clients, seed {}, in {:.1} s; histories in {}",
            self.rows.len(),
            self.clients,
            self.seed,
            self.elapsed.as_secs_f64(),
            self.dir.display()
        )
    }
}

impl Comparison {
    /// Writes the matrix as an HTML page at `output`, and beside it each run's own report
    /// (timeline, verdict, counterexample), which the page's rows link to. Returns the reports'
    /// paths.
    pub fn write_html(&self, output: &Path) -> Result<Vec<PathBuf>, String> {
        let dir = output.parent().unwrap_or_else(|| Path::new("."));
        let stem = output
            .file_stem()
            .map_or_else(|| "compare".into(), |s| s.to_string_lossy().into_owned());
        let mut reports = Vec::new();
        let mut rows = String::new();
        for row in &self.rows {
            let name = format!(
                "{stem}-{}-{}-{}r.html",
                row.scenario, row.strategy, row.replicas
            );
            let history = photofinish_history::read_path(&row.history, Some(Format::JsonLines))
                .map_err(|e| e.to_string())?;
            let title = format!(
                "{} / {} on {} replicas",
                row.scenario, row.strategy, row.replicas
            );
            let page = photofinish_history::mark_html(photofinish_report::render_html(
                &history,
                Some(&row.report),
                &title,
            ));
            let path = dir.join(&name);
            std::fs::write(&path, page)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            reports.push(path);
            rows.push_str(&format!(
                "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td class=\"{}\">{}</td><td>{}</td>\
                 <td>{}</td><td>{:.0}</td><td>{:.0}</td><td>{:.0}</td><td>{:+.0}</td><td>{:+.0}</td>\
                 <td>{}</td></tr>\n",
                html(&name),
                html(row.strategy),
                row.replicas,
                if row.held { "held" } else { "missed" },
                html(held_text(row)),
                html(&format!("{:?}", row.verdict).to_lowercase()),
                row.ops,
                row.throughput,
                row.p50_us,
                row.p99_us,
                row.added_p50_us,
                row.added_p99_us,
                html(row.finding.as_deref().unwrap_or("")),
            ));
        }
        let page = format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>compare {scenario}</title>\
             <style>body{{font-family:sans-serif}}table{{border-collapse:collapse}}\
             td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}\
             td:first-child,td:last-child,td:nth-child(3){{text-align:left}}\
             .missed{{color:#b00;font-weight:bold}}</style></head><body>\n\
             <h1>compare {scenario}</h1><p>{description}</p>\
             <p>{clients} clients, seed {seed}; latencies in µs, added against each replica \
             count's first row.</p>\n<table><tr><th>option</th><th>replicas</th>\
             <th>as expected</th><th>verdict</th><th>ops</th><th>ops/s</th><th>p50</th>\
             <th>p99</th><th>+p50</th><th>+p99</th><th>finding</th></tr>\n{rows}</table>\
             </body></html>\n",
            scenario = html(&self.scenario),
            description = html(crate::scenarios::describe(&self.scenario)),
            clients = self.clients,
            seed = self.seed,
        );
        // Marked as photofinish's, so that running the comparison again may write over it.
        std::fs::write(output, photofinish_history::mark_html(page))
            .map_err(|e| format!("cannot write {}: {e}", output.display()))?;
        Ok(reports)
    }
}

/// Text made safe inside HTML elements and attribute values.
fn html(text: &str) -> String {
    photofinish_history::escape_html(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_markup() {
        assert_eq!(
            html("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
