//! The picture as SVG text: edges (lines, then their labels), nodes, and a
//! legend below. Every element has an `id` (`node-3`, `edge-0`,
//! `label-0`) and a `class` saying its kind and whether it is marked.

use std::fmt::Write;

use super::layout::{layout, Anchor, Label, NodeBox};
use super::mark::Marks;
use super::metrics::{
    node_content, node_lines, text_width, LABEL_FONT, LABEL_LINE, MARGIN, NAME_FONT, SMALL_FONT,
    SMALL_LINE,
};
use super::model::{DrawEnd, Kind, Model};
use crate::vocab::{xml_attr, xml_text};

const FONT: &str = "DejaVu Sans, Helvetica, Arial, sans-serif";
const MONO: &str = "DejaVu Sans Mono, Menlo, Consolas, monospace";
const EDGE: &str = "#6b7280";
const MARK: &str = "#d32f2f";
const TEXT: &str = "#1f2933";
const MUTED: &str = "#52606d";
const LEGEND_H: f64 = 40.0;
const WIRE_DASH: &str = "8 4";

/// Fill and stroke of a kind of node.
fn colours(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Host => ("#e3eefa", "#2f6db5"),
        Kind::Router => ("#fff1dc", "#c26a00"),
        Kind::Switch => ("#e4f4e6", "#2e7d32"),
    }
}

