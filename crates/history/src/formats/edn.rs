//! Jepsen's EDN histories: one map per line, or one vector (or list) of maps, the ways Jepsen
//! and Knossos write them.
//!
//! Histories run to millions of events, so the reader streams: it parses one form at a time from
//! the input and hands each map to the builder as soon as the map closes, holding neither the
//! file nor the events. Values map onto [`Value`] as Jepsen's own JSON output does: keywords and
//! symbols become strings, sets become sorted lists, tags are dropped.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::io::{self, BufRead, Read};

use super::{edn_fast, io_error, show_bytes, Fields};
use crate::text::quote;
use crate::{Event, Float, HistoryBuilder, Position, ReadError, Value};

/// Jepsen values nest a few levels. The parser recurses once per level, and the cap turns hostile
/// input into an error instead of overflowing a thread's stack (2 MiB by default, which a debug
/// build spends at about 4 KiB a level).
const MAX_DEPTH: usize = 256;

/// How much input is read at a time: enough that refills cost little next to parsing.
const CHUNK: usize = 1 << 16;

/// Reads the events of an EDN history. Each event is pushed at the position of the first
/// character of its map (the `#` of a tagged record). A top-level form longer than `max` bytes
/// is an error.
pub fn read_into<R: BufRead>(
    input: R,
    builder: &mut HistoryBuilder,
    max: usize,
) -> Result<(), ReadError> {
    let mut parser = Parser::new(input, vec![0; CHUNK], 0, Position { line: 1, column: 1 });
    parser.max_form = max;
    loop {
        let fault = match parser.next_event() {
            Ok(Some((at, event))) => {
                builder.push(event, at)?;
                continue;
            }
            Ok(None) => return Ok(()),
            Err(fault) => fault,
        };
        match *fault {
            Fault::Io(source) => return Err(io_error(builder, source)),
            Fault::Syntax(s) if s.at_eof => {
                // A writer that crashed mid-event leaves its last form unfinished; the events
                // before it still stand.
                let line = parser.form_start.line;
                builder.warn(format!(
                    "{}:{line}: ignored a torn last event ({})",
                    builder.origin(),
                    s.message
                ));
                return Ok(());
            }
            Fault::Syntax(s) => return Err(ReadError::invalid(builder.origin(), s.at, s.message)),
        }
    }
}

/// Parses one EDN value (used by the Jepsen log reader). Error = (1-based column, message).
pub fn parse_value(text: &str) -> Result<Value, (usize, String)> {
    parse_value_at(text, Position { line: 1, column: 1 })
        .map_err(|(at, message)| (at.column, message))
}

/// Parses one EDN value that starts at `at` in a file, so that errors, and the positions their
/// messages mention, are places in that file.
pub(super) fn parse_value_at(text: &str, at: Position) -> Result<Value, (Position, String)> {
    let mut parser = Parser::new(io::empty(), text.as_bytes().to_vec(), text.len(), at);
    parser.read_whole_value().map_err(|fault| match *fault {
        Fault::Syntax(s) => (s.at, s.message),
        Fault::Io(e) => (at, e.to_string()),
    })
}

struct Syntax {
    at: Position,
    message: String,
    /// The input ended before the form did: at the end of a history that is a torn write, not
    /// a malformed one.
    at_eof: bool,
}

enum Fault {
    Io(io::Error),
    Syntax(Syntax),
}

/// An open collection, kept to name it when its closing delimiter is missing.
struct Open {
    at: Position,
    closer: u8,
    name: &'static str,
}

impl Open {
    fn expected(&self, found: &str) -> String {
        format!(
            "expected `{}` to close the {} opened at {}, found {found}",
            self.closer as char, self.name, self.at
        )
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// May appear in a symbol, keyword or number.
    Constituent,
    /// Ends a symbol, keyword or number.
    Delimiter,
    /// Part of a multi-byte UTF-8 character.
    NonAscii,
    /// Not valid anywhere outside strings.
    Invalid,
}

/// The class of every byte, looked up rather than matched because tokens are scanned a byte at
/// a time.
const CLASSES: [Class; 256] = {
    let mut classes = [Class::Invalid; 256];
    let mut b = 0;
    while b < 256 {
        classes[b] = match b as u8 {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => Class::Constituent,
            b'.' | b'*' | b'+' | b'!' | b'-' | b'_' | b'?' | b'$' | b'%' | b'&' | b'=' | b'<'
            | b'>' | b'/' | b':' | b'#' | b'\'' => Class::Constituent,
            b' ' | b'\t' | b'\n' | b'\r' | 0x0C | b',' | b';' | b'"' | b'\\' | b'(' | b')'
            | b'[' | b']' | b'{' | b'}' => Class::Delimiter,
            0x80.. => Class::NonAscii,
            _ => Class::Invalid,
        };
        b += 1;
    }
    classes
};

#[inline]
fn class(b: u8) -> Class {
    CLASSES[b as usize]
}

fn describe_byte(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("`{}`", b as char)
    } else {
        format!("byte 0x{b:02x}")
    }
}

struct Parser<R> {
    input: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    line: usize,
    column: usize,
    /// The text of the string or token being read, its non-ASCII characters each checked by
    /// `read_utf8`; reused so that reading allocates only the values it returns.
    text: Vec<u8>,
    /// Where the top-level form being read began, to name a torn one.
    form_start: Position,
    /// The top-level vector or list of events being read, if any.
    events: Option<Open>,
    /// The previous byte was `\r`: a `\n` now ends the same line.
    after_cr: bool,
    /// How many bytes of the input came before `buf`.
    consumed: usize,
    /// Where in the input the form being read began, while one is.
    form_offset: Option<usize>,
    /// The most bytes a top-level form may hold.
    max_form: usize,
}

impl<R: Read> Parser<R> {
    /// `buf[..end]` is input already read, before what `input` holds; it starts at `at`.
    fn new(input: R, buf: Vec<u8>, end: usize, at: Position) -> Parser<R> {
        Parser {
            input,
            buf,
            pos: 0,
            end,
            line: at.line,
            column: at.column,
            text: Vec::new(),
            form_start: at,
            events: None,
            after_cr: false,
            consumed: 0,
            form_offset: None,
            max_form: usize::MAX,
        }
    }

