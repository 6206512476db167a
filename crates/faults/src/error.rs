//! The one error type: which server, which step, what went wrong, and what its log said.

use std::fmt;

/// Why a server or cluster could not be started, faulted or brought back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The server, such as `redis n1 (127.0.0.1:40113)`, or what was being set up.
    pub server: String,
    /// What was being done, such as `waiting for PING to answer PONG`.
    pub step: String,
    /// What went wrong.
    pub detail: String,
    /// The last lines of the server's log (empty when there is none), control characters
    /// replaced.
    pub log_tail: String,
    /// The wait was interrupted (Ctrl-C, or the caller's stop token), not failed.
    pub interrupted: bool,
}

impl Error {
    pub(crate) fn new(
        server: impl Into<String>,
        step: impl Into<String>,
        detail: impl fmt::Display,
    ) -> Error {
        Error {
            server: server.into(),
            step: step.into(),
            detail: detail.to_string(),
            log_tail: String::new(),
            interrupted: false,
        }
    }

    pub(crate) fn with_log(mut self, tail: String) -> Error {
        self.log_tail = tail;
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.server, self.step, self.detail)?;
        if !self.log_tail.is_empty() {
            write!(f, "\n  last lines of its log:")?;
            for line in self.log_tail.lines() {
                write!(f, "\n    {line}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_server_the_step_and_the_log() {
        let error = Error::new(
            "redis n1 (127.0.0.1:1)",
            "waiting for PING",
            "no answer in 30 s",
        )
        .with_log("line one\nline two".into());
        assert_eq!(
            error.to_string(),
            "redis n1 (127.0.0.1:1): waiting for PING: no answer in 30 s\n  last lines of its log:\n    line one\n    line two"
        );
    }
}
