//! Transactions read from a history, in a compact form: keys and values interned, every
//! micro-operation of every transaction in one flat vector.
//!
//! An operation is a transaction when its `f` is `txn` or its value is a list of
//! micro-operations `[f k v]` with `f` one of `append`, `r` (or `read`), `w` (or `write`). The
//! invocation names what the transaction meant to do (reads carry `nil`, not known yet); the
//! completion repeats the micro-operations with the values the reads returned. `fail` means
//! the transaction did not commit; `info` or no completion at all means nobody knows.

use std::borrow::Cow;

use photofinish_history::{History, Outcome, Value};
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::error::TxnError;
use crate::intern::Interner;

/// The transactional workloads, which fix what micro-operations mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    /// Every key is a list; `[append k v]` adds a unique `v` to its end, `[r k list]` reads the
    /// whole list.
    ListAppend,
    /// Every key is a register; `[w k v]` writes a unique `v`, `[r k v]` reads it (`nil`: the
    /// initial state).
    RwRegister,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::ListAppend => "list-append",
            Workload::RwRegister => "rw-register",
        }
    }

    pub fn parse(name: &str) -> Option<Workload> {
        match name {
            "list-append" | "append" => Some(Workload::ListAppend),
            "rw-register" | "wr" | "rw" => Some(Workload::RwRegister),
            _ => None,
        }
    }
}

/// What a micro-operation does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MopKind {
    Append,
    Read,
    Write,
}

impl MopKind {
    pub fn is_write(self) -> bool {
        !matches!(self, MopKind::Read)
    }

    /// The name Jepsen gives it: `append`, `r`, `w`.
    pub fn short(self) -> &'static str {
        match self {
            MopKind::Append => "append",
            MopKind::Read => "r",
            MopKind::Write => "w",
        }
    }
}

/// A read whose value is not known: an invocation, or the completion of a transaction that
/// may not have committed and did not say what it read.
pub const UNKNOWN: u32 = u32::MAX;
/// rw-register: a read of the initial state (`nil`).
pub const NIL: u32 = u32::MAX - 1;

/// One micro-operation, interned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mop {
    pub kind: MopKind,
    /// Index into [`Txns::keys`].
    pub key: u32,
    /// For a write or an append: index into [`Txns::values`]. For a read: in list-append, an
    /// index into [`Txns::list_spans`]; in rw-register, an index into [`Txns::values`] or
    /// [`NIL`]; [`UNKNOWN`] in both when the value read is not known.
    pub value: u32,
}

/// When a transaction never completed.
pub const NEVER: u64 = u64::MAX;

/// One transaction.
#[derive(Clone, Copy, Debug)]
pub struct Txn {
    /// Index of the operation in [`History::operations`].
    pub op: u32,
    pub process: i64,
    pub outcome: Outcome,
    /// Its micro-operations are `mops[mop_start..mop_end]`.
    pub mop_start: u32,
    pub mop_end: u32,
    /// Position of the invocation among the history's events: real-time order.
    pub invoked_at: u64,
    /// Position of the completion, or [`NEVER`].
    pub completed_at: u64,
    pub invoke_line: u32,
    /// Line of the completion; 0 when there was none.
    pub complete_line: u32,
}

impl Txn {
    pub fn committed(&self) -> bool {
        self.outcome == Outcome::Ok
    }

    pub fn indeterminate(&self) -> bool {
        self.outcome.is_indeterminate()
    }
}

/// The transactions of a history.
#[derive(Clone, Debug)]
pub struct Txns {
    pub workload: Workload,
    /// Where the history came from, for messages.
    pub origin: String,
    /// In order of invocation.
    pub txns: Vec<Txn>,
    pub mops: Vec<Mop>,
    /// The elements of every list read (list-append), back to back.
    pub lists: Vec<u32>,
    /// `(start, len)` of each list read in [`Txns::lists`].
    pub list_spans: Vec<(u32, u32)>,
    pub keys: Interner,
    pub values: Interner,
    /// The history gave no `process` (Elle's own examples): each transaction got a process of
    /// its own, so no process order is assumed.
    pub anonymous_processes: bool,
}

impl Txns {
    /// The micro-operations of transaction `t`.
    pub fn mops_of(&self, t: u32) -> &[Mop] {
        let txn = &self.txns[t as usize];
        &self.mops[txn.mop_start as usize..txn.mop_end as usize]
    }

    /// The elements of a list-append read.
    pub fn list(&self, span: u32) -> &[u32] {
        let (start, len) = self.list_spans[span as usize];
        &self.lists[start as usize..(start + len) as usize]
    }

