//! The database every replica shares, simulated in memory.
//!
//! Each call first waits a small random delay, as a round trip to a real database does: that
//! wait is what opens the window between a read and the write that depends on it, so the
//! classic races happen here as they do in production, only faster. Each call on its own is
//! atomic (the data sits behind one lock, held only in memory, never across the wait), as a
//! single statement is in a real database; the races are between calls.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::Rng;

/// How the simulated database behaves.
#[derive(Clone, Copy, Debug)]
pub struct StoreConfig {
    /// The shortest and longest round trip; each call waits a random time in between. Tokio's
    /// timer rounds sleeps up to whole milliseconds, so in practice a call takes 1-2 ms.
    pub latency: (Duration, Duration),
    /// How long a new object stays invisible to the cache in front of the objects table, as a
    /// read replica or a cache refreshed in the background lags its primary.
    pub cache_lag: Duration,
}

impl Default for StoreConfig {
    fn default() -> StoreConfig {
        StoreConfig {
            latency: (Duration::from_micros(200), Duration::from_micros(1000)),
            cache_lag: Duration::from_millis(5),
        }
    }
}

/// A status document: the conditions reported on it, and a version bumped by every write.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    pub version: u64,
    pub conditions: BTreeSet<i64>,
}

/// The simulated database.
#[derive(Debug, Default)]
pub struct Store {
    config: StoreConfig,
    tables: Mutex<Tables>,
}

#[derive(Debug, Default)]
struct Tables {
    counters: HashMap<String, i64>,
    /// Every object created, by fingerprint, with when each was written. A fingerprint with
    /// more than one object is the duplicate the create-once race produces.
    objects: HashMap<String, Vec<Instant>>,
    statuses: HashMap<String, Status>,
}

impl Store {
    pub fn new(config: StoreConfig) -> Store {
        Store {
            config,
            tables: Mutex::default(),
        }
    }

    async fn round_trip(&self) {
        let (shortest, longest) = self.config.latency;
        let wait = if longest > shortest {
            rand::rng().random_range(shortest..=longest)
        } else {
            shortest
        };
        tokio::time::sleep(wait).await;
    }

    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        // A panic while holding the lock cannot leave the tables half-written (every change is
        // one insert or assignment), so a poisoned lock is still sound to use.
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub async fn counter(&self, key: &str) -> i64 {
        self.round_trip().await;
        self.tables().counters.get(key).copied().unwrap_or(0)
    }

    pub async fn set_counter(&self, key: &str, value: i64) {
        self.round_trip().await;
        self.tables().counters.insert(key.to_string(), value);
    }

    /// `UPDATE counters SET value = value + n`: the database does the arithmetic.
    pub async fn add_to_counter(&self, key: &str, amount: i64) -> i64 {
        self.round_trip().await;
        let mut tables = self.tables();
        let value = tables.counters.entry(key.to_string()).or_insert(0);
        *value = value.saturating_add(amount);
        *value
    }

    /// Whether an object with this fingerprint exists, as the cache sees it: objects younger
    /// than the cache's lag are not there yet.
    pub async fn cached_object_exists(&self, fingerprint: &str) -> bool {
        self.round_trip().await;
        let lag = self.config.cache_lag;
        self.tables()
            .objects
            .get(fingerprint)
            .is_some_and(|written| written.iter().any(|at| at.elapsed() >= lag))
    }

    /// A plain `INSERT`: no constraint stops a second object with the same fingerprint.
    pub async fn insert_object(&self, fingerprint: &str) {
        self.round_trip().await;
        self.tables()
            .objects
            .entry(fingerprint.to_string())
            .or_default()
            .push(Instant::now());
    }

    /// `INSERT ... ON CONFLICT DO NOTHING` under a unique index: true if this call created it.
    pub async fn insert_object_if_absent(&self, fingerprint: &str) -> bool {
        self.round_trip().await;
        let mut tables = self.tables();
        let written = tables.objects.entry(fingerprint.to_string()).or_default();
        if written.is_empty() {
            written.push(Instant::now());
            true
        } else {
            false
        }
    }

    /// How many objects carry this fingerprint: the ground truth, read without delay.
    pub fn objects_with(&self, fingerprint: &str) -> usize {
        self.tables().objects.get(fingerprint).map_or(0, Vec::len)
    }

    pub async fn status(&self, key: &str) -> Status {
        self.round_trip().await;
        self.tables().statuses.get(key).cloned().unwrap_or_default()
    }

    /// Writes the whole document, whatever happened to it since it was read.
    pub async fn put_status(&self, key: &str, conditions: BTreeSet<i64>) -> u64 {
        self.round_trip().await;
        let mut tables = self.tables();
        let status = tables.statuses.entry(key.to_string()).or_default();
        status.version += 1;
        status.conditions = conditions;
        status.version
    }

    /// `UPDATE ... WHERE version = expected`: writes only if nobody wrote since `expected` was
    /// read, and returns the new version, or `None` when someone did.
    pub async fn put_status_if_version(
        &self,
        key: &str,
        expected: u64,
        conditions: BTreeSet<i64>,
    ) -> Option<u64> {
        self.round_trip().await;
        let mut tables = self.tables();
        let status = tables.statuses.entry(key.to_string()).or_default();
        (status.version == expected).then(|| {
            status.version += 1;
            status.conditions = conditions;
            status.version
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> Store {
        Store::new(StoreConfig {
            latency: (Duration::ZERO, Duration::ZERO),
            cache_lag: Duration::from_millis(20),
        })
    }

    #[tokio::test]
    async fn the_cache_sees_objects_only_after_its_lag() {
        let store = fast();
        store.insert_object("fp").await;
        assert!(!store.cached_object_exists("fp").await);
        tokio::time::sleep(Duration::from_millis(25)).await;
        assert!(store.cached_object_exists("fp").await);
    }

    #[tokio::test]
    async fn insert_if_absent_creates_once() {
        let store = fast();
        assert!(store.insert_object_if_absent("fp").await);
        assert!(!store.insert_object_if_absent("fp").await);
        assert_eq!(store.objects_with("fp"), 1);
        store.insert_object("fp").await;
        assert_eq!(store.objects_with("fp"), 2);
    }

    #[tokio::test]
    async fn a_conditional_write_refuses_a_stale_version() {
        let store = fast();
        let read = store.status("s").await;
        assert_eq!(
            store
                .put_status_if_version("s", read.version, [1].into())
                .await,
            Some(1)
        );
        assert_eq!(
            store
                .put_status_if_version("s", read.version, [2].into())
                .await,
            None
        );
        assert_eq!(store.status("s").await.conditions, [1].into());
    }

    #[tokio::test]
    async fn counters_add_atomically() {
        let store = std::sync::Arc::new(Store::new(StoreConfig::default()));
        let adds: Vec<_> = (0..20)
            .map(|_| {
                let store = std::sync::Arc::clone(&store);
                tokio::spawn(async move { store.add_to_counter("c", 1).await })
            })
            .collect();
        for add in adds {
            add.await.unwrap();
        }
        assert_eq!(store.counter("c").await, 20);
    }
}
