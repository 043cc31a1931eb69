//! Where everything goes: a layered layout.
//!
//! Each connected part is laid out from its first node that is not a
//! switch (so a bridge sits between its members): breadth-first layers
//! become columns from left to right, and a few sweeps order each column
//! by the mean position of its neighbours in the column before (then
//! after) it, which removes most crossings. Each edge leaves its node from a
//! port of its own on the side facing the other end, runs along a
//! horizontal stub that carries its label (interface and addresses), then
//! crosses the gap; an edge between two nodes of one column goes round
//! through a channel on the column's right. Parts are stacked top to
//! bottom. Everything is deterministic: same topology, same picture.

use super::metrics::{self, LABEL_LINE, MARGIN};
use super::model::{Kind, Model};

/// A node's box, top left corner and size.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NodeBox {
    pub(crate) x: f64,
    pub(crate) y: f64,
    pub(crate) w: f64,
    pub(crate) h: f64,
}

/// Which way a label runs from its port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Anchor {
    /// Text starts at `x` (a port on the right side).
    Start,
    /// Text ends at `x` (a port on the left side).
    End,
}

/// The label at one end of an edge: `lines` stacked upwards, the last
/// line's baseline at `y`.
#[derive(Debug, Clone)]
pub(crate) struct Label {
    pub(crate) x: f64,
    pub(crate) y: f64,
    pub(crate) anchor: Anchor,
}

/// An edge as a polyline, with the labels of both ends.
#[derive(Debug, Clone)]
pub(crate) struct EdgePath {
    pub(crate) points: Vec<(f64, f64)>,
    pub(crate) label_a: Label,
    pub(crate) label_b: Label,
}

/// The whole picture's geometry (the legend goes below `height`).
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) boxes: Vec<NodeBox>,
    pub(crate) edges: Vec<EdgePath>,
    pub(crate) width: f64,
    pub(crate) height: f64,
}

/// A port: the edge and whether it is the edge's `a` end.
type Port = (usize, bool);

/// A connected part's columns, each a list of nodes top to bottom.
type Columns = Vec<Vec<usize>>;

const NODE_GAP_Y: f64 = 28.0;
const PART_GAP_Y: f64 = 40.0;
const MIN_CROSSING: f64 = 56.0;
const CHANNEL_STEP: f64 = 10.0;
const STUB_PAD: f64 = 16.0;

/// Breadth-first layers of every connected part: `(part, layer)` per node
/// and the layers of each part in order.
fn layers(model: &Model, adj: &[Vec<usize>]) -> (Vec<(usize, usize)>, Vec<Columns>) {
    let n = model.nodes.len();
    let mut at = vec![(usize::MAX, usize::MAX); n];
    let mut parts: Vec<Columns> = Vec::new();
    for start in 0..n {
        if at[start].0 != usize::MAX {
            continue;
        }
        // The part's nodes, to pick its root.
        let mut members = vec![start];
        let mut seen = vec![false; n];
        seen[start] = true;
        let mut i = 0;
        while i < members.len() {
            for &m in &adj[members[i]] {
                if !seen[m] {
                    seen[m] = true;
                    members.push(m);
                }
            }
            i += 1;
        }
        let root = members
            .iter()
            .copied()
            .filter(|&m| model.nodes[m].kind != Kind::Switch)
            .min()
            .unwrap_or(start);
        let part = parts.len();
        let mut part_layers: Columns = vec![vec![root]];
        at[root] = (part, 0);
        let mut queue = std::collections::VecDeque::from([root]);
        while let Some(v) = queue.pop_front() {
            let l = at[v].1 + 1;
            for &m in &adj[v] {
                if at[m].0 == usize::MAX {
                    at[m] = (part, l);
                    if part_layers.len() <= l {
                        part_layers.push(Vec::new());
                    }
                    part_layers[l].push(m);
                    queue.push_back(m);
                }
            }
        }
        parts.push(part_layers);
    }
    (at, parts)
}

