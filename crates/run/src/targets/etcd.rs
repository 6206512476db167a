//! etcd as the system under test, through the v3 API's JSON gateway (`/v3/kv/...` over HTTP):
//! a register (put and range), a cas-register (a txn comparing the value), create-once (a txn
//! on `create_revision = 0`) and a counter (a compare-and-swap loop on `mod_revision`).
//!
//! Reads are linearizable by default; `serializable` reads are answered by whichever member a
//! client talks to from its own state, which may be behind: a partitioned member answers them
//! stale, which a register run shows.
//!
//! Outcomes: a write refused before it was sent (connection refused) failed; any other error of
//! a write leaves it indeterminate (`info`), since etcd may have committed it (a timed-out
//! proposal often is). A read has no effect, so a read that errs simply failed.
//!
//! Answers are read up to a bound ([`DEFAULT_MAX_BODY_BYTES`] unless
//! [`EtcdTarget::with_max_body_bytes`] says otherwise): a longer body is not read further, and
//! its operation ends as any other error does.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use photofinish_history::Value;
use serde_json::{json, Value as Json};

use crate::bounded_body::read_body;
use crate::names::by_name;
use crate::{
    cannot_connect_error, Client, Completion, Invocation, Target, WorkloadKind,
    DEFAULT_MAX_BODY_BYTES,
};

/// How reads are served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EtcdRead {
    /// Through the raft leader's read index: never stale.
    Linearizable,
    /// From the member's own state, without asking the others: may be stale.
    Serializable,
}

impl EtcdRead {
    const ALL: [EtcdRead; 2] = [EtcdRead::Linearizable, EtcdRead::Serializable];

    pub fn name(self) -> &'static str {
        match self {
            EtcdRead::Linearizable => "linearizable",
            EtcdRead::Serializable => "serializable",
        }
    }
}

impl fmt::Display for EtcdRead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for EtcdRead {
    type Err = String;

    fn from_str(name: &str) -> Result<EtcdRead, String> {
        by_name(&EtcdRead::ALL, name, EtcdRead::name, "etcd read mode")
    }
}

/// The workloads this target runs.
pub const WORKLOADS: [WorkloadKind; 4] = [
    WorkloadKind::Register,
    WorkloadKind::CasRegister,
    WorkloadKind::CreateOnce,
    WorkloadKind::Counter,
];

/// How many times a counter's compare-and-swap is tried before the add is given up (as
/// failed: no attempt took effect).
const CAS_ATTEMPTS: usize = 50;

/// An etcd cluster (or one member) and the workload to run on it. Worker `i` talks to
/// endpoint `i mod n`.
///
/// ```no_run
/// use photofinish_run::targets::etcd::{EtcdRead, EtcdTarget};
/// use photofinish_run::WorkloadKind;
///
/// let target = EtcdTarget::new(
///     &["http://127.0.0.1:2379".to_string()],
///     WorkloadKind::Register,
///     EtcdRead::Serializable,
/// )
/// .unwrap();
/// ```
pub struct EtcdTarget {
    endpoints: Vec<String>,
    kind: WorkloadKind,
    read: EtcdRead,
    prefix: String,
    max_body_bytes: usize,
}

impl EtcdTarget {
    /// `endpoints` are client URLs such as `http://127.0.0.1:2379`. Fails for a workload this
    /// target does not run, or no endpoint.
    pub fn new(
        endpoints: &[String],
        kind: WorkloadKind,
        read: EtcdRead,
    ) -> Result<EtcdTarget, String> {
        if !WORKLOADS.contains(&kind) {
            let names: Vec<_> = WORKLOADS.iter().map(|k| k.model()).collect();
            return Err(format!(
                "the etcd target does not run the {kind} workload: it runs {}",
                names.join(", ")
            ));
        }
        if endpoints.is_empty() {
            return Err("the etcd target needs at least one endpoint".into());
        }
        let endpoints = endpoints
            .iter()
            .map(|e| {
                let e = e.trim_end_matches('/');
                if e.contains("://") {
                    e.to_string()
                } else {
                    format!("http://{e}")
                }
            })
            .collect();
        Ok(EtcdTarget {
            endpoints,
            kind,
            read,
            prefix: format!("photofinish/{}/", kind.model()),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        })
    }

