//! The user's own service as a target: a workload file maps each operation the workload issues
//! to an HTTP request template, and says how to read the answer: which statuses mean it
//! happened and which mean it certainly did not, which bodies say so when the status cannot
//! (etcd's txn answers `200` either way), where the result is in the JSON body and how it is
//! encoded there.
//!
//! # The file
//!
//! ```toml
//! base_url = "http://127.0.0.1:2379"     # or a list of replicas: worker i uses the i mod n-th
//! workload = "cas-register"              # any but bank: register, ..., multi-register, list-append, rw-register
//! keys = 3                               # independent keys, each checked on its own
//! headers = { authorization = "Bearer t" }  # sent with every request
//!
//! [vars]                                 # named templates, usable as placeholders
//! k = "photofinish/{run}/{key}"          # {run}: unique to each run, so reruns never collide
//!
//! [[setup]]                              # before any client starts: once per key if it uses {key}
//! method = "POST"
//! path = "/v3/kv/deleterange"
//! body = '{"key": {k|base64}}'
//!
//! [ops.read]
//! method = "POST"
//! path = "/v3/kv/range"
//! body = '{"key": {k|base64}}'
//! value = "/kvs/0/value"                 # a JSON pointer to the result
//! decode = ["base64", "json"]            # how the result is encoded there
//! absent = "null"                        # nothing at the pointer: the key does not exist
//!
//! [ops.write]
//! method = "POST"
//! path = "/v3/kv/put"
//! body = '{"key": {k|base64}, "value": {value|json|base64}}'
//!
//! [ops.cas]
//! method = "POST"
//! path = "/v3/kv/txn"
//! body = '''{"compare": [{"key": {k|base64}, "target": "VALUE", "result": "EQUAL",
//!            "value": {value.0|json|base64}}],
//!           "success": [{"request_put": {"key": {k|base64}, "value": {value.1|json|base64}}}]}'''
//! ok_when = { pointer = "/succeeded", equals = true }
//! fail_when = { pointer = "/succeeded", missing = true }
//!
//! [[teardown]]                           # once the run is over, in the same way as setup
//! method = "POST"
//! path = "/v3/kv/deleterange"
//! body = '{"key": {k|base64}}'
//!
//! [[proxy]]                              # a fault proxy for the run's duration (see below)
//! name = "store"
//! listen = "127.0.0.1:17001"
//! upstream = "127.0.0.1:6379"
//! ```
//!
//! **Placeholders** ([`Template`]): `{key}`, `{value}`, `{value.N}` (cas's `[expected, new]`),
//! `{worker}`, `{run}` and the file's `[vars]`, each optionally followed by [`Codec`]s after
//! bars (`{value|json|base64}`). They are substituted by encoding, never by pasting text: into
//! paths URL-encoded, into bodies as JSON (do not quote them), into headers as text, so a value
//! can never change the shape of the request.
//!
//! **Transactions**: `multi-register`, `list-append` and `rw-register` issue one operation,
//! `txn`, whose value is the list of micro-operations (`[["append", 1, 7], ["r", 1, null]]`);
//! `{value}` writes it into the body as JSON, and the `value` pointer finds the same list in
//! the answer, reads filled in. A list-append or rw-register answer that is not that list
//! (another length, other keys, a read that is not a list for list-append) is a
//! [`HaltKind::WorkloadMismatch`] like the other answers that do not fit the file.
//!
//! **Outcomes**: a status in `fail` means the operation certainly had no effect; one in `ok`
//! (any 2xx when `ok` is empty) that it happened, unless the body says otherwise:
//! `fail_when` conditions (any) make it failed, and when `ok_when` is given, a body that matches
//! none of its conditions leaves it indeterminate. `results = { 201 = "created" }` tells a result
//! by status alone. Any other status, a timeout or a lost connection is indeterminate (`info`);
//! a refused connection certainly sent nothing (`fail`). A body with nothing at the `value`
//! pointer is indeterminate, unless `absent = "null"` says it means `null`. An answer that does
//! not fit the file (a body that is not JSON, a result the codecs cannot read, or one the
//! workload's model cannot use, such as a string where a counter needs a number) is a
//! [`Halt`] of kind [`HaltKind::WorkloadMismatch`]: the run stops at once, and the reason names
//! the file and line of the operation, the request and the response, escaped and clipped.
//!
//! **Proxies**: each `[[proxy]]` is a fault proxy (see [`photofinish_faults::Links`]) photofinish
//! runs for the run's duration, listening on loopback unless `allow_remote = true`; the service
//! is configured to reach its store through `listen`. [`HttpSpec::start_proxies`] starts them;
//! a nemesis over the [`Links`](photofinish_faults::Links) partitions and slows them, and the
//! history records each fault's window.
//!
//! Everything a user can get wrong in the file is caught when it is loaded, with the file, line
//! and column, so that a typo never turns into a run of thousands of failed requests.
//!
//! A response body is read only up to a bound ([`DEFAULT_MAX_BODY_BYTES`] unless
//! [`HttpTarget::with_max_body_bytes`] says otherwise): a longer one, announced or streamed,
//! makes the operation indeterminate, and none of it is recorded.