    #[inline]
    fn peek(&mut self) -> Result<Option<u8>, Box<Fault>> {
        if self.pos < self.end {
            Ok(Some(self.buf[self.pos]))
        } else {
            self.refill()
        }
    }

    #[cold]
    fn refill(&mut self) -> Result<Option<u8>, Box<Fault>> {
        self.consumed += self.end;
        self.end = 0;
        self.pos = 0;
        if let Some(start) = self.form_offset {
            if self.consumed - start > self.max_form {
                return Err(self.syntax(
                    self.form_start,
                    format!(
                        "the event is longer than {}, the most one record may hold",
                        show_bytes(self.max_form)
                    ),
                ));
            }
        }
        loop {
            match self.input.read(&mut self.buf) {
                Ok(0) => return Ok(None),
                Ok(n) => {
                    self.pos = 0;
                    self.end = n.min(self.buf.len());
                    return Ok(self.buf.first().copied());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Box::new(Fault::Io(e))),
            }
        }
    }

    /// Consumes the byte `peek` returned.
    #[inline]
    fn bump(&mut self) {
        let b = self.buf[self.pos];
        self.pos += 1;
        let after_cr = std::mem::take(&mut self.after_cr);
        match b {
            // `\r\n`, `\n` and a lone `\r` each end a line.
            b'\n' if after_cr => {}
            b'\n' => {
                self.line += 1;
                self.column = 1;
            }
            b'\r' => {
                self.line += 1;
                self.column = 1;
                self.after_cr = true;
            }
            // Columns count characters, not the continuation bytes of UTF-8.
            _ if b & 0xC0 != 0x80 => self.column += 1,
            _ => {}
        }
    }

    /// Consumes the next `n` buffered bytes, none of them a line ending or non-ASCII.
    #[inline]
    fn bump_ascii(&mut self, n: usize) {
        if n > 0 {
            self.pos += n;
            self.column += n;
            self.after_cr = false;
        }
    }

    /// How many buffered bytes ahead satisfy `plain`: the fast paths consume such runs whole.
    #[inline]
    fn run(&self, plain: impl Fn(u8) -> bool) -> usize {
        self.buf[self.pos..self.end]
            .iter()
            .position(|&b| !plain(b))
            .unwrap_or(self.end - self.pos)
    }

    /// The text read into `self.text`. Every byte pushed there is ASCII or part of a character
    /// that `read_utf8` checked, so the conversion cannot fail; it is checked all the same to
    /// keep the parser free of `unsafe`.
    fn text(&self) -> &str {
        std::str::from_utf8(&self.text).unwrap_or_default()
    }

    fn push_char(&mut self, c: char) {
        self.text
            .extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
    }

    fn here(&self) -> Position {
        Position {
            line: self.line,
            column: self.column,
        }
    }

    fn syntax(&self, at: Position, message: impl Into<String>) -> Box<Fault> {
        Box::new(Fault::Syntax(Syntax {
            at,
            message: message.into(),
            at_eof: false,
        }))
    }

    fn eof(&self, message: impl Into<String>) -> Box<Fault> {
        Box::new(Fault::Syntax(Syntax {
            at: self.here(),
            message: message.into(),
            at_eof: true,
        }))
    }

    /// Consumes `want`; anything else is the error `message` at `at`.
    fn expect(&mut self, want: u8, at: Position, message: &str) -> Result<(), Box<Fault>> {
        match self.peek()? {
            Some(b) if b == want => {
                self.bump();
                Ok(())
            }
            Some(_) => Err(self.syntax(at, message)),
            None => Err(self.eof(message)),
        }
    }

    /// Skips whitespace (commas included) and comments.
    fn skip_blank(&mut self) -> Result<(), Box<Fault>> {
        loop {
            let n = self.run(|b| matches!(b, b' ' | b','));
            self.bump_ascii(n);
            let Some(b) = self.peek()? else { break };
            match b {
                b' ' | b'\t' | b'\n' | b'\r' | b',' | 0x0C => self.bump(),
                b';' => {
                    while let Some(b) = self.peek()? {
                        self.bump();
                        if b == b'\n' {
                            break;
                        }
                    }
                }
                _ => break,
            }
        }
        Ok(())
    }

    /// The next event: the next map at the top level or in the top-level vector of events.
    fn next_event(&mut self) -> Result<Option<(Position, Event)>, Box<Fault>> {
        loop {
            self.skip_blank()?;
            let start = self.here();
            self.form_start = start;
            self.form_offset = None;
            let Some(b) = self.peek()? else {
                return match &self.events {
                    None => Ok(None),
                    Some(open) => Err(self.eof(open.expected("the end of the input"))),
                };
            };
            match (&self.events, b) {
                (None, b'[' | b'(') => {
                    self.bump();
                    let (closer, name) = if b == b'[' {
                        (b']', "vector")
                    } else {
                        (b')', "list")
                    };
                    self.events = Some(Open {
                        at: start,
                        closer,
                        name,
                    });
                    continue;
                }
                (Some(open), _) if b == open.closer => {
                    self.bump();
                    self.events = None;
                    continue;
                }
                (Some(open), b'}' | b']' | b')') => {
                    return Err(self.syntax(start, open.expected(&describe_byte(b))))
                }
                (None, b'}' | b']' | b')') => {
                    return Err(self.syntax(
                        start,
                        format!(
                            "expected a map of operation fields, found {}",
                            describe_byte(b)
                        ),
                    ))
                }
                _ => {}
            }
            if b == b'{' {
                // Most events are one flat map on a line, already buffered: read at once.
                if let Some((fields, len)) = edn_fast::scan_map(&self.buf[self.pos..self.end]) {
                    if len <= self.max_form {
                        if let Ok(event) = fields.into_event() {
                            self.bump_ascii(len);
                            return Ok(Some((start, event)));
                        }
                    }
                }
            }
            self.form_offset = Some(self.consumed + self.pos);
            let Some(value) = self.read_form(1, true)? else {
                continue;
            };
            let Value::Map(map) = value else {
                let found = match (b, &value) {
                    (b':', _) => "a keyword",
                    (b'[', _) => "a vector",
                    (b'\\', _) => "a character",
                    (b'"' | b'#', _) => value.kind(),
                    (_, Value::Str(_)) => "a symbol",
                    _ => value.kind(),
                };
                return Err(self.syntax(
                    start,
                    format!("expected a map of operation fields, found {found}"),
                ));
            };
            return match Fields::from_map(map)
                .and_then(|fields| fields.into_event().map_err(|(_, message)| message))
            {
                Ok(event) => Ok(Some((start, event))),
                Err(message) => Err(self.syntax(start, message)),
            };
        }
    }

