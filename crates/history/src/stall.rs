//! Stalls: spans of a history in which operations were waiting and none completed.
//!
//! A history can be linearizable and still show a system that stopped: two locks taken in
//! opposite orders, a paused server. Every operation caught in it ends `info` (or never), and
//! `info` operations cannot make a history invalid, so the checker's verdict says nothing about
//! it. This module says it: "from t = 3.20 s on, 18 of 20 clients waited and nothing completed
//! for 4.10 s".
//!
//! The rule ([`StallRule`]): a stall begins once, for `max(10 × p99 latency so far, 1 s)`,
//! operations have been outstanding and none completed with an answer (`ok` or `fail`; an `info`
//! is no answer: a timeout, a lost connection). The quiet clock starts at the last answer, or
//! at the first invocation after it; it ends at the next answer. One state machine,
//! [`StallClock`], applies the rule both to a run as it happens (the runner feeds it live and
//! writes each stall into the history) and to any recorded history with times ([`detect`]), so
//! the two agree.
//!
//! A run records a stall as the nemesis records a fault: `"process":"nemesis"` events of type
//! `info`, `f` [`STALL_START`] (written when the stall is detected) and [`STALL_STOP`] (written
//! at the next answer; none when the history ended stalled). Every reader already accepts
//! nemesis events, the checker never treats them as client operations, and Jepsen's own tools
//! read them as nemesis noise; a `"process":"stall"` would be refused by every reader.
//!
//! ```
//! use photofinish_history::stall::{detect, StallRule};
//! use photofinish_history::read_str;
//!
//! // Process 0 adds and is answered; then 0 and 1 wait 3 s for nothing.
//! let text = r#"{"type":"invoke","f":"add","value":1,"process":0,"time":0}
//! {"type":"ok","f":"add","value":1,"process":0,"time":1000000}
//! {"type":"invoke","f":"add","value":1,"process":0,"time":2000000}
//! {"type":"invoke","f":"read","value":null,"process":1,"time":3000000}
//! {"type":"info","f":"add","value":1,"process":0,"time":3002000000}
//! {"type":"info","f":"read","value":null,"process":1,"time":3003000000}
//! "#;
//! let history = read_str(text, "h.jsonl", None).unwrap();
//! let stalls = detect(&history, &StallRule::default());
//! assert_eq!(stalls.len(), 1);
//! assert_eq!(stalls[0].since_ns, 2_000_000);
//! assert_eq!(stalls[0].until_ns, None); // still stalled when the history ended
//! assert_eq!(
//!     stalls[0].to_string(),
//!     "from t = 0.00 s on, 2 of 2 clients waited and nothing completed for 3.00 s, until the history ended"
//! );
//! ```

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;

use crate::text::escape_and_clip;
use crate::{Event, EventKind, History, Process, Value};

/// The nemesis function of the event that says a stall was detected.
pub const STALL_START: &str = "start-stall";
/// The nemesis function of the event that says a stall ended: an operation completed.
pub const STALL_STOP: &str = "stop-stall";

/// How many waiting operations a stall lists (its count says how many there were): a stall of
/// 10,000 clients stays one readable line of the history.
pub const LISTED_WAITING: usize = 64;

/// When quiet becomes a stall: no answer for `factor` × the p99 latency of the answers so far,
/// and never less than `floor_ns`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct StallRule {
    pub factor: f64,
    pub floor_ns: i64,
}

impl Default for StallRule {
    /// 10 × p99, at least 1 s.
    fn default() -> StallRule {
        StallRule {
            factor: 10.0,
            floor_ns: 1_000_000_000,
        }
    }
}

impl StallRule {
    /// How long a quiet must last to be a stall, given the p99 latency so far (none yet: the
    /// floor).
    pub fn threshold_ns(&self, p99_ns: Option<i64>) -> i64 {
        let scaled = p99_ns.map_or(0.0, |p| p as f64 * self.factor);
        (scaled.min(i64::MAX as f64) as i64).max(self.floor_ns)
    }
}

