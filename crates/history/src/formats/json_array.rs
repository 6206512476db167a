//! A JSON array of events: `[{"process": 94, "type": "invoke", "f": "read", "value": null},
//! ...]`, on one line or spread over many, as elle-cli and Jepsen write JSON histories.
//!
//! Such files run to millions of events, so the array is never held whole: each element is
//! copied out of the stream up to its closing brace (at most the record bound), parsed, and
//! handed to the builder. Copying needs only to find where the element ends (the brace that
//! balances its opening one, outside strings); the parser then checks it, and any error points
//! into the file.

use std::io::{self, BufRead};

use super::json::{self, locate};
use super::jsonl::event_or_header;
use super::{io_error, show_bytes};
use crate::{HistoryBuilder, Position, ReadError};

pub(super) fn read_into<R: BufRead>(
    input: R,
    builder: &mut HistoryBuilder,
    max: usize,
) -> Result<(), ReadError> {
    let mut stream = Stream {
        input,
        at: Position { line: 1, column: 1 },
        after_cr: false,
    };
    let io = |builder: &HistoryBuilder, e| io_error(builder, e);
    let invalid = |builder: &HistoryBuilder, at, message: String| {
        Err(ReadError::invalid(builder.origin(), at, message))
    };
    stream.skip_blank().map_err(|e| io(builder, e))?;
    let open_at = stream.at;
    match stream.peek().map_err(|e| io(builder, e))? {
        Some(b'[') => stream.bump(b'['),
        found => {
            return invalid(
                builder,
                open_at,
                format!(
                    "expected `[` to open a JSON array of events, found {}",
                    describe(found)
                ),
            )
        }
    }
    let mut element = Vec::new();
    let mut count = 0usize;
    loop {
        stream.skip_blank().map_err(|e| io(builder, e))?;
        let at = stream.at;
        match stream.peek().map_err(|e| io(builder, e))? {
            Some(b']') if count == 0 => {
                stream.bump(b']');
                break;
            }
            Some(b'{') => {}
            None => {
                builder.warn(format!(
                    "{}:{}: the JSON array opened at {open_at} ends without its `]` (a torn end?); the events before were read",
                    builder.origin(),
                    at.line
                ));
                return Ok(());
            }
            found => {
                let what = if count == 0 {
                    "a JSON event object (`{\"type\": ...}`) or `]`"
                } else {
                    "a JSON event object (`{\"type\": ...}`) after `,`"
                };
                return invalid(
                    builder,
                    at,
                    format!("expected {what}, found {}", describe(found)),
                );
            }
        }
        let end = stream
            .capture(&mut element, max)
            .map_err(|e| io(builder, e))?;
        let position = |offset| locate(&element, offset, at);
        let object = match json::parse_event_object(&element, "the end of the input") {
            Ok(object) if end == Capture::Closed => object,
            Err(fault) if end == Capture::Closed || !fault.at_end => {
                return invalid(builder, position(fault.offset), fault.message)
            }
            Ok(_) | Err(_) if end == Capture::TooLong => {
                return invalid(
                    builder,
                    at,
                    format!(
                        "the element is longer than {}, the most one record may hold",
                        show_bytes(max)
                    ),
                )
            }
            Ok(_) | Err(_) => {
                let reason = match json::parse_event_object(&element, "the end of the input") {
                    Err(fault) => fault.message,
                    Ok(_) => "the input ends inside it".to_string(),
                };
                builder.warn(format!(
                    "{}:{}: ignored a torn last event ({reason})",
                    builder.origin(),
                    at.line
                ));
                return Ok(());
            }
        };
        let event = event_or_header(object, count == 0, builder).map_err(|(offset, message)| {
            ReadError::invalid(builder.origin(), position(offset), message)
        })?;
        if let Some(event) = event {
            builder.push(event, at)?;
        }
        count += 1;
        stream.skip_blank().map_err(|e| io(builder, e))?;
        let after = stream.at;
        match stream.peek().map_err(|e| io(builder, e))? {
            Some(b',') => stream.bump(b','),
            Some(b']') => {
                stream.bump(b']');
                break;
            }
            None => {
                builder.warn(format!(
                    "{}:{}: the JSON array opened at {open_at} ends without its `]` (a torn end?); the events before were read",
                    builder.origin(),
                    after.line
                ));
                return Ok(());
            }
            found => {
                return invalid(
                    builder,
                    after,
                    format!(
                        "expected `,` or `]` after an event of the array, found {}",
                        describe(found)
                    ),
                )
            }
        }
    }
    stream.skip_blank().map_err(|e| io(builder, e))?;
    let at = stream.at;
    match stream.peek().map_err(|e| io(builder, e))? {
        None => Ok(()),
        found => invalid(
            builder,
            at,
            format!(
                "unexpected {} after the array's closing `]`",
                describe(found)
            ),
        ),
    }
}

