//! Jepsen's bank workload: clients transfer amounts between accounts and read every balance
//! at once. Transfers keep the total, so every read must add up to it, and (unless negative
//! balances are allowed) show no negative balance. A read that does not is a snapshot that
//! never existed: some transfer was seen half done.
//!
//! Operations, as Jepsen writes them: `{:f :read, :value nil}` completing with
//! `{:f :read, :value {0 10, 1 90}}` (in JSON, `{"0": 10, "1": 90}`), and
//! `{:f :transfer, :value {:from 0, :to 1, :amount 5}}`. Only reads that completed `ok` are
//! checked, as Jepsen does. Accounts are compared by name, so `0` in EDN and `"0"` in JSON
//! are the same account.
//!
//! ```
//! use photofinish_history::read_str;
//! use photofinish_txn::bank::{check_bank, BankOptions};
//! use photofinish_txn::Verdict;
//!
//! let history = read_str(
//!     "{:process 0 :type :invoke :f :read :value nil}\n\
//!      {:process 0 :type :ok :f :read :value {0 10 1 85}}\n",
//!     "bank.edn",
//!     None,
//! )
//! .unwrap();
//! let options = BankOptions { total: Some(100), ..BankOptions::default() };
//! let report = check_bank(&history, "bank.edn", &options).unwrap();
//! assert_eq!(report.verdict, Verdict::Invalid);
//! assert!(report.anomalies[0].summary.contains("add up to 95, not 100"));
//! ```

use std::collections::BTreeMap;
use std::time::Instant;

use photofinish_history::{History, Outcome, Value};

use crate::anomaly::AnomalyKind;
use crate::error::TxnError;
use crate::explain::{op_ref, outcome_counts, Findings};
use crate::render::clip;
use crate::report::{Finding, Report, Verdict};

/// How to check a bank history.
#[derive(Clone, Debug, Default)]
pub struct BankOptions {
    /// The total every read must show; when `None`, the total most reads show is taken (and
    /// the report says so).
    pub total: Option<i64>,
    /// The accounts that exist; when `None`, any account a read names is accepted.
    pub accounts: Option<Vec<Value>>,
    /// Whether balances may go below zero.
    pub allow_negative: bool,
}

fn account_name(v: &Value) -> String {
    match v {
        Value::Str(s) => s.clone(),
        other => other.to_json_string(),
    }
}

/// A read's balances by account name; `None` for a missing balance.
type Balances = BTreeMap<String, Option<i64>>;

fn balances(value: &Value) -> Result<Balances, String> {
    let Value::Map(map) = value else {
        return Err(format!(
            "a bank read returns a map from account to balance, like {{\"0\": 10, \"1\": 90}}; found {}",
            clip(&value.to_json_string(), 60)
        ));
    };
    map.iter()
        .map(|(k, v)| match v {
            Value::Int(b) => Ok((account_name(k), Some(*b))),
            Value::Null => Ok((account_name(k), None)),
            other => Err(format!(
                "account {} has balance {}: expected an integer",
                clip(&account_name(k), 30),
                clip(&other.to_json_string(), 30)
            )),
        })
        .collect()
}

fn show(b: &Balances) -> String {
    let parts: Vec<String> = b
        .iter()
        .map(|(k, v)| format!("{}: {}", k, v.map_or("nil".to_string(), |v| v.to_string())))
        .collect();
    clip(&format!("{{{}}}", parts.join(", ")), 200)
}

