//! A scanner for the shape nearly every line of JSON Lines has: one flat object with the event's
//! fields (`type`, `process`, `f`, `value`, `time`, `index`, `key`, `error`), strings without
//! escapes, integers of at most 18 digits, and values that are such scalars or lists of them. It
//! reads that shape in one pass, checking UTF-8 once for the line and building no intermediate
//! map, and gives up (`None`) at the first byte that is anything else: the general parser in
//! [`super::json`] then reads the line again and gives the same event, or the error with its
//! exact column. So this scanner decides nothing on its own: it only ever answers what the
//! general parser would.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::Arc;

use super::Fields;
use crate::Value;

thread_local! {
    /// The integers of the list being read, before they are copied into its compact form: one
    /// buffer for all lists. A buffer per list, freed after the copy, leaves a hole in the heap
    /// that the next, longer read of a growing set does not fit, doubling the memory.
    static SCRATCH_INTS: RefCell<Vec<i64>> = const { RefCell::new(Vec::new()) };
}

/// Lists nested deeper than this are left to the general parser.
const MAX_FAST_DEPTH: usize = 4;

/// The fields of the event object `line` holds (blanks around it allowed), when it has the
/// common shape; `None` when the general parser must read it.
pub(crate) fn scan_event(line: &[u8]) -> Option<Fields<'_>> {
    let text = std::str::from_utf8(line).ok()?;
    let mut scan = Scanner {
        bytes: line,
        text,
        pos: 0,
    };
    scan.skip_blank();
    scan.eat(b'{')?;
    let mut fields = Fields::default();
    let mut seen = 0u8;
    scan.skip_blank();
    if scan.peek()? == b'}' {
        // `{}`: the general parser names what is missing.
        return None;
    }
    loop {
        scan.skip_blank();
        let key = scan.plain_string()?;
        scan.skip_blank();
        scan.eat(b':')?;
        scan.skip_blank();
        let slot = match key {
            "type" => 0,
            "process" => 1,
            "f" => 2,
            "time" => 3,
            "value" => 4,
            "key" => 5,
            "error" => 6,
            "index" => 7,
            _ => return None,
        };
        if seen & (1 << slot) != 0 {
            return None;
        }
        seen |= 1 << slot;
        match slot {
            0 => fields.kind = Some(Cow::Borrowed(scan.plain_string()?)),
            1 => fields.process = Some(scan.value(MAX_FAST_DEPTH)?),
            2 => fields.f = Some(Cow::Borrowed(scan.plain_string()?)),
            3 => fields.time = Some(scan.value(0)?),
            4 => fields.value = scan.value(MAX_FAST_DEPTH)?,
            5 => fields.key = Some(scan.value(MAX_FAST_DEPTH)?),
            6 => fields.error = Some(scan.value(MAX_FAST_DEPTH)?),
            _ => {
                scan.value(0)?;
            }
        }
        scan.skip_blank();
        match scan.next()? {
            b',' => {}
            b'}' => break,
            _ => return None,
        }
    }
    scan.skip_blank();
    (scan.pos == line.len()).then_some(fields)
}

struct Scanner<'a> {
    bytes: &'a [u8],
    /// The same bytes, checked as UTF-8 once for the whole line.
    text: &'a str,
    pos: usize,
}

