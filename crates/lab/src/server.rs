//! The lab's HTTP service: N replicas, each its own listener on 127.0.0.1, all sharing one
//! store, as a service behind a load balancer shares its database.
//!
//! The strategy is part of each request's path, so one lab serves every strategy and a
//! workload file picks the one it drives.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::balance::BalanceStrategy;
use crate::create::CreateStrategy;
use crate::deadlock::DeadlockStrategy;
use crate::remote::{
    handler_work, is_sendable, ObjectsClient, RemoteCreateStrategy, RemoteObjects,
};
use crate::snapshot::SnapshotStrategy;
use crate::stale_read::StaleReadStrategy;
use crate::store::{Store, StoreConfig, RECORD_FIELDS};
use crate::strategies::{CounterStrategy, ReplicaState, StatusStrategy};

/// A running lab. Dropping it stops every replica.
pub struct Lab {
    addresses: Vec<SocketAddr>,
    store: Arc<Store>,
    /// The objects table across a network link, for the scenarios that fault that link.
    remote: Option<RemoteObjects>,
    stop: CancellationToken,
}

impl Lab {
    /// Starts `replicas` replicas (at least one) over a fresh store, each on an ephemeral port
    /// of 127.0.0.1. Must be called within a Tokio runtime, which then serves the requests.
    pub async fn start(replicas: usize, config: StoreConfig) -> std::io::Result<Lab> {
        Lab::start_with(replicas, config, None).await
    }

    /// [`Lab::start`], with the objects table also served across a network link through
    /// photofinish's fault proxy ([`RemoteObjects`]), for the `/remote-objects` routes.
    pub async fn start_with_remote_objects(
        replicas: usize,
        config: StoreConfig,
    ) -> std::io::Result<Lab> {
        let remote = RemoteObjects::start(config.cache_lag).await?;
        Lab::start_with(replicas, config, Some(remote)).await
    }

    async fn start_with(
        replicas: usize,
        config: StoreConfig,
        remote: Option<RemoteObjects>,
    ) -> std::io::Result<Lab> {
        let store = Arc::new(Store::new(config));
        let stop = CancellationToken::new();
        let mut addresses = Vec::new();
        for _ in 0..replicas.max(1) {
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
            addresses.push(listener.local_addr()?);
            let app = router(Replica {
                store: Arc::clone(&store),
                state: Arc::new(ReplicaState::default()),
                remote: remote.as_ref().map(RemoteObjects::client),
            });
            let stopped = stop.clone().cancelled_owned();
            tokio::spawn(async move {
                // Serving ends only when the lab stops; accept errors are retried inside.
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(stopped)
                    .await;
            });
        }
        Ok(Lab {
            addresses,
            store,
            remote,
            stop,
        })
    }

    /// The replicas' base URLs, such as `http://127.0.0.1:40123`.
    pub fn urls(&self) -> Vec<String> {
        self.addresses
            .iter()
            .map(|address| format!("http://{address}"))
            .collect()
    }