/// Checks a bank history.
pub fn check_bank(
    history: &History,
    origin: &str,
    options: &BankOptions,
) -> Result<Report, TxnError> {
    let started = Instant::now();
    let mut reads: Vec<(usize, Balances)> = Vec::new();
    for (i, op) in history.operations.iter().enumerate() {
        match op.f.as_str() {
            "transfer" => {}
            "read" if op.outcome == Outcome::Ok => {
                let line = op.complete_line.unwrap_or(op.invoke_line);
                let b = balances(&op.result).map_err(|m| TxnError::at(origin, line, m))?;
                reads.push((i, b));
            }
            "read" => {}
            other => {
                return Err(TxnError::at(
                    origin,
                    op.invoke_line,
                    format!(
                        "`{}` is not a bank operation: expected read or transfer",
                        clip(other, 40)
                    ),
                ))
            }
        }
    }
    let mut notes = Vec::new();
    let total = match options.total {
        Some(t) => Some(t),
        None => {
            // The total most reads agree on (the smallest, on a tie).
            let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
            for (_, b) in &reads {
                if b.values().all(Option::is_some) {
                    *counts.entry(b.values().flatten().sum()).or_default() += 1;
                }
            }
            let best = counts
                .iter()
                .max_by_key(|(t, n)| (**n, std::cmp::Reverse(**t)))
                .map(|(t, n)| (*t, *n));
            if let Some((t, n)) = best {
                notes.push(format!(
                    "the total was not given: taken as {t}, which {n} of {} reads show (pass --total to set it)",
                    reads.len()
                ));
            }
            best.map(|(t, _)| t)
        }
    };
    let accounts: Option<Vec<String>> = options
        .accounts
        .as_ref()
        .map(|a| a.iter().map(account_name).collect());
    let mut findings = Findings::default();
    for (i, b) in &reads {
        let op = &history.operations[*i];
        let unexpected: Vec<&String> = match &accounts {
            Some(known) => b.keys().filter(|k| !known.contains(k)).collect(),
            None => Vec::new(),
        };
        let nils: Vec<&String> = b
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k)
            .collect();
        let sum: i64 = b.values().flatten().sum();
        let negative: Vec<(&String, i64)> = b
            .iter()
            .filter_map(|(k, v)| v.filter(|v| *v < 0).map(|v| (k, v)))
            .collect();
        let (kind, summary) = if !unexpected.is_empty() {
            (
                AnomalyKind::UnexpectedKey,
                format!(
                    "a read saw accounts that do not exist ({}): {}",
                    unexpected
                        .iter()
                        .map(|k| clip(k, 30))
                        .collect::<Vec<_>>()
                        .join(", "),
                    show(b)
                ),
            )
        } else if !nils.is_empty() {
            (
                AnomalyKind::NilBalance,
                format!(
                    "a read saw accounts without a balance ({}): {}",
                    nils.iter()
                        .map(|k| clip(k, 30))
                        .collect::<Vec<_>>()
                        .join(", "),
                    show(b)
                ),
            )
        } else if total.is_some_and(|t| t != sum) {
            (
                AnomalyKind::WrongTotal,
                format!(
                    "a read's balances add up to {sum}, not {}: {} (a transfer seen half done, or one that overwrote another's balance)",
                    total.unwrap_or_default(),
                    show(b)
                ),
            )
        } else if !options.allow_negative && !negative.is_empty() {
            (
                AnomalyKind::NegativeBalance,
                format!("a read saw a negative balance: {}", show(b)),
            )
        } else {
            continue;
        };
        findings.add(kind, || Finding {
            kind,
            summary,
            transactions: vec![op_ref(op)],
            steps: Vec::new(),
        });
    }
    notes.extend(findings.overflow_notes());
    let Findings { mut kept, counts } = findings;
    kept.sort_by_key(|f| f.kind);
    let (committed, failed, indeterminate) =
        outcome_counts(history.operations.iter().map(|o| &o.outcome));
    let verdict = if !counts.is_empty() {
        Verdict::Invalid
    } else if reads.is_empty() {
        notes.push("no read completed: nothing was tested".to_string());
        Verdict::Unknown
    } else {
        Verdict::Valid
    };
    Ok(Report {
        workload: "bank".to_string(),
        verdict,
        consistency_model: None,
        ruled_out: Vec::new(),
        anomaly_types: counts.keys().copied().collect(),
        anomaly_counts: counts.iter().map(|(k, n)| (k.name(), *n)).collect(),
        anomalies: kept,
        operations: history.operations.len(),
        committed,
        failed,
        indeterminate,
        notes,
        elapsed_ms: started.elapsed().as_secs_f64() * 1e3,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use photofinish_history::{read_str, Format};

    fn check(text: &str, options: &BankOptions) -> Report {
        let h = read_str(text, "b.edn", Some(Format::Edn)).unwrap();
        check_bank(&h, "b.edn", options).unwrap()
    }

    const GOOD: &str = "{:process 0 :type :invoke :f :transfer :value {:from 0 :to 1 :amount 5}}\n\
        {:process 1 :type :invoke :f :read :value nil}\n\
        {:process 0 :type :ok :f :transfer :value {:from 0 :to 1 :amount 5}}\n\
        {:process 1 :type :ok :f :read :value {0 5 1 15}}\n\
        {:process 1 :type :invoke :f :read :value nil}\n\
        {:process 1 :type :ok :f :read :value {0 5 1 15}}\n";

    #[test]
    fn totals_that_hold_are_valid() {
        let r = check(GOOD, &BankOptions::default());
        assert_eq!(r.verdict, Verdict::Valid);
        assert!(r.notes[0].contains("taken as 20"), "{:?}", r.notes);
        let r = check(
            GOOD,
            &BankOptions {
                total: Some(20),
                ..BankOptions::default()
            },
        );
        assert_eq!(r.verdict, Verdict::Valid);
        assert!(r.notes.is_empty());
    }

    #[test]
    fn a_half_done_transfer_is_a_wrong_total() {
        let text = format!(
            "{GOOD}{{:process 2 :type :invoke :f :read :value nil}}\n{{:process 2 :type :ok :f :read :value {{0 0 1 15}}}}\n"
        );
        let r = check(&text, &BankOptions::default());
        assert_eq!(r.verdict, Verdict::Invalid);
        assert_eq!(r.anomaly_types, [AnomalyKind::WrongTotal]);
        assert!(r.anomalies[0].summary.contains("add up to 15, not 20"));
        assert_eq!(r.anomalies[0].transactions[0].complete_line, Some(8));
    }

    #[test]
    fn negative_balances_unless_allowed() {
        let text = "{:process 1 :type :invoke :f :read :value nil}\n{:process 1 :type :ok :f :read :value {0 -5 1 25}}\n";
        let r = check(
            text,
            &BankOptions {
                total: Some(20),
                ..BankOptions::default()
            },
        );
        assert_eq!(r.anomaly_types, [AnomalyKind::NegativeBalance]);
        let r = check(
            text,
            &BankOptions {
                total: Some(20),
                allow_negative: true,
                ..BankOptions::default()
            },
        );
        assert_eq!(r.verdict, Verdict::Valid);
    }

    #[test]
    fn json_accounts_match_edn_accounts() {
        let text = "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"value\":null}\n{\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"value\":{\"0\":5,\"1\":15,\"7\":null}}\n";
        let h = read_str(text, "b.jsonl", None).unwrap();
        let options = BankOptions {
            total: Some(20),
            accounts: Some(vec![Value::Int(0), Value::Int(1)]),
            ..BankOptions::default()
        };
        let r = check_bank(&h, "b.jsonl", &options).unwrap();
        assert_eq!(r.anomaly_types, [AnomalyKind::UnexpectedKey]);
    }

    #[test]
    fn bad_reads_are_errors_with_lines() {
        let text = "{:process 1 :type :invoke :f :read :value nil}\n{:process 1 :type :ok :f :read :value [1 2]}\n";
        let h = read_str(text, "b.edn", Some(Format::Edn)).unwrap();
        let err = check_bank(&h, "b.edn", &BankOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("b.edn:2: a bank read returns a map"),
            "{err}"
        );
        let text = "{:process 1 :type :invoke :f :withdraw :value 5}\n";
        let h = read_str(text, "b.edn", Some(Format::Edn)).unwrap();
        let err = check_bank(&h, "b.edn", &BankOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("`withdraw` is not a bank operation"), "{err}");
    }

    #[test]
    fn no_reads_is_unknown() {
        let text = "{:process 0 :type :invoke :f :transfer :value {:from 0 :to 1 :amount 5}}\n";
        assert_eq!(
            check(text, &BankOptions::default()).verdict,
            Verdict::Unknown
        );
    }
}
