//! `create-once`: create an object per key, at most once.

use std::borrow::Cow;

use photofinish_history::{Operation, Outcome, Value};

use crate::diagnosis::{self, Diagnosis};
use crate::model::{keyed_parts, Model, Prepared};

/// One partition per key. `create` answers `"created"` (or `true`) the first time and
/// `"exists"` (or `"already-exists"`, or `false`) afterwards: two `created` answers for one key
/// are the check-then-act race, where concurrent requests each saw no object and each made one.
/// With `init` `true`, every key starts out existing.
#[derive(Clone, Debug)]
pub struct CreateOnce {
    pub init_exists: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CreateOp {
    /// A create whose answer is known: `true` if it said it created the object.
    Create(bool),
    /// A create with an unknown answer: it may have created the object.
    CreateUnknown,
}

fn parse_answer(result: &Value) -> Result<bool, String> {
    match result {
        Value::Bool(b) => Ok(*b),
        Value::Str(s) if s == "created" => Ok(true),
        Value::Str(s) if s == "exists" || s == "already-exists" => Ok(false),
        other => Err(format!(
            "create's result must be \"created\" or \"exists\", found {other}"
        )),
    }
}

impl Model for CreateOnce {
    type State = bool;
    type Op = CreateOp;

    fn name(&self) -> &str {
        "create-once"
    }

    fn init(&self) -> bool {
        self.init_exists
    }

    fn prepare(&self, op: &Operation) -> Result<Prepared<CreateOp>, String> {
        if op.f != "create" {
            return Err(format!("unknown f `{}`: expected create", op.f));
        }
        let (key, _, result) = keyed_parts(op).or_else(|_| {
            // A create names only its key: accept it as the value itself.
            Ok::<_, String>((
                op.value.clone(),
                Cow::Owned(Value::Null),
                Cow::Borrowed(&op.result),
            ))
        })?;
        if key.is_null() {
            return Err("create needs a key: a `key` field, or the key as its value".to_string());
        }
        let create = match op.outcome {
            Outcome::Ok => CreateOp::Create(parse_answer(&result)?),
            _ => CreateOp::CreateUnknown,
        };
        Ok(Prepared::keyed(key, create))
    }

    fn step(&self, exists: &bool, op: &CreateOp) -> Option<bool> {
        match op {
            CreateOp::Create(created) => (*created != *exists).then_some(true),
            CreateOp::CreateUnknown => Some(true),
        }
    }

    /// A create that answered "exists" made nothing.
    fn read_only(&self, op: &CreateOp) -> bool {
        matches!(op, CreateOp::Create(false))
    }

    fn describe(&self, exists: &bool) -> Value {
        Value::from(if *exists { "exists" } else { "absent" })
    }

    fn diagnose(&self, ops: &[&Operation]) -> Vec<Diagnosis> {
        diagnosis::create_once(self, ops)
    }
}