    /// The shared store, to look at the ground truth after a run.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The objects table across the network, when the lab was started with one.
    pub fn remote_objects(&self) -> Option<&RemoteObjects> {
        self.remote.as_ref()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// What one replica's handlers see: the shared store and the replica's own state.
#[derive(Clone)]
struct Replica {
    store: Arc<Store>,
    state: Arc<ReplicaState>,
    remote: Option<Arc<ObjectsClient>>,
}

fn router(replica: Replica) -> Router {
    Router::new()
        .route("/objects/{strategy}/{fingerprint}", post(create_object))
        .route(
            "/remote-objects/{strategy}/{fingerprint}",
            post(create_remote_object),
        )
        .route("/counters/{strategy}/{key}/add", post(add_to_counter))
        .route("/counters/{key}", get(read_counter))
        .route("/statuses/{strategy}/{key}/conditions", post(add_condition))
        .route("/statuses/{key}", get(read_status))
        .route("/balances/{strategy}/{key}/add", post(add_to_balance))
        .route("/balances/{strategy}/{key}", get(read_balance))
        .route("/records/{key}", post(write_record))
        .route("/records/{strategy}/{key}", get(copy_record))
        .route("/registers/{key}", get(read_register).post(write_register))
        .route("/registers/{strategy}/{key}/cas", post(compare_and_set))
        .route("/accounts/{strategy}/{key}/deposit", post(deposit))
        .route("/accounts/{strategy}/{key}", get(statement))
        .with_state(replica)
}

/// The strategy a path names, or the message that says which exist (answered with a 404).
fn strategy<S: std::str::FromStr<Err = String>>(name: &str) -> Result<S, String> {
    name.parse()
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

async fn create_object(
    State(replica): State<Replica>,
    Path((name, fingerprint)): Path<(String, String)>,
) -> Response {
    let strategy: CreateStrategy = match strategy(&name) {
        Ok(s) => s,
        Err(message) => return error(StatusCode::NOT_FOUND, message),
    };
    match strategy
        .create(&replica.store, &replica.state, &fingerprint)
        .await
    {
        Ok(created) => {
            Json(json!({ "result": if created { "created" } else { "exists" } })).into_response()
        }
        // Nothing was written: the request gave up waiting for the lock.
        Err(_) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the fingerprint's lock stayed busy".to_string(),
        ),
    }
}

async fn create_remote_object(
    State(replica): State<Replica>,
    Path((name, fingerprint)): Path<(String, String)>,
) -> Response {
    let strategy: RemoteCreateStrategy = match strategy(&name) {
        Ok(s) => s,
        Err(message) => return error(StatusCode::NOT_FOUND, message),
    };
    let Some(table) = &replica.remote else {
        return error(
            StatusCode::NOT_FOUND,
            "this lab was started without a remote objects table".to_string(),
        );
    };
    if !is_sendable(&fingerprint) {
        return error(
            StatusCode::BAD_REQUEST,
            "a fingerprint is 1-255 characters without spaces or control characters".to_string(),
        );
    }
    handler_work().await;
    match strategy.create(table, &fingerprint).await {
        Ok(created) => {
            Json(json!({ "result": if created { "created" } else { "exists" } })).into_response()
        }
        // The link failed, perhaps after the insert went out: the caller cannot know.
        Err(e) => error(
            StatusCode::BAD_GATEWAY,
            format!("the objects table did not answer: {e}"),
        ),
    }
}

#[derive(Deserialize)]
struct Amount {
    amount: i64,
}

async fn add_to_counter(
    State(replica): State<Replica>,
    Path((name, key)): Path<(String, String)>,
    Json(body): Json<Amount>,
) -> Response {
    let strategy: CounterStrategy = match strategy(&name) {
        Ok(s) => s,
        Err(message) => return error(StatusCode::NOT_FOUND, message),
    };
    let value = strategy
        .add(&replica.store, &replica.state, &key, body.amount)
        .await;
    Json(json!({ "value": value })).into_response()
}

async fn deposit(
    State(replica): State<Replica>,
    Path((name, key)): Path<(String, String)>,
    Json(body): Json<Amount>,
) -> Response {
    let strategy: DeadlockStrategy = match strategy(&name) {
        Ok(s) => s,
        Err(message) => return error(StatusCode::NOT_FOUND, message),
    };
    let value = strategy.deposit(&replica.store, &key, body.amount).await;
    Json(json!({ "value": value })).into_response()
}

async fn statement(
    State(replica): State<Replica>,
    Path((name, key)): Path<(String, String)>,
) -> Response {
    let strategy: DeadlockStrategy = match strategy(&name) {
        Ok(s) => s,
        Err(message) => return error(StatusCode::NOT_FOUND, message),
    };
    let value = strategy.statement(&replica.store, &key).await;
    Json(json!({ "value": value })).into_response()
}

async fn read_counter(State(replica): State<Replica>, Path(key): Path<String>) -> Response {
    Json(json!({ "value": replica.store.counter(&key).await })).into_response()
}

#[derive(Deserialize)]
struct Condition {
    condition: i64,
}

async fn add_condition(
    State(replica): State<Replica>,
    Path((name, key)): Path<(String, String)>,
    Json(body): Json<Condition>,
) -> Response {
    let strategy: StatusStrategy = match strategy(&name) {
        Ok(s) => s,
        Err(message) => return error(StatusCode::NOT_FOUND, message),
    };
    match strategy
        .add_condition(&replica.store, &key, body.condition)
        .await
    {
        Some(version) => Json(json!({ "version": version })).into_response(),
        None => error(
            StatusCode::CONFLICT,
            "gave up after too many conflicting writes".to_string(),
        ),
    }
}

async fn read_status(State(replica): State<Replica>, Path(key): Path<String>) -> Response {
    let status = replica.store.status(&key).await;
    Json(json!({ "version": status.version, "conditions": status.conditions })).into_response()
}

#[derive(Deserialize)]
struct Money {
    amount: f64,
}

async fn add_to_balance(
    State(replica): State<Replica>,
    Path((name, key)): Path<(String, String)>,
    Json(body): Json<Money>,
) -> Response {
    let strategy: BalanceStrategy = match strategy(&name) {
        Ok(s) => s,
        Err(message) => return error(StatusCode::NOT_FOUND, message),
    };
    match strategy.add(&replica.store, &key, body.amount).await {
        Ok(balance) => Json(json!({ "balance": balance })).into_response(),
        Err(not_cents) => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{} is not a whole number of hundredths", not_cents.0),
        ),
    }
}

async fn read_balance(
    State(replica): State<Replica>,
    Path((name, key)): Path<(String, String)>,
) -> Response {
    let strategy: BalanceStrategy = match strategy(&name) {
        Ok(s) => s,
        Err(message) => return error(StatusCode::NOT_FOUND, message),
    };
    Json(json!({ "balance": strategy.read(&replica.store, &key).await })).into_response()
}

#[derive(Deserialize)]
struct Measurement {
    measurement: i64,
}

async fn write_record(
    State(replica): State<Replica>,
    Path(key): Path<String>,
    Json(body): Json<Measurement>,
) -> Response {
    SnapshotStrategy::write(&replica.store, &key, body.measurement).await;
    Json(json!({})).into_response()
}

async fn copy_record(
    State(replica): State<Replica>,
    Path((name, key)): Path<(String, String)>,
) -> Response {
    let strategy: SnapshotStrategy = match strategy(&name) {
        Ok(s) => s,
        Err(message) => return error(StatusCode::NOT_FOUND, message),
    };
    let fields = strategy.copy(&replica.store, &key).await;
    let record: serde_json::Map<String, serde_json::Value> = RECORD_FIELDS
        .iter()
        .zip(fields)
        .map(|(name, value)| (name.to_string(), json!(value)))
        .collect();
    Json(record).into_response()
}

#[derive(Deserialize)]
struct RegisterValue {
    value: i64,
}

async fn write_register(
    State(replica): State<Replica>,
    Path(key): Path<String>,
    Json(body): Json<RegisterValue>,
) -> Response {
    StaleReadStrategy::write(&replica.store, &key, body.value).await;
    Json(json!({})).into_response()
}

async fn read_register(State(replica): State<Replica>, Path(key): Path<String>) -> Response {
    Json(json!({ "value": replica.store.register(&key).await })).into_response()
}

#[derive(Deserialize)]
struct CompareAndSet {
    expected: i64,
    new: i64,
}

async fn compare_and_set(
    State(replica): State<Replica>,
    Path((name, key)): Path<(String, String)>,
    Json(body): Json<CompareAndSet>,
) -> Response {
    let strategy: StaleReadStrategy = match strategy(&name) {
        Ok(s) => s,
        Err(message) => return error(StatusCode::NOT_FOUND, message),
    };
    if strategy
        .compare_and_set(&replica.store, &key, body.expected, body.new)
        .await
    {
        Json(json!({})).into_response()
    } else {
        error(
            StatusCode::CONFLICT,
            format!("the value is not {}", body.expected),
        )
    }
}