/// Latencies in buckets a quarter of a power of two wide: a p99 within 19 %, in constant
/// memory, the same whether a run feeds it live or [`detect`] replays a history.
#[derive(Clone, Debug)]
pub struct LatencyBuckets {
    counts: Vec<u64>,
    total: u64,
}

const BUCKETS: usize = 4 * 64;

impl Default for LatencyBuckets {
    fn default() -> LatencyBuckets {
        LatencyBuckets {
            counts: vec![0; BUCKETS],
            total: 0,
        }
    }
}

impl LatencyBuckets {
    fn bucket(nanos: i64) -> usize {
        if nanos <= 1 {
            return 0;
        }
        (((nanos as f64).log2() * 4.0) as usize).min(BUCKETS - 1)
    }

    pub fn record(&mut self, nanos: i64) {
        self.counts[Self::bucket(nanos)] += 1;
        self.total += 1;
    }

    /// The upper edge of the bucket holding the `q` quantile; `None` before any latency.
    pub fn quantile(&self, q: f64) -> Option<i64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((self.total as f64 * q).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (bucket, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Some(2f64.powf((bucket + 1) as f64 / 4.0).min(i64::MAX as f64) as i64);
            }
        }
        None
    }
}

/// An operation a stall kept waiting.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Waiting {
    pub process: i64,
    pub f: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<Value>,
    /// When it was invoked, in the history's nanoseconds.
    pub since_ns: i64,
}

/// A span in which operations waited and none completed. Times are the history's (for a run,
/// nanoseconds since the history was opened).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Stall {
    /// Nothing completed from here on: the last answer, or the first invocation after it.
    pub since_ns: i64,
    /// When the quiet became a stall: `since_ns` + `threshold_ns`.
    pub detected_ns: i64,
    /// The next answer; `None` when the history (the run) ended stalled.
    pub until_ns: Option<i64>,
    /// From `since_ns` to the next answer or the end of the history.
    pub lasted_ns: i64,
    /// How long a quiet had to last to count: 10 × the p99 so far, at least 1 s.
    pub threshold_ns: i64,
    /// The run's clients (from the history: its header's, else the most operations ever
    /// outstanding at once).
    pub clients: usize,
    /// How many operations were waiting when the stall was detected.
    pub waiting_count: usize,
    /// The waiting operations, oldest first, at most [`LISTED_WAITING`].
    pub waiting: Vec<Waiting>,
}

fn seconds(ns: i64) -> String {
    format!("{:.2} s", ns as f64 / 1e9)
}

impl Stall {
    /// Whether the history ended in this stall.
    pub fn ongoing(&self) -> bool {
        self.until_ns.is_none()
    }

    /// Who waited on what, for a person: `add key 1 (12 processes: 0, 1, 2, …), read (6: …)`.
    /// Text from the history is escaped.
    pub fn waiting_text(&self) -> String {
        let mut groups: Vec<(String, Vec<i64>)> = Vec::new();
        for w in &self.waiting {
            let mut what = escape_and_clip(&w.f, 40);
            if let Some(key) = &w.key {
                what.push_str(" key ");
                what.push_str(&escape_and_clip(&key.to_json_string(), 40));
            }
            match groups.iter_mut().find(|(g, _)| *g == what) {
                Some((_, processes)) => processes.push(w.process),
                None => groups.push((what, vec![w.process])),
            }
        }
        let mut parts: Vec<String> = groups
            .iter()
            .take(6)
            .map(|(what, processes)| {
                let shown: Vec<String> = processes.iter().take(8).map(i64::to_string).collect();
                let more = if processes.len() > 8 { ", …" } else { "" };
                let noun = if processes.len() == 1 {
                    "process"
                } else {
                    "processes"
                };
                format!("{what} ({noun} {}{more})", shown.join(", "))
            })
            .collect();
        if groups.len() > 6 {
            parts.push(format!("{} more kinds", groups.len() - 6));
        }
        if self.waiting_count > self.waiting.len() {
            parts.push(format!(
                "{} more not listed",
                self.waiting_count - self.waiting.len()
            ));
        }
        parts.join("; ")
    }

