//! PostgreSQL as the system under test: a counter, a register, create-once, a set, a kv of
//! lists and multi-register transactions mapped onto SQL the ways applications write them,
//! some right and some with the read-modify-write races that a weaker isolation level lets
//! through; and the transactional workloads (list-append, rw-register, bank: see `postgres/txn.rs`),
//! one real transaction per operation at the isolation level asked for.

mod txn;

use std::fmt;
use std::str::FromStr;

use photofinish_history::Value;
use tokio_postgres::error::SqlState;
use tokio_postgres::{IsolationLevel, NoTls, Statement, TransactionBuilder};

use crate::names::by_name;
use crate::transaction::Transaction;
use crate::{Client, Completion, Invocation, Target, WorkloadKind};

/// How a workload's operations map onto SQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PostgresVariant {
    /// counter: `UPDATE SET v = v + 1`, which the row lock serializes.
    UpdateAdd,
    /// counter: SELECT v, then `UPDATE SET v = read + 1` in one transaction. Under READ
    /// COMMITTED two transactions read the same v and both write its successor; stronger levels
    /// refuse the second writer. kv: an append SELECTs the list, then UPDATEs it one longer.
    /// multi-register: a transaction SELECTs its registers, then UPDATEs those it writes: racy
    /// below SERIALIZABLE (REPEATABLE READ lets two transactions each write what the other
    /// read: write skew).
    SelectUpdate,
    /// counter, kv: `SELECT ... FOR UPDATE`, then UPDATE: the lock is taken by the read.
    /// multi-register (the default): the transaction first locks all its registers' rows in key
    /// order with `SELECT ... ORDER BY k FOR UPDATE`, so it cannot deadlock.
    ForUpdate,
    /// counter, kv, multi-register: as `select-update`, at SERIALIZABLE, retrying serialization
    /// failures.
    Serializable,
    /// create-once: SELECT, then INSERT into a table without a unique constraint. Under READ
    /// COMMITTED concurrent creators all see no row and all insert.
    CheckThenInsert,
    /// create-once: `INSERT ... ON CONFLICT DO NOTHING` on a primary key.
    UniqueInsert,
    /// register: SELECT and UPDATE of one row per key.
    Update,
    /// cas-register: as `update`, with cas as `UPDATE ... WHERE v = expected`.
    ConditionalUpdate,
    /// set: an add is an INSERT of a row (key, element), a read SELECTs the key's elements. Each
    /// add commits on its own: what it tests is durability, such as acknowledged adds lost
    /// when a server with `synchronous_commit=off` is killed.
    Insert,
    /// kv: one row per key holding a bigint[]; `append` is `UPDATE SET v = array_append(v, e)`,
    /// which the row lock serializes; `put` an UPDATE, `get` a SELECT.
    UpdateAppend,
}

