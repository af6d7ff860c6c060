//! Charts drawn on the server as inline SVG: no script, no third-party request, and each
//! one an image with a text alternative and a table of its figures beside it on the page.
//! Colours are the GOV.UK palette's, and marks carry their value as text too, so nothing
//! depends on colour alone.

use std::fmt::Write as _;

/// Escapes text for SVG.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A small line chart of one measure over quarters; gaps where a quarter has no figure.
/// `points` are (quarter label, value).
#[must_use]
pub fn trend(id: &str, title: &str, points: &[(String, Option<f64>)]) -> String {
    const W: f64 = 280.0;
    const H: f64 = 90.0;
    const PAD: f64 = 14.0;
    let values: Vec<f64> = points.iter().filter_map(|(_, v)| *v).collect();
    let max = values.iter().copied().fold(0.0_f64, f64::max).max(1.0);
    let n = points.len().max(2);
    #[allow(clippy::cast_precision_loss, reason = "a handful of quarters")]
    let x = |i: usize| PAD + (W - 2.0 * PAD) * i as f64 / (n - 1) as f64;
    let y = |v: f64| H - PAD - (H - 2.0 * PAD - 10.0) * v / max;
    let mut svg = format!(
        "<svg class=\"app-chart\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\" aria-labelledby=\"{id}-title\">\
         <title id=\"{id}-title\">{}</title>\
         <line x1=\"{PAD}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#b1b4b6\" stroke-width=\"1\"/>",
        esc(title),
        H - PAD,
        W - PAD,
        H - PAD
    );
    let mut path = String::new();
    for (i, (_, v)) in points.iter().enumerate() {
        match v {
            Some(v) => {
                let _ = write!(path, "{}{:.1},{:.1} ", if path.is_empty() { "M" } else { "L" }, x(i), y(*v));
            }
            None => {
                if !path.is_empty() {
                    let _ = write!(svg, "<path d=\"{path}\" fill=\"none\" stroke=\"#1d70b8\" stroke-width=\"2\"/>");
                    path.clear();
                }
            }
        }
    }
    if !path.is_empty() {
        let _ = write!(svg, "<path d=\"{path}\" fill=\"none\" stroke=\"#1d70b8\" stroke-width=\"2\"/>");
    }
    for (i, (label, v)) in points.iter().enumerate() {
        if let Some(v) = v {
            let _ = write!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"#1d70b8\"><title>{}: {}</title></circle>\
                 <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" text-anchor=\"middle\" fill=\"#0b0c0c\">{}</text>",
                x(i),
                y(*v),
                esc(label),
                round(*v),
                x(i),
                y(*v) - 5.0,
                round(*v)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

fn round(v: f64) -> String {
    if (v - v.round()).abs() < 0.05 { format!("{v:.0}") } else { format!("{v:.1}") }
}

/// A horizontal bar chart of shares (0 to 100) by label, for agency attendance.
#[must_use]
pub fn bars(id: &str, title: &str, rows: &[(String, f64)]) -> String {
    const W: f64 = 560.0;
    const LABEL: f64 = 230.0;
    const ROW: f64 = 22.0;
    #[allow(clippy::cast_precision_loss, reason = "a handful of agencies")]
    let h = ROW * rows.len() as f64 + 10.0;
    let mut svg = format!(
        "<svg class=\"app-chart\" viewBox=\"0 0 {W} {h}\" width=\"{W}\" height=\"{h}\" role=\"img\" aria-labelledby=\"{id}-title\">\
         <title id=\"{id}-title\">{}</title>",
        esc(title)
    );
    for (i, (label, share)) in rows.iter().enumerate() {
        #[allow(clippy::cast_precision_loss, reason = "a handful of agencies")]
        let top = 5.0 + ROW * i as f64;
        let width = (W - LABEL - 50.0) * share.clamp(0.0, 100.0) / 100.0;
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#0b0c0c\">{}</text>\
             <rect x=\"{LABEL}\" y=\"{:.1}\" width=\"{width:.1}\" height=\"{:.1}\" fill=\"#1d70b8\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#0b0c0c\">{}%</text>",
            LABEL - 6.0,
            top + 14.0,
            esc(label),
            top + 3.0,
            ROW - 6.0,
            LABEL + width + 4.0,
            top + 14.0,
            round(*share)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_escape_labels_and_leave_gaps() {
        let svg = trend("t", "A <b> & c", &[("Q1".into(), Some(2.0)), ("Q2".into(), None), ("Q3".into(), Some(4.0))]);
        assert!(svg.contains("A &lt;b&gt; &amp; c") && svg.matches("<path").count() == 2);
        assert!(svg.contains("role=\"img\"") && !svg.contains("http"));
        let bars = bars("b", "Attendance", &[("Police <x>".into(), 75.0)]);
        assert!(bars.contains("Police &lt;x&gt;") && bars.contains("75%"));
    }
}