    /// Reads the only value of the text, with nothing but blanks around it.
    fn read_whole_value(&mut self) -> Result<Value, Box<Fault>> {
        let value = self.read_next_form(0, false)?;
        self.skip_blank()?;
        match self.peek()? {
            None => Ok(value),
            Some(b) => Err(self.syntax(
                self.here(),
                format!("unexpected {} after the value", describe_byte(b)),
            )),
        }
    }

    /// Reads the next form that is not discarded with `#_`.
    fn read_next_form(&mut self, depth: usize, event: bool) -> Result<Value, Box<Fault>> {
        loop {
            self.skip_blank()?;
            if let Some(value) = self.read_form(depth, event)? {
                return Ok(value);
            }
        }
    }

    /// Reads the form that starts here; `None` when it was discarded with `#_`. A map read with
    /// `event` holds operation fields, so its keys must be field names: that catches a map left
    /// unclosed mid-file at the next event rather than at the end of the file.
    fn read_form(&mut self, depth: usize, event: bool) -> Result<Option<Value>, Box<Fault>> {
        let start = self.here();
        if depth > MAX_DEPTH {
            return Err(self.syntax(start, format!("values nest deeper than {MAX_DEPTH} levels")));
        }
        let Some(b) = self.peek()? else {
            return Err(self.eof("expected a value, found the end of the input"));
        };
        let value = match b {
            b'{' | b'[' | b'(' => {
                self.bump();
                let (closer, name) = match b {
                    b'{' => (b'}', "map"),
                    b'[' => (b']', "vector"),
                    _ => (b')', "list"),
                };
                let open = Open {
                    at: start,
                    closer,
                    name,
                };
                if b == b'{' {
                    self.read_map(&open, depth, event)?
                } else {
                    Value::list(self.read_items(&open, depth)?)
                }
            }
            b'"' => {
                self.bump();
                Value::Str(self.read_string(start)?)
            }
            b'\\' => {
                self.bump();
                Value::Str(self.read_char(start)?)
            }
            b':' => {
                self.bump();
                self.read_keyword(start)?
            }
            b'#' => {
                self.bump();
                return self.read_dispatch(start, depth, event);
            }
            _ => match class(b) {
                Class::Constituent | Class::NonAscii => self.read_token(start)?,
                Class::Delimiter | Class::Invalid => {
                    return Err(self.syntax(
                        start,
                        format!("expected a value, found {}", describe_byte(b)),
                    ))
                }
            },
        };
        Ok(Some(value))
    }

    /// Skips to the next element of the collection `open`; false once its closing delimiter is
    /// consumed instead.
    fn more(&mut self, open: &Open) -> Result<bool, Box<Fault>> {
        self.skip_blank()?;
        match self.peek()? {
            None => Err(self.eof(open.expected("the end of the input"))),
            Some(b) if b == open.closer => {
                self.bump();
                Ok(false)
            }
            Some(b @ (b'}' | b']' | b')')) => {
                Err(self.syntax(self.here(), open.expected(&describe_byte(b))))
            }
            Some(_) => Ok(true),
        }
    }

    fn read_items(&mut self, open: &Open, depth: usize) -> Result<Vec<Value>, Box<Fault>> {
        let mut items = Vec::new();
        while self.more(open)? {
            if let Some(item) = self.read_form(depth + 1, false)? {
                items.push(item);
            }
        }
        Ok(items)
    }

    fn read_map(&mut self, open: &Open, depth: usize, event: bool) -> Result<Value, Box<Fault>> {
        let field_expected = |found: &str| {
            format!(
                "expected a field name (a keyword) or `}}` to close the map opened at {}, found {found}",
                open.at
            )
        };
        let mut map = BTreeMap::new();
        while self.more(open)? {
            let at = self.here();
            if event {
                match self.peek()? {
                    Some(b':' | b'"' | b'#' | b'a'..=b'z' | b'A'..=b'Z') => {}
                    Some(b) => return Err(self.syntax(at, field_expected(&describe_byte(b)))),
                    None => return Err(self.eof(open.expected("the end of the input"))),
                }
            }
            let Some(key) = self.read_form(depth + 1, false)? else {
                continue;
            };
            if event && !matches!(key, Value::Str(_)) {
                return Err(self.syntax(at, field_expected(key.kind())));
            }
            let value = loop {
                if !self.more(open)? {
                    return Err(self.syntax(
                        at,
                        format!(
                            "map has an odd number of forms: key {} has no value (the map opened at {})",
                            quote(&key.to_json_string()),
                            open.at
                        ),
                    ));
                }
                if let Some(value) = self.read_form(depth + 1, false)? {
                    break value;
                }
            };
            match map.entry(key) {
                Entry::Occupied(entry) => {
                    return Err(self.syntax(
                        at,
                        format!(
                            "duplicate key {} in the map opened at {}",
                            quote(&entry.key().to_json_string()),
                            open.at
                        ),
                    ))
                }
                Entry::Vacant(entry) => {
                    entry.insert(value);
                }
            }
        }
        Ok(Value::Map(map))
    }

