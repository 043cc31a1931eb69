//! Marking a path: the nodes it names and the edges between consecutive
//! hops (through a switch when two hops share a bridge segment).

use super::model::{Kind, Model};

/// Why a path cannot be marked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DrawError {
    /// A hop names no node of the topology.
    #[error("path hop {node:?} is not a node of the topology")]
    UnknownNode {
        /// The name given.
        node: String,
    },
    /// Two consecutive hops share neither a link nor a bridge segment.
    #[error("path hops {from:?} and {to:?} share no link or bridge")]
    NotAdjacent {
        /// The hop before.
        from: String,
        /// The hop after.
        to: String,
    },
}

/// What is marked: one flag per node and per edge of the model.
#[derive(Debug, Clone, Default)]
pub(crate) struct Marks {
    pub(crate) nodes: Vec<bool>,
    pub(crate) edges: Vec<bool>,
}

impl Marks {
    pub(crate) fn new(model: &Model) -> Marks {
        Marks {
            nodes: vec![false; model.nodes.len()],
            edges: vec![false; model.edges.len()],
        }
    }

    pub(crate) fn any(&self) -> bool {
        self.nodes.iter().chain(&self.edges).any(|m| *m)
    }

    /// Marks `path`; the first problem found is returned, and what could
    /// be marked is marked all the same.
    pub(crate) fn mark_path(&mut self, model: &Model, path: &[&str]) -> Result<(), DrawError> {
        let mut first_error = None;
        let mut prev: Option<usize> = None;
        for hop in path {
            let Some(i) = model.index(hop) else {
                first_error.get_or_insert(DrawError::UnknownNode {
                    node: (*hop).to_string(),
                });
                prev = None;
                continue;
            };
            self.nodes[i] = true;
            if let Some(p) = prev {
                if !self.mark_hop(model, p, i) {
                    first_error.get_or_insert(DrawError::NotAdjacent {
                        from: model.nodes[p].name.clone(),
                        to: model.nodes[i].name.clone(),
                    });
                }
            }
            prev = Some(i);
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Marks the edges from `x` to `y`: direct links, or else the two
    /// member edges of a switch both are on. Whether any was found.
    fn mark_hop(&mut self, model: &Model, x: usize, y: usize) -> bool {
        if x == y {
            return true;
        }
        let mut found = false;
        for (k, e) in model.edges.iter().enumerate() {
            if e.joins(x, y) {
                self.edges[k] = true;
                found = true;
            }
        }
        if found {
            return true;
        }
        for (s, node) in model.nodes.iter().enumerate() {
            if node.kind != Kind::Switch {
                continue;
            }
            let to_x = model.edges.iter().position(|e| e.joins(s, x));
            let to_y = model.edges.iter().position(|e| e.joins(s, y));
            if let (Some(kx), Some(ky)) = (to_x, to_y) {
                self.edges[kx] = true;
                self.edges[ky] = true;
                self.nodes[s] = true;
                return true;
            }
        }
        false
    }
}
