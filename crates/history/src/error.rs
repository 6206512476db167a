//! Why a history could not be read.

use std::fmt;

/// A position in a history file: 1-based line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Reading a history failed. Every variant names where, so the user can open the file at the spot.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{origin}: {source}")]
    Io {
        origin: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}:{at}: {message}")]
    Invalid {
        origin: String,
        at: Position,
        message: String,
    },
}

impl ReadError {
    pub fn invalid(origin: &str, at: Position, message: impl Into<String>) -> ReadError {
        ReadError::Invalid {
            origin: origin.to_string(),
            at,
            message: message.into(),
        }
    }
}
