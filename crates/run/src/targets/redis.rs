//! Redis as the system under test: each workload mapped onto Redis commands, some variants
//! correct and some racy on purpose, so a run shows both what a race looks like and that the
//! fix holds.
//!
//! Every worker has a connection of its own and one operation in flight on it, so operations
//! interleave only the way separate processes' would.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use photofinish_history::Value;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Cmd, ErrorKind, FromRedisValue, RedisError, Script};

use crate::names::by_name;
use crate::transaction::Transaction;
use crate::{Client, Completion, Invocation, Target, WorkloadKind};

/// How a workload's operations map onto Redis commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RedisVariant {
    /// One command per operation: GET/SET, SADD/SMEMBERS, RPUSH/LPOP.
    Plain,
    /// cas-register: compare-and-set in a Lua script, atomic on the server.
    LuaCas,
    /// counter: GET, then SET to what was read plus one. Two clients reading the same value
    /// both write the same successor: lost updates.
    GetSet,
    /// counter: INCRBY, atomic on the server.
    Incr,
    /// mutex: `SET key token NX PX ttl`, released by DEL without looking at the owner. A holder
    /// that stalls past the ttl loses the lock without knowing and then deletes its successor's.
    SetNxPx,
    /// mutex: `SET key token NX` without expiry, released by a Lua compare-and-delete that
    /// refuses to release someone else's lock.
    SetNxOwned,
    /// create-once: EXISTS, then SET. Clients that check at the same moment all create.
    CheckThenSet,
    /// create-once: `SET key token NX`, which creates or not atomically.
    SetNx,
    /// kv: a Redis list per key: `append` is RPUSH, `get` LRANGE, `put` DEL and RPUSH in one
    /// MULTI/EXEC. (kv's racy variant is `get-set`: the list kept as JSON text, an append
    /// GETs it and SETs it back one longer, so concurrent appends overwrite each other.)
    List,
    /// multi-register: WATCH the transaction's registers, read them (MGET), then write in
    /// MULTI/EXEC, which the server refuses if a watched register changed meanwhile; the
    /// transaction is then tried again, up to [`TXN_ATTEMPTS`] times.
    Watch,
    /// multi-register: read the registers (MGET), then write them in MULTI/EXEC without WATCH.
    /// Two transactions that read a register at the same time both write what they computed
    /// from it: neither saw the other.
    ReadThenWrite,
    /// list-append: the whole transaction in one MULTI/EXEC, `append` as RPUSH and `r` as
    /// LRANGE, which the server runs one transaction at a time: serializable, and strict
    /// serializable on one server.
    MultiExec,
}

