//! The terminal report: short enough to read at a glance, precise enough to act on.

use std::fmt::Write;

use crate::checker::{Failure, Report, Verdict};
use crate::history::{Operation, Outcome, Value};

/// How many steps of the longest linearization the terminal shows.
const SHOWN_STEPS: usize = 12;

/// One operation in a line: who did what with which result, and where it is in the file.
pub fn describe_op(op: &Operation) -> String {
    let mut text = format!("process {:<3} {}", op.process, op.f);
    if let Some(key) = &op.key {
        let _ = write!(text, " key {key}");
    }
    if !op.value.is_null() {
        let _ = write!(text, " {}", op.value);
    }
    let result = match op.outcome {
        Outcome::Ok if op.result.is_null() || op.result == op.value => "ok".to_string(),
        Outcome::Ok => op.result.to_string(),
        Outcome::Fail => "fail".to_string(),
        Outcome::Info => "info (indeterminate)".to_string(),
        Outcome::Pending => "never completed (indeterminate)".to_string(),
    };
    let _ = write!(text, " -> {result}");
    match op.complete_line {
        Some(end) => {
            let _ = write!(text, "   [lines {}-{}]", op.invoke_line, end);
        }
        None => {
            let _ = write!(text, "   [line {}]", op.invoke_line);
        }
    }
    text
}

fn key_label(key: &Option<Value>) -> String {
    key.as_ref()
        .map_or_else(|| "the history".to_string(), |k| format!("key {k}"))
}

fn render_failure(out: &mut String, failure: &Failure) {
    let _ = writeln!(out, "\nNot linearizable: {}", key_label(&failure.key));
    let _ = writeln!(out, "  {}", failure.reason);
    let Some(stuck) = &failure.stuck else {
        return;
    };
    let _ = writeln!(out, "  could not place:  {}", describe_op(stuck));
    let states: Vec<String> = failure.possible_states.iter().map(Value::to_json_string).collect();
    let _ = writeln!(out, "  possible states just before it: {}", states.join(", "));
    if !failure.concurrent.is_empty() {
        let _ = writeln!(out, "  operations open at that moment:");
        for op in failure.concurrent.iter().take(SHOWN_STEPS) {
            let _ = writeln!(out, "    {}", describe_op(op));
        }
        if failure.concurrent.len() > SHOWN_STEPS {
            let _ = writeln!(out, "    ... and {} more", failure.concurrent.len() - SHOWN_STEPS);
        }
    }
    let shown = failure.prefix.len().min(SHOWN_STEPS);
    let _ = writeln!(
        out,
        "  longest linearizable prefix: {} operations{}",
        failure.prefix_len,
        if failure.prefix_len > shown {
            format!(", the last {shown} shown")
        } else {
            String::new()
        }
    );
    for step in &failure.prefix[failure.prefix.len() - shown..] {
        let _ = writeln!(
            out,
            "    {:>6}. {}   => state {}",
            step.index,
            describe_op(&step.op),
            step.state
        );
    }
}

/// Renders a report for a terminal.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "checked {} operations in {} partition{} against `{}` in {:.1} ms",
        report.operations,
        report.partitions,
        if report.partitions == 1 { "" } else { "s" },
        report.model,
        report.elapsed.as_secs_f64() * 1e3
    );
    for failure in &report.failures {
        render_failure(&mut out, failure);
    }
    for undecided in &report.undecided {
        let _ = writeln!(
            out,
            "\nUndecided: {}: {}",
            key_label(&undecided.key),
            undecided.reason
        );
    }
    let verdict = match report.verdict {
        Verdict::Valid => "VALID: the history is linearizable".to_string(),
        Verdict::Invalid => format!(
            "INVALID: {} of {} partitions have no linearization{}",
            report.failures.len(),
            report.partitions,
            if report.decided + report.undecided.len() < report.partitions {
                " (stopped at the first; --all-partitions decides every one)"
            } else {
                ""
            }
        ),
        Verdict::Unknown => "UNKNOWN: not decided within the budget".to_string(),
    };
    let _ = writeln!(out, "\n{verdict}");
    out
}