    /// Reads what follows a `#`: a set, a discarded form, a symbolic value or a tagged literal.
    #[inline(never)]
    fn read_dispatch(
        &mut self,
        start: Position,
        depth: usize,
        event: bool,
    ) -> Result<Option<Value>, Box<Fault>> {
        let value = match self.peek()? {
            None => return Err(self.eof("expected a form after `#`, found the end of the input")),
            Some(b'{') => {
                self.bump();
                let open = Open {
                    at: start,
                    closer: b'}',
                    name: "set",
                };
                let mut items = self.read_items(&open, depth)?;
                items.sort();
                items.dedup();
                Value::list(items)
            }
            Some(b'_') => {
                self.bump();
                self.read_next_form(depth + 1, false)?;
                return Ok(None);
            }
            Some(b'#') => {
                self.bump();
                self.read_token_text("a symbolic value after `##`")?;
                let x = match self.text() {
                    "Inf" => f64::INFINITY,
                    "-Inf" => f64::NEG_INFINITY,
                    "NaN" => f64::NAN,
                    other => {
                        return Err(self.syntax(
                            start,
                            format!("unknown symbolic value `##{}`", quote(other)),
                        ))
                    }
                };
                Value::Float(Float(x))
            }
            Some(b) if b.is_ascii_alphabetic() => {
                // The tag says how to interpret the value (`#inst`, `#jepsen.history.Op`); the
                // checker needs only the value.
                self.read_token_text("a tag")?;
                self.read_next_form(depth + 1, event)?
            }
            Some(b) => {
                return Err(self.syntax(start, format!("unexpected {} after `#`", describe_byte(b))))
            }
        };
        Ok(Some(value))
    }

    /// Appends the UTF-8 character starting here to `self.text`, checking that it is one.
    #[inline(never)]
    fn read_utf8(&mut self) -> Result<(), Box<Fault>> {
        let at = self.here();
        let lead = self.buf[self.pos];
        let width = match lead {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => 0,
        };
        let invalid = || format!("invalid UTF-8 (byte 0x{lead:02x})");
        if width == 0 {
            return Err(self.syntax(at, invalid()));
        }
        let mut bytes = [lead, 0, 0, 0];
        self.bump();
        for slot in &mut bytes[1..width] {
            match self.peek()? {
                Some(b) if b & 0xC0 == 0x80 => {
                    *slot = b;
                    self.bump();
                }
                Some(_) => return Err(self.syntax(at, invalid())),
                None => return Err(self.eof("the input ends inside a UTF-8 character")),
            }
        }
        match std::str::from_utf8(&bytes[..width]) {
            Ok(_) => {
                self.text.extend_from_slice(&bytes[..width]);
                Ok(())
            }
            Err(_) => Err(self.syntax(at, invalid())),
        }
    }

    /// Reads the characters of a symbol, keyword name or number into `self.text`; `what` names
    /// it when there are none at the end of the input.
    fn read_token_text(&mut self, what: &str) -> Result<(), Box<Fault>> {
        self.text.clear();
        loop {
            let Some(b) = self.peek()? else {
                if self.text.is_empty() {
                    return Err(self.eof(format!("expected {what}, found the end of the input")));
                }
                return Ok(());
            };
            match class(b) {
                Class::Constituent => {
                    let n = self.run(|b| class(b) == Class::Constituent);
                    let run = &self.buf[self.pos..self.pos + n];
                    self.text.extend_from_slice(run);
                    self.bump_ascii(n);
                }
                Class::NonAscii => self.read_utf8()?,
                Class::Delimiter => return Ok(()),
                Class::Invalid => {
                    return Err(self.syntax(self.here(), format!("unexpected {}", describe_byte(b))))
                }
            }
        }
    }

    /// Reads a symbol, number, `nil`, `true` or `false`.
    fn read_token(&mut self, start: Position) -> Result<Value, Box<Fault>> {
        self.read_token_text("a value")?;
        let value = match self.text.as_slice() {
            [b'0'..=b'9', ..] | [b'+' | b'-', b'0'..=b'9', ..] => {
                return number(self.text()).map_err(|message| self.syntax(start, message))
            }
            b"nil" => Value::Null,
            b"true" => Value::Bool(true),
            b"false" => Value::Bool(false),
            _ => Value::Str(self.text().to_owned()),
        };
        Ok(value)
    }

    /// Reads a keyword after its `:`, as the string of its name.
    fn read_keyword(&mut self, start: Position) -> Result<Value, Box<Fault>> {
        self.read_token_text("a keyword name after `:`")?;
        match self.text.as_slice() {
            [] => Err(self.syntax(start, "expected a keyword name after `:`")),
            [b':' | b'/', ..] => {
                Err(self.syntax(start, format!("bad keyword `:{}`", quote(self.text()))))
            }
            _ => Ok(Value::Str(self.text().to_owned())),
        }
    }

    /// Reads a string after its opening quote.
    fn read_string(&mut self, start: Position) -> Result<String, Box<Fault>> {
        self.text.clear();
        loop {
            match self.peek()? {
                None => return Err(self.eof(format!("unterminated string opened at {start}"))),
                Some(b'"') => {
                    self.bump();
                    return Ok(self.text().to_owned());
                }
                Some(b'\\') => self.read_escape(start)?,
                Some(0x80..) => self.read_utf8()?,
                Some(b @ (b'\n' | b'\r')) => {
                    self.text.push(b);
                    self.bump();
                }
                Some(_) => {
                    let n = self.run(|b| b < 0x80 && !matches!(b, b'"' | b'\\' | b'\n' | b'\r'));
                    let run = &self.buf[self.pos..self.pos + n];
                    self.text.extend_from_slice(run);
                    self.bump_ascii(n);
                }
            }
        }
    }

