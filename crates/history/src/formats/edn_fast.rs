//! A scanner for the shape nearly every event of an EDN history has: one flat map on one line,
//! keyword keys (`:type`, `:f`, `:process`, `:value`, `:time`, `:index`, `:key`, `:error`),
//! and values that are keywords, integers of at most 18 digits, `nil`, booleans, strings
//! without escapes, or vectors of those. It reads that shape from the reader's buffer in one
//! pass and gives up (`None`) at the first byte that is anything else: the general parser in
//! [`super::edn`] then reads the form and gives the same event, or the error with its exact
//! position. So this scanner decides nothing on its own.

use std::borrow::Cow;

use super::json_fast::{leading_integer, leading_integers};
use super::Fields;
use crate::Value;

/// Vectors nested deeper than this are left to the general parser.
const MAX_FAST_DEPTH: usize = 4;

/// The fields of the map that `bytes` starts with (at its `{`), and how many bytes the map
/// takes, when it has the common shape and no line ending; `None` when the general parser must
/// read it. Every byte of an accepted map is ASCII.
pub(crate) fn scan_map(bytes: &[u8]) -> Option<(Fields<'static>, usize)> {
    let mut scan = Scanner { bytes, pos: 0 };
    scan.eat(b'{')?;
    let mut fields = Fields::default();
    let mut seen = 0u8;
    loop {
        scan.skip_blank();
        if scan.peek()? == b'}' {
            scan.pos += 1;
            break;
        }
        scan.eat(b':')?;
        let slot = match scan.name_bytes()? {
            b"type" => 0,
            b"process" => 1,
            b"f" => 2,
            b"time" => 3,
            b"value" => 4,
            b"key" => 5,
            b"error" => 6,
            b"index" => 7,
            _ => return None,
        };
        if seen & (1 << slot) != 0 {
            return None;
        }
        seen |= 1 << slot;
        scan.skip_blank();
        if slot == 0 {
            // The four kinds need no copy of their own.
            if let Some(kind) = scan.event_kind() {
                fields.kind = Some(Cow::Borrowed(kind));
                continue;
            }
        }
        let value = scan.value(if slot == 0 || slot == 2 || slot == 3 {
            0
        } else {
            MAX_FAST_DEPTH
        })?;
        match slot {
            0 | 2 => {
                let Value::Str(text) = value else {
                    return None;
                };
                let text = Some(Cow::Owned(text));
                if slot == 0 {
                    fields.kind = text;
                } else {
                    fields.f = text;
                }
            }
            1 => fields.process = Some(value),
            3 => fields.time = Some(value),
            4 => fields.value = value,
            5 => fields.key = Some(value),
            6 => fields.error = Some(value),
            _ => {}
        }
    }
    // What follows the map must end it: the general parser reads `{...}x` otherwise.
    scan.at_delimiter().then_some((fields, scan.pos))
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    #[inline]
    fn eat(&mut self, want: u8) -> Option<()> {
        (self.peek()? == want).then(|| self.pos += 1)
    }

    /// Spaces, tabs and commas (EDN's whitespace on one line).
    #[inline]
    fn skip_blank(&mut self) {
        while let Some(b' ' | b'\t' | b',') = self.peek() {
            self.pos += 1;
        }
    }

    /// Whether the next byte ends a token: whitespace on this line, a closing bracket, or the
    /// end of what was buffered (which the general parser then reads on).
    #[inline]
    fn at_delimiter(&self) -> bool {
        matches!(
            self.peek(),
            Some(b' ' | b'\t' | b',' | b'}' | b']' | b')' | b'\n' | b'\r')
        )
    }

    /// A keyword's or symbol's name: a letter, then letters, digits, `-` and `_`.
    #[inline]
    fn name(&mut self) -> Option<&'a str> {
        // Only ASCII letters, digits, `-` and `_`: always UTF-8.
        self.name_bytes()
            .map(|name| std::str::from_utf8(name).unwrap_or_default())
    }

    /// [`Scanner::name`] as bytes, for names compared with known ones.
    #[inline]
    fn name_bytes(&mut self) -> Option<&'a [u8]> {
        let start = self.pos;
        if !self.peek()?.is_ascii_alphabetic() {
            return None;
        }
        while let Some(b) = self.peek() {
            if !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
                break;
            }
            self.pos += 1;
        }
        if !self.at_delimiter() {
            return None;
        }
        Some(&self.bytes[start..self.pos])
    }

    /// `:invoke`, `:ok`, `:fail` or `:info`, as the kind's text; `None` (having read nothing)
    /// for anything else, which the general path then reads and judges.
    #[inline]
    fn event_kind(&mut self) -> Option<&'static str> {
        let start = self.pos;
        self.eat(b':')?;
        let kind = match self.name_bytes() {
            Some(b"invoke") => Some("invoke"),
            Some(b"ok") => Some("ok"),
            Some(b"fail") => Some("fail"),
            Some(b"info") => Some("info"),
            _ => None,
        };
        if kind.is_none() {
            self.pos = start;
        }
        kind
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        match self.peek()? {
            b'-' | b'0'..=b'9' => self.integer(),
            b':' => {
                self.pos += 1;
                Some(Value::Str(self.name()?.to_string()))
            }
            b'"' => self.string(),
            b'[' if depth > 0 => self.vector(depth - 1),
            b'a'..=b'z' => match self.name()? {
                "nil" => Some(Value::Null),
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                _ => None,
            },
            _ => None,
        }
    }

    fn string(&mut self) -> Option<Value> {
        self.pos += 1; // `"`
        let start = self.pos;
        let len = self.bytes[start..]
            .iter()
            .position(|&b| !(0x20..0x80).contains(&b) || b == b'"' || b == b'\\')?;
        if self.bytes[start + len] != b'"' {
            return None;
        }
        self.pos = start + len + 1;
        let text = std::str::from_utf8(&self.bytes[start..start + len]).ok()?;
        Some(Value::Str(text.to_string()))
    }

    #[inline]
    fn integer(&mut self) -> Option<Value> {
        let (n, end) = leading_integer(self.bytes, self.pos)?;
        self.pos = end;
        self.at_delimiter().then_some(Value::Int(n))
    }

    /// A vector. Its integers are read straight into a compact list ([`Value::Ints`]), as in
    /// the JSON Lines scanner; at the first item that is not one, it goes on as values.
    fn vector(&mut self, depth: usize) -> Option<Value> {
        self.pos += 1; // `[`
        match leading_integers(0, |ints| self.integers(ints))? {
            Ok(whole) => Some(whole),
            Err(first) => self.rest_of_vector(first, depth),
        }
    }

    /// Reads integers into `ints` while the vector's items are integers: `Some(true)` at its
    /// end, `Some(false)` at an item that is not an integer (not consumed), `None` when the
    /// line is not of the common shape.
    fn integers(&mut self, ints: &mut Vec<i64>) -> Option<bool> {
        loop {
            self.skip_blank();
            match self.peek()? {
                b']' => {
                    self.pos += 1;
                    return Some(true);
                }
                b'-' | b'0'..=b'9' => {
                    let (n, end) = leading_integer(self.bytes, self.pos)?;
                    self.pos = end;
                    if !self.at_delimiter() {
                        return None;
                    }
                    ints.push(n);
                }
                _ => return Some(false),
            }
        }
    }

    /// The rest of a vector whose first items, `items`, have been read.
    fn rest_of_vector(&mut self, mut items: Vec<Value>, depth: usize) -> Option<Value> {
        loop {
            self.skip_blank();
            if self.peek()? == b']' {
                self.pos += 1;
                return Some(Value::list(items));
            }
            items.push(self.value(depth)?);
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::{read_str, Format};

    /// The event the whole reader makes of `line`, or its error.
    fn general(line: &str) -> String {
        match read_str(line, "h.edn", Some(Format::Edn)) {
            Ok(h) => format!("{:?} {:?}", h.operations, h.nemesis),
            Err(e) => format!("error {e}"),
        }
    }

    fn fast(line: &str) -> Option<String> {
        let (fields, len) = scan_map(line.as_bytes())?;
        assert!(line.is_char_boundary(len));
        let event = fields.into_event().ok()?;
        let history = crate::History::from_events([event]).ok()?;
        Some(format!("{:?} {:?}", history.operations, history.nemesis))
    }

    #[test]
    fn reads_the_common_shapes() {
        for line in [
            "{:type :invoke, :f :write, :value 1, :process 0, :time 5, :index 0}",
            "{:type :invoke :process 3 :f :read :value [1 2 -3 [4 nil] \"x\" :k]}",
            "{:process :nemesis, :type :info, :f :start, :value nil}",
            "{:type :invoke, :f \"cas\", :value [0 -0], :process -1, :key \"k\", :error :timeout}",
            "{:type :invoke, :f :read, :value [], :process 0, :time nil, :error nil}",
            "{:type :invoke, :f :read, :value true, :process 0, :error false}",
        ] {
            let line = format!("{line}\n");
            let got = fast(&line).unwrap_or_else(|| panic!("not fast: {line}"));
            assert_eq!(got, general(&line), "{line}");
        }
        // A map that ends where the buffer does is left to the general parser, which reads on.
        assert_eq!(fast("{:type :invoke, :f :read, :process 0}"), None);
    }

    #[test]
    fn leaves_everything_else_to_the_general_parser() {
        for line in [
            "{:type :invoke, :f :read, :value 1.5, :process 0}",
            "{:type :invoke, :f :read, :value 12345678901234567890, :process 0}",
            "{:type :invoke, :f :read, :value 1N, :process 0}",
            "{:type :invoke, :f :read, :value 007, :process 0}",
            "{:type :invoke, :f :read, :value \"a\\nb\", :process 0}",
            "{:type :invoke, :f :read, :value \"é\", :process 0}",
            "{:type :invoke, :f :read, :value #{1 2}, :process 0}",
            "{:type :invoke, :f :read, :value (1 2), :process 0}",
            "{:type :invoke, :f :read, :value {:a 1}, :process 0}",
            "{:type :invoke, :f :read, :value sym, :process 0}",
            "{:type :invoke, :f :ns/read, :value 1, :process 0}",
            "{:type :invoke, :type :ok, :f :read, :process 0}",
            "{:type :invoke, :f :read, :process 0, :node \"n1\"}",
            "{\"type\" :invoke, :f :read, :process 0}",
            "{:type :invoke, :f :read, :process 0}x",
            "{:type :invoke, :f :read, :value [[[[[1]]]]], :process 0}",
            "{:type :invoke, :f :read, :value 12a, :process 0}",
            "{:type :invoke, :f :read,\n :process 0}",
            "{:type :invoke, :f :read, :process 0",
        ] {
            assert_eq!(fast(&format!("{line}\n")), None, "{line}");
        }
    }

    fn value_text() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("nil".to_string()),
            Just("true".to_string()),
            Just("false".to_string()),
            Just("sym".to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            (-999i64..999).prop_map(|n| n.to_string()),
            "[a-z\"\\\\ é0-9]{0,6}".prop_map(|s| format!("\"{s}\"")),
            "[a-z][a-z0-9/:_-]{0,4}".prop_map(|s| format!(":{s}")),
            Just("1.5".to_string()),
            Just("007".to_string()),
            Just("1N".to_string()),
            Just("99999999999999999999".to_string()),
        ];
        leaf.prop_recursive(5, 32, 4, |inner| {
            (
                prop::collection::vec(inner, 0..4),
                prop_oneof![Just(" "), Just(", ")],
            )
                .prop_map(|(items, sep)| format!("[{}]", items.join(sep)))
        })
    }

    fn line_text() -> impl Strategy<Value = String> {
        let field = prop_oneof![
            prop_oneof![
                Just(":invoke"),
                Just(":ok"),
                Just(":fail"),
                Just(":info"),
                Just(":done"),
                Just("3")
            ]
            .prop_map(|t| format!(":type {t}")),
            prop_oneof![
                (-5i64..20).prop_map(|p| p.to_string()),
                Just(":nemesis".to_string()),
                Just(":other".to_string()),
                Just("1.5".to_string()),
            ]
            .prop_map(|p| format!(":process {p}")),
            "[a-z]{1,5}".prop_map(|f| format!(":f :{f}")),
            value_text().prop_map(|v| format!(":value {v}")),
            value_text().prop_map(|v| format!(":time {v}")),
            value_text().prop_map(|v| format!(":key {v}")),
            value_text().prop_map(|v| format!(":error {v}")),
            (0u32..100).prop_map(|i| format!(":index {i}")),
        ];
        (
            prop::collection::vec(field, 0..8),
            prop_oneof![Just(" "), Just(", ")],
        )
            .prop_map(|(fields, sep)| format!("{{{}}}\n", fields.join(sep)))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// Whatever the scanner reads as an event, the general parser reads the same way.
        #[test]
        fn agrees_with_the_general_parser(line in line_text()) {
            if let Some(got) = fast(&line) {
                prop_assert_eq!(got, general(&line), "{}", line);
            }
        }
    }
}
