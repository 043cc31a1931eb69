//! The picture as text for documentation: Mermaid flowcharts and Graphviz
//! DOT. Nodes keep their kind (shape and colour) and edges carry both
//! ends' interfaces and addresses (and a wire's models, its line dotted);
//! marked elements are red and thick.

use std::fmt::Write;

use super::mark::Marks;
use super::model::{DrawEnd, Kind, Model};

const MARK: &str = "#d32f2f";

/// `s` with each character `special` names replaced, and other control
/// characters as spaces.
fn escape(s: &str, special: fn(char) -> Option<&'static str>) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match special(c) {
            Some(text) => out.push_str(text),
            None if c.is_control() => out.push(' '),
            None => out.push(c),
        }
    }
    out
}

/// `s` inside a Mermaid quoted label: `#`, `&`, quotes and angle brackets
/// as Mermaid entity codes, control characters as spaces.
fn mermaid_text(s: &str) -> String {
    escape(s, |c| match c {
        '#' => Some("#35;"),
        '"' => Some("#quot;"),
        '<' => Some("#lt;"),
        '>' => Some("#gt;"),
        '&' => Some("#amp;"),
        _ => None,
    })
}

fn end_text(model: &Model, end: &DrawEnd, sep: &str, escape: fn(&str) -> String) -> String {
    let mut s = escape(&format!("{} {}", model.nodes[end.node].name, end.ifname));
    for line in end.lines().skip(1) {
        s.push_str(sep);
        s.push_str(&escape(line));
    }
    s
}

/// A Mermaid `graph LR` flowchart.
pub(crate) fn mermaid(model: &Model, marks: &Marks) -> String {
    let mut out = String::from("graph LR\n");
    for (i, node) in model.nodes.iter().enumerate() {
        let name = mermaid_text(&node.name);
        let _ = match node.kind {
            Kind::Host => writeln!(out, "    n{i}(\"{name}\")"),
            Kind::Router => writeln!(out, "    n{i}{{{{\"{name}\"}}}}"),
            Kind::Switch => writeln!(out, "    n{i}[[\"{name}\"]]"),
        };
    }
    for e in &model.edges {
        let line = if e.wire { "-.-" } else { "---" };
        let _ = writeln!(
            out,
            "    n{} {line}|\"{}<br/>{}\"| n{}",
            e.a.node,
            end_text(model, &e.a, "<br/>", mermaid_text),
            end_text(model, &e.b, "<br/>", mermaid_text),
            e.b.node
        );
    }
    out.push_str("    classDef host fill:#e3eefa,stroke:#2f6db5\n");
    out.push_str("    classDef router fill:#fff1dc,stroke:#c26a00\n");
    out.push_str("    classDef switch fill:#e4f4e6,stroke:#2e7d32\n");
    for kind in [Kind::Host, Kind::Router, Kind::Switch] {
        let ids: Vec<String> = (0..model.nodes.len())
            .filter(|&i| model.nodes[i].kind == kind)
            .map(|i| format!("n{i}"))
            .collect();
        if !ids.is_empty() {
            let _ = writeln!(out, "    class {} {}", ids.join(","), kind.word());
        }
    }
    for (i, _) in marks.nodes.iter().enumerate().filter(|(_, m)| **m) {
        let _ = writeln!(out, "    style n{i} stroke:{MARK},stroke-width:3px");
    }
    let marked: Vec<String> = (0..marks.edges.len())
        .filter(|&k| marks.edges[k])
        .map(|k| k.to_string())
        .collect();
    if !marked.is_empty() {
        let _ = writeln!(
            out,
            "    linkStyle {} stroke:{MARK},stroke-width:3px",
            marked.join(",")
        );
    }
    out
}

/// `s` inside a DOT double-quoted string: backslashes and quotes escaped,
/// line breaks as `\n`, other control characters as spaces.
fn dot_text(s: &str) -> String {
    escape(s, |c| match c {
        '\\' => Some("\\\\"),
        '"' => Some("\\\""),
        '\n' => Some("\\n"),
        _ => None,
    })
}

fn dot_end(end: &DrawEnd) -> String {
    let lines: Vec<String> = end.lines().map(dot_text).collect();
    lines.join("\\n")
}

/// A Graphviz undirected graph, left to right, with the interface labels
/// at each end of an edge (`taillabel`, `headlabel`).
pub(crate) fn dot(model: &Model, marks: &Marks) -> String {
    let mut out =
        String::from("graph topology {\n    rankdir=LR;\n    graph [nodesep=0.9, ranksep=2.2];\n");
    out.push_str("    node [fontname=\"Helvetica\", fontsize=12, style=filled];\n");
    out.push_str(
        "    edge [fontname=\"Helvetica\", fontsize=9, color=\"#6b7280\", labeldistance=4, labelangle=20, minlen=1];\n",
    );
    for (i, node) in model.nodes.iter().enumerate() {
        let (shape, fill, stroke) = match node.kind {
            Kind::Host => ("box", "#e3eefa", "#2f6db5"),
            Kind::Router => ("octagon", "#fff1dc", "#c26a00"),
            Kind::Switch => ("box3d", "#e4f4e6", "#2e7d32"),
        };
        let (stroke, width) = if marks.nodes[i] {
            (MARK, 3)
        } else {
            (stroke, 1)
        };
        let style = if node.kind == Kind::Host {
            "\"rounded,filled\""
        } else {
            "filled"
        };
        let _ = writeln!(
            out,
            "    \"{}\" [shape={shape}, style={style}, fillcolor=\"{fill}\", color=\"{stroke}\", penwidth={width}];",
            dot_text(&node.name)
        );
    }
    for (k, e) in model.edges.iter().enumerate() {
        let mut style = String::new();
        if e.wire {
            style.push_str(", style=dashed");
        }
        if marks.edges[k] {
            let _ = write!(style, ", color=\"{MARK}\", penwidth=3");
        }
        let _ = writeln!(
            out,
            "    \"{}\" -- \"{}\" [taillabel=\"{}\", headlabel=\"{}\"{style}];",
            dot_text(&model.nodes[e.a.node].name),
            dot_text(&model.nodes[e.b.node].name),
            dot_end(&e.a),
            dot_end(&e.b)
        );
    }
    out.push_str("}\n");
    out
}
