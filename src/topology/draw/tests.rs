use std::collections::BTreeMap;

use super::layout::{layout, Anchor, Layout};
use super::metrics::{label_width, LABEL_LINE};
use super::model::Model;
use super::*;
use crate::topology::{Endpoint, Route};

fn two_hosts() -> Topology {
    Topology::new().link(
        ("n1", "n1-veth0", ["198.51.100.1/24", "2001:db8::1/64"]),
        ("n2", "n2-veth0", ["198.51.100.2/24", "2001:db8::2/64"]),
    )
}

fn router() -> Topology {
    Topology::new()
        .link(
            ("h1", "eth0", "198.51.100.1/24"),
            ("r1", "eth0", "198.51.100.254/24"),
        )
        .link(
            ("r1", "eth1", "203.0.113.254/24"),
            ("h2", "eth0", "203.0.113.1/24"),
        )
        .forwarding("r1")
        .route("h1", Route::default_via("198.51.100.254"))
        .route("h2", Route::default_via("203.0.113.254"))
}

fn two_routers() -> Topology {
    Topology::new()
        .link(
            ("h1", "eth0", "198.51.100.1/25"),
            ("r1", "eth0", "198.51.100.126/25"),
        )
        .link(
            ("r1", "eth1", "198.51.100.129/30"),
            ("r2", "eth0", "198.51.100.130/30"),
        )
        .link(
            ("r2", "eth1", "203.0.113.254/24"),
            ("h2", "eth0", "203.0.113.1/24"),
        )
        .forwarding("r1")
        .forwarding("r2")
        .route("h1", Route::default_via("198.51.100.126"))
        .route("r1", Route::to("203.0.113.0/24").via("198.51.100.130"))
        .route("r2", Route::to("198.51.100.0/25").via("198.51.100.129"))
        .route("h2", Route::default_via("203.0.113.254"))
}

fn bridge_of_three() -> Topology {
    Topology::new().bridge(
        "sw",
        [
            ("h1", "eth0", "198.51.100.1/24"),
            ("h2", "eth0", "198.51.100.2/24"),
            ("h3", "eth0", "198.51.100.3/24"),
        ],
    )
}

fn seed_labs() -> Vec<Topology> {
    vec![two_hosts(), router(), two_routers(), bridge_of_three()]
}

/// Every address and interface name declared in `t`.
fn declared(t: &Topology) -> Vec<String> {
    let ends = t.links.iter().flat_map(|l| [&l.a, &l.b]);
    let members = t.segments.iter().flat_map(|s| &s.members);
    ends.chain(members)
        .flat_map(|e| e.addrs.iter().chain([&e.ifname]).cloned())
        .collect()
}

/// `id` → `class` of every element that has both.
fn classes(svg: &str) -> BTreeMap<String, String> {
    let doc = roxmltree::Document::parse(svg).expect("the SVG is well-formed XML");
    doc.descendants()
        .filter_map(|n| {
            Some((
                n.attribute("id")?.to_string(),
                n.attribute("class")?.to_string(),
            ))
        })
        .collect()
}

#[test]
fn seed_labs_parse_and_show_every_node_and_address() {
    for t in seed_labs() {
        let svg = Drawing::new(&t).svg();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        let names: Vec<&str> = doc
            .descendants()
            .filter_map(|n| n.attribute("data-name"))
            .collect();
        assert_eq!(names, t.node_names());
        let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
        for word in declared(&t).iter().chain(&t.node_names()) {
            assert!(
                texts.contains(&word.as_str()),
                "{word} is not written in\n{svg}"
            );
        }
        assert_eq!(svg, Drawing::new(&t).svg(), "the picture is deterministic");
    }
}

#[test]
fn kinds_are_drawn_apart() {
    let c = classes(&Drawing::new(&bridge_of_three()).svg());
    assert_eq!(c["node-0"], "node switch");
    assert_eq!(c["node-1"], "node host");
    let c = classes(&Drawing::new(&router()).svg());
    assert_eq!(c["node-1"], "node router");
    let svg = Drawing::new(&router()).svg();
    assert!(svg.contains("<polygon"), "a router is an octagon");
    assert!(svg.contains("router (forwarding)") && svg.contains("switch (bridge)"));
}

/// Label boxes as the layout estimates them: (x0, y0, x1, y1).
fn label_rects(model: &Model, lay: &Layout) -> Vec<(f64, f64, f64, f64)> {
    let mut rects = Vec::new();
    for (e, p) in model.edges.iter().zip(&lay.edges) {
        for (end, l) in [(&e.a, &p.label_a), (&e.b, &p.label_b)] {
            let n = end.lines().count() as f64;
            let w = end.lines().map(label_width).fold(0.0, f64::max);
            let (x0, x1) = match l.anchor {
                Anchor::Start => (l.x, l.x + w),
                Anchor::End => (l.x - w, l.x),
            };
            rects.push((x0, l.y - (n - 1.0) * LABEL_LINE - 9.0, x1, l.y + 3.0));
        }
    }
    rects
}

fn overlap(a: (f64, f64, f64, f64), b: (f64, f64, f64, f64)) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