    /// The history's event that records this stall's detection.
    pub fn start_event(&self) -> Event {
        let value = serde_json::json!({
            "since_ns": self.since_ns,
            "detected_ns": self.detected_ns,
            "threshold_ns": self.threshold_ns,
            "clients": self.clients,
            "waiting_count": self.waiting_count,
            "waiting": self.waiting,
        });
        nemesis_event(STALL_START, &value)
    }

    /// The history's event that records this stall's end.
    pub fn stop_event(&self) -> Event {
        let value = serde_json::json!({
            "since_ns": self.since_ns,
            "until_ns": self.until_ns,
            "lasted_ns": self.lasted_ns,
        });
        nemesis_event(STALL_STOP, &value)
    }
}

fn nemesis_event(f: &str, value: &serde_json::Value) -> Event {
    let value = Value::from_json_str(&value.to_string()).unwrap_or(Value::Null);
    Event::new(EventKind::Info, Process::Nemesis, f, value)
}

impl fmt::Display for Stall {
    /// `from t = 3.20 s on, 18 of 20 clients waited and nothing completed for 4.10 s`, and how
    /// it ended.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "from t = {} on, {} of {} clients waited and nothing completed for {}",
            seconds(self.since_ns),
            self.waiting_count,
            self.clients.max(self.waiting_count),
            seconds(self.lasted_ns)
        )?;
        if self.ongoing() {
            f.write_str(", until the history ended")
        } else {
            Ok(())
        }
    }
}

/// The rule applied to events as they come, in real-time order: the runner feeds it live,
/// [`detect`] replays a history through it.
///
/// Call [`StallClock::poll`] with the time of every event before giving the event (a stall may
/// have begun in the gap before it), and in between as often as a stall should be noticed.
#[derive(Clone, Debug)]
pub struct StallClock {
    rule: StallRule,
    clients: usize,
    open: HashMap<i64, Waiting>,
    quiet_since: Option<i64>,
    latencies: LatencyBuckets,
    current: Option<Stall>,
    stalls: Vec<Stall>,
}

impl StallClock {
    pub fn new(rule: StallRule, clients: usize) -> StallClock {
        StallClock {
            rule,
            clients,
            open: HashMap::new(),
            quiet_since: None,
            latencies: LatencyBuckets::default(),
            current: None,
            stalls: Vec::new(),
        }
    }

    /// `process` invoked `f` (on `key`) at `at`.
    pub fn invoke(&mut self, process: i64, f: &str, key: Option<&Value>, at: i64) {
        self.open.insert(
            process,
            Waiting {
                process,
                f: f.to_string(),
                key: key.cloned(),
                since_ns: at,
            },
        );
        self.quiet_since.get_or_insert(at);
    }

    /// `process`'s operation completed at `at`: with an answer (`ok`, `fail`) when `answered`,
    /// else `info`. Returns the stall an answer ended.
    pub fn complete(&mut self, process: i64, answered: bool, at: i64) -> Option<Stall> {
        let op = self.open.remove(&process);
        if !answered {
            return None;
        }
        if let Some(op) = op {
            self.latencies.record(at.saturating_sub(op.since_ns));
        }
        self.quiet_since = (!self.open.is_empty()).then_some(at);
        let mut ended = self.current.take()?;
        ended.until_ns = Some(at);
        ended.lasted_ns = at.saturating_sub(ended.since_ns);
        self.stalls.push(ended.clone());
        Some(ended)
    }

    /// When a stall begins if nothing is answered before: `None` while nothing waits or while
    /// a stall is already on.
    pub fn deadline(&self) -> Option<i64> {
        if self.current.is_some() || self.open.is_empty() {
            return None;
        }
        let since = self.quiet_since?;
        let threshold = self.rule.threshold_ns(self.latencies.quantile(0.99));
        Some(since.saturating_add(threshold))
    }