/// Orders each layer by the mean position of its neighbours in the layer
/// before (downward sweeps) or after (upward sweeps).
fn order(layers: &mut [Vec<usize>], adj: &[Vec<usize>], pos: &mut [usize]) {
    let sweep = |layer: &mut Vec<usize>, against: &[usize], pos: &mut [usize]| {
        let mut keyed: Vec<(f64, usize, usize)> = layer
            .iter()
            .map(|&v| {
                let ps: Vec<usize> = adj[v]
                    .iter()
                    .filter(|m| against.contains(m))
                    .map(|&m| pos[m])
                    .collect();
                let key = if ps.is_empty() {
                    pos[v] as f64
                } else {
                    ps.iter().sum::<usize>() as f64 / ps.len() as f64
                };
                (key, pos[v], v)
            })
            .collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        *layer = keyed.into_iter().map(|k| k.2).collect();
        for (i, &v) in layer.iter().enumerate() {
            pos[v] = i;
        }
    };
    for _ in 0..4 {
        for l in 1..layers.len() {
            let before = layers[l - 1].clone();
            sweep(&mut layers[l], &before, pos);
        }
        for l in (0..layers.len().saturating_sub(1)).rev() {
            let after = layers[l + 1].clone();
            sweep(&mut layers[l], &after, pos);
        }
    }
}

/// The height a port takes on its side: its label and some room.
fn port_slot(model: &Model, (k, is_a): Port) -> f64 {
    let e = &model.edges[k];
    let end = if is_a { &e.a } else { &e.b };
    end.lines().count() as f64 * LABEL_LINE + 10.0
}

fn label_width(model: &Model, (k, is_a): Port) -> f64 {
    let e = &model.edges[k];
    let end = if is_a { &e.a } else { &e.b };
    end.lines().map(metrics::label_width).fold(0.0, f64::max)
}

