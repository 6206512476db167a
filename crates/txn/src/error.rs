//! Why a history could not be checked: every error names the file and line to open.

use photofinish_history::ReadError;

/// The history could not be read, or its operations are not transactions of the workload.
/// Every variant means bad input (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum TxnError {
    #[error(transparent)]
    Read(#[from] ReadError),
    /// An operation is not what the workload expects.
    #[error("{origin}:{line}: {message}")]
    Operation {
        origin: String,
        line: usize,
        message: String,
    },
    /// An option given to the checker is not usable.
    #[error("{0}")]
    Usage(String),
}

impl TxnError {
    pub(crate) fn at(origin: &str, line: usize, message: impl Into<String>) -> TxnError {
        TxnError::Operation {
            origin: origin.to_string(),
            line,
            message: message.into(),
        }
    }
}