    /// Looks at the clock at `now`: the stall that began by then, once, when one did.
    pub fn poll(&mut self, now: i64) -> Option<Stall> {
        let deadline = self.deadline()?;
        if now < deadline {
            return None;
        }
        let since = self.quiet_since.unwrap_or(deadline);
        let mut waiting: Vec<Waiting> = self
            .open
            .values()
            .filter(|w| w.since_ns <= deadline)
            .cloned()
            .collect();
        waiting.sort_by_key(|w| (w.since_ns, w.process));
        let waiting_count = waiting.len();
        waiting.truncate(LISTED_WAITING);
        let stall = Stall {
            since_ns: since,
            detected_ns: deadline,
            until_ns: None,
            lasted_ns: deadline - since,
            threshold_ns: deadline - since,
            clients: self.clients.max(waiting_count),
            waiting_count,
            waiting,
        };
        self.current = Some(stall.clone());
        Some(stall)
    }

    /// The stall on now, if any.
    pub fn current(&self) -> Option<&Stall> {
        self.current.as_ref()
    }

    /// Every stall, the one still on at `end` last (lasting to `end`).
    pub fn finish(mut self, end: i64) -> Vec<Stall> {
        if let Some(mut last) = self.current.take() {
            last.lasted_ns = end.max(last.detected_ns) - last.since_ns;
            self.stalls.push(last);
        }
        self.stalls
    }
}

/// The stalls of a history, found from its events' times by the rule a run applies. A history
/// without a time on every client event has none to find.
pub fn detect(history: &History, rule: &StallRule) -> Vec<Stall> {
    let mut events: Vec<(u64, i64, usize, Option<bool>)> =
        Vec::with_capacity(history.operations.len() * 2);
    for (index, op) in history.operations.iter().enumerate() {
        let Some(invoked) = op.invoke_time else {
            return Vec::new();
        };
        events.push((op.invoked_at, invoked, index, None));
        if let Some(at) = op.completed_at {
            let Some(time) = op.complete_time else {
                return Vec::new();
            };
            let answered = matches!(op.outcome, crate::Outcome::Ok | crate::Outcome::Fail);
            events.push((at, time, index, Some(answered)));
        }
    }
    events.sort_unstable_by_key(|e| e.0);
    let clients = clients_of(history, &events);
    let mut clock = StallClock::new(*rule, clients);
    // Real-time order is the file's; a time that goes backwards is taken as the one before.
    let mut now = i64::MIN;
    for &(_, time, index, completion) in &events {
        now = now.max(time);
        clock.poll(now);
        let op = &history.operations[index];
        match completion {
            None => clock.invoke(op.process, &op.f, op.key.as_ref(), now),
            Some(answered) => {
                clock.complete(op.process, answered, now);
            }
        }
    }
    let end = history
        .nemesis
        .iter()
        .filter_map(|n| n.time)
        .fold(now, i64::max);
    clock.poll(end);
    clock.finish(end)
}

/// The clients of a history: its header's `options.clients`, else the most operations
/// outstanding at once.
fn clients_of(history: &History, events: &[(u64, i64, usize, Option<bool>)]) -> usize {
    let recorded = history
        .header
        .as_ref()
        .and_then(|h| h.other.get("options"))
        .and_then(|options| match options {
            Value::Map(map) => map.get(&Value::Str("clients".into())),
            _ => None,
        })
        .and_then(Value::as_i64);
    if let Some(clients) = recorded {
        return clients.max(0) as usize;
    }
    let (mut open, mut peak) = (0usize, 0usize);
    for event in events {
        if event.3.is_none() {
            open += 1;
            peak = peak.max(open);
        } else {
            open = open.saturating_sub(1);
        }
    }
    peak
}

