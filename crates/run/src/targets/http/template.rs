//! Request templates: text with placeholders, parsed once when the file is read and rendered
//! per operation. A value is substituted by encoding it for where it lands, never by pasting
//! text: into a URL percent-encoded, into a JSON body as JSON, into a header as text, so a
//! value can never change the shape of the request.

use std::collections::BTreeMap;

use photofinish_history::Value;
use serde::Deserialize;

use super::codec::Codec;
use crate::Invocation;

/// Text with placeholders.
///
/// A placeholder is `{key}`, `{value}`, `{value.N}` (the N-th element of a list value, such as
/// cas's `[expected, new]`), `{worker}`, `{run}` (an identifier unique to each run, for key
/// namespaces) or the name of one of the file's `[vars]`; after bars it may name codecs,
/// applied left to right: `{value|json|base64}` (see [`Codec`]). Any other brace is literal
/// text, so JSON bodies need no escaping; but a brace around a bare word that is not a
/// placeholder is an error, since it is almost certainly a misspelt one.
///
/// ```
/// use photofinish_run::targets::http::Template;
///
/// let body = Template::parse(r#"{"key": {k|base64}, "value": {value|json|base64}}"#).unwrap();
/// assert_eq!(body.vars(), vec!["k"]);
/// assert!(Template::parse("/r/{value|base32}").unwrap_err().contains("unknown codec `base32`"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Template {
    text: String,
    pieces: Vec<Piece>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Slot(Source, Vec<Codec>),
}

/// Where a placeholder's value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Source {
    Key,
    Value,
    Element(usize),
    Worker,
    Run,
    /// One of the file's `[vars]`, by name.
    Var(String),
}

/// How a placeholder's value is written where it lands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Encoding {
    /// Into a URL: strings as they are, anything else as JSON, percent-encoded.
    Url,
    /// Into a JSON body: as JSON.
    Json,
    /// Into a header or a var: strings as they are, anything else as JSON.
    Plain,
}

/// What a template is rendered with: the operation, and what the run and the file supply.
pub(super) struct Context<'a> {
    pub op: &'a Invocation,
    pub worker: usize,
    pub run: &'a str,
    pub vars: &'a BTreeMap<String, Template>,
}

/// The built-in placeholders, for error messages.
const BUILT_IN: &str = "{key}, {value}, {value.N}, {worker} and {run}";

