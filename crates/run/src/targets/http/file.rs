//! The workload file: what TOML deserializes into, and every check the types alone cannot make,
//! each reported with the file, line and column of what is wrong.

use std::collections::BTreeMap;
use std::path::Path;

use photofinish_history::Value;
use reqwest::header::HeaderName;
use serde::{Deserialize, Deserializer};

use super::codec::Codec;
use super::outcome::{conditions, Absent, Condition, Pointer};
use super::proxy::ProxySpec;
use super::template::{is_var_name, Template};
use crate::workload::{Workload, WorkloadKind};

/// A workload file, as TOML deserializes it or as code builds it (`..HttpSpec::default()`
/// fills what is not given: a register workload over one key, no requests).
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
    /// Named templates, usable as placeholders elsewhere: `k = "photofinish/{run}/{key}"`, then
    /// `{k|base64}`. A var may use the built-in placeholders, not another var.
    #[serde(default)]
    pub vars: BTreeMap<String, Template>,
    /// Requests that bring the service to the model's initial state before any client starts:
    /// a request that uses `{key}` is sent once per key, any other once.
    #[serde(default)]
    pub setup: Vec<RequestSpec>,
    /// Requests sent once the run is over, in the same way (clearing the run's keys, say).
    #[serde(default)]
    pub teardown: Vec<RequestSpec>,
    /// Fault proxies photofinish runs for the run's duration, between the service and what it
    /// depends on, for the nemesis to partition and slow.
    #[serde(default)]
    pub proxy: Vec<ProxySpec>,
    /// One request per operation name the workload issues (`add`, `read`, `create`, ...).
    pub ops: BTreeMap<String, RequestSpec>,
    /// Where the file was read from, for messages that point into it; `None` for a spec
    /// built in code.
    #[serde(skip)]
    pub origin: Option<SpecOrigin>,
}

/// The file a spec was read from, and the line of each `[ops.NAME]` table in it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpecOrigin {
    pub file: String,
    pub op_lines: BTreeMap<String, usize>,
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
    /// How the result at `value` is decoded, in order: `["base64", "json"]`.
    #[serde(default, deserialize_with = "codecs")]
    pub decode: Vec<Codec>,
    /// What a body with nothing at `value` means: `"info"` (unknown, the default) or `"null"`
    /// (a read of a key that does not exist).
    #[serde(default)]
    pub absent: Absent,
    /// Bodies that mean the operation happened (any of them), for an answer whose status says
    /// so; a body that matches neither these nor `fail_when` leaves it unknown.
    #[serde(default, deserialize_with = "conditions")]
    pub ok_when: Vec<Condition>,
    /// Bodies that mean the operation certainly had no effect, though the status said ok.
    #[serde(default, deserialize_with = "conditions")]
    pub fail_when: Vec<Condition>,
    /// Results told by the status alone (`{ 201 = "created", 200 = "exists" }`); these statuses
    /// count as ok.
    #[serde(default)]
    pub results: BTreeMap<String, Value>,
}

impl Default for HttpSpec {
    fn default() -> HttpSpec {
        HttpSpec {
            base_url: Vec::new(),
            workload: WorkloadKind::Register,
            keys: 1,
            headers: BTreeMap::new(),
            vars: BTreeMap::new(),
            setup: Vec::new(),
            teardown: Vec::new(),
            proxy: Vec::new(),
            ops: BTreeMap::new(),
            origin: None,
        }
    }
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

fn codecs<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Codec>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    let names = match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(name) => vec![name],
        OneOrMany::Many(names) => names,
    };
    names
        .iter()
        .map(|name| Codec::parse(name).map_err(serde::de::Error::custom))
        .collect()
}

