//! The user's own service as a target: a workload file maps each operation the workload issues
//! to an HTTP request template, and says how to read the answer (which statuses mean it
//! happened, which mean it certainly did not, and where the result is in the JSON body).
//!
//! Everything a user can get wrong in the file is caught when it is loaded, with the file, line
//! and column, so that a typo never turns into a run of thousands of failed requests.
//! Placeholders are substituted by encoding, never by pasting text: into paths URL-encoded,
//! into bodies as JSON, so a value can never change the shape of the request.
//!
//! A response body is read only up to a bound ([`DEFAULT_MAX_BODY_BYTES`] unless
//! [`HttpTarget::with_max_body_bytes`] says otherwise): a longer one, announced or streamed,
//! makes the operation indeterminate, and none of it is recorded.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use photofinish_history::Value;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use serde::{Deserialize, Deserializer};

use crate::workload::{Workload, WorkloadKind};
use crate::{Client, Completion, Invocation, Target};

/// A workload file, as TOML deserializes it or as code builds it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSpec {
    /// One URL, or several replicas of the service: worker `i` talks to the `i % n`-th.
    #[serde(deserialize_with = "one_or_many")]
    pub base_url: Vec<String>,
    /// Which workload (and so which checker model) the service is driven with.
    #[serde(deserialize_with = "workload_kind")]
    pub workload: WorkloadKind,
    #[serde(default = "one")]
    pub keys: usize,
    /// Headers sent with every request (an operation's own headers win).
    #[serde(default)]
    pub headers: BTreeMap<String, Template>,
    /// Requests that bring the service to the model's initial state, each sent once per key
    /// before any client starts.
    #[serde(default)]
    pub setup: Vec<RequestSpec>,
    /// One request per operation name the workload issues (`add`, `read`, `create`, ...).
    pub ops: BTreeMap<String, RequestSpec>,
}

/// One request template and how to read its answer.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    #[serde(default)]
    pub method: Method,
    /// Appended to the base URL; must start with `/`. Placeholders are URL-encoded.
    pub path: Template,
    /// A JSON body; placeholders are replaced by JSON values (do not quote them).
    #[serde(default)]
    pub body: Option<Template>,
    #[serde(default)]
    pub headers: BTreeMap<String, Template>,
    /// Statuses that mean the operation happened. Empty means any 2xx.
    #[serde(default)]
    pub ok: Vec<u16>,
    /// Statuses that mean the operation certainly had no effect.
    #[serde(default)]
    pub fail: Vec<u16>,
    /// Where the operation's result is in the JSON body.
    #[serde(default)]
    pub value: Option<Pointer>,
    /// Results told by the status alone (`{ 201 = "created", 200 = "exists" }`); these statuses
    /// count as ok.
    #[serde(default)]
    pub results: BTreeMap<String, Value>,
}

fn one() -> usize {
    1
}

fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(url) => vec![url],
        OneOrMany::Many(urls) => urls,
    })
}

fn workload_kind<'de, D: Deserializer<'de>>(deserializer: D) -> Result<WorkloadKind, D::Error> {
    String::deserialize(deserializer)?
        .parse()
        .map_err(serde::de::Error::custom)
}

/// An HTTP method, checked when the file is read.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Method(reqwest::Method);

impl Method {
    pub fn parse(name: &str) -> Result<Method, String> {
        reqwest::Method::from_bytes(name.as_bytes())
            .map(Method)
            .map_err(|_| format!("`{name}` is not an HTTP method"))
    }
}

impl Default for Method {
    fn default() -> Method {
        Method(reqwest::Method::GET)
    }
}

impl TryFrom<String> for Method {
    type Error = String;
    fn try_from(name: String) -> Result<Method, String> {
        Method::parse(&name)
    }
}

/// A JSON pointer (RFC 6901) into a response body: `""` is the whole body, `/value` a field.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Pointer(String);

impl Pointer {
    pub fn parse(text: &str) -> Result<Pointer, String> {
        if text.is_empty() || text.starts_with('/') {
            Ok(Pointer(text.to_string()))
        } else {
            Err(format!(
                "`{text}` is not a JSON pointer: it must be empty (the whole body) or start with `/`"
            ))
        }
    }
}

impl TryFrom<String> for Pointer {
    type Error = String;
    fn try_from(text: String) -> Result<Pointer, String> {
        Pointer::parse(&text)
    }
}

