//! The data a report page embeds, encoded compactly.
//!
//! A page must stay at a few hundred bytes per operation even for 10^5 operations, so the
//! operations are stored as columns of small numbers, not as objects repeating field names:
//! every string (function names, values written as JSON, keys) is stored once in a string table
//! and named by its index, event positions and times are differences from the previous
//! operation's, and line numbers are runs over the event positions. The page's script decodes
//! it (`decode` in `page/report.js`); the field names here are the contract between the two.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use photofinish_check::{keyed_parts, Failure, Report, Verdict};
use photofinish_history::{History, Operation, Outcome, Value};

/// Strings stored once each; the rest of the data names them by index.
#[derive(Default)]
struct Strings {
    ids: HashMap<String, u32>,
    table: Vec<String>,
}

impl Strings {
    fn id(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = self.table.len() as u32;
        self.table.push(text.to_string());
        self.ids.insert(text.to_string(), id);
        id
    }

    /// A value as the report shows it: its compact JSON text, as in the terminal report.
    fn value(&mut self, value: &Value) -> u32 {
        self.id(&value.to_json_string())
    }
}

/// The operations, one column per field, in the order of [`History::operations`] (so an
/// operation's index in every column is its id).
#[derive(Default, Serialize)]
struct Ops {
    /// Lane: index into [`PageData::procs`].
    p: Vec<u32>,
    /// Function name (string id).
    f: Vec<u32>,
    /// Value given at invocation (string id).
    v: Vec<u32>,
    /// Value given at completion (string id).
    r: Vec<u32>,
    /// One letter per operation: `o`k, `f`ail, `i`nfo, `p`ending.
    o: String,
    /// Invocation event index minus the previous operation's.
    s: Vec<i64>,
    /// Completion event index minus invocation event index; null if it never completed.
    d: Vec<Option<i64>>,
    /// Partition: index into [`PageData::keys`]; empty when the history is one partition.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    k: Vec<u32>,
    /// Invocation time minus the previous timed invocation's (the first minus `t0`), in
    /// nanoseconds; null when untimed. Empty when no operation has a time.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    t: Vec<Option<i64>>,
    /// Completion time minus invocation time, in nanoseconds; null when either is missing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    l: Vec<Option<i64>>,
    /// Errors, which few operations have: flattened pairs of operation id and string id.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    e: Vec<u64>,
}

/// The check's findings, with operations named by id and values by string id.
#[derive(Serialize)]
struct ReportData<'a> {
    verdict: Verdict,
    /// Why the verdict is what it is when no partition says so ("nothing was tested").
    reason: Option<&'a str>,
    /// Operations that completed ok, failed, and ended indeterminately.
    coverage: (usize, usize, usize),
    /// The check's warnings (most operations indeterminate, an assumed initial value).
    warnings: &'a [String],
    model: &'a str,
    partitions: usize,
    decided: usize,
    configurations: u64,
    elapsed_ms: f64,
    failures: Vec<FailureData<'a>>,
    /// Pairs of partition (index into `keys`, null for an unkeyed history) and reason.
    undecided: Vec<(Option<u32>, &'a str)>,
}

#[derive(Serialize)]
struct FailureData<'a> {
    /// Index into `keys`; null for an unkeyed history.
    partition: Option<u32>,
    reason: &'a str,
    stuck: Option<usize>,
    concurrent: Vec<usize>,
    /// Triples of the step's 1-based index in the linearization, the operation's id, and the
    /// model state after it (string id).
    prefix: Vec<(usize, usize, u32)>,
    prefix_len: usize,
    /// Model states possible just before the stuck operation (string ids).
    possible: Vec<u32>,
    /// What the partition shows in the user's terms: pairs of message and the lines it rests on.
    diagnosis: Vec<(&'a str, &'a [usize])>,
    /// The few operations that alone cannot be explained (ids), when shrunk for this partition.
    witness: Vec<usize>,
    /// Whether removing any one of `witness` makes the rest explainable.
    witness_minimal: bool,
    /// Whether the shrinker worked on `witness` (false: a procedure's counterexample as found).
    witness_shrunk: bool,
}

