//! A self-contained HTML page of a report: the verdict, the models ruled out, and each
//! anomaly with its steps, its transactions and (for a cycle) the drawing from [`crate::svg`].
//! No scripts, no external resources; every text from the history is escaped.
//!
//! ```
//! use photofinish_txn::{check_str, TxnOptions, Workload};
//!
//! let history = r#"{"type":"invoke","process":0,"f":"txn","value":[["r","x",null],["append","y",1]]}
//! {"type":"invoke","process":1,"f":"txn","value":[["r","y",null],["append","x",1]]}
//! {"type":"ok","process":0,"f":"txn","value":[["r","x",[]],["append","y",1]]}
//! {"type":"ok","process":1,"f":"txn","value":[["r","y",[]],["append","x",1]]}
//! "#;
//! let report = check_str(history, "skew.jsonl", Workload::ListAppend, &TxnOptions::default()).unwrap();
//! // The cycle alone, to embed in another page:
//! let svg = photofinish_txn::svg::cycle_svg(&report.anomalies[0]).unwrap();
//! assert!(svg.starts_with("<svg"));
//! // Or a whole page:
//! let page = photofinish_txn::html::render_html(&report, "skew.jsonl");
//! assert!(page.contains(&svg));
//! ```

use std::fmt::Write;

use crate::report::{Report, Verdict};
use crate::svg::{cycle_svg, xml_escape};

/// Anomalies drawn per kind; the rest are listed in the JSON report.
const SHOWN_PER_KIND: usize = 5;

/// The report as an HTML page titled `title`.
pub fn render_html(report: &Report, title: &str) -> String {
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>\
         body{{font-family:sans-serif;max-width:60em;margin:2em auto;color:#1c2833}}\
         .valid{{color:#1e8449}}.invalid{{color:#b03a2e}}.unknown{{color:#9a7d0a}}\
         li{{margin:.2em 0}}code{{background:#f4f6f6;padding:0 .2em}}\
         section{{border-top:1px solid #d5dbdb;margin-top:1.5em}}</style></head><body>",
        xml_escape(title)
    );
    let (class, word) = match report.verdict {
        Verdict::Valid => ("valid", "Valid"),
        Verdict::Invalid => ("invalid", "Invalid"),
        Verdict::Unknown => ("unknown", "Unknown"),
    };
    let model = report
        .consistency_model
        .map(|m| format!(" for {m}"))
        .unwrap_or_default();
    let _ = write!(
        page,
        "<h1>{}</h1><p class=\"{class}\"><strong>{word}{}</strong>: {} history, {} operations ({} committed, {} failed, {} indeterminate).</p>",
        xml_escape(title),
        xml_escape(&model),
        xml_escape(&report.workload),
        report.operations,
        report.committed,
        report.failed,
        report.indeterminate
    );
    if !report.ruled_out.is_empty() {
        let names: Vec<&str> = report.ruled_out.iter().map(|m| m.name()).collect();
        let _ = write!(page, "<p>Rules out: {}.</p>", xml_escape(&names.join(", ")));
    }
    for kind in &report.anomaly_types {
        let findings: Vec<_> = report.of_kind(*kind).collect();
        let _ = write!(
            page,
            "<section><h2>{} ({} found)</h2><p>{}</p>",
            xml_escape(&kind.name()),
            findings.len(),
            xml_escape(kind.meaning())
        );
        for finding in findings.iter().take(SHOWN_PER_KIND) {
            if let Some(svg) = cycle_svg(finding) {
                page.push_str(&svg);
                page.push_str("<ol>");
                for step in &finding.steps {
                    let _ = write!(page, "<li>{}</li>", xml_escape(&step.because));
                }
                page.push_str("</ol>");
            } else {
                let _ = write!(page, "<p>{}</p>", xml_escape(&finding.summary));
            }
            page.push_str("<ul>");
            for t in &finding.transactions {
                let _ = write!(
                    page,
                    "<li>{}: <code>{}</code></li>",
                    xml_escape(&t.label()),
                    xml_escape(&t.text)
                );
            }
            page.push_str("</ul>");
        }
        page.push_str("</section>");
    }
    if !report.notes.is_empty() {
        page.push_str("<section><h2>Notes</h2><ul>");
        for note in &report.notes {
            let _ = write!(page, "<li>{}</li>", xml_escape(note));
        }
        page.push_str("</ul></section>");
    }
    page.push_str("</body></html>\n");
    page
}