impl Template {
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            literal.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let word_len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '|' | '-')))
                .unwrap_or(after.len());
            let word = &after[..word_len];
            if word.is_empty() || !after[word_len..].starts_with('}') {
                literal.push('{');
                rest = after;
                continue;
            }
            let piece = Template::slot(word, text)?;
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

    /// The placeholder `{word}` of `text`.
    fn slot(word: &str, text: &str) -> Result<Piece, String> {
        let mut parts = word.split('|');
        let name = parts.next().unwrap_or_default();
        let codecs = parts
            .map(|codec| {
                Codec::parse(codec).map_err(|e| format!("{e}, in `{{{word}}}` of `{text}`"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let source = match name {
            "key" => Source::Key,
            "value" => Source::Value,
            "worker" => Source::Worker,
            "run" => Source::Run,
            _ => match name.strip_prefix("value.").map(str::parse::<usize>) {
                Some(Ok(index)) => Source::Element(index),
                // A plain name may be a var; the file checks that it declares it.
                _ if is_var_name(name) => Source::Var(name.to_string()),
                _ => return Err(unknown(name, text)),
            },
        };
        Ok(Piece::Slot(source, codecs))
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The names of the vars this template uses, in order of first use.
    pub fn vars(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for piece in &self.pieces {
            if let Piece::Slot(Source::Var(name), _) = piece {
                if !names.contains(&name.as_str()) {
                    names.push(name);
                }
            }
        }
        names
    }

    /// Whether it uses `{key}`, directly or through `vars`.
    pub(super) fn uses_key(&self, vars: &BTreeMap<String, Template>) -> bool {
        self.pieces.iter().any(|piece| match piece {
            Piece::Slot(Source::Key, _) => true,
            Piece::Slot(Source::Var(name), _) => vars
                .get(name)
                .is_some_and(|var| var.uses_key(&BTreeMap::new())),
            _ => false,
        })
    }

    /// Checks that every var it names is declared; `in_var`: it is itself a var, and may not
    /// name another.
    pub(super) fn check_vars(
        &self,
        vars: &BTreeMap<String, Template>,
        in_var: bool,
    ) -> Result<(), String> {
        for name in self.vars() {
            if in_var {
                return Err(format!(
                    "`{{{name}}}` in `{}`: a var may use only {BUILT_IN}, not another var",
                    self.text
                ));
            }
            if !vars.contains_key(name) {
                let declared = if vars.is_empty() {
                    String::new()
                } else {
                    let names: Vec<_> = vars.keys().map(|n| format!("{{{n}}}")).collect();
                    format!(", and the file's [vars] {}", names.join(", "))
                };
                return Err(format!(
                    "unknown placeholder `{{{name}}}` in `{}`: the placeholders are {BUILT_IN}{declared}",
                    self.text
                ));
            }
        }
        Ok(())
    }

    pub(super) fn render(&self, cx: &Context<'_>, encoding: Encoding) -> Result<String, String> {
        let mut out = String::with_capacity(self.text.len() + 16);
        for piece in &self.pieces {
            let (source, codecs) = match piece {
                Piece::Text(text) => {
                    out.push_str(text);
                    continue;
                }
                Piece::Slot(source, codecs) => (source, codecs),
            };
            let mut value = match source {
                // With one key the history names none; the service still needs one in its URL.
                Source::Key => cx.op.key.clone().unwrap_or(Value::Int(0)),
                Source::Value => cx.op.value.clone(),
                Source::Element(index) => cx
                    .op
                    .value
                    .as_list()
                    .and_then(|items| items.get(*index).cloned())
                    .ok_or_else(|| {
                        format!(
                            "{{value.{index}}} needs a list of more than {index} elements, \
                             but {} has value {}",
                            cx.op.f, cx.op.value
                        )
                    })?,
                Source::Worker => Value::Int(cx.worker as i64),
                Source::Run => Value::from(cx.run),
                Source::Var(name) => match cx.vars.get(name) {
                    Some(var) => Value::Str(var.render(cx, Encoding::Plain)?),
                    None => return Err(format!("no var `{name}`")),
                },
            };
            for codec in codecs {
                value = codec.encode(value)?;
            }
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

/// A name a var may have: a letter, then letters, digits, `_` or `-`.
pub(super) fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        && !matches!(name, "key" | "value" | "worker" | "run")
}

fn unknown(name: &str, text: &str) -> String {
    format!("unknown placeholder `{{{name}}}` in `{text}`: the placeholders are {BUILT_IN}")
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

#[cfg(test)]
mod tests {
    use super::*;

    fn op(f: &str, key: Option<Value>, value: Value) -> Invocation {
        Invocation::new(f, key, value)
    }

    fn render(
        t: &Template,
        op: &Invocation,
        worker: usize,
        encoding: Encoding,
    ) -> Result<String, String> {
        let vars = BTreeMap::new();
        let cx = Context {
            op,
            worker,
            run: "r1",
            vars: &vars,
        };
        t.render(&cx, encoding)
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
            render(&path, &sneaky, 0, Encoding::Url).unwrap(),
            "/things/a%2Fb%20c?v=%22%7D%2C%20%22admin%22%3A%20true%2C%20%22x%22%3A%20%22%26y%3D1"
        );
        let rendered = render(&body, &sneaky, 0, Encoding::Json).unwrap();
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
            render(&t, &cas, 7, Encoding::Url).unwrap(),
            "/r/0/cas/1/2?w=7"
        );
        let read = op("read", None, Value::Null);
        assert!(render(&t, &read, 0, Encoding::Url).is_err());
    }

    #[test]
    fn braces_that_are_not_placeholders_are_text() {
        let t = Template::parse(r#"{"a": {"b": {value}}, "c": "{}"}"#).unwrap();
        let rendered = render(&t, &op("add", None, Value::Int(3)), 0, Encoding::Json).unwrap();
        assert_eq!(rendered, r#"{"a": {"b": 3}, "c": "{}"}"#);
    }

    #[test]
    fn codecs_and_vars_compose() {
        let mut vars = BTreeMap::new();
        vars.insert("k".to_string(), Template::parse("pf/{run}/{key}").unwrap());
        let body = Template::parse(
            r#"{"key": {k|base64}, "value": {value.1|json|base64}, "n": {value.0|number}}"#,
        )
        .unwrap();
        body.check_vars(&vars, false).unwrap();
        assert!(body.uses_key(&vars));
        let cas = op(
            "cas",
            Some(Value::Int(2)),
            Value::List(vec![Value::Int(1), Value::from("x")]),
        );
        let cx = Context {
            op: &cas,
            worker: 0,
            run: "r9",
            vars: &vars,
        };
        let rendered: serde_json::Value =
            serde_json::from_str(&body.render(&cx, Encoding::Json).unwrap()).unwrap();
        assert_eq!(rendered["key"], "cGYvcjkvMg=="); // pf/r9/2
        assert_eq!(rendered["value"], "Ingi"); // "x"
        assert_eq!(rendered["n"], "1");
        let undeclared = Template::parse("/{nope}").unwrap();
        let error = undeclared.check_vars(&vars, false).unwrap_err();
        assert!(
            error.contains("unknown placeholder `{nope}`") && error.contains("{k}"),
            "{error}"
        );
        assert!(vars["k"].check_vars(&vars, true).is_ok());
        assert!(Template::parse("/{k}")
            .unwrap()
            .check_vars(&vars, true)
            .is_err());
        assert!(Template::parse("/{value|base32}")
            .unwrap_err()
            .contains("unknown codec"));
    }
}
