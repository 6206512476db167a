//! Shared by the tests of the procedures that decide a model's partitions without the generic
//! search (`uniform_counter`, `unique_queue`, `unique_values`, `growing_set`): generating
//! histories, checking one with the procedures and with the generic search alone, and the
//! properties every such procedure must have. One copy, so that the procedures are held to the
//! same properties in the same words.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::workloads::workload;
use super::{
    history, jsonl, mutate, reference, run, simulate, to_jsonl, SimParams, Tape, CHECK_BUDGET,
};
use photofinish_check::{
    check_model, CheckOptions, Report, SearchChoice, Verdict, GENERIC_SEARCH, NOTHING_TESTED,
};
use photofinish_history::{Event, History, Value};

/// The check of `history` as `model` starting at `init`, choosing the procedure as `search`
/// says, within the budget of every test history.
pub fn report(model: &str, init: &Value, history: &History, search: SearchChoice) -> Report {
    let options = CheckOptions {
        timeout: Some(CHECK_BUDGET),
        max_memory: 2 << 30,
        search,
        ..CheckOptions::default()
    };
    check_model(model, Some(init), None, history, &options).expect("the history is checkable")
}

/// `Ok(valid)`, or `Err` when undecided; a history that tested nothing counts as valid, as the
/// reference sees it.
pub fn verdict(report: &Report) -> Result<bool, String> {
    match report.verdict {
        Verdict::Valid => Ok(true),
        Verdict::Invalid => Ok(false),
        Verdict::Unknown if report.reason.as_deref() == Some(NOTHING_TESTED) => Ok(true),
        Verdict::Unknown => Err(format!("undecided: {:?}", report.undecided)),
    }
}

/// How many partitions the procedure named `name` decided.
pub fn by_procedure(report: &Report, name: &str) -> usize {
    report
        .procedures
        .iter()
        .filter(|p| p.name == name)
        .map(|p| p.partitions)
        .sum()
}

// ---------------------------------------------------------------------------------------------
// Generated histories.

/// `(processes, operations, fault percentage, mutations, simulation tape, mutation tape)`.
pub type Input = (usize, usize, usize, usize, Vec<u32>, Vec<u32>);

/// Simulations of 2 to `max_procs` clients running 1 to `max_ops` operations, at most
/// `max_fault_pct`% of them faulty, then at most `max_mutations` mutations.
pub fn inputs(
    max_procs: usize,
    max_ops: usize,
    max_fault_pct: usize,
    max_mutations: usize,
) -> impl Strategy<Value = Input> {
    (
        2..=max_procs,
        1..=max_ops,
        0..=max_fault_pct,
        0..=max_mutations,
        vec(any::<u32>(), 0..=max_ops * 12),
        vec(any::<u32>(), 0..=24),
    )
}

/// Many concurrent clients (5) and many faults (20 to 40%) in 12 to 20 operations, at most 3
/// mutations.
pub fn many_faults() -> impl Strategy<Value = Input> {
    (
        Just(5usize),
        12..=20usize,
        20..=40usize,
        0..=3usize,
        vec(any::<u32>(), 0..=480),
        vec(any::<u32>(), 0..=24),
    )
}

/// A generated history and what to check it as.
pub struct Case {
    pub model: &'static str,
    pub init: Value,
    pub events: Vec<Event>,
}

impl Case {
    /// The case as a failure message shows it.
    fn shown(&self) -> String {
        format!(
            "model {}, init {}, history:\n{}",
            self.model,
            self.init,
            to_jsonl(&self.events)
        )
    }
}

/// A simulated history of the correct object of workload `label`, then mutated.
pub fn generate(
    label: &str,
    (procs, ops, fault_pct, mutations, sim_tape, mutation_tape): Input,
) -> Case {
    let mut w = workload(label);
    let params = SimParams {
        procs,
        ops,
        fault_pct,
        max_faults: usize::MAX,
    };
    let mut events = simulate(w.as_mut(), &mut Tape::new(sim_tape), params);
    let mut tape = Tape::new(mutation_tape);
    let mut next_process = 1000;
    for _ in 0..mutations {
        mutate(w.as_ref(), &mut events, &mut tape, &mut next_process);
    }
    Case {
        model: w.model(),
        init: w.init(),
        events,
    }
}

// ---------------------------------------------------------------------------------------------
// The properties of a procedure.

/// A procedure under test, and what its tests' histories let it promise.
pub struct Procedure {
    /// Its name in a report's `procedures`.
    pub name: &'static str,
    /// It decides every tested partition of the generated histories: no other procedure shows
    /// in a report. Otherwise it may leave a partition to the generic search, but never with
    /// a reason why (that would mean its own certificate failed its check, which is a bug).
    pub decides_every_partition: bool,
    /// The generic search may run out of memory on the longer generated histories (and the
    /// memory it held may leave the next check's budget spent): then, without the reference,
    /// only verdicts both gave are compared.
    pub generic_may_give_up: bool,
}

impl Procedure {
    /// A procedure that decides every tested partition of its tests' histories, all of which
    /// the generic search decides too.
    pub const fn deciding_all(name: &'static str) -> Procedure {
        Procedure {
            name,
            decides_every_partition: true,
            generic_may_give_up: false,
        }
    }

    /// A procedure that may leave a partition to the generic search (never saying why),
    /// tested on histories long enough for the generic search to give up on.
    pub const fn deciding_most(name: &'static str) -> Procedure {
        Procedure {
            name,
            decides_every_partition: false,
            generic_may_give_up: true,
        }
    }

