//! Workloads: for each built-in model, a generator of operations and an independent sequential
//! implementation of the object (not the crate's model), used to simulate a correct system.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use photofinish_history::{Float, Value};

use super::Tape;

/// An operation as a client invokes it.
#[derive(Clone, Debug, PartialEq)]
pub struct OpSpec {
    pub f: String,
    /// Given in the `key` field of both events, for keyed models.
    pub key: Option<Value>,
    pub value: Value,
}

impl OpSpec {
    fn new(f: &str, value: impl Into<Value>) -> OpSpec {
        OpSpec {
            f: f.to_string(),
            key: None,
            value: value.into(),
        }
    }

    fn keyed(f: &str, key: &str, value: impl Into<Value>) -> OpSpec {
        OpSpec {
            f: f.to_string(),
            key: Some(Value::from(key)),
            value: value.into(),
        }
    }

    fn key_str(&self) -> String {
        self.key
            .as_ref()
            .and_then(|k| k.as_str())
            .unwrap_or_else(|| self.value.as_str().expect("a key"))
            .to_string()
    }
}

/// A model's workload.
pub trait Workload {
    /// A name for messages (several workloads may share a model).
    fn label(&self) -> &'static str;
    /// The built-in model's name, for `check_model`.
    fn model(&self) -> &'static str;
    /// The initial value given to `check_model`; the simulated object starts there too.
    fn init(&self) -> Value;
    /// Starts the simulated object afresh.
    fn reset(&mut self);
    /// A random operation.
    fn generate(&mut self, tape: &mut Tape) -> OpSpec;
    /// Applies `op` atomically: its result, or `Err` when its precondition is false and it fails
    /// without effect.
    fn apply(&mut self, op: &OpSpec, tape: &mut Tape) -> Result<Value, ()>;
    /// A plausible (well-formed, not necessarily correct) ok result for `op`, near `current`.
    fn random_result(&self, op: &OpSpec, current: &Value, tape: &mut Tape) -> Value;
    /// Whether an ok `op` reveals something in its result (a read; not a write).
    fn observes(&self, op: &OpSpec) -> bool {
        matches!(op.f.as_str(), "read" | "get" | "dequeue" | "create" | "txn")
    }
}

/// Every workload, fresh.
pub fn all_workloads() -> Vec<Box<dyn Workload>> {
    vec![
        Box::new(RegisterW::new(false)),
        Box::new(RegisterW::new(true)),
        Box::new(UniqueRegisterW::new(false)),
        Box::new(UniqueRegisterW::new(true)),
        Box::new(KvStr::default()),
        Box::new(KvStr::appends_only()),
        Box::new(KvList::default()),
        Box::new(MultiW::default()),
        Box::new(CounterW::default()),
        Box::new(UnitCounterW::default()),
        Box::new(DecimalCounterW::default()),
        Box::new(SetW::default()),
        Box::new(UniqueSetW::default()),
        Box::new(QueueW::default()),
        Box::new(MutexW::default()),
        Box::new(CreateW::default()),
    ]
}

/// Workloads of Jepsen independent histories: an inner workload run on several keys, every
/// value a `[key value]` tuple. Their histories are valid or not key by key, so the reference
/// unwraps them ([`super::unwrap_independent`]) before checking.
pub fn independent_workloads() -> Vec<Box<dyn Workload>> {
    vec![
        Box::new(Independent::new("register-independent", || {
            Box::new(RegisterW::new(false))
        })),
        Box::new(Independent::new("cas-register-independent", || {
            Box::new(RegisterW::new(true))
        })),
        Box::new(Independent::new("counter-independent", || {
            Box::new(CounterW::default())
        })),
    ]
}

/// The workload called `label`.
pub fn workload(label: &str) -> Box<dyn Workload> {
    all_workloads()
        .into_iter()
        .chain(independent_workloads())
        .find(|w| w.label() == label)
        .unwrap_or_else(|| panic!("no workload {label}"))
}

fn ints(range: std::ops::Range<i64>) -> Vec<Value> {
    range.map(Value::Int).collect()
}

// ---------------------------------------------------------------------------------------------

/// `register` (starting at `nil`, so `nil` reads are real observations) or `cas-register`
/// (starting at 0).
pub struct RegisterW {
    cas: bool,
    state: Value,
}

