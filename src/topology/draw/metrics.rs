//! Sizes of text and boxes. Text is measured by an estimate per
//! character (wide enough for common sans-serif and monospace fonts), so
//! the layout needs no font files.

use super::model::{DrawNode, Kind};

/// Space around the picture.
pub(crate) const MARGIN: f64 = 24.0;
/// Height of one line of an interface label.
pub(crate) const LABEL_LINE: f64 = 13.0;
/// Font size of interface labels.
pub(crate) const LABEL_FONT: f64 = 11.0;
/// Font size of node names.
pub(crate) const NAME_FONT: f64 = 14.0;
/// Font size of the kind line and routes in a node.
pub(crate) const SMALL_FONT: f64 = 10.5;
/// Height of one small line in a node.
pub(crate) const SMALL_LINE: f64 = 13.0;
/// Most routes written in a node; the rest are counted.
pub(crate) const MAX_ROUTES: usize = 3;

const PAD_X: f64 = 14.0;
const PAD_Y: f64 = 10.0;
const MIN_W: f64 = 84.0;

/// Estimated width of `s` at font size `size`.
pub(crate) fn text_width(s: &str, size: f64) -> f64 {
    s.chars().count() as f64 * size * 0.62
}

/// Width of one interface label line.
pub(crate) fn label_width(s: &str) -> f64 {
    s.chars().count() as f64 * LABEL_FONT * 0.57
}

/// The small lines under a node's name: its kind and tags, then routes.
pub(crate) fn node_lines(node: &DrawNode) -> Vec<String> {
    let mut kind = match node.kind {
        Kind::Switch => "switch (bridge)".to_string(),
        k => k.word().to_string(),
    };
    for tag in &node.tags {
        kind.push_str(" · ");
        kind.push_str(tag);
    }
    let mut lines = vec![kind];
    lines.extend(node.routes.iter().take(MAX_ROUTES).cloned());
    if node.routes.len() > MAX_ROUTES {
        lines.push(format!("+{} more routes", node.routes.len() - MAX_ROUTES));
    }
    lines
}

/// Width and height a node's name and lines need.
pub(crate) fn node_content(node: &DrawNode) -> (f64, f64) {
    let lines = node_lines(node);
    let w = lines
        .iter()
        .map(|l| text_width(l, SMALL_FONT))
        .fold(text_width(&node.name, NAME_FONT) * 1.08, f64::max);
    let h = NAME_FONT + 6.0 + lines.len() as f64 * SMALL_LINE;
    ((w + 2.0 * PAD_X).max(MIN_W), h + 2.0 * PAD_Y)
}