    /// The procedure, the generic search and (when `with_reference`) the brute-force reference
    /// give one verdict, the generic search alone uses no procedure, the procedure does not
    /// decline, and an invalid verdict comes with a witness. Returns the procedure's report.
    pub fn agree(&self, case: &Case, with_reference: bool) -> Result<Report, TestCaseError> {
        let (model, init) = (case.model, &case.init);
        let history = history(&case.events);
        let auto = report(model, init, &history, SearchChoice::Auto);
        let generic = report(model, init, &history, SearchChoice::Generic);
        let both_decided = verdict(&generic).is_ok() && verdict(&auto).is_ok();
        if with_reference || !self.generic_may_give_up || both_decided {
            prop_assert_eq!(
                verdict(&auto),
                verdict(&generic),
                "auto and generic disagree; {}; auto {:?}",
                case.shown(),
                auto.procedures
            );
        }
        prop_assert_eq!(by_procedure(&generic, self.name), 0);
        if self.decides_every_partition {
            prop_assert!(
                auto.procedures.iter().all(|p| p.name == self.name),
                "the procedure declined: {:?}; {}",
                auto.procedures,
                case.shown()
            );
        } else {
            let declined: Vec<&String> = auto
                .procedures
                .iter()
                .filter(|p| p.name == GENERIC_SEARCH)
                .filter_map(|p| p.why.as_ref())
                .collect();
            prop_assert!(
                declined.is_empty(),
                "the procedure declined: {:?}; {}",
                declined,
                case.shown()
            );
        }
        if with_reference {
            let expected = reference(model, init, &history);
            prop_assert_eq!(
                verdict(&auto),
                expected,
                "auto disagrees with the reference; {}",
                case.shown()
            );
        }
        if auto.verdict == Verdict::Invalid {
            prop_assert!(
                auto.witness.is_some(),
                "an invalid report without a witness; {}",
                case.shown()
            );
        }
        Ok(auto)
    }

    /// A correct execution is valid, and decided by the procedure (unless it has no
    /// operations at all).
    pub fn finds_valid(&self, case: &Case) -> Result<(), TestCaseError> {
        let history = history(&case.events);
        let auto = report(case.model, &case.init, &history, SearchChoice::Auto);
        prop_assert_eq!(verdict(&auto), Ok(true), "{}", to_jsonl(&case.events));
        prop_assert!(
            by_procedure(&auto, self.name) > 0 || history.operations.is_empty(),
            "{:?}",
            auto.procedures
        );
        Ok(())
    }

    /// Checks `text` as `model` from `init` every way: the reference, the generic search and
    /// the procedure all say `valid` (or all invalid), and the procedure decided first.
    /// Returns the procedure's report.
    #[track_caller]
    pub fn decided(&self, model: &str, init: &str, text: &str, valid: bool) -> Report {
        let init = Value::from_json_str(init).expect("init is JSON");
        let history = jsonl(text);
        assert_eq!(
            reference(model, &init, &history),
            Ok(valid),
            "the reference disagrees with the test:\n{text}"
        );
        let generic = report(model, &init, &history, SearchChoice::Generic);
        assert_eq!(verdict(&generic), Ok(valid), "generic search:\n{text}");
        let auto = report(model, &init, &history, SearchChoice::Auto);
        assert_eq!(verdict(&auto), Ok(valid), "auto:\n{text}");
        assert_eq!(
            auto.procedures[0].name, self.name,
            "not decided by the procedure: {:?}",
            auto.procedures
        );
        auto
    }
}

/// Runs `check` on `cases` generated histories, counting the verdicts it returns (valid,
/// invalid, undecided) and how many it says the procedure decided; asserts that neither valid
/// nor invalid is below a tenth of the decided ones (else the generator tests too little of
/// one side). Returns how many the procedure decided, and how many were valid or invalid.
pub fn tally<S: Strategy>(
    cases: u32,
    strategy: S,
    check: impl Fn(S::Value) -> Result<(Result<bool, String>, bool), TestCaseError>,
) -> (usize, usize)
where
    S::Value: std::fmt::Debug,
{
    let valid = std::cell::Cell::new(0usize);
    let invalid = std::cell::Cell::new(0usize);
    let decided = std::cell::Cell::new(0usize);
    run(cases, strategy, |input| {
        let (verdict, by_procedure) = check(input)?;
        match verdict {
            Ok(true) => valid.set(valid.get() + 1),
            Ok(false) => invalid.set(invalid.get() + 1),
            Err(_) => {}
        }
        if by_procedure {
            decided.set(decided.get() + 1);
        }
        Ok(())
    });
    let (valid, invalid, decided) = (valid.get(), invalid.get(), decided.get());
    eprintln!("{valid} valid, {invalid} invalid; the procedure decided {decided}");
    let total = valid + invalid;
    assert!(valid * 10 >= total && invalid * 10 >= total, "too lopsided");
    (decided, total)
}

// ---------------------------------------------------------------------------------------------
// Hand-written histories.

/// One operation as JSON Lines: its invocation, and unless `ending` is `pending` (never
/// completed), its completion of type `ending` with value `result`.
pub fn op(process: i64, f: &str, value: &str, ending: &str, result: &str) -> String {
    let invoke = format!(r#"{{"type":"invoke","f":"{f}","value":{value},"process":{process}}}"#);
    match ending {
        "pending" => invoke + "\n",
        _ => format!(
            "{invoke}\n{{\"type\":\"{ending}\",\"f\":\"{f}\",\"value\":{result},\"process\":{process}}}\n"
        ),
    }
}

/// The reason of the first failure.
pub fn reason(report: &Report) -> &str {
    &report.failures[0].reason
}