/// A workload an HTTP service can be driven with: every one but `bank`. A bank run starts
/// with every account at a known balance, which a workload file cannot establish: the
/// accounts are named inside the transfers' values, so no `{key}` setup step reaches each of
/// them, and a service that made up its own starting balances would be checked against the
/// wrong total.
fn workload_kind<'de, D: Deserializer<'de>>(deserializer: D) -> Result<WorkloadKind, D::Error> {
    let kind: WorkloadKind = String::deserialize(deserializer)?
        .parse()
        .map_err(serde::de::Error::custom)?;
    if kind == WorkloadKind::Bank {
        return Err(serde::de::Error::custom(
            "the http target does not run the bank workload (a workload file cannot set every account's starting balance): run it on postgres, or on your own program with exec",
        ));
    }
    Ok(kind)
}

/// An HTTP method, checked when the file is read.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Method(pub(super) reqwest::Method);

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
        WorkloadKind::Kv => &["get", "put", "append"],
        WorkloadKind::MultiRegister | WorkloadKind::ListAppend | WorkloadKind::RwRegister => {
            &["txn"]
        }
        WorkloadKind::Bank => &[],
    }
}

/// Operations whose result the checker reads: without a way to find it, every one would be
/// recorded as `null`, which proves nothing.
fn returns_result(f: &str) -> bool {
    matches!(f, "read" | "dequeue" | "create" | "get" | "txn")
}

/// One step of the path to a place in the file: a table's key or an array's index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Step {
    Key(String),
    Index(usize),
}

/// Something wrong in a file, and where: the path to the value at fault (as far as known).
#[derive(Debug)]
pub(super) struct Problem {
    pub at: Vec<Step>,
    pub message: String,
}

impl Problem {
    fn new(at: Vec<Step>, message: impl Into<String>) -> Problem {
        Problem {
            at,
            message: message.into(),
        }
    }
}

fn key(name: &str) -> Step {
    Step::Key(name.to_string())
}

impl HttpSpec {
    /// Parses and validates a workload file's text; `origin` names it in errors, with the line
    /// and column of what is wrong.
    pub fn from_toml(text: &str, origin: &str) -> Result<HttpSpec, SpecError> {
        let parse_error = |line, column, message| SpecError::Parse {
            origin: origin.to_string(),
            line,
            column,
            message,
        };
        let mut spec: HttpSpec = toml::from_str(text).map_err(|error| {
            let (line, column) = error
                .span()
                .map_or((1, 1), |span| line_and_column(text, span.start));
            parse_error(line, column, error.message().trim_end().to_string())
        })?;
        if let Some(problem) = spec.problem() {
            let (line, column) = locate(text, &problem.at);
            return Err(parse_error(line, column, problem.message));
        }
        let op_lines = spec
            .ops
            .keys()
            .map(|f| (f.clone(), locate(text, &[key("ops"), key(f)]).0))
            .collect();
        spec.origin = Some(SpecOrigin {
            file: origin.to_string(),
            op_lines,
        });
        Ok(spec)
    }

