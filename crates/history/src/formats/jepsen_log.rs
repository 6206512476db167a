//! Jepsen's log: the line `jepsen.util` logs for each operation, among the rest of a test's
//! output, e.g. `INFO  jepsen.util - 3 :invoke :cas [1 4]` with tabs between the fields.
//!
//! Older tests, and tools that post-process logs, separate the fields with runs of spaces
//! instead, so any run of blanks separates them.

use std::io::BufRead;

use super::{edn, read_lines, LineFault, Torn};
use crate::text::quote;
use crate::{Event, EventKind, HistoryBuilder, Position, Process, ReadError, Value};

/// What precedes the fields of an operation; lines without it are the test's other output.
const MARKER: &[u8] = b"jepsen.util - ";

/// Reads the operations of a Jepsen log. Lines longer than `max` bytes are an error.
///
/// The fields of a line do not say where they end (`:ok :write 12` may be `:ok :write 123` cut
/// short), so a last line without its newline is always taken as torn: dropped, with a warning.
pub fn read_into<R: BufRead>(
    input: R,
    builder: &mut HistoryBuilder,
    max: usize,
) -> Result<(), ReadError> {
    let finder = memchr::memmem::Finder::new(MARKER);
    read_lines(input, builder, max, Torn::Always, |line, line_no, _| {
        let Some(marker) = finder.find(line) else {
            return Ok(None);
        };
        parse_op(line, line_no, marker + MARKER.len())
            .map(Some)
            .map_err(|(column, message)| LineFault {
                column,
                message,
                at_end: false,
            })
    })
}

/// The 1-based column, in characters, of byte `offset` of `line`.
fn column(line: &str, offset: usize) -> usize {
    line[..offset].chars().count() + 1
}

/// Parses the fields that start at byte `start` of line `line_no`; an error carries its column.
fn parse_op(line: &[u8], line_no: usize, start: usize) -> Result<Event, (usize, String)> {
    let line = std::str::from_utf8(line).map_err(|e| {
        let valid = e.valid_up_to();
        // Lossless: the bytes before `valid_up_to` are valid UTF-8.
        let prefix = String::from_utf8_lossy(&line[..valid]);
        (prefix.chars().count() + 1, "invalid UTF-8".to_string())
    })?;
    let mut fields = Fields { line, pos: start };

    let (at, text) = fields.next("a process (an integer or :nemesis)")?;
    let process = match text {
        ":nemesis" | "nemesis" => Process::Nemesis,
        _ => Process::Client(text.parse().map_err(|_| {
            (
                at,
                format!(
                    "expected a process (an integer or :nemesis), found `{}`",
                    quote(text)
                ),
            )
        })?),
    };

    let (at, text) = fields.next("a type (:invoke, :ok, :fail or :info)")?;
    let kind = EventKind::parse(text.strip_prefix(':').unwrap_or(text)).ok_or_else(|| {
        (
            at,
            format!(
                "expected a type (:invoke, :ok, :fail or :info), found `{}`",
                quote(text)
            ),
        )
    })?;

    let (_, text) = fields.next("a function such as :read")?;
    let f = text.strip_prefix(':').unwrap_or(text).to_string();

    let rest = line[fields.pos..].trim_start();
    let rest_at = column(line, line.len() - rest.len());
    let rest = rest.trim_end();
    let value = if rest.is_empty() {
        Value::Null
    } else {
        let at = Position {
            line: line_no,
            column: rest_at,
        };
        edn::parse_value_at(rest, at).map_err(|(at, message)| (at.column, message))?
    };
    // Jepsen logs the reason an operation failed or timed out in place of its value
    // (`:info :write :timed-out`); keeping it as the error shows it in reports.
    let error = match (&value, kind) {
        (Value::Str(_), EventKind::Fail | EventKind::Info) if rest.starts_with(':') => {
            Some(value.clone())
        }
        _ => None,
    };
    Ok(Event {
        kind,
        process,
        f,
        value,
        key: None,
        time: None,
        error,
    })
}

/// The blank-separated fields of a line.
struct Fields<'a> {
    line: &'a str,
    pos: usize,
}