/// Everything the page shows.
#[derive(Serialize)]
struct PageData<'a> {
    title: &'a str,
    strings: Vec<String>,
    /// How many events the history has: where indeterminate operations' bars end.
    events: u64,
    /// The process of each lane, in lane order.
    procs: Vec<i64>,
    ops: Ops,
    /// Runs mapping event positions to file lines: flattened pairs of the first event of a
    /// run and the offset to add to an event's index to get its line.
    lines: Vec<i64>,
    /// The partition keys (string ids), failing partitions first.
    keys: Vec<u32>,
    /// Nemesis events: (kind, f, value) as string ids, event index, time minus `t0` or null.
    nemesis: Vec<(u32, u32, u32, u64, Option<i64>)>,
    /// Stalls (see [`photofinish_history::stall`]): time since and until minus `t0` (until
    /// null: the history ended stalled), the first event at or after each (null: the end),
    /// and the sentence that says it, as a string id.
    stalls: Vec<StallWindow>,
    /// The earliest time in the history, in nanoseconds, as text (it may not fit a
    /// JavaScript number); every time in the data is relative to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    t0: Option<String>,
    warnings: &'a [String],
    report: Option<ReportData<'a>>,
}

/// Encodes the page data as JSON that is safe to place inside a `<script>` element.
pub(crate) fn encode(history: &History, report: Option<&Report>, title: &str) -> String {
    let mut strings = Strings::default();
    let keys_of = partition_keys(history, report);
    let (keys, part_index) = index_keys(&keys_of, report, &mut strings);

    let mut procs: Vec<i64> = history.operations.iter().map(|op| op.process).collect();
    procs.sort_unstable();
    procs.dedup();
    let lane: HashMap<i64, u32> = procs
        .iter()
        .enumerate()
        .map(|(i, &p)| (p, i as u32))
        .collect();

    let t0 = history
        .operations
        .iter()
        .flat_map(|op| [op.invoke_time, op.complete_time])
        .chain(history.nemesis.iter().map(|n| n.time))
        .flatten()
        .min();
    let timed = history.operations.iter().any(|op| op.invoke_time.is_some());

    let mut ops = Ops::default();
    let mut last_invoked = 0i64;
    let mut last_time = t0.unwrap_or(0);
    for op in &history.operations {
        ops.p.push(lane[&op.process]);
        ops.f.push(strings.id(&op.f));
        ops.v.push(strings.value(&op.value));
        ops.r.push(strings.value(&op.result));
        ops.o.push(match op.outcome {
            Outcome::Ok => 'o',
            Outcome::Fail => 'f',
            Outcome::Info => 'i',
            Outcome::Pending => 'p',
        });
        let invoked = op.invoked_at as i64;
        ops.s.push(invoked - last_invoked);
        last_invoked = invoked;
        ops.d.push(op.completed_at.map(|c| c as i64 - invoked));
        if let Some(keys_of) = &keys_of {
            ops.k.push(part_index[&keys_of[op.id]]);
        }
        if timed {
            ops.t.push(op.invoke_time.map(|t| {
                let delta = t - last_time;
                last_time = t;
                delta
            }));
            ops.l
                .push(op.invoke_time.zip(op.complete_time).map(|(i, c)| c - i));
        }
        if let Some(error) = &op.error {
            ops.e.push(op.id as u64);
            ops.e.push(u64::from(strings.value(error)));
        }
    }

    let nemesis = history
        .nemesis
        .iter()
        .map(|n| {
            (
                strings.id(n.kind.as_str()),
                strings.id(&n.f),
                strings.value(&n.value),
                n.at,
                n.time.zip(t0).map(|(t, t0)| t - t0),
            )
        })
        .collect();

    let stalls = stall_windows(history, t0, &mut strings);
    let report = report.map(|r| report_data(r, &part_index, &mut strings));
    let data = PageData {
        title,
        strings: strings.table,
        events: history.event_count,
        procs,
        ops,
        lines: line_runs(history),
        keys,
        nemesis,
        stalls,
        t0: t0.map(|t| t.to_string()),
        warnings: &history.warnings,
        report,
    };
    script_safe(&serde_json::to_string(&data).expect("page data is plain JSON"))
}

/// A stall as the page data holds it: since and until (minus `t0`), the first events at or
/// after them, and its sentence's string id.
type StallWindow = (i64, Option<i64>, u64, Option<u64>, u32);