    /// Reads an escape sequence in the string opened at `start`.
    #[inline(never)]
    fn read_escape(&mut self, start: Position) -> Result<(), Box<Fault>> {
        let at = self.here();
        self.bump();
        let c = match self.peek()? {
            None => return Err(self.eof(format!("unterminated string opened at {start}"))),
            Some(b'n') => '\n',
            Some(b't') => '\t',
            Some(b'r') => '\r',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'u') => {
                self.bump();
                let c = self.read_unicode_escape(at)?;
                self.push_char(c);
                return Ok(());
            }
            Some(b) => {
                return Err(self.syntax(
                    at,
                    format!("unknown escape {} after `\\` in a string", describe_byte(b)),
                ))
            }
        };
        self.bump();
        self.push_char(c);
        Ok(())
    }

    /// Reads the hex digits of a `\u` escape that began at `at`.
    fn read_unicode_escape(&mut self, at: Position) -> Result<char, Box<Fault>> {
        let unit = self.read_hex4(at)?;
        let code = if (0xD800..0xDC00).contains(&unit) {
            // JVM strings are UTF-16, so a character beyond the Basic Multilingual Plane is
            // escaped as a pair of surrogates.
            let unpaired = format!("unpaired surrogate `\\u{unit:04X}`");
            self.expect(b'\\', at, &unpaired)?;
            self.expect(b'u', at, &unpaired)?;
            let low = self.read_hex4(at)?;
            if !(0xDC00..0xE000).contains(&low) {
                return Err(self.syntax(at, unpaired));
            }
            0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
        } else {
            unit
        };
        char::from_u32(code)
            .ok_or_else(|| self.syntax(at, format!("unpaired surrogate `\\u{unit:04X}`")))
    }

    fn read_hex4(&mut self, at: Position) -> Result<u32, Box<Fault>> {
        let mut unit = 0;
        for _ in 0..4 {
            let b = self.peek()?;
            match b.and_then(|b| (b as char).to_digit(16)) {
                Some(digit) => {
                    unit = unit * 16 + digit;
                    self.bump();
                }
                None if b.is_none() => {
                    return Err(self
                        .eof("expected four hex digits after `\\u`, found the end of the input"))
                }
                None => return Err(self.syntax(at, "expected four hex digits after `\\u`")),
            }
        }
        Ok(unit)
    }

    /// Reads a character literal after its `\`, as a one-character string.
    #[inline(never)]
    fn read_char(&mut self, start: Position) -> Result<String, Box<Fault>> {
        self.text.clear();
        match self.peek()? {
            None => {
                return Err(self.eof("expected a character after `\\`, found the end of the input"))
            }
            Some(0x80..) => self.read_utf8()?,
            Some(b) if b.is_ascii_graphic() => {
                self.text.push(b);
                self.bump();
                // Named characters (`\newline`, `\u00e9`) continue with letters and digits.
                if b.is_ascii_alphanumeric() {
                    while let Some(b) = self.peek()? {
                        if !b.is_ascii_alphanumeric() {
                            break;
                        }
                        self.text.push(b);
                        self.bump();
                    }
                }
            }
            Some(b) => {
                return Err(self.syntax(
                    start,
                    format!(
                        "expected a character after `\\`, found {}",
                        describe_byte(b)
                    ),
                ))
            }
        }
        let c = match self.text() {
            "newline" => '\n',
            "space" => ' ',
            "tab" => '\t',
            "return" => '\r',
            "formfeed" => '\u{c}',
            "backspace" => '\u{8}',
            name if name.chars().nth(1).is_none() => return Ok(name.to_owned()),
            name => match name.strip_prefix('u') {
                Some(hex) if hex.len() == 4 => u32::from_str_radix(hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| {
                        self.syntax(start, format!("bad character `\\{}`", quote(name)))
                    })?,
                _ => {
                    return Err(self.syntax(start, format!("unknown character `\\{}`", quote(name))))
                }
            },
        };
        Ok(c.to_string())
    }
}

