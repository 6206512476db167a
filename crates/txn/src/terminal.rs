//! The terminal report: verdict first, then each kind of anomaly with its clearest example,
//! step by step, with the transactions and their lines. Everything from the history was
//! escaped and clipped when the report was made ([`crate::render`]), so nothing here can
//! reach the terminal raw.

use std::fmt::Write;

use photofinish_history::Outcome;

use crate::consistency::ConsistencyModel;
use crate::report::{Finding, Report, Verdict};

/// Examples shown per kind of anomaly.
const SHOWN_PER_KIND: usize = 2;

/// The report as text for a terminal.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} history: {} operations ({} committed, {} failed, {} indeterminate)",
        report.workload, report.operations, report.committed, report.failed, report.indeterminate
    );
    let verdict = match report.verdict {
        Verdict::Valid => "VALID",
        Verdict::Invalid => "INVALID",
        Verdict::Unknown => "UNKNOWN",
    };
    match report.consistency_model {
        Some(model) => {
            let _ = writeln!(out, "{verdict} for {model}");
        }
        None => {
            let _ = writeln!(out, "{verdict}");
        }
    }
    if report.consistency_model.is_some() {
        if report.ruled_out.is_empty() {
            if report.verdict != Verdict::Unknown {
                let _ = writeln!(out, "No anomaly found: every model checked is possible.");
            }
        } else {
            let names: Vec<&str> = report.ruled_out.iter().map(|m| m.name()).collect();
            let _ = writeln!(out, "Rules out: {}", names.join(", "));
            let possible: Vec<&str> = ConsistencyModel::ALL
                .into_iter()
                .filter(|m| !report.ruled_out.contains(m))
                .map(|m| m.name())
                .collect();
            if !possible.is_empty() {
                let _ = writeln!(out, "Still possible: {}", possible.join(", "));
            }
        }
    }
    for kind in &report.anomaly_types {
        let of_kind: Vec<&Finding> = report.of_kind(*kind).collect();
        let forbidden = report
            .consistency_model
            .is_some_and(|m| report.ruled_out.contains(&m) && m.forbids(*kind));
        let found = report
            .anomaly_counts
            .get(&kind.name())
            .copied()
            .unwrap_or(of_kind.len());
        let _ = writeln!(
            out,
            "\n{}{}: {} ({} found)",
            kind,
            if forbidden { " [forbidden]" } else { "" },
            kind.meaning(),
            found
        );
        for finding in of_kind.iter().take(SHOWN_PER_KIND) {
            render_finding(&mut out, finding);
        }
        if found > SHOWN_PER_KIND {
            let _ = writeln!(
                out,
                "  ... {} more ({} in --json)",
                found - SHOWN_PER_KIND,
                of_kind.len()
            );
        }
    }
    if !report.notes.is_empty() {
        let _ = writeln!(out, "\nNotes:");
        for note in &report.notes {
            let _ = writeln!(out, "  - {note}");
        }
    }
    out
}

fn render_finding(out: &mut String, finding: &Finding) {
    if finding.steps.is_empty() {
        let _ = writeln!(out, "  {}", finding.summary);
    } else {
        for step in &finding.steps {
            let _ = writeln!(out, "  {}", step.because);
        }
    }
    for t in &finding.transactions {
        let process = t
            .process
            .map_or_else(String::new, |p| format!(" process {p}"));
        let outcome = match t.outcome {
            Outcome::Ok => "ok",
            Outcome::Fail => "failed",
            Outcome::Info => "info (indeterminate)",
            Outcome::Pending => "never completed",
        };
        let _ = writeln!(out, "    {}{process} {outcome}: {}", t.label(), t.text);
    }
}
