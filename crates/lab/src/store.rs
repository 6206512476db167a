//! The database every replica shares, simulated in memory.
//!
//! Each call first waits a small random delay, as a round trip to a real database does: that
//! wait is what opens the window between a read and the write that depends on it, so the
//! classic races happen here as they do in production, only faster. Each call on its own is
//! atomic (the data sits behind one lock, held only in memory, never across the wait), as a
//! single statement is in a real database; the races are between calls.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use tokio::sync::OwnedMutexGuard;

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
    /// Redis-style locks (`SET name token NX PX ttl`): the holder's token and when it expires.
    locks: HashMap<String, (u64, Instant)>,
    /// Row locks (`SELECT ... FOR UPDATE`), one per row, waited for in turn.
    row_locks: HashMap<String, Arc<tokio::sync::Mutex<()>>>,
    /// Balances kept as binary floating point, as a float accumulator does.
    float_balances: HashMap<String, f64>,
    /// Balances kept as integer hundredths, so that adding 0.35 is exact.
    cent_balances: HashMap<String, i64>,
    /// Multi-field records: a node's utilisation and the sample it was computed from.
    records: HashMap<String, [Option<i64>; RECORD_FIELDS.len()]>,
    /// Single-value registers, `null` until written.
    registers: HashMap<String, Option<i64>>,
}

/// The fields of a record, in the order a writer writes them.
pub const RECORD_FIELDS: [&str; 2] = ["utilisation", "samples"];

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
        // A store with no simulated delay (the remote table's, whose round trip is the
        // network's) answers at once: even a zero sleep waits for the timer's next tick.
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
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
        self.cached_object_exists_with_lag(fingerprint, self.config.cache_lag)
            .await
    }

    /// [`Store::cached_object_exists`] through a cache that lags by `lag` instead.
    pub async fn cached_object_exists_with_lag(&self, fingerprint: &str, lag: Duration) -> bool {
        self.round_trip().await;
        self.tables()
            .objects
            .get(fingerprint)
            .is_some_and(|written| written.iter().any(|at| at.elapsed() >= lag))
    }

    pub fn cache_lag(&self) -> Duration {
        self.config.cache_lag
    }

    /// Whether an object with this fingerprint exists, read from the primary: no lag.
    pub async fn object_exists(&self, fingerprint: &str) -> bool {
        self.round_trip().await;
        self.tables()
            .objects
            .get(fingerprint)
            .is_some_and(|written| !written.is_empty())
    }

    /// Deletes every object with this fingerprint but the oldest, as a clean-up job does;
    /// returns how many it deleted.
    pub async fn remove_duplicate_objects(&self, fingerprint: &str) -> usize {
        self.round_trip().await;
        let mut tables = self.tables();
        let Some(written) = tables.objects.get_mut(fingerprint) else {
            return 0;
        };
        written.sort_unstable();
        let removed = written.len().saturating_sub(1);
        written.truncate(1);
        removed
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

/// Locks: the Redis-style lock with an expiry, and row locks.
impl Store {
    /// `SET name token NX PX ttl`: takes the lock if nobody holds it or the holder's time ran
    /// out, whether or not that holder is done. True if `token` now holds it.
    pub async fn set_lock_if_absent(&self, name: &str, token: u64, ttl: Duration) -> bool {
        self.round_trip().await;
        let now = Instant::now();
        let mut tables = self.tables();
        match tables.locks.get(name) {
            Some((_, expires)) if *expires > now => false,
            _ => {
                tables.locks.insert(name.to_string(), (token, now + ttl));
                true
            }
        }
    }

    /// Deletes the lock only if `token` still holds it (the compare-and-delete script every
    /// Redis lock guide gives), so that a holder whose lock expired cannot free the next
    /// holder's. True if it did.
    pub async fn release_lock(&self, name: &str, token: u64) -> bool {
        self.round_trip().await;
        let mut tables = self.tables();
        let held = tables
            .locks
            .get(name)
            .is_some_and(|(holder, expires)| *holder == token && *expires > Instant::now());
        if held {
            tables.locks.remove(name);
        }
        held
    }

    /// `SELECT ... FOR UPDATE`: waits for the row's lock, shared by every replica, and holds
    /// it until the guard is dropped. Waiters get it in turn.
    pub async fn lock_row(&self, row: &str) -> OwnedMutexGuard<()> {
        self.round_trip().await;
        let lock = Arc::clone(self.tables().row_locks.entry(row.to_string()).or_default());
        lock.lock_owned().await
    }
}

/// Balances: as floats, or as integer hundredths.
impl Store {
    pub async fn float_balance(&self, key: &str) -> f64 {
        self.round_trip().await;
        self.tables()
            .float_balances
            .get(key)
            .copied()
            .unwrap_or(0.0)
    }

    pub async fn set_float_balance(&self, key: &str, value: f64) {
        self.round_trip().await;
        self.tables().float_balances.insert(key.to_string(), value);
    }

    pub async fn cent_balance(&self, key: &str) -> i64 {
        self.round_trip().await;
        self.tables().cent_balances.get(key).copied().unwrap_or(0)
    }

    /// `INCRBY key cents`: the store adds, atomically, in integers.
    pub async fn add_cents(&self, key: &str, cents: i64) -> i64 {
        self.round_trip().await;
        let mut tables = self.tables();
        let value = tables.cent_balances.entry(key.to_string()).or_insert(0);
        *value = value.saturating_add(cents);
        *value
    }
}

/// Records of several fields, and single registers.
impl Store {
    /// One field of a record, read on its own.
    pub async fn record_field(&self, key: &str, field: usize) -> Option<i64> {
        self.round_trip().await;
        self.tables().records.get(key).and_then(|r| r[field])
    }

    /// Every field of a record, in one statement.
    pub async fn record(&self, key: &str) -> [Option<i64>; RECORD_FIELDS.len()] {
        self.round_trip().await;
        self.tables().records.get(key).copied().unwrap_or_default()
    }

    pub async fn set_record_field(&self, key: &str, field: usize, value: i64) {
        self.round_trip().await;
        self.tables().records.entry(key.to_string()).or_default()[field] = Some(value);
    }

    pub async fn register(&self, key: &str) -> Option<i64> {
        self.round_trip().await;
        self.tables().registers.get(key).copied().flatten()
    }

    pub async fn set_register(&self, key: &str, value: i64) {
        self.round_trip().await;
        self.tables().registers.insert(key.to_string(), Some(value));
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
    async fn a_lock_with_a_ttl_is_taken_over_once_it_expires() {
        let store = fast();
        let ttl = Duration::from_millis(20);
        assert!(store.set_lock_if_absent("l", 1, ttl).await);
        assert!(!store.set_lock_if_absent("l", 2, ttl).await);
        tokio::time::sleep(Duration::from_millis(25)).await;
        assert!(store.set_lock_if_absent("l", 2, ttl).await);
        assert!(
            !store.release_lock("l", 1).await,
            "the first holder's lock expired"
        );
        assert!(store.release_lock("l", 2).await);
        assert!(store.set_lock_if_absent("l", 3, ttl).await);
    }

    #[tokio::test]
    async fn clean_up_keeps_the_oldest_object() {
        let store = fast();
        for _ in 0..3 {
            store.insert_object("fp").await;
        }
        assert!(store.object_exists("fp").await);
        assert_eq!(store.remove_duplicate_objects("fp").await, 2);
        assert_eq!(store.objects_with("fp"), 1);
        assert_eq!(store.remove_duplicate_objects("absent").await, 0);
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
