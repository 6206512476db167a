//! Small histories written by hand: each transaction as the micro-operations it completed
//! with, invocations made from them (reads `null`).

#![allow(dead_code)]

use photofinish_txn::{check_str, ConsistencyModel, Report, TxnOptions, Workload};
use serde_json::{json, Value};

/// A transaction: its process, how it ended (`ok`, `fail`, `info`, `pending`) and its
/// micro-operations as completed, e.g. `[["append","x",1],["r","y",[1]]]`.
pub struct T {
    pub process: i64,
    pub outcome: &'static str,
    pub mops: Value,
}

pub fn t(process: i64, mops: Value) -> T {
    T {
        process,
        outcome: "ok",
        mops,
    }
}

pub fn with(process: i64, outcome: &'static str, mops: Value) -> T {
    T {
        process,
        outcome,
        mops,
    }
}

fn invocation(mops: &Value) -> Value {
    Value::Array(
        mops.as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let m = m.as_array().unwrap();
                if m[0] == "r" {
                    json!([m[0], m[1], null])
                } else {
                    Value::Array(m.clone())
                }
            })
            .collect(),
    )
}

fn line(kind: &str, process: i64, value: Value) -> String {
    json!({"type": kind, "process": process, "f": "txn", "value": value}).to_string()
}

fn completion(t: &T) -> Option<String> {
    match t.outcome {
        "pending" => None,
        "ok" => Some(line("ok", t.process, t.mops.clone())),
        other => Some(line(other, t.process, invocation(&t.mops))),
    }
}

/// Every transaction invoked, then every one completed: all concurrent, so no real-time order.
pub fn concurrent(txns: &[T]) -> String {
    let mut lines: Vec<String> = txns
        .iter()
        .map(|t| line("invoke", t.process, invocation(&t.mops)))
        .collect();
    lines.extend(txns.iter().filter_map(completion));
    lines.join("\n") + "\n"
}

/// One transaction after another.
pub fn sequential(txns: &[T]) -> String {
    let mut lines = Vec::new();
    for t in txns {
        lines.push(line("invoke", t.process, invocation(&t.mops)));
        lines.extend(completion(t));
    }
    lines.join("\n") + "\n"
}

pub fn check(text: &str, workload: Workload, model: ConsistencyModel) -> Report {
    let options = TxnOptions {
        consistency_model: model,
        ..TxnOptions::default()
    };
    check_str(text, "test.jsonl", workload, &options).unwrap_or_else(|e| panic!("{e}"))
}

pub fn names(report: &Report) -> Vec<String> {
    report.anomaly_types.iter().map(|k| k.name()).collect()
}

pub fn models(report: &Report) -> Vec<&'static str> {
    report.ruled_out.iter().map(|m| m.name()).collect()
}