/// Parses the text of a number: an integer of any size, exact (`N` marks a big one), or a float
/// (`M` marks a decimal).
fn number(text: &str) -> Result<Value, String> {
    let integer = text.strip_suffix('N').unwrap_or(text);
    if let Some(value) = Value::integer(integer) {
        return Ok(value);
    }
    let decimal = text.strip_suffix('M').unwrap_or(text);
    let float_syntax = decimal
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'));
    match decimal.parse::<f64>() {
        Ok(x) if float_syntax && integer.len() == text.len() && x.is_finite() => {
            Ok(Value::Float(Float(x)))
        }
        Ok(_) if float_syntax && integer.len() == text.len() => {
            Err(format!("number `{}` is out of range", quote(text)))
        }
        _ => Err(format!("bad number `{}`", quote(text))),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    use proptest::prelude::*;

    use super::parse_value;
    use crate::{read, read_path, read_str, Float, Format, History, Outcome, Process, Value};

    fn read_edn(text: &str) -> Result<History, crate::ReadError> {
        read_str(text, "h.edn", Some(Format::Edn))
    }

    fn error(text: &str) -> String {
        match read_edn(text) {
            Ok(h) => panic!("expected an error, read {} events", h.event_count),
            Err(e) => e.to_string(),
        }
    }

    fn s(text: &str) -> Value {
        Value::Str(text.to_string())
    }

    fn map(entries: &[(Value, Value)]) -> Value {
        Value::Map(entries.iter().cloned().collect::<BTreeMap<_, _>>())
    }

    #[test]
    fn parses_every_kind_of_value() {
        let cases: &[(&str, Value)] = &[
            ("nil", Value::Null),
            ("true", Value::Bool(true)),
            ("false", Value::Bool(false)),
            ("42", Value::Int(42)),
            ("-7", Value::Int(-7)),
            ("+3", Value::Int(3)),
            ("12N", Value::Int(12)),
            (
                "18446744073709551615",
                Value::integer("18446744073709551615").unwrap(),
            ),
            (
                "-99999999999999999999999N",
                Value::integer("-99999999999999999999999").unwrap(),
            ),
            ("-9223372036854775808", Value::Int(i64::MIN)),
            ("1.5", Value::Float(Float(1.5))),
            ("-2.5e3", Value::Float(Float(-2500.0))),
            ("1E-2", Value::Float(Float(0.01))),
            ("3.25M", Value::Float(Float(3.25))),
            ("7M", Value::Float(Float(7.0))),
            ("##Inf", Value::Float(Float(f64::INFINITY))),
            (":read", s("read")),
            (":jepsen.history/op", s("jepsen.history/op")),
            ("sym", s("sym")),
            ("my.ns/sym?", s("my.ns/sym?")),
            ("-", s("-")),
            ("é", s("é")),
            (
                r#""a\nb\t\"c\"\\ \u00e9 \uD83D\uDE00""#,
                s("a\nb\t\"c\"\\ é 😀"),
            ),
            ("\"multi\nline\"", s("multi\nline")),
            (r"\a", s("a")),
            (r"\newline", s("\n")),
            (r"\space", s(" ")),
            (r"\u0041", s("A")),
            (r"\(", s("(")),
            ("[1 :a \"b\"]", Value::List(vec![1.into(), s("a"), s("b")])),
            ("(1,2,,3)", Value::List(vec![1.into(), 2.into(), 3.into()])),
            (
                "#{3 1 2 1}",
                Value::List(vec![1.into(), 2.into(), 3.into()]),
            ),
            ("[]", Value::List(vec![])),
            ("{}", map(&[])),
            (
                "{:a 1, \"b\" [2], 3 nil}",
                map(&[
                    (s("a"), 1.into()),
                    (s("b"), vec![2i64].into()),
                    (3.into(), Value::Null),
                ]),
            ),
            ("#inst \"2024-01-01T00:00:00Z\"", s("2024-01-01T00:00:00Z")),
            ("#uuid \"x\"", s("x")),
            ("#_ 1 2", 2.into()),
            ("[1 #_ 2 3]", Value::List(vec![1.into(), 3.into()])),
            ("#_ #_ 1 2 3", 3.into()),
            (
                "[1 ; a comment ]\n 2]",
                Value::List(vec![1.into(), 2.into()]),
            ),
            (
                "  {:a\n[{:b #{}}]}  ",
                map(&[(
                    s("a"),
                    Value::List(vec![map(&[(s("b"), Value::List(vec![]))])]),
                )]),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse_value(text).as_ref(), Ok(want), "{text}");
        }
        assert!(matches!(parse_value("##NaN"), Ok(Value::Float(Float(x))) if x.is_nan()));
    }

    #[test]
    fn value_errors_name_the_column() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 1, "expected a value, found the end of the input"),
            ("1 2", 3, "unexpected `2` after the value"),
            (
                "[1 2",
                5,
                "expected `]` to close the vector opened at 1:1, found the end of the input",
            ),
            (
                "[1 2}",
                5,
                "expected `]` to close the vector opened at 1:1, found `}`",
            ),
            ("{:a 1 :b}", 7, "map has an odd number of forms"),
            ("{:a 1 :a 2}", 7, "duplicate key \"a\""),
            ("\"abc", 5, "unterminated string opened at 1:1"),
            ("\"a\\qb\"", 3, "unknown escape `q`"),
            ("\"\\u12\"", 2, "expected four hex digits"),
            ("\"\\uD800\"", 2, "unpaired surrogate"),
            (":", 2, "expected a keyword name after `:`"),
            (": a", 1, "expected a keyword name after `:`"),
            ("::a", 1, "bad keyword `::a`"),
            ("1.2.3", 1, "bad number `1.2.3`"),
            ("1.5N", 1, "bad number"),
            ("1e999", 1, "number `1e999` is out of range"),
            ("1x", 1, "bad number `1x`"),
            ("a@b", 2, "unexpected `@`"),
            ("@", 1, "expected a value, found `@`"),
            ("#:a{}", 1, "unexpected `:` after `#`"),
            ("##Foo", 1, "unknown symbolic value `##Foo`"),
            (r"\bogus", 1, "unknown character `\\bogus`"),
            ("é ]", 3, "unexpected `]` after the value"),
        ];
        for (text, column, message) in cases {
            let (c, m) = parse_value(text).unwrap_err();
            assert!(m.contains(message), "{text}: {m}");
            assert_eq!(c, *column, "{text}: {m}");
        }
    }

    #[test]
    fn reads_one_map_per_line() {
        let h = read_edn(concat!(
            "{:process 6, :type :invoke, :f :append, :key \"0\", :value \"x 6 0 y\"}\n",
            "{:process :nemesis :type :info :f :start :value nil}\n",
            "\n",
            "{:process 6, :type :ok, :f :append, :key \"0\", :value \"x 6 0 y\", :time 12}\n",
        ))
        .unwrap();
        assert_eq!(h.event_count, 3);
        assert_eq!(h.operations.len(), 1);
        let op = &h.operations[0];
        assert_eq!((op.f.as_str(), op.outcome), ("append", Outcome::Ok));
        assert_eq!(op.key, Some(s("0")));
        assert_eq!((op.invoke_line, op.complete_line), (1, Some(4)));
        assert_eq!(op.complete_time, Some(12));
        assert_eq!(h.nemesis.len(), 1);
        assert_eq!(h.nemesis[0].line, 2);
        assert!(h.warnings.is_empty());
    }

    #[test]
    fn reads_a_vector_of_maps_with_comments_and_records() {
        let h = read_edn(concat!(
            "; a history\n",
            "[{:process 4, :type :invoke, :f :write, :value 2}\n",
            " ; between maps\n",
            " {:process 4 :type :ok\n",
            "  :f :write ; inside a map\n",
            "  :value 2}\n",
            " #jepsen.history.Op{:index 2, :time 1, :type :invoke, :process 0, :f :read, :value nil}\n",
            " #_{:process 9 :type :ok}\n",
            " #jepsen.history.Op {:index 3, :time 2, :type :fail, :process 0, :f :read, :value nil, :error [:timeout nil]}]\n",
            "; done\n",
        ))
        .unwrap();
        assert_eq!(h.event_count, 4);
        assert_eq!(h.operations.len(), 2);
        assert_eq!(h.operations[0].value, 2.into());
        assert_eq!(
            (h.operations[0].invoke_line, h.operations[0].complete_line),
            (2, Some(4))
        );
        let read = &h.operations[1];
        assert_eq!((read.process, read.outcome), (0, Outcome::Fail));
        assert_eq!(read.invoke_time, Some(1));
        assert_eq!(
            read.error.as_deref(),
            Some(&Value::List(vec![s("timeout"), Value::Null]))
        );
        assert!(h.warnings.is_empty());
    }

    #[test]
    fn reads_a_list_of_maps_and_several_top_level_vectors() {
        let h = read_edn(
            "({:process 0 :type :invoke :f :read})\n[{:process 0 :type :ok :f :read :value 1}]",
        )
        .unwrap();
        assert_eq!(h.operations[0].result, 1.into());
        assert_eq!(read_edn("").unwrap().event_count, 0);
        assert_eq!(read_edn("[]\n; nothing\n").unwrap().event_count, 0);
    }

    #[test]
    fn every_line_ending_counts_a_line() {
        let events = [
            "{:process 0, :type :invoke, :f :write, :value 1}",
            "{:process 0, :type :ok, :f :write, :value 1}",
            "{:process 1, :type :invoke, :f :read, :value \"a\\rb\"}",
            "{:process 1, :type :ok, :f :read, :value @}",
        ];
        for ending in ["\n", "\r\n", "\r"] {
            let err = error(&events.join(ending));
            assert!(
                err.starts_with("h.edn:4:42: expected a value, found `@`"),
                "{ending:?}: {err}"
            );
            let h = read_edn(&format!("\u{feff}{}", events[..3].join(ending))).unwrap();
            assert_eq!(h.operations[1].invoke_line, 3, "{ending:?}");
            assert_eq!(h.operations[1].value, s("a\rb"));
        }
    }

    #[test]
    fn a_form_beyond_the_bound_is_an_error() {
        let options = crate::ReadOptions {
            format: Some(Format::Edn),
            max_record_bytes: 100_000,
        };
        let long = format!(
            "{{:process 0, :type :invoke, :f :read, :value nil}}\n{{:process 0, :type :ok, :f :read, :value \"{}\"}}\n",
            "x".repeat(300_000)
        );
        let err = crate::read_with(long.as_bytes(), "h.edn", &options)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "h.edn:2:1: the event is longer than 100000 bytes, the most one record may hold"
        );
        // The bound is on each form, not on the vector that holds them.
        let many = format!("[{}]", "{:process 0, :type :invoke, :f :read, :value nil}\n{:process 0, :type :ok, :f :read, :value 1}\n".repeat(5000));
        assert_eq!(
            crate::read_with(many.as_bytes(), "h.edn", &options)
                .unwrap()
                .event_count,
            10_000
        );
    }

    #[test]
    fn nemesis_processes_and_error_fields_pass_through() {
        let h = read_edn("{:process :nemesis, :type :info, :f :start, :value #{:n2 :n1}}").unwrap();
        assert_eq!(h.nemesis[0].value, Value::List(vec![s("n1"), s("n2")]));
        let _ = Process::Nemesis;
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let cases: &[(&str, &str)] = &[
            (
                "{:process 0, :type :invoke, :f :read, :value nil}\n{:process 0, :type :ok, :f :read, :value nil\n{:process 1, :type :invoke, :f :read, :value nil}\n",
                "h.edn:3:1: expected a field name (a keyword) or `}` to close the map opened at 2:1, found `{`",
            ),
            (
                "[{:process 0, :type :invoke, :f :read, :value nil}\n {:process 0, :type :ok, :f :read, :value nil\n {:process 1, :type :invoke, :f :read, :value nil}]\n",
                "h.edn:3:2: expected a field name (a keyword) or `}` to close the map opened at 2:2, found `{`",
            ),
            (
                "{:process 0, :type ::invoke, :f :read}\n",
                "h.edn:1:20: bad keyword `::invoke`",
            ),
            (
                "{:process 0, :type :invoke, :f :read}\n{:process 0,\n :type :ok, :f}\n",
                "h.edn:3:13: map has an odd number of forms: key \"f\" has no value (the map opened at 2:1)",
            ),
            (
                "[{:process 0, :type :invoke, :f :read}\n 42]",
                "h.edn:2:2: expected a map of operation fields, found an integer",
            ),
            ("[[{:process 0}]]", "h.edn:1:2: expected a map of operation fields, found a vector"),
            (":invoke\n", "h.edn:1:1: expected a map of operation fields, found a keyword"),
            (
                "{:process 0 :type :invoke :f :read}]",
                "h.edn:1:36: expected a map of operation fields, found `]`",
            ),
            ("[{:a [1 2}]", "h.edn:1:10: expected `]` to close the vector opened at 1:6, found `}`"),
            ("[{:process 0 :type :invoke :f :read})", "h.edn:1:37: expected `]` to close the vector opened at 1:1, found `)`"),
            ("{:process 0 \"a\\qb\" 1}\n", "h.edn:1:15: unknown escape `q`"),
            ("{1 2}", "h.edn:1:2: expected a field name (a keyword) or `}` to close the map opened at 1:1, found `1`"),
            ("{nil 2}", "h.edn:1:2: expected a field name (a keyword) or `}` to close the map opened at 1:1, found null"),
            ("{:f :read :process 0 :f :write}", "h.edn:1:22: duplicate key \"f\""),
            ("{:process 0, :type :invoke, :f :read, :value #\"re\"}", "h.edn:1:46: unexpected `\"` after `#`"),
        ];
        for (text, want) in cases {
            let err = error(text);
            assert!(err.starts_with(want), "{text:?}\n got: {err}\nwant: {want}");
        }
    }

    #[test]
    fn field_errors_are_reported_at_the_map() {
        let cases: &[(&str, &str)] = &[
            (
                "{:process \"x\", :type :invoke, :f :read}",
                "h.edn:1:1: `process` must be an integer or \"nemesis\"",
            ),
            (
                "{:process 0, :type :done, :f :read}",
                "h.edn:1:1: `type` must be invoke, ok, fail or info",
            ),
            ("{:process 0, :f :read}", "h.edn:1:1: missing `type`"),
            (
                "\n  {:process 0, :type :invoke, :f 3}",
                "h.edn:2:3: `f` must be a keyword or string",
            ),
            (
                "{:process 0, :type :invoke, :f :read, :time \"t\"}",
                "`time` must be a number",
            ),
            (
                "{:process 0, :type :invoke, :f :read}\n{:process 0, :type :invoke, :f :read}",
                "h.edn:2:1: process 0 invokes `read` while its `read` invoked on line 1",
            ),
        ];
        for (text, want) in cases {
            let err = error(text);
            assert!(err.contains(want), "{text:?}\n got: {err}\nwant: {want}");
        }
    }

    #[test]
    fn a_torn_end_is_a_warning() {
        let first = "{:process 0, :type :invoke, :f :read, :value nil}\n";
        for torn in [
            "{:process 0, :type :ok, :f :re",
            "{:process 0, :type :ok, :f :read, :value \"ab",
            "{:process 0, :type :ok, :f :read, :value [1 2",
            "{:process 0, :type :ok, :f :read, :value \"\\u00",
            "{:process 0, :type :ok, :f :read, :value \"\u{e9}",
            "{:process 0, :type :ok, :f :read, :value #",
            "{:process 0, :type :ok, :f :read, :value ##",
            "{:process 0,\n :type :ok, :f :read, :value :",
            "{:process 0, :type :ok, :f :read, :value\n",
        ] {
            let h = read_edn(&format!("{first}{torn}")).unwrap();
            assert_eq!(h.event_count, 1, "{torn}");
            assert_eq!(h.operations[0].outcome, Outcome::Pending);
            assert_eq!(h.warnings.len(), 1, "{torn}");
            assert!(
                h.warnings[0].starts_with("h.edn:2: ignored a torn last event ("),
                "{}",
                h.warnings[0]
            );
        }
        // A multi-byte character cut short by the end of the input.
        let mut bytes =
            format!("{first}{{:process 0, :type :ok, :f :read, :value \"\u{e9}").into_bytes();
        bytes.pop();
        let h = read(bytes.as_slice(), "h.edn", Some(Format::Edn)).unwrap();
        assert!(
            h.warnings[0].contains("inside a UTF-8 character"),
            "{}",
            h.warnings[0]
        );

        let h = read_edn(&format!(
            "[{first} {{:process 0, :type :ok, :f :read, :value 1}}\n"
        ))
        .unwrap();
        assert_eq!(h.operations[0].outcome, Outcome::Ok);
        assert_eq!(
            h.warnings,
            ["h.edn:3: ignored a torn last event (expected `]` to close the vector opened at 1:1, found the end of the input)"]
        );
        let h = read_edn(&format!("[{first} {{:process 0, :type :ok")).unwrap();
        assert_eq!(h.operations[0].outcome, Outcome::Pending);
        assert!(h.warnings[0].starts_with("h.edn:2: ignored a torn last event"));
    }

    #[test]
    fn invalid_utf8_is_an_error_with_its_position() {
        let cases: &[(&[u8], &str)] = &[
            (
                b"{:process 0, :f \"a\xffb\"}",
                "h.edn:1:19: invalid UTF-8 (byte 0xff)",
            ),
            (
                b"{:process 0,\n :f :r\xc3\x28}",
                "h.edn:2:7: invalid UTF-8 (byte 0xc3)",
            ),
            (
                b"{:process 0, :f \"\xc3\xa9\xed\xa0\x80\"}",
                "h.edn:1:19: invalid UTF-8 (byte 0xed)",
            ),
            (b"\xfe", "h.edn:1:1: invalid UTF-8 (byte 0xfe)"),
        ];
        for (bytes, want) in cases {
            let err = read(*bytes, "h.edn", Some(Format::Edn))
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(want), "{err}");
        }
        // Comments are skipped without being decoded.
        assert!(read(&b"; \xff\n[]"[..], "h.edn", Some(Format::Edn)).is_ok());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        for open in ["[", "{:a ", "#{", "#_", "#t ", "("] {
            let text = format!("{{:value {}", open.repeat(100_000));
            let err = error(&text);
            assert!(err.contains("nest deeper than 256 levels"), "{open}: {err}");
        }
        let text = format!("{}1{}", "[".repeat(250), "]".repeat(250));
        assert!(parse_value(&text).is_ok());
    }

    #[test]
    fn reads_across_buffer_refills() {
        let mut text = String::from("[");
        for i in 0..5000 {
            text.push_str(&format!(
                "{{:process {i}, :type :invoke, :f :write, :value \"caf\u{e9} {i}\"}}\n"
            ));
        }
        text.push(']');
        let h = read_edn(&text).unwrap();
        assert_eq!(h.operations.len(), 5000);
        assert_eq!(h.operations[4999].value, s("caf\u{e9} 4999"));
        assert_eq!(h.operations[4999].invoke_line, 5000);
        let err = error(&format!("{}{{:process 1 :f @}}", &text[..text.len() - 1]));
        assert!(
            err.starts_with("h.edn:5001:16: expected a value, found `@`"),
            "{err}"
        );
    }

    fn corpus_files(dir: &Path, files: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            // Elle's transaction histories name neither `:process` nor `:f` on every event;
            // they are not histories of the checker's models (expected.tsv leaves them out).
            if path.ends_with("elle") {
                continue;
            }
            if path.is_dir() {
                corpus_files(&path, files);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("edn" | "log" | "txt")
            ) {
                files.push(path);
            }
        }
    }

    #[test]
    fn reads_every_corpus_file() {
        let root = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/corpus"
        ));
        let mut files = Vec::new();
        corpus_files(root, &mut files);
        if files.is_empty() {
            eprintln!("no corpus at {}; skipped", root.display());
            return;
        }
        for path in &files {
            let h = read_path(path, None).unwrap_or_else(|e| panic!("{e}"));
            // The corpus holds an empty log (porcupine/etcd/etcd_095.log), and Knossos histories
            // of nothing but nemesis events.
            let empty = std::fs::metadata(path).is_ok_and(|m| m.len() == 0);
            assert!(empty || h.event_count > 0, "{}", path.display());
            assert!(
                h.warnings.is_empty(),
                "{}: {:?}",
                path.display(),
                h.warnings
            );
        }
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = read(bytes.as_slice(), "h.edn", Some(Format::Edn));
            let _ = parse_value(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn random_edn_like_text_never_panics(text in r#"[{}\[\]()#_:;"\\ ,a-z0-9.+\-NMe\n@é]{0,80}"#) {
            let _ = read_edn(&text);
            let _ = read_edn(&format!("{{:process 0, :type :invoke, :f :read, :value {text}"));
            let _ = parse_value(&text);
        }
    }
}
