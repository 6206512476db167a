//! Showing text from a history to a person: with its control characters escaped, so that a
//! hostile history cannot drive the terminal, and clipped, so that a 10 MB field does not fill
//! an error message.

/// How many characters of a field an error message quotes.
pub const QUOTE_CHARS: usize = 80;

/// `text` with every control character escaped (`\u{1b}` for ESC), cut after `max_chars`
/// characters with `... (N bytes)` naming the whole length.
///
/// ```
/// use photofinish_history::escape_and_clip;
///
/// assert_eq!(escape_and_clip("\u{1b}[2Jwrite", 80), "\\u{1b}[2Jwrite");
/// assert_eq!(escape_and_clip(&"x".repeat(1000), 5), "xxxxx... (1000 bytes)");
/// ```
pub fn escape_and_clip(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars + 16));
    for (count, c) in text.chars().enumerate() {
        if count == max_chars {
            out.push_str(&format!("... ({} bytes)", text.len()));
            break;
        }
        push_escaped(&mut out, c);
    }
    out
}

/// `text` with every control character escaped, whole.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    out
}

/// What photofinish puts in the head of every HTML page it writes, so that writing a report
/// again over one of its own is allowed while any other existing file is refused (see
/// `photofinish::output`).
pub const HTML_MARKER: &str = r#"<meta name="generator" content="photofinish">"#;

/// Inserts [`HTML_MARKER`] into a page: right after its `<head>` tag (or at the start when it
/// has none).
///
/// ```
/// use photofinish_history::{mark_html, HTML_MARKER};
///
/// let page = mark_html("<html><head><title>t</title></head></html>".into());
/// assert!(page.starts_with(&format!("<html><head>{HTML_MARKER}<title>")));
/// ```
pub fn mark_html(page: String) -> String {
    match page.find("<head>") {
        Some(at) => {
            let at = at + "<head>".len();
            let mut marked = String::with_capacity(page.len() + HTML_MARKER.len());
            marked.push_str(&page[..at]);
            marked.push_str(HTML_MARKER);
            marked.push_str(&page[at..]);
            marked
        }
        None => format!("{HTML_MARKER}{page}"),
    }
}

/// `text` safe inside HTML (or SVG) elements and attribute values: the five characters markup
/// gives meaning to become entities, and control characters, which a page has no use for and
/// which could smuggle a terminal escape into a saved report, become U+FFFD.
///
/// ```
/// use photofinish_history::escape_html;
///
/// assert_eq!(escape_html("<a href=\"x\">&'\u{1b}"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;\u{fffd}");
/// ```
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// `text` escaped and clipped to [`QUOTE_CHARS`], the way reader errors quote what they found.
pub(crate) fn quote(text: &str) -> String {
    escape_and_clip(text, QUOTE_CHARS)
}

/// Control characters, and the characters that reorder what a terminal shows (bidirectional
/// overrides and isolates), are shown as escapes.
fn push_escaped(out: &mut String, c: char) {
    let reorders = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if c.is_control() || reorders {
        out.push_str(&format!("\\u{{{:x}}}", c as u32));
    } else {
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_clips_by_characters() {
        assert_eq!(
            escape("a\tb\u{7f}\u{9b}\u{202e}é"),
            "a\\u{9}b\\u{7f}\\u{9b}\\u{202e}é"
        );
        assert_eq!(escape_and_clip("ééé", 2), "éé... (6 bytes)");
        assert_eq!(escape_and_clip("éé", 2), "éé");
        assert_eq!(
            quote(&"\u{1b}".repeat(200)).matches("\\u{1b}").count(),
            QUOTE_CHARS
        );
    }
}