impl RedisVariant {
    const ALL: [RedisVariant; 12] = [
        RedisVariant::Plain,
        RedisVariant::LuaCas,
        RedisVariant::GetSet,
        RedisVariant::Incr,
        RedisVariant::SetNxPx,
        RedisVariant::SetNxOwned,
        RedisVariant::CheckThenSet,
        RedisVariant::SetNx,
        RedisVariant::List,
        RedisVariant::Watch,
        RedisVariant::ReadThenWrite,
        RedisVariant::MultiExec,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RedisVariant::Plain => "plain",
            RedisVariant::LuaCas => "lua",
            RedisVariant::GetSet => "get-set",
            RedisVariant::Incr => "incr",
            RedisVariant::SetNxPx => "set-nx-px",
            RedisVariant::SetNxOwned => "set-nx-owned",
            RedisVariant::CheckThenSet => "check-then-set",
            RedisVariant::SetNx => "set-nx",
            RedisVariant::List => "list",
            RedisVariant::Watch => "watch",
            RedisVariant::ReadThenWrite => "read-then-write",
            RedisVariant::MultiExec => "multi-exec",
        }
    }

    /// The variants that implement `kind`, the correct one first: it is the default.
    pub fn for_workload(kind: WorkloadKind) -> &'static [RedisVariant] {
        match kind {
            WorkloadKind::Register | WorkloadKind::Set | WorkloadKind::Queue => {
                &[RedisVariant::Plain]
            }
            WorkloadKind::CasRegister => &[RedisVariant::LuaCas],
            WorkloadKind::Counter => &[RedisVariant::Incr, RedisVariant::GetSet],
            WorkloadKind::Mutex => &[RedisVariant::SetNxOwned, RedisVariant::SetNxPx],
            WorkloadKind::CreateOnce => &[RedisVariant::SetNx, RedisVariant::CheckThenSet],
            WorkloadKind::Kv => &[RedisVariant::List, RedisVariant::GetSet],
            WorkloadKind::MultiRegister => &[RedisVariant::Watch, RedisVariant::ReadThenWrite],
            WorkloadKind::ListAppend => &[RedisVariant::MultiExec],
            // Transactions of reads then writes on Redis are the multi-register workload's;
            // these run on PostgreSQL (and any program, by exec).
            WorkloadKind::RwRegister | WorkloadKind::Bank => &[],
        }
    }

    /// The safe variant of `kind`; an error naming the workloads Redis runs when it runs
    /// none of `kind`.
    pub fn default_for(kind: WorkloadKind) -> Result<RedisVariant, String> {
        RedisVariant::for_workload(kind)
            .first()
            .copied()
            .ok_or_else(|| unsupported(kind))
    }

    /// The variant called `name` among those of `kind`, with an error listing them otherwise.
    pub fn parse(kind: WorkloadKind, name: &str) -> Result<RedisVariant, String> {
        if RedisVariant::for_workload(kind).is_empty() {
            return Err(unsupported(kind));
        }
        let what = format!("redis variant for the {kind} workload");
        by_name(
            RedisVariant::for_workload(kind),
            name,
            RedisVariant::name,
            &what,
        )
    }

    /// Whether the variant is meant to be linearizable (the others are there to be caught).
    pub fn is_safe(self) -> bool {
        !matches!(
            self,
            RedisVariant::GetSet
                | RedisVariant::SetNxPx
                | RedisVariant::CheckThenSet
                | RedisVariant::ReadThenWrite
        )
    }

    fn commands(self) -> &'static str {
        match self {
            RedisVariant::Plain => "one command per operation",
            RedisVariant::LuaCas => "cas in Lua",
            RedisVariant::GetSet => "GET+SET",
            RedisVariant::Incr => "INCRBY",
            RedisVariant::SetNxPx => "SET NX PX, DEL",
            RedisVariant::SetNxOwned => "SET NX, compare-and-delete",
            RedisVariant::CheckThenSet => "EXISTS+SET",
            RedisVariant::SetNx => "SET NX",
            RedisVariant::List => "RPUSH, LRANGE",
            RedisVariant::Watch => "WATCH, MGET, MULTI/EXEC",
            RedisVariant::ReadThenWrite => "MGET, then MULTI/EXEC without WATCH",
            RedisVariant::MultiExec => "MULTI, RPUSH/LRANGE, EXEC",
        }
    }
}

/// The error for a workload the Redis target does not run, naming those it runs.
fn unsupported(kind: WorkloadKind) -> String {
    let supported: Vec<_> = WorkloadKind::ALL
        .into_iter()
        .filter(|k| !RedisVariant::for_workload(*k).is_empty())
        .map(|k| k.model())
        .collect();
    format!(
        "the redis target does not run the {kind} workload: it runs {}",
        supported.join(", ")
    )
}

impl fmt::Display for RedisVariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RedisVariant {
    type Err = String;

    /// Any workload's variant; [`RedisVariant::parse`] also checks it fits the workload.
    fn from_str(name: &str) -> Result<RedisVariant, String> {
        by_name(
            &RedisVariant::ALL,
            name,
            RedisVariant::name,
            "redis variant",
        )
    }
}