    pub fn key(&self, key: u32) -> &Value {
        self.keys.value(key)
    }

    pub fn value(&self, value: u32) -> &Value {
        self.values.value(value)
    }

    /// Reads the transactions of `history`. Keys and values are interned in the order of the
    /// history's events, as [`crate::read`]'s streaming reader does, so both give the same
    /// result.
    pub fn from_history(
        history: &History,
        workload: Workload,
        origin: &str,
    ) -> Result<Txns, TxnError> {
        let mut builder = Builder::new(workload, origin, history.operations.len());
        // (position, operation, completion?)
        let mut events: Vec<(u64, u32, bool)> = Vec::with_capacity(history.operations.len() * 2);
        for (i, op) in history.operations.iter().enumerate() {
            events.push((op.invoked_at, i as u32, false));
            if let Some(at) = op.completed_at {
                events.push((at, i as u32, true));
            }
        }
        events.sort_unstable();
        let mut txn_of = vec![u32::MAX; history.operations.len()];
        for (_, i, completion) in events {
            let op = &history.operations[i as usize];
            if !completion {
                let mops = match parse_mops(&op.value, workload) {
                    Ok(mops) => mops,
                    Err(_) if op.f != "txn" => {
                        return Err(TxnError::at(
                            origin,
                            op.invoke_line,
                            format!(
                                "`{}` is not a transaction: expected `f` txn with a list of micro-operations like [[\"append\", 1, 2], [\"r\", 1, null]]",
                                crate::render::clip(&op.f, 40)
                            ),
                        ))
                    }
                    Err(message) => return Err(TxnError::at(origin, op.invoke_line, message)),
                };
                txn_of[i as usize] = builder.invoke(
                    op.id as u32,
                    op.process,
                    &mops,
                    op.invoked_at,
                    op.invoke_line,
                );
                continue;
            }
            let line = op.complete_line.unwrap_or(op.invoke_line);
            // A failed transaction's completion adds nothing; neither does one without a value.
            let parsed;
            let mops = match op.outcome {
                Outcome::Ok | Outcome::Info if !op.result.is_null() => {
                    parsed = parse_mops(&op.result, workload)
                        .map_err(|m| TxnError::at(origin, line, m))?;
                    Some(parsed.as_slice())
                }
                _ => None,
            };
            builder
                .complete(
                    txn_of[i as usize],
                    op.outcome,
                    mops,
                    op.completed_at.unwrap_or(NEVER),
                    line,
                )
                .map_err(|m| {
                    TxnError::at(
                        origin,
                        line,
                        format!("{m} (the invocation is on line {})", op.invoke_line),
                    )
                })?;
        }
        Ok(builder.finish())
    }
}

/// What a micro-operation carries, borrowed from wherever it was parsed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum RawValue<'a> {
    Null,
    Value(&'a Value),
    /// The elements of a list read, as a streaming parser collects them.
    Elements(&'a [Value]),
}

impl RawValue<'_> {
    fn text(&self) -> String {
        match self {
            RawValue::Null => "null".to_string(),
            RawValue::Value(v) => crate::render::clip(&v.to_json_string(), 30),
            RawValue::Elements(es) => {
                crate::render::clip(&Value::List(es.to_vec()).to_json_string(), 30)
            }
        }
    }
}

/// A micro-operation before interning.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawMop<'a> {
    pub kind: MopKind,
    pub key: &'a Value,
    pub value: RawValue<'a>,
}

fn mop_text(mop: &Value) -> String {
    crate::render::clip(&mop.to_json_string(), 60)
}

/// The micro-operation name as a kind.
pub(crate) fn mop_kind(name: &str) -> Option<MopKind> {
    match name {
        "append" => Some(MopKind::Append),
        "r" | "read" => Some(MopKind::Read),
        "w" | "write" => Some(MopKind::Write),
        _ => None,
    }
}

/// Whether a micro-operation makes sense in the workload, or what is wrong with it.
pub(crate) fn check_mop(mop: &RawMop, workload: Workload) -> Result<(), String> {
    let text = || {
        format!(
            "[\"{}\",{},{}]",
            mop.kind.short(),
            crate::render::clip(&mop.key.to_json_string(), 30),
            mop.value.text()
        )
    };
    match (workload, mop.kind, mop.value) {
        (Workload::ListAppend, MopKind::Write, _) => Err(format!(
            "list-append transactions hold append and r micro-operations, found {} (is this an rw-register history?)",
            text()
        )),
        (Workload::RwRegister, MopKind::Append, _) => Err(format!(
            "rw-register transactions hold w and r micro-operations, found {} (is this a list-append history?)",
            text()
        )),
        (Workload::RwRegister, MopKind::Write, RawValue::Null) => Err(format!(
            "rw-register writes need a value; nil is the initial state: {}",
            text()
        )),
        (Workload::ListAppend, MopKind::Read, RawValue::Value(v)) if v.list_len().is_none() => {
            Err(format!(
                "a list-append read returns a list (or nil), found {}",
                text()
            ))
        }
        _ => Ok(()),
    }
}