    /// Reads answers of at most `bytes` bytes; a longer one is not read further.
    ///
    /// ```
    /// use photofinish_run::targets::etcd::{EtcdRead, EtcdTarget};
    /// use photofinish_run::WorkloadKind;
    ///
    /// let endpoints = ["http://127.0.0.1:2379".to_string()];
    /// let target = EtcdTarget::new(&endpoints, WorkloadKind::Register, EtcdRead::Linearizable)
    ///     .unwrap()
    ///     .with_max_body_bytes(64 << 10);
    /// assert_eq!(target.max_body_bytes(), 65536);
    /// ```
    pub fn with_max_body_bytes(mut self, bytes: usize) -> EtcdTarget {
        self.max_body_bytes = bytes.max(1);
        self
    }

    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    fn client(&self, endpoint: &str, token: String) -> Result<EtcdClient, String> {
        Ok(EtcdClient {
            http: EtcdTarget::http()?,
            endpoint: endpoint.to_string(),
            prefix: self.prefix.clone(),
            kind: self.kind,
            read: self.read,
            token,
            max_body_bytes: self.max_body_bytes,
        })
    }

    fn http() -> Result<reqwest::Client, String> {
        reqwest::Client::builder()
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))
    }
}

impl Target for EtcdTarget {
    type Client = EtcdClient;

    fn describe(&self) -> String {
        let how = match self.kind {
            WorkloadKind::Counter => "txn compare-and-swap loop",
            WorkloadKind::CasRegister => "txn on value",
            WorkloadKind::CreateOnce => "txn on create_revision",
            _ => "put and range",
        };
        format!(
            "etcd {} ({} by {how}, {} reads)",
            self.endpoints.join(" "),
            self.kind,
            self.read
        )
    }

    async fn setup(&self) -> Result<(), String> {
        let client = self.client(&self.endpoints[0], "setup".into())?;
        let start = self.prefix.as_bytes();
        let mut end = start.to_vec();
        if let Some(last) = end.last_mut() {
            *last += 1;
        }
        client
            .call(
                "/v3/kv/deleterange",
                json!({ "key": B64.encode(start), "range_end": B64.encode(&end) }),
            )
            .await
            .map(|_| ())
            .map_err(|e| format!("deleting the workload's keys: {}", e.message()))
    }

    async fn connect(&self, worker: usize) -> Result<EtcdClient, String> {
        let endpoint = &self.endpoints[worker % self.endpoints.len()];
        self.client(endpoint, format!("worker-{worker}"))
    }
}

/// One worker's client: an HTTP connection pool of its own, to one member.
pub struct EtcdClient {
    http: reqwest::Client,
    endpoint: String,
    prefix: String,
    kind: WorkloadKind,
    read: EtcdRead,
    /// What create-once writes as the owner.
    token: String,
    max_body_bytes: usize,
}

/// Why a call did not answer: never sent, or sent with an unknown outcome.
enum CallError {
    NotSent(String),
    Unknown(String),
}

impl CallError {
    fn message(&self) -> &str {
        match self {
            CallError::NotSent(m) | CallError::Unknown(m) => m,
        }
    }

    /// As the completion of a write: a request never sent failed, anything else is unknown.
    fn of_write(self) -> Completion {
        match self {
            CallError::NotSent(m) => Completion::Fail(m),
            CallError::Unknown(m) => Completion::Info(m),
        }
    }

    /// As the completion of a read, which changes nothing: failed.
    fn of_read(self) -> Completion {
        Completion::Fail(self.message().to_string())
    }
}

/// A key's current value and revisions, or none.
struct Current {
    value: Option<String>,
    mod_revision: i64,
}

