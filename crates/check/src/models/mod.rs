//! The built-in models, and choosing one by name.

mod counter;
mod create_once;
mod independent;
mod kv;
mod multi_register;
mod mutex;
mod queue;
mod register;
mod set;

pub use counter::{Counter, CounterOp};
pub use create_once::{CreateOnce, CreateOp};
pub use independent::split_independent;
pub use kv::{Kv, KvOp};
pub use multi_register::{Micro, MultiRegister};
pub use mutex::{Mutex, MutexOp};
pub use queue::{Element, Queue, QueueOp};
pub use register::{Cas, Register, RegisterOp};
pub use set::{Elements, Set, SetOp};

use photofinish_history::{History, Value};

use crate::model::NilReads;
use crate::{check, CheckError, CheckOptions, Report, Verdict};

/// A built-in model's name, what it checks, and its initial value when `--init` is not given.
pub struct ModelInfo {
    pub name: &'static str,
    pub summary: &'static str,
    pub default_init: &'static str,
    /// What assuming `default_init` means, said to the user when a check that was not given
    /// `--init` finds the history invalid: the system may simply have started elsewhere.
    pub assumed: &'static str,
}

/// The initial value `model` starts from by default, `None` when it has none (or there is no
/// such model): what a run's setup brings the system to, and so what a recorded history's
/// header names as its `init`.
///
/// ```
/// use photofinish_check::default_init;
/// use photofinish_history::Value;
///
/// assert_eq!(default_init("counter"), Some(Value::Int(0)));
/// assert_eq!(default_init("no-such-model"), None);
/// ```
pub fn default_init(model: &str) -> Option<Value> {
    MODELS
        .iter()
        .find(|m| m.name == model)
        .and_then(|m| Value::from_json_str(m.default_init).ok())
        .filter(|init| !init.is_null())
}

/// Every built-in model.
pub const MODELS: &[ModelInfo] = &[
    ModelInfo {
        name: "register",
        summary: "one register: read, write",
        default_init: "null",
        assumed: "the initial value null",
    },
    ModelInfo {
        name: "cas-register",
        summary: "one register: read, write, cas [expected, new]",
        default_init: "null",
        assumed: "the initial value null",
    },
    ModelInfo {
        name: "kv",
        summary: "independent keys, each a register: read/get, write/put, append, cas",
        default_init: "null",
        assumed: "every key starts as null",
    },
    ModelInfo {
        name: "multi-register",
        summary: "transactions (txn) of [read k v] / [write k v] over several registers",
        default_init: "{}",
        assumed: "every key starts as null",
    },
    ModelInfo {
        name: "counter",
        summary: "add n, read: catches lost increments",
        default_init: "0",
        assumed: "the initial value 0",
    },
    ModelInfo {
        name: "set",
        summary: "add x, read the whole set",
        default_init: "[]",
        assumed: "the set starts empty",
    },
    ModelInfo {
        name: "queue",
        summary: "FIFO: enqueue x, dequeue",
        default_init: "[]",
        assumed: "the queue starts empty",
    },
    ModelInfo {
        name: "mutex",
        summary: "acquire, release: catches two holders at once",
        default_init: "false",
        assumed: "the lock starts free",
    },
    ModelInfo {
        name: "create-once",
        summary: "create per key, answering created or exists: catches duplicate creation",
        default_init: "false",
        assumed: "no key exists at the start",
    },
];

/// Checks `history` against the built-in model called `name`.
///
/// `init` is the initial value (the model's default when `None`; an invalid verdict then warns
/// that the default was assumed). `nil_reads` says how a read that returned `nil` is understood;
/// `None` infers it from the history (see [`NilReads::infer`]). A Jepsen independent history,
/// whose every value is a `[key value]` tuple, is checked key by key (see
/// [`split_independent`]).
///
/// ```
/// use photofinish_check::{check_model, CheckOptions, Verdict};
/// use photofinish_history::{read_str, Value};
///
/// // Two increments, but the final read sees only one: a lost update.
/// let history = read_str(r#"{"type":"invoke","f":"add","value":1,"process":0}
/// {"type":"invoke","f":"add","value":1,"process":1}
/// {"type":"ok","f":"add","value":1,"process":0}
/// {"type":"ok","f":"add","value":1,"process":1}
/// {"type":"invoke","f":"read","value":null,"process":0}
/// {"type":"ok","f":"read","value":1,"process":0}
/// "#, "lost-update", None).unwrap();
/// let report = check_model("counter", None, None, &history, &CheckOptions::default()).unwrap();
/// assert_eq!(report.verdict, Verdict::Invalid);
/// assert_eq!(
///     report.warnings,
///     ["assumed the initial value 0 (the model's default); pass --init if the system started elsewhere"]
/// );
/// ```
pub fn check_model(
    name: &str,
    init: Option<&Value>,
    nil_reads: Option<NilReads>,
    history: &History,
    options: &CheckOptions,
) -> Result<Report, CheckError> {
    let info = MODELS
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| CheckError::UnknownModel(name.to_string()))?;
    let split = split_independent(name, history);
    let history = split.as_ref().unwrap_or(history);
    let default_init;
    let given_init = init;
    let init = match init {
        Some(v) => v,
        None => {
            default_init = Value::from_json_str(info.default_init).unwrap_or_default();
            &default_init
        }
    };
    let mut report = check_builtin(name, init, nil_reads, history, options)?;
    if given_init.is_none() && report.verdict == Verdict::Invalid {
        let assumed = match split {
            Some(_) => format!("every key starts as {}", info.default_init),
            None => info.assumed.to_string(),
        };
        report.warnings.push(format!(
            "assumed {assumed} (the model's default); pass --init if the system started elsewhere"
        ));
    }
    Ok(report)
}

/// Checks `history` against built-in model `name` starting from `init`.
fn check_builtin(
    name: &str,
    init: &Value,
    nil_reads: Option<NilReads>,
    history: &History,
    options: &CheckOptions,
) -> Result<Report, CheckError> {
    let bad_init = |message: String| CheckError::BadInit(message);
    let nil_reads_for =
        |keyed| nil_reads.unwrap_or_else(|| NilReads::infer(init, &history.operations, keyed));
    match name {
        "register" | "cas-register" => check(
            &Register::new(init.clone(), name == "cas-register", nil_reads_for(false)),
            history,
            options,
        ),
        "kv" => check(
            &Kv {
                init: init.clone(),
                nil_reads: nil_reads_for(true),
            },
            history,
            options,
        ),
        "multi-register" => check(
            &MultiRegister::new(init, nil_reads_for(false)).map_err(bad_init)?,
            history,
            options,
        ),
        "counter" => check(&Counter::for_history(init, history)?, history, options),
        "set" => check(&Set::new(init).map_err(bad_init)?, history, options),
        "queue" => check(&Queue::new(init).map_err(bad_init)?, history, options),
        "mutex" => check(
            &Mutex {
                init_held: flag(init).map_err(bad_init)?,
            },
            history,
            options,
        ),
        "create-once" => check(
            &CreateOnce {
                init_exists: flag(init).map_err(bad_init)?,
            },
            history,
            options,
        ),
        _ => Err(CheckError::UnknownModel(name.to_string())),
    }
}

fn flag(init: &Value) -> Result<bool, String> {
    match init {
        Value::Bool(b) => Ok(*b),
        Value::Null => Ok(false),
        other => Err(format!("expected true or false as --init, found {other}")),
    }
}
