//! The terminal report: short enough to read at a glance, precise enough to act on.

use std::fmt::Write;

use crate::checker::{Failure, Report, Verdict, Witness};
use crate::history::{escape, escape_and_clip, Operation, Outcome, Value};

/// How many steps of the longest linearization the terminal shows.
const SHOWN_STEPS: usize = 12;

/// The text timeline draws this many of the last linearization steps and of the open
/// operations: enough to see the race, few enough to stay narrower than a terminal.
const TIMELINE_STEPS: usize = 3;
const TIMELINE_OPEN: usize = 5;
/// Longest value or state a report line shows, in characters (the HTML report and `--json`
/// have them whole).
const VALUE_CHARS: usize = 100;
/// Longest operation text in a timeline row, in characters.
const TIMELINE_TEXT: usize = 26;

fn result_text(op: &Operation) -> String {
    match op.outcome {
        Outcome::Ok if op.result.is_null() || op.result == op.value => "ok".to_string(),
        Outcome::Ok => op.result.to_string(),
        Outcome::Fail => "fail".to_string(),
        Outcome::Info => "info (indeterminate)".to_string(),
        Outcome::Pending => "never completed (indeterminate)".to_string(),
    }
}

/// One operation in a line: who did what with which result, and where it is in the file.
pub fn describe_op(op: &Operation) -> String {
    let mut text = format!("process {:<3} {}", op.process, escape(&op.f));
    if let Some(key) = &op.key {
        let _ = write!(text, " key {key}");
    }
    if !op.value.is_null() {
        let _ = write!(text, " {}", clip_counted(&op.value.to_string()));
    }
    let _ = write!(text, " -> {}", clip_counted(&result_text(op)));
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

/// How small the witness is: 1-minimal, shrunk as far as the budget allowed, or left as the
/// polynomial procedure found it.
fn witness_note(witness: &Witness) -> &'static str {
    if witness.minimal {
        " (without any one of them, the rest can)"
    } else if witness.shrunk {
        " (shrinking stopped at its budget; maybe not the smallest)"
    } else {
        " (as the procedure that decided the history found them, not shrunk)"
    }
}

/// One failing partition: what it means first (the diagnosis), then the few operations that
/// alone cannot be explained (the witness), then where the search got stuck and the states and
/// operations around that point.
fn render_failure(out: &mut String, failure: &Failure, witness: Option<&Witness>) {
    let _ = writeln!(out, "\nNot linearizable: {}", key_label(&failure.key));
    for diagnosis in &failure.diagnosis {
        let _ = writeln!(out, "  * {}", diagnosis.message);
    }
    if let Some(witness) = witness {
        let count = witness.operations.len();
        let _ = writeln!(
            out,
            "  {} {count} operation{} alone cannot be explained{}:",
            if count == 1 { "this" } else { "these" },
            if count == 1 { "" } else { "s" },
            witness_note(witness)
        );
        for op in witness.operations.iter().take(SHOWN_STEPS) {
            let _ = writeln!(out, "    {}", describe_op(op));
        }
        if count > SHOWN_STEPS {
            let _ = writeln!(out, "    ... and {} more", count - SHOWN_STEPS);
        }
    }
    let _ = writeln!(out, "  {}", failure.reason);
    let Some(stuck) = &failure.stuck else {
        return;
    };
    let _ = writeln!(out, "  could not place:  {}", describe_op(stuck));
    let states: Vec<String> = failure
        .possible_states
        .iter()
        .map(Value::to_json_string)
        .collect();
    if !states.is_empty() {
        let _ = writeln!(
            out,
            "  states it was tried in (after everything that must come before it): {}",
            clip(&states.join(", "), 400)
        );
    } else if let Some(earlier) = &failure.earlier_states {
        let states: Vec<String> = earlier.states.iter().map(Value::to_json_string).collect();
        let _ = writeln!(
            out,
            "  no order reached its invocation; states just before line {}: {}",
            earlier.before_line,
            clip(&states.join(", "), 400)
        );
    }
    if !failure.concurrent.is_empty() {
        let _ = writeln!(out, "  operations open at that moment:");
        for op in failure.concurrent.iter().take(SHOWN_STEPS) {
            let _ = writeln!(out, "    {}", describe_op(op));
        }
        if failure.concurrent.len() > SHOWN_STEPS {
            let _ = writeln!(
                out,
                "    ... and {} more",
                failure.concurrent.len() - SHOWN_STEPS
            );
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
            clip_counted(&step.state.to_string())
        );
    }
    out.push_str(&timeline(failure));
}