fn int_field(json: &Json, field: &str) -> i64 {
    match json.get(field) {
        Some(Json::String(s)) => s.parse().unwrap_or(0),
        Some(Json::Number(n)) => n.as_i64().unwrap_or(0),
        _ => 0,
    }
}

/// Values are stored as their JSON text; integers as plain decimal.
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

impl EtcdClient {
    fn key(&self, key: &Option<Value>) -> String {
        match key {
            None => format!("{}0", self.prefix),
            Some(Value::Int(k)) => format!("{}{k}", self.prefix),
            Some(other) => format!("{}{}", self.prefix, other.to_json_string()),
        }
    }

    /// POSTs `body` to `path`; the answer's JSON when etcd answered 2xx.
    async fn call(&self, path: &str, body: Json) -> Result<Json, CallError> {
        let url = format!("{}{path}", self.endpoint);
        let response = self.http.post(&url).json(&body).send().await.map_err(|e| {
            if e.is_connect() {
                let address = self.endpoint.split("://").last().unwrap_or(&self.endpoint);
                CallError::NotSent(cannot_connect_error(address, &e))
            } else {
                CallError::Unknown(e.to_string())
            }
        })?;
        let status = response.status();
        let body = read_body(response, self.max_body_bytes)
            .await
            .map_err(|e| CallError::Unknown(e.describe(self.max_body_bytes)))?;
        let text = String::from_utf8_lossy(&body);
        let json: Json = serde_json::from_str(&text).map_err(|_| {
            CallError::Unknown(format!("{status}: an answer that is not JSON: {text:.200}"))
        })?;
        if !status.is_success() {
            let message = json
                .get("error")
                .or_else(|| json.get("message"))
                .and_then(Json::as_str)
                .unwrap_or("no message");
            return Err(CallError::Unknown(format!("{status}: {message}")));
        }
        Ok(json)
    }

    async fn range(&self, key: &str, serializable: bool) -> Result<Current, CallError> {
        let json = self
            .call(
                "/v3/kv/range",
                json!({ "key": B64.encode(key), "serializable": serializable }),
            )
            .await?;
        let Some(kv) = json.get("kvs").and_then(|kvs| kvs.get(0)) else {
            return Ok(Current {
                value: None,
                mod_revision: 0,
            });
        };
        let value = kv.get("value").and_then(Json::as_str).unwrap_or("");
        let bytes = B64
            .decode(value)
            .map_err(|e| CallError::Unknown(format!("a value that is not base64: {e}")))?;
        Ok(Current {
            value: Some(String::from_utf8_lossy(&bytes).into_owned()),
            mod_revision: int_field(kv, "mod_revision"),
        })
    }

    async fn put(&self, key: &str, value: &str) -> Result<(), CallError> {
        self.call(
            "/v3/kv/put",
            json!({ "key": B64.encode(key), "value": B64.encode(value) }),
        )
        .await
        .map(|_| ())
    }

    /// A txn putting `value` at `key` if `compare` holds; whether it did.
    async fn put_if(&self, key: &str, compare: Json, value: &str) -> Result<bool, CallError> {
        let json = self
            .call(
                "/v3/kv/txn",
                json!({
                    "compare": [compare],
                    "success": [{ "request_put": { "key": B64.encode(key), "value": B64.encode(value) } }],
                }),
            )
            .await?;
        Ok(json.get("succeeded").and_then(Json::as_bool) == Some(true))
    }

    /// The compare that holds while `key` does not exist.
    fn absent(key: &str) -> Json {
        json!({ "key": B64.encode(key), "target": "CREATE", "result": "EQUAL", "create_revision": "0" })
    }

    async fn read(&self, key: &str) -> Result<Value, Completion> {
        let serializable = self.read == EtcdRead::Serializable;
        let current = self
            .range(key, serializable)
            .await
            .map_err(CallError::of_read)?;
        match (current.value, self.kind) {
            (None, WorkloadKind::Counter) => Ok(Value::Int(0)),
            (None, _) => Ok(Value::Null),
            (Some(text), _) => decode(&text),
        }
    }