/// A Redis server and the workload to run on it.
pub struct RedisTarget {
    client: redis::Client,
    addr: String,
    /// Where reads go instead of `client`: replicas, one per worker in turn.
    readers: Vec<(String, redis::Client)>,
    kind: WorkloadKind,
    variant: RedisVariant,
    lock_ttl: Duration,
    /// Numbers connections, so every client's lock token is its own.
    connections: AtomicU64,
}

/// How often the `watch` variant tries a transaction whose watched registers changed before
/// it reports it as failed (it had no effect).
pub const TXN_ATTEMPTS: usize = 50;

/// The default expiry of `set-nx-px` locks: shorter than the workload's long pause, so that a
/// stalled holder outlives its lock.
pub const DEFAULT_LOCK_TTL: Duration = Duration::from_millis(100);

impl RedisTarget {
    /// `url_or_addr` is a `redis://` URL or a bare `host:port`. Fails if the address does not
    /// parse or `variant` does not implement `kind`.
    pub fn new(
        url_or_addr: &str,
        kind: WorkloadKind,
        variant: RedisVariant,
    ) -> Result<RedisTarget, String> {
        if !RedisVariant::for_workload(kind).contains(&variant) {
            RedisVariant::parse(kind, variant.name())?;
        }
        let url = if url_or_addr.contains("://") {
            url_or_addr.to_string()
        } else {
            format!("redis://{url_or_addr}")
        };
        let client =
            redis::Client::open(url.as_str()).map_err(|e| format!("bad redis address: {e}"))?;
        Ok(RedisTarget {
            client,
            addr: url_or_addr.to_string(),
            readers: Vec::new(),
            kind,
            variant,
            lock_ttl: DEFAULT_LOCK_TTL,
            connections: AtomicU64::new(0),
        })
    }

    /// Sets the expiry of `set-nx-px` locks.
    pub fn with_lock_ttl(mut self, ttl: Duration) -> RedisTarget {
        self.lock_ttl = ttl.max(Duration::from_millis(1));
        self
    }

    /// Sends reads to these servers (replicas, say), worker `i` to the `i % n`th; writes and
    /// the reads inside a read-modify-write still go to the main address. Reads from a replica
    /// that lags are stale: a register run shows it.
    pub fn with_readers(mut self, urls: &[String]) -> Result<RedisTarget, String> {
        for url in urls {
            let client = redis::Client::open(url.as_str())
                .map_err(|e| format!("bad redis address {url}: {e}"))?;
            self.readers.push((url.clone(), client));
        }
        Ok(self)
    }

    /// The glob matching every key this workload uses, and nothing another workload uses.
    fn key_pattern(&self) -> String {
        format!("photofinish:{}:*", self.kind.model())
    }

    async fn open(&self) -> Result<MultiplexedConnection, String> {
        open(&self.client).await
    }
}

async fn open(client: &redis::Client) -> Result<MultiplexedConnection, String> {
    // The runner bounds every operation with its own timeout and records a timed-out one as
    // indeterminate; the driver's shorter default would turn slow answers into errors.
    let config = AsyncConnectionConfig::new()
        .set_response_timeout(None)
        .set_connection_timeout(None);
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .map_err(|e| e.to_string())
}

impl Target for RedisTarget {
    type Client = RedisClient;

    fn describe(&self) -> String {
        let reads = if self.readers.is_empty() {
            String::new()
        } else {
            let urls: Vec<&str> = self.readers.iter().map(|(url, _)| url.as_str()).collect();
            format!(", reads from {}", urls.join(" "))
        };
        format!(
            "redis {} ({} by {}{reads})",
            self.addr,
            self.kind,
            self.variant.commands()
        )
    }

    async fn setup(&self) -> Result<(), String> {
        let mut con = self.open().await?;
        let pattern = self.key_pattern();
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut con)
                .await
                .map_err(|e| format!("SCAN: {e}"))?;
            if !keys.is_empty() {
                redis::cmd("DEL")
                    .arg(&keys)
                    .query_async::<()>(&mut con)
                    .await
                    .map_err(|e| format!("DEL: {e}"))?;
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }

