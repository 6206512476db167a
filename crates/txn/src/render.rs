//! Text that is safe to print: values from a history may hold control characters (an escape
//! sequence could rewrite the user's terminal) or run to megabytes.

/// `text` with every control character written as an escape (`\u{1b}`), so that nothing from
/// a history can move the cursor, change colours or ring the bell.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}') {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// `text`, escaped, and cut to at most `max` characters with the number of characters left out.
pub fn clip(text: &str, max: usize) -> String {
    let escaped = escape(text);
    let count = escaped.chars().count();
    if count <= max {
        return escaped;
    }
    let keep: String = escaped.chars().take(max.saturating_sub(1)).collect();
    format!("{keep}… ({count} chars)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape("a\u{1b}[2Jb\n"), "a\\u{1b}[2Jb\\u{a}");
        assert_eq!(escape("plain [1 2]"), "plain [1 2]");
        assert_eq!(escape("rtl\u{202e}x"), "rtl\\u{202e}x");
    }

    #[test]
    fn long_text_is_clipped_with_its_length() {
        let long = "x".repeat(100);
        let c = clip(&long, 10);
        assert!(c.starts_with("xxxxxxxxx… (100 chars)"), "{c}");
        assert_eq!(clip("short", 10), "short");
    }
}