/// The history's stalls as the page shades them: in time, and in events (the first event at or
/// after each end).
fn stall_windows(history: &History, t0: Option<i64>, strings: &mut Strings) -> Vec<StallWindow> {
    let (_, stalls) = photofinish_history::stall::stalls_of(history);
    if stalls.is_empty() {
        return Vec::new();
    }
    let mut timed: Vec<(i64, u64)> = history
        .operations
        .iter()
        .flat_map(|op| {
            [
                op.invoke_time.map(|t| (t, op.invoked_at)),
                op.complete_time.zip(op.completed_at),
            ]
        })
        .chain(history.nemesis.iter().map(|n| n.time.map(|t| (t, n.at))))
        .flatten()
        .collect();
    timed.sort_unstable();
    let event_at = |time: i64| {
        let from = timed.partition_point(|&(t, _)| t < time);
        timed[from..].iter().map(|&(_, at)| at).min()
    };
    let t0 = t0.unwrap_or(0);
    stalls
        .iter()
        .map(|stall| {
            let text = format!("{stall}; waiting: {}", stall.waiting_text());
            (
                stall.since_ns - t0,
                stall.until_ns.map(|u| u - t0),
                event_at(stall.since_ns).unwrap_or(history.event_count),
                stall.until_ns.and_then(event_at),
                strings.id(&text),
            )
        })
        .collect()
}

/// The partition key of every operation, or `None` when the history is one partition.
///
/// Operations name their key in a `key` field or, for models the check found keyed (it split
/// the history into several partitions, or a failure names a key), in a `[key, value]` pair as
/// the keyed models read it ([`keyed_parts`]); a keyed operation without such a pair is keyed
/// by its whole value, as `create-once` reads a bare key.
fn partition_keys(history: &History, report: Option<&Report>) -> Option<Vec<Value>> {
    let keyed = report.is_some_and(|r| {
        r.partitions > 1
            || r.failures.iter().any(|f| f.key.is_some())
            || r.undecided.iter().any(|u| u.key.is_some())
    });
    let has_key_field = history.operations.iter().any(|op| op.key.is_some());
    if !keyed && !has_key_field {
        return None;
    }
    let key_of = |op: &Operation| match (&op.key, keyed) {
        (Some(key), _) => key.clone(),
        (None, true) => keyed_parts(op).map_or_else(|_| op.value.clone(), |(key, _, _)| key),
        (None, false) => Value::Null,
    };
    Some(history.operations.iter().map(key_of).collect())
}

/// Numbers the distinct keys, failing partitions first (so the page lists them first), then
/// in the values' order.
fn index_keys(
    keys_of: &Option<Vec<Value>>,
    report: Option<&Report>,
    strings: &mut Strings,
) -> (Vec<u32>, HashMap<Value, u32>) {
    let Some(keys_of) = keys_of else {
        return (Vec::new(), HashMap::new());
    };
    let failing: Vec<&Value> = report
        .into_iter()
        .flat_map(|r| &r.failures)
        .filter_map(|f| f.key.as_ref())
        .collect();
    let mut ordered: BTreeMap<(bool, &Value), ()> = BTreeMap::new();
    for key in keys_of {
        ordered.insert((!failing.contains(&key), key), ());
    }
    let mut index = HashMap::new();
    let mut keys = Vec::new();
    for ((_, key), ()) in ordered {
        index.insert(key.clone(), keys.len() as u32);
        keys.push(strings.value(key));
    }
    (keys, index)
}

fn report_data<'a>(
    report: &'a Report,
    part_index: &HashMap<Value, u32>,
    strings: &mut Strings,
) -> ReportData<'a> {
    let partition = |key: &Option<Value>| key.as_ref().and_then(|k| part_index.get(k).copied());
    let witness_of = |f: &Failure| report.witness.as_ref().filter(|w| w.key == f.key);
    let failure = |f: &'a Failure, strings: &mut Strings| FailureData {
        partition: partition(&f.key),
        reason: &f.reason,
        stuck: f.stuck.as_ref().map(|op| op.id),
        concurrent: f.concurrent.iter().map(|op| op.id).collect(),
        prefix: f
            .prefix
            .iter()
            .map(|step| (step.index, step.op.id, strings.value(&step.state)))
            .collect(),
        prefix_len: f.prefix_len,
        possible: f.possible_states.iter().map(|s| strings.value(s)).collect(),
        diagnosis: f
            .diagnosis
            .iter()
            .map(|d| (d.message.as_str(), d.lines.as_slice()))
            .collect(),
        witness: witness_of(f)
            .map(|w| w.operations.iter().map(|op| op.id).collect())
            .unwrap_or_default(),
        witness_minimal: witness_of(f).is_some_and(|w| w.minimal),
        witness_shrunk: witness_of(f).is_some_and(|w| w.shrunk),
    };
    ReportData {
        verdict: report.verdict,
        reason: report.reason.as_deref(),
        coverage: (
            report.coverage.ok,
            report.coverage.fail,
            report.coverage.info,
        ),
        warnings: &report.warnings,
        model: &report.model,
        partitions: report.partitions,
        decided: report.decided,
        configurations: report.configurations,
        elapsed_ms: report.elapsed.as_secs_f64() * 1e3,
        failures: report
            .failures
            .iter()
            .map(|f| failure(f, strings))
            .collect(),
        undecided: report
            .undecided
            .iter()
            .map(|u| (partition(&u.key), u.reason.as_str()))
            .collect(),
    }
}