impl PostgresVariant {
    const ALL: [PostgresVariant; 10] = [
        PostgresVariant::UpdateAdd,
        PostgresVariant::SelectUpdate,
        PostgresVariant::ForUpdate,
        PostgresVariant::Serializable,
        PostgresVariant::CheckThenInsert,
        PostgresVariant::UniqueInsert,
        PostgresVariant::Update,
        PostgresVariant::ConditionalUpdate,
        PostgresVariant::Insert,
        PostgresVariant::UpdateAppend,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PostgresVariant::UpdateAdd => "update-add",
            PostgresVariant::SelectUpdate => "select-update",
            PostgresVariant::ForUpdate => "for-update",
            PostgresVariant::Serializable => "serializable",
            PostgresVariant::CheckThenInsert => "check-then-insert",
            PostgresVariant::UniqueInsert => "unique-insert",
            PostgresVariant::Update => "update",
            PostgresVariant::ConditionalUpdate => "conditional-update",
            PostgresVariant::Insert => "insert",
            PostgresVariant::UpdateAppend => "update-append",
        }
    }

    /// The variants that implement `kind`, the correct one first: it is the default. Empty for
    /// workloads this target does not run.
    pub fn for_workload(kind: WorkloadKind) -> &'static [PostgresVariant] {
        match kind {
            WorkloadKind::Counter => &[
                PostgresVariant::UpdateAdd,
                PostgresVariant::SelectUpdate,
                PostgresVariant::ForUpdate,
                PostgresVariant::Serializable,
            ],
            WorkloadKind::CreateOnce => &[
                PostgresVariant::UniqueInsert,
                PostgresVariant::CheckThenInsert,
            ],
            WorkloadKind::Register => &[PostgresVariant::Update],
            WorkloadKind::CasRegister => &[PostgresVariant::ConditionalUpdate],
            WorkloadKind::Set => &[PostgresVariant::Insert],
            WorkloadKind::Kv => &[
                PostgresVariant::UpdateAppend,
                PostgresVariant::SelectUpdate,
                PostgresVariant::ForUpdate,
                PostgresVariant::Serializable,
            ],
            WorkloadKind::MultiRegister => &[
                PostgresVariant::ForUpdate,
                PostgresVariant::SelectUpdate,
                PostgresVariant::Serializable,
            ],
            // One implementation each (see [`txn`]); what varies is the isolation level.
            WorkloadKind::ListAppend => &[PostgresVariant::UpdateAppend],
            WorkloadKind::RwRegister => &[PostgresVariant::Update],
            WorkloadKind::Bank => &[PostgresVariant::SelectUpdate],
            WorkloadKind::Queue | WorkloadKind::Mutex => &[],
        }
    }

    pub fn default_for(kind: WorkloadKind) -> Result<PostgresVariant, String> {
        PostgresVariant::for_workload(kind)
            .first()
            .copied()
            .ok_or_else(|| unsupported(kind))
    }

    /// The variant called `name` among those of `kind`, with an error listing them otherwise.
    pub fn parse(kind: WorkloadKind, name: &str) -> Result<PostgresVariant, String> {
        let variants = PostgresVariant::for_workload(kind);
        if variants.is_empty() {
            return Err(unsupported(kind));
        }
        let what = format!("postgres variant for the {kind} workload");
        by_name(variants, name, PostgresVariant::name, &what)
    }

    /// Whether the variant is meant to be linearizable for `kind` at `isolation`. The
    /// read-then-write variants are safe exactly when the isolation level catches their race:
    /// a lost update on one row from REPEATABLE READ up, write skew across rows only at
    /// SERIALIZABLE.
    /// The transactional workloads are serializable only at SERIALIZABLE.
    pub fn is_safe(self, kind: WorkloadKind, isolation: Isolation) -> bool {
        match self {
            _ if kind.transactional() => isolation == Isolation::Serializable,
            PostgresVariant::SelectUpdate if kind == WorkloadKind::MultiRegister => {
                isolation == Isolation::Serializable
            }
            PostgresVariant::SelectUpdate => isolation != Isolation::ReadCommitted,
            PostgresVariant::CheckThenInsert => isolation == Isolation::Serializable,
            _ => true,
        }
    }
}

fn unsupported(kind: WorkloadKind) -> String {
    let supported: Vec<_> = WorkloadKind::ALL
        .into_iter()
        .filter(|k| !PostgresVariant::for_workload(*k).is_empty())
        .map(|k| k.model())
        .collect();
    format!(
        "the postgres target does not run the {kind} workload: it runs {}",
        supported.join(", ")
    )
}

impl fmt::Display for PostgresVariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PostgresVariant {
    type Err = String;

    /// Any workload's variant; [`PostgresVariant::parse`] also checks it fits the workload.
    fn from_str(name: &str) -> Result<PostgresVariant, String> {
        by_name(
            &PostgresVariant::ALL,
            name,
            PostgresVariant::name,
            "postgres variant",
        )
    }
}

/// The isolation level of every client's transactions (the `serializable` variant always uses
/// SERIALIZABLE).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Isolation {
    #[default]
    ReadCommitted,
    RepeatableRead,
    Serializable,
}

impl Isolation {
    const ALL: [Isolation; 3] = [
        Isolation::ReadCommitted,
        Isolation::RepeatableRead,
        Isolation::Serializable,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Isolation::ReadCommitted => "read-committed",
            Isolation::RepeatableRead => "repeatable-read",
            Isolation::Serializable => "serializable",
        }
    }

    fn sql(self) -> &'static str {
        match self {
            Isolation::ReadCommitted => "READ COMMITTED",
            Isolation::RepeatableRead => "REPEATABLE READ",
            Isolation::Serializable => "SERIALIZABLE",
        }
    }
}

impl fmt::Display for Isolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Isolation {
    type Err = String;

