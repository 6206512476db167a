//! Diagnoses of real histories: the corpus in `../shared/corpus` (histories recorded by Jepsen,
//! Knossos and Porcupine, with known verdicts) and the large reproducers in `../shared/repro`.
//! A valid history gets no diagnosis; invalid ones are explained in their own terms.

use std::path::{Path, PathBuf};

use photofinish_check::models::{Kv, Queue, Register, Set};
use photofinish_check::{Diagnosis, DiagnosisKind, Model, NilReads};
use photofinish_history::{read_path, History, Operation, Value};

fn corpus() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus"
    ))
    .to_path_buf()
}

/// The corpus rows: path, model, initial value, expected verdict.
fn rows() -> Vec<(String, String, Value, String)> {
    let table = std::fs::read_to_string(corpus().join("expected.tsv")).expect("the corpus table");
    table
        .lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            let init = match cells[3] {
                "-" => Value::Null,
                text => Value::from_json_str(text).expect("a JSON initial value"),
            };
            (
                cells[0].to_string(),
                cells[2].to_string(),
                init,
                cells[4].to_string(),
            )
        })
        .collect()
}

/// The diagnosis of every partition of `history` under the built-in model `name`, built as
/// `check_model` builds it. Key-value maps sort their keys out themselves.
fn diagnose(name: &str, init: &Value, history: &History) -> Option<Vec<Diagnosis>> {
    let ops: Vec<&Operation> = history.operations.iter().collect();
    let all = &history.operations;
    Some(match name {
        "register" | "cas-register" => Register::new(
            init.clone(),
            name == "cas-register",
            NilReads::infer(init, all, false),
        )
        .diagnose(&ops),
        "kv" => Kv {
            init: init.clone(),
            nil_reads: NilReads::infer(init, all, true),
        }
        .diagnose(&ops),
        "set" => Set::new(init).ok()?.diagnose(&ops),
        "queue" => Queue::new(init).ok()?.diagnose(&ops),
        _ => return None,
    })
}

#[test]
fn valid_histories_get_no_diagnosis_and_invalid_ones_mostly_do() {
    let mut invalid = 0;
    let mut diagnosed = 0;
    for (path, model, init, expected) in rows() {
        let history = read_path(&corpus().join(&path), None).expect("a corpus history");
        let Some(diagnosis) = diagnose(&model, &init, &history) else {
            continue;
        };
        match expected.as_str() {
            "valid" => assert!(
                diagnosis.is_empty(),
                "{path} is valid, yet diagnosed: {diagnosis:#?}"
            ),
            "invalid" => {
                invalid += 1;
                diagnosed += usize::from(!diagnosis.is_empty());
                for d in &diagnosis {
                    eprintln!("{path}: [{}] {}", d.kind, d.message);
                }
            }
            _ => assert!(diagnosis.is_empty(), "{path}: {diagnosis:#?}"),
        }
    }
    eprintln!("{diagnosed} of {invalid} invalid corpus histories diagnosed");
    assert!(diagnosed * 2 >= invalid, "{diagnosed} of {invalid}");
}

#[test]
fn porcupine_c50_bad_is_a_lost_append() {
    let history = read_path(&corpus().join("porcupine/kv/c50-bad.txt"), None).unwrap();
    let diagnosis = diagnose("kv", &Value::from(""), &history).unwrap();
    assert!(
        diagnosis
            .iter()
            .any(|d| d.kind == DiagnosisKind::LostUpdate && d.message.contains("is missing")),
        "{diagnosis:#?}"
    );
}

fn repro(name: &str, model: &str, init: &str) -> Vec<Diagnosis> {
    let path = corpus().join("../repro").join(name);
    let history = read_path(&path, None).expect("a reproducer");
    let started = std::time::Instant::now();
    let diagnosis = diagnose(model, &Value::from_json_str(init).unwrap(), &history).unwrap();
    eprintln!("{name}: diagnosed in {:?}", started.elapsed());
    for d in &diagnosis {
        eprintln!("{name}: [{}] {}", d.kind, d.message);
    }
    diagnosis
}

#[test]
fn large_reproducers_are_diagnosed() {
    let set = repro("set-5000-bad.jsonl", "set", "[]");
    assert!(!set.is_empty());
    let after_info = repro("set-lost-after-info.jsonl", "set", "[]");
    assert!(
        after_info
            .iter()
            .any(|d| d.kind == DiagnosisKind::LostElement),
        "{after_info:#?}"
    );
}