    async fn connect(&self, worker: usize) -> Result<RedisClient, String> {
        let con = self.open().await?;
        let read_con = match self.readers.get(worker % self.readers.len().max(1)) {
            Some((_, reader)) => Some(open(reader).await?),
            None => None,
        };
        let n = self.connections.fetch_add(1, Ordering::Relaxed);
        Ok(RedisClient {
            con,
            client: self.client.clone(),
            read_con,
            prefix: format!("photofinish:{}:", self.kind.model()),
            kind: self.kind,
            variant: self.variant,
            token: format!("worker-{worker}-connection-{n}"),
            lock_ttl_ms: self.lock_ttl.as_millis().max(1) as u64,
        })
    }
}

/// The Lua scripts, hashed once for all clients.
struct Scripts {
    /// KEYS[1]; ARGV: expected, new, and "1" when the register must be absent rather than hold
    /// `expected`. Returns 1 if it swapped.
    cas: Script,
    /// KEYS[1]; ARGV: the caller's token. Deletes the lock only if the caller holds it.
    release: Script,
}

static SCRIPTS: std::sync::LazyLock<Scripts> = std::sync::LazyLock::new(|| Scripts {
    cas: Script::new(
        "local v = redis.call('GET', KEYS[1])
         if (ARGV[3] == '1' and v == false) or (ARGV[3] ~= '1' and v == ARGV[1]) then
           redis.call('SET', KEYS[1], ARGV[2])
           return 1
         end
         return 0",
    ),
    release: Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then
           return redis.call('DEL', KEYS[1])
         end
         return 0",
    ),
});

/// One worker's connection.
pub struct RedisClient {
    con: MultiplexedConnection,
    /// Where `con` came from, for a lock client to reconnect as the same owner.
    client: redis::Client,
    /// A replica's connection, for reads, when the target reads from replicas.
    read_con: Option<MultiplexedConnection>,
    prefix: String,
    /// Set reads and register reads share `read` and the `plain` variant.
    kind: WorkloadKind,
    variant: RedisVariant,
    /// What this client writes as a lock's or a created object's owner.
    token: String,
    lock_ttl_ms: u64,
}

/// Why an operation did not complete normally, already judged as fail or info.
type OpResult = Result<Value, Completion>;

/// A server's error reply means Redis refused the command, so it did nothing; anything else
/// (a dropped connection, an unreadable answer) leaves the outcome unknown.
fn judge(error: RedisError) -> Completion {
    match error.kind() {
        ErrorKind::Server(_) | ErrorKind::Extension => Completion::Fail(error.to_string()),
        _ => Completion::Info(error.to_string()),
    }
}

/// Values are stored as their JSON text, so a register holds whatever the history wrote and
/// reads it back unchanged; integers are plain decimal, which INCRBY also understands.
fn encode(value: &Value) -> String {
    match value {
        Value::Int(n) => n.to_string(),
        other => other.to_json_string(),
    }
}

fn decode(text: &str) -> Result<Value, Completion> {
    Value::from_json_str(text)
        .map_err(|e| Completion::Fail(format!("unreadable value {text:?}: {e}")))
}

fn decode_int(text: Option<String>) -> OpResult {
    match text {
        None => Ok(Value::Int(0)),
        Some(text) => text
            .parse::<i64>()
            .map(Value::Int)
            .map_err(|_| Completion::Fail(format!("not an integer: {text:?}"))),
    }
}

impl RedisClient {
    fn key(&self, key: &Option<Value>) -> String {
        match key {
            None => format!("{}0", self.prefix),
            Some(Value::Int(k)) => format!("{}{k}", self.prefix),
            Some(Value::Str(name)) => format!("{}{name}", self.prefix),
            Some(other) => format!("{}{}", self.prefix, other.to_json_string()),
        }
    }

