//! JSON Lines: one event per line, in the field names Jepsen uses when it writes JSON.

use std::borrow::Cow;
use std::io::BufRead;

use serde::Deserialize;

use super::{read_lines, Fields};
use crate::{Event, HistoryBuilder, ReadError, Value};

/// The fields of one line, borrowed from the line where possible: reading is on the path of
/// every event, so it avoids allocating for the field names and `type`.
#[derive(Deserialize)]
struct RawEvent<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    f: Option<Cow<'a, str>>,
    #[serde(default)]
    value: Value,
    process: Option<Value>,
    time: Option<Value>,
    key: Option<Value>,
    error: Option<Value>,
}

pub fn read_into<R: BufRead>(input: R, builder: &mut HistoryBuilder) -> Result<(), ReadError> {
    read_lines(input, builder, |line, _| {
        let text = trim_ascii(line);
        (!text.is_empty()).then(|| parse_line(text))
    })
}

fn trim_ascii(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &bytes[start..end]
}

/// Parses one line; an error carries the column it was found at.
fn parse_line(text: &[u8]) -> Result<Event, (usize, String)> {
    let raw: RawEvent = serde_json::from_slice(text).map_err(|e| {
        let what = if e.is_eof() {
            "the line ends before the JSON object does".to_string()
        } else {
            let msg = e.to_string();
            // serde_json appends " at line L column C"; the position is reported separately.
            msg.split(" at line ").next().unwrap_or(&msg).to_string()
        };
        (
            e.column().max(1),
            format!("expected a JSON event object: {what}"),
        )
    })?;
    let fields = Fields {
        kind: raw.kind,
        process: raw.process,
        f: raw.f,
        value: raw.value,
        time: raw.time,
        key: raw.key,
        error: raw.error,
    };
    fields.into_event().map_err(|message| (1, message))
}

#[cfg(test)]
mod tests {
    use crate::{read_str, Format, Outcome, Process};

    fn read(text: &str) -> Result<crate::History, crate::ReadError> {
        read_str(text, "h.jsonl", Some(Format::JsonLines))
    }

    #[test]
    fn reads_jepsen_field_names() {
        let h = read(concat!(
            r#"{"type":"invoke","f":"write","value":["k",1],"process":0,"time":5,"index":0}"#,
            "\n",
            r#"{"type":"invoke","f":"start","value":null,"process":"nemesis"}"#,
            "\n",
            r#"{"type":"info","f":"write","value":["k",1],"process":0,"error":"timeout"}"#,
            "\n",
        ))
        .unwrap();
        assert_eq!(h.operations.len(), 1);
        assert_eq!(h.operations[0].outcome, Outcome::Info);
        assert_eq!(h.operations[0].invoke_time, Some(5));
        assert_eq!(h.nemesis.len(), 1);
        assert_eq!(h.event_count, 3);
        let _ = Process::Nemesis;
    }

    #[test]
    fn errors_name_line_and_column() {
        let err = read("{\"type\":\"invoke\",\"f\":\"read\",\"process\":0}\n{\"type\":\"ok\",\"f\":\"read\",\"process\":0,}\n")
            .unwrap_err();
        assert!(err.to_string().starts_with("h.jsonl:2:"), "{err}");
        let err = read("{\"type\":\"done\",\"f\":\"read\",\"process\":0}\n").unwrap_err();
        assert!(
            err.to_string().contains("invoke, ok, fail or info"),
            "{err}"
        );
        let err = read("{\"type\":\"ok\",\"f\":\"read\",\"process\":1.5}\n").unwrap_err();
        assert!(err.to_string().contains("`process` must be"), "{err}");
        let err = read("[1,2]\n").unwrap_err();
        assert!(err.to_string().contains("h.jsonl:1:"), "{err}");
    }

    #[test]
    fn a_torn_last_line_is_a_warning() {
        let h =
            read("{\"type\":\"invoke\",\"f\":\"read\",\"process\":0}\n{\"type\":\"ok\",\"f\":\"re")
                .unwrap();
        assert_eq!(h.operations.len(), 1);
        assert_eq!(h.operations[0].outcome, Outcome::Pending);
        assert_eq!(h.warnings.len(), 1);
        assert!(h.warnings[0].contains("torn"));
    }
}