/// Places every node and edge.
pub(crate) fn layout(model: &Model) -> Layout {
    let n = model.nodes.len();
    let adj = model.neighbours();
    let (at, mut parts) = layers(model, &adj);
    let mut pos = vec![0usize; n];
    for part in &mut parts {
        for layer in part.iter() {
            for (i, &v) in layer.iter().enumerate() {
                pos[v] = i;
            }
        }
        order(part, &adj, &mut pos);
    }
    let layer_of = |v: usize| at[v].1;

    // Ports on each side, sorted by where the other end sits.
    let mut left: Vec<Vec<Port>> = vec![Vec::new(); n];
    let mut right: Vec<Vec<Port>> = vec![Vec::new(); n];
    let mut loops: Vec<usize> = Vec::new();
    for (k, e) in model.edges.iter().enumerate() {
        let (la, lb) = (layer_of(e.a.node), layer_of(e.b.node));
        if la < lb {
            right[e.a.node].push((k, true));
            left[e.b.node].push((k, false));
        } else if la > lb {
            left[e.a.node].push((k, true));
            right[e.b.node].push((k, false));
        } else {
            right[e.a.node].push((k, true));
            right[e.b.node].push((k, false));
            loops.push(k);
        }
    }
    let other = |(k, is_a): Port| {
        let e = &model.edges[k];
        if is_a {
            e.b.node
        } else {
            e.a.node
        }
    };
    for side in left.iter_mut().chain(right.iter_mut()) {
        side.sort_by_key(|&p| (pos[other(p)], p.0));
    }

    // Box sizes.
    let mut boxes: Vec<NodeBox> = model
        .nodes
        .iter()
        .enumerate()
        .map(|(v, node)| {
            let (cw, ch) = metrics::node_content(node);
            let side = |ports: &[Port]| ports.iter().map(|&p| port_slot(model, p)).sum::<f64>();
            NodeBox {
                x: 0.0,
                y: 0.0,
                w: cw,
                h: ch.max(side(&left[v]) + 8.0).max(side(&right[v]) + 8.0),
            }
        })
        .collect();

    // Columns: widths, stubs, loop channels, x positions.
    let cols = parts.iter().map(Vec::len).max().unwrap_or(0);
    let mut col_w = vec![0.0f64; cols];
    let mut stub_l = vec![0.0f64; cols];
    let mut stub_r = vec![0.0f64; cols];
    let mut channels = vec![0usize; cols];
    for v in 0..n {
        let l = layer_of(v);
        col_w[l] = col_w[l].max(boxes[v].w);
        for &p in &left[v] {
            stub_l[l] = stub_l[l].max(label_width(model, p) + STUB_PAD);
        }
        for &p in &right[v] {
            stub_r[l] = stub_r[l].max(label_width(model, p) + STUB_PAD);
        }
    }
    let mut channel_of = vec![0usize; model.edges.len()];
    for &k in &loops {
        let l = layer_of(model.edges[k].a.node);
        channel_of[k] = channels[l];
        channels[l] += 1;
    }
    let mut col_x = vec![MARGIN; cols];
    for l in 1..cols {
        col_x[l] = col_x[l - 1]
            + col_w[l - 1]
            + stub_r[l - 1]
            + channels[l - 1] as f64 * CHANNEL_STEP
            + MIN_CROSSING
            + stub_l[l];
    }
    let mut width = MARGIN;
    for l in 0..cols {
        let channel_room = if channels[l] > 0 {
            channels[l] as f64 * CHANNEL_STEP + 8.0
        } else {
            0.0
        };
        width = width.max(col_x[l] + col_w[l] + stub_r[l] + channel_room + MARGIN);
    }

    // Rows: each part's columns centred on the part's height.
    let mut top = MARGIN;
    for part in &parts {
        let col_h: Vec<f64> = part
            .iter()
            .map(|layer| {
                layer.iter().map(|&v| boxes[v].h).sum::<f64>()
                    + NODE_GAP_Y * layer.len().saturating_sub(1) as f64
            })
            .collect();
        let part_h = col_h.iter().copied().fold(0.0, f64::max);
        for (l, layer) in part.iter().enumerate() {
            let mut y = top + (part_h - col_h[l]) / 2.0;
            for &v in layer {
                let b = &mut boxes[v];
                b.x = col_x[l] + (col_w[l] - b.w) / 2.0;
                b.y = y;
                y += b.h + NODE_GAP_Y;
            }
        }
        top += part_h + PART_GAP_Y;
    }
    let height = top - PART_GAP_Y + MARGIN;

    // Port positions: each side's slots centred on the box.
    let mut port_y = vec![(0.0f64, 0.0f64); model.edges.len()];
    for v in 0..n {
        for side in [&left[v], &right[v]] {
            let total: f64 = side.iter().map(|&p| port_slot(model, p)).sum();
            let mut t = boxes[v].y + (boxes[v].h - total) / 2.0;
            for &p in side {
                let slot = port_slot(model, p);
                let y = t + slot - 4.0;
                if p.1 {
                    port_y[p.0].0 = y;
                } else {
                    port_y[p.0].1 = y;
                }
                t += slot;
            }
        }
    }

    let edges = model
        .edges
        .iter()
        .enumerate()
        .map(|(k, e)| {
            let (ba, bb) = (boxes[e.a.node], boxes[e.b.node]);
            let (ya, yb) = port_y[k];
            let (la, lb) = (layer_of(e.a.node), layer_of(e.b.node));
            let right_end = |b: NodeBox, l: usize| (b.x + b.w, col_x[l] + col_w[l] + stub_r[l]);
            let left_end = |b: NodeBox, l: usize| (b.x, col_x[l] - stub_l[l]);
            let label = |x: f64, y: f64, anchor| Label {
                x: if anchor == Anchor::Start {
                    x + 6.0
                } else {
                    x - 6.0
                },
                y: y - 5.0,
                anchor,
            };
            if la == lb {
                let (xa, sa) = right_end(ba, la);
                let (xb, _) = right_end(bb, lb);
                let cx = sa + 8.0 + channel_of[k] as f64 * CHANNEL_STEP;
                EdgePath {
                    points: vec![(xa, ya), (cx, ya), (cx, yb), (xb, yb)],
                    label_a: label(xa, ya, Anchor::Start),
                    label_b: label(xb, yb, Anchor::Start),
                }
            } else {
                let ((xa, sa), aa) = if la < lb {
                    (right_end(ba, la), Anchor::Start)
                } else {
                    (left_end(ba, la), Anchor::End)
                };
                let ((xb, sb), ab) = if la < lb {
                    (left_end(bb, lb), Anchor::End)
                } else {
                    (right_end(bb, lb), Anchor::Start)
                };
                EdgePath {
                    points: vec![(xa, ya), (sa, ya), (sb, yb), (xb, yb)],
                    label_a: label(xa, ya, aa),
                    label_b: label(xb, yb, ab),
                }
            }
        })
        .collect();
    Layout {
        boxes,
        edges,
        width,
        height,
    }
}
