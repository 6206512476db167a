//! A JSON parser for history events and values, written for what the readers need and serde_json
//! does not give: integers of any size kept exact (serde_json turns those above `u64::MAX` into
//! floats), the byte offset of every error, a bound on nesting, and the fields of an event taken
//! in one pass with `type` and `f` borrowed from the input.
//!
//! It parses one complete text held in memory: a line of JSON Lines, an element of a JSON array
//! or a literal given to `--init`. The readers bound how long that text may be.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::Fields;
use crate::text::quote;
use crate::{Float, Position, Value};

/// Values nest a few levels in real histories; the parser recurses once per level, and the cap
/// turns hostile input into an error instead of overflowing the stack.
pub(crate) const MAX_DEPTH: usize = 256;

/// The bytes that end a run of a string's plain characters: its closing quote, an escape, and
/// the control characters JSON does not allow raw. Looked up rather than compared, as every
/// byte of every string is.
const ENDS_PLAIN_STRING: [bool; 256] = {
    let mut ends = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        ends[b] = true;
        b += 1;
    }
    ends[b'"' as usize] = true;
    ends[b'\\' as usize] = true;
    ends
};

/// A problem found at byte `offset` of the text.
#[derive(Debug)]
pub(crate) struct Fault {
    pub offset: usize,
    pub message: String,
    /// The text ended before the value did: at the end of a history, a torn write.
    pub at_end: bool,
}

/// A problem with a column, for [`crate::Value::from_json_str`].
pub(crate) struct ValueFault {
    pub column: usize,
    pub message: String,
}

/// Parses a text that holds exactly one JSON value.
pub(crate) fn parse_value(bytes: &[u8]) -> Result<Value, ValueFault> {
    let mut parser = Parser::new(bytes, "the end of the text", false);
    let result = parser.value(0).and_then(|value| {
        parser.skip_blank();
        match parser.peek() {
            None => Ok(value),
            Some(_) => Err(parser.fault(format!(
                "unexpected {} after the value",
                parser.describe_here()
            ))),
        }
    });
    result.map_err(|fault| ValueFault {
        column: locate(bytes, fault.offset, Position { line: 1, column: 1 }).column,
        message: fault.message,
    })
}

/// One JSON object read as an event: its fields, or the header that `photofinish` writes on the
/// first line of a history it records.
pub(crate) struct EventObject<'a> {
    pub fields: Fields<'a>,
    /// Where the values of `type`, `process` and `time` start, to point at the one that is wrong.
    pub offsets: [usize; 3],
    /// The value of a `photofinish` field: a header when the object has no `type`.
    pub header: Option<Value>,
}

/// Parses a text that holds exactly one JSON object (blanks around it allowed) as an event.
pub(crate) fn parse_event_object<'a>(
    bytes: &'a [u8],
    end_name: &'static str,
) -> Result<EventObject<'a>, Fault> {
    let mut parser = Parser::new(bytes, end_name, true);
    parser.skip_blank();
    let object = parser.event_object()?;
    parser.skip_blank();
    match parser.peek() {
        None => Ok(object),
        Some(_) => Err(parser.fault(format!(
            "unexpected {} after the event object",
            parser.describe_here()
        ))),
    }
}

/// The line and column of byte `offset` of `bytes`, which begin at `start`. Lines end at `\n`,
/// `\r\n` or a lone `\r`; columns count characters.
pub(crate) fn locate(bytes: &[u8], offset: usize, start: Position) -> Position {
    let before = &bytes[..offset.min(bytes.len())];
    let mut at = start;
    let mut line_start = 0;
    for i in memchr::memchr2_iter(b'\n', b'\r', before) {
        if before[i] == b'\r' && before.get(i + 1) == Some(&b'\n') {
            continue; // the `\n` that follows ends the line
        }
        at.line += 1;
        at.column = 1;
        line_start = i + 1;
    }
    let chars = before[line_start..]
        .iter()
        .filter(|&&b| b & 0xC0 != 0x80)
        .count();
    at.column += chars;
    at
}

struct Parser<'a> {
    bytes: &'a [u8],
    /// The same text, when it is all valid UTF-8 (as it nearly always is): checked once, so that
    /// each string is a slice of it rather than checked again.
    text: Option<&'a str>,
    pos: usize,
    /// How the end of the text is named in messages: "the end of the line", ...
    end_name: &'static str,
    /// Whether lists of integers become [`Value::Ints`], as in a history (not in a value given
    /// on the command line, which stays as written).
    compact_ints: bool,
}

