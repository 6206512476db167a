//! JSON Lines: one event per line, in the field names Jepsen uses when it writes JSON. The first
//! non-empty line may be a header instead (see [`crate::RecordedWith`]); fields other than the
//! event's (`index`, `node`, ...) are ignored.

use std::io::BufRead;

use super::json::{self, EventObject};
use super::json_fast;
use super::{read_lines_parallel, EventField, LineFault, Record, Torn};
use crate::{Event, HistoryBuilder, Position, ReadError, RecordedWith};

/// Reads the events of JSON Lines. Lines longer than `max` bytes are an error. Lines are parsed
/// in parallel, a batch at a time; errors name the first line at fault, as a reader that went
/// line by line would.
pub fn read_into<R: BufRead>(
    input: R,
    builder: &mut HistoryBuilder,
    max: usize,
) -> Result<(), ReadError> {
    read_lines_parallel(
        input,
        builder,
        max,
        Torn::WhenCutShort,
        parse_line,
        |header, is_first, builder| {
            if !is_first {
                return Err(NOT_FIRST.to_string());
            }
            builder.set_header(RecordedWith::from_value(header)?);
            Ok(())
        },
    )
}

const NOT_FIRST: &str =
    "a header (an object with `photofinish` and no `type`) may only be the first record of a history";

/// What one line holds: nothing, an event (its `f` borrowed from the line) or a header.
fn parse_line(line: &[u8]) -> Result<Record<'_>, LineFault> {
    let lead = line
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(line.len());
    if lead == line.len() {
        return Ok(Record::Blank);
    }
    if let Some(event) = json_fast::scan_event(&line[lead..]).and_then(|f| f.into_parsed().ok()) {
        return Ok(Record::Event(event));
    }
    let column = |offset: usize| column_of(line, lead + offset);
    let object =
        json::parse_event_object(&line[lead..], "the end of the line").map_err(|fault| {
            LineFault {
                column: column(fault.offset),
                message: fault.message,
                at_end: fault.at_end,
            }
        })?;
    if object.fields.kind.is_none() {
        if let Some(value) = object.header {
            return Ok(Record::Header {
                value,
                column: column(0),
            });
        }
    }
    let offsets = object.offsets;
    match object.fields.into_parsed() {
        Ok(event) => Ok(Record::Event(event)),
        Err((field, message)) => Err(LineFault {
            column: column(field_offset(field, offsets)),
            message,
            at_end: false,
        }),
    }
}

/// Where in an object the value of `field` starts, from [`EventObject::offsets`].
fn field_offset(field: EventField, offsets: [usize; 3]) -> usize {
    match field {
        EventField::Type => offsets[0],
        EventField::Process => offsets[1],
        EventField::Time => offsets[2],
        EventField::Whole => 0,
    }
}

/// The 1-based column, in characters, of byte `offset` of `line`.
fn column_of(line: &[u8], offset: usize) -> usize {
    json::locate(line, offset, Position { line: 1, column: 1 }).column
}

/// The event an object holds, or `None` after taking the header it holds (allowed only when it
/// is the first record). An error carries the offset of what is wrong.
pub(super) fn event_or_header(
    object: EventObject<'_>,
    is_first: bool,
    builder: &mut HistoryBuilder,
) -> Result<Option<Event>, (usize, String)> {
    if object.fields.kind.is_none() {
        if let Some(header) = object.header {
            if !is_first {
                return Err((0, NOT_FIRST.to_string()));
            }
            let header = RecordedWith::from_value(header).map_err(|m| (0, m))?;
            builder.set_header(header);
            return Ok(None);
        }
    }
    let offsets = object.offsets;
    object
        .fields
        .into_event()
        .map(Some)
        .map_err(|(field, message)| (field_offset(field, offsets), message))
}

#[cfg(test)]
mod tests {
    use crate::{read, read_str, read_with, Format, Outcome, Process, Value};

    fn read_jsonl(text: &str) -> Result<crate::History, crate::ReadError> {
        read_str(text, "h.jsonl", Some(Format::JsonLines))
    }

