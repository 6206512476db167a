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
    MAX_LISTED,
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
fn duplicates(
    key: Option<&Value>,
    creates: &[Create],
    init_exists: bool,
) -> Option<Finding<'static>> {
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
            &created[..created.len().min(MAX_LISTED)],
            &created[created.len().min(MAX_LISTED)..],
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
) -> impl Iterator<Item = Finding<'static>> + 'a {
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

#[cfg(test)]
mod tests {
    use super::super::tests::{diagnose, keyed, keyed_ok, messages};
    use super::*;

    fn model(init_exists: bool) -> CreateOnce {
        CreateOnce { init_exists }
    }

    #[test]
    fn a_key_created_three_times() {
        let text = [
            keyed("invoke", 19, "create", "0", "null"),
            keyed("invoke", 18, "create", "0", "null"),
            keyed("invoke", 17, "create", "0", "null"),
            keyed("ok", 19, "create", "0", "\"created\""),
            keyed("ok", 18, "create", "0", "true"),
            keyed("ok", 17, "create", "0", "\"created\""),
        ]
        .concat();
        let diagnosis = diagnose(&model(false), &text);
        assert_eq!(
            messages(&diagnosis),
            ["key 0 created 3 times: process 19 (line 4), 18 (line 5), 17 (line 6)"]
        );
        assert_eq!(diagnosis[0].kind, DiagnosisKind::DuplicateCreate);
        assert_eq!(diagnosis[0].lines, vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn one_created_and_one_exists_is_fine() {
        let text = [
            keyed("invoke", 1, "create", "\"k\"", "null"),
            keyed("invoke", 2, "create", "\"k\"", "null"),
            keyed("ok", 2, "create", "\"k\"", "\"exists\""),
            keyed("ok", 1, "create", "\"k\"", "\"created\""),
        ]
        .concat();
        assert!(diagnose(&model(false), &text).is_empty());
    }

    #[test]
    fn created_after_an_exists_answer() {
        // Process 0's create timed out: it may have made the object, which explains the
        // exists answer; but then process 2's created cannot be right.
        let text = [
            keyed("invoke", 0, "create", "\"k\"", "null"),
            keyed("info", 0, "create", "\"k\"", "null"),
            keyed_ok(1, "create", "\"k\"", "null", "\"exists\""),
            keyed_ok(2, "create", "\"k\"", "null", "\"created\""),
        ]
        .concat();
        let diagnosis = diagnose(&model(false), &text);
        assert_eq!(
            messages(&diagnosis),
            [
                "key \"k\" created by process 2 on line 6, though it already existed: process 1's \
              create had answered exists on line 4, before that create began"
            ]
        );
        assert_eq!(diagnosis[0].lines, vec![3, 4, 5, 6]);
    }

    #[test]
    fn exists_before_any_create_could_make_it() {
        let text = [
            keyed_ok(1, "create", "\"k\"", "null", "\"exists\""),
            keyed_ok(0, "create", "\"k\"", "null", "\"created\""),
        ]
        .concat();
        let diagnosis = diagnose(&model(false), &text);
        assert_eq!(
            messages(&diagnosis),
            [
                "key \"k\" created by process 0 on line 4, though it already existed: process 1's \
                 create had answered exists on line 2, before that create began",
                "key \"k\": process 1's create answered exists on line 2, but no create that \
                 could have made it had begun by then"
            ]
        );
        assert_eq!(diagnosis[1].kind, DiagnosisKind::PhantomElement);
        assert_eq!(diagnosis[1].lines, vec![1, 2]);
        // With the object there from the start, exists is right and created is not.
        assert_eq!(
            messages(&diagnose(&model(true), &text)),
            ["key \"k\" created 1 time, though it existed from the start: process 0 (line 4)"]
        );
    }

    #[test]
    fn keys_given_as_values_and_failed_creates() {
        let text = [
            ok_create(0, "\"a\"", "\"created\""),
            ok_create(1, "\"b\"", "\"created\""),
            event("invoke", 2, "create", "\"a\""),
            event("fail", 2, "create", "\"a\""),
            ok_create(3, "\"a\"", "\"created\""),
        ]
        .concat();
        assert_eq!(
            messages(&diagnose(&model(false), &text)),
            ["key \"a\" created 2 times: process 0 (line 2), 3 (line 8)"]
        );
    }

    fn event(kind: &str, process: i64, f: &str, value: &str) -> String {
        super::super::tests::event(kind, process, f, value)
    }

    fn ok_create(process: i64, key: &str, answer: &str) -> String {
        event("invoke", process, "create", key) + &event("ok", process, "create", answer)
    }
}