/// Text with placeholders, parsed once when the file is read.
///
/// A placeholder is `{key}`, `{value}`, `{value.N}` (the N-th element of a list value, such as
/// cas's `[expected, new]`) or `{worker}`. Any other brace is literal text, so JSON bodies need
/// no escaping; but a brace around a bare word that is not a placeholder is an error, since it
/// is almost certainly a misspelt one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Template {
    text: String,
    pieces: Vec<Piece>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Key,
    Value,
    Element(usize),
    Worker,
}

/// How a placeholder's value is written where it lands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    /// Into a URL: strings as they are, anything else as JSON, percent-encoded.
    Url,
    /// Into a JSON body: as JSON.
    Json,
    /// Into a header: strings as they are, anything else as JSON.
    Plain,
}

impl Template {
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            literal.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let word_len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                .unwrap_or(after.len());
            let word = &after[..word_len];
            if word.is_empty() || !after[word_len..].starts_with('}') {
                literal.push('{');
                rest = after;
                continue;
            }
            let piece = match word {
                "key" => Piece::Key,
                "value" => Piece::Value,
                "worker" => Piece::Worker,
                _ => match word.strip_prefix("value.").map(str::parse::<usize>) {
                    Some(Ok(index)) => Piece::Element(index),
                    _ => {
                        return Err(format!(
                            "unknown placeholder `{{{word}}}` in `{text}`: the placeholders are \
                             {{key}}, {{value}}, {{value.N}} and {{worker}}"
                        ))
                    }
                },
            };
            if !literal.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut literal)));
            }
            pieces.push(piece);
            rest = &after[word_len + 1..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        Ok(Template {
            text: text.to_string(),
            pieces,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn render(&self, op: &Invocation, worker: usize, encoding: Encoding) -> Result<String, String> {
        let mut out = String::with_capacity(self.text.len() + 16);
        for piece in &self.pieces {
            let value = match piece {
                Piece::Text(text) => {
                    out.push_str(text);
                    continue;
                }
                // With one key the history names none; the service still needs one in its URL.
                Piece::Key => op.key.clone().unwrap_or(Value::Int(0)),
                Piece::Value => op.value.clone(),
                Piece::Element(index) => op
                    .value
                    .as_list()
                    .and_then(|items| items.get(*index))
                    .cloned()
                    .ok_or_else(|| {
                        format!(
                            "{{value.{index}}} needs a list of more than {index} elements, \
                             but {} has value {}",
                            op.f, op.value
                        )
                    })?,
                Piece::Worker => Value::Int(worker as i64),
            };
            encode_into(&mut out, &value, encoding);
        }
        Ok(out)
    }
}

impl TryFrom<String> for Template {
    type Error = String;
    fn try_from(text: String) -> Result<Template, String> {
        Template::parse(&text)
    }
}

fn encode_into(out: &mut String, value: &Value, encoding: Encoding) {
    let text = match (value, encoding) {
        (_, Encoding::Json) => {
            out.push_str(&value.to_json_string());
            return;
        }
        (Value::Str(s), _) => s.clone(),
        (other, _) => other.to_json_string(),
    };
    match encoding {
        Encoding::Url => {
            for byte in text.bytes() {
                if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                    out.push(byte as char);
                } else {
                    out.push_str(&format!("%{byte:02X}"));
                }
            }
        }
        _ => out.push_str(&text),
    }
}

/// Why a workload file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{origin}:{line}:{column}: {message}")]
    Parse {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
}

/// The operation names each workload issues, which the file must map to requests.
fn operations(kind: WorkloadKind) -> &'static [&'static str] {
    match kind {
        WorkloadKind::Register => &["read", "write"],
        WorkloadKind::CasRegister => &["read", "write", "cas"],
        WorkloadKind::Counter | WorkloadKind::Set => &["add", "read"],
        WorkloadKind::Queue => &["enqueue", "dequeue"],
        WorkloadKind::Mutex => &["acquire", "release"],
        WorkloadKind::CreateOnce => &["create"],
    }
}

/// Operations whose result the checker reads: without a way to find it, every one would be
/// recorded as `null`, which proves nothing.
fn returns_result(f: &str) -> bool {
    matches!(f, "read" | "dequeue" | "create")
}