mod codec;
mod file;
mod outcome;
mod proxy;
mod template;
mod txn_shape;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use photofinish_faults::Links;
use photofinish_history::{escape_and_clip, Value};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};

pub use codec::Codec;
pub use file::{HttpSpec, Method, RequestSpec, SpecError, SpecOrigin};
pub use outcome::{Absent, Condition, Pointer, Test};
pub use proxy::ProxySpec;
pub use template::Template;

use outcome::{shape_problem, shown, Answer, Mismatch};
use template::{Context, Encoding};

use crate::bounded_body::{read_body, BodyError};
use crate::{Client, Completion, Halt, HaltKind, Invocation, Target};

impl HttpSpec {
    /// Starts the file's `[[proxy]]` links; they forward until the [`Links`] is dropped. A
    /// nemesis given the links (`NemesisPlan::new(Arc::new(links), config)`) faults them.
    ///
    /// ```
    /// use photofinish_run::targets::http::HttpSpec;
    /// use photofinish_run::faults::FaultTarget;
    ///
    /// let store = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let spec = HttpSpec::from_toml(
    ///     &format!(
    ///         r#"
    /// base_url = "http://127.0.0.1:8080"
    /// workload = "counter"
    /// [ops.add]
    /// method = "POST"
    /// path = "/add"
    /// [ops.read]
    /// path = "/read"
    /// value = "/value"
    /// [[proxy]]
    /// name = "store"
    /// listen = "127.0.0.1:0"
    /// upstream = "{}"
    /// "#,
    ///         store.local_addr().unwrap()
    ///     ),
    ///     "counter.toml",
    /// )
    /// .unwrap();
    /// let links = spec.start_proxies().unwrap();
    /// assert_eq!(links.node_names(), ["store"]);
    /// assert!(links.listen_addr("store").unwrap().ip().is_loopback());
    /// ```
    pub fn start_proxies(&self) -> Result<Links, String> {
        proxy::start(&self.proxy)
    }
}

impl RequestSpec {
    /// A request with the given method and path, any 2xx ok, and no body.
    pub fn new(method: &str, path: &str) -> Result<RequestSpec, String> {
        Ok(RequestSpec {
            method: Method::parse(method)?,
            path: Template::parse(path)?,
            ..RequestSpec::default()
        })
    }

    /// Whether it is sent once per key: it uses `{key}`, directly or through a var.
    fn per_key(&self, vars: &BTreeMap<String, Template>) -> bool {
        self.path.uses_key(vars)
            || self.body.as_ref().is_some_and(|b| b.uses_key(vars))
            || self.headers.values().any(|h| h.uses_key(vars))
    }

    /// Its method and path template, for a message: `POST /v3/kv/txn`.
    fn describe(&self) -> String {
        format!("{} {}", self.method.0, self.path.as_str())
    }