/// Parses one micro-operation, or says what was expected instead.
fn parse_mop(mop: &Value, workload: Workload) -> Result<RawMop<'_>, String> {
    // A micro-operation starts with its name, so it is never a list of integers.
    let Value::List(items) = mop else {
        return Err(format!(
            "expected a micro-operation [f key value], found {}",
            mop_text(mop)
        ));
    };
    let [f, key, value] = items.as_slice() else {
        return Err(format!(
            "expected a micro-operation [f key value], found {}",
            mop_text(mop)
        ));
    };
    let Some(kind) = f.as_str().and_then(mop_kind) else {
        return Err(format!(
            "expected a micro-operation named append, r or w, found {}",
            mop_text(mop)
        ));
    };
    let raw = RawMop {
        kind,
        key,
        value: if value.is_null() {
            RawValue::Null
        } else {
            RawValue::Value(value)
        },
    };
    check_mop(&raw, workload)?;
    Ok(raw)
}

/// The micro-operations of a value, when it is a list of them.
fn parse_mops(value: &Value, workload: Workload) -> Result<Vec<RawMop<'_>>, String> {
    match value {
        Value::List(list) => list.iter().map(|m| parse_mop(m, workload)).collect(),
        // Integers are no micro-operations: name the first as `parse_mop` would.
        Value::Ints(ints) => Err(format!(
            "expected a micro-operation [f key value], found {}",
            ints[0]
        )),
        _ => Err(format!(
            "expected a transaction: a list of micro-operations like [[\"append\", 1, 2], [\"r\", 1, null]], found {}",
            crate::render::clip(&value.to_json_string(), 60)
        )),
    }
}

/// Builds [`Txns`] from events in history order: an invocation interns its keys and written
/// values, its completion the values its reads returned.
pub(crate) struct Builder {
    txns: Txns,
}

impl Builder {
    pub(crate) fn new(workload: Workload, origin: &str, capacity: usize) -> Builder {
        Builder {
            txns: Txns {
                workload,
                origin: origin.to_string(),
                txns: Vec::with_capacity(capacity),
                mops: Vec::with_capacity(capacity * 3),
                lists: Vec::new(),
                list_spans: Vec::new(),
                keys: Interner::default(),
                values: Interner::default(),
                anonymous_processes: false,
            },
        }
    }

    /// A transaction invoked at event `at`: returns its index.
    pub(crate) fn invoke(
        &mut self,
        op: u32,
        process: i64,
        mops: &[RawMop],
        at: u64,
        line: usize,
    ) -> u32 {
        let start = self.txns.mops.len() as u32;
        for raw in mops {
            let key = self.txns.keys.intern(raw.key);
            let value = match (raw.kind, raw.value) {
                (MopKind::Read, _) => UNKNOWN,
                (_, RawValue::Value(v)) => self.txns.values.intern(v),
                (_, RawValue::Null) => self.txns.values.intern(&Value::Null),
                (_, RawValue::Elements(es)) => self.txns.values.intern(&Value::List(es.to_vec())),
            };
            self.txns.mops.push(Mop {
                kind: raw.kind,
                key,
                value,
            });
        }
        self.txns.txns.push(Txn {
            op,
            process,
            outcome: Outcome::Pending,
            mop_start: start,
            mop_end: self.txns.mops.len() as u32,
            invoked_at: at,
            completed_at: NEVER,
            invoke_line: line as u32,
            complete_line: 0,
        });
        self.txns.txns.len() as u32 - 1
    }