impl HttpSpec {
    /// Parses and validates a workload file's text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<HttpSpec, SpecError> {
        let spec: HttpSpec = toml::from_str(text).map_err(|error| {
            let (line, column) = error
                .span()
                .map_or((1, 1), |span| line_and_column(text, span.start));
            SpecError::Parse {
                origin: origin.to_string(),
                line,
                column,
                message: error.message().trim_end().to_string(),
            }
        })?;
        spec.validate().map_err(|message| SpecError::Invalid {
            origin: origin.to_string(),
            message,
        })?;
        Ok(spec)
    }

    pub fn from_path(path: &Path) -> Result<HttpSpec, SpecError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
            path: origin.clone(),
            source,
        })?;
        HttpSpec::from_toml(&text, &origin)
    }

    /// Checks what the types alone cannot: that every operation the workload issues has a
    /// request, that URLs and headers are well formed, that no status is both ok and fail.
    pub fn validate(&self) -> Result<(), String> {
        if self.base_url.is_empty() {
            return Err("base_url names no URL".to_string());
        }
        for url in &self.base_url {
            let parsed = reqwest::Url::parse(url).map_err(|e| format!("base_url `{url}`: {e}"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(format!("base_url `{url}` is not an http or https URL"));
            }
        }
        if self.keys == 0 {
            return Err("keys must be at least 1".to_string());
        }
        validate_headers("headers", &self.headers)?;
        let issued = operations(self.workload);
        for f in issued {
            if !self.ops.contains_key(*f) {
                return Err(format!(
                    "the {} workload issues `{f}`, but there is no [ops.{f}]",
                    self.workload
                ));
            }
        }
        for (f, request) in &self.ops {
            if !issued.contains(&f.as_str()) {
                return Err(format!(
                    "[ops.{f}]: the {} workload never issues `{f}`; it issues {}",
                    self.workload,
                    issued.join(", ")
                ));
            }
            request.validate().map_err(|e| format!("[ops.{f}]: {e}"))?;
            if returns_result(f) && request.value.is_none() && request.results.is_empty() {
                return Err(format!(
                    "[ops.{f}]: `{f}` returns a result the checker needs: say where it is with \
                     `value` (a JSON pointer) or `results` (by status)"
                ));
            }
        }
        for (index, request) in self.setup.iter().enumerate() {
            request
                .validate()
                .map_err(|e| format!("[[setup]] number {}: {e}", index + 1))?;
        }
        Ok(())
    }

    /// The workload this file describes, for `clients` clients.
    pub fn workload(&self, clients: usize) -> Workload {
        Workload::new(self.workload, self.keys, clients)
    }
}

fn validate_headers(what: &str, headers: &BTreeMap<String, Template>) -> Result<(), String> {
    for name in headers.keys() {
        HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("{what}: `{name}` is not a header name"))?;
    }
    Ok(())
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

    fn validate(&self) -> Result<(), String> {
        if !self.path.as_str().starts_with('/') {
            return Err(format!("path `{}` must start with `/`", self.path.as_str()));
        }
        for status in self.ok.iter().chain(&self.fail) {
            if !(100..=599).contains(status) {
                return Err(format!("{status} is not an HTTP status"));
            }
        }
        if let Some(both) = self.ok.iter().find(|s| self.fail.contains(s)) {
            return Err(format!("status {both} is in both ok and fail"));
        }
        for status in self.results.keys() {
            match status.parse::<u16>() {
                Ok(s) if (100..=599).contains(&s) && !self.fail.contains(&s) => {}
                Ok(s) if self.fail.contains(&s) => {
                    return Err(format!("status {s} is in both results and fail"))
                }
                _ => return Err(format!("results: `{status}` is not an HTTP status")),
            }
        }
        validate_headers("headers", &self.headers)
    }

    fn classify(&self, status: u16) -> Answer {
        if let Some(result) = self.results.get(&status.to_string()) {
            Answer::Known(result.clone())
        } else if self.fail.contains(&status) {
            Answer::Failed
        } else if self.ok.contains(&status) || (self.ok.is_empty() && (200..300).contains(&status))
        {
            Answer::Happened
        } else {
            Answer::Unknown
        }
    }

    /// Builds the request for `op`; an error means it was never sent.
    fn build(
        &self,
        http: &reqwest::Client,
        base_url: &str,
        common: &BTreeMap<String, Template>,
        op: &Invocation,
        worker: usize,
    ) -> Result<reqwest::RequestBuilder, String> {
        let path = self.path.render(op, worker, Encoding::Url)?;
        let url = format!("{}{path}", base_url.trim_end_matches('/'));
        let mut headers = HeaderMap::new();
        if self.body.is_some() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        for (name, template) in common.iter().chain(&self.headers) {
            let value = template.render(op, worker, Encoding::Plain)?;
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("`{name}` is not a header name"))?;
            let value = HeaderValue::from_str(&value)
                .map_err(|_| format!("header {name}: {value:?} cannot be sent in a header"))?;
            headers.insert(name, value);
        }
        let mut request = http.request(self.method.0.clone(), url).headers(headers);
        if let Some(body) = &self.body {
            request = request.body(body.render(op, worker, Encoding::Json)?);
        }
        Ok(request)
    }
}