    fn from_str(name: &str) -> Result<Isolation, String> {
        by_name(&Isolation::ALL, name, Isolation::name, "isolation level")
    }
}

/// How often the `serializable` variant retries a transaction the server aborted as a
/// serialization failure before it reports the increment as failed.
pub const SERIALIZABLE_ATTEMPTS: usize = 20;

/// A PostgreSQL database and the workload to run in it.
pub struct PostgresTarget {
    config: String,
    kind: WorkloadKind,
    variant: PostgresVariant,
    isolation: Isolation,
    keys: usize,
}

impl PostgresTarget {
    /// `config` is a libpq-style connection string (`host=127.0.0.1 port=5432 user=... dbname=...`)
    /// or a `postgresql://` URL. `keys` is the workload's number of keys: setup creates a row
    /// for each, so that the variants that lock a row have one to lock.
    pub fn new(
        config: &str,
        kind: WorkloadKind,
        variant: PostgresVariant,
        isolation: Isolation,
        keys: usize,
    ) -> Result<PostgresTarget, String> {
        if !PostgresVariant::for_workload(kind).contains(&variant) {
            PostgresVariant::parse(kind, variant.name())?;
        }
        config
            .parse::<tokio_postgres::Config>()
            .map_err(|e| format!("bad postgres connection string: {e}"))?;
        Ok(PostgresTarget {
            config: config.to_string(),
            kind,
            variant,
            isolation,
            keys: keys.max(1),
        })
    }

    fn table(&self) -> &'static str {
        match self.kind {
            WorkloadKind::Counter => "photofinish_counter",
            WorkloadKind::CreateOnce => "photofinish_created",
            WorkloadKind::Set => "photofinish_set",
            WorkloadKind::Kv => "photofinish_kv",
            WorkloadKind::MultiRegister => "photofinish_multi_register",
            WorkloadKind::ListAppend => "photofinish_list_append",
            WorkloadKind::RwRegister => "photofinish_rw_register",
            WorkloadKind::Bank => "photofinish_bank",
            _ => "photofinish_register",
        }
    }

    async fn open(&self) -> Result<tokio_postgres::Client, String> {
        let (client, connection) = tokio_postgres::connect(&self.config, NoTls)
            .await
            .map_err(|e| describe(&e))?;
        // The connection task ends by itself once the client is dropped or the socket fails;
        // its error then reaches the client's pending query.
        tokio::spawn(connection);
        Ok(client)
    }

    async fn prepare(&self, client: &tokio_postgres::Client) -> Result<Sql, tokio_postgres::Error> {
        let table = self.table();
        if self.kind.transactional() {
            return txn::prepare(self.kind, client, table).await;
        }
        let prepare = |sql: String| async move { client.prepare(&sql).await };
        let for_update = if self.variant == PostgresVariant::ForUpdate {
            " FOR UPDATE"
        } else {
            ""
        };
        Ok(match self.kind {
            WorkloadKind::Counter => Sql::Counter {
                read: prepare(format!("SELECT v FROM {table} WHERE k = $1")).await?,
                add: prepare(format!("UPDATE {table} SET v = v + $2 WHERE k = $1")).await?,
                select: prepare(format!(
                    "SELECT v FROM {table} WHERE k = $1{}",
                    if self.variant == PostgresVariant::ForUpdate {
                        " FOR UPDATE"
                    } else {
                        ""
                    }
                ))
                .await?,
                set: prepare(format!("UPDATE {table} SET v = $2 WHERE k = $1")).await?,
            },
            WorkloadKind::CreateOnce => Sql::Create {
                check: prepare(format!("SELECT 1 FROM {table} WHERE k = $1 LIMIT 1")).await?,
                insert: prepare(format!(
                    "INSERT INTO {table} (k, owner) VALUES ($1, $2){}",
                    if self.variant == PostgresVariant::UniqueInsert {
                        " ON CONFLICT (k) DO NOTHING"
                    } else {
                        ""
                    }
                ))
                .await?,
            },
            WorkloadKind::Kv => Sql::Kv {
                get: prepare(format!("SELECT v FROM {table} WHERE k = $1")).await?,
                put: prepare(format!("UPDATE {table} SET v = $2 WHERE k = $1")).await?,
                append: prepare(format!(
                    "UPDATE {table} SET v = array_append(v, $2) WHERE k = $1"
                ))
                .await?,
                select: prepare(format!("SELECT v FROM {table} WHERE k = $1{for_update}")).await?,
            },
            WorkloadKind::MultiRegister => Sql::Multi {
                read: prepare(format!(
                    "SELECT k, v FROM {table} WHERE k = ANY($1) ORDER BY k{for_update}"
                ))
                .await?,
                write: prepare(format!("UPDATE {table} SET v = $2 WHERE k = $1")).await?,
            },
            WorkloadKind::Set => Sql::Set {
                read: prepare(format!("SELECT e FROM {table} WHERE k = $1 ORDER BY e")).await?,
                add: prepare(format!("INSERT INTO {table} (k, e) VALUES ($1, $2)")).await?,
            },
            _ => Sql::Register {
                read: prepare(format!("SELECT v FROM {table} WHERE k = $1")).await?,
                write: prepare(format!("UPDATE {table} SET v = $2 WHERE k = $1")).await?,
                cas: prepare(format!(
                    "UPDATE {table} SET v = $3 WHERE k = $1 AND v IS NOT DISTINCT FROM $2"
                ))
                .await?,
            },
        })
    }
}