impl RegisterW {
    pub fn new(cas: bool) -> RegisterW {
        let mut w = RegisterW {
            cas,
            state: Value::Null,
        };
        w.reset();
        w
    }
}

impl Workload for RegisterW {
    fn label(&self) -> &'static str {
        if self.cas {
            "cas-register"
        } else {
            "register"
        }
    }
    fn model(&self) -> &'static str {
        self.label()
    }
    fn init(&self) -> Value {
        if self.cas {
            Value::Int(0)
        } else {
            Value::Null
        }
    }
    fn reset(&mut self) {
        self.state = self.init();
    }
    fn generate(&mut self, tape: &mut Tape) -> OpSpec {
        match tape.below(if self.cas { 3 } else { 2 }) {
            0 => OpSpec::new("read", Value::Null),
            1 => OpSpec::new("write", tape.pick(&ints(0..3))),
            _ => OpSpec::new("cas", vec![tape.pick(&ints(0..3)), tape.pick(&ints(0..3))]),
        }
    }
    fn apply(&mut self, op: &OpSpec, _tape: &mut Tape) -> Result<Value, ()> {
        match op.f.as_str() {
            "read" => Ok(self.state.clone()),
            "write" => {
                self.state = op.value.clone();
                Ok(op.value.clone())
            }
            "cas" => {
                let (expected, new) = op.value.as_pair().expect("cas args");
                let (expected, new) = (expected.as_ref(), new.as_ref());
                if &self.state == expected {
                    self.state = new.clone();
                    Ok(op.value.clone())
                } else {
                    Err(())
                }
            }
            f => unreachable!("{f}"),
        }
    }
    fn random_result(&self, op: &OpSpec, _current: &Value, tape: &mut Tape) -> Value {
        match op.f.as_str() {
            "read" => {
                let mut choices = ints(0..4);
                if !self.cas {
                    choices.push(Value::Null);
                }
                tape.pick(&choices)
            }
            _ => op.value.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------

/// `register` or `cas-register` as the runner drives them: every write and every cas writes a
/// value never written before, so the unique-values procedure decides the histories. A cas
/// mostly expects the value last written, so that chains of cas form.
pub struct UniqueRegisterW {
    cas: bool,
    state: Value,
    /// Every value written so far (by the simulated clients' operations, in order).
    written: Vec<Value>,
    next: i64,
}

impl UniqueRegisterW {
    pub fn new(cas: bool) -> UniqueRegisterW {
        let mut w = UniqueRegisterW {
            cas,
            state: Value::Null,
            written: Vec::new(),
            next: 1,
        };
        w.reset();
        w
    }

    fn fresh(&mut self) -> Value {
        let v = Value::Int(self.next);
        self.next += 1;
        self.written.push(v.clone());
        v
    }
}

impl Workload for UniqueRegisterW {
    fn label(&self) -> &'static str {
        if self.cas {
            "cas-register-unique"
        } else {
            "register-unique"
        }
    }
    fn model(&self) -> &'static str {
        if self.cas {
            "cas-register"
        } else {
            "register"
        }
    }
    fn init(&self) -> Value {
        if self.cas {
            Value::Int(0)
        } else {
            Value::Null
        }
    }
    fn reset(&mut self) {
        self.state = self.init();
        self.written.clear();
        self.next = 1;
    }
    fn generate(&mut self, tape: &mut Tape) -> OpSpec {
        match tape.below(if self.cas { 3 } else { 2 }) {
            0 => OpSpec::new("read", Value::Null),
            1 => OpSpec::new("write", self.fresh()),
            _ => {
                let expected = match (tape.below(4), self.written.last()) {
                    (0, _) | (_, None) => self.init(),
                    (1, Some(_)) => tape.pick(&self.written),
                    (_, Some(last)) => last.clone(),
                };
                OpSpec::new("cas", vec![expected, self.fresh()])
            }
        }
    }
    fn apply(&mut self, op: &OpSpec, _tape: &mut Tape) -> Result<Value, ()> {
        match op.f.as_str() {
            "read" => Ok(self.state.clone()),
            "write" => {
                self.state = op.value.clone();
                Ok(op.value.clone())
            }
            "cas" => {
                let (expected, new) = op.value.as_pair().expect("cas args");
                let (expected, new) = (expected.as_ref(), new.as_ref());
                if &self.state == expected {
                    self.state = new.clone();
                    Ok(op.value.clone())
                } else {
                    Err(())
                }
            }
            f => unreachable!("{f}"),
        }
    }
    fn random_result(&self, op: &OpSpec, _current: &Value, tape: &mut Tape) -> Value {
        match op.f.as_str() {
            "read" => {
                // A value written, the initial one, or one never written.
                let mut choices = self.written.clone();
                choices.push(self.init());
                choices.push(Value::Int(self.next + 100));
                tape.pick(&choices)
            }
            _ => op.value.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------

/// `kv` with string values: reads (`read`/`get`), writes (`write`/`put`), string appends and
/// cas, over two keys; every key starts at `nil`. Or, `appends_only`: one key, no cas, which
/// gives the search's shortcuts for appends racing writes the most to do.
#[derive(Default)]
pub struct KvStr {
    state: BTreeMap<String, Value>,
    appends_only: bool,
}

impl KvStr {
    pub fn appends_only() -> KvStr {
        KvStr {
            appends_only: true,
            ..KvStr::default()
        }
    }
}

const KV_KEYS: [&str; 2] = ["a", "b"];

impl Workload for KvStr {
    fn label(&self) -> &'static str {
        if self.appends_only {
            "kv-append"
        } else {
            "kv-str"
        }
    }
    fn model(&self) -> &'static str {
        "kv"
    }
    fn init(&self) -> Value {
        Value::Null
    }
    fn reset(&mut self) {
        self.state.clear();
    }
    fn generate(&mut self, tape: &mut Tape) -> OpSpec {
        let key = if self.appends_only {
            "a"
        } else {
            tape.pick(&KV_KEYS)
        };
        let strings = |tape: &mut Tape, options: &[&str]| Value::from(tape.pick(options));
        match tape.below(if self.appends_only { 5 } else { 6 }) {
            0 | 1 => OpSpec::keyed(tape.pick(&["read", "get"]), key, Value::Null),
            2 => {
                let f = tape.pick(&["write", "put"]);
                OpSpec::keyed(f, key, strings(tape, &["x", "y", ""]))
            }
            3 | 4 => OpSpec::keyed("append", key, strings(tape, &["1", "2", "3"])),
            _ => {
                let expected = match tape.below(4) {
                    0 => Value::Null,
                    _ => strings(tape, &["x", "x1", "y", "1"]),
                };
                OpSpec::keyed("cas", key, vec![expected, strings(tape, &["x", "y"])])
            }
        }
    }
    fn apply(&mut self, op: &OpSpec, _tape: &mut Tape) -> Result<Value, ()> {
        let current = self.state.entry(op.key_str()).or_default();
        match op.f.as_str() {
            "read" | "get" => Ok(current.clone()),
            "write" | "put" => {
                *current = op.value.clone();
                Ok(op.value.clone())
            }
            "append" => {
                let suffix = op.value.as_str().expect("a string");
                let prefix = current.as_str().unwrap_or("");
                *current = Value::from(format!("{prefix}{suffix}"));
                Ok(op.value.clone())
            }
            "cas" => {
                let (expected, new) = op.value.as_pair().expect("cas args");
                let (expected, new) = (expected.as_ref(), new.as_ref());
                if current == expected {
                    *current = new.clone();
                    Ok(op.value.clone())
                } else {
                    Err(())
                }
            }
            f => unreachable!("{f}"),
        }
    }
    fn random_result(&self, op: &OpSpec, current: &Value, tape: &mut Tape) -> Value {
        match op.f.as_str() {
            "read" | "get" => match (tape.below(3), current) {
                (0, Value::Str(s)) if !s.is_empty() => Value::from(&s[..s.len() - 1]),
                (0 | 1, Value::Str(s)) => Value::from(format!("{s}{}", tape.pick(&["1", "2"]))),
                _ => tape.pick(&[
                    Value::Null,
                    Value::from(""),
                    Value::from("x"),
                    Value::from("1"),
                    Value::from("x1"),
                    Value::from("12"),
                    Value::from("21"),
                ]),
            },
            _ => op.value.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------

/// `kv` with list values: writes of short lists, appends of integers (pushed onto the list).
#[derive(Default)]
pub struct KvList {
    state: BTreeMap<String, Value>,
}

impl Workload for KvList {
    fn label(&self) -> &'static str {
        "kv-list"
    }
    fn model(&self) -> &'static str {
        "kv"
    }
    fn init(&self) -> Value {
        Value::Null
    }
    fn reset(&mut self) {
        self.state.clear();
    }
    fn generate(&mut self, tape: &mut Tape) -> OpSpec {
        let key = tape.pick(&KV_KEYS);
        match tape.below(5) {
            0 | 1 => OpSpec::keyed("read", key, Value::Null),
            2 => {
                let list = match tape.below(2) {
                    0 => Value::List(vec![]),
                    _ => Value::from(vec![9]),
                };
                OpSpec::keyed("write", key, list)
            }
            _ => OpSpec::keyed("append", key, tape.pick(&ints(1..4))),
        }
    }
    fn apply(&mut self, op: &OpSpec, _tape: &mut Tape) -> Result<Value, ()> {
        let current = self.state.entry(op.key_str()).or_default();
        match op.f.as_str() {
            "read" => Ok(current.clone()),
            "write" => {
                *current = op.value.clone();
                Ok(op.value.clone())
            }
            "append" => {
                let mut items = current
                    .as_list()
                    .map(std::borrow::Cow::into_owned)
                    .unwrap_or_default();
                items.push(op.value.clone());
                *current = Value::List(items);
                Ok(op.value.clone())
            }
            f => unreachable!("{f}"),
        }
    }
    fn random_result(&self, op: &OpSpec, current: &Value, tape: &mut Tape) -> Value {
        match op.f.as_str() {
            "read" => match (tape.below(3), current) {
                (0, Value::List(items)) if !items.is_empty() => {
                    Value::List(items[..items.len() - 1].to_vec())
                }
                (0 | 1, Value::List(items)) => {
                    let mut items = items.clone();
                    items.push(tape.pick(&ints(1..4)));
                    Value::List(items)
                }
                _ => tape.pick(&[
                    Value::Null,
                    Value::List(vec![]),
                    Value::from(vec![1]),
                    Value::from(vec![1, 2]),
                    Value::from(vec![2, 1]),
                    Value::from(vec![9, 1]),
                ]),
            },
            _ => op.value.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------

/// `multi-register`: transactions of one to three reads and writes over `x` and `y`, both
/// starting at 0 (so no read is `nil`).
#[derive(Default)]
pub struct MultiW {
    state: BTreeMap<String, i64>,
}

const MULTI_KEYS: [&str; 2] = ["x", "y"];

fn micro(f: &str, key: &str, value: Value) -> Value {
    Value::List(vec![Value::from(f), Value::from(key), value])
}

impl Workload for MultiW {
    fn label(&self) -> &'static str {
        "multi-register"
    }
    fn model(&self) -> &'static str {
        "multi-register"
    }
    fn init(&self) -> Value {
        Value::Map(
            MULTI_KEYS
                .iter()
                .map(|k| (Value::from(*k), Value::Int(0)))
                .collect(),
        )
    }
    fn reset(&mut self) {
        self.state = MULTI_KEYS.iter().map(|k| (k.to_string(), 0)).collect();
    }
    fn generate(&mut self, tape: &mut Tape) -> OpSpec {
        let n = 1 + tape.below(3);
        let micros = (0..n)
            .map(|_| {
                let key = tape.pick(&MULTI_KEYS);
                match tape.below(2) {
                    0 => micro("read", key, Value::Null),
                    _ => micro("write", key, tape.pick(&ints(0..3))),
                }
            })
            .collect();
        OpSpec::new("txn", Value::List(micros))
    }
    fn apply(&mut self, op: &OpSpec, _tape: &mut Tape) -> Result<Value, ()> {
        let micros = op.value.as_list_of_values().expect("micro-operations");
        let mut result = Vec::new();
        for m in micros {
            let [Value::Str(f), Value::Str(key), value] = m.as_list_of_values().expect("a micro")
            else {
                unreachable!()
            };
            if f == "read" {
                result.push(micro("read", key, Value::Int(self.state[key])));
            } else {
                self.state
                    .insert(key.clone(), value.as_i64().expect("an int"));
                result.push(m.clone());
            }
        }
        Ok(Value::List(result))
    }
    /// Changes one read of the transaction to another value.
    fn random_result(&self, op: &OpSpec, current: &Value, tape: &mut Tape) -> Value {
        let same_shape = current.list_len() == op.value.list_len();
        let mut micros = if same_shape { current } else { &op.value }
            .as_list()
            .expect("micro-operations")
            .to_vec();
        let reads: Vec<usize> = (0..micros.len())
            .filter(|&i| matches!(micros[i].as_list_of_values(), Some([Value::Str(f), _, _]) if f == "read"))
            .collect();
        let changed = if reads.is_empty() {
            None
        } else {
            Some(tape.pick(&reads))
        };
        for i in reads {
            let Some([_, key, value]) = micros[i].as_list_of_values() else {
                unreachable!()
            };
            let value = match value {
                Value::Int(v) if Some(i) != changed => Value::Int(*v),
                Value::Int(v) => Value::Int((v + 1 + tape.below(2) as i64) % 3),
                _ => tape.pick(&ints(0..3)),
            };
            micros[i] = micro("read", key.as_str().expect("a key"), value);
        }
        Value::List(micros)
    }

    fn observes(&self, op: &OpSpec) -> bool {
        op.value.as_list().is_some_and(|micros| {
            micros.iter().any(
                |m| matches!(m.as_list_of_values(), Some([Value::Str(f), _, _]) if f == "read"),
            )
        })
    }
}

// ---------------------------------------------------------------------------------------------

/// `counter` from 0: adds of 1..3 (as `add n` or `incr` with no argument), the odd `add -1`,
/// reads.
#[derive(Default)]
pub struct CounterW {
    state: i64,
}

impl Workload for CounterW {
    fn label(&self) -> &'static str {
        "counter"
    }
    fn model(&self) -> &'static str {
        "counter"
    }
    fn init(&self) -> Value {
        Value::Int(0)
    }
    fn reset(&mut self) {
        self.state = 0;
    }
    fn generate(&mut self, tape: &mut Tape) -> OpSpec {
        match tape.below(10) {
            0..=3 => OpSpec::new("read", Value::Null),
            4..=6 => OpSpec::new("add", tape.pick(&ints(1..4))),
            7 | 8 => OpSpec::new("incr", Value::Null),
            _ => OpSpec::new("add", -1),
        }
    }
    fn apply(&mut self, op: &OpSpec, _tape: &mut Tape) -> Result<Value, ()> {
        match op.f.as_str() {
            "read" => Ok(Value::Int(self.state)),
            _ => {
                self.state += op.value.as_i64().unwrap_or(1);
                Ok(op.value.clone())
            }
        }
    }
    fn random_result(&self, op: &OpSpec, current: &Value, tape: &mut Tape) -> Value {
        match (op.f.as_str(), current) {
            ("read", Value::Int(v)) if tape.below(2) == 0 => Value::Int(v + tape.pick(&[-1, 1])),
            ("read", _) => tape.pick(&ints(0..6)),
            _ => op.value.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------

/// `counter` from 0 as `run -w counter` drives it: adds of 1 (as `add 1` or `incr` with no
/// argument) and reads, the shape the uniform-adds counter procedure decides.
#[derive(Default)]
pub struct UnitCounterW {
    state: i64,
}

impl Workload for UnitCounterW {
    fn label(&self) -> &'static str {
        "counter-unit"
    }
    fn model(&self) -> &'static str {
        "counter"
    }
    fn init(&self) -> Value {
        Value::Int(0)
    }
    fn reset(&mut self) {
        self.state = 0;
    }
    fn generate(&mut self, tape: &mut Tape) -> OpSpec {
        match tape.below(10) {
            0..=3 => OpSpec::new("read", Value::Null),
            4..=8 => OpSpec::new("add", 1),
            _ => OpSpec::new("incr", Value::Null),
        }
    }
    fn apply(&mut self, op: &OpSpec, _tape: &mut Tape) -> Result<Value, ()> {
        match op.f.as_str() {
            "read" => Ok(Value::Int(self.state)),
            _ => {
                self.state += 1;
                Ok(op.value.clone())
            }
        }
    }
    fn random_result(&self, op: &OpSpec, current: &Value, tape: &mut Tape) -> Value {
        match (op.f.as_str(), current) {
            ("read", Value::Int(v)) if tape.below(3) > 0 => Value::Int(v + tape.pick(&[-1, 1])),
            ("read", _) => tape.pick(&ints(0..6)),
            _ => op.value.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------

/// `counter` from 0 with decimal amounts, as float accumulators write them: adds of 0.1, 0.25
/// and 0.35, `incr` (1), the odd `add -0.1`; reads return the exact total as a float. The
/// object counts in cents, so it never drifts.
#[derive(Default)]
pub struct DecimalCounterW {
    cents: i64,
}

/// `cents` / 100 as a float: the float whose shortest text is that decimal.
fn from_cents(cents: i64) -> Value {
    let sign = if cents < 0 { "-" } else { "" };
    let text = format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100);
    Value::Float(Float(text.parse().expect("a decimal")))
}

/// A float amount in cents.
fn to_cents(value: &Value) -> Option<i64> {
    match value {
        Value::Float(Float(f)) => Some((f * 100.0).round() as i64),
        Value::Int(i) => Some(i * 100),
        _ => None,
    }
}

impl Workload for DecimalCounterW {
    fn label(&self) -> &'static str {
        "counter-decimal"
    }
    fn model(&self) -> &'static str {
        "counter"
    }
    fn init(&self) -> Value {
        Value::Int(0)
    }
    fn reset(&mut self) {
        self.cents = 0;
    }
    fn generate(&mut self, tape: &mut Tape) -> OpSpec {
        match tape.below(10) {
            0..=3 => OpSpec::new("read", Value::Null),
            4..=7 => OpSpec::new("add", from_cents(tape.pick(&[10, 25, 35]))),
            8 => OpSpec::new("incr", Value::Null),
            _ => OpSpec::new("add", from_cents(-10)),
        }
    }
    fn apply(&mut self, op: &OpSpec, _tape: &mut Tape) -> Result<Value, ()> {
        match op.f.as_str() {
            "read" => Ok(from_cents(self.cents)),
            _ => {
                self.cents += to_cents(&op.value).unwrap_or(100);
                Ok(op.value.clone())
            }
        }
    }
    fn random_result(&self, op: &OpSpec, current: &Value, tape: &mut Tape) -> Value {
        match (op.f.as_str(), to_cents(current)) {
            ("read", Some(cents)) if tape.below(2) == 0 => {
                from_cents(cents + tape.pick(&[-35, -10, 10, 25]))
            }
            ("read", _) => from_cents(5 * tape.below(40) as i64),
            _ => op.value.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------

/// An inner workload run on keys 0 and 1, as Jepsen's `independent` runs one: every value (and
/// every result) a `[key value]` tuple.
pub struct Independent {
    label: &'static str,
    keys: Vec<Box<dyn Workload>>,
}

impl Independent {
    pub fn new(label: &'static str, make: fn() -> Box<dyn Workload>) -> Independent {
        Independent {
            label,
            keys: vec![make(), make()],
        }
    }
}

/// The key and inner value of a tuple.
fn untuple(value: &Value) -> (usize, Value) {
    match value.as_list().as_deref() {
        Some([Value::Int(key), inner]) => (*key as usize, inner.clone()),
        _ => panic!("not a tuple: {value}"),
    }
}

fn tuple(key: usize, inner: Value) -> Value {
    Value::List(vec![Value::Int(key as i64), inner])
}

impl Independent {
    /// The operation on its key's object, and the key.
    fn inner(&self, op: &OpSpec) -> (usize, OpSpec) {
        let (key, value) = untuple(&op.value);
        let spec = OpSpec {
            f: op.f.clone(),
            key: None,
            value,
        };
        (key, spec)
    }
}

impl Workload for Independent {
    fn label(&self) -> &'static str {
        self.label
    }
    fn model(&self) -> &'static str {
        self.keys[0].model()
    }
    fn init(&self) -> Value {
        self.keys[0].init()
    }
    fn reset(&mut self) {
        for key in &mut self.keys {
            key.reset();
        }
    }
    fn generate(&mut self, tape: &mut Tape) -> OpSpec {
        let key = tape.below(self.keys.len());
        let spec = self.keys[key].generate(tape);
        OpSpec {
            f: spec.f,
            key: None,
            value: tuple(key, spec.value),
        }
    }
    fn apply(&mut self, op: &OpSpec, tape: &mut Tape) -> Result<Value, ()> {
        let (key, spec) = self.inner(op);
        self.keys[key]
            .apply(&spec, tape)
            .map(|result| tuple(key, result))
    }
    fn random_result(&self, op: &OpSpec, current: &Value, tape: &mut Tape) -> Value {
        let (key, spec) = self.inner(op);
        let current = match current.as_pair() {
            Some((_, inner)) => inner.into_owned(),
            _ => Value::Null,
        };
        tuple(key, self.keys[key].random_result(&spec, &current, tape))
    }
    fn observes(&self, op: &OpSpec) -> bool {
        let (key, spec) = self.inner(op);
        self.keys[key].observes(&spec)
    }
}

// ---------------------------------------------------------------------------------------------

/// `set` from empty: adds of 0..4, reads of the whole set.
#[derive(Default)]
pub struct SetW {
    state: BTreeSet<i64>,
}

impl Workload for SetW {
    fn label(&self) -> &'static str {
        "set"
    }
    fn model(&self) -> &'static str {
        "set"
    }
    fn init(&self) -> Value {
        Value::List(vec![])
    }
    fn reset(&mut self) {
        self.state.clear();
    }
    fn generate(&mut self, tape: &mut Tape) -> OpSpec {
        match tape.below(2) {
            0 => OpSpec::new("read", Value::Null),
            _ => OpSpec::new("add", tape.pick(&ints(0..4))),
        }
    }
    fn apply(&mut self, op: &OpSpec, _tape: &mut Tape) -> Result<Value, ()> {
        match op.f.as_str() {
            "read" => Ok(Value::from(self.state.iter().copied().collect::<Vec<_>>())),
            _ => {
                self.state.insert(op.value.as_i64().expect("an int"));
                Ok(op.value.clone())
            }
        }
    }
    fn random_result(&self, op: &OpSpec, current: &Value, tape: &mut Tape) -> Value {
        if op.f != "read" {
            return op.value.clone();
        }
        let mut set: BTreeSet<Value> = match (tape.below(2), current) {
            (0, Value::List(items)) => items.iter().cloned().collect(),
            _ => BTreeSet::new(),
        };
        let toggled = Value::Int(tape.below(4) as i64);
        if !set.remove(&toggled) {
            set.insert(toggled);
        }
        Value::List(set.into_iter().collect())
    }
}

// ---------------------------------------------------------------------------------------------

/// `set` from `[-1]`, as the runner's set workload: adds of fresh integers (now and then one
/// added before, or the initial -1), reads of the whole set.
pub struct UniqueSetW {
    state: BTreeSet<i64>,
    next: i64,
}

impl Default for UniqueSetW {
    fn default() -> UniqueSetW {
        let mut w = UniqueSetW {
            state: BTreeSet::new(),
            next: 0,
        };
        w.reset();
        w
    }
}

impl Workload for UniqueSetW {
    fn label(&self) -> &'static str {
        "set-unique"
    }
    fn model(&self) -> &'static str {
        "set"
    }
    fn init(&self) -> Value {
        Value::List(vec![Value::Int(-1)])
    }
    fn reset(&mut self) {
        self.state = BTreeSet::from([-1]);
        self.next = 0;
    }
    fn generate(&mut self, tape: &mut Tape) -> OpSpec {
        match tape.below(5) {
            0 | 1 => OpSpec::new("read", Value::Null),
            2 if tape.chance(15) => {
                OpSpec::new("add", tape.below(self.next as usize + 1) as i64 - 1)
            }
            _ => {
                self.next += 1;
                OpSpec::new("add", self.next - 1)
            }
        }
    }
    fn apply(&mut self, op: &OpSpec, _tape: &mut Tape) -> Result<Value, ()> {
        match op.f.as_str() {
            "read" => Ok(Value::from(self.state.iter().copied().collect::<Vec<_>>())),
            _ => {
                self.state.insert(op.value.as_i64().expect("an int"));
                Ok(op.value.clone())
            }
        }
    }
    fn random_result(&self, op: &OpSpec, current: &Value, tape: &mut Tape) -> Value {
        if op.f != "read" {
            return op.value.clone();
        }
        let mut set: BTreeSet<Value> = match (tape.below(3), current) {
            (0, _) => BTreeSet::from([Value::Int(-1)]),
            (_, Value::List(items)) => items.iter().cloned().collect(),
            _ => BTreeSet::new(),
        };
        // Take one element out or put one in: one added, the initial one, or one never added.
        let toggled = Value::Int(tape.below(self.next as usize + 3) as i64 - 1);
        if !set.remove(&toggled) {
            set.insert(toggled);
        }
        Value::List(set.into_iter().collect())
    }
}

