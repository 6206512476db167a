//! Creating an object at most once per fingerprint (an alert, a payment, a signup): the six
//! options a gateway team argued over for a check-then-create through a lagging cache, and
//! the original.
//!
//! Every option answers `created` or `exists`, and a caller acts on `created` (sends the
//! notification, charges the card): two `created` answers for one fingerprint are the bug,
//! whatever the table holds afterwards.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::store::Store;
use crate::strategies::{named_strategies, Expectation, ReplicaState};

named_strategies! {
    /// How a request creates the object unless it exists.
    CreateStrategy {
        /// Asks the cache whether the fingerprint exists, then inserts: the cache lags the
        /// store, so concurrent requests all see "absent" and all insert. The original code.
        CachedCheckThenCreate = "cached-check-then-create",
        /// Reads around the cache, from the primary: the window shrinks to one round trip
        /// between the check and the insert, and concurrent requests still fit in it.
        UncachedCheckThenCreate = "uncached-check",
        /// The uncached check and the insert under an in-process lock per fingerprint: one
        /// replica's requests take turns, but each replica has its own lock.
        LocalLock = "local-lock",
        /// Lets the store's unique index decide, in one atomic insert-if-absent.
        UniqueCreate = "unique-create",
        /// The uncached check and the insert under a Redis-style lock on the fingerprint
        /// (`SET NX` with a TTL, released only by its holder), shared by every replica.
        TtlLock = "redis-lock",
        /// The same lock, but on some fingerprints the holder stalls between its check and its
        /// insert for longer than the TTL (a garbage collection, a page fault): the lock
        /// expires, a second request takes it, and both insert.
        TtlLockStall = "redis-lock-stall",
        /// Creates through the cached check, answers, and deletes duplicates afterwards: the
        /// table ends clean, but each duplicate's caller was told `created` and acted on it.
        CreateThenCleanUp = "create-then-clean-up",
        /// The original, with a cache that lags five times less: fewer duplicates, still some.
        ShortCacheLag = "shorter-cache-lag",
    }
}

/// How long the Redis-style lock lives: far longer than a check and an insert take, even on a
/// busy machine, so that only a real stall outlives it.
pub const LOCK_TTL: Duration = Duration::from_millis(200);

/// How long `redis-lock-stall`'s holder stalls: longer than [`LOCK_TTL`].
pub const STALL: Duration = Duration::from_millis(250);

/// A waiter for the lock gives up after this long and answers that it could not tell.
const LOCK_WAIT: Duration = Duration::from_secs(2);

/// How often a waiter asks for the lock again.
const LOCK_POLL: Duration = Duration::from_millis(1);

/// Lock tokens, unique within the process, so that a holder frees only its own lock.
static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

/// Why a create did not happen and cannot say whether the object exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockBusy;

impl CreateStrategy {
    pub fn expectation(self, replicas: usize) -> Expectation {
        match self {
            CreateStrategy::UniqueCreate | CreateStrategy::TtlLock => Expectation::Safe,
            CreateStrategy::LocalLock if replicas == 1 => Expectation::Safe,
            _ => Expectation::Racy,
        }
    }

    /// Whether `redis-lock-stall`'s holder stalls on this fingerprint: one in ten, so that a
    /// run of a few dozen fingerprints sees a stall or two and stays quick.
    pub fn stalls_on(fingerprint: &str) -> bool {
        fingerprint.parse::<u64>().is_ok_and(|n| n % 10 == 5)
    }

    /// Creates the object unless it exists; `Ok(true)` if this request created it.
    pub async fn create(
        self,
        store: &Store,
        replica: &ReplicaState,
        fingerprint: &str,
    ) -> Result<bool, LockBusy> {
        Ok(match self {
            CreateStrategy::CachedCheckThenCreate => {
                let lag = store.cache_lag();
                cached_check_then_create(store, fingerprint, lag).await
            }
            CreateStrategy::ShortCacheLag => {
                let lag = store.cache_lag() / 5;
                cached_check_then_create(store, fingerprint, lag).await
            }
            CreateStrategy::UncachedCheckThenCreate => {
                uncached_check_then_create(store, fingerprint, None).await
            }
            CreateStrategy::LocalLock => {
                let lock = replica.local_lock(&format!("create:{fingerprint}"));
                let _held = lock.lock().await;
                uncached_check_then_create(store, fingerprint, None).await
            }
            CreateStrategy::UniqueCreate => store.insert_object_if_absent(fingerprint).await,
            CreateStrategy::TtlLock => under_ttl_lock(store, fingerprint, false).await?,
            CreateStrategy::TtlLockStall => {
                under_ttl_lock(store, fingerprint, Self::stalls_on(fingerprint)).await?
            }
            CreateStrategy::CreateThenCleanUp => {
                let created = cached_check_then_create(store, fingerprint, store.cache_lag()).await;
                if created {
                    // The answer is already decided, and the caller acts on it; the clean-up
                    // only makes the table look right.
                    store.remove_duplicate_objects(fingerprint).await;
                }
                created
            }
        })
    }
}