    /// Builds the request for `cx.op`; an error means it was never sent.
    fn build(
        &self,
        http: &reqwest::Client,
        base_url: &str,
        common: &BTreeMap<String, Template>,
        cx: &Context<'_>,
    ) -> Result<reqwest::RequestBuilder, String> {
        let path = self.path.render(cx, Encoding::Url)?;
        let url = format!("{}{path}", base_url.trim_end_matches('/'));
        let mut headers = HeaderMap::new();
        if self.body.is_some() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        for (name, template) in common.iter().chain(&self.headers) {
            let value = template.render(cx, Encoding::Plain)?;
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("`{name}` is not a header name"))?;
            let value = HeaderValue::from_str(&value)
                .map_err(|_| format!("header {name}: {value:?} cannot be sent in a header"))?;
            headers.insert(name, value);
        }
        let mut request = http.request(self.method.0.clone(), url).headers(headers);
        if let Some(body) = &self.body {
            request = request.body(body.render(cx, Encoding::Json)?);
        }
        Ok(request)
    }
}

/// An HTTP service driven through a workload file. Clones share the file and the run's
/// identifier, so a clone kept aside can send the teardown once the run has taken the target.
#[derive(Clone)]
pub struct HttpTarget {
    spec: Arc<HttpSpec>,
    max_body_bytes: usize,
    run: Arc<str>,
}

/// The most bytes of a response body read unless [`HttpTarget::with_max_body_bytes`] says
/// otherwise: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

/// The most characters of an error text from the HTTP client recorded.
const ERROR_CHARS: usize = 300;

/// A fresh run identifier: the time in seconds and 24 random bits, in hexadecimal.
fn new_run_id() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    format!(
        "{:08x}{:06x}",
        seconds as u32,
        rand::random::<u32>() & 0xff_ffff
    )
}

impl HttpTarget {
    /// Validates `spec` (a spec built in code has not been through [`HttpSpec::from_toml`]),
    /// and draws the run's identifier, `{run}`.
    pub fn new(spec: HttpSpec) -> Result<HttpTarget, String> {
        spec.validate()?;
        Ok(HttpTarget {
            spec: Arc::new(spec),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            run: new_run_id().into(),
        })
    }

    /// Uses `run` as `{run}` instead of a fresh identifier (to resume a namespace, or in
    /// tests).
    pub fn with_run_id(mut self, run: &str) -> HttpTarget {
        self.run = run.into();
        self
    }

    /// What `{run}` is in this run's requests.
    pub fn run_id(&self) -> &str {
        &self.run
    }

    /// Reads response bodies of at most `bytes` bytes; a longer one makes its operation
    /// indeterminate.
    ///
    /// ```
    /// use photofinish_run::targets::http::{HttpSpec, HttpTarget};
    ///
    /// let spec = HttpSpec::from_toml(
    ///     r#"
    /// base_url = "http://127.0.0.1:8080"
    /// workload = "register"
    /// [ops.write]
    /// method = "PUT"
    /// path = "/r/{run}-{key}"
    /// body = '{"value": {value}}'
    /// [ops.read]
    /// path = "/r/{run}-{key}"
    /// value = "/value"
    /// absent = "null"
    /// "#,
    ///     "register.toml",
    /// )
    /// .unwrap();
    /// let target = HttpTarget::new(spec).unwrap().with_max_body_bytes(64 << 10);
    /// assert_eq!(target.max_body_bytes(), 65536);
    /// assert_eq!(target.run_id().len(), 14);
    /// ```
    pub fn with_max_body_bytes(mut self, bytes: usize) -> HttpTarget {
        self.max_body_bytes = bytes.max(1);
        self
    }

    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    pub fn spec(&self) -> &HttpSpec {
        &self.spec
    }