// ---------------------------------------------------------------------------------------------

/// `queue` from empty: enqueues of distinct integers, dequeues (`nil` when empty).
#[derive(Default)]
pub struct QueueW {
    state: VecDeque<Value>,
    next: i64,
}

impl Workload for QueueW {
    fn label(&self) -> &'static str {
        "queue"
    }
    fn model(&self) -> &'static str {
        "queue"
    }
    fn init(&self) -> Value {
        Value::List(vec![])
    }
    fn reset(&mut self) {
        self.state.clear();
        self.next = 0;
    }
    /// Clients dequeue more when the queue is long: the search keeps every order of the
    /// concurrent enqueues still queued, so a long backlog of them is exponential (k pairs of
    /// concurrent enqueues waiting in the queue make 2^k states).
    fn generate(&mut self, tape: &mut Tape) -> OpSpec {
        let enqueue_pct = if self.state.len() > 3 { 20 } else { 50 };
        if tape.below(100) < enqueue_pct {
            self.next += 1;
            OpSpec::new("enqueue", self.next)
        } else {
            OpSpec::new("dequeue", Value::Null)
        }
    }
    fn apply(&mut self, op: &OpSpec, _tape: &mut Tape) -> Result<Value, ()> {
        match op.f.as_str() {
            "enqueue" => {
                self.state.push_back(op.value.clone());
                Ok(op.value.clone())
            }
            _ => Ok(self.state.pop_front().unwrap_or(Value::Null)),
        }
    }
    fn random_result(&self, op: &OpSpec, _current: &Value, tape: &mut Tape) -> Value {
        match op.f.as_str() {
            "dequeue" => match tape.below(4) {
                0 => Value::Null,
                _ => Value::Int(1 + tape.below(4) as i64),
            },
            _ => op.value.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------

/// `mutex`, initially free: acquire (`acquire`/`lock`) fails when held, release
/// (`release`/`unlock`) fails when free.
#[derive(Default)]
pub struct MutexW {
    held: bool,
}

impl Workload for MutexW {
    fn label(&self) -> &'static str {
        "mutex"
    }
    fn model(&self) -> &'static str {
        "mutex"
    }
    fn init(&self) -> Value {
        Value::Bool(false)
    }
    fn reset(&mut self) {
        self.held = false;
    }
    /// Mostly the operation that would succeed if invoked alone.
    fn generate(&mut self, tape: &mut Tape) -> OpSpec {
        let acquire = self.held == (tape.below(10) >= 7);
        let names = if acquire {
            ["acquire", "lock"]
        } else {
            ["release", "unlock"]
        };
        OpSpec::new(tape.pick(&names), Value::Null)
    }
    fn apply(&mut self, op: &OpSpec, _tape: &mut Tape) -> Result<Value, ()> {
        let acquire = matches!(op.f.as_str(), "acquire" | "lock");
        if self.held == acquire {
            return Err(());
        }
        self.held = acquire;
        Ok(Value::Null)
    }
    fn random_result(&self, _op: &OpSpec, _current: &Value, _tape: &mut Tape) -> Value {
        Value::Null
    }
}

