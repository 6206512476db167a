//! Jepsen's long-fork workload: each write transaction writes one fresh key once
//! (`[[:w k 1]]`), and read transactions read a whole group of `group_size` keys. Under
//! snapshot isolation (and stronger) all reads see writes in one order; under parallel
//! snapshot isolation two reads may see two writes in opposite orders: one saw `x` written
//! but not `y`, the other `y` but not `x`. That pair is a long fork.
//!
//! Reads are grouped by the keys they read; a read must read exactly `group_size` keys, and
//! two reads of a group compare key by key: a key one saw written and the other saw as `nil`
//! puts the first after the second. Two reads each ahead of the other on some key fork.
//! Only committed reads count. A key written twice makes the check undecided, as in Jepsen.
//!
//! ```
//! use photofinish_history::read_str;
//! use photofinish_txn::long_fork::{check_long_fork, LongForkOptions};
//! use photofinish_txn::Verdict;
//!
//! let history = read_str(
//!     r#"{"type":"invoke","process":0,"f":"txn","value":[["w",0,1]]}
//! {"type":"invoke","process":1,"f":"txn","value":[["w",1,1]]}
//! {"type":"ok","process":0,"f":"txn","value":[["w",0,1]]}
//! {"type":"ok","process":1,"f":"txn","value":[["w",1,1]]}
//! {"type":"invoke","process":2,"f":"txn","value":[["r",0,null],["r",1,null]]}
//! {"type":"invoke","process":3,"f":"txn","value":[["r",0,null],["r",1,null]]}
//! {"type":"ok","process":2,"f":"txn","value":[["r",0,1],["r",1,null]]}
//! {"type":"ok","process":3,"f":"txn","value":[["r",0,null],["r",1,1]]}
//! "#,
//!     "fork.jsonl",
//!     None,
//! )
//! .unwrap();
//! let report = check_long_fork(&history, "fork.jsonl", &LongForkOptions::default()).unwrap();
//! assert_eq!(report.verdict, Verdict::Invalid);
//! ```

use std::collections::BTreeMap;
use std::time::Instant;

use photofinish_history::History;

use crate::anomaly::AnomalyKind;
use crate::error::TxnError;
use crate::explain::{self, outcome_counts, txn_name, txn_ref, Findings};
use crate::report::{Finding, Report, Verdict};
use crate::txns::{MopKind, Txns, Workload, NIL, UNKNOWN};

/// How to check a long-fork history.
#[derive(Clone, Debug)]
pub struct LongForkOptions {
    /// Keys each read reads (Jepsen's default is 2).
    pub group_size: usize,
}

impl Default for LongForkOptions {
    fn default() -> Self {
        LongForkOptions { group_size: 2 }
    }
}

/// A committed read of a group: the transaction, and `(key, value or NIL)` sorted by key.
type GroupRead = (u32, Vec<(u32, u32)>);

/// Checks a long-fork history.
pub fn check_long_fork(
    history: &History,
    origin: &str,
    options: &LongForkOptions,
) -> Result<Report, TxnError> {
    let started = Instant::now();
    let txns = Txns::from_history(history, Workload::RwRegister, origin)?;
    let mut notes = Vec::new();
    // A key written more than once breaks the checker's assumption.
    let mut written: BTreeMap<u32, usize> = BTreeMap::new();
    for (t, txn) in txns.txns.iter().enumerate() {
        for m in txns.mops_of(t as u32) {
            if m.kind == MopKind::Write {
                if let Some(first) = written.insert(m.key, t) {
                    notes.push(format!(
                        "key {} is written by the transactions on lines {} and {}: long-fork needs every key written once, so nothing was decided",
                        explain::key(&txns, m.key),
                        txns.txns[first].invoke_line,
                        txn.invoke_line
                    ));
                    return Ok(report(
                        &txns,
                        Verdict::Unknown,
                        Findings::default(),
                        notes,
                        started,
                    ));
                }
            }
        }
    }
    // Committed reads, grouped by the keys they read.
    let mut groups: BTreeMap<Vec<u32>, Vec<GroupRead>> = BTreeMap::new();
    let mut reads = 0usize;
    for (t, txn) in txns.txns.iter().enumerate() {
        let mops = txns.mops_of(t as u32);
        if !txn.committed()
            || mops.is_empty()
            || mops
                .iter()
                .any(|m| m.kind != MopKind::Read || m.value == UNKNOWN)
        {
            continue;
        }
        let mut seen: Vec<(u32, u32)> = mops.iter().map(|m| (m.key, m.value)).collect();
        seen.sort_unstable();
        seen.dedup_by_key(|s| s.0);
        if seen.len() != options.group_size {
            return Err(TxnError::at(
                origin,
                txn.complete_line as usize,
                format!(
                    "every long-fork read should read a group of {} keys (--group-size), but this one read {}",
                    options.group_size,
                    seen.len()
                ),
            ));
        }
        reads += 1;
        let keys: Vec<u32> = seen.iter().map(|s| s.0).collect();
        groups.entry(keys).or_default().push((t as u32, seen));
    }
    let mut findings = Findings::default();
    for reads in groups.values() {
        // Reads that saw the same thing fork alike: compare one of each.
        let mut distinct: Vec<&GroupRead> = Vec::new();
        for r in reads {
            if !distinct.iter().any(|d| d.1 == r.1) {
                distinct.push(r);
            }
        }
        for (i, a) in distinct.iter().enumerate() {
            for b in &distinct[i + 1..] {
                let mut a_ahead = None;
                let mut b_ahead = None;
                for (x, y) in a.1.iter().zip(&b.1) {
                    match (x.1 == NIL, y.1 == NIL) {
                        (false, true) => a_ahead = Some(x.0),
                        (true, false) => b_ahead = Some(x.0),
                        (false, false) if x.1 != y.1 => {
                            return Err(TxnError::at(
                                origin,
                                txns.txns[b.0 as usize].complete_line as usize,
                                format!(
                                    "key {} reads as {} here and {} on line {}; long-fork needs every key written once",
                                    explain::key(&txns, x.0),
                                    explain::value(&txns, y.1),
                                    explain::value(&txns, x.1),
                                    txns.txns[a.0 as usize].complete_line
                                ),
                            ))
                        }
                        _ => {}
                    }
                }
                if let (Some(ka), Some(kb)) = (a_ahead, b_ahead) {
                    let summary = format!(
                        "{} saw key {} written but not key {}; {} saw key {} written but not key {}: the two writes were seen in opposite orders",
                        txn_name(a.0),
                        explain::key(&txns, ka),
                        explain::key(&txns, kb),
                        txn_name(b.0),
                        explain::key(&txns, kb),
                        explain::key(&txns, ka),
                    );
                    findings.add(AnomalyKind::LongFork, || Finding {
                        kind: AnomalyKind::LongFork,
                        summary,
                        transactions: vec![txn_ref(&txns, a.0), txn_ref(&txns, b.0)],
                        steps: Vec::new(),
                    });
                }
            }
        }
    }
    notes.extend(findings.overflow_notes());
    let verdict = if !findings.counts.is_empty() {
        Verdict::Invalid
    } else if reads == 0 {
        notes.push("no read of a group committed: nothing was tested".to_string());
        Verdict::Unknown
    } else {
        Verdict::Valid
    };
    Ok(report(&txns, verdict, findings, notes, started))
}