    async fn query<T: FromRedisValue>(&mut self, cmd: &Cmd) -> Result<T, Completion> {
        cmd.query_async(&mut self.con).await.map_err(judge)
    }

    /// A read operation's command: to the replica when there is one.
    async fn query_read<T: FromRedisValue>(&mut self, cmd: &Cmd) -> Result<T, Completion> {
        let con = self.read_con.as_mut().unwrap_or(&mut self.con);
        cmd.query_async(con).await.map_err(judge)
    }

    /// Makes sure a lock command goes out on a live connection. A holder that sends its release
    /// on a connection the server has dropped (it was killed and restarted) learns nothing: the
    /// release ends unknown though it never reached the server, and the checker must then allow
    /// that it happened, which hides a lock lost in the restart. So a lock client first checks
    /// its connection with a PING; when the PING fails, nothing was sent, and the client
    /// reconnects, keeping its owner token, until the server answers. The runner's operation
    /// timeout bounds the wait (the operation is then unknown, as it would have been). A release
    /// that then finds the lock gone fails for sure: the lock was lost while still held.
    async fn live_connection(&mut self) {
        if self.query::<String>(&redis::cmd("PING")).await.is_ok() {
            return;
        }
        let mut backoff = Duration::from_millis(10);
        loop {
            if let Ok(con) = open(&self.client).await {
                self.con = con;
                return;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_millis(200));
        }
    }