impl<'a> Parser<'a> {
    fn new(bytes: &'a [u8], end_name: &'static str, compact_ints: bool) -> Parser<'a> {
        Parser {
            bytes,
            text: std::str::from_utf8(bytes).ok(),
            pos: 0,
            end_name,
            compact_ints,
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    #[inline]
    fn skip_blank(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn fault(&self, message: String) -> Fault {
        self.fault_at(self.pos, message)
    }

    fn fault_at(&self, offset: usize, message: String) -> Fault {
        Fault {
            offset,
            message,
            at_end: false,
        }
    }

    /// "expected X, found Y" at the current byte, or at the end of the text.
    fn expected(&self, what: &str) -> Fault {
        Fault {
            offset: self.pos,
            message: format!("expected {what}, found {}", self.describe_here()),
            at_end: self.pos >= self.bytes.len(),
        }
    }

    /// The token at the current byte, as a message quotes it.
    fn describe_here(&self) -> String {
        let rest = &self.bytes[self.pos.min(self.bytes.len())..];
        let Some(&b) = rest.first() else {
            return self.end_name.to_string();
        };
        if b.is_ascii_alphanumeric() {
            let len = rest
                .iter()
                .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')))
                .unwrap_or(rest.len());
            format!("`{}`", quote(&String::from_utf8_lossy(&rest[..len])))
        } else if b.is_ascii_graphic() {
            format!("`{}`", b as char)
        } else if b >= 0x80 {
            let len = rest.len().min(4);
            match std::str::from_utf8(&rest[..len])
                .or_else(|e| std::str::from_utf8(&rest[..e.valid_up_to()]))
            {
                Ok(text) if !text.is_empty() => {
                    format!("`{}`", quote(&text.chars().take(1).collect::<String>()))
                }
                _ => format!("byte 0x{b:02x} (invalid UTF-8)"),
            }
        } else {
            format!("byte 0x{b:02x}")
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, Fault> {
        self.skip_blank();
        let Some(b) = self.peek() else {
            return Err(self.expected("a value"));
        };
        match b {
            b'{' => {
                if depth >= MAX_DEPTH {
                    return Err(self.fault(format!("values nest deeper than {MAX_DEPTH} levels")));
                }
                self.object(depth)
            }
            b'[' => {
                if depth >= MAX_DEPTH {
                    return Err(self.fault(format!("values nest deeper than {MAX_DEPTH} levels")));
                }
                self.array(depth)
            }
            b'"' => Ok(Value::Str(self.string()?.into_owned())),
            b'-' | b'0'..=b'9' => self.number(),
            b't' => self.literal("true", Value::Bool(true)),
            b'f' => self.literal("false", Value::Bool(false)),
            b'n' => self.literal("null", Value::Null),
            _ => Err(self.expected("a value")),
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, Fault> {
        let rest = &self.bytes[self.pos..];
        if rest.starts_with(word.as_bytes()) {
            let after = rest.get(word.len()).copied();
            if !after.is_some_and(|b| b.is_ascii_alphanumeric()) {
                self.pos += word.len();
                return Ok(value);
            }
        } else if word.as_bytes().starts_with(rest) {
            // `tru` at the end of the text: cut short.
            return Err(Fault {
                offset: self.pos,
                message: format!(
                    "expected a value, found `{}`",
                    quote(&String::from_utf8_lossy(rest))
                ),
                at_end: true,
            });
        }
        Err(self.expected("a value"))
    }

    fn array(&mut self, depth: usize) -> Result<Value, Fault> {
        self.pos += 1; // `[`
        let mut items = Vec::new();
        self.skip_blank();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::List(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.skip_blank();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(if self.compact_ints {
                        Value::list(items)
                    } else {
                        Value::List(items)
                    });
                }
                _ => return Err(self.expected("`,` or `]` in a list")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, Fault> {
        self.pos += 1; // `{`
        let mut entries = BTreeMap::new();
        self.skip_blank();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Map(entries));
        }
        loop {
            self.skip_blank();
            if self.peek() != Some(b'"') {
                return Err(self.expected("a field name (a string)"));
            }
            let key = self.string()?.into_owned();
            self.colon()?;
            let value = self.value(depth + 1)?;
            // The last of duplicate names wins, as in serde_json and JavaScript.
            entries.insert(Value::Str(key), value);
            self.skip_blank();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Map(entries));
                }
                _ => return Err(self.expected("`,` or `}` in an object")),
            }
        }
    }

    fn colon(&mut self) -> Result<(), Fault> {
        self.skip_blank();
        if self.peek() == Some(b':') {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.expected("`:` after the field name"))
        }
    }

    /// The fields of an event object, known ones kept and the rest checked and dropped.
    fn event_object(&mut self) -> Result<EventObject<'a>, Fault> {
        if self.peek() != Some(b'{') {
            return Err(self.expected("a JSON event object (`{\"type\": ...}`)"));
        }
        self.pos += 1;
        let mut object = EventObject {
            fields: Fields::default(),
            offsets: [0; 3],
            header: None,
        };
        let mut seen = 0u8;
        self.skip_blank();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(object);
        }
        loop {
            self.skip_blank();
            if self.peek() != Some(b'"') {
                return Err(self.expected("a field name (a string)"));
            }
            let key_at = self.pos;
            let key = self.string()?;
            self.colon()?;
            self.skip_blank();
            let value_at = self.pos;
            let slot = match key.as_ref() {
                "type" => 0,
                "process" => 1,
                "f" => 2,
                "time" => 3,
                "value" => 4,
                "key" => 5,
                "error" => 6,
                "photofinish" => 7,
                _ => 8,
            };
            if slot < 8 {
                if seen & (1 << slot) != 0 {
                    return Err(self.fault_at(key_at, format!("duplicate field `{}`", quote(&key))));
                }
                seen |= 1 << slot;
            }
            let fields = &mut object.fields;
            match slot {
                0 | 2 => {
                    let text = if self.peek() == Some(b'"') {
                        Ok(self.string()?)
                    } else {
                        Err(self.value(1)?)
                    };
                    let name = if slot == 0 { "type" } else { "f" };
                    let text = text.map_err(|other| {
                        self.fault_at(
                            value_at,
                            format!("`{name}` must be a string, found {}", other.kind()),
                        )
                    })?;
                    if slot == 0 {
                        fields.kind = Some(text);
                        object.offsets[0] = value_at;
                    } else {
                        fields.f = Some(text);
                    }
                }
                1 => {
                    fields.process = Some(self.value(1)?);
                    object.offsets[1] = value_at;
                }
                3 => {
                    fields.time = Some(self.value(1)?);
                    object.offsets[2] = value_at;
                }
                4 => fields.value = self.value(1)?,
                5 => fields.key = Some(self.value(1)?),
                6 => fields.error = Some(self.value(1)?),
                7 => object.header = Some(self.value(1)?),
                _ => {
                    self.value(1)?;
                }
            }
            self.skip_blank();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(object);
                }
                _ => return Err(self.expected("`,` or `}` after a field of the event")),
            }
        }
    }

    /// A string, borrowed from the text unless it has escapes.
    fn string(&mut self) -> Result<Cow<'a, str>, Fault> {
        let open = self.pos;
        self.pos += 1; // `"`
        let start = self.pos;
        let plain = self.bytes[start..]
            .iter()
            .position(|&b| ENDS_PLAIN_STRING[b as usize]);
        let Some(len) = plain else {
            return Err(self.unterminated(open));
        };
        let end = start + len;
        if self.bytes[end] == b'"' {
            self.pos = end + 1;
            return Ok(Cow::Borrowed(self.utf8(start, end)?));
        }
        let mut text = String::with_capacity(len + 16);
        text.push_str(self.utf8(start, end)?);
        self.pos = end;
        loop {
            let Some(&b) = self.bytes.get(self.pos) else {
                return Err(self.unterminated(open));
            };
            match b {
                b'"' => {
                    self.pos += 1;
                    return Ok(Cow::Owned(text));
                }
                b'\\' => self.escape(&mut text)?,
                0..0x20 => return Err(self.raw_control(b)),
                _ => {
                    let start = self.pos;
                    let len = self.bytes[start..]
                        .iter()
                        .position(|&b| ENDS_PLAIN_STRING[b as usize])
                        .unwrap_or(self.bytes.len() - start);
                    text.push_str(self.utf8(start, start + len)?);
                    self.pos = start + len;
                }
            }
        }
    }

    fn unterminated(&mut self, open: usize) -> Fault {
        // A raw control character ends the string's scan too: name it rather than the end.
        let rest = &self.bytes[open + 1..];
        if let Some(i) = rest.iter().position(|&b| b < 0x20) {
            if !rest[..i].contains(&b'"') {
                self.pos = open + 1 + i;
                return self.raw_control(rest[i]);
            }
        }
        Fault {
            offset: self.bytes.len(),
            message: format!(
                "the string that opens at column {} is not closed before {}",
                locate(self.bytes, open, Position { line: 1, column: 1 }).column,
                self.end_name
            ),
            at_end: true,
        }
    }

    fn raw_control(&self, b: u8) -> Fault {
        self.fault(format!(
            "a raw control character (byte 0x{b:02x}) in a string; JSON writes it as \\u{b:04x}"
        ))
    }

    fn utf8(&self, start: usize, end: usize) -> Result<&'a str, Fault> {
        if let Some(text) = self.text.and_then(|text| text.get(start..end)) {
            return Ok(text);
        }
        let bytes: &'a [u8] = self.bytes;
        std::str::from_utf8(&bytes[start..end]).map_err(|e| {
            let at = start + e.valid_up_to();
            Fault {
                offset: at,
                message: format!("invalid UTF-8 (byte 0x{:02x})", bytes[at]),
                at_end: e.error_len().is_none() && end == bytes.len(),
            }
        })
    }

    /// An escape sequence, its `\` at the current byte.
    fn escape(&mut self, text: &mut String) -> Result<(), Fault> {
        let at = self.pos;
        let Some(&b) = self.bytes.get(at + 1) else {
            self.pos = at + 1;
            return Err(self.expected("an escaped character after `\\`"));
        };
        self.pos = at + 2;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4(at)?;
                let code = if (0xD800..0xDC00).contains(&unit) {
                    let low = if self.bytes[self.pos..].starts_with(b"\\u") {
                        self.pos += 2;
                        self.hex4(at)?
                    } else if self.pos >= self.bytes.len() {
                        return Err(self.expected("the second half of a surrogate pair"));
                    } else {
                        0
                    };
                    if !(0xDC00..0xE000).contains(&low) {
                        return Err(
                            self.fault_at(at, format!("unpaired surrogate `\\u{unit:04X}`"))
                        );
                    }
                    0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    unit
                };
                char::from_u32(code).ok_or_else(|| {
                    self.fault_at(at, format!("unpaired surrogate `\\u{unit:04X}`"))
                })?
            }
            _ => {
                self.pos = at + 1;
                let shown = if b.is_ascii_graphic() {
                    format!("`{}`", b as char)
                } else {
                    format!("byte 0x{b:02x}")
                };
                return Err(
                    self.fault_at(at, format!("unknown escape {shown} after `\\` in a string"))
                );
            }
        };
        text.push(c);
        Ok(())
    }

    fn hex4(&mut self, escape_at: usize) -> Result<u32, Fault> {
        let mut unit = 0;
        for _ in 0..4 {
            match self.peek().and_then(|b| (b as char).to_digit(16)) {
                Some(digit) => {
                    unit = unit * 16 + digit;
                    self.pos += 1;
                }
                None if self.peek().is_none() => {
                    return Err(self.expected("four hex digits after `\\u`"));
                }
                None => {
                    return Err(
                        self.fault_at(escape_at, "expected four hex digits after `\\u`".into())
                    )
                }
            }
        }
        Ok(unit)
    }

    /// A number: an exact integer, or a float for one with a fraction or an exponent.
    fn number(&mut self) -> Result<Value, Fault> {
        let start = self.pos;
        let bytes = self.bytes;
        let digits = |from: usize| {
            bytes[from..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count()
        };
        let mut end = start + usize::from(bytes[start] == b'-');
        let int_digits = digits(end);
        let int_start = end;
        end += int_digits;
        let mut integer = true;
        if bytes.get(end) == Some(&b'.') {
            integer = false;
            let n = digits(end + 1);
            if n == 0 {
                return Err(self.bad_number(start, end + 1));
            }
            end += 1 + n;
        }
        if let Some(b'e' | b'E') = bytes.get(end) {
            integer = false;
            let sign = usize::from(matches!(bytes.get(end + 1), Some(b'+' | b'-')));
            let n = digits(end + 1 + sign);
            if n == 0 {
                return Err(self.bad_number(start, end + 1 + sign));
            }
            end += 1 + sign + n;
        }
        if int_digits == 0 || (int_digits > 1 && bytes[int_start] == b'0') {
            return Err(self.bad_number(start, end.max(int_start + 1)));
        }
        if bytes
            .get(end)
            .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-'))
        {
            return Err(self.bad_number(start, end + 1));
        }
        self.pos = end;
        // Numbers are ASCII, checked above.
        let text = std::str::from_utf8(&bytes[start..end]).unwrap_or_default();
        if integer {
            if int_digits <= 18 {
                // Fits in i64 whatever the digits: the common case, without parsing twice.
                let mut n: i64 = 0;
                for &d in &bytes[int_start..end] {
                    n = n * 10 + i64::from(d - b'0');
                }
                return Ok(Value::Int(if int_start > start { -n } else { n }));
            }
            return Ok(Value::integer(text).unwrap_or_default());
        }
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Value::Float(Float(x))),
            _ => Err(self.fault_at(start, format!("number `{}` is out of range", quote(text)))),
        }
    }

    fn bad_number(&self, start: usize, end: usize) -> Fault {
        let end = end.min(self.bytes.len());
        let len = self.bytes[end..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-'))
            .count();
        let text = String::from_utf8_lossy(&self.bytes[start..end + len]);
        Fault {
            offset: start,
            message: format!("bad number `{}`", quote(&text)),
            at_end: end + len >= self.bytes.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> Result<Value, (usize, String)> {
        parse_value(text.as_bytes()).map_err(|f| (f.column, f.message))
    }

    #[test]
    fn parses_every_kind_of_value() {
        let cases: &[(&str, &str)] = &[
            ("null", "null"),
            (" true ", "true"),
            ("false", "false"),
            ("-0", "0"),
            ("123456789012345678", "123456789012345678"),
            ("-9223372036854775808", "-9223372036854775808"),
            ("9223372036854775808", "9223372036854775808"),
            (
                "-99999999999999999999999999999999999999999",
                "-99999999999999999999999999999999999999999",
            ),
            ("0.35", "0.35"),
            ("1e3", "1000.0"),
            ("-2.5E-3", "-0.0025"),
            (
                r#""a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00""#,
                r#""a\"\\/\b\f\n\r\té😀""#,
            ),
            ("[1, [2, []], {}]", "[1,[2,[]],{}]"),
            (r#"{"b": 1, "a": {"c": null}}"#, r#"{"a":{"c":null},"b":1}"#),
            ("\"é\"", "\"é\""),
        ];
        for (text, want) in cases {
            let got = value(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
            assert_eq!(got.to_json_string(), *want, "{text}");
        }
    }

    #[test]
    fn errors_name_the_column() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 1, "expected a value, found the end of the text"),
            ("[1,", 4, "expected a value, found the end of the text"),
            ("[1 2]", 4, "expected `,` or `]` in a list, found `2`"),
            (
                "{\"a\" 1}",
                6,
                "expected `:` after the field name, found `1`",
            ),
            ("{1:2}", 2, "expected a field name (a string), found `1`"),
            ("01", 1, "bad number `01`"),
            ("1.", 1, "bad number `1.`"),
            ("-", 1, "bad number `-`"),
            ("1e999", 1, "number `1e999` is out of range"),
            ("12abc", 1, "bad number `12abc`"),
            ("nil", 1, "expected a value, found `nil`"),
            ("1 2", 3, "unexpected `2` after the value"),
            ("\"ab", 4, "the string that opens at column 1 is not closed"),
            ("\"a\u{1b}b\"", 3, "a raw control character (byte 0x1b)"),
            ("\"a\\qb\"", 3, "unknown escape `q`"),
            ("\"\\u12\"", 2, "expected four hex digits"),
            ("\"\\ud800x\"", 2, "unpaired surrogate `\\uD800`"),
            ("\"é\\ud800\"", 3, "unpaired surrogate"),
            ("\u{1b}", 1, "expected a value, found byte 0x1b"),
        ];
        for (text, column, message) in cases {
            let (c, m) = value(text).unwrap_err();
            assert!(m.contains(message), "{text:?}: {m}");
            assert_eq!(c, *column, "{text:?}: {m}");
        }
        let (_, m) = value(&format!("[{}]", "x".repeat(500))).unwrap_err();
        assert!(m.contains("... (500 bytes)"), "{m}");
        let (c, m) = parse_value(b"\"a\xffb\"")
            .map(|_| ())
            .map_err(|f| (f.column, f.message))
            .unwrap_err();
        assert_eq!((c, m.as_str()), (3, "invalid UTF-8 (byte 0xff)"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        for open in ["[", "{\"a\":"] {
            let (_, m) = value(&open.repeat(100_000)).unwrap_err();
            assert!(m.contains("nest deeper than 256 levels"), "{m}");
        }
        assert!(value(&format!("{}{}", "[".repeat(250), "]".repeat(250))).is_ok());
    }

    #[test]
    fn locates_offsets_across_line_endings() {
        let text = "ab\r\ncé\rd\ne";
        let start = Position { line: 3, column: 5 };
        let at = |offset| {
            let p = locate(text.as_bytes(), offset, start);
            (p.line, p.column)
        };
        assert_eq!(at(1), (3, 6));
        assert_eq!(at(4), (4, 1));
        assert_eq!(at(7), (4, 3));
        assert_eq!(at(8), (5, 1));
        assert_eq!(at(10), (6, 1));
    }
}