fn report(
    txns: &Txns,
    verdict: Verdict,
    findings: Findings,
    notes: Vec<String>,
    started: Instant,
) -> Report {
    let (committed, failed, indeterminate) = outcome_counts(txns.txns.iter().map(|t| &t.outcome));
    let Findings { kept, counts } = findings;
    Report {
        workload: "long-fork".to_string(),
        verdict,
        consistency_model: None,
        ruled_out: Vec::new(),
        anomaly_types: counts.keys().copied().collect(),
        anomaly_counts: counts.iter().map(|(k, n)| (k.name(), *n)).collect(),
        anomalies: kept,
        operations: txns.txns.len(),
        committed,
        failed,
        indeterminate,
        notes,
        elapsed_ms: started.elapsed().as_secs_f64() * 1e3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use photofinish_history::{read_str, Format};

    fn check(text: &str) -> Result<Report, TxnError> {
        let h = read_str(text, "l.edn", Some(Format::Edn)).unwrap();
        check_long_fork(&h, "l.edn", &LongForkOptions::default())
    }

    fn txn(p: i64, kind: &str, value: &str) -> String {
        format!("{{:process {p} :type :{kind} :f :txn :value {value}}}\n")
    }

    #[test]
    fn opposite_orders_are_a_long_fork() {
        let mut h = String::new();
        h += &txn(0, "invoke", "[[:w 0 1]]");
        h += &txn(1, "invoke", "[[:w 1 1]]");
        h += &txn(2, "invoke", "[[:r 0 nil] [:r 1 nil]]");
        h += &txn(3, "invoke", "[[:r 1 nil] [:r 0 nil]]");
        h += &txn(0, "ok", "[[:w 0 1]]");
        h += &txn(1, "ok", "[[:w 1 1]]");
        h += &txn(2, "ok", "[[:r 0 1] [:r 1 nil]]");
        h += &txn(3, "ok", "[[:r 1 1] [:r 0 nil]]");
        let r = check(&h).unwrap();
        assert_eq!(r.verdict, Verdict::Invalid);
        assert_eq!(r.anomaly_types, [AnomalyKind::LongFork]);
        assert!(
            r.anomalies[0]
                .summary
                .contains("T3 saw key 0 written but not key 1"),
            "{}",
            r.anomalies[0].summary
        );
    }

    #[test]
    fn one_order_is_valid_and_bad_groups_are_errors() {
        let mut h = String::new();
        h += &txn(0, "invoke", "[[:w 0 1]]");
        h += &txn(0, "ok", "[[:w 0 1]]");
        h += &txn(2, "invoke", "[[:r 0 nil] [:r 1 nil]]");
        h += &txn(2, "ok", "[[:r 0 1] [:r 1 nil]]");
        h += &txn(1, "invoke", "[[:w 1 1]]");
        h += &txn(1, "ok", "[[:w 1 1]]");
        h += &txn(3, "invoke", "[[:r 1 nil] [:r 0 nil]]");
        h += &txn(3, "ok", "[[:r 1 1] [:r 0 1]]");
        assert_eq!(check(&h).unwrap().verdict, Verdict::Valid);
        let bad = txn(2, "invoke", "[[:r 0 nil]]") + &txn(2, "ok", "[[:r 0 nil]]");
        let err = check(&bad).unwrap_err().to_string();
        assert!(
            err.starts_with("l.edn:2: every long-fork read should read a group of 2 keys"),
            "{err}"
        );
        let twice = txn(0, "invoke", "[[:w 0 1]]") + &txn(1, "invoke", "[[:w 0 2]]");
        let r = check(&twice).unwrap();
        assert_eq!(r.verdict, Verdict::Unknown);
        assert!(r.notes[0].contains("written by the transactions on lines 1 and 2"));
    }
}