/// A compact picture of the counterexample: the last few linearization steps, the operations
/// open when the stuck one returned, and the stuck one, as bars over event positions.
/// Columns keep the order of the events these operations invoke and complete at, not their
/// distance, so that a race spread over thousands of events still fits a line.
///
/// ```text
///   timeline (events 0-8, in order, gaps removed; | invoked or completed, ~ may still take effect):
///     #1     p0    write 1 -> ok           |===|
///     #2     p2    read -> 1                         |=|
///     open   p1    write 2 -> info           |=====|~~~~~~~~~~
///     open   p4    read -> never completed       |~~~~~~~~~~~~
///     stuck  p3    read -> 3                             |=|
/// ```
pub fn timeline(failure: &Failure) -> String {
    let Some(stuck) = &failure.stuck else {
        return String::new();
    };
    let steps = &failure.prefix[failure.prefix.len().saturating_sub(TIMELINE_STEPS)..];
    let mut rows: Vec<(String, &Operation)> = steps
        .iter()
        .map(|s| (format!("#{}", s.index), &s.op))
        .collect();
    let mut open: Vec<&Operation> = failure.concurrent.iter().collect();
    open.sort_by_key(|op| op.invoked_at);
    rows.extend(
        open.iter()
            .take(TIMELINE_OPEN)
            .map(|&op| ("open".to_string(), op)),
    );
    rows.push(("stuck".to_string(), stuck));

    let mut positions: Vec<u64> = rows
        .iter()
        .flat_map(|(_, op)| std::iter::once(op.invoked_at).chain(op.completed_at))
        .collect();
    positions.sort_unstable();
    positions.dedup();
    let column = |at: u64| 2 * positions.partition_point(|&p| p < at);
    // One column past the last position: where the bars of indeterminate operations end.
    let edge = 2 * positions.len();

    let labels: Vec<String> = rows
        .iter()
        .map(|(role, op)| {
            format!(
                "{role:<6} p{:<4} {}",
                op.process,
                clip(&short_op(op), TIMELINE_TEXT)
            )
        })
        .collect();
    let width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let mut out = format!(
        "  timeline (events {}-{}, in order, gaps removed; | invoked or completed, ~ may still take effect):\n",
        positions[0],
        positions[positions.len() - 1]
    );
    for (label, (_, op)) in labels.iter().zip(&rows) {
        let mut bar = vec![' '; edge + 1];
        let start = column(op.invoked_at);
        bar[start] = '|';
        let tail_from = match op.completed_at.map(column) {
            Some(end) => {
                bar[start + 1..end].fill('=');
                bar[end] = '|';
                end + 1
            }
            None => start + 1,
        };
        if op.outcome.is_indeterminate() {
            bar[tail_from..].fill('~');
        }
        let bar: String = bar.into_iter().collect();
        let padding = width - label.chars().count();
        let _ = writeln!(out, "    {label}{:padding$} {}", "", bar.trim_end());
    }
    if open.len() > TIMELINE_OPEN {
        let more = open.len() - TIMELINE_OPEN;
        let _ = writeln!(
            out,
            "    ({more} more open operation{} not drawn)",
            if more == 1 { "" } else { "s" }
        );
    }
    out
}

/// An operation in a few words, for a timeline row: function, arguments and result.
fn short_op(op: &Operation) -> String {
    let mut text = op.f.to_string();
    if !op.value.is_null() {
        let _ = write!(text, " {}", op.value);
    }
    let result = match op.outcome {
        Outcome::Info => "info".to_string(),
        Outcome::Pending => "never completed".to_string(),
        _ => result_text(op),
    };
    let _ = write!(text, " -> {result}");
    text
}