impl Target for PostgresTarget {
    type Client = PostgresClient;

    fn describe(&self) -> String {
        let config = self.config.parse::<tokio_postgres::Config>().ok();
        let port = config
            .as_ref()
            .and_then(|c| c.get_ports().first().copied())
            .map_or(String::new(), |p| format!(" port {p}"));
        let isolation = if self.variant == PostgresVariant::Serializable {
            Isolation::Serializable
        } else {
            self.isolation
        };
        format!(
            "postgres{port} ({} by {} at {isolation})",
            self.kind, self.variant
        )
    }

    async fn setup(&self) -> Result<(), String> {
        let client = self.open().await?;
        let table = self.table();
        let last = self.keys - 1;
        let schema = match self.kind {
            kind if kind.transactional() => txn::schema(kind, table, last),
            WorkloadKind::Counter => format!(
                "CREATE TABLE {table} (k bigint PRIMARY KEY, v bigint NOT NULL);
                 INSERT INTO {table} SELECT k, 0 FROM generate_series(0, {last}) AS k;"
            ),
            WorkloadKind::CreateOnce => format!(
                "CREATE TABLE {table} (k bigint{}, owner text NOT NULL);",
                if self.variant == PostgresVariant::UniqueInsert {
                    " PRIMARY KEY"
                } else {
                    " NOT NULL"
                }
            ),
            WorkloadKind::Set => {
                format!("CREATE TABLE {table} (k bigint, e bigint, PRIMARY KEY (k, e));")
            }
            WorkloadKind::Kv => format!(
                "CREATE TABLE {table} (k bigint PRIMARY KEY, v bigint[]);
                 INSERT INTO {table} SELECT k, NULL FROM generate_series(0, {last}) AS k;"
            ),
            _ => format!(
                "CREATE TABLE {table} (k bigint PRIMARY KEY, v bigint);
                 INSERT INTO {table} SELECT k, NULL FROM generate_series(0, {last}) AS k;"
            ),
        };
        client
            .batch_execute(&format!("DROP TABLE IF EXISTS {table}; {schema}"))
            .await
            .map_err(|e| format!("creating {table}: {}", describe(&e)))
    }

    async fn connect(&self, worker: usize) -> Result<PostgresClient, String> {
        let client = self.open().await?;
        client
            .batch_execute(&format!(
                "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL {}",
                self.isolation.sql()
            ))
            .await
            .map_err(|e| describe(&e))?;
        let sql = self.prepare(&client).await.map_err(|e| describe(&e))?;
        Ok(PostgresClient {
            client,
            sql,
            variant: self.variant,
            isolation: self.isolation,
            owner: format!("worker-{worker}"),
            keys: self.keys,
        })
    }
}