/// The outline of a node of `kind` in box `b`: rounded for a host,
/// an octagon for a router, a square-cornered box with port ticks for a switch.
fn shape(out: &mut String, kind: Kind, b: NodeBox, stroke: &str, width: f64) {
    let (fill, _) = colours(kind);
    let style = format!(r#"fill="{fill}" stroke="{stroke}" stroke-width="{width}""#);
    match kind {
        Kind::Host => {
            let _ = write!(
                out,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="9" {style}/>"#,
                b.x, b.y, b.w, b.h
            );
        }
        Kind::Router => {
            let c = (b.h / 4.0).min(10.0);
            let (x0, x1, x2, x3) = (b.x, b.x + c, b.x + b.w - c, b.x + b.w);
            let (y0, y1, y2, y3) = (b.y, b.y + c, b.y + b.h - c, b.y + b.h);
            let _ = write!(
                out,
                r#"<polygon points="{x1:.1},{y0:.1} {x2:.1},{y0:.1} {x3:.1},{y1:.1} {x3:.1},{y2:.1} {x2:.1},{y3:.1} {x1:.1},{y3:.1} {x0:.1},{y2:.1} {x0:.1},{y1:.1}" {style}/>"#
            );
        }
        Kind::Switch => {
            let _ = write!(
                out,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="2" {style}/>"#,
                b.x, b.y, b.w, b.h
            );
            let ticks = ((b.w - 16.0) / 10.0).floor().max(0.0) as usize;
            let ticks = if ticks < 2 { 0 } else { ticks };
            let mut d = String::new();
            for i in 0..ticks {
                let x = b.x + 8.0 + i as f64 * 10.0 + 3.0;
                let _ = write!(d, "M{x:.1},{:.1}v4", b.y + b.h - 7.0);
            }
            if !d.is_empty() {
                let _ = write!(out, r#"<path d="{d}" stroke="{stroke}" stroke-width="2"/>"#);
            }
        }
    }
}

fn label(out: &mut String, end: &DrawEnd, at: &Label, colour: &str) {
    let anchor = match at.anchor {
        Anchor::Start => "start",
        Anchor::End => "end",
    };
    let lines: Vec<&str> = end.lines().collect();
    let n = lines.len();
    let _ = write!(
        out,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="{anchor}" font-size="{LABEL_FONT}" fill="{colour}" stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke">"##,
        at.x,
        at.y - (n - 1) as f64 * LABEL_LINE
    );
    for (i, line) in lines.iter().enumerate() {
        let dy = if i == 0 { 0.0 } else { LABEL_LINE };
        let weight = if i == 0 { r#" font-weight="bold""# } else { "" };
        let _ = write!(
            out,
            r#"<tspan x="{:.1}" dy="{dy}"{weight}>{}</tspan>"#,
            at.x,
            xml_text(line)
        );
    }
    out.push_str("</text>\n");
}

/// One entry of the legend.
enum Entry {
    Shape(Kind, &'static str),
    Line(&'static str, f64, Option<&'static str>, &'static str),
    Text(String),
}

impl Entry {
    fn text(&self) -> &str {
        match self {
            Entry::Shape(_, t) | Entry::Line(_, _, _, t) => t,
            Entry::Text(t) => t,
        }
    }

    fn width(&self) -> f64 {
        let swatch = if matches!(self, Entry::Text(_)) {
            0.0
        } else {
            36.0
        };
        swatch + text_width(self.text(), 11.0) + 22.0
    }
}

/// The legend's entries: the three kinds always, then what the picture has.
fn entries(model: &Model, marks: &Marks) -> Vec<Entry> {
    let mut e = vec![
        Entry::Shape(Kind::Host, "host"),
        Entry::Shape(Kind::Router, "router (forwarding)"),
        Entry::Shape(Kind::Switch, "switch (bridge)"),
    ];
    if model.edges.iter().any(|e| e.wire) {
        e.push(Entry::Line(
            EDGE,
            1.6,
            Some(WIRE_DASH),
            "wire (out/in: models)",
        ));
    }
    if marks.any() {
        e.push(Entry::Line(MARK, 3.5, None, "marked path"));
    }
    if let Some(seed) = model.seed {
        e.push(Entry::Text(format!("seed {seed}")));
    }
    e
}

fn legend(out: &mut String, y: f64, entries: &[Entry]) {
    let _ = writeln!(out, r#"<g id="legend" font-size="11" fill="{TEXT}">"#);
    let mut x = MARGIN;
    for entry in entries {
        let mut tx = x + 36.0;
        match entry {
            Entry::Shape(kind, _) => {
                let b = NodeBox {
                    x,
                    y: y + 8.0,
                    w: 30.0,
                    h: 18.0,
                };
                shape(out, *kind, b, colours(*kind).1, 1.5);
            }
            Entry::Line(colour, width, dash, _) => {
                let dash = dash.map_or(String::new(), |d| format!(r#" stroke-dasharray="{d}""#));
                let _ = write!(
                    out,
                    r#"<line x1="{x:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="{width}"{dash}/>"#,
                    y + 17.0,
                    x + 30.0,
                    y + 17.0
                );
            }
            Entry::Text(_) => tx = x,
        }
        let _ = writeln!(
            out,
            r#"<text x="{tx:.1}" y="{:.1}">{}</text>"#,
            y + 21.0,
            xml_text(entry.text())
        );
        x += entry.width();
    }
    out.push_str("</g>\n");
}

/// The SVG document of `model` with `marks`.
pub(crate) fn svg(model: &Model, marks: &Marks) -> String {
    let lay = layout(model);
    let entries = entries(model, marks);
    let legend_width: f64 = entries.iter().map(Entry::width).sum::<f64>() + 2.0 * MARGIN;
    let width = lay.width.max(legend_width).ceil();
    let height = (lay.height + LEGEND_H).ceil();
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="{FONT}">"#
    );
    out.push_str("<title>netns-test topology</title>\n");
    out.push_str("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");

    out.push_str("<g id=\"edges\" fill=\"none\">\n");
    for (k, (e, p)) in model.edges.iter().zip(&lay.edges).enumerate() {
        let (mark, stroke, w) = if marks.edges[k] {
            (" marked", MARK, 3.5)
        } else {
            ("", EDGE, 1.6)
        };
        let (class, dash) = if e.wire {
            (
                format!("edge wire{mark}"),
                format!(r#" stroke-dasharray="{WIRE_DASH}""#),
            )
        } else {
            (format!("edge{mark}"), String::new())
        };
        let points: Vec<String> = p
            .points
            .iter()
            .map(|(x, y)| format!("{x:.1},{y:.1}"))
            .collect();
        let title = format!(
            "{} {} — {} {}",
            model.nodes[e.a.node].name, e.a.ifname, model.nodes[e.b.node].name, e.b.ifname
        );
        let _ = writeln!(
            out,
            r#"<polyline id="edge-{k}" class="{class}" points="{}" stroke="{stroke}" stroke-width="{w}"{dash} stroke-linejoin="round"><title>{}</title></polyline>"#,
            points.join(" "),
            xml_text(&title)
        );
    }
    out.push_str("</g>\n");

    out.push_str("<g id=\"labels\">\n");
    for (k, (e, p)) in model.edges.iter().zip(&lay.edges).enumerate() {
        let (class, colour) = if marks.edges[k] {
            ("label marked", MARK)
        } else {
            ("label", TEXT)
        };
        let _ = writeln!(out, r#"<g id="label-{k}" class="{class}">"#);
        label(&mut out, &e.a, &p.label_a, colour);
        label(&mut out, &e.b, &p.label_b, colour);
        out.push_str("</g>\n");
    }
    out.push_str("</g>\n");

    out.push_str("<g id=\"nodes\">\n");
    for (i, (node, &b)) in model.nodes.iter().zip(&lay.boxes).enumerate() {
        let (_, stroke) = colours(node.kind);
        let (class_mark, stroke, w) = if marks.nodes[i] {
            (" marked", MARK, 3.0)
        } else {
            ("", stroke, 1.5)
        };
        let _ = writeln!(
            out,
            r#"<g id="node-{i}" class="node {}{class_mark}" data-name="{}">"#,
            node.kind.word(),
            xml_attr(&node.name)
        );
        let _ = write!(out, "<title>{}</title>", xml_text(&node.name));
        shape(&mut out, node.kind, b, stroke, w);
        let (_, content_h) = node_content(node);
        let cx = b.x + b.w / 2.0;
        let mut y = b.y + (b.h - content_h) / 2.0 + 10.0 + NAME_FONT;
        let _ = write!(
            out,
            r#"<text x="{cx:.1}" y="{y:.1}" text-anchor="middle" font-size="{NAME_FONT}" font-weight="bold" fill="{TEXT}">{}</text>"#,
            xml_text(&node.name)
        );
        y += 6.0;
        for (j, line) in node_lines(node).iter().enumerate() {
            y += SMALL_LINE;
            let font = if j == 0 {
                format!(r#"font-style="italic" font-family="{FONT}""#)
            } else {
                format!(r#"font-family="{MONO}""#)
            };
            let _ = write!(
                out,
                r#"<text x="{cx:.1}" y="{:.1}" text-anchor="middle" font-size="{SMALL_FONT}" {font} fill="{MUTED}">{}</text>"#,
                y - 2.0,
                xml_text(line)
            );
        }
        out.push_str("\n</g>\n");
    }
    out.push_str("</g>\n");
    legend(&mut out, lay.height - MARGIN / 2.0, &entries);
    out.push_str("</svg>\n");
    out
}