// ---------------------------------------------------------------------------------------------

/// `create-once` over three keys, given as the `key` field or as the value: the first create
/// answers `created`; later ones answer `exists` (or `already-exists`, or `false`) or fail.
#[derive(Default)]
pub struct CreateW {
    exists: BTreeSet<String>,
}

impl Workload for CreateW {
    fn label(&self) -> &'static str {
        "create-once"
    }
    fn model(&self) -> &'static str {
        "create-once"
    }
    fn init(&self) -> Value {
        Value::Bool(false)
    }
    fn reset(&mut self) {
        self.exists.clear();
    }
    fn generate(&mut self, tape: &mut Tape) -> OpSpec {
        let key = tape.pick(&["a", "b", "c"]);
        match tape.below(2) {
            0 => OpSpec::keyed("create", key, Value::Null),
            _ => OpSpec::new("create", key),
        }
    }
    fn apply(&mut self, op: &OpSpec, tape: &mut Tape) -> Result<Value, ()> {
        if self.exists.insert(op.key_str()) {
            return Ok(tape.pick(&[Value::from("created"), Value::Bool(true)]));
        }
        match tape.below(4) {
            0 => Err(()),
            1 => Ok(Value::from("already-exists")),
            2 => Ok(Value::Bool(false)),
            _ => Ok(Value::from("exists")),
        }
    }
    fn random_result(&self, _op: &OpSpec, _current: &Value, tape: &mut Tape) -> Value {
        tape.pick(&[Value::from("created"), Value::from("exists")])
    }
}