/// The statements a client runs, prepared once per connection.
enum Sql {
    Counter {
        read: Statement,
        add: Statement,
        /// The read of a read-modify-write, with FOR UPDATE in the `for-update` variant.
        select: Statement,
        set: Statement,
    },
    Create {
        check: Statement,
        insert: Statement,
    },
    Register {
        read: Statement,
        write: Statement,
        cas: Statement,
    },
    Set {
        read: Statement,
        add: Statement,
    },
    Kv {
        get: Statement,
        put: Statement,
        append: Statement,
        /// The read of an append's read-modify-write, with FOR UPDATE in `for-update`.
        select: Statement,
    },
    Multi {
        /// Every register of a transaction, in key order (locked in `for-update`).
        read: Statement,
        write: Statement,
    },
    /// list-append and rw-register: one statement per micro-operation.
    Txn {
        read: Statement,
        /// An upsert: append to the list (list-append) or set the register (rw-register).
        write: Statement,
        /// list-append: reads return the whole list.
        list: bool,
    },
    Bank {
        /// Every balance.
        read_all: Statement,
        /// The balances of the accounts `$1`.
        read: Statement,
        set: Statement,
    },
}

/// One worker's connection.
pub struct PostgresClient {
    client: tokio_postgres::Client,
    sql: Sql,
    variant: PostgresVariant,
    /// The level of the transactional workloads' explicit transactions.
    isolation: Isolation,
    /// What this client writes as the creator of a row.
    owner: String,
    /// Rows the setup created (kv keys, multi-register registers): 0 to keys - 1.
    keys: usize,
}

type OpResult = Result<Value, Completion>;

/// An error the server reported means the statement, and the transaction around it, was
/// rolled back, unless the connection itself went down with it (class 08, 57: shutdown or
/// termination, 58 and XX: the server's own failure), when even a COMMIT may have gone
/// through. An error without a code is the connection's: unknown.
fn judge(error: tokio_postgres::Error) -> Completion {
    let message = describe(&error);
    match error.code() {
        Some(code) if !["08", "57", "58", "XX"].contains(&&code.code()[..2]) => {
            Completion::Fail(message)
        }
        _ => Completion::Info(message),
    }
}

/// An error as a person reads it: the server's message and SQL state (`could not serialize
/// access due to concurrent update (SQLSTATE 40001)`), else the error and its causes, rather
/// than the driver's bare `db error`.
fn describe(error: &tokio_postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return format!("{} (SQLSTATE {})", db.message(), db.code().code());
    }
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        let inner_text = inner.to_string();
        if !text.contains(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        cause = inner.source();
    }
    text
}

fn retryable(error: &tokio_postgres::Error) -> bool {
    matches!(
        error.code(),
        Some(code) if *code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::T_R_DEADLOCK_DETECTED
    )
}

fn key_of(op: &Invocation) -> Result<i64, Completion> {
    match &op.key {
        None => Ok(0),
        Some(Value::Int(k)) => Ok(*k),
        Some(other) => Err(Completion::Fail(format!(
            "postgres keys are integers, found {other}"
        ))),
    }
}

fn int_of(what: &str, value: &Value) -> Result<i64, Completion> {
    value
        .as_i64()
        .ok_or_else(|| Completion::Fail(format!("{what} must be an integer, found {value}")))
}

/// A bigint column as a history value, NULL as null.
fn column(row: Option<tokio_postgres::Row>) -> OpResult {
    let row = row.ok_or_else(|| Completion::Fail("no row for this key".to_string()))?;
    let v: Option<i64> = row.try_get(0).map_err(|e| Completion::Fail(describe(&e)))?;
    Ok(v.map_or(Value::Null, Value::Int))
}