/// A byte of the input as a message names it.
fn describe(b: Option<u8>) -> String {
    match b {
        None => "the end of the input".to_string(),
        Some(b) if b.is_ascii_graphic() => format!("`{}`", b as char),
        Some(b) => format!("byte 0x{b:02x}"),
    }
}

/// How copying an element ended.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Capture {
    /// At its closing brace.
    Closed,
    /// At the end of the input, before its closing brace.
    Eof,
    /// At the bound, before its closing brace.
    TooLong,
}

/// The input, and the position of its next byte.
struct Stream<R> {
    input: R,
    at: Position,
    /// The last byte consumed was `\r`: a `\n` right after it ends the same line.
    after_cr: bool,
}

impl<R: BufRead> Stream<R> {
    fn peek(&mut self) -> io::Result<Option<u8>> {
        loop {
            match self.input.fill_buf() {
                Ok(chunk) => return Ok(chunk.first().copied()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Consumes `b`, the byte `peek` returned.
    fn bump(&mut self, b: u8) {
        self.input.consume(1);
        self.advance(&[b]);
    }

    fn skip_blank(&mut self) -> io::Result<()> {
        while let Some(b @ (b' ' | b'\t' | b'\n' | b'\r')) = self.peek()? {
            self.bump(b);
        }
        Ok(())
    }

    /// Moves the position past `bytes`, just consumed.
    fn advance(&mut self, bytes: &[u8]) {
        let Some(&last) = bytes.last() else { return };
        let mut line_start = None;
        for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
            let previous_cr = if i == 0 {
                self.after_cr
            } else {
                bytes[i - 1] == b'\r'
            };
            if !(bytes[i] == b'\n' && previous_cr) {
                self.at.line += 1;
            }
            line_start = Some(i + 1);
        }
        let chars = |bytes: &[u8]| bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count();
        match line_start {
            Some(start) => self.at.column = 1 + chars(&bytes[start..]),
            None => self.at.column += chars(bytes),
        }
        self.after_cr = last == b'\r';
    }

    /// Copies the element that starts here (at `{`) into `out`, through its closing brace.
    fn capture(&mut self, out: &mut Vec<u8>, max: usize) -> io::Result<Capture> {
        out.clear();
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                return Ok(Capture::Eof);
            }
            let mut end = None;
            let mut i = 0;
            // A byte at a time: the strings of an event are short, so a search for the next
            // quote costs more than it skips.
            while i < chunk.len() {
                let b = chunk[i];
                i += 1;
                if in_string {
                    if escaped {
                        // A backslash escapes the next byte, whatever it is.
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                    }
                    continue;
                }
                // Outside strings only braces matter: the element is an object, and whether its
                // brackets match is for the parser to say.
                match b {
                    b'"' => in_string = true,
                    b'{' => depth += 1,
                    b'}' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            end = Some(i);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let n = end.unwrap_or(chunk.len());
            let room = max.saturating_sub(out.len());
            let take = n.min(room);
            let from = out.len();
            out.extend_from_slice(&chunk[..take]);
            self.input.consume(take);
            self.advance(&out[from..]);
            if take < n {
                return Ok(Capture::TooLong);
            }
            if end.is_some() {
                return Ok(Capture::Closed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{read, read_str, Format, History, Outcome, ReadOptions};

    fn read_array(text: &str) -> Result<History, crate::ReadError> {
        read_str(text, "h.json", None)
    }

    fn error(text: &str) -> String {
        match read_str(text, "h.json", Some(Format::JsonLines)) {
            Ok(h) => panic!("expected an error, read {} events", h.event_count),
            Err(e) => e.to_string(),
        }
    }

    const INVOKE: &str =
        r#"{"process":0,"type":"invoke","f":"write","value":[1, "}\"{"],"index":0,"node":"n1"}"#;
    const OK: &str = r#"{"process":0,"type":"ok","f":"write","value":[1, "}\"{"],"index":1}"#;

    #[test]
    fn reads_one_line_and_many() {
        for text in [
            format!("[{INVOKE},{OK}]"),
            format!("[\n  {INVOKE},\n  {OK}\n]\n"),
            format!("  [ {INVOKE} ,\r\n{OK}]"),
        ] {
            for format in [None, Some(Format::JsonLines)] {
                let h = read_str(&text, "h.json", format).unwrap_or_else(|e| panic!("{e}\n{text}"));
                assert_eq!(h.event_count, 2);
                assert_eq!(h.operations[0].outcome, Outcome::Ok);
                assert_eq!(h.operations[0].value.to_json_string(), r#"[1,"}\"{"]"#);
                assert!(h.warnings.is_empty(), "{:?}", h.warnings);
            }
        }
        let h = read_array(&format!("[\n  {INVOKE},\n  {OK}\n]\n")).unwrap();
        assert_eq!(
            (h.operations[0].invoke_line, h.operations[0].complete_line),
            (2, Some(3))
        );
        assert_eq!(read_array("[]").unwrap().event_count, 0);
        assert_eq!(read_array(" [ \n ] \n").unwrap().event_count, 0);
    }

    #[test]
    fn reads_pretty_printed_elements() {
        let text = "[\n  {\n    \"process\": 0,\n    \"type\": \"invoke\",\n    \"f\": \"read\",\n    \"value\": null\n  },\n  {\n    \"process\": 0,\n    \"type\": \"ok\",\n    \"f\": \"read\",\n    \"value\": 3\n  }\n]\n";
        let h = read_array(text).unwrap();
        assert_eq!(
            (h.operations[0].invoke_line, h.operations[0].complete_line),
            (2, Some(8))
        );
        let err = error(&text.replace("\"value\": 3", "\"value\": 3,"));
        assert!(
            err.starts_with("h.json:13:3: expected a field name (a string), found `}`"),
            "{err}"
        );
    }

    #[test]
    fn errors_name_line_and_column() {
        let cases: &[(String, &str)] = &[
            (format!("[{INVOKE}\n {OK},]"), "h.json:2:"),
            (
                format!("[{INVOKE},\n ]"),
                "h.json:2:2: expected a JSON event object (`{\"type\": ...}`) after `,`, found `]`",
            ),
            (format!("[{INVOKE} {OK}]"), "h.json:1:"),
            (
                "[1]".to_string(),
                "h.json:1:2: expected a JSON event object (`{\"type\": ...}`) or `]`, found `1`",
            ),
            (format!("[{INVOKE}] x"), "h.json:1:"),
            (
                format!("[{INVOKE},\n{{\"process\":0,\"type\":\"ok\",\"f\":\"write\" \n,{OK}]"),
                "h.json:3:2: expected a field name (a string), found `{`",
            ),
            (
                "[{\"process\":0,\"type\":\"nope\",\"f\":\"r\"}]".to_string(),
                "h.json:1:22: `type` must be invoke, ok, fail or info, found `nope`",
            ),
        ];
        for (text, want) in cases {
            let err = error(text);
            assert!(err.starts_with(want), "{text:?}\n got: {err}\nwant: {want}");
        }
    }

    #[test]
    fn a_torn_end_is_a_warning() {
        let h = read_array(&format!("[{INVOKE},\n {OK}")).unwrap();
        assert_eq!(h.operations[0].outcome, Outcome::Ok);
        assert!(
            h.warnings[0]
                .starts_with("h.json:2: the JSON array opened at 1:1 ends without its `]`"),
            "{:?}",
            h.warnings
        );
        for cut in [15, 30, OK.len() - 1] {
            let h = read_array(&format!("[{INVOKE},\n {}", &OK[..cut])).unwrap();
            assert_eq!(h.operations[0].outcome, Outcome::Pending, "{cut}");
            assert!(
                h.warnings[0].starts_with("h.json:2: ignored a torn last event ("),
                "{:?}",
                h.warnings
            );
        }
    }

    #[test]
    fn elements_are_bounded() {
        let options = ReadOptions {
            format: None,
            max_record_bytes: 200,
        };
        let long = format!(
            "[{INVOKE}, {{\"process\":0,\"type\":\"ok\",\"f\":\"{}\"}}]",
            "x".repeat(1000)
        );
        let err = crate::read_with(long.as_bytes(), "h.json", &options)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "h.json:1:{}: the element is longer than 200 bytes, the most one record may hold"
                .replace("{}", &(INVOKE.chars().count() + 4).to_string())
        );
        let one_line = format!("[{}]", [INVOKE, OK].repeat(50).join(","));
        // The bound is on each element, not on a line: a one-line array may be any length.
        assert_eq!(
            crate::read_with(one_line.as_bytes(), "h.json", &options)
                .unwrap()
                .event_count,
            100
        );
        let paired: Vec<String> = (0..50)
            .flat_map(|p| {
                [
                    INVOKE.replace("\"process\":0", &format!("\"process\":{p}")),
                    OK.replace("\"process\":0", &format!("\"process\":{p}")),
                ]
            })
            .collect();
        let h = crate::read_with(
            format!("[{}]", paired.join(",")).as_bytes(),
            "h.json",
            &options,
        )
        .unwrap();
        assert_eq!(h.event_count, 100);
    }

    #[test]
    fn a_header_may_be_the_first_element() {
        let h = read_array(&format!(
            "[{{\"photofinish\":{{\"model\":\"register\"}}}},\n{INVOKE}]"
        ))
        .unwrap();
        assert_eq!(h.header.unwrap().model.as_deref(), Some("register"));
        assert_eq!(h.operations[0].invoke_line, 2);
    }

    #[test]
    fn reads_a_slow_stream() {
        let text = format!("\u{feff}[\n{INVOKE},\r{OK}]");
        let h = read(
            std::io::BufReader::with_capacity(1, text.as_bytes()),
            "-",
            None,
        )
        .unwrap();
        assert_eq!(
            (h.operations[0].invoke_line, h.operations[0].complete_line),
            (2, Some(3))
        );
    }
}