    fn error(text: &str) -> String {
        match read_jsonl(text) {
            Ok(h) => panic!("expected an error, read {} events", h.event_count),
            Err(e) => e.to_string(),
        }
    }

    /// Every reader keeps a list of integers compact, whichever parser read the line, and
    /// nothing else: the values stay the lists that were written.
    #[test]
    fn lists_of_integers_are_compact_in_every_reader() {
        let ints = |v: &Value| v.as_ints().map(<[i64]>::to_vec);
        // The fast scanner; then the general parser (an escape sends the line there).
        for f in [r#""read""#, r#""re\u0061d""#] {
            let text = format!(
                "{{\"type\":\"invoke\",\"f\":{f},\"value\":[3, -1,2],\"process\":0}}\n\
                 {{\"type\":\"invoke\",\"f\":{f},\"value\":[1,\"a\",[4,5],[]],\"process\":1}}\n"
            );
            let h = read_jsonl(&text).unwrap();
            assert_eq!(ints(&h.operations[0].value), Some(vec![3, -1, 2]), "{text}");
            let Value::List(items) = &h.operations[1].value else {
                panic!("{:?}", h.operations[1].value);
            };
            assert_eq!(ints(&items[2]), Some(vec![4, 5]));
            assert_eq!(items[3], Value::List(vec![]));
            assert_eq!(
                h.operations[1].value.to_json_string(),
                r#"[1,"a",[4,5],[]]"#
            );
        }
        let edn = "{:type :invoke, :f :read, :value [1 2 3], :process 0}\n\
                   {:type :invoke, :f :read, :value #{3 1 2}, :process 1}\n\
                   {:type :invoke, :f :read, :value (1 :a), :process 2}\n";
        let h = read_str(edn, "h.edn", Some(Format::Edn)).unwrap();
        assert_eq!(ints(&h.operations[0].value), Some(vec![1, 2, 3]));
        assert_eq!(ints(&h.operations[1].value), Some(vec![1, 2, 3]));
        assert!(matches!(h.operations[2].value, Value::List(_)));
        // A value given on the command line stays as written.
        assert!(matches!(
            Value::from_json_str("[1,2]").unwrap(),
            Value::List(_)
        ));
    }