impl PostgresClient {
    async fn perform(&mut self, op: &Invocation) -> OpResult {
        if let Some(result) = txn::perform(&mut self.client, &self.sql, self.isolation, op).await {
            return result;
        }
        if let (Sql::Multi { read, write }, "txn") = (&self.sql, op.f.as_str()) {
            let txn = Transaction::parse(&op.value)?;
            return multi_txn(&mut self.client, self.variant, read, write, &txn, self.keys).await;
        }
        let k = key_of(op)?;
        let echo = op.value.clone();
        let PostgresClient {
            client,
            sql,
            variant,
            owner,
            keys,
            ..
        } = self;
        let keys = *keys;
        let variant = *variant;
        match (&*sql, op.f.as_str()) {
            (Sql::Counter { read, .. } | Sql::Register { read, .. }, "read") => {
                column(client.query_opt(read, &[&k]).await.map_err(judge)?)
            }
            (
                Sql::Counter {
                    add, select, set, ..
                },
                "add",
            ) => {
                let n = if op.value.is_null() {
                    1
                } else {
                    int_of("add's argument", &op.value)?
                };
                let rows = match variant {
                    PostgresVariant::UpdateAdd => {
                        client.execute(add, &[&k, &n]).await.map_err(judge)?
                    }
                    _ => read_modify_write(client, variant, select, set, k, n).await?,
                };
                one_row(rows, echo)
            }
            (Sql::Set { read, .. }, "read") => {
                let rows = client.query(read, &[&k]).await.map_err(judge)?;
                rows.iter()
                    .map(|row| {
                        row.try_get::<_, i64>(0)
                            .map(Value::Int)
                            .map_err(|e| Completion::Fail(describe(&e)))
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::List)
            }
            (Sql::Set { add, .. }, "add") => {
                let e = int_of("an added element", &op.value)?;
                let rows = client.execute(add, &[&k, &e]).await.map_err(judge)?;
                one_row(rows, echo)
            }
            (Sql::Register { write, .. }, "write") => {
                let v = int_of("a written value", &op.value)?;
                let rows = client.execute(write, &[&k, &v]).await.map_err(judge)?;
                one_row(rows, echo)
            }
            (Sql::Register { cas, .. }, "cas") => {
                let Some((expected, new)) = op.value.as_pair() else {
                    return Err(Completion::Fail(format!(
                        "cas expects [expected, new], found {}",
                        op.value
                    )));
                };
                let (expected, new) = (expected.as_ref(), new.as_ref());
                let expected = match expected {
                    Value::Null => None,
                    other => Some(int_of("cas's expected value", other)?),
                };
                let new = int_of("cas's new value", new)?;
                let rows = client
                    .execute(cas, &[&k, &expected, &new])
                    .await
                    .map_err(judge)?;
                if rows == 1 {
                    Ok(echo)
                } else {
                    Err(Completion::Fail("value differs".to_string()))
                }
            }
            (Sql::Create { check, insert }, "create") => {
                create(client, variant, check, insert, owner, k).await
            }
            (Sql::Kv { get, .. }, "get") => {
                let row = client.query_opt(get, &[&k]).await.map_err(judge)?;
                let row = row.ok_or_else(|| no_row(k, keys))?;
                let items: Option<Vec<i64>> =
                    row.try_get(0).map_err(|e| Completion::Fail(describe(&e)))?;
                Ok(items.map_or(Value::Null, |items| {
                    Value::List(items.into_iter().map(Value::Int).collect())
                }))
            }
            (Sql::Kv { put, .. }, "put") => {
                let Some(items) = op.value.as_list() else {
                    return Err(Completion::Fail(format!(
                        "put expects a list, found {}",
                        op.value
                    )));
                };
                let items = items
                    .iter()
                    .map(|v| int_of("a put element", v))
                    .collect::<Result<Vec<_>, _>>()?;
                let rows = client.execute(put, &[&k, &items]).await.map_err(judge)?;
                one_row(rows, echo)
            }
            (
                Sql::Kv {
                    append,
                    select,
                    put,
                    ..
                },
                "append",
            ) => {
                let e = int_of("an appended element", &op.value)?;
                let rows = match variant {
                    PostgresVariant::UpdateAppend => {
                        client.execute(append, &[&k, &e]).await.map_err(judge)?
                    }
                    _ => append_read_modify_write(client, variant, select, put, k, e).await?,
                };
                one_row(rows, echo)
            }
            (_, f) => Err(Completion::Fail(format!(
                "the {variant} variant does not implement `{f}`"
            ))),
        }
    }
}

/// SELECT then UPDATE to what was read plus `n`, in one transaction; returns the rows updated.
/// Only the `serializable` variant retries: the others report the abort.
async fn read_modify_write(
    client: &mut tokio_postgres::Client,
    variant: PostgresVariant,
    select: &Statement,
    set: &Statement,
    k: i64,
    n: i64,
) -> Result<u64, Completion> {
    let mut tries = Tries::new(variant);
    while let Some(builder) = tries.next(client) {
        let attempt = async {
            let tx = builder.start().await?;
            let Some(row) = tx.query_opt(select, &[&k]).await? else {
                return Ok(0);
            };
            let current: i64 = row.try_get(0)?;
            let rows = tx.execute(set, &[&k, &current.wrapping_add(n)]).await?;
            tx.commit().await?;
            Ok(rows)
        };
        if let Some(value) = tries.outcome(attempt.await)? {
            return Ok(value);
        }
    }
    Err(tries.gave_up())
}

/// The tries of one SQL transaction. The `serializable` variant runs it at SERIALIZABLE and
/// tries it up to [`SERIALIZABLE_ATTEMPTS`] times while the server aborts it as a
/// serialization failure or a deadlock (whose effects did not happen, so trying again is
/// safe); the other variants try once and report the abort.
///
/// A loop rather than a function taking the transaction's body as an async closure: the
/// body's future borrows the transaction, and the compiler cannot yet prove such a closure's
/// future `Send`, which [`Client::invoke`] needs.
struct Tries {
    variant: PostgresVariant,
    attempts: usize,
    made: usize,
    last_error: Option<tokio_postgres::Error>,
}

impl Tries {
    fn new(variant: PostgresVariant) -> Tries {
        Tries {
            variant,
            attempts: if variant == PostgresVariant::Serializable {
                SERIALIZABLE_ATTEMPTS
            } else {
                1
            },
            made: 0,
            last_error: None,
        }
    }

