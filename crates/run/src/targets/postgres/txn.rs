//! The transactional workloads on PostgreSQL: list-append, rw-register and bank. Every
//! operation is one real transaction, `BEGIN ISOLATION LEVEL <the run's level>` ... `COMMIT`,
//! written the way applications write them, so that what each isolation level lets through
//! shows in the history:
//!
//! - list-append: a key is a row holding a `bigint[]`; `["append", k, v]` is an upsert
//!   `INSERT ... ON CONFLICT (k) DO UPDATE SET v = t.v || EXCLUDED.v` (the row is created by
//!   the first append), `["r", k, null]` a `SELECT` completing with the whole list (`[]` for a
//!   row not created yet).
//! - rw-register: a key is a row holding a `bigint`; `["w", k, v]` is an upsert, `["r", k,
//!   null]` a `SELECT` (`null` before the first write).
//! - bank: an account is a row holding its balance; `transfer` SELECTs both balances, then
//!   UPDATEs each to what it read minus or plus the amount: a read-then-write, which READ
//!   COMMITTED lets two transfers race on (one overwrites the other's balance, and money
//!   appears or vanishes), and REPEATABLE READ refuses (40001). `read` SELECTs every balance.
//!
//! No transaction is retried. One the server aborts (a serialization failure, 40001; a
//! deadlock, 40P01; any other SQL error) did not commit: it is recorded as `fail`, which tells
//! the checker its writes never happened. Only a connection lost before the answer to COMMIT
//! (or any statement) leaves it unknown: `info`.

use photofinish_history::Value;
use tokio_postgres::{IsolationLevel, Statement};

use super::{describe, judge, Isolation, OpResult, Sql};
use crate::workload::BANK_BALANCE;
use crate::{Completion, Invocation, WorkloadKind};

/// The statements to create `table` for `kind`; bank's accounts 0 to `last` are created with
/// [`BANK_BALANCE`] each, list-append's and rw-register's rows by their first write.
pub(super) fn schema(kind: WorkloadKind, table: &str, last: usize) -> String {
    match kind {
        WorkloadKind::ListAppend => {
            format!("CREATE TABLE {table} (k bigint PRIMARY KEY, v bigint[] NOT NULL);")
        }
        WorkloadKind::Bank => format!(
            "CREATE TABLE {table} (k bigint PRIMARY KEY, balance bigint NOT NULL);
             INSERT INTO {table} SELECT k, {BANK_BALANCE} FROM generate_series(0, {last}) AS k;"
        ),
        _ => format!("CREATE TABLE {table} (k bigint PRIMARY KEY, v bigint);"),
    }
}

/// The statements of a transactional workload, prepared on `client`.
pub(super) async fn prepare(
    kind: WorkloadKind,
    client: &tokio_postgres::Client,
    table: &str,
) -> Result<Sql, tokio_postgres::Error> {
    Ok(match kind {
        WorkloadKind::Bank => Sql::Bank {
            read_all: client
                .prepare(&format!("SELECT k, balance FROM {table} ORDER BY k"))
                .await?,
            read: client
                .prepare(&format!(
                    "SELECT k, balance FROM {table} WHERE k = ANY($1) ORDER BY k"
                ))
                .await?,
            set: client
                .prepare(&format!("UPDATE {table} SET balance = $2 WHERE k = $1"))
                .await?,
        },
        WorkloadKind::ListAppend => Sql::Txn {
            read: client
                .prepare(&format!("SELECT v FROM {table} WHERE k = $1"))
                .await?,
            write: client
                .prepare(&format!(
                    "INSERT INTO {table} (k, v) VALUES ($1, ARRAY[$2::bigint]) \
                     ON CONFLICT (k) DO UPDATE SET v = {table}.v || EXCLUDED.v"
                ))
                .await?,
            list: true,
        },
        _ => Sql::Txn {
            read: client
                .prepare(&format!("SELECT v FROM {table} WHERE k = $1"))
                .await?,
            write: client
                .prepare(&format!(
                    "INSERT INTO {table} (k, v) VALUES ($1, $2) \
                     ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v"
                ))
                .await?,
            list: false,
        },
    })
}

fn level(isolation: Isolation) -> IsolationLevel {
    match isolation {
        Isolation::ReadCommitted => IsolationLevel::ReadCommitted,
        Isolation::RepeatableRead => IsolationLevel::RepeatableRead,
        Isolation::Serializable => IsolationLevel::Serializable,
    }
}

/// Performs `op`, one transaction at `isolation`; `None` when `sql` is not a transactional
/// workload's.
pub(super) async fn perform(
    client: &mut tokio_postgres::Client,
    sql: &Sql,
    isolation: Isolation,
    op: &Invocation,
) -> Option<OpResult> {
    Some(match (sql, op.f.as_str()) {
        (Sql::Txn { read, write, list }, "txn") => {
            let mops = match parse_mops(&op.value) {
                Ok(mops) => mops,
                Err(error) => return Some(Err(error)),
            };
            txn(client, isolation, read, write, *list, &mops).await
        }
        (Sql::Bank { read_all, .. }, "read") => bank_read(client, isolation, read_all).await,
        (Sql::Bank { read, set, .. }, "transfer") => match Transfer::parse(&op.value) {
            Ok(transfer) => transfer
                .run(client, isolation, read, set)
                .await
                .map(|()| op.value.clone()),
            Err(error) => Err(error),
        },
        (Sql::Txn { .. } | Sql::Bank { .. }, f) => Err(Completion::Fail(format!(
            "this workload has no operation `{f}`"
        ))),
        _ => return None,
    })
}

/// A micro-operation: read (`r`) or write (`append`, `w`), its key and written value.
struct Mop {
    write: bool,
    name: String,
    key: i64,
    value: Option<i64>,
}