    #[test]
    fn reads_jepsen_field_names() {
        let h = read_jsonl(concat!(
            r#"{"type":"invoke","f":"write","value":["k",1],"process":0,"time":5,"index":0,"node":{"n":[1]}}"#,
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
        assert!(h.header.is_none());
        let _ = Process::Nemesis;
    }

    #[test]
    fn errors_name_line_and_column() {
        let cases: &[(&str, &str)] = &[
            (
                "{\"type\":\"invoke\",\"f\":\"read\",\"process\":0}\n{\"type\":\"ok\",\"f\":\"read\",\"process\":0,}\n",
                "h.jsonl:2:37: expected a field name (a string), found `}`",
            ),
            (
                "{\"type\":\"done\",\"f\":\"read\",\"process\":0}\n",
                "h.jsonl:1:9: `type` must be invoke, ok, fail or info, found `done`",
            ),
            (
                "{\"type\":\"ok\",\"f\":\"read\",\"process\":1.5}\n",
                "h.jsonl:1:35: `process` must be an integer or \"nemesis\", found a float",
            ),
            (
                "  {\"type\":\"ok\",\"f\":\"read\",\"process\":18446744073709551615}\n",
                "h.jsonl:1:37: `process` must be an integer that fits in 64 bits",
            ),
            ("[1,2]\n", "h.jsonl:1:2: expected a JSON event object"),
            ("{\"type\":\"ok\",\"f\":2}\n", "h.jsonl:1:18: `f` must be a string, found an integer"),
            ("{\"type\":\"ok\",\"type\":\"ok\"}\n", "h.jsonl:1:14: duplicate field `type`"),
            ("{\"f\":\"read\",\"process\":0}\n", "h.jsonl:1:1: missing `type`"),
            ("{\"type\":\"ok\",\"f\":\"é\",\"process\":0} x\n", "h.jsonl:1:35: unexpected `x` after the event object"),
            (
                "{\"type\":\"invoke\",\"f\":\"read\",\"process\":0}\n{\"photofinish\":{}}\n",
                "h.jsonl:2:1: a header (an object with `photofinish` and no `type`) may only be the first record",
            ),
            ("{\"photofinish\":{\"seed\":\"x\"}}\n", "h.jsonl:1:1: the header field `seed` must be an integer"),
            (
                "{\"type\":\"ok\",\"f\":\"read\",\"process\":0,\"time\":1e30}\n",
                "h.jsonl:1:44: `time` does not fit in 64 bits",
            ),
        ];
        for (text, want) in cases {
            let err = error(text);
            assert!(err.starts_with(want), "{text:?}\n got: {err}\nwant: {want}");
        }
    }

    #[test]
    fn quoted_text_is_escaped_and_clipped() {
        let err = error("{\"type\":\"\\u001b[2J\\u001b[Hinvoke\",\"f\":\"read\",\"process\":0}\n");
        assert!(err.contains("found `\\u{1b}[2J\\u{1b}[Hinvoke`"), "{err}");
        let huge = "y".repeat(10 << 20);
        let err = error(&format!(
            "{{\"type\":\"{huge}\",\"f\":\"read\",\"process\":0}}\n"
        ));
        assert!(err.len() < 300, "{}", err.len());
        assert!(err.contains("... (10485760 bytes)"), "{err}");
        let err = error("{\"type\":\"ok\",\"f\":\"read\",\"process\":\"\\u001b[2Jnem\"}\n");
        assert!(!err.contains('\u{1b}') && err.contains("\\u{1b}"), "{err}");
    }

    #[test]
    fn a_torn_last_line_is_a_warning() {
        let h = read_jsonl(
            "{\"type\":\"invoke\",\"f\":\"read\",\"process\":0}\n{\"type\":\"ok\",\"f\":\"re",
        )
        .unwrap();
        assert_eq!(h.operations.len(), 1);
        assert_eq!(h.operations[0].outcome, Outcome::Pending);
        assert_eq!(h.warnings.len(), 1);
        assert!(
            h.warnings[0].starts_with("h.jsonl:2: ignored a torn last line ("),
            "{}",
            h.warnings[0]
        );
        // A whole object needs no newline; a malformed one is an error, newline or not.
        let h = read_jsonl("{\"type\":\"invoke\",\"f\":\"read\",\"process\":0}").unwrap();
        assert_eq!((h.operations.len(), h.warnings.len()), (1, 0));
        assert!(read_jsonl("{\"type\":\"invoke\",\"f\":\"read\",\"process\":0,,").is_err());
    }

    #[test]
    fn reads_every_line_ending_and_a_byte_order_mark() {
        let events = [
            r#"{"type":"invoke","f":"write","value":1,"process":0}"#,
            r#"{"type":"ok","f":"write","value":1,"process":0}"#,
            r#"{"type":"invoke","f":"read","value":null,"process":1}"#,
        ];
        for ending in ["\n", "\r\n", "\r"] {
            for bom in ["", "\u{feff}"] {
                let text = format!("{bom}{}{ending}", events.join(ending));
                for format in [None, Some(Format::JsonLines)] {
                    let h = read_str(&text, "h.jsonl", format).unwrap();
                    assert_eq!(h.event_count, 3, "{ending:?} {bom:?}");
                    assert_eq!(h.operations[1].invoke_line, 3, "{ending:?}");
                    assert!(h.warnings.is_empty());
                }
            }
        }
    }

    #[test]
    fn a_header_is_the_first_record_and_keeps_line_numbers() {
        let h = read_jsonl(concat!(
            "\n",
            r#"{"photofinish":{"version":"0.1.0","model":"counter","init":0,"workload":"counter","target":"redis","seed":7,"options":{"clients":4}}}"#,
            "\n",
            r#"{"type":"invoke","f":"add","value":1,"process":0}"#,
            "\n",
        ))
        .unwrap();
        let header = h.header.as_ref().unwrap();
        assert_eq!(header.model.as_deref(), Some("counter"));
        assert_eq!(header.seed, Some(7));
        assert_eq!(header.init, Some(Value::Int(0)));
        assert_eq!(h.event_count, 1);
        assert_eq!(h.operations[0].invoke_line, 3);
    }

    #[test]
    fn integers_are_exact() {
        let h = read_jsonl(concat!(
            r#"{"type":"invoke","process":0,"f":"write","value":18446744073709551615}"#,
            "\n",
            r#"{"type":"ok","process":0,"f":"write","value":18446744073709551614}"#,
            "\n",
        ))
        .unwrap();
        assert_ne!(h.operations[0].value, h.operations[0].result);
        assert_eq!(
            h.operations[0].result.to_json_string(),
            "18446744073709551614"
        );
    }

    #[test]
    fn an_endless_line_is_an_error_not_an_abort() {
        let zeros = std::io::Read::take(std::io::repeat(0), 40 << 20);
        let err = read(
            std::io::BufReader::new(zeros),
            "/dev/zero",
            Some(Format::JsonLines),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "/dev/zero:1:1: the line is longer than 16 MiB, the most one record may hold"
        );
    }

    /// Lines enough that they are parsed in parallel, several batches of them.
    fn many_events(count: usize) -> Vec<String> {
        (0..count)
            .map(|i| {
                let p = i / 2 % 7;
                let kind = if i % 2 == 0 { "invoke" } else { "ok" };
                format!(r#"{{"type":"{kind}","f":"write","value":{i},"process":{p},"index":{i}}}"#)
            })
            .collect()
    }

    #[test]
    fn a_long_history_names_its_first_fault_whatever_the_batches() {
        let mut lines = many_events(40_000);
        let h = read_jsonl(&(lines.join("\n") + "\n")).unwrap();
        assert_eq!((h.event_count, h.operations.len()), (40_000, 20_000));
        assert_eq!(h.operations[19_999].complete_line, Some(40_000));
        assert_eq!(h.operations[12_345].value, Value::Int(24_690));
        // A bad line late in one batch and another early in the next: the first is reported.
        lines[20_000] = r#"{"type":"ok","f":"write","value":1,"process":0,}"#.to_string();
        lines[30_000] = "{".to_string();
        lines[17_000] = r#"{"type":"ok","f":"write","value":1.5,"process":"x"}"#.to_string();
        let err = error(&(lines.join("\r\n") + "\r\n"));
        assert!(
            err.starts_with("h.jsonl:17001:48: `process` must be an integer"),
            "{err}"
        );
        // A pairing error comes before a later parse error.
        let mut lines = many_events(10_000);
        lines[5_000] = r#"{"type":"ok","f":"write","value":1,"process":6}"#.to_string();
        lines[9_000] = "[".to_string();
        let err = error(&lines.join("\n"));
        assert!(err.starts_with("h.jsonl:5001:1: `ok` completion"), "{err}");
    }

    #[test]
    fn a_long_history_keeps_its_torn_last_line_and_header_rules() {
        let lines = many_events(3_001);
        let torn = lines.join("\n");
        let torn = &torn[..torn.len() - 10];
        let h = read_jsonl(torn).unwrap();
        assert_eq!(h.event_count, 3_000);
        assert_eq!(h.warnings.len(), 1);
        assert!(h.warnings[0].starts_with("h.jsonl:3001: ignored a torn last line"));
        let header = r#"{"photofinish":{"model":"register"}}"#;
        let h = read_jsonl(&format!("\n \n{header}\n{}\n", lines.join("\n"))).unwrap();
        assert_eq!(h.header.unwrap().model.as_deref(), Some("register"));
        assert_eq!(h.operations[0].invoke_line, 4);
        let err = error(&format!("{}\n{header}\n", lines.join("\n")));
        assert!(err.starts_with("h.jsonl:3002:1: a header"), "{err}");
        let long = format!("{}\n{}\n", lines.join("\n"), "x".repeat(100));
        let err = read_with(
            long.as_bytes(),
            "h.jsonl",
            &crate::ReadOptions {
                format: Some(Format::JsonLines),
                max_record_bytes: 90,
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("h.jsonl:3002:1: the line is longer than 90 bytes"),
            "{err}"
        );
    }
}