    /// The next try's transaction, or `None` once every try is spent.
    fn next<'c>(
        &mut self,
        client: &'c mut tokio_postgres::Client,
    ) -> Option<TransactionBuilder<'c>> {
        if self.made == self.attempts {
            return None;
        }
        self.made += 1;
        let builder = client.build_transaction();
        Some(if self.variant == PostgresVariant::Serializable {
            builder.isolation_level(IsolationLevel::Serializable)
        } else {
            builder
        })
    }

    /// What a try came to: `Some` of what it returned, `None` when the server aborted it and
    /// it may be tried again, or (`Err`) the judgement of any other error.
    fn outcome<T>(
        &mut self,
        tried: Result<T, tokio_postgres::Error>,
    ) -> Result<Option<T>, Completion> {
        match tried {
            Ok(value) => Ok(Some(value)),
            Err(error) if retryable(&error) => {
                self.last_error = Some(error);
                Ok(None)
            }
            Err(error) => Err(judge(error)),
        }
    }

    /// The failure of a transaction the server aborted at every try.
    fn gave_up(self) -> Completion {
        let attempts = self.attempts;
        self.last_error.map_or_else(
            || Completion::Fail("no attempt".to_string()),
            |e| {
                Completion::Fail(match attempts {
                    1 => describe(&e),
                    _ => format!("gave up after {attempts} attempts: {}", describe(&e)),
                })
            },
        )
    }
}

/// SELECT the list (FOR UPDATE in `for-update`), then UPDATE it with `e` appended, in one
/// transaction; returns the rows updated.
async fn append_read_modify_write(
    client: &mut tokio_postgres::Client,
    variant: PostgresVariant,
    select: &Statement,
    put: &Statement,
    k: i64,
    e: i64,
) -> Result<u64, Completion> {
    let mut tries = Tries::new(variant);
    while let Some(builder) = tries.next(client) {
        let attempt = async {
            let tx = builder.start().await?;
            let Some(row) = tx.query_opt(select, &[&k]).await? else {
                return Ok(0);
            };
            let mut items: Vec<i64> = row.try_get::<_, Option<Vec<i64>>>(0)?.unwrap_or_default();
            items.push(e);
            let rows = tx.execute(put, &[&k, &items]).await?;
            tx.commit().await?;
            Ok(rows)
        };
        if let Some(value) = tries.outcome(attempt.await)? {
            return Ok(value);
        }
    }
    Err(tries.gave_up())
}