/// A value cut to [`VALUE_CHARS`], saying how long it was.
fn clip_counted(text: &str) -> String {
    let count = text.chars().count();
    if count <= VALUE_CHARS {
        return text.to_string();
    }
    let kept: String = text.chars().take(VALUE_CHARS).collect();
    format!("{kept}... ({count} characters)")
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut clipped: String = text.chars().take(max - 3).collect();
    clipped.push_str("...");
    clipped
}

/// The longest line [`sanitize`] lets through, in characters: far longer than any line of a
/// report, short enough that a huge value from a history cannot flood the terminal.
pub const LINE_CHARS: usize = 2000;

/// `text` made safe for a terminal: every control character but the line breaks escaped (so
/// that nothing from a history or a target can move the cursor, clear the screen or set the
/// window title), and each line cut at [`LINE_CHARS`] characters, saying how long it was.
/// Everything the command prints from a history or a target goes through this.
///
/// ```
/// let shown = photofinish::terminal::sanitize("error: \u{1b}[2Jcleared\nnext line\n");
/// assert_eq!(shown, "error: \\u{1b}[2Jcleared\nnext line\n");
/// ```
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (index, line) in text.split('\n').enumerate() {
        if index > 0 {
            out.push('\n');
        }
        out.push_str(&escape_and_clip(line, LINE_CHARS));
    }
    out
}

/// Renders a report for a terminal: what was checked and how much it rests on, warnings, each
/// failure, undecided partitions, then the verdict with its exit code; [`sanitize`]d.
pub fn render(report: &Report) -> String {
    render_exiting(report, report.verdict.exit_code() as u8)
}

/// [`render`], with the exit code the process gives when that is not the verdict's own (a run
/// halted because the workload does not fit the target exits 2 with an `unknown` verdict).
pub fn render_exiting(report: &Report, exit_code: u8) -> String {
    let mut out = String::new();
    let c = &report.coverage;
    let _ = writeln!(
        out,
        "checked {} operations ({} ok, {} failed, {} indeterminate) in {} partition{} against `{}` in {:.1} ms",
        report.operations,
        c.ok,
        c.fail,
        c.info,
        report.partitions,
        if report.partitions == 1 { "" } else { "s" },
        report.model,
        report.elapsed.as_secs_f64() * 1e3
    );
    for used in &report.procedures {
        let _ = writeln!(
            out,
            "decided {} partition{} by the {} in {:.1} ms{}",
            used.partitions,
            if used.partitions == 1 { "" } else { "s" },
            used.name,
            used.elapsed.as_secs_f64() * 1e3,
            used.why
                .as_ref()
                .map_or(String::new(), |why| format!(" ({why})"))
        );
    }
    for warning in &report.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    if !report.stalls.is_empty() {
        let _ = writeln!(out);
        let _ = crate::runner::write_stalls(&mut out, &report.stalls, "history");
    }
    for failure in &report.failures {
        let witness = report.witness.as_ref().filter(|w| w.key == failure.key);
        render_failure(&mut out, failure, witness);
    }
    for undecided in &report.undecided {
        let _ = writeln!(
            out,
            "\nUndecided: {}: {}",
            key_label(&undecided.key),
            undecided.reason
        );
    }
    let _ = writeln!(out, "\n{}", verdict_line_exiting(report, exit_code));
    sanitize(&out)
}

/// The last line of a report: the verdict, why, and the exit code it gives.
pub fn verdict_line(report: &Report) -> String {
    verdict_line_exiting(report, report.verdict.exit_code() as u8)
}

