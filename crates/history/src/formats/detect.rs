//! Telling the format of a history from its first bytes, a byte-order mark and blanks skipped.

use super::Format;

/// How much of the input detection may look at before it decides.
pub(super) const HEAD_BYTES: usize = 64 << 10;

/// UTF-8's byte-order mark, which some editors put at the start of a file.
pub(super) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What the start of the input tells.
pub(super) enum Detected {
    Format(Format),
    /// The input is not one of the formats.
    Unknown,
    /// More input is needed to tell.
    NeedMore,
}

impl Format {
    /// Guesses the format from the start of the content (a byte-order mark is skipped). JSON
    /// Lines and JSON arrays are [`Format::JsonLines`].
    ///
    /// ```
    /// use photofinish_history::Format;
    ///
    /// assert_eq!(Format::detect(b"[\n  {\"process\": 0"), Some(Format::JsonLines));
    /// assert_eq!(Format::detect(b"[{:process 0"), Some(Format::Edn));
    /// assert_eq!(Format::detect(b"\xEF\xBB\xBF{\"type\""), Some(Format::JsonLines));
    /// assert_eq!(Format::detect(b"INFO  jepsen.util - 3\t:invoke"), Some(Format::JepsenLog));
    /// ```
    pub fn detect(head: &[u8]) -> Option<Format> {
        match detect(head, true) {
            Detected::Format(format) => Some(format),
            Detected::Unknown | Detected::NeedMore => None,
        }
    }
}

/// Where the content starts: past a byte-order mark and blanks.
pub(super) fn content_start(head: &[u8]) -> Option<usize> {
    let skip = if head.starts_with(BOM) { BOM.len() } else { 0 };
    head[skip..]
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| skip + i)
}

/// Detects the format from `head`; `complete` when `head` is the whole input.
pub(super) fn detect(head: &[u8], complete: bool) -> Detected {
    let need_more = if complete {
        Detected::Unknown
    } else {
        Detected::NeedMore
    };
    let Some(start) = content_start(head) else {
        return need_more;
    };
    let rest = &head[start..];
    // The next non-blank byte after `rest[i]`, if the head holds it.
    let next_after = |i: usize| {
        rest.get(i + 1..)?
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .map(|j| i + 1 + j)
    };
    match rest[0] {
        b'{' => match next_after(0).map(|i| rest[i]) {
            Some(b'"') => Detected::Format(Format::JsonLines),
            Some(_) => Detected::Format(Format::Edn),
            None if complete => Detected::Format(Format::Edn),
            None => need_more,
        },
        b'[' => match next_after(0) {
            Some(i) if rest[i] == b']' => Detected::Format(Format::JsonLines),
            Some(i) if rest[i] == b'{' => match next_after(i).map(|j| rest[j]) {
                Some(b'"' | b'}') => Detected::Format(Format::JsonLines),
                Some(_) => Detected::Format(Format::Edn),
                None if complete => Detected::Format(Format::Edn),
                None => need_more,
            },
            Some(_) => Detected::Format(Format::Edn),
            None if complete => Detected::Format(Format::Edn),
            None => need_more,
        },
        b'(' | b'#' | b';' => Detected::Format(Format::Edn),
        _ => {
            // A Jepsen log starts with whatever the test logged first; its operations are the
            // lines of `jepsen.util`.
            let first_line_end = memchr::memchr2(b'\n', b'\r', rest);
            if rest.starts_with(b"INFO") || memchr::memmem::find(head, b"jepsen.util").is_some() {
                Detected::Format(Format::JepsenLog)
            } else if first_line_end.is_none() && !complete {
                Detected::NeedMore
            } else {
                Detected::Unknown
            }
        }
    }
}