/// No two boxes or labels overlap, and no label covers a box.
fn assert_readable(t: &Topology) {
    let model = Model::new(t);
    let lay = layout(&model);
    let boxes: Vec<_> = lay
        .boxes
        .iter()
        .map(|b| (b.x, b.y, b.x + b.w, b.y + b.h))
        .collect();
    let labels = label_rects(&model, &lay);
    for (i, a) in boxes.iter().enumerate() {
        for b in &boxes[i + 1..] {
            assert!(!overlap(*a, *b), "boxes {a:?} and {b:?} overlap");
        }
        for l in &labels {
            assert!(!overlap(*a, *l), "label {l:?} covers box {a:?}");
        }
    }
    for (i, a) in labels.iter().enumerate() {
        for b in &labels[i + 1..] {
            assert!(!overlap(*a, *b), "labels {a:?} and {b:?} overlap");
        }
    }
    for r in boxes.iter().chain(&labels) {
        assert!(r.0 >= 0.0 && r.1 >= 0.0 && r.2 <= lay.width && r.3 <= lay.height);
    }
}

#[test]
fn nothing_overlaps_in_seed_labs_and_generated_shapes() {
    for t in seed_labs() {
        assert_readable(&t);
    }
    for t in [
        Topology::chain(12),
        Topology::ring(9),
        Topology::star(12),
        Topology::tree(3, 3),
        Topology::grid(7, 7),
        Topology::full_mesh(5),
        Topology::leaf_spine(2, 4, 4),
    ] {
        assert_readable(&t);
        let svg = Drawing::new(&t).svg();
        roxmltree::Document::parse(&svg).unwrap();
    }
}

#[test]
fn fifty_nodes_stay_in_a_reasonable_picture() {
    let t = Topology::grid(7, 7);
    let lay = layout(&Model::new(&t));
    // 13 breadth-first columns of at most 7 nodes, each node with its
    // routes: some 550 points a column, 140 a row.
    assert!(lay.width < 13.0 * 600.0, "{}", lay.width);
    assert!(lay.height < 7.0 * 200.0, "{}", lay.height);
}

#[test]
fn mermaid_and_dot_have_every_edge() {
    for t in seed_labs() {
        let model = Model::new(&t);
        let d = Drawing::new(&t);
        let (mermaid, dot) = (d.mermaid(), d.dot());
        let m_edges: Vec<&str> = mermaid
            .lines()
            .filter(|l| l.contains(" ---|") || l.contains(" -.-|"))
            .collect();
        let d_edges: Vec<&str> = dot.lines().filter(|l| l.contains(" -- ")).collect();
        assert_eq!(m_edges.len(), model.edges.len(), "{mermaid}");
        assert_eq!(d_edges.len(), model.edges.len(), "{dot}");
        for (k, e) in model.edges.iter().enumerate() {
            let (a, b) = (&model.nodes[e.a.node].name, &model.nodes[e.b.node].name);
            assert!(m_edges[k]
                .trim_start()
                .starts_with(&format!("n{} ---|", e.a.node)));
            assert!(m_edges[k].ends_with(&format!("| n{}", e.b.node)));
            assert!(d_edges[k]
                .trim_start()
                .starts_with(&format!("\"{a}\" -- \"{b}\"")));
            for addr in e.a.addrs.iter().chain(&e.b.addrs) {
                assert!(m_edges[k].contains(addr.as_str()) && d_edges[k].contains(addr.as_str()));
            }
        }
        assert!(!mermaid.contains("linkStyle") && !dot.contains("penwidth=3"));
    }
}

#[test]
fn marking_a_path_changes_exactly_its_elements() {
    let t = two_routers();
    let plain = classes(&Drawing::new(&t).svg());
    let marked = classes(&Drawing::new(&t).mark_path(&["h1", "r1", "r2"]).svg());
    assert_eq!(
        plain.keys().collect::<Vec<_>>(),
        marked.keys().collect::<Vec<_>>()
    );
    let changed: Vec<&str> = plain
        .iter()
        .filter(|(id, class)| marked[*id] != **class)
        .map(|(id, _)| id.as_str())
        .collect();
    // Nodes h1, r1, r2; links h1-r1 and r1-r2, their lines and labels.
    assert_eq!(
        changed,
        ["edge-0", "edge-1", "label-0", "label-1", "node-0", "node-1", "node-2"]
    );
    for id in changed {
        assert!(marked[id].ends_with(" marked"));
    }

    let d = Drawing::new(&t).mark_path(&["h1", "r1", "r2"]);
    assert!(d.mermaid().contains("linkStyle 0,1 stroke:#d32f2f"));
    assert_eq!(d.mermaid().matches("    style n").count(), 3);
    assert_eq!(d.dot().matches("penwidth=3").count(), 3 + 2);
}