    /// Transaction `t` completed at event `at`; `mops` is what the completion said, if
    /// anything. A completion must repeat its invocation's micro-operations: same kinds, keys
    /// and written values, in the same order.
    pub(crate) fn complete(
        &mut self,
        t: u32,
        outcome: Outcome,
        mops: Option<&[RawMop]>,
        at: u64,
        line: usize,
    ) -> Result<(), String> {
        let txn = self.txns.txns[t as usize];
        let range = txn.mop_start as usize..txn.mop_end as usize;
        if let Some(completed) = mops {
            if completed.len() != range.len() {
                return Err(format!(
                    "the completion has {} micro-operations but the invocation has {}",
                    completed.len(),
                    range.len()
                ));
            }
            for (i, raw) in completed.iter().enumerate() {
                let invoked = self.txns.mops[range.start + i];
                let same_key = self.txns.keys.get(raw.key) == Some(invoked.key);
                let same_value = raw.kind == MopKind::Read
                    || match raw.value {
                        RawValue::Value(v) => self.txns.values.get(v) == Some(invoked.value),
                        RawValue::Null => self.txns.values.get(&Value::Null) == Some(invoked.value),
                        RawValue::Elements(es) => {
                            self.txns.values.get(&Value::List(es.to_vec())) == Some(invoked.value)
                        }
                    };
                if raw.kind != invoked.kind || !same_key || !same_value {
                    let invoked_value = if invoked.kind == MopKind::Read {
                        "null".to_string()
                    } else {
                        crate::render::clip(&self.txns.value(invoked.value).to_json_string(), 30)
                    };
                    return Err(format!(
                        "micro-operation {} of the completion is [{} {} {}] but the invocation's is [{} {} {}]",
                        i + 1,
                        raw.kind.short(),
                        crate::render::clip(&raw.key.to_json_string(), 30),
                        raw.value.text(),
                        invoked.kind.short(),
                        crate::render::clip(&self.txns.key(invoked.key).to_json_string(), 30),
                        invoked_value,
                    ));
                }
            }
            for (i, raw) in completed.iter().enumerate() {
                if raw.kind == MopKind::Read {
                    let value = self.read_value(raw.value, outcome);
                    self.txns.mops[range.start + i].value = value;
                }
            }
        }
        let txn = &mut self.txns.txns[t as usize];
        txn.outcome = outcome;
        txn.completed_at = at;
        txn.complete_line = line as u32;
        Ok(())
    }

    /// Interns what a completed read returned.
    fn read_value(&mut self, seen: RawValue, outcome: Outcome) -> u32 {
        let indeterminate = outcome.is_indeterminate();
        match self.txns.workload {
            Workload::ListAppend => {
                // A committed read of nil saw the empty list (Elle's convention); an
                // indeterminate transaction's nil says nothing.
                let elements: Cow<[Value]> = match seen {
                    RawValue::Null if indeterminate => return UNKNOWN,
                    RawValue::Null => Cow::Borrowed(&[]),
                    RawValue::Value(v) => v.as_list().unwrap_or_default(),
                    RawValue::Elements(es) => Cow::Borrowed(es),
                };
                let start = self.txns.lists.len() as u32;
                for element in elements.iter() {
                    let id = self.txns.values.intern(element);
                    self.txns.lists.push(id);
                }
                let len = self.txns.lists.len() as u32 - start;
                self.txns.list_spans.push((start, len));
                self.txns.list_spans.len() as u32 - 1
            }
            Workload::RwRegister => match seen {
                RawValue::Null if indeterminate => UNKNOWN,
                RawValue::Null => NIL,
                RawValue::Value(v) => self.txns.values.intern(v),
                RawValue::Elements(es) => self.txns.values.intern(&Value::List(es.to_vec())),
            },
        }
    }

    pub(crate) fn finish(self) -> Txns {
        self.txns
    }
}

/// The writes of every transaction, each `(key, value)` pair checked unique: the analysis
/// recovers who wrote what from the value alone.
#[derive(Clone, Debug, Default)]
pub struct WriteIndex {
    /// `(key, value)` to `(transaction, position of the micro-operation in it)`.
    writers: FxHashMap<(u32, u32), (u32, u32)>,
}

impl WriteIndex {
    pub fn build(txns: &Txns) -> Result<WriteIndex, TxnError> {
        let mut writers = FxHashMap::default();
        writers.reserve(txns.mops.len() / 2);
        for (t, txn) in txns.txns.iter().enumerate() {
            for (i, mop) in txns.mops_of(t as u32).iter().enumerate() {
                if !mop.kind.is_write() {
                    continue;
                }
                if let Some(&(other, _)) = writers.get(&(mop.key, mop.value)) {
                    let first = &txns.txns[other as usize];
                    let verb = if mop.kind == MopKind::Append {
                        "appended"
                    } else {
                        "written"
                    };
                    let where_ = if other as usize == t {
                        format!("twice by the transaction on line {}", txn.invoke_line)
                    } else {
                        format!(
                            "by the transactions on lines {} and {}",
                            first.invoke_line, txn.invoke_line
                        )
                    };
                    return Err(TxnError::at(
                        &txns.origin,
                        txn.invoke_line as usize,
                        format!(
                            "value {} is {verb} to key {} {where_}; {} needs every written value unique per key, so that a read names its writer",
                            crate::render::clip(&txns.value(mop.value).to_json_string(), 40),
                            crate::render::clip(&txns.key(mop.key).to_json_string(), 40),
                            txns.workload.name()
                        ),
                    ));
                }
                writers.insert((mop.key, mop.value), (t as u32, i as u32));
            }
        }
        Ok(WriteIndex { writers })
    }