fn verdict_line_exiting(report: &Report, exit_code: u8) -> String {
    let text = match report.verdict {
        Verdict::Valid => "VALID: the history is linearizable".to_string(),
        Verdict::Invalid => {
            let all_decided = report.decided + report.undecided.len() >= report.partitions;
            if report.partitions == 1 {
                "INVALID: the history has no linearization".to_string()
            } else if all_decided {
                format!(
                    "INVALID: {} of {} partitions have no linearization",
                    report.failures.len(),
                    report.partitions
                )
            } else {
                format!(
                    "INVALID: stopped at the first violation in the file ({} of {} partitions decided; --all-partitions decides every one)",
                    report.decided, report.partitions
                )
            }
        }
        Verdict::Unknown => match &report.reason {
            Some(reason) => format!("UNKNOWN: {reason}"),
            None => format!(
                "UNKNOWN: not decided within the budget ({} of {} partitions decided)",
                report.decided, report.partitions
            ),
        },
    };
    sanitize(&format!("{text}  [exit {exit_code}]"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::Step;
    use crate::history::{Event, EventKind, History, Process};

    fn ev(kind: EventKind, p: i64, f: &str, v: Value) -> Event {
        Event::new(kind, Process::Client(p), f, v)
    }

    /// p0 writes 1, p1's write of 2 times out, then p2 reads 1... and p3's read of 2 is stuck
    /// behind p2's read of 1 (with p1's write still open, and p4's read never completing).
    fn failure() -> Failure {
        let h = History::from_events([
            ev(EventKind::Invoke, 0, "write", 1.into()),
            ev(EventKind::Invoke, 1, "write", 2.into()),
            ev(EventKind::Ok, 0, "write", 1.into()),
            ev(EventKind::Invoke, 4, "read", Value::Null),
            ev(EventKind::Info, 1, "write", 2.into()),
            ev(EventKind::Invoke, 2, "read", Value::Null),
            ev(EventKind::Ok, 2, "read", 1.into()),
            ev(EventKind::Invoke, 3, "read", Value::Null),
            ev(EventKind::Ok, 3, "read", 3.into()),
        ])
        .unwrap();
        let op = |i: usize| h.operations[i].clone();
        Failure {
            key: None,
            earlier_states: None,
            diagnosis: Vec::new(),
            reason: "no order explains the read".to_string(),
            stuck: Some(op(4)),
            prefix: vec![
                Step {
                    index: 1,
                    op: op(0),
                    state: 1.into(),
                },
                Step {
                    index: 2,
                    op: op(3),
                    state: 1.into(),
                },
            ],
            prefix_len: 2,
            possible_states: vec![1.into()],
            concurrent: vec![op(2), op(1)],
        }
    }

    #[test]
    fn timeline_draws_the_race_as_aligned_bars() {
        let text = timeline(&failure());
        let expected = [
            "  timeline (events 0-8, in order, gaps removed; | invoked or completed, ~ may still take effect):",
            "    #1     p0    write 1 -> ok           |===|",
            "    #2     p2    read -> 1                         |=|",
            "    open   p1    write 2 -> info           |=====|~~~~~~~~~~",
            "    open   p4    read -> never completed       |~~~~~~~~~~~~",
            "    stuck  p3    read -> 3                             |=|",
        ];
        assert_eq!(text.lines().collect::<Vec<_>>(), expected, "\n{text}");
    }

    #[test]
    fn timeline_clips_long_values_and_counts_what_it_leaves_out() {
        let mut failure = failure();
        failure.stuck.as_mut().unwrap().result = "x".repeat(100).into();
        let extra = failure.concurrent[0].clone();
        failure.concurrent.extend(std::iter::repeat_n(extra, 5));
        let text = timeline(&failure);
        assert!(text.contains("read -> \"xxxxxxxxxxxxxx..."), "{text}");
        assert!(
            text.contains("(2 more open operations not drawn)"),
            "{text}"
        );
        assert!(text.lines().all(|l| l.len() < 100), "{text}");
        assert!(timeline(&Failure {
            stuck: None,
            ..failure
        })
        .is_empty());
    }

    #[test]
    fn the_failure_report_includes_the_timeline() {
        let mut out = String::new();
        render_failure(&mut out, &failure(), None);
        assert!(out.contains("timeline (events"), "{out}");
        assert!(out.contains("stuck  p3"), "{out}");
    }
}