/// The stalls a run recorded in the history ([`STALL_START`] and [`STALL_STOP`] events).
pub fn recorded(history: &History) -> Vec<Stall> {
    let end = history
        .operations
        .iter()
        .flat_map(|op| [op.invoke_time, op.complete_time])
        .chain(history.nemesis.iter().map(|n| n.time))
        .flatten()
        .max()
        .unwrap_or(0);
    let mut stalls: Vec<Stall> = Vec::new();
    for event in &history.nemesis {
        let field = |name: &str| match &event.value {
            Value::Map(map) => map.get(&Value::Str(name.into())).cloned(),
            _ => None,
        };
        let int = |name: &str| field(name).and_then(|v| v.as_i64());
        if event.f == STALL_START {
            let (Some(since), Some(detected)) = (int("since_ns"), int("detected_ns")) else {
                continue;
            };
            let waiting: Vec<Waiting> = field("waiting")
                .and_then(|w| w.as_list().map(std::borrow::Cow::into_owned))
                .unwrap_or_default()
                .iter()
                .filter_map(waiting_of)
                .collect();
            stalls.push(Stall {
                since_ns: since,
                detected_ns: detected,
                until_ns: None,
                lasted_ns: end.max(detected) - since,
                threshold_ns: int("threshold_ns").unwrap_or(detected - since),
                clients: int("clients").unwrap_or(0).max(0) as usize,
                waiting_count: int("waiting_count").map_or(waiting.len(), |n| n.max(0) as usize),
                waiting,
            });
        } else if event.f == STALL_STOP {
            let (Some(since), Some(until)) = (int("since_ns"), int("until_ns")) else {
                continue;
            };
            if let Some(stall) = stalls
                .iter_mut()
                .rev()
                .find(|s| s.since_ns == since && s.until_ns.is_none())
            {
                stall.until_ns = Some(until);
                stall.lasted_ns = until - since;
            }
        }
    }
    stalls
}

fn waiting_of(value: &Value) -> Option<Waiting> {
    let Value::Map(map) = value else {
        return None;
    };
    let get = |name: &str| map.get(&Value::Str(name.into()));
    Some(Waiting {
        process: get("process")?.as_i64()?,
        f: get("f")?.as_str()?.to_string(),
        key: get("key").cloned(),
        since_ns: get("since_ns")?.as_i64()?,
    })
}

/// Where a history's stalls come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StallSource {
    /// The run that wrote the history recorded them as they happened.
    Recorded,
    /// Found from the events' times by [`detect`].
    Detected,
}