fn parse_mops(value: &Value) -> Result<Vec<Mop>, Completion> {
    let bad = || {
        Completion::Fail(format!(
            "txn expects a list of [\"r\"|\"append\"|\"w\", integer key, integer value or null], found {value}"
        ))
    };
    value
        .as_list_of_values()
        .ok_or_else(bad)?
        .iter()
        .map(|mop| {
            let Some([Value::Str(f), Value::Int(key), v]) = mop.as_list_of_values() else {
                return Err(bad());
            };
            let write = match f.as_str() {
                "r" | "read" => false,
                "append" | "w" | "write" => true,
                _ => return Err(bad()),
            };
            let value = match v {
                Value::Int(v) => Some(*v),
                Value::Null if !write => None,
                _ => return Err(bad()),
            };
            Ok(Mop {
                write,
                name: f.clone(),
                key: *key,
                value,
            })
        })
        .collect()
}

/// One list-append or rw-register transaction: each micro-operation one statement, in order,
/// then COMMIT. Returns the micro-operations with what each read returned.
async fn txn(
    client: &mut tokio_postgres::Client,
    isolation: Isolation,
    read: &Statement,
    write: &Statement,
    list: bool,
    mops: &[Mop],
) -> OpResult {
    let attempt = async {
        let tx = client
            .build_transaction()
            .isolation_level(level(isolation))
            .start()
            .await?;
        let mut done = Vec::with_capacity(mops.len());
        for mop in mops {
            let result = if mop.write {
                tx.execute(write, &[&mop.key, &mop.value]).await?;
                mop.value.map_or(Value::Null, Value::Int)
            } else {
                let row = tx.query_opt(read, &[&mop.key]).await?;
                if list {
                    let items: Vec<i64> = match row {
                        Some(row) => row.try_get(0)?,
                        None => Vec::new(),
                    };
                    Value::List(items.into_iter().map(Value::Int).collect())
                } else {
                    let v: Option<i64> = match row {
                        Some(row) => row.try_get(0)?,
                        None => None,
                    };
                    v.map_or(Value::Null, Value::Int)
                }
            };
            done.push(Value::List(vec![
                Value::from(mop.name.as_str()),
                Value::Int(mop.key),
                result,
            ]));
        }
        tx.commit().await?;
        Ok::<_, tokio_postgres::Error>(Value::List(done))
    };
    attempt.await.map_err(judge)
}

/// Every balance, in one SELECT inside a transaction at the run's level.
async fn bank_read(
    client: &mut tokio_postgres::Client,
    isolation: Isolation,
    read_all: &Statement,
) -> OpResult {
    let attempt = async {
        let tx = client
            .build_transaction()
            .isolation_level(level(isolation))
            .start()
            .await?;
        let rows = tx.query(read_all, &[]).await?;
        tx.commit().await?;
        rows.iter()
            .map(|row| {
                let k: i64 = row.try_get(0)?;
                let balance: i64 = row.try_get(1)?;
                Ok((Value::Int(k), Value::Int(balance)))
            })
            .collect::<Result<_, tokio_postgres::Error>>()
            .map(Value::Map)
    };
    attempt.await.map_err(judge)
}

/// A bank transfer: `amount` from account `from` to account `to`.
struct Transfer {
    from: i64,
    to: i64,
    amount: i64,
}

impl Transfer {
    fn parse(value: &Value) -> Result<Transfer, Completion> {
        let field = |name: &str| match value {
            Value::Map(map) => map.get(&Value::from(name)).and_then(Value::as_i64),
            _ => None,
        };
        match (field("from"), field("to"), field("amount")) {
            (Some(from), Some(to), Some(amount)) => Ok(Transfer { from, to, amount }),
            _ => Err(Completion::Fail(format!(
                "transfer expects {{\"from\": account, \"to\": account, \"amount\": integer}}, found {value}"
            ))),
        }
    }

    /// SELECT both balances, then UPDATE each to what was read minus or plus the amount, in
    /// key order (so that two transfers between the same accounts do not deadlock), and
    /// COMMIT. A transfer that would take `from` below zero is rolled back: `fail`.
    async fn run(
        &self,
        client: &mut tokio_postgres::Client,
        isolation: Isolation,
        read: &Statement,
        set: &Statement,
    ) -> Result<(), Completion> {
        let tx = client
            .build_transaction()
            .isolation_level(level(isolation))
            .start()
            .await
            .map_err(judge)?;
        let rows = tx
            .query(read, &[&vec![self.from, self.to]])
            .await
            .map_err(judge)?;
        let mut balances = Vec::with_capacity(2);
        for row in rows {
            let k: i64 = row.try_get(0).map_err(|e| Completion::Fail(describe(&e)))?;
            let balance: i64 = row.try_get(1).map_err(|e| Completion::Fail(describe(&e)))?;
            balances.push((k, balance));
        }
        let balance_of = |account: i64| {
            balances
                .iter()
                .find(|(k, _)| *k == account)
                .map(|(_, b)| *b)
                .ok_or_else(|| Completion::Fail(format!("no account {account}")))
        };
        let (from, to) = (balance_of(self.from)?, balance_of(self.to)?);
        if from < self.amount {
            // Dropping the transaction rolls it back.
            return Err(Completion::Fail(format!(
                "insufficient funds: account {} holds {from}, the transfer is {}",
                self.from, self.amount
            )));
        }
        if self.from != self.to {
            let mut writes = [(self.from, from - self.amount), (self.to, to + self.amount)];
            writes.sort_unstable();
            for (k, balance) in writes {
                tx.execute(set, &[&k, &balance]).await.map_err(judge)?;
            }
        }
        tx.commit().await.map_err(judge)
    }
}