/// The file line of every event, as runs: in most files the line is the event's index plus a
/// constant, so a history needs one or a few runs rather than a number per operation.
fn line_runs(history: &History) -> Vec<i64> {
    let mut lines: Vec<(u64, usize)> = history
        .operations
        .iter()
        .flat_map(|op| {
            std::iter::once((op.invoked_at, op.invoke_line))
                .chain(op.completed_at.zip(op.complete_line))
        })
        .chain(history.nemesis.iter().map(|n| (n.at, n.line)))
        .collect();
    lines.sort_unstable();
    let mut runs = Vec::new();
    let mut offset = None;
    for (event, line) in lines {
        let this = line as i64 - event as i64;
        if offset != Some(this) {
            runs.push(event as i64);
            runs.push(this);
            offset = Some(this);
        }
    }
    runs
}

/// Escapes the characters that could end the `<script>` element early (`</script>`, `<!--`)
/// or be read differently outside it. In JSON they can occur only inside strings, where the
/// `\u` escapes mean the same characters, so `JSON.parse` gets the same data back.
fn script_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 64);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use photofinish_history::{Event, EventKind, Process};

    fn ev(kind: EventKind, p: i64, f: &str, v: Value) -> Event {
        Event::new(kind, Process::Client(p), f, v)
    }

    #[test]
    fn markup_in_values_cannot_end_the_script_element() {
        let json = script_safe(r#"{"a":"</script><!-- & \u2028"}"#);
        assert!(
            !json.contains('<') && !json.contains('>') && !json.contains('&'),
            "{json}"
        );
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["a"], "</script><!-- & \u{2028}");
        let raw = script_safe("[\"\u{2028}\u{2029}\"]");
        assert_eq!(raw, r#"["\u2028\u2029"]"#);
    }

    #[test]
    fn columns_hold_differences_and_shared_strings() {
        let mut events = vec![
            ev(EventKind::Invoke, 0, "write", 1.into()),
            ev(EventKind::Invoke, 1, "write", 1.into()),
            ev(EventKind::Ok, 0, "write", 1.into()),
            ev(EventKind::Info, 1, "write", 1.into()),
            ev(EventKind::Invoke, 2, "read", Value::Null),
        ];
        for (i, e) in events.iter_mut().enumerate() {
            e.time = Some(1_000_000_000_000_000_000 + 10 * i as i64);
        }
        let history = History::from_events(events).unwrap();
        let data: serde_json::Value = serde_json::from_str(&encode(&history, None, "t")).unwrap();
        let ops = &data["ops"];
        assert_eq!(ops["s"], serde_json::json!([0, 1, 3]));
        assert_eq!(ops["d"], serde_json::json!([2, 2, null]));
        assert_eq!(ops["o"], "oip");
        assert_eq!(ops["t"], serde_json::json!([0, 10, 30]));
        assert_eq!(ops["l"], serde_json::json!([20, 20, null]));
        assert_eq!(ops["f"][0], ops["f"][1]);
        assert_eq!(data["t0"], "1000000000000000000");
        assert!(ops.get("k").is_none(), "one partition needs no key column");
        // Lines are event index + 1 throughout: one run.
        assert_eq!(data["lines"], serde_json::json!([0, 1]));
    }

    #[test]
    fn key_fields_make_partitions() {
        let history = History::from_events([
            ev(EventKind::Invoke, 0, "create", Value::Null).with_key("b"),
            ev(EventKind::Invoke, 1, "create", Value::Null).with_key("a"),
        ])
        .unwrap();
        let data: serde_json::Value = serde_json::from_str(&encode(&history, None, "t")).unwrap();
        let key = |i: usize| {
            let k = data["ops"]["k"][i].as_u64().unwrap() as usize;
            let s = data["keys"][k].as_u64().unwrap() as usize;
            data["strings"][s].as_str().unwrap().to_string()
        };
        assert_eq!((key(0), key(1)), ("\"b\"".to_string(), "\"a\"".to_string()));
        assert_eq!(data["ops"]["k"], serde_json::json!([1, 0]));
    }
}