/// What a response's status says about the operation.
enum Answer {
    Happened,
    Known(Value),
    Failed,
    Unknown,
}

fn line_and_column(text: &str, mut offset: usize) -> (usize, usize) {
    offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |last| last.chars().count())
        + 1;
    (line, column)
}

/// An HTTP service driven through a workload file.
pub struct HttpTarget {
    spec: Arc<HttpSpec>,
    max_body_bytes: usize,
}

/// The most bytes of a response body read unless [`HttpTarget::with_max_body_bytes`] says
/// otherwise: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

/// The most characters of an error text from the HTTP client recorded.
const ERROR_CHARS: usize = 300;

impl HttpTarget {
    /// Validates `spec` (a spec built in code has not been through [`HttpSpec::from_toml`]).
    pub fn new(spec: HttpSpec) -> Result<HttpTarget, String> {
        spec.validate()?;
        Ok(HttpTarget {
            spec: Arc::new(spec),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        })
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
    /// path = "/r/{key}"
    /// body = '{"value": {value}}'
    /// [ops.read]
    /// path = "/r/{key}"
    /// value = "/value"
    /// "#,
    ///     "register.toml",
    /// )
    /// .unwrap();
    /// let target = HttpTarget::new(spec).unwrap().with_max_body_bytes(64 << 10);
    /// assert_eq!(target.max_body_bytes(), 65536);
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
}

impl Target for HttpTarget {
    type Client = HttpClient;

    fn describe(&self) -> String {
        let urls = match self.spec.base_url.as_slice() {
            [one] => one.clone(),
            [first, rest @ ..] => format!("{first} and {} more", rest.len()),
            [] => String::new(),
        };
        format!("http {urls} ({})", self.spec.workload)
    }

    async fn setup(&self) -> Result<(), String> {
        if self.spec.setup.is_empty() {
            return Ok(());
        }
        let http = HttpTarget::http_client()?;
        let workload = self.spec.workload(1);
        for request in &self.spec.setup {
            for key in 0..self.spec.keys {
                let op = Invocation::new("setup", workload.key(key), Value::Null);
                let built =
                    request.build(&http, &self.spec.base_url[0], &self.spec.headers, &op, 0)?;
                let response = built
                    .send()
                    .await
                    .map_err(|e| format!("setup {}: {}", request.path.as_str(), e.without_url()))?;
                let status = response.status().as_u16();
                if !matches!(
                    request.classify(status),
                    Answer::Happened | Answer::Known(_)
                ) {
                    return Err(format!(
                        "setup {} {} answered HTTP {status}",
                        request.method.0,
                        request.path.as_str()
                    ));
                }
            }
        }
        Ok(())
    }