impl<'a> Scanner<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    #[inline]
    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    #[inline]
    fn eat(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    #[inline]
    fn skip_blank(&mut self) {
        while let Some(b' ' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    /// A string without escapes or control characters, borrowed.
    #[inline]
    fn plain_string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.pos;
        let len = self.bytes[start..]
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        if self.bytes[start + len] != b'"' {
            return None;
        }
        self.pos = start + len + 1;
        // Both ends are ASCII quotes, so on character boundaries.
        self.text.get(start..start + len)
    }

    /// A scalar (null, a boolean, an integer of at most 18 digits, a plain string), or a list of
    /// values when `depth` allows.
    fn value(&mut self, depth: usize) -> Option<Value> {
        match self.peek()? {
            b'-' | b'0'..=b'9' => self.integer(),
            b'"' => Some(Value::Str(self.plain_string()?.to_string())),
            b'n' => self.word(b"null", Value::Null),
            b't' => self.word(b"true", Value::Bool(true)),
            b'f' => self.word(b"false", Value::Bool(false)),
            b'[' if depth > 0 => self.list(depth - 1),
            _ => None,
        }
    }

    /// How many items the list that starts here holds, when it holds no list and no string
    /// with a `,`: one more than its commas. Counted ahead (quickly) so that a long list (the
    /// whole set, read) is allocated once rather than grown and copied; a miscount only costs
    /// a reallocation.
    fn flat_list_len(&self) -> usize {
        let rest = &self.bytes[self.pos..];
        let Some(end) = memchr::memchr(b']', rest) else {
            return 0;
        };
        let commas = memchr::memchr_iter(b',', &rest[..end]).count();
        if commas == 0 && rest[..end].iter().all(|b| b.is_ascii_whitespace()) {
            0
        } else {
            commas + 1
        }
    }

    fn word(&mut self, word: &[u8], value: Value) -> Option<Value> {
        if !self.bytes[self.pos..].starts_with(word) {
            return None;
        }
        self.pos += word.len();
        self.ends_token().then_some(value)
    }

    /// Whether the byte after a number or a word may follow a value in an object or a list.
    #[inline]
    fn ends_token(&self) -> bool {
        matches!(self.peek(), Some(b',' | b']' | b'}' | b' ' | b'\t') | None)
    }

    #[inline]
    fn integer(&mut self) -> Option<Value> {
        let (n, end) = leading_integer(self.bytes, self.pos)?;
        self.pos = end;
        self.ends_token().then_some(Value::Int(n))
    }

    /// A list. Its integers are read straight into a compact list ([`Value::Ints`], what the
    /// readers keep a list of integers as); at the first item that is not one, the list goes
    /// on as a list of values.
    fn list(&mut self, depth: usize) -> Option<Value> {
        self.pos += 1; // `[`
        self.skip_blank();
        if self.peek()? == b']' {
            self.pos += 1;
            return Some(Value::List(Vec::new()));
        }
        let expected = self.flat_list_len();
        match leading_integers(expected, |ints| self.integers(ints))? {
            Ok(whole) => Some(whole),
            Err(first) => self.rest_of_list(first, depth),
        }
    }

    /// Reads integers into `ints` while the list's items are integers: `Some(true)` at the
    /// list's end, `Some(false)` at an item that is not an integer (not consumed), `None` when
    /// the line is not of the common shape.
    fn integers(&mut self, ints: &mut Vec<i64>) -> Option<bool> {
        while let Some((n, end)) = leading_integer(self.bytes, self.pos) {
            self.pos = end;
            if !self.ends_token() {
                return None;
            }
            ints.push(n);
            self.skip_blank();
            match self.next()? {
                b',' => self.skip_blank(),
                b']' => return Some(true),
                _ => return None,
            }
        }
        Some(false)
    }

    /// The rest of a list whose first items, `items`, have been read.
    fn rest_of_list(&mut self, mut items: Vec<Value>, depth: usize) -> Option<Value> {
        loop {
            self.skip_blank();
            items.push(self.value(depth)?);
            self.skip_blank();
            match self.next()? {
                b',' => {}
                b']' => {
                    if items.capacity() > items.len() {
                        items.shrink_to_fit();
                    }
                    return Some(Value::list(items));
                }
                _ => return None,
            }
        }
    }
}

/// Reads the leading integers of a list with `integers` (which says `Some(true)` at the list's
/// end, `Some(false)` at an item that is not an integer, `None` when the line is not of the
/// common shape) into the scratch buffer, room made for `expected` of them: `Ok` with the whole
/// list when its items were all integers (compact, [`Value::Ints`], unless empty), `Err` with
/// the integers read so far as values, for the caller to read the rest of the list after them.
pub(super) fn leading_integers(
    expected: usize,
    integers: impl FnOnce(&mut Vec<i64>) -> Option<bool>,
) -> Option<Result<Value, Vec<Value>>> {
    let mut ints = SCRATCH_INTS.with_borrow_mut(std::mem::take);
    ints.clear();
    ints.reserve(expected);
    let read = integers(&mut ints);
    let list = match read {
        None => None,
        Some(true) if ints.is_empty() => Some(Ok(Value::List(Vec::new()))),
        Some(true) => Some(Ok(Value::Ints(Arc::from(&ints[..])))),
        Some(false) => Some(Err(ints.iter().map(|&i| Value::Int(i)).collect())),
    };
    SCRATCH_INTS.with_borrow_mut(|scratch| *scratch = ints);
    list
}

/// The integer starting at `pos` (an optional minus, at most 18 digits so that it fits in
/// 64 bits without an overflow check, no leading zero) and the position after it. Both
/// scanners read integers this way; anything else goes to the general parsers.
pub(super) fn leading_integer(bytes: &[u8], pos: usize) -> Option<(i64, usize)> {
    let negative = bytes.get(pos) == Some(&b'-');
    let start = pos + usize::from(negative);
    let mut end = start;
    let mut n: i64 = 0;
    while let Some(&d) = bytes.get(end) {
        if !d.is_ascii_digit() {
            break;
        }
        if end - start == 18 {
            return None;
        }
        n = n * 10 + i64::from(d - b'0');
        end += 1;
    }
    let digits = end - start;
    if digits == 0 || (digits > 1 && bytes[start] == b'0') {
        return None;
    }
    Some((if negative { -n } else { n }, end))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::formats::json::parse_event_object;

    /// What the general parser makes of `line`, as the fast scanner would give it.
    fn general(line: &str) -> Option<String> {
        let object = parse_event_object(line.as_bytes(), "the end of the line").ok()?;
        if object.header.is_some() {
            return None;
        }
        object.fields.into_event().ok().map(|e| format!("{e:?}"))
    }

    fn fast(line: &str) -> Option<String> {
        let fields = scan_event(line.as_bytes())?;
        Some(match fields.into_event() {
            Ok(e) => format!("{e:?}"),
            Err(e) => format!("error {e:?}"),
        })
    }

    #[test]
    fn reads_the_common_shapes() {
        for line in [
            r#"{"type":"invoke","f":"write","value":1,"process":0,"time":5,"index":0}"#,
            r#"{"type": "ok", "process": 3, "f": "read", "value": [1, 2, -3, [4, null], "x"]}"#,
            r#"  {"process":"nemesis","type":"info","f":"start","value":null}  "#,
            r#"{"type":"fail","f":"cas","value":[0,-0],"process":-1,"key":"k","error":"timeout"}"#,
            r#"{"type":"ok","f":"read","value":[],"process":0,"time":null,"error":null}"#,
            r#"{"type":"ok","f":"read","value":true,"process":0,"error":false}"#,
            r#"{"type":"ok","f":"réad","value":["é"],"process":0}"#,
        ] {
            let got = fast(line).unwrap_or_else(|| panic!("not fast: {line}"));
            assert_eq!(Some(got), general(line), "{line}");
        }
    }

    #[test]
    fn leaves_everything_else_to_the_general_parser() {
        for line in [
            r#"{"type":"ok","f":"read","value":1.5,"process":0}"#,
            r#"{"type":"ok","f":"read","value":123456789012345678901,"process":0}"#,
            r#"{"type":"ok","f":"read","value":"\u0041","process":0}"#,
            r#"{"type":"ok","f":"read","value":"a\tb","process":0}"#,
            r#"{"type":"ok","f":"read","value":{"a":1},"process":0}"#,
            r#"{"type":"ok","f":"read","value":01,"process":0}"#,
            r#"{"type":"ok","f":"read","value":1,"process":0,}"#,
            r#"{"type":"ok","type":"ok","f":"read","process":0}"#,
            r#"{"type":"ok","f":"read","value":1,"process":0} x"#,
            r#"{"type":"ok","f":"read","value":1,"process":0,"node":"n1"}"#,
            r#"{"photofinish":{}}"#,
            r#"{}"#,
            r#"{"type":"ok","f":"read","value":[[[[[1]]]]],"process":0}"#,
            r#"{"type":"ok","f":"read","value":nul,"process":0}"#,
            r#"{"type":"ok","f":"read","value":12a,"process":0}"#,
            r#"{"type":"ok","f":"read","value":"a"#,
        ] {
            assert_eq!(fast(line), None, "{line}");
        }
    }

    /// A JSON text for a value, with blanks here and there, sometimes off the fast shape.
    fn value_text() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_string()),
            Just("true".to_string()),
            Just("false".to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            (-999i64..999).prop_map(|n| n.to_string()),
            "[a-z\"\\\\ é0-9]{0,6}".prop_map(|s| format!("\"{s}\"")),
            Just("1.5".to_string()),
            Just("007".to_string()),
            Just("-".to_string()),
            Just("99999999999999999999".to_string()),
        ];
        leaf.prop_recursive(5, 32, 4, |inner| {
            (prop::collection::vec(inner, 0..4), " ?")
                .prop_map(|(items, blank)| format!("[{blank}{}]", items.join(&format!(",{blank}"))))
        })
    }

    fn line_text() -> impl Strategy<Value = String> {
        let field = prop_oneof![
            prop_oneof![
                Just("\"invoke\""),
                Just("\"ok\""),
                Just("\"fail\""),
                Just("\"info\""),
                Just("\"done\""),
                Just("3")
            ]
            .prop_map(|t| format!("\"type\":{t}")),
            prop_oneof![
                (-5i64..20).prop_map(|p| p.to_string()),
                Just("\"nemesis\"".to_string()),
                Just("\"other\"".to_string()),
                Just("1.5".to_string()),
            ]
            .prop_map(|p| format!("\"process\":{p}")),
            "[a-z]{0,5}".prop_map(|f| format!("\"f\":\"{f}\"")),
            value_text().prop_map(|v| format!("\"value\":{v}")),
            value_text().prop_map(|v| format!("\"time\":{v}")),
            value_text().prop_map(|v| format!("\"key\":{v}")),
            value_text().prop_map(|v| format!("\"error\":{v}")),
            (0u32..100).prop_map(|i| format!("\"index\":{i}")),
        ];
        (prop::collection::vec(field, 0..8), " ?", " ?")
            .prop_map(|(fields, a, b)| format!("{a}{{{}}}{b}", fields.join(&format!(",{a}"))))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// Whatever the scanner reads, the general parser reads the same way.
        #[test]
        fn agrees_with_the_general_parser(line in line_text()) {
            if let Some(got) = fast(&line) {
                if got.starts_with("error") {
                    // The general parser refuses the same fields, pointing at the field.
                    prop_assert_eq!(general(&line), None);
                } else {
                    prop_assert_eq!(Some(got), general(&line), "{}", line);
                }
            }
        }
    }
}
