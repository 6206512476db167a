//! What a stall does to a run's answer. A run that ended stalled could not observe what its
//! clients were waiting for: unless the checker already proved an anomaly, its answer is
//! "unknown" (exit 3), with the stall as the reason.
//!
//! ```
//! use photofinish::checker::Verdict;
//! use photofinish::liveness::exit_code;
//!
//! // No stall: the verdict's own exit code; a stall at the end: 3, unless INVALID.
//! assert_eq!(exit_code(Verdict::Valid, None), 0);
//! assert_eq!(exit_code(Verdict::Valid, Some("the run ended stalled")), 3);
//! assert_eq!(exit_code(Verdict::Invalid, Some("the run ended stalled")), 1);
//! ```

use crate::checker::Verdict;
use crate::runner::Summary;

/// Why the run's answer is unknown because it ended stalled: `None` when it did not, or when
/// the verdict is INVALID (an anomaly stands whatever happened after it).
pub fn ended_stalled(summary: &Summary, verdict: Verdict) -> Option<String> {
    if verdict == Verdict::Invalid {
        return None;
    }
    let stall = summary.ended_stalled()?;
    Some(format!(
        "the run ended stalled: {stall}; waiting: {}",
        stall.waiting_text()
    ))
}

/// The exit code of a run with this verdict and, if it ended stalled, that reason.
pub fn exit_code(verdict: Verdict, ended_stalled: Option<&str>) -> i32 {
    match (verdict, ended_stalled) {
        (Verdict::Invalid, _) | (_, None) => verdict.exit_code(),
        (_, Some(_)) => 3,
    }
}