    async fn perform(&mut self, op: &Invocation) -> OpResult {
        let key = self.key(&op.key);
        let echo = op.value.clone();
        match (self.variant, op.f.as_str()) {
            (RedisVariant::Plain, "read") if self.kind == WorkloadKind::Set => {
                let mut members: Vec<String> =
                    self.query_read(redis::cmd("SMEMBERS").arg(&key)).await?;
                members.sort_by_key(|m| m.parse::<i64>().unwrap_or(i64::MAX));
                members
                    .iter()
                    .map(|m| decode(m))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::List)
            }
            (RedisVariant::Plain | RedisVariant::LuaCas, "read") => {
                let text: Option<String> = self.query_read(redis::cmd("GET").arg(&key)).await?;
                text.map_or(Ok(Value::Null), |t| decode(&t))
            }
            (RedisVariant::Plain | RedisVariant::LuaCas, "write") => {
                self.query::<()>(redis::cmd("SET").arg(&key).arg(encode(&op.value)))
                    .await?;
                Ok(echo)
            }
            (RedisVariant::LuaCas, "cas") => {
                let Some((expected, new)) = op.value.as_pair() else {
                    return Err(Completion::Fail(format!(
                        "cas expects [expected, new], found {}",
                        op.value
                    )));
                };
                let (expected, new) = (expected.as_ref(), new.as_ref());
                let swapped: i64 = SCRIPTS
                    .cas
                    .key(&key)
                    .arg(encode(expected))
                    .arg(encode(new))
                    .arg(if expected.is_null() { "1" } else { "0" })
                    .invoke_async(&mut self.con)
                    .await
                    .map_err(judge)?;
                if swapped == 1 {
                    Ok(echo)
                } else {
                    Err(Completion::Fail("value differs".to_string()))
                }
            }
            (RedisVariant::Plain, "add") => {
                self.query::<()>(redis::cmd("SADD").arg(&key).arg(encode(&op.value)))
                    .await?;
                Ok(echo)
            }
            (RedisVariant::Plain, "enqueue") => {
                self.query::<()>(redis::cmd("RPUSH").arg(&key).arg(encode(&op.value)))
                    .await?;
                Ok(echo)
            }
            (RedisVariant::Plain, "dequeue") => {
                let text: Option<String> = self.query(redis::cmd("LPOP").arg(&key)).await?;
                text.map_or(Ok(Value::Null), |t| decode(&t))
            }
            (RedisVariant::GetSet | RedisVariant::Incr, "read") => {
                decode_int(self.query_read(redis::cmd("GET").arg(&key)).await?)
            }
            (RedisVariant::Incr, "add") => {
                let n = int_arg(&op.value)?;
                self.query::<i64>(redis::cmd("INCRBY").arg(&key).arg(n))
                    .await?;
                Ok(echo)
            }
            (RedisVariant::GetSet, "add") => {
                let n = int_arg(&op.value)?;
                let current = decode_int(self.query(redis::cmd("GET").arg(&key)).await?)?;
                let next = current.as_i64().unwrap_or(0).wrapping_add(n);
                self.query::<()>(redis::cmd("SET").arg(&key).arg(next))
                    .await?;
                Ok(echo)
            }
            (RedisVariant::SetNxPx | RedisVariant::SetNxOwned, "acquire") => {
                self.live_connection().await;
                let mut set = redis::cmd("SET");
                set.arg(&key).arg(&self.token).arg("NX");
                if self.variant == RedisVariant::SetNxPx {
                    set.arg("PX").arg(self.lock_ttl_ms);
                }
                let answer: Option<String> = self.query(&set).await?;
                match answer {
                    Some(_) => Ok(echo),
                    None => Err(Completion::Fail("held by another".to_string())),
                }
            }
            (RedisVariant::SetNxPx, "release") => {
                self.live_connection().await;
                self.query::<i64>(redis::cmd("DEL").arg(&key)).await?;
                Ok(echo)
            }
            (RedisVariant::SetNxOwned, "release") => {
                self.live_connection().await;
                let deleted: i64 = SCRIPTS
                    .release
                    .key(&key)
                    .arg(&self.token)
                    .invoke_async(&mut self.con)
                    .await
                    .map_err(judge)?;
                if deleted == 1 {
                    Ok(echo)
                } else {
                    Err(Completion::Fail("not the holder".to_string()))
                }
            }
            (RedisVariant::CheckThenSet, "create") => {
                let exists: i64 = self.query(redis::cmd("EXISTS").arg(&key)).await?;
                if exists == 1 {
                    return Ok(Value::from("exists"));
                }
                self.query::<()>(redis::cmd("SET").arg(&key).arg(&self.token))
                    .await?;
                Ok(Value::from("created"))
            }
            (RedisVariant::SetNx, "create") => {
                let answer: Option<String> = self
                    .query(redis::cmd("SET").arg(&key).arg(&self.token).arg("NX"))
                    .await?;
                Ok(Value::from(if answer.is_some() {
                    "created"
                } else {
                    "exists"
                }))
            }
            (RedisVariant::List, "get") => {
                let items: Vec<String> = self
                    .query_read(redis::cmd("LRANGE").arg(&key).arg(0).arg(-1))
                    .await?;
                if items.is_empty() {
                    return Ok(Value::Null);
                }
                items
                    .iter()
                    .map(|item| decode(item))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::List)
            }
            (RedisVariant::List, "append") => {
                self.query::<()>(redis::cmd("RPUSH").arg(&key).arg(encode(&op.value)))
                    .await?;
                Ok(echo)
            }
            (RedisVariant::List, "put") => {
                let items = list_arg(&op.value)?;
                let mut put = redis::pipe();
                put.atomic().cmd("DEL").arg(&key).ignore();
                if !items.is_empty() {
                    put.cmd("RPUSH").arg(&key).arg(&items).ignore();
                }
                put.query_async::<()>(&mut self.con).await.map_err(judge)?;
                Ok(echo)
            }
            (RedisVariant::GetSet, "get") => {
                let text: Option<String> = self.query_read(redis::cmd("GET").arg(&key)).await?;
                text.map_or(Ok(Value::Null), |t| decode(&t))
            }
            (RedisVariant::GetSet, "put") => {
                list_arg(&op.value)?;
                self.query::<()>(redis::cmd("SET").arg(&key).arg(encode(&op.value)))
                    .await?;
                Ok(echo)
            }
            (RedisVariant::GetSet, "append") => {
                let text: Option<String> = self.query(redis::cmd("GET").arg(&key)).await?;
                let mut items = match text.map(|t| decode(&t)).transpose()? {
                    None => Vec::new(),
                    Some(list @ (Value::List(_) | Value::Ints(_))) => {
                        list.as_list().unwrap_or_default().into_owned()
                    }
                    Some(other) => {
                        return Err(Completion::Fail(format!(
                            "cannot append to {other}, which is no list"
                        )))
                    }
                };
                items.push(op.value.clone());
                self.query::<()>(
                    redis::cmd("SET")
                        .arg(&key)
                        .arg(Value::List(items).to_json_string()),
                )
                .await?;
                Ok(echo)
            }
            (RedisVariant::Watch | RedisVariant::ReadThenWrite, "txn") => self.txn(&op.value).await,
            (RedisVariant::MultiExec, "txn") => self.list_append_txn(&op.value).await,
            (variant, f) => Err(Completion::Fail(format!(
                "the {variant} variant does not implement `{f}`"
            ))),
        }
    }

    /// A multi-register transaction: read every register it names (under WATCH in the `watch`
    /// variant), apply its micro-operations in order to what was read, then write the registers
    /// it wrote in one MULTI/EXEC. Returns the micro-operations with the values read.
    async fn txn(&mut self, value: &Value) -> OpResult {
        let micros = Transaction::parse(value)?;
        let keys: Vec<String> = micros
            .registers
            .iter()
            .map(|r| self.key(&Some(r.clone())))
            .collect();
        let watch = self.variant == RedisVariant::Watch;
        let attempts = if watch { TXN_ATTEMPTS } else { 1 };
        for _ in 0..attempts {
            if watch {
                self.query::<()>(redis::cmd("WATCH").arg(&keys)).await?;
            }
            let read = self
                .query::<Vec<Option<String>>>(redis::cmd("MGET").arg(&keys))
                .await;
            let current = match read {
                Ok(texts) => texts
                    .into_iter()
                    .map(|t| t.map_or(Ok(Value::Null), |t| decode(&t)))
                    .collect::<Result<Vec<_>, _>>(),
                Err(e) => Err(e),
            };
            let current = match current {
                Ok(current) => current,
                Err(completion) => {
                    if watch && !completion.is_info() {
                        let _ = self.query::<()>(&redis::cmd("UNWATCH")).await;
                    }
                    return Err(completion);
                }
            };
            let (result, writes) = micros.apply(current);
            if writes.is_empty() {
                // MGET read every register at one moment: nothing to write.
                if watch {
                    self.query::<()>(&redis::cmd("UNWATCH")).await?;
                }
                return Ok(result);
            }
            let mut write = redis::pipe();
            write.atomic();
            for (index, value) in &writes {
                write
                    .cmd("SET")
                    .arg(&keys[*index])
                    .arg(encode(value))
                    .ignore();
            }
            let answer: redis::Value = write.query_async(&mut self.con).await.map_err(judge)?;
            if answer != redis::Value::Nil {
                return Ok(result);
            }
            // A watched register changed: EXEC did nothing. Try again from the reads.
        }
        Err(Completion::Fail(format!(
            "gave up after {attempts} attempts: a watched register changed every time"
        )))
    }
}