    async fn add(&self, key: &str, n: i64) -> Result<(), Completion> {
        for _ in 0..CAS_ATTEMPTS {
            // The read inside the loop is linearizable whatever --read says: the compare would
            // catch a stale one, but only after a wasted attempt.
            let current = self.range(key, false).await.map_err(CallError::of_read)?;
            let (compare, base) = match &current.value {
                None => (EtcdClient::absent(key), 0),
                Some(text) => (
                    json!({ "key": B64.encode(key), "target": "MOD", "result": "EQUAL",
                            "mod_revision": current.mod_revision.to_string() }),
                    text.parse::<i64>().map_err(|_| {
                        Completion::Fail(format!("the counter holds {text:?}, not an integer"))
                    })?,
                ),
            };
            let next = base.wrapping_add(n).to_string();
            if self
                .put_if(key, compare, &next)
                .await
                .map_err(CallError::of_write)?
            {
                return Ok(());
            }
        }
        Err(Completion::Fail(format!(
            "gave up after {CAS_ATTEMPTS} compare-and-swap attempts lost to other writers"
        )))
    }

    async fn perform(&self, op: &Invocation) -> Result<Value, Completion> {
        let key = self.key(&op.key);
        let echo = op.value.clone();
        match (self.kind, op.f.as_str()) {
            (_, "read") => self.read(&key).await,
            (WorkloadKind::Register | WorkloadKind::CasRegister, "write") => {
                self.put(&key, &encode(&op.value))
                    .await
                    .map_err(CallError::of_write)?;
                Ok(echo)
            }
            (WorkloadKind::CasRegister, "cas") => {
                let Some((expected, new)) = op.value.as_pair() else {
                    return Err(Completion::Fail(format!(
                        "cas expects [expected, new], found {}",
                        op.value
                    )));
                };
                let (expected, new) = (expected.as_ref(), new.as_ref());
                let compare = if expected.is_null() {
                    EtcdClient::absent(&key)
                } else {
                    json!({ "key": B64.encode(&key), "target": "VALUE", "result": "EQUAL",
                            "value": B64.encode(encode(expected)) })
                };
                if self
                    .put_if(&key, compare, &encode(new))
                    .await
                    .map_err(CallError::of_write)?
                {
                    Ok(echo)
                } else {
                    Err(Completion::Fail("value differs".into()))
                }
            }
            (WorkloadKind::CreateOnce, "create") => {
                let created = self
                    .put_if(&key, EtcdClient::absent(&key), &self.token)
                    .await
                    .map_err(CallError::of_write)?;
                Ok(Value::from(if created { "created" } else { "exists" }))
            }
            (WorkloadKind::Counter, "add") => {
                let n = match &op.value {
                    Value::Null => 1,
                    other => other.as_i64().ok_or_else(|| {
                        Completion::Fail(format!("add expects an integer, found {other}"))
                    })?,
                };
                self.add(&key, n).await?;
                Ok(echo)
            }
            (kind, f) => Err(Completion::Fail(format!(
                "the etcd {kind} workload does not implement `{f}`"
            ))),
        }
    }
}

impl Client for EtcdClient {
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
    fn workloads_it_does_not_run_are_refused_with_those_it_does() {
        let endpoints = ["127.0.0.1:2379".to_string()];
        let error = EtcdTarget::new(&endpoints, WorkloadKind::Queue, EtcdRead::Linearizable).err();
        assert!(error
            .unwrap()
            .contains("register, cas-register, create-once, counter"));
        let target =
            EtcdTarget::new(&endpoints, WorkloadKind::Counter, EtcdRead::Serializable).unwrap();
        assert_eq!(target.endpoints, ["http://127.0.0.1:2379"]);
        assert!(EtcdTarget::new(&[], WorkloadKind::Counter, EtcdRead::Serializable).is_err());
    }

    #[test]
    fn read_modes_parse() {
        assert_eq!("serializable".parse(), Ok(EtcdRead::Serializable));
        assert!("stale".parse::<EtcdRead>().is_err());
    }
}
