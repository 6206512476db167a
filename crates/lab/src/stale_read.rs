//! A value read under a lock, the lock released, then used: the read is stale by the time
//! the decision it feeds is acted on.
//!
//! The service keeps a register and offers a compare-and-set (reserve the seat if it is still
//! free, move the job on if it is still in the state we saw). The racy version checks the
//! current value under the register's lock, frees the lock, and writes under it again: two
//! requests can both see the expected value and both succeed. The fix compares and writes
//! without letting go.

use crate::store::Store;
use crate::strategies::{named_strategies, Expectation};

named_strategies! {
    /// How a compare-and-set uses the value it read.
    StaleReadStrategy {
        /// Reads under the lock, unlocks, compares, then writes under the lock again.
        UseAfterUnlock = "use-after-unlock",
        /// Reads, compares and writes while holding the lock.
        UseUnderLock = "use-under-lock",
    }
}

impl StaleReadStrategy {
    pub fn expectation(self) -> Expectation {
        match self {
            StaleReadStrategy::UseAfterUnlock => Expectation::Racy,
            StaleReadStrategy::UseUnderLock => Expectation::Safe,
        }
    }

    /// Sets the register to `new` if it holds `expected`; true if it did.
    pub async fn compare_and_set(self, store: &Store, key: &str, expected: i64, new: i64) -> bool {
        let row = format!("register:{key}");
        match self {
            StaleReadStrategy::UseAfterUnlock => {
                let current = {
                    let _held = store.lock_row(&row).await;
                    store.register(key).await
                };
                if current != Some(expected) {
                    return false;
                }
                let _held = store.lock_row(&row).await;
                store.set_register(key, new).await;
                true
            }
            StaleReadStrategy::UseUnderLock => {
                let _held = store.lock_row(&row).await;
                if store.register(key).await != Some(expected) {
                    return false;
                }
                store.set_register(key, new).await;
                true
            }
        }
    }

    /// Writes under the lock (the same for both).
    pub async fn write(store: &Store, key: &str, value: i64) {
        let _held = store.lock_row(&format!("register:{key}")).await;
        store.set_register(key, value).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::StoreConfig;

    async fn winners(strategy: StaleReadStrategy) -> usize {
        let store = Arc::new(Store::new(StoreConfig::default()));
        StaleReadStrategy::write(&store, "r", 0).await;
        let sets: Vec<_> = (1..=5)
            .map(|new| {
                let store = Arc::clone(&store);
                tokio::spawn(async move { strategy.compare_and_set(&store, "r", 0, new).await })
            })
            .collect();
        let mut won = 0;
        for set in sets {
            won += usize::from(set.await.unwrap());
        }
        won
    }

    #[tokio::test]
    async fn only_one_compare_and_set_from_the_same_value_wins_under_the_lock() {
        assert!(winners(StaleReadStrategy::UseAfterUnlock).await > 1);
        assert_eq!(winners(StaleReadStrategy::UseUnderLock).await, 1);
    }
}
