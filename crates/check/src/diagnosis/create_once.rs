//! Create-once findings: a key created more than once, and "exists" answers nothing explains.
//!
//! An object, once it exists, exists for good. So two `created` answers for one key cannot
//! both be right (nor one, for a key that existed from the start); nor can `created` after an
//! `exists` answer that came before the create began. An `exists` answer needs some create that
//! could have made the object to have begun before it returned.

use std::collections::BTreeMap;

use photofinish_history::{Operation, Value};

use crate::model::{Model, Prepared};
use crate::models::{CreateOnce, CreateOp};

use super::{
    count, finish, line, listing, may_apply, precedes, show, Diagnosis, DiagnosisKind, Finding,
};

/// The findings of `create-once` objects.
pub(crate) fn diagnose(model: &CreateOnce, ops: &[&Operation]) -> Vec<Diagnosis> {
    let mut keys: BTreeMap<Option<Value>, Vec<Create>> = BTreeMap::new();
    for &op in ops {
        let (key, create) = match model.prepare(op) {
            Ok(Prepared::Op { key, op: create }) => (key, create),
            Ok(Prepared::Skip) => continue,
            Err(_) => return Vec::new(),
        };
        if may_apply(op) {
            keys.entry(key).or_default().push(Create { op, create });
        }
    }
    let init_exists = model.init_exists;
    let mut findings = Vec::new();
    for (key, creates) in &keys {
        findings.extend(duplicates(key.as_ref(), creates, init_exists));
        if !init_exists {
            findings.extend(phantoms(key.as_ref(), creates));
        }
    }
    finish(findings)
}

struct Create<'a> {
    op: &'a Operation,
    create: CreateOp,
}

/// Two or more `created` answers (one, if the object existed from the start), or one after an
/// `exists` answer that returned before it began.
fn duplicates(key: Option<&Value>, creates: &[Create], init_exists: bool) -> Option<Finding> {
    let mut created: Vec<&Operation> = creates
        .iter()
        .filter(|c| c.create == CreateOp::Create(true))
        .map(|c| c.op)
        .collect();
    created.sort_by_key(|op| line(op));
    let first = *created.first()?;
    if created.len() >= 2 || init_exists {
        let who: Vec<String> = created
            .iter()
            .enumerate()
            .map(|(i, op)| {
                let process = if i == 0 { "process " } else { "" };
                format!("{process}{} (line {})", op.process, line(op))
            })
            .collect();
        let existed = if init_exists {
            ", though it existed from the start"
        } else {
            ""
        };
        let times = count(created.len(), "time", "times");
        return Some(Finding::new(
            DiagnosisKind::DuplicateCreate,
            format!(
                "{} created {times}{existed}: {}",
                key_name(key),
                listing(&who)
            ),
            line(created[created.len().min(2) - 1]),
            "keys created more than once",
            &created,
            &[],
        ));
    }
    let existed = creates
        .iter()
        .filter(|c| c.create == CreateOp::Create(false) && precedes(c.op, first))
        .map(|c| c.op)
        .min_by_key(|op| line(op))?;
    Some(Finding::new(
        DiagnosisKind::DuplicateCreate,
        format!(
            "{} created by process {} on line {}, though it already existed: process {}'s \
             create had answered exists on line {}, before that create began",
            key_name(key),
            first.process,
            line(first),
            existed.process,
            line(existed)
        ),
        line(first),
        "keys created more than once",
        &[existed, first],
        &[],
    ))
}

/// `exists` answers given before any create that could have made the object had begun.
fn phantoms<'a>(
    key: Option<&'a Value>,
    creates: &'a [Create],
) -> impl Iterator<Item = Finding> + 'a {
    let mut makers: Vec<u64> = creates
        .iter()
        .filter(|c| c.create != CreateOp::Create(false))
        .map(|c| c.op.invoked_at)
        .collect();
    makers.sort_unstable();
    let first_maker = makers.first().copied();
    let mut exists: Vec<&Operation> = creates
        .iter()
        .filter(|c| c.create == CreateOp::Create(false))
        .map(|c| c.op)
        .filter(move |op| {
            op.completed_at
                .is_some_and(|done| first_maker.is_none_or(|first| first > done))
        })
        .collect();
    exists.sort_by_key(|op| line(op));
    exists.into_iter().map(move |op| {
        Finding::new(
            DiagnosisKind::PhantomElement,
            format!(
                "{}: process {}'s create answered exists on line {}, but no create that \
                 could have made it had begun by then",
                key_name(key),
                op.process,
                line(op)
            ),
            line(op),
            "exists answers nothing explains",
            &[op],
            &[],
        )
    })
}

/// `key 0`, or `the object` for a create without a key.
fn key_name(key: Option<&Value>) -> String {
    key.map_or("the object".to_string(), |k| format!("key {}", show(k)))
}
