//! `photofinish run -w list-append | rw-register | bank`: the run's history checked by the
//! transactional checker ([`photofinish::txn_run`]), shown as `check --model list-append`
//! shows it, with the run's summary first.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use photofinish::history::{read_path, Format, Value};
use photofinish::runner::{RunConfig, Summary, Workload, WorkloadKind};
use photofinish::terminal::sanitize;
use photofinish::txn::{terminal, ConsistencyModel, Report, TxnOptions, Verdict};
use photofinish::txn_run::check_recorded;

use crate::{emit_json, txn_command, warn};

/// The header field that records the consistency model a list-append or rw-register run was
/// checked against, which `photofinish check` then uses by default.
pub(crate) const CONSISTENCY_MODEL_FIELD: &str = "consistency_model";

/// The checker's options for a run of `workload`: `--consistency-model` (list-append and
/// rw-register only; strict-serializable by default) and the check's time limit. An error
/// for a model given to a workload it does not apply to, or an unknown model.
pub(crate) fn options(
    workload: &Workload,
    consistency_model: Option<&str>,
    check_timeout: Option<Duration>,
) -> Result<TxnOptions, String> {
    let kind = workload.kind;
    let takes_model = matches!(kind, WorkloadKind::ListAppend | WorkloadKind::RwRegister);
    let mut options = TxnOptions {
        timeout: check_timeout,
        ..TxnOptions::default()
    };
    if let Some(name) = consistency_model {
        if !takes_model {
            return Err(format!(
                "--consistency-model applies to the list-append and rw-register workloads, not {kind}{}",
                if kind == WorkloadKind::Bank {
                    " (a bank run checks its totals whatever the model)"
                } else {
                    ""
                }
            ));
        }
        options.consistency_model = ConsistencyModel::parse(name).ok_or_else(|| {
            format!(
                "unknown --consistency-model `{name}`: expected one of {}",
                ConsistencyModel::ALL.map(|m| m.name()).join(", ")
            )
        })?;
    }
    Ok(options)
}

/// Records in the run's header the consistency model a list-append or rw-register run is
/// checked against.
pub(crate) fn record_model(config: &mut RunConfig, options: &TxnOptions) {
    if matches!(
        config.workload.kind,
        WorkloadKind::ListAppend | WorkloadKind::RwRegister
    ) {
        config.header.other.insert(
            CONSISTENCY_MODEL_FIELD.to_string(),
            Value::from(options.consistency_model.name()),
        );
    }
}

/// Where a run's results go.
pub(crate) struct Outputs<'a> {
    pub html: Option<&'a Path>,
    pub json: Option<&'a Path>,
    pub seed: u64,
}

/// Checks the history the run wrote and shows the summary and the report; the exit code is
/// the verdict's (0 valid, 1 the model is violated, 3 undecided or nothing tested), 2 when
/// the history cannot be checked.
pub(crate) fn check_and_show(
    config: &RunConfig,
    summary: Summary,
    options: &TxnOptions,
    outputs: Outputs,
) -> ExitCode {
    let history_path = config.history.as_path();
    let origin = history_path.display().to_string();
    let model = config.workload.kind.model();
    let checked = read_path(history_path, Some(Format::JsonLines))
        .map_err(photofinish::Error::from)
        .and_then(|history| {
            check_recorded(&history, &origin, model, options)
                .map(|report| (history, report))
                .map_err(photofinish::Error::from)
        });
    let (history, mut report) = match checked {
        Ok(checked) => checked,
        Err(error) => {
            return crate::run_command::check_failed(
                &summary,
                &error,
                outputs.json,
                outputs.seed,
                history_path,
            )
        }
    };
    let exit_code = verdict_after_early_stop(&mut report, &summary);
    warn(&history);
    let stalled = photofinish::liveness::ended_stalled(&summary, checker_verdict(report.verdict));
    if let Some(html) = outputs.html {
        if let Err(code) = txn_command::write_html(html, history_path, &report) {
            return code;
        }
    }
    if let Some(json) = outputs.json {
        let both = serde_json::json!({
            "seed": outputs.seed,
            "history": history_path,
            "summary": summary,
            "report": report,
            "ended_stalled": stalled,
        });
        if let Err(code) = emit_json(json, &both) {
            return code;
        }
    }
    if outputs.json != Some(Path::new("-")) {
        println!(
            "{}",
            sanitize(&crate::run_command::shown(&summary).to_string())
        );
        print!("{}", sanitize(&terminal::render(&report)));
        if let Some(reason) = &stalled {
            println!("*** UNKNOWN: {} ***  [exit 3]", sanitize(reason));
        }
        let history = sanitize(&history_path.display().to_string());
        println!("\nhistory: {history}");
        println!(
            "rerun the same operations with --seed {}; recheck with: photofinish check {history}",
            outputs.seed
        );
    }
    // A run that ended stalled proves nothing about what its clients waited for: exit 3,
    // unless the history is INVALID or the early stop already chose its code.
    ExitCode::from(match stalled {
        Some(_) if exit_code == 0 => 3,
        _ => exit_code,
    })
}

/// As for every run: one that stopped early proves nothing beyond an anomaly it recorded.
/// Unless the report is INVALID, the verdict becomes unknown with the reason in its notes, and
/// the exit code is the halt's. Returns the exit code.
fn verdict_after_early_stop(report: &mut Report, summary: &Summary) -> u8 {
    match &summary.stopped_early {
        Some(halt) if report.verdict != Verdict::Invalid => {
            report.verdict = Verdict::Unknown;
            report
                .notes
                .push(format!("the run stopped early: {}", halt.reason));
            halt.kind.exit_code()
        }
        _ => report.verdict.exit_code() as u8,
    }
}

fn checker_verdict(verdict: Verdict) -> photofinish::checker::Verdict {
    match verdict {
        Verdict::Valid => photofinish::checker::Verdict::Valid,
        Verdict::Invalid => photofinish::checker::Verdict::Invalid,
        Verdict::Unknown => photofinish::checker::Verdict::Unknown,
    }
}