/// The stalls of a history: those its run recorded when it has any stall events, else those
/// [`detect`] finds with the default rule.
pub fn stalls_of(history: &History) -> (StallSource, Vec<Stall>) {
    let has_events = history
        .nemesis
        .iter()
        .any(|n| n.f == STALL_START || n.f == STALL_STOP);
    if has_events {
        (StallSource::Recorded, recorded(history))
    } else {
        (
            StallSource::Detected,
            detect(history, &StallRule::default()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read_str;

    fn line(kind: &str, f: &str, process: i64, ms: i64) -> String {
        format!(
            "{{\"type\":\"{kind}\",\"f\":\"{f}\",\"value\":null,\"process\":{process},\"time\":{}}}\n",
            ms * 1_000_000
        )
    }

    #[test]
    fn quiet_shorter_than_the_floor_is_no_stall() {
        let text = [
            line("invoke", "read", 0, 0),
            line("ok", "read", 0, 900),
            line("invoke", "read", 0, 950),
            line("ok", "read", 0, 1900),
        ]
        .concat();
        let history = read_str(&text, "h", None).unwrap();
        assert!(detect(&history, &StallRule::default()).is_empty());
    }

    #[test]
    fn an_answer_ends_the_stall_and_says_how_long_it_lasted() {
        let text = [
            line("invoke", "read", 0, 0),
            line("ok", "read", 0, 1),
            line("invoke", "read", 0, 100),
            line("invoke", "write", 1, 200),
            line("info", "write", 1, 1300),
            line("ok", "read", 0, 3100),
            line("invoke", "read", 0, 3200),
            line("ok", "read", 0, 3201),
        ]
        .concat();
        let history = read_str(&text, "h", None).unwrap();
        let stalls = detect(&history, &StallRule::default());
        assert_eq!(stalls.len(), 1, "{stalls:?}");
        let stall = &stalls[0];
        assert_eq!(stall.since_ns, 100_000_000);
        assert_eq!(stall.detected_ns, 1_100_000_000);
        assert_eq!(stall.until_ns, Some(3_100_000_000));
        assert_eq!(stall.waiting_count, 2);
        assert_eq!(stall.waiting_text(), "read (process 0); write (process 1)");
        assert_eq!(
            stall.to_string(),
            "from t = 0.10 s on, 2 of 2 clients waited and nothing completed for 3.00 s"
        );
    }

    #[test]
    fn idle_time_with_nothing_outstanding_is_no_stall() {
        let text = [
            line("invoke", "read", 0, 0),
            line("ok", "read", 0, 1),
            line("invoke", "read", 0, 5000),
            line("ok", "read", 0, 5001),
        ]
        .concat();
        let history = read_str(&text, "h", None).unwrap();
        assert!(detect(&history, &StallRule::default()).is_empty());
    }

    #[test]
    fn the_threshold_grows_with_the_p99() {
        // Answers take 200 ms: 10 × p99 is about 2 s, so 1.5 s of quiet is no stall.
        let mut lines = Vec::new();
        for i in 0..10 {
            lines.push(line("invoke", "read", 0, i * 300));
            lines.push(line("ok", "read", 0, i * 300 + 200));
        }
        lines.push(line("invoke", "read", 0, 3000));
        lines.push(line("ok", "read", 0, 4500));
        let history = read_str(&lines.concat(), "h", None).unwrap();
        assert!(detect(&history, &StallRule::default()).is_empty());
        let rule = StallRule {
            factor: 1.0,
            floor_ns: 1_000_000_000,
        };
        assert_eq!(detect(&history, &rule).len(), 1);
    }

    #[test]
    fn recorded_events_read_back_as_the_stall_they_record() {
        let mut clock = StallClock::new(StallRule::default(), 3);
        clock.invoke(0, "add", Some(&Value::Int(1)), 10);
        clock.invoke(4, "read", None, 20);
        assert!(clock.poll(500_000_000).is_none());
        let started = clock.poll(2_000_000_000).unwrap();
        assert_eq!(started.detected_ns, 1_000_000_010);
        assert!(clock.poll(2_500_000_000).is_none(), "reported once");
        let ended = clock.complete(0, true, 3_000_000_010).unwrap();
        let mut text = String::new();
        for event in [started.start_event(), ended.stop_event()] {
            text.push_str(&serde_json::to_string(&event).unwrap());
            text.push('\n');
        }
        let history = read_str(&text, "h", None).unwrap();
        assert!(history.operations.is_empty());
        let (source, stalls) = stalls_of(&history);
        assert_eq!(source, StallSource::Recorded);
        assert_eq!(stalls, vec![ended]);
        assert_eq!(stalls[0].lasted_ns, 3_000_000_000);
        assert_eq!(stalls[0].waiting[0].key, Some(Value::Int(1)));
    }

    #[test]
    fn histories_without_times_have_no_stalls_to_find() {
        let text = "{\"type\":\"invoke\",\"f\":\"read\",\"value\":null,\"process\":0}\n";
        let history = read_str(text, "h", None).unwrap();
        assert!(detect(&history, &StallRule::default()).is_empty());
    }

    #[test]
    fn buckets_overestimate_by_less_than_a_fifth() {
        let mut buckets = LatencyBuckets::default();
        assert_eq!(buckets.quantile(0.99), None);
        for n in 1..=1000 {
            buckets.record(n * 1_000_000);
        }
        let p99 = buckets.quantile(0.99).unwrap() as f64;
        assert!((990e6..990e6 * 1.19).contains(&p99), "{p99}");
    }
}