async fn cached_check_then_create(store: &Store, fingerprint: &str, lag: Duration) -> bool {
    if store.cached_object_exists_with_lag(fingerprint, lag).await {
        return false;
    }
    store.insert_object(fingerprint).await;
    true
}

/// Checks the primary, then inserts, stalling for `stall` in between.
async fn uncached_check_then_create(
    store: &Store,
    fingerprint: &str,
    stall: Option<Duration>,
) -> bool {
    if store.object_exists(fingerprint).await {
        return false;
    }
    if let Some(stall) = stall {
        tokio::time::sleep(stall).await;
    }
    store.insert_object(fingerprint).await;
    true
}

/// Takes the fingerprint's lock (waiting for it), checks and creates, and frees the lock. With
/// `may_stall`, the first request to get the lock at once stalls past the TTL before it inserts.
async fn under_ttl_lock(
    store: &Store,
    fingerprint: &str,
    may_stall: bool,
) -> Result<bool, LockBusy> {
    let name = format!("lock:create:{fingerprint}");
    let token = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed);
    let deadline = Instant::now() + LOCK_WAIT;
    let mut first_try = true;
    while !store.set_lock_if_absent(&name, token, LOCK_TTL).await {
        if Instant::now() >= deadline {
            return Err(LockBusy);
        }
        first_try = false;
        tokio::time::sleep(LOCK_POLL).await;
    }
    let stall = (may_stall && first_try).then_some(STALL);
    let created = uncached_check_then_create(store, fingerprint, stall).await;
    store.release_lock(&name, token).await;
    Ok(created)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::StoreConfig;

    /// Five requests at once for one fingerprint, over `replicas` replicas: how many were told
    /// `created`, and how many objects the table holds afterwards.
    async fn concurrent_creates(
        strategy: CreateStrategy,
        replicas: usize,
        fingerprint: &str,
    ) -> (usize, usize) {
        let store = Arc::new(Store::new(StoreConfig::default()));
        let states: Vec<_> = (0..replicas)
            .map(|_| Arc::new(ReplicaState::default()))
            .collect();
        let creates: Vec<_> = (0..5)
            .map(|i| {
                let store = Arc::clone(&store);
                let replica = Arc::clone(&states[i % replicas]);
                let fingerprint = fingerprint.to_string();
                tokio::spawn(async move {
                    strategy
                        .create(&store, &replica, &fingerprint)
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut created = 0;
        for create in creates {
            created += usize::from(create.await.unwrap());
        }
        (created, store.objects_with(fingerprint))
    }

    #[tokio::test]
    async fn each_option_creates_once_or_not_as_expected() {
        use CreateStrategy::*;
        assert_eq!(
            concurrent_creates(CachedCheckThenCreate, 1, "1").await,
            (5, 5)
        );
        assert_eq!(concurrent_creates(UniqueCreate, 3, "1").await, (1, 1));
        assert_eq!(concurrent_creates(LocalLock, 1, "1").await, (1, 1));
        assert!(concurrent_creates(LocalLock, 3, "1").await.0 > 1);
        assert_eq!(concurrent_creates(TtlLock, 3, "1").await, (1, 1));
        assert_eq!(concurrent_creates(TtlLockStall, 3, "1").await, (1, 1));
        assert!(concurrent_creates(TtlLockStall, 3, "5").await.1 > 1);
        let (told, kept) = concurrent_creates(CreateThenCleanUp, 1, "1").await;
        assert!(told > 1 && kept == 1, "told {told}, kept {kept}");
    }

    #[test]
    fn names_round_trip_and_expectations_follow_replicas() {
        for s in CreateStrategy::ALL {
            assert_eq!(s.name().parse::<CreateStrategy>(), Ok(*s));
        }
        assert_eq!(CreateStrategy::LocalLock.expectation(1), Expectation::Safe);
        assert_eq!(CreateStrategy::LocalLock.expectation(3), Expectation::Racy);
        assert_eq!(CreateStrategy::TtlLock.expectation(3), Expectation::Safe);
    }
}
