//! A cycle drawn as a small inline SVG, for the HTML report: the transactions on a circle,
//! each step an arrow labelled with its kind (ww, wr, rw, process, realtime). The SVG is
//! self-contained (no scripts, fonts or links) and every text in it is escaped.

use std::f64::consts::PI;
use std::fmt::Write;

use crate::cycles::StepKind;
use crate::render::escape;
use crate::report::Finding;

/// Node radius, in pixels.
const NODE: f64 = 24.0;

fn colour(kind: StepKind) -> &'static str {
    match kind {
        StepKind::Ww => "#b03a2e",
        StepKind::Wr => "#1f618d",
        StepKind::Rw => "#7d3c98",
        StepKind::Process => "#117a65",
        StepKind::Realtime => "#b9770e",
    }
}

/// Text safe inside SVG (XML) markup: control characters escaped first, then the five
/// characters XML gives meaning to.
pub fn xml_escape(text: &str) -> String {
    photofinish_history::escape_html(&escape(text))
}

/// The cycle of `finding` as an SVG element, or `None` if the finding is not a cycle.
pub fn cycle_svg(finding: &Finding) -> Option<String> {
    let steps = &finding.steps;
    if steps.is_empty() {
        return None;
    }
    let n = steps.len();
    let radius = (n as f64 * 34.0).max(70.0);
    let margin = 70.0;
    let size = 2.0 * (radius + margin);
    let centre = size / 2.0;
    let place = |i: usize| {
        let angle = -PI / 2.0 + 2.0 * PI * i as f64 / n as f64;
        (centre + radius * angle.cos(), centre + radius * angle.sin())
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size:.0} {size:.0}" width="{size:.0}" height="{size:.0}" role="img" font-family="sans-serif" font-size="12">"#
    );
    let _ = write!(svg, "<title>{}</title>", xml_escape(&finding.kind.name()));
    for kind in [
        StepKind::Ww,
        StepKind::Wr,
        StepKind::Rw,
        StepKind::Process,
        StepKind::Realtime,
    ] {
        let _ = write!(
            svg,
            r#"<defs><marker id="arrow-{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker></defs>"#,
            name = kind.name(),
            colour = colour(kind)
        );
    }
    for (i, step) in steps.iter().enumerate() {
        let (x1, y1) = place(i);
        let (x2, y2) = place((i + 1) % n);
        // Bend each arrow to the side away from the centre (for a two-step cycle, each to its
        // own side), so that arrows do not overlap.
        let (mx, my) = ((x1 + x2) / 2.0, (y1 + y2) / 2.0);
        let (dx, dy) = (x2 - x1, y2 - y1);
        let d = (dx * dx + dy * dy).sqrt().max(1.0);
        let (mut ox, mut oy) = (dy / d, -dx / d);
        if ox * (mx - centre) + oy * (my - centre) < 0.0 {
            (ox, oy) = (-ox, -oy);
        }
        let bend = if n == 2 { 50.0 } else { 24.0 };
        let (cx, cy) = (mx + ox * bend, my + oy * bend);
        // Start and end on the node circles, pointing at the control point.
        let toward = |(px, py): (f64, f64), (qx, qy): (f64, f64)| {
            let (dx, dy) = (qx - px, qy - py);
            let d = (dx * dx + dy * dy).sqrt().max(1.0);
            (px + dx / d * NODE, py + dy / d * NODE)
        };
        let (sx, sy) = toward((x1, y1), (cx, cy));
        let (ex, ey) = toward((x2, y2), (cx, cy));
        let label = if step.derived {
            format!("{} (by real time)", step.kind.name())
        } else {
            step.kind.name().to_string()
        };
        let _ = write!(
            svg,
            r#"<path d="M{sx:.1},{sy:.1} Q{cx:.1},{cy:.1} {ex:.1},{ey:.1}" fill="none" stroke="{colour}" stroke-width="2" marker-end="url(#arrow-{name})"><title>{because}</title></path>"#,
            colour = colour(step.kind),
            name = step.kind.name(),
            because = xml_escape(&step.because)
        );
        let (lx, ly) = (mx + ox * (bend + 12.0), my + oy * (bend + 12.0));
        let _ = write!(
            svg,
            r#"<text x="{lx:.1}" y="{ly:.1}" text-anchor="middle" fill="{colour}">{label}</text>"#,
            colour = colour(step.kind),
            label = xml_escape(&label)
        );
    }
    for (i, step) in steps.iter().enumerate() {
        let (x, y) = place(i);
        let lines = finding
            .transactions
            .iter()
            .find(|t| t.name == step.from)
            .map(|t| match t.complete_line {
                Some(end) if end != t.invoke_line => format!("lines {}-{}", t.invoke_line, end),
                _ => format!("line {}", t.invoke_line),
            })
            .unwrap_or_default();
        let _ = write!(
            svg,
            r##"<circle cx="{x:.1}" cy="{y:.1}" r="{NODE}" fill="#fdfefe" stroke="#34495e" stroke-width="1.5"/><text x="{x:.1}" y="{ty:.1}" text-anchor="middle" font-weight="bold">{name}</text><text x="{x:.1}" y="{ly:.1}" text-anchor="middle" fill="#566573" font-size="10">{lines}</text>"##,
            ty = y + 4.0,
            // Outside the ring, clear of the arrows.
            ly = if y < centre - 1.0 {
                y - NODE - 6.0
            } else {
                y + NODE + 13.0
            },
            name = xml_escape(&step.from),
            lines = xml_escape(&lines)
        );
    }
    svg.push_str("</svg>");
    Some(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anomaly::{AnomalyKind, CycleClass, Variant};
    use crate::report::{ExplainedStep, TxnRef};

    fn finding() -> Finding {
        let step = |from: &str, to: &str, kind, because: &str| ExplainedStep {
            from: from.into(),
            to: to.into(),
            kind,
            derived: false,
            because: because.into(),
        };
        Finding {
            kind: AnomalyKind::Cycle(CycleClass::G2Item, Variant::Data),
            summary: String::new(),
            transactions: vec![TxnRef {
                name: "T1".into(),
                process: Some(0),
                outcome: photofinish_history::Outcome::Ok,
                invoke_line: 3,
                complete_line: Some(9),
                text: String::new(),
            }],
            steps: vec![
                step(
                    "T1",
                    "T2",
                    StepKind::Rw,
                    "T1 read key \"<script>\u{1b}\" as []",
                ),
                step("T2", "T1", StepKind::Rw, "T2 & co"),
            ],
        }
    }

    #[test]
    fn draws_every_step_and_escapes_text() {
        let svg = cycle_svg(&finding()).unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("marker-end=").count(), 2);
        assert!(svg.contains("lines 3-9"));
        assert!(svg.contains("&lt;script&gt;\\u{1b}"), "{svg}");
        assert!(svg.contains("T2 &amp; co"));
        assert!(!svg.contains("<script"));
        assert!(!svg.contains("http://") || svg.matches("http://").count() == 1);
    }

    #[test]
    fn findings_without_cycles_draw_nothing() {
        let mut f = finding();
        f.steps.clear();
        assert!(cycle_svg(&f).is_none());
    }
}