    fn http_client() -> Result<reqwest::Client, String> {
        // Straight to the service: a proxy in between would add its own reordering and retries
        // to the history.
        reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))
    }

    /// Sends the file's `[[teardown]]` requests (each once per key if it uses `{key}`), in
    /// order; the first that does not succeed stops them, and the error names it. The runner
    /// does not call this: call it once the run is over (`photofinish run http` does).
    pub async fn teardown(&self) -> Result<(), String> {
        self.send_steps("teardown", &self.spec.teardown).await
    }

    /// [`teardown`](Self::teardown) on a runtime of its own, given at most `timeout`.
    pub fn teardown_blocking(&self, timeout: Duration) -> Result<(), String> {
        if self.spec.teardown.is_empty() {
            return Ok(());
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("teardown: cannot start a runtime: {e}"))?;
        runtime.block_on(async {
            tokio::time::timeout(timeout, self.teardown())
                .await
                .unwrap_or_else(|_| {
                    Err(format!(
                        "teardown got no answer within {} s",
                        timeout.as_secs_f64()
                    ))
                })
        })
    }

    /// Sends `requests`, the file's `[[setup]]` or `[[teardown]]`, to the first base URL.
    async fn send_steps(&self, table: &str, requests: &[RequestSpec]) -> Result<(), String> {
        if requests.is_empty() {
            return Ok(());
        }
        let http = HttpTarget::http_client()?;
        let workload = self.spec.workload(1);
        for (index, request) in requests.iter().enumerate() {
            let keys = if request.per_key(&self.spec.vars) {
                self.spec.keys
            } else {
                1
            };
            for key in 0..keys {
                let step = format!(
                    "{table} step {} ({}){}",
                    index + 1,
                    request.describe(),
                    if keys > 1 {
                        format!(" for key {key}")
                    } else {
                        String::new()
                    }
                );
                let op = Invocation::new(table, workload.key(key), Value::Null);
                self.send_step(&http, request, &op)
                    .await
                    .map_err(|e| format!("{step}: {e}"))?;
            }
        }
        Ok(())
    }

    async fn send_step(
        &self,
        http: &reqwest::Client,
        request: &RequestSpec,
        op: &Invocation,
    ) -> Result<(), String> {
        let cx = Context {
            op,
            worker: 0,
            run: &self.run,
            vars: &self.spec.vars,
        };
        let built = request.build(http, &self.spec.base_url[0], &self.spec.headers, &cx)?;
        let response = built.send().await.map_err(|e| clipped(&chain(e)))?;
        let status = response.status().as_u16();
        let body = read_body(response, self.max_body_bytes).await;
        let body = match body {
            Ok(body) => body,
            Err(BodyError::TooLong) => b"(a body too long to show)".to_vec(),
            Err(BodyError::Read(error)) => {
                format!("(the body could not be read: {})", clipped(&chain(error))).into_bytes()
            }
        };
        let completion = match request.classify(status) {
            Answer::Known(_) => return Ok(()),
            Answer::Happened if request.reads_body() => {
                request.judge_body(&body).map_err(|Mismatch(e)| {
                    format!("answered HTTP {status}, but {e}: {}", shown(&body))
                })?
            }
            Answer::Happened => return Ok(()),
            Answer::Failed | Answer::Unknown => {
                return Err(format!("answered HTTP {status}: {}", shown(&body)))
            }
        };
        match completion.error() {
            None => Ok(()),
            Some(e) => Err(format!("answered HTTP {status}, but {e}")),
        }
    }
}

impl Target for HttpTarget {
    type Client = HttpClient;

    fn describe(&self) -> String {
        let urls = match self.spec.base_url.as_slice() {
            [one] => one.clone(),
            [first, rest @ ..] => format!("{first} and {} more", rest.len()),
            [] => String::new(),
        };
        format!("http {urls} ({}, run {})", self.spec.workload, self.run)
    }

    async fn setup(&self) -> Result<(), String> {
        self.send_steps("setup", &self.spec.setup).await
    }

    async fn connect(&self, worker: usize) -> Result<HttpClient, String> {
        let urls = &self.spec.base_url;
        Ok(HttpClient {
            spec: Arc::clone(&self.spec),
            http: HttpTarget::http_client()?,
            base_url: urls[worker % urls.len()].clone(),
            worker,
            max_body_bytes: self.max_body_bytes,
            run: Arc::clone(&self.run),
        })
    }
}

/// One worker's connection pool to its replica.
pub struct HttpClient {
    spec: Arc<HttpSpec>,
    http: reqwest::Client,
    base_url: String,
    worker: usize,
    max_body_bytes: usize,
    run: Arc<str>,
}

