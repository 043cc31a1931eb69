//! Pictures of a topology: SVG for people, Mermaid and Graphviz DOT text
//! for documentation, with a path optionally marked (a failing path in a
//! failed scenario's artifacts).
//!
//! Pure: a [`Drawing`] turns a [`Topology`] into text and does no I/O.
//! Hosts, routers (nodes with forwarding on) and switches (bridge
//! segments) have their own shape and colour, explained by a legend; each
//! link is a line with its interface names and addresses at both ends, and
//! a bridge segment is a switch node with a line to each member (the
//! switch's ends are its ports, `port1`, `port2`, ...). A wire is a dashed
//! line whose labels add each end's models (`out: delay 20ms`). A node's
//! box also lists its kind, NAT and firewall, and its first routes; the
//! legend shows the topology's seed when it has one.
//!
//! The layout is layered and deterministic: columns are the breadth-first
//! layers from the first node that is not a switch, ordered to avoid
//! crossings; unconnected parts are stacked. It stays readable for small
//! labs and reasonable up to some fifty nodes.
//!
//! ```
//! use netns_test::{draw::Drawing, Route, Topology};
//!
//! let lab = Topology::new()
//!     .link(("h1", "eth0", "198.51.100.1/24"), ("r1", "eth0", "198.51.100.254/24"))
//!     .link(("r1", "eth1", "203.0.113.254/24"), ("h2", "eth0", "203.0.113.1/24"))
//!     .forwarding("r1")
//!     .route("h1", Route::default_via("198.51.100.254"))
//!     .route("h2", Route::default_via("203.0.113.254"));
//!
//! let svg = Drawing::new(&lab).svg();
//! assert!(svg.starts_with("<?xml") && svg.contains("198.51.100.254/24"));
//!
//! // The same with the path h1 → r1 → h2 in red, for a failed scenario.
//! let failed = Drawing::new(&lab).mark_path(&["h1", "r1", "h2"]).svg();
//! assert!(failed.contains("marked path"));
//!
//! // Text for a README or a wiki.
//! assert!(Drawing::new(&lab).mermaid().starts_with("graph LR"));
//! assert!(Drawing::new(&lab).dot().starts_with("graph topology {"));
//! ```

mod layout;
mod mark;
mod metrics;
mod model;
mod svg;
mod text;

pub use mark::DrawError;

use mark::Marks;
use model::Model;

use super::Topology;

/// A topology ready to draw, with what is marked.
///
/// Built from a [`Topology`] as it is declared (it need not be valid: what
/// can be drawn is drawn); the outputs are [`svg`](Drawing::svg),
/// [`mermaid`](Drawing::mermaid) and [`dot`](Drawing::dot).
#[derive(Debug, Clone)]
pub struct Drawing {
    model: Model,
    marks: Marks,
}

impl Drawing {
    /// A drawing of `topology`, nothing marked.
    pub fn new(topology: &Topology) -> Drawing {
        let model = Model::new(topology);
        let marks = Marks::new(&model);
        Drawing { model, marks }
    }

    /// Marks a path: its nodes, and the links between consecutive hops (or,
    /// when two hops are members of one bridge segment, both their lines to
    /// the switch and the switch). Hops that are not nodes, and consecutive
    /// hops with no link or segment between them, are passed over; use
    /// [`try_mark_path`](Drawing::try_mark_path) to have them reported.
    /// Marks add up over several calls.
    ///
    /// ```
    /// use netns_test::{draw::Drawing, Topology};
    ///
    /// let lan = Topology::new().bridge("sw", [
    ///     ("h1", "eth0", "198.51.100.1/24"),
    ///     ("h2", "eth0", "198.51.100.2/24"),
    ///     ("h3", "eth0", "198.51.100.3/24"),
    /// ]);
    /// // h1 and h3 meet through the switch: sw and both lines are marked.
    /// let svg = Drawing::new(&lan).mark_path(&["h1", "h3"]).svg();
    /// assert_eq!(svg.matches(r#"class="edge marked""#).count(), 2);
    /// ```
    pub fn mark_path(mut self, path: &[&str]) -> Drawing {
        let _ = self.marks.mark_path(&self.model, path);
        self
    }

    /// Like [`mark_path`](Drawing::mark_path), but the first hop that names
    /// no node, or the first pair of consecutive hops with nothing between
    /// them, is an error naming them.
    ///
    /// ```
    /// use netns_test::{draw::{DrawError, Drawing}, Topology};
    ///
    /// let t = Topology::new()
    ///     .link(("h1", "eth0", "198.51.100.1/24"), ("h2", "eth0", "198.51.100.2/24"))
    ///     .node("h3");
    /// assert!(Drawing::new(&t).try_mark_path(&["h1", "h2"]).is_ok());
    /// let err = Drawing::new(&t).try_mark_path(&["h1", "h3"]).unwrap_err();
    /// assert_eq!(err, DrawError::NotAdjacent { from: "h1".into(), to: "h3".into() });
    /// let err = Drawing::new(&t).try_mark_path(&["h1", "r9"]).unwrap_err();
    /// assert_eq!(err, DrawError::UnknownNode { node: "r9".into() });
    /// ```
    pub fn try_mark_path(mut self, path: &[&str]) -> Result<Drawing, DrawError> {
        self.marks.mark_path(&self.model, path)?;
        Ok(self)
    }

    /// The picture as a standalone SVG document (UTF-8 text, XML escaped).
    ///
    /// Each node is a `<g id="node-N" class="node KIND">` (`KIND` is
    /// `host`, `router` or `switch`) with its name in `data-name`, each
    /// link a `<polyline id="edge-N" class="edge">` and its labels a
    /// `<g id="label-N" class="label">`; marked ones add the class
    /// `marked`. Nodes are numbered in creation order, edges in declaration
    /// order (links, then each segment's members).
    pub fn svg(&self) -> String {
        svg::svg(&self.model, &self.marks)
    }

    /// A Mermaid flowchart (`graph LR`), for Markdown that renders Mermaid.
    ///
    /// ```
    /// use netns_test::{draw::Drawing, Topology};
    ///
    /// let t = Topology::new()
    ///     .link(("h1", "eth0", "198.51.100.1/24"), ("r1", "eth0", "198.51.100.254/24"))
    ///     .forwarding("r1");
    /// let text = Drawing::new(&t).mermaid();
    /// assert!(text.contains(r#"n0("h1")"#) && text.contains(r#"n1{{"r1"}}"#));
    /// assert!(text.contains("n0 ---|"));
    /// ```
    pub fn mermaid(&self) -> String {
        text::mermaid(&self.model, &self.marks)
    }

    /// A Graphviz DOT graph (`dot -Tsvg` renders it), interfaces and
    /// addresses as the edges' tail and head labels.
    ///
    /// ```
    /// use netns_test::{draw::Drawing, Topology};
    ///
    /// let t = Topology::new()
    ///     .link(("h1", "eth0", "198.51.100.1/24"), ("h2", "eth0", "198.51.100.2/24"));
    /// let text = Drawing::new(&t).mark_path(&["h1", "h2"]).dot();
    /// assert!(text.contains(r#""h1" -- "h2" [taillabel="eth0\n198.51.100.1/24""#));
    /// assert!(text.contains("penwidth=3"));
    /// ```
    pub fn dot(&self) -> String {
        text::dot(&self.model, &self.marks)
    }
}

#[cfg(test)]
mod tests;