    /// Where operation `f`'s request is described: `etcd.toml:22 ([ops.read])`, or
    /// `[ops.read]` for a spec built in code.
    pub fn place_of(&self, f: &str) -> String {
        match self
            .origin
            .as_ref()
            .and_then(|o| o.op_lines.get(f).map(|line| (&o.file, line)))
        {
            Some((file, line)) => format!("{file}:{line} ([ops.{f}])"),
            None => format!("[ops.{f}]"),
        }
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
    /// request, that URLs, headers, vars and proxies are well formed, that no status is both ok
    /// and fail.
    pub fn validate(&self) -> Result<(), String> {
        self.problem()
            .map_or(Ok(()), |problem| Err(problem.message))
    }

    fn problem(&self) -> Option<Problem> {
        self.check().err()
    }

    fn check(&self) -> Result<(), Problem> {
        let at = |steps: &[&str]| steps.iter().map(|s| key(s)).collect::<Vec<_>>();
        if self.base_url.is_empty() {
            return Err(Problem::new(at(&["base_url"]), "base_url names no URL"));
        }
        for url in &self.base_url {
            let parsed = reqwest::Url::parse(url)
                .map_err(|e| Problem::new(at(&["base_url"]), format!("base_url `{url}`: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(Problem::new(
                    at(&["base_url"]),
                    format!("base_url `{url}` is not an http or https URL"),
                ));
            }
        }
        if self.keys == 0 {
            return Err(Problem::new(at(&["keys"]), "keys must be at least 1"));
        }
        for (name, var) in &self.vars {
            if !is_var_name(name) {
                return Err(Problem::new(
                    at(&["vars", name]),
                    format!(
                        "[vars]: `{name}` cannot name a var: use a letter, then letters, digits, \
                         `_` or `-`, and not key, value, worker or run"
                    ),
                ));
            }
            var.check_vars(&self.vars, true)
                .map_err(|e| Problem::new(at(&["vars", name]), format!("[vars]: {e}")))?;
        }
        self.check_headers(&["headers"], &self.headers)?;
        let issued = operations(self.workload);
        for f in issued {
            if !self.ops.contains_key(*f) {
                return Err(Problem::new(
                    at(&["ops"]),
                    format!(
                        "the {} workload issues `{f}`, but there is no [ops.{f}]",
                        self.workload
                    ),
                ));
            }
        }
        for (f, request) in &self.ops {
            let here = vec![key("ops"), key(f)];
            if !issued.contains(&f.as_str()) {
                return Err(Problem::new(
                    here,
                    format!(
                        "[ops.{f}]: the {} workload never issues `{f}`; it issues {}",
                        self.workload,
                        issued.join(", ")
                    ),
                ));
            }
            self.check_request(&here, &format!("[ops.{f}]"), request)?;
            if returns_result(f) && request.value.is_none() && request.results.is_empty() {
                return Err(Problem::new(
                    here,
                    format!(
                        "[ops.{f}]: `{f}` returns a result the checker needs: say where it is \
                         with `value` (a JSON pointer) or `results` (by status)"
                    ),
                ));
            }
        }
        for (table, requests) in [("setup", &self.setup), ("teardown", &self.teardown)] {
            for (index, request) in requests.iter().enumerate() {
                let here = vec![key(table), Step::Index(index)];
                self.check_request(&here, &format!("[[{table}]] number {}", index + 1), request)?;
            }
        }
        let mut names = Vec::new();
        for (index, proxy) in self.proxy.iter().enumerate() {
            let here = vec![key("proxy"), Step::Index(index)];
            let what = format!("[[proxy]] number {}", index + 1);
            proxy.check().map_err(|(field, e)| {
                let mut at = here.clone();
                at.extend(field.map(key));
                Problem::new(at, format!("{what}: {e}"))
            })?;
            if names.contains(&proxy.name.as_str()) {
                return Err(Problem::new(
                    here,
                    format!("{what}: another [[proxy]] is named `{}`", proxy.name),
                ));
            }
            names.push(&proxy.name);
        }
        Ok(())
    }

    fn check_headers(
        &self,
        at: &[&str],
        headers: &BTreeMap<String, Template>,
    ) -> Result<(), Problem> {
        self.check_headers_at(at.iter().map(|s| key(s)).collect(), headers)
    }

    fn check_headers_at(
        &self,
        at: Vec<Step>,
        headers: &BTreeMap<String, Template>,
    ) -> Result<(), Problem> {
        for (name, template) in headers {
            let mut here = at.clone();
            here.push(key(name));
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                Problem::new(
                    here.clone(),
                    format!("headers: `{name}` is not a header name"),
                )
            })?;
            template
                .check_vars(&self.vars, false)
                .map_err(|e| Problem::new(here, e))?;
        }
        Ok(())
    }

    fn check_request(&self, at: &[Step], what: &str, request: &RequestSpec) -> Result<(), Problem> {
        let field = |name: &str| {
            let mut here = at.to_vec();
            here.push(key(name));
            here
        };
        let problem =
            |name: &str, message: String| Problem::new(field(name), format!("{what}: {message}"));
        if !request.path.as_str().starts_with('/') {
            return Err(problem(
                "path",
                format!("path `{}` must start with `/`", request.path.as_str()),
            ));
        }
        request
            .path
            .check_vars(&self.vars, false)
            .map_err(|e| problem("path", e))?;
        if let Some(body) = &request.body {
            body.check_vars(&self.vars, false)
                .map_err(|e| problem("body", e))?;
        }
        for (name, status) in request
            .ok
            .iter()
            .map(|s| ("ok", s))
            .chain(request.fail.iter().map(|s| ("fail", s)))
        {
            if !(100..=599).contains(status) {
                return Err(problem(name, format!("{status} is not an HTTP status")));
            }
        }
        if let Some(both) = request.ok.iter().find(|s| request.fail.contains(s)) {
            return Err(problem(
                "fail",
                format!("status {both} is in both ok and fail"),
            ));
        }
        for status in request.results.keys() {
            match status.parse::<u16>() {
                Ok(s) if (100..=599).contains(&s) && !request.fail.contains(&s) => {}
                Ok(s) if request.fail.contains(&s) => {
                    return Err(problem(
                        "results",
                        format!("status {s} is in both results and fail"),
                    ))
                }
                _ => {
                    return Err(problem(
                        "results",
                        format!("results: `{status}` is not an HTTP status"),
                    ))
                }
            }
        }
        if request.value.is_none() && (!request.decode.is_empty() || request.absent != Absent::Info)
        {
            return Err(problem(
                if request.decode.is_empty() {
                    "absent"
                } else {
                    "decode"
                },
                "`decode` and `absent` say how to read the result at `value`, which is not given"
                    .to_string(),
            ));
        }
        self.check_headers_at(field("headers"), &request.headers)
            .map_err(|p| Problem::new(p.at, format!("{what}: {}", p.message)))
    }

    /// The workload this file describes, for `clients` clients. A transactional one
    /// (list-append, rw-register) runs as any other, and its history goes to the
    /// transactional checker (`photofinish::txn_run::run_and_check_txn`).
    ///
    /// ```
    /// use photofinish_run::targets::http::HttpSpec;
    /// use photofinish_run::WorkloadKind;
    ///
    /// let spec = HttpSpec::from_toml(
    ///     r#"
    /// base_url = "http://127.0.0.1:8080"
    /// workload = "list-append"
    /// keys = 5
    /// [ops.txn]
    /// method = "POST"
    /// path = "/txn-append/{run}"
    /// body = '{"ops": {value}}'
    /// value = "/value"
    /// "#,
    ///     "rest-list-append.toml",
    /// )
    /// .unwrap();
    /// let workload = spec.workload(10);
    /// assert_eq!((workload.kind, workload.keys), (WorkloadKind::ListAppend, 5));
    /// assert!(workload.kind.transactional());
    /// assert_eq!(workload.generator(1, 0).next_op().f, "txn");
    /// ```
    pub fn workload(&self, clients: usize) -> Workload {
        Workload::new(self.workload, self.keys, clients)
    }
}

/// The line and column (1-based, in characters) of byte `offset` of `text`.
pub(super) fn line_and_column(text: &str, mut offset: usize) -> (usize, usize) {
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

/// Where the value at `path` starts in `text`, or the deepest part of the path there is.
fn locate(text: &str, path: &[Step]) -> (usize, usize) {
    use toml::de::{DeTable, DeValue};
    let Ok(root) = DeTable::parse(text) else {
        return (1, 1);
    };
    let mut span = root.span();
    let mut table = Some(root.get_ref());
    let mut array: Option<&[toml::Spanned<DeValue<'_>>]> = None;
    for step in path {
        let found = match (step, table, array) {
            (Step::Key(name), Some(t), _) => t
                .iter()
                .find(|(k, _)| k.get_ref().as_ref() == name.as_str())
                .map(|(_, v)| v),
            (Step::Index(i), _, Some(items)) => items.get(*i),
            _ => None,
        };
        let Some(value) = found else { break };
        span = value.span();
        (table, array) = match value.get_ref() {
            DeValue::Table(t) => (Some(t), None),
            DeValue::Array(items) => (None, Some(items.as_ref())),
            _ => (None, None),
        };
    }
    line_and_column(text, span.start)
}