impl<'a> Fields<'a> {
    /// The next field and its column; `what` names it if the line ends first.
    fn next(&mut self, what: &str) -> Result<(usize, &'a str), (usize, String)> {
        let rest = &self.line[self.pos..];
        let text = rest.trim_start_matches([' ', '\t']);
        let start = self.pos + rest.len() - text.len();
        let len = text.find(|c: char| c.is_whitespace()).unwrap_or(text.len());
        self.pos = start + len;
        let at = column(self.line, start);
        if len == 0 {
            return Err((at, format!("expected {what}, found the end of the line")));
        }
        Ok((at, &text[..len]))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::{read, read_str, Format, History, Outcome, Value};

    fn read_log(text: &str) -> Result<History, crate::ReadError> {
        read_str(text, "h.log", Some(Format::JepsenLog))
    }

    #[test]
    fn reads_tab_and_space_separated_lines() {
        let h = read_log(concat!(
            "2024-01-01 INFO  jepsen.core - Running test\n",
            "INFO  jepsen.util - 3\t:invoke\t:cas\t[1 4]\n",
            "\n",
            "INFO  jepsen.util - 0   :invoke :write  3\n",
            "INFO  jepsen.util - 3\t:ok\t:cas\t[1 4]\n",
            "INFO  jepsen.util - 0  :ok     :write  3   \r\n",
            "INFO  jepsen.util - 14\t:invoke\t:read\tnil\n",
            "INFO  jepsen.util - 14\t:ok\t:read\tnil\n",
            "INFO  jepsen.util - 2\t:invoke\t:read\n",
            "some other output\n",
        ))
        .unwrap();
        assert_eq!(h.event_count, 7);
        let ops = &h.operations;
        assert_eq!(ops.len(), 4);
        assert_eq!((ops[0].process, ops[0].f.as_str()), (3, "cas"));
        assert_eq!(ops[0].value, Value::List(vec![1.into(), 4.into()]));
        assert_eq!(
            (ops[0].outcome, ops[0].invoke_line, ops[0].complete_line),
            (Outcome::Ok, 2, Some(5))
        );
        assert_eq!(
            (ops[1].value.clone(), ops[1].result.clone()),
            (3.into(), 3.into())
        );
        assert_eq!(
            (ops[2].result.clone(), ops[2].outcome),
            (Value::Null, Outcome::Ok)
        );
        assert_eq!(
            (ops[3].value.clone(), ops[3].outcome),
            (Value::Null, Outcome::Pending)
        );
        assert!(ops.iter().all(|op| op.error.is_none()));
    }

    #[test]
    fn timeouts_become_errors() {
        let h = read_log(concat!(
            "INFO  jepsen.util - 37\t:invoke\t:write\t2\n",
            "INFO  jepsen.util - 37\t:info\t:write\t:timed-out\n",
            "INFO  jepsen.util - 5\t:invoke\t:read\tnil\n",
            "INFO  jepsen.util - 5\t:fail\t:read\t:timed-out\n",
            "INFO  jepsen.util - 6\t:invoke\t:read\tnil\n",
            "INFO  jepsen.util - 6\t:ok\t:read\t\"timed-out\"\n",
        ))
        .unwrap();
        let ops = &h.operations;
        let timed_out = Some(Box::new(Value::Str("timed-out".into())));
        assert_eq!((ops[0].outcome, &ops[0].error), (Outcome::Info, &timed_out));
        assert_eq!(
            (&ops[0].value, &ops[0].result),
            (&2.into(), &Value::Str("timed-out".into()))
        );
        assert_eq!((ops[1].outcome, &ops[1].error), (Outcome::Fail, &timed_out));
        assert_eq!((ops[2].outcome, &ops[2].error), (Outcome::Ok, &None));
    }

    #[test]
    fn reads_nemesis_lines() {
        let h = read_log(concat!(
            "INFO [2024-01-01 00:00:00,000] jepsen nemesis - jepsen.util - :nemesis\t:info\t:start\tnil\n",
            "INFO  jepsen.util - :nemesis\t:info\t:start\t{:n1 #{:n2 :n3}}\n",
            "INFO  jepsen.util - nemesis :info :stop \"fully connected\"\n",
        ))
        .unwrap();
        assert!(h.operations.is_empty());
        assert_eq!(h.nemesis.len(), 3);
        assert_eq!(h.nemesis[2].value, Value::Str("fully connected".into()));
        assert_eq!(h.nemesis[1].line, 2);
    }

    #[test]
    fn errors_name_line_and_column() {
        let cases: &[(&str, &str)] = &[
            (
                "INFO  jepsen.util - x\t:invoke\t:read\tnil\n",
                "h.log:1:21: expected a process (an integer or :nemesis), found `x`",
            ),
            (
                "INFO  jepsen.util - 1\t:begin\t:read\tnil\n",
                "h.log:1:23: expected a type (:invoke, :ok, :fail or :info), found `:begin`",
            ),
            (
                "\nINFO  jepsen.util - 1\t:invoke\t:cas\t[1 4\n",
                "h.log:2:40: expected `]` to close the vector opened at 2:36",
            ),
            (
                "INFO  jepsen.util - 1   :invoke :cas   [1 4] 5\n",
                "h.log:1:46: unexpected `5` after the value",
            ),
            (
                "INFO  jepsen.util - 1\t:invoke\n",
                "h.log:1:30: expected a function such as :read, found the end of the line",
            ),
            ("INFO  jepsen.util - \n", "h.log:1:21: expected a process"),
            (
                "INFO  jepsen.util - 1\t:ok\t:read\t1\n",
                "h.log:1:1: `ok` completion of `read` by process 1 has no matching invoke",
            ),
            (
                "INFO é jepsen.util - 1\t:invoke\t:read\t\"\u{e9}\u{e9}\" x\n",
                "h.log:1:43: unexpected `x`",
            ),
        ];
        for (text, want) in cases {
            let err = read_log(text).unwrap_err().to_string();
            assert!(err.starts_with(want), "{text:?}\n got: {err}\nwant: {want}");
        }
        let err = read(
            &b"INFO  jepsen.util - 1\t:invoke\t:read\t\"\xc3\xa9\xff\"\n"[..],
            "h.log",
            Some(Format::JepsenLog),
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("h.log:1:39: invalid UTF-8"), "{err}");
        // Other lines are skipped undecoded.
        assert!(read(&b"\xff\n"[..], "h.log", Some(Format::JepsenLog)).is_ok());
    }

    #[test]
    fn a_torn_last_line_is_a_warning() {
        let h = read_log(
            "INFO  jepsen.util - 1\t:invoke\t:cas\t[1 4]\nINFO  jepsen.util - 1\t:ok\t:cas\t[1",
        )
        .unwrap();
        assert_eq!(h.operations[0].outcome, Outcome::Pending);
        assert_eq!(h.warnings.len(), 1);
        assert!(
            h.warnings[0].starts_with("h.log:2: ignored a torn last line ("),
            "{}",
            h.warnings[0]
        );
        // A last line that parses is torn all the same: `12` may be `123` cut short.
        for last in [":ok\t:cas\t[1 4]", ":ok\t:read\t12", ":ok\t:wri", ":ok"] {
            let h = read_log(&format!(
                "INFO  jepsen.util - 1\t:invoke\t:cas\t[1 4]\r\nINFO  jepsen.util - 1\t{last}"
            ))
            .unwrap();
            assert_eq!(h.operations[0].outcome, Outcome::Pending, "{last}");
            assert_eq!(h.warnings.len(), 1, "{last}");
            assert!(
                h.warnings[0].starts_with("h.log:2: ignored a torn last line ("),
                "{last}"
            );
        }
        // Other output on the last line is not an operation.
        let h = read_log("INFO  jepsen.util - 1\t:invoke\t:cas\t[1 4]\nINFO  jepsen.core - done")
            .unwrap();
        assert!(h.warnings.is_empty());
    }

    proptest! {
        #[test]
        fn random_input_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = read(bytes.as_slice(), "h.log", Some(Format::JepsenLog));
            let mut line = b"INFO  jepsen.util - ".to_vec();
            line.extend_from_slice(&bytes);
            let _ = read(line.as_slice(), "h.log", Some(Format::JepsenLog));
        }

        #[test]
        fn random_fields_never_panic(text in r##"[0-9:a-z \t\[\]{}"#\\é\n-]{0,60}"##) {
            let _ = read_log(&format!("INFO  jepsen.util - {text}"));
        }
    }
}
