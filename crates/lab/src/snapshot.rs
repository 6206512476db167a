//! Copying a record of several fields while a writer updates it: a node's utilisation and the
//! sample it was computed from.
//!
//! The writer always holds the record's lock while it writes the fields one by one. A reader
//! that copies the fields one at a time without the lock can see some fields from before a
//! write and some from after: a state the record never had. The fix copies under the lock.

use crate::store::{Store, RECORD_FIELDS};
use crate::strategies::{named_strategies, Expectation};

named_strategies! {
    /// How a reader copies the record.
    SnapshotStrategy {
        /// Copies field by field without the lock, as a shallow copy of a shared structure does.
        CopyWithoutLock = "copy-without-lock",
        /// Takes the record's lock, copies every field, frees it.
        CopyUnderLock = "copy-under-lock",
    }
}

/// The values of a record's fields, in [`RECORD_FIELDS`] order; `None` before any write.
pub type Fields = [Option<i64>; RECORD_FIELDS.len()];

impl SnapshotStrategy {
    pub fn expectation(self) -> Expectation {
        match self {
            SnapshotStrategy::CopyWithoutLock => Expectation::Racy,
            SnapshotStrategy::CopyUnderLock => Expectation::Safe,
        }
    }

    /// Publishes measurement `value`: every field becomes `value`, one field at a time, under
    /// the record's lock (the writer is the same whichever way readers copy).
    pub async fn write(store: &Store, key: &str, value: i64) {
        let _held = store.lock_row(&format!("record:{key}")).await;
        for field in 0..RECORD_FIELDS.len() {
            store.set_record_field(key, field, value).await;
        }
    }

    /// A copy of the record.
    pub async fn copy(self, store: &Store, key: &str) -> Fields {
        match self {
            SnapshotStrategy::CopyWithoutLock => {
                let mut fields = Fields::default();
                for (field, slot) in fields.iter_mut().enumerate() {
                    *slot = store.record_field(key, field).await;
                }
                fields
            }
            SnapshotStrategy::CopyUnderLock => {
                let _held = store.lock_row(&format!("record:{key}")).await;
                store.record(key).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::StoreConfig;

    /// Whether any of many copies taken during writes mixed two measurements.
    async fn torn(strategy: SnapshotStrategy) -> bool {
        let store = Arc::new(Store::new(StoreConfig::default()));
        let writer = {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for value in 1..=40 {
                    SnapshotStrategy::write(&store, "r", value).await;
                }
            })
        };
        let readers: Vec<_> = (0..4)
            .map(|_| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    let mut torn = false;
                    for _ in 0..40 {
                        let [a, b] = strategy.copy(&store, "r").await;
                        torn |= a != b;
                    }
                    torn
                })
            })
            .collect();
        writer.await.unwrap();
        let mut any = false;
        for reader in readers {
            any |= reader.await.unwrap();
        }
        any
    }

    /// Whether any of `rounds` rounds of [`torn`] saw a torn copy: whether one round overlaps
    /// a copy with a write depends on the scheduler (a loaded machine can run them apart).
    async fn torn_in_any(strategy: SnapshotStrategy, rounds: usize) -> bool {
        for _ in 0..rounds {
            if torn(strategy).await {
                return true;
            }
        }
        false
    }

    #[tokio::test]
    async fn only_the_copy_without_the_lock_sees_a_torn_record() {
        assert!(torn_in_any(SnapshotStrategy::CopyWithoutLock, 50).await);
        assert!(!torn_in_any(SnapshotStrategy::CopyUnderLock, 5).await);
    }
}