/// A multi-register transaction in one SQL transaction: SELECT every register it names (FOR
/// UPDATE in `for-update`, in key order), apply its micro-operations to what was read, UPDATE
/// the registers it wrote, COMMIT. Returns the micro-operations with the values read.
async fn multi_txn(
    client: &mut tokio_postgres::Client,
    variant: PostgresVariant,
    read: &Statement,
    write: &Statement,
    txn: &Transaction,
    keys: usize,
) -> OpResult {
    let ids = txn
        .registers
        .iter()
        .map(|r| register_row(r, keys))
        .collect::<Result<Vec<i64>, _>>()?;
    let mut tries = Tries::new(variant);
    while let Some(builder) = tries.next(client) {
        let attempt = async {
            let tx = builder.start().await?;
            let rows = tx.query(read, &[&ids]).await?;
            let mut current = vec![Value::Null; ids.len()];
            for row in rows {
                let k: i64 = row.try_get(0)?;
                let v: Option<i64> = row.try_get(1)?;
                if let Some(index) = ids.iter().position(|id| *id == k) {
                    current[index] = v.map_or(Value::Null, Value::Int);
                }
            }
            let (result, mut writes) = txn.apply(current);
            // In key order, as `for-update` locks: two transactions never wait on each other
            // in a cycle.
            writes.sort_by_key(|(index, _)| ids[*index]);
            for (index, value) in writes {
                let v: Option<i64> = value.as_i64();
                tx.execute(write, &[&ids[index], &v]).await?;
            }
            tx.commit().await?;
            Ok(result)
        };
        if let Some(value) = tries.outcome(attempt.await)? {
            return Ok(value);
        }
    }
    Err(tries.gave_up())
}

/// The row of register `x<k>`, which setup created when k is below `keys`.
fn register_row(register: &Value, keys: usize) -> Result<i64, Completion> {
    match register {
        Value::Str(name) => name
            .strip_prefix('x')
            .and_then(|k| k.parse::<usize>().ok())
            .filter(|k| *k < keys)
            .map(|k| k as i64)
            .ok_or_else(|| {
                Completion::Fail(format!(
                    "no register {name}: the registers are x0 to x{}",
                    keys.saturating_sub(1)
                ))
            }),
        other => Err(Completion::Fail(format!(
            "multi-register registers are named x0, x1...; found {other}"
        ))),
    }
}

fn no_row(k: i64, keys: usize) -> Completion {
    Completion::Fail(format!(
        "no row for key {k}: the keys are 0 to {}",
        keys.saturating_sub(1)
    ))
}

/// Creates row `k`: one INSERT that says whether it inserted, or a check and an insert.
async fn create(
    client: &mut tokio_postgres::Client,
    variant: PostgresVariant,
    check: &Statement,
    insert: &Statement,
    owner: &str,
    k: i64,
) -> OpResult {
    if variant == PostgresVariant::UniqueInsert {
        let rows = client.execute(insert, &[&k, &owner]).await.map_err(judge)?;
        return Ok(Value::from(if rows == 1 { "created" } else { "exists" }));
    }
    let attempt = async {
        let tx = client.transaction().await?;
        if tx.query_opt(check, &[&k]).await?.is_some() {
            return Ok("exists");
        }
        tx.execute(insert, &[&k, &owner]).await?;
        tx.commit().await?;
        Ok("created")
    };
    attempt.await.map(Value::from).map_err(judge)
}

fn one_row(rows: u64, echo: Value) -> OpResult {
    if rows == 1 {
        Ok(echo)
    } else {
        Err(Completion::Fail("no row for this key".to_string()))
    }
}

impl Client for PostgresClient {
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
    fn defaults_are_safe_at_every_level() {
        for kind in WorkloadKind::ALL {
            let Ok(variant) = PostgresVariant::default_for(kind) else {
                assert!(PostgresVariant::parse(kind, "update").is_err());
                continue;
            };
            if kind.transactional() {
                // Their anomalies are what a weaker level lets through.
                assert!(variant.is_safe(kind, Isolation::Serializable));
                assert!(!variant.is_safe(kind, Isolation::RepeatableRead));
                continue;
            }
            for isolation in Isolation::ALL {
                assert!(variant.is_safe(kind, isolation), "{kind}: {variant}");
            }
        }
    }

    #[test]
    fn names_parse_and_errors_list_the_choices() {
        assert_eq!(
            PostgresVariant::parse(WorkloadKind::Counter, "for-update"),
            Ok(PostgresVariant::ForUpdate)
        );
        let error = PostgresVariant::parse(WorkloadKind::CreateOnce, "update-add").unwrap_err();
        assert!(
            error.contains("unique-insert, check-then-insert"),
            "{error}"
        );
        assert_eq!("serializable".parse(), Ok(Isolation::Serializable));
        assert!("snapshot".parse::<Isolation>().is_err());
        assert!(PostgresTarget::new(
            "host=127.0.0.1",
            WorkloadKind::Counter,
            PostgresVariant::UniqueInsert,
            Isolation::ReadCommitted,
            1
        )
        .is_err());
    }
}
