//! Two locks taken in opposite orders: a deadlock, which no linearizability check sees.
//!
//! An account has a balance row and an audit log row, each behind a lock every replica shares
//! (`SELECT ... FOR UPDATE`). A deposit locks the balance, then the log, and adds to both; a
//! statement locks the log, then the balance, and reads. Once a deposit holds the balance while
//! a statement holds the log, each waits for the other for good, and every later request on
//! that account queues behind them. What completed is still linearizable, and what hangs is
//! indeterminate, so the verdict stays valid: the run's stall detection is what catches it
//! ("from t = 0.4 s on, 20 of 20 clients waited and nothing completed"). The fix takes the
//! locks in one order everywhere.

use std::time::Duration;

use crate::store::Store;
use crate::strategies::{named_strategies, Expectation};

named_strategies! {
    /// In which order a statement takes the account's two locks.
    DeadlockStrategy {
        /// Deposits lock the balance then the log; statements the log then the balance.
        OppositeOrder = "opposite-order",
        /// Everyone locks the balance, then the log.
        FixedOrder = "fixed-order",
    }
}

/// The work between taking the first lock and the second: writing the log entry's header.
const BETWEEN_LOCKS: Duration = Duration::from_millis(1);

impl DeadlockStrategy {
    pub fn expectation(self) -> Expectation {
        match self {
            DeadlockStrategy::OppositeOrder => Expectation::Stalls,
            DeadlockStrategy::FixedOrder => Expectation::Safe,
        }
    }

    /// Deposits `amount`: the balance's lock, then the log's. Returns the new balance.
    pub async fn deposit(self, store: &Store, account: &str, amount: i64) -> i64 {
        let _balance = store.lock_row(&format!("balance:{account}")).await;
        tokio::time::sleep(BETWEEN_LOCKS).await;
        let _log = store.lock_row(&format!("log:{account}")).await;
        store.add_to_counter(account, amount).await
    }

    /// Reads the balance for a statement, holding both locks so that the log and the balance
    /// agree.
    pub async fn statement(self, store: &Store, account: &str) -> i64 {
        let (first, second) = match self {
            DeadlockStrategy::OppositeOrder => ("log", "balance"),
            DeadlockStrategy::FixedOrder => ("balance", "log"),
        };
        let _first = store.lock_row(&format!("{first}:{account}")).await;
        tokio::time::sleep(BETWEEN_LOCKS).await;
        let _second = store.lock_row(&format!("{second}:{account}")).await;
        store.counter(account).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::StoreConfig;

    /// Whether a deposit and a statement started together both finish within a second.
    async fn both_finish(strategy: DeadlockStrategy) -> bool {
        let store = Arc::new(Store::new(StoreConfig::default()));
        let deposit = {
            let store = Arc::clone(&store);
            tokio::spawn(async move { strategy.deposit(&store, "a", 1).await })
        };
        let statement = {
            let store = Arc::clone(&store);
            tokio::spawn(async move { strategy.statement(&store, "a").await })
        };
        let both = async { (deposit.await, statement.await) };
        tokio::time::timeout(Duration::from_secs(1), both)
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn opposite_orders_deadlock_and_one_order_does_not() {
        assert!(!both_finish(DeadlockStrategy::OppositeOrder).await);
        assert!(both_finish(DeadlockStrategy::FixedOrder).await);
    }
}