/// An HTTP client error with its causes (`error sending request: tcp connect error:
/// Connection refused`), without the URL, which the history already implies.
fn chain(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// An error's text cut to [`ERROR_CHARS`], saying how long it was.
fn clipped(error: &dyn std::fmt::Display) -> String {
    let text = error.to_string();
    match text.char_indices().nth(ERROR_CHARS) {
        None => text,
        Some((end, _)) => format!("{}... ({} bytes)", &text[..end], text.len()),
    }
}

impl Client for HttpClient {
    async fn invoke(&mut self, op: &Invocation) -> Completion {
        let Some(request) = self.spec.ops.get(&op.f) else {
            return Completion::Fail(format!("the workload file has no [ops.{}]", op.f));
        };
        let cx = Context {
            op,
            worker: self.worker,
            run: &self.run,
            vars: &self.spec.vars,
        };
        let built = request
            .build(&self.http, &self.base_url, &self.spec.headers, &cx)
            .and_then(|built| built.build().map_err(|e| clipped(&chain(e))));
        let built = match built {
            Ok(built) => built,
            Err(error) => return Completion::Fail(format!("cannot build the request: {error}")),
        };
        let sent = Sent::of(&built);
        let response = match self.http.execute(built).await {
            Ok(response) => response,
            // Refused before a byte of the request left: certainly no effect.
            Err(error) if error.is_connect() => {
                let address = error
                    .url()
                    .map(|url| {
                        let port = url.port_or_known_default().unwrap_or_default();
                        format!("{}:{port}", url.host_str().unwrap_or_default())
                    })
                    .unwrap_or_default();
                return Completion::cannot_connect(&address, &error);
            }
            Err(error) if error.is_timeout() => return Completion::Info("timed out".to_string()),
            Err(error) => {
                return Completion::Info(format!("request failed: {}", clipped(&chain(error))))
            }
        };
        let status = response.status().as_u16();
        let (completion, body) = match request.classify(status) {
            Answer::Failed => return Completion::Fail(format!("HTTP {status}")),
            Answer::Unknown => return Completion::Info(format!("HTTP {status}")),
            Answer::Known(result) => (Completion::Ok(result), Vec::new()),
            Answer::Happened if !request.reads_body() => return Completion::Ok(Value::Null),
            Answer::Happened => match read_body(response, self.max_body_bytes).await {
                Ok(body) => match request.judge_body(&body) {
                    Ok(completion) => (completion, body),
                    Err(Mismatch(reason)) => return self.halt(op, &reason, &sent, status, &body),
                },
                Err(BodyError::TooLong) => {
                    return Completion::Info(format!(
                        "the response body is longer than {} bytes (not read further)",
                        self.max_body_bytes
                    ))
                }
                Err(BodyError::Read(error)) => {
                    return Completion::Info(format!(
                        "reading the body: {}",
                        clipped(&chain(error))
                    ))
                }
            },
        };
        if let Completion::Ok(result) = &completion {
            if let Some(problem) = shape_problem(self.spec.workload, op, result) {
                return self.halt(op, &problem, &sent, status, &body);
            }
        }
        completion
    }
}

/// A request as it went out, for a message: method, URL and body, escaped and clipped.
struct Sent {
    line: String,
}

impl Sent {
    fn of(request: &reqwest::Request) -> Sent {
        let body = request
            .body()
            .and_then(|b| b.as_bytes())
            .map(|b| format!(" {}", shown(b)))
            .unwrap_or_default();
        Sent {
            line: format!(
                "{} {}{body}",
                request.method(),
                escape_and_clip(request.url().as_str(), 200)
            ),
        }
    }
}

impl HttpClient {
    /// Stops the run: the answer does not fit the workload file, so every further operation
    /// would be recorded wrongly too. The reason names the request, the response and the line
    /// of the file that describes the operation.
    fn halt(
        &self,
        op: &Invocation,
        reason: &str,
        sent: &Sent,
        status: u16,
        body: &[u8],
    ) -> Completion {
        Completion::Halt(Halt::new(
            HaltKind::WorkloadMismatch,
            format!(
                "{}: {reason}; request: {}; response: HTTP {status} {}",
                self.spec.place_of(&op.f),
                sent.line,
                shown(body)
            ),
        ))
    }
}

#[cfg(test)]
mod tests;