    async fn connect(&self, worker: usize) -> Result<HttpClient, String> {
        let urls = &self.spec.base_url;
        Ok(HttpClient {
            spec: Arc::clone(&self.spec),
            http: HttpTarget::http_client()?,
            base_url: urls[worker % urls.len()].clone(),
            worker,
            max_body_bytes: self.max_body_bytes,
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
}

/// Why a body was not read whole.
enum BodyError {
    TooLong,
    Read(String),
}

/// Reads `response`'s body, at most `max` bytes of it: a longer body (by its Content-Length,
/// or as it streams) is not read further.
async fn read_body(mut response: reqwest::Response, max: usize) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|length| length > max as u64)
    {
        return Err(BodyError::TooLong);
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > max {
                    return Err(BodyError::TooLong);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(error) => return Err(BodyError::Read(clipped(&error.without_url()))),
        }
    }
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
        let built = match request.build(
            &self.http,
            &self.base_url,
            &self.spec.headers,
            op,
            self.worker,
        ) {
            Ok(built) => built,
            Err(error) => return Completion::Fail(format!("cannot build the request: {error}")),
        };
        let response = match built.send().await {
            Ok(response) => response,
            // Refused before a byte of the request left: certainly no effect.
            Err(error) if error.is_connect() => {
                return Completion::Fail(format!(
                    "cannot connect: {}",
                    clipped(&error.without_url())
                ))
            }
            Err(error) if error.is_timeout() => return Completion::Info("timed out".to_string()),
            Err(error) => {
                return Completion::Info(format!(
                    "request failed: {}",
                    clipped(&error.without_url())
                ))
            }
        };
        let status = response.status().as_u16();
        match request.classify(status) {
            Answer::Failed => Completion::Fail(format!("HTTP {status}")),
            Answer::Unknown => Completion::Info(format!("HTTP {status}")),
            Answer::Known(result) => Completion::Ok(result),
            Answer::Happened => match &request.value {
                None => Completion::Ok(Value::Null),
                Some(pointer) => match read_body(response, self.max_body_bytes).await {
                    Ok(body) => result_at(&body, pointer),
                    Err(BodyError::TooLong) => Completion::Info(format!(
                        "the response body is longer than {} bytes (not read further)",
                        self.max_body_bytes
                    )),
                    Err(BodyError::Read(error)) => {
                        Completion::Info(format!("reading the body: {error}"))
                    }
                },
            },
        }
    }
}

/// The result at `pointer` in a body whose status said the operation happened. A body that
/// does not hold it leaves the result unknown, so the operation is indeterminate rather than
/// failed: it did happen.
fn result_at(body: &[u8], pointer: &Pointer) -> Completion {
    let json: serde_json::Value = match serde_json::from_slice(body) {
        Ok(json) => json,
        Err(_) => return Completion::Info("the response body is not JSON".to_string()),
    };
    match json
        .pointer(&pointer.0)
        .cloned()
        .map(serde_json::from_value)
    {
        Some(Ok(value)) => Completion::Ok(value),
        Some(Err(error)) => {
            Completion::Info(format!("the result at {}: {}", pointer.0, clipped(&error)))
        }
        None => Completion::Info(format!("the response has nothing at {}", pointer.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COUNTER: &str = r#"
base_url = "http://127.0.0.1:8080"
workload = "counter"
keys = 2

[ops.add]
method = "POST"
path = "/counters/{key}/add"
body = '{"amount": {value}}'
ok = [200]
fail = [409]

[ops.read]
path = "/counters/{key}"
value = "/value"
"#;

    fn op(f: &str, key: Option<Value>, value: Value) -> Invocation {
        Invocation::new(f, key, value)
    }

    #[test]
    fn a_counter_file_parses() {
        let spec = HttpSpec::from_toml(COUNTER, "counter.toml").unwrap();
        assert_eq!(spec.workload, WorkloadKind::Counter);
        assert_eq!(spec.keys, 2);
        assert_eq!(spec.base_url, vec!["http://127.0.0.1:8080".to_string()]);
        assert_eq!(spec.ops["read"].method, Method::default());
        assert_eq!(spec.ops["read"].value, Some(Pointer("/value".into())));
    }

    #[test]
    fn placeholders_go_into_bodies_as_json_and_into_paths_url_encoded() {
        let path = Template::parse("/things/{key}?v={value}").unwrap();
        let body = Template::parse(r#"{"key": {key}, "value": {value}}"#).unwrap();
        let sneaky = op(
            "write",
            Some(Value::from("a/b c")),
            Value::from("\"}, \"admin\": true, \"x\": \"&y=1"),
        );
        assert_eq!(
            path.render(&sneaky, 0, Encoding::Url).unwrap(),
            "/things/a%2Fb%20c?v=%22%7D%2C%20%22admin%22%3A%20true%2C%20%22x%22%3A%20%22%26y%3D1"
        );
        let rendered = body.render(&sneaky, 0, Encoding::Json).unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&rendered).unwrap();
        assert_eq!(parsed["key"], "a/b c");
        assert_eq!(parsed["value"], "\"}, \"admin\": true, \"x\": \"&y=1");
        assert!(parsed.get("admin").is_none());
    }

    #[test]
    fn list_elements_workers_and_missing_keys() {
        let t = Template::parse("/r/{key}/cas/{value.0}/{value.1}?w={worker}").unwrap();
        let cas = op("cas", None, Value::List(vec![Value::Int(1), Value::Int(2)]));
        assert_eq!(
            t.render(&cas, 7, Encoding::Url).unwrap(),
            "/r/0/cas/1/2?w=7"
        );
        let read = op("read", None, Value::Null);
        assert!(t.render(&read, 0, Encoding::Url).is_err());
    }

    #[test]
    fn braces_that_are_not_placeholders_are_text() {
        let t = Template::parse(r#"{"a": {"b": {value}}, "c": "{}"}"#).unwrap();
        let rendered = t
            .render(&op("add", None, Value::Int(3)), 0, Encoding::Json)
            .unwrap();
        assert_eq!(rendered, r#"{"a": {"b": 3}, "c": "{}"}"#);
    }

    fn error_of(text: &str) -> String {
        HttpSpec::from_toml(text, "w.toml").unwrap_err().to_string()
    }

    #[test]
    fn misspelt_placeholders_are_reported_where_they_are() {
        let text = COUNTER.replace("/counters/{key}/add", "/counters/{kye}/add");
        let error = error_of(&text);
        assert!(error.starts_with("w.toml:8:8: "), "{error}");
        assert!(error.contains("unknown placeholder `{kye}`"), "{error}");
    }

    #[test]
    fn syntax_errors_and_bad_fields_carry_line_and_column() {
        let error = error_of("base_url = \"http://x\"\nworkload = \"countr\"\n[ops]\n");
        assert!(error.starts_with("w.toml:2:12: "), "{error}");
        assert!(error.contains("unknown workload `countr`"), "{error}");
        let error = error_of("base_url = \"http://x\"\nworkload = \n");
        assert!(error.starts_with("w.toml:2:"), "{error}");
        let error = error_of(&COUNTER.replace("fail = [409]", "fial = [409]"));
        assert!(error.starts_with("w.toml:11:1: "), "{error}");
        let error = error_of(&COUNTER.replace("method = \"POST\"", "method = \"PO ST\""));
        assert!(error.contains("not an HTTP method"), "{error}");
    }

    #[test]
    fn missing_and_unknown_operations_are_named() {
        let error = error_of(&COUNTER.replace("[ops.read]", "[ops.raed]"));
        assert!(
            error.contains("issues `read`, but there is no [ops.read]"),
            "{error}"
        );
        let without_value = COUNTER.replace("value = \"/value\"", "");
        assert!(error_of(&without_value).contains("[ops.read]: `read` returns a result"));
        let both = COUNTER.replace("fail = [409]", "fail = [200]");
        assert!(error_of(&both).contains("status 200 is in both ok and fail"));
        let relative = COUNTER.replace("path = \"/counters/{key}\"", "path = \"counters\"");
        assert!(error_of(&relative).contains("must start with `/`"));
        let ftp = COUNTER.replace("http://127.0.0.1:8080", "ftp://x");
        assert!(error_of(&ftp).contains("not an http or https URL"));
    }

    #[test]
    fn statuses_decide_the_completion() {
        let text = r#"
base_url = ["http://127.0.0.1:1", "http://127.0.0.1:2"]
workload = "create-once"
[ops.create]
method = "PUT"
path = "/alerts/{key}"
results = { 201 = "created", 200 = "exists" }
fail = [400]
"#;
        let spec = HttpSpec::from_toml(text, "w.toml").unwrap();
        assert_eq!(spec.base_url.len(), 2);
        let create = &spec.ops["create"];
        assert!(matches!(create.classify(201), Answer::Known(Value::Str(s)) if s == "created"));
        assert!(matches!(create.classify(400), Answer::Failed));
        assert!(matches!(create.classify(500), Answer::Unknown));
        assert!(matches!(create.classify(204), Answer::Happened));
    }

    #[test]
    fn results_are_read_by_pointer() {
        let pointer = Pointer::parse("/data/value").unwrap();
        assert_eq!(
            result_at(br#"{"data": {"value": [1, 2]}}"#, &pointer),
            Completion::Ok(Value::List(vec![Value::Int(1), Value::Int(2)]))
        );
        assert!(result_at(br#"{"data": {}}"#, &pointer).is_info());
        assert!(result_at(b"<html>", &pointer).is_info());
        assert!(Pointer::parse("value").is_err());
    }
}