impl RedisClient {
    /// A list-append transaction in one MULTI/EXEC: each `["append", k, v]` an RPUSH of `v`,
    /// each `["r", k, null]` an LRANGE of the whole list, in order. Returns the
    /// micro-operations with the lists read. An error reply fails the transaction: EXEC
    /// refused it whole (EXECABORT), since its keys hold only lists (the setup deleted them),
    /// so no command inside can fail alone after others ran.
    async fn list_append_txn(&mut self, value: &Value) -> OpResult {
        let bad = || {
            Completion::Fail(format!(
                "txn expects a list of [\"append\", key, value] and [\"r\", key, null], found {value}"
            ))
        };
        let micros = value.as_list_of_values().ok_or_else(bad)?;
        let mut pipe = redis::pipe();
        pipe.atomic();
        let mut reads = Vec::with_capacity(micros.len());
        for micro in micros.iter() {
            let Some([Value::Str(f), key, v]) = micro.as_list_of_values() else {
                return Err(bad());
            };
            let key = self.key(&Some(key.clone()));
            match f.as_str() {
                "append" => {
                    pipe.cmd("RPUSH").arg(&key).arg(encode(v)).ignore();
                    reads.push(false);
                }
                "r" | "read" => {
                    pipe.cmd("LRANGE").arg(&key).arg(0).arg(-1);
                    reads.push(true);
                }
                _ => return Err(bad()),
            }
        }
        let lists: Vec<Vec<String>> = pipe.query_async(&mut self.con).await.map_err(judge)?;
        if lists.len() != reads.iter().filter(|r| **r).count() {
            // EXEC ran, but its answer does not match what was sent: what it did is unknown.
            return Err(Completion::Info(format!(
                "EXEC answered {} lists for {} reads",
                lists.len(),
                reads.len()
            )));
        }
        let mut lists = lists.into_iter();
        micros
            .iter()
            .zip(reads)
            .map(|(micro, read)| {
                let Some([f, key, v]) = micro.as_list_of_values() else {
                    return Err(bad());
                };
                let result = if read {
                    // As many lists as reads: checked above.
                    let items = lists.next().unwrap_or_default();
                    Value::List(
                        items
                            .iter()
                            .map(|item| decode(item))
                            .collect::<Result<_, _>>()?,
                    )
                } else {
                    v.clone()
                };
                Ok(Value::List(vec![f.clone(), key.clone(), result]))
            })
            .collect::<Result<_, _>>()
            .map(Value::List)
    }
}