#[test]
fn a_path_across_a_bridge_marks_the_switch_and_both_ports() {
    let t = bridge_of_three();
    let plain = classes(&Drawing::new(&t).svg());
    for path in [&["h1", "h3"][..], &["h1", "sw", "h3"][..]] {
        let marked = classes(&Drawing::new(&t).mark_path(path).svg());
        let changed: Vec<&str> = plain
            .iter()
            .filter(|(id, class)| marked[*id] != **class)
            .map(|(id, _)| id.as_str())
            .collect();
        assert_eq!(
            changed,
            ["edge-0", "edge-2", "label-0", "label-2", "node-0", "node-1", "node-3"]
        );
    }
}

#[test]
fn bad_hops_are_reported_and_passed_over() {
    let t = router();
    assert_eq!(
        Drawing::new(&t).try_mark_path(&["h1", "h2"]).unwrap_err(),
        DrawError::NotAdjacent {
            from: "h1".into(),
            to: "h2".into()
        }
    );
    assert_eq!(
        Drawing::new(&t)
            .try_mark_path(&["h1", "nope", "h2"])
            .unwrap_err(),
        DrawError::UnknownNode {
            node: "nope".into()
        }
    );
    let c = classes(&Drawing::new(&t).mark_path(&["h1", "nope", "r1"]).svg());
    assert!(c["node-0"].ends_with("marked") && c["node-1"].ends_with("marked"));
    assert_eq!(
        c["edge-0"], "edge",
        "no hop joins h1 to r1 through an unknown node"
    );
}

#[test]
fn special_characters_are_escaped() {
    let name = "a<&\"'>#\\b\u{1b}";
    let t = Topology::new()
        .link(
            (name, "eth0", "198.51.100.1/24"),
            ("r1", "e<0>", "198.51.100.2/24"),
        )
        .forwarding("r1");
    let svg = Drawing::new(&t).svg();
    let doc = roxmltree::Document::parse(&svg).expect("escaped SVG parses");
    let shown: Vec<&str> = doc
        .descendants()
        .filter_map(|n| n.attribute("data-name"))
        .collect();
    assert_eq!(shown, ["a<&\"'>#\\b\\u{1b}", "r1"]);
    assert!(doc.descendants().any(|n| n.text() == Some("e<0>")));

    let mermaid = Drawing::new(&t).mermaid();
    assert!(
        mermaid.contains(r#"n0("a#lt;#amp;#quot;'#gt;#35;\b ")"#),
        "{mermaid}"
    );
    assert!(mermaid.contains("r1 e#lt;0#gt;"));
    let dot = Drawing::new(&t).dot();
    assert!(dot.contains(r#""a<&\"'>#\\b " -- "r1""#), "{dot}");
}

#[test]
fn a_link_within_one_column_goes_round() {
    // A triangle: h2 and h3 are both one hop from h1.
    let t = Topology::new()
        .link(
            ("h1", "a", "198.51.100.1/30"),
            ("h2", "a", "198.51.100.2/30"),
        )
        .link(
            ("h1", "b", "198.51.100.5/30"),
            ("h3", "a", "198.51.100.6/30"),
        )
        .link(
            ("h2", "b", "198.51.100.9/30"),
            ("h3", "b", "198.51.100.10/30"),
        );
    assert_readable(&t);
    let lay = layout(&Model::new(&t));
    let p = &lay.edges[2].points;
    assert_eq!(p[1].0, p[2].0, "the channel is vertical");
    assert!(
        p[1].0 > p[0].0 && p[2].0 > p[3].0,
        "it runs right of both nodes"
    );
}

#[test]
fn wires_are_dashed_with_their_models_and_the_seed_is_shown() {
    use crate::wire::{Impairment, Probability};
    let t = Topology::new()
        .link(
            Endpoint::new("h1", "eth0")
                .addr("198.51.100.1/24")
                .egress(Impairment::new().loss(Probability::percent(20.0).unwrap())),
            ("h2", "eth0", "198.51.100.2/24"),
        )
        .link(
            ("h2", "eth1", "203.0.113.1/24"),
            ("h3", "eth0", "203.0.113.2/24"),
        )
        .seed(7);
    let svg = Drawing::new(&t).svg();
    let c = classes(&svg);
    assert_eq!(
        (c["edge-0"].as_str(), c["edge-1"].as_str()),
        ("edge wire", "edge")
    );
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let edge = |id: &str| {
        doc.descendants()
            .find(|n| n.attribute("id") == Some(id))
            .unwrap()
    };
    assert!(edge("edge-0").attribute("stroke-dasharray").is_some());
    assert!(edge("edge-1").attribute("stroke-dasharray").is_none());
    let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
    assert!(texts.contains(&"out: loss 20%"), "{texts:?}");
    assert!(texts.contains(&"seed 7") && texts.contains(&"wire (out/in: models)"));
    let plain = Drawing::new(&two_hosts()).svg();
    assert!(!plain.contains("seed ") && !plain.contains("wire ("));

    let d = Drawing::new(&t);
    assert_eq!(d.mermaid().matches(" -.-|").count(), 1);
    assert_eq!(d.mermaid().matches(" ---|").count(), 1);
    assert!(d.mermaid().contains("out: loss 20%"));
    assert_eq!(d.dot().matches("style=dashed").count(), 1);
}