    /// The transaction that wrote `value` to `key`, and the micro-operation's position in it.
    pub fn writer(&self, key: u32, value: u32) -> Option<(u32, u32)> {
        self.writers.get(&(key, value)).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use photofinish_history::{read_str, Format};

    fn txns(text: &str, workload: Workload) -> Result<Txns, TxnError> {
        let h = read_str(text, "h.edn", Some(Format::Edn)).unwrap();
        Txns::from_history(&h, workload, "h.edn")
    }

    #[test]
    fn reads_take_their_values_from_the_completion() {
        let t = txns(
            "{:process 0 :type :invoke :f :txn :value [[:append 1 2] [:r 1 nil]]}\n\
             {:process 0 :type :ok :f :txn :value [[:append 1 2] [:r 1 [2]]]}\n\
             {:process 1 :type :invoke :f :txn :value [[:r 1 nil]]}\n\
             {:process 1 :type :info :f :txn :value [[:r 1 nil]]}",
            Workload::ListAppend,
        )
        .unwrap();
        assert_eq!(t.txns.len(), 2);
        let m = t.mops_of(0);
        assert_eq!(m[0].kind, MopKind::Append);
        assert_eq!(t.value(m[0].value), &Value::Int(2));
        let elements: Vec<&Value> = t.list(m[1].value).iter().map(|&e| t.value(e)).collect();
        assert_eq!(elements, [&Value::Int(2)]);
        assert_eq!(t.mops_of(1)[0].value, UNKNOWN);
        assert_eq!(t.txns[1].complete_line, 4);
    }

    #[test]
    fn bad_shapes_name_the_line() {
        let cases = [
            (
                "{:process 0 :type :invoke :f :read :value nil}",
                Workload::ListAppend,
                "h.edn:1: `read` is not a transaction",
            ),
            (
                "{:process 0 :type :invoke :f :txn :value [[:append 1]]}",
                Workload::ListAppend,
                "h.edn:1: expected a micro-operation [f key value], found [\"append\",1]",
            ),
            (
                "{:process 0 :type :invoke :f :txn :value [[:w 1 2]]}",
                Workload::ListAppend,
                "is this an rw-register history?",
            ),
            (
                "{:process 0 :type :invoke :f :txn :value [[:append 1 2]]}",
                Workload::RwRegister,
                "is this a list-append history?",
            ),
            (
                "{:process 0 :type :invoke :f :txn :value [[:append 1 2]]}\n{:process 0 :type :ok :f :txn :value [[:append 1 3]]}",
                Workload::ListAppend,
                "h.edn:2: micro-operation 1 of the completion is [append 1 3] but the invocation's is [append 1 2] (the invocation is on line 1)",
            ),
            (
                "{:process 0 :type :invoke :f :txn :value [[:r 1 nil]]}\n{:process 0 :type :ok :f :txn :value [[:r 1 5]]}",
                Workload::ListAppend,
                "h.edn:2: a list-append read returns a list (or nil), found [\"r\",1,5]",
            ),
            (
                "{:process 0 :type :invoke :f :txn :value [[:w 1 nil]]}",
                Workload::RwRegister,
                "nil is the initial state",
            ),
            (
                "{:process 0 :type :invoke :f :txn :value 7}",
                Workload::RwRegister,
                "h.edn:1: expected a transaction: a list of micro-operations",
            ),
        ];
        for (text, workload, want) in cases {
            let err = txns(text, workload).unwrap_err().to_string();
            assert!(err.contains(want), "{text}\n got: {err}\nwant: {want}");
        }
    }

    #[test]
    fn duplicate_writes_are_rejected_with_both_lines() {
        let t = txns(
            "{:process 0 :type :invoke :f :txn :value [[:append 1 2]]}\n\
             {:process 1 :type :invoke :f :txn :value [[:append 1 2]]}",
            Workload::ListAppend,
        )
        .unwrap();
        let err = WriteIndex::build(&t).unwrap_err().to_string();
        assert!(
            err.contains(
                "h.edn:2: value 2 is appended to key 1 by the transactions on lines 1 and 2"
            ),
            "{err}"
        );
    }
}