fn list_arg(value: &Value) -> Result<Vec<String>, Completion> {
    match value {
        Value::List(_) | Value::Ints(_) => Ok(value
            .as_list()
            .unwrap_or_default()
            .iter()
            .map(encode)
            .collect()),
        other => Err(Completion::Fail(format!(
            "put expects a list, found {other}"
        ))),
    }
}

fn int_arg(value: &Value) -> Result<i64, Completion> {
    match value {
        Value::Null => Ok(1),
        other => other
            .as_i64()
            .ok_or_else(|| Completion::Fail(format!("add expects an integer, found {other}"))),
    }
}

impl Client for RedisClient {
    async fn invoke(&mut self, op: &Invocation) -> Completion {
        match self.perform(op).await {
            Ok(value) => Completion::Ok(value),
            Err(completion) => completion,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_workload_has_a_safe_default() {
        for kind in WorkloadKind::ALL {
            let Ok(variant) = RedisVariant::default_for(kind) else {
                let error = RedisVariant::parse(kind, "plain").unwrap_err();
                assert!(error.contains("does not run"), "{error}");
                continue;
            };
            assert!(variant.is_safe(), "{kind}: {variant}");
            assert_eq!(RedisVariant::parse(kind, variant.name()), Ok(variant));
        }
    }

    #[test]
    fn a_variant_of_another_workload_is_refused_with_the_choices() {
        let error = RedisVariant::parse(WorkloadKind::Counter, "set-nx").unwrap_err();
        assert!(error.contains("incr, get-set"), "{error}");
        assert!(
            RedisTarget::new("127.0.0.1:1", WorkloadKind::Counter, RedisVariant::SetNx).is_err()
        );
        assert!("no-such".parse::<RedisVariant>().is_err());
    }

    #[test]
    fn values_round_trip_through_their_stored_text() {
        for value in [Value::Int(-3), Value::from("x"), Value::Bool(true)] {
            assert_eq!(decode(&encode(&value)).ok(), Some(value));
        }
    }
}
