//! The HTML report of photofinish: one self-contained page that shows a history to a person.
//!
//! A verdict of "not linearizable" is where debugging starts, so the page shows the operations
//! on a timeline (processes as lanes, each operation a bar from invocation to completion,
//! coloured by outcome), opens on the failing partition with the counterexample highlighted —
//! the operation that could not be placed, the operations open at that moment, and the end of
//! the longest linearization numbered in order with the model state after each step — and, for
//! histories with times, charts throughput, latency percentiles and nemesis windows.
//!
//! The page needs no network: its styles, script and data are inlined. The data is compact
//! JSON (columns and a string table) so that large histories stay at a few hundred bytes per
//! operation, and the timeline is a canvas that draws only what is in view, so 10^5
//! operations stay responsive. Every string from the history reaches the page as text
//! (`textContent` or canvas text), never as markup.
//!
//! ```
//! use photofinish_check::{check_model, CheckOptions};
//! use photofinish_history::read_str;
//!
//! let history = read_str(r#"{"type":"invoke","f":"write","value":1,"process":0}
//! {"type":"ok","f":"write","value":1,"process":0}
//! {"type":"invoke","f":"read","value":null,"process":1}
//! {"type":"ok","f":"read","value":0,"process":1}
//! "#, "stale.jsonl", None).unwrap();
//! let report = check_model("register", None, None, &history, &CheckOptions::default()).unwrap();
//! let html = photofinish_report::render_html(&history, Some(&report), "stale.jsonl");
//! assert!(html.starts_with("<!DOCTYPE html>"));
//! ```

mod data;

use photofinish_check::Report;
use photofinish_history::History;

const TEMPLATE: &str = include_str!("page/page.html");
const STYLE: &str = include_str!("page/report.css");
const SCRIPT: &str = include_str!("page/report.js");

/// Renders the report page for `history`. With the `report` of a check, the page also shows
/// the verdict and opens on the counterexample; without one it shows the timeline and the run
/// statistics. `title` names the page (usually the history's file name).
pub fn render_html(history: &History, report: Option<&Report>, title: &str) -> String {
    let mut data = Some(data::encode(history, report, title));
    fill(TEMPLATE, |slot| match slot {
        "TITLE" => escape_text(title),
        "STYLE" => STYLE.to_string(),
        "DATA" => data.take().expect("the template has one data slot"),
        "SCRIPT" => SCRIPT.to_string(),
        other => unreachable!("the template has no slot `{other}`"),
    })
}

/// Replaces each `{{SLOT}}` of `template` in one pass, so that text inserted into one slot is
/// never searched for another (a value containing `{{SCRIPT}}` stays as it is).
fn fill(template: &str, mut value: impl FnMut(&str) -> String) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let close = rest[open..].find("}}").expect("template slots are closed") + open;
        out.push_str(&value(&rest[open + 2..close]));
        rest = &rest[close + 2..];
    }
    out.push_str(rest);
    out
}

/// Escapes text for an HTML element's content (the page title).
fn escape_text(text: &str) -> String {
    photofinish_history::escape_html(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use photofinish_history::{Event, EventKind, Process, Value};

    #[test]
    fn inlined_assets_cannot_close_their_elements() {
        let script = SCRIPT.to_ascii_lowercase();
        assert!(!script.contains("</script") && !script.contains("<!--"));
        assert!(!STYLE.to_ascii_lowercase().contains("</style"));
        assert!(!STYLE.contains("{{") && !SCRIPT.contains("{{"));
    }

    #[test]
    fn the_page_is_self_contained_and_escapes_the_title() {
        let history = History::from_events([
            Event::new(
                EventKind::Invoke,
                Process::Client(0),
                "write",
                Value::from("{{SCRIPT}}"),
            ),
            Event::new(
                EventKind::Ok,
                Process::Client(0),
                "write",
                Value::from("</script>"),
            ),
        ])
        .unwrap();
        let html = render_html(&history, None, "<b>x</b>");
        assert!(html.contains("<title>&lt;b&gt;x&lt;/b&gt;"));
        assert_eq!(
            html.matches("</script>").count(),
            2,
            "only the page's own two scripts"
        );
        assert!(
            html.contains("{{SCRIPT}}"),
            "a value is never taken for a slot"
        );
        for remote in ["http:", "https:", "//cdn", "src=\""] {
            assert!(
                !html.contains(remote),
                "the page loads nothing: found {remote}"
            );
        }
    }
}
