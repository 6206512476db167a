//! The classic races and their fixes, each a way a request handler can use the shared store.
//!
//! Every racy strategy here is code that looks right when read alone and passes any test that
//! sends one request at a time; the fixes differ from them in a line or two. That is the point
//! of the lab: the difference only shows under concurrency, and the checker proves which is
//! which.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use tokio::sync::Mutex;

use crate::store::Store;

/// What a replica keeps to itself: the state that is *not* shared between replicas.
#[derive(Debug, Default)]
pub struct ReplicaState {
    /// The in-process locks of the `local-lock` strategies, one per counter or fingerprint:
    /// each serializes this replica's requests on its key, and nobody else's.
    local_locks: std::sync::Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

impl ReplicaState {
    pub(crate) fn local_lock(&self, key: &str) -> Arc<Mutex<()>> {
        // Only ever inserted into: a poisoned map is still whole.
        let mut locks = self.local_locks.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(locks.entry(key.to_string()).or_default())
    }
}

/// Whether a strategy is expected to lose the race.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Expectation {
    /// The checker must find a violation.
    Racy,
    /// The checker must find none, and the run must not stall.
    Safe,
    /// The run must stall (operations wait and none completes), and the checker find no
    /// violation in what did complete: a deadlock.
    Stalls,
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Expectation::Racy => "racy",
            Expectation::Safe => "safe",
            Expectation::Stalls => "stalls",
        })
    }
}

macro_rules! named_strategies {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = String;

            fn from_str(text: &str) -> Result<$name, String> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|s| s.name() == text)
                    .ok_or_else(|| {
                        let names: Vec<_> = $name::ALL.iter().map(|s| s.name()).collect();
                        format!("unknown strategy `{text}`: expected one of {}", names.join(", "))
                    })
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

pub(crate) use named_strategies;

named_strategies! {
    /// Adding to a counter (a balance, a stock level, a like count).
    CounterStrategy {
        /// Reads the value, adds in the handler, writes the sum back: two requests that read
        /// the same value both write value + 1, and one increment is lost.
        ReadModifyWrite = "read-modify-write",
        /// Has the store add, atomically.
        AtomicAdd = "atomic-add",
        /// Read-modify-write under a mutex in the replica's memory: correct while there is one
        /// replica, and no protection against the others once there are several.
        LocalLock = "local-lock",
    }
}

named_strategies! {
    /// Adding a condition to a status document that several writers update.
    StatusStrategy {
        /// Reads the document, adds the condition, writes the whole document back: a writer
        /// that read before another's write overwrites it, and that condition is lost.
        WriteBack = "write-back",
        /// Writes only if the version is still the one read, and retries on conflict
        /// (optimistic concurrency control).
        VersionCheck = "version-check",
    }
}

impl CounterStrategy {
    pub fn expectation(self, replicas: usize) -> Expectation {
        match self {
            CounterStrategy::ReadModifyWrite => Expectation::Racy,
            CounterStrategy::AtomicAdd => Expectation::Safe,
            CounterStrategy::LocalLock if replicas > 1 => Expectation::Racy,
            CounterStrategy::LocalLock => Expectation::Safe,
        }
    }

    /// Adds `amount` and returns the new value.
    pub async fn add(self, store: &Store, replica: &ReplicaState, key: &str, amount: i64) -> i64 {
        match self {
            CounterStrategy::ReadModifyWrite => read_modify_write(store, key, amount).await,
            CounterStrategy::AtomicAdd => store.add_to_counter(key, amount).await,
            CounterStrategy::LocalLock => {
                let lock = replica.local_lock(key);
                let _held = lock.lock().await;
                read_modify_write(store, key, amount).await
            }
        }
    }
}

async fn read_modify_write(store: &Store, key: &str, amount: i64) -> i64 {
    let value = store.counter(key).await.saturating_add(amount);
    store.set_counter(key, value).await;
    value
}

/// How often `version-check` retries before it gives up and reports a conflict. Every retry
/// follows another writer's success, so giving up takes this many writes by others in a row.
const VERSION_RETRIES: usize = 200;

impl StatusStrategy {
    pub fn expectation(self) -> Expectation {
        match self {
            StatusStrategy::WriteBack => Expectation::Racy,
            StatusStrategy::VersionCheck => Expectation::Safe,
        }
    }

    /// Adds `condition` to the status; `None` when it gave up without writing.
    pub async fn add_condition(self, store: &Store, key: &str, condition: i64) -> Option<u64> {
        match self {
            StatusStrategy::WriteBack => {
                let mut status = store.status(key).await;
                status.conditions.insert(condition);
                Some(store.put_status(key, status.conditions).await)
            }
            StatusStrategy::VersionCheck => {
                for _ in 0..VERSION_RETRIES {
                    let mut status = store.status(key).await;
                    status.conditions.insert(condition);
                    let written = store
                        .put_status_if_version(key, status.version, status.conditions)
                        .await;
                    if written.is_some() {
                        return written;
                    }
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::store::StoreConfig;

    async fn concurrent_adds(strategy: CounterStrategy, replicas: usize) -> i64 {
        let store = Arc::new(Store::new(StoreConfig::default()));
        let states: Vec<_> = (0..replicas)
            .map(|_| Arc::new(ReplicaState::default()))
            .collect();
        let adds: Vec<_> = (0..30)
            .map(|i| {
                let store = Arc::clone(&store);
                let replica = Arc::clone(&states[i % replicas]);
                tokio::spawn(async move { strategy.add(&store, &replica, "c", 1).await })
            })
            .collect();
        for add in adds {
            add.await.unwrap();
        }
        store.counter("c").await
    }

    #[tokio::test]
    async fn read_modify_write_loses_increments_and_the_fixes_do_not() {
        assert!(concurrent_adds(CounterStrategy::ReadModifyWrite, 1).await < 30);
        assert_eq!(concurrent_adds(CounterStrategy::AtomicAdd, 3).await, 30);
        assert_eq!(concurrent_adds(CounterStrategy::LocalLock, 1).await, 30);
        assert!(concurrent_adds(CounterStrategy::LocalLock, 3).await < 30);
    }

    #[tokio::test]
    async fn version_check_keeps_every_condition() {
        for (strategy, all_kept) in [
            (StatusStrategy::WriteBack, false),
            (StatusStrategy::VersionCheck, true),
        ] {
            let store = Arc::new(Store::new(StoreConfig::default()));
            let adds: Vec<_> = (0..10)
                .map(|i| {
                    let store = Arc::clone(&store);
                    tokio::spawn(async move { strategy.add_condition(&store, "s", i).await })
                })
                .collect();
            for add in adds {
                add.await.unwrap();
            }
            let kept = store.status("s").await.conditions.len();
            assert_eq!(kept == 10, all_kept, "{strategy}: kept {kept} of 10");
        }
    }

    #[test]
    fn names_round_trip() {
        for s in CounterStrategy::ALL {
            assert_eq!(s.name().parse::<CounterStrategy>(), Ok(*s));
        }
        assert!("lock".parse::<CounterStrategy>().is_err());
    }
}
