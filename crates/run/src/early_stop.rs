//! Stopping a run before its budget is spent: a client that answered
//! [`Completion::Halt`](crate::Completion::Halt) stops every client, and the first reason
//! given is the one the summary reports.

use std::sync::Mutex;

use tokio_util::sync::CancellationToken;

use crate::Halt;

/// The run's early stop: the first [`Halt`] wins and cancels the clients' token.
pub(crate) struct EarlyStop {
    halted: Mutex<Option<Halt>>,
    clients: CancellationToken,
}

impl EarlyStop {
    /// An early stop that cancels `clients`, the token every worker stops on.
    pub(crate) fn new(clients: CancellationToken) -> EarlyStop {
        EarlyStop {
            halted: Mutex::new(None),
            clients,
        }
    }

    /// Stops the run for `halt`, unless it was already stopped for another reason.
    pub(crate) fn halt(&self, halt: Halt) {
        let mut halted = self.halted.lock().unwrap_or_else(|e| e.into_inner());
        if halted.is_none() {
            *halted = Some(halt);
        }
        drop(halted);
        self.clients.cancel();
    }

    /// Why the run stopped early, if it did.
    pub(crate) fn halted(&self) -> Option<Halt> {
        self.halted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
