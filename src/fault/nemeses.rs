//! Built-in nemeses that partition: random halves, one node isolated.

use super::nemesis::Nemesis;
use super::FaultId;
use crate::error::{Error, Result};
use crate::lab::Net;
use crate::vocab::Rng;

/// The nodes a nemesis picks from: the given ones, or every node with an
/// address (a switch has none to drop packets by).
fn candidates(net: &Net, only: &[String]) -> Vec<String> {
    if only.is_empty() {
        net.nodes()
            .iter()
            .filter(|n| !n.declared_addrs().is_empty())
            .map(|n| n.name().to_string())
            .collect()
    } else {
        only.to_vec()
    }
}

/// Checks that the nodes named in `only` exist, have an address and are
/// named once, and that there are at least `least` nodes to pick from.
fn check_candidates(net: &Net, only: &[String], least: usize, what: &str) -> Result<()> {
    for (i, name) in only.iter().enumerate() {
        if only[..i].contains(name) {
            return Err(Error::InvalidPartition {
                reason: format!("node `{name}` is named twice for {what}"),
            });
        }
        if net.node(name)?.declared_addrs().is_empty() {
            return Err(Error::InvalidPartition {
                reason: format!(
                    "node `{name}` has no address (a partition drops packets by address)"
                ),
            });
        }
    }
    if candidates(net, only).len() < least {
        return Err(Error::InvalidPartition {
            reason: format!("{what} need at least {least} node(s) with an address"),
        });
    }
    Ok(())
}

/// The fault a nemesis started, which its stop ends. A clone of the
/// nemesis has none: that fault stays the original's to end.
#[derive(Debug, Default)]
pub(super) struct Started(Option<FaultId>);

impl Clone for Started {
    fn clone(&self) -> Self {
        Started(None)
    }
}

impl Started {
    pub(super) fn set(&mut self, id: FaultId) {
        self.0 = Some(id);
    }

    /// Ends the fault, if one was started and it is still active.
    pub(super) fn end(&mut self, net: &Net) -> Result<()> {
        match self.0.take() {
            Some(id) => net.end_fault(id),
            None => Ok(()),
        }
    }
}

/// A nemesis that splits the nodes into two random halves (Jepsen's
/// `partition-random-halves`), then heals.
#[derive(Debug, Clone, Default)]
pub struct RandomHalves {
    only: Vec<String>,
    active: Started,
}

impl RandomHalves {
    /// Halves of every node of the network that has an address.
    pub fn new() -> RandomHalves {
        RandomHalves::default()
    }

    /// Halves of these nodes only (the others, routers say, stay whole).
    /// A node named twice, like one without an address, is refused with
    /// [`Error::InvalidPartition`] by the schedule's check, before anything
    /// runs.
    pub fn of<S: Into<String>>(nodes: impl IntoIterator<Item = S>) -> RandomHalves {
        RandomHalves {
            only: nodes.into_iter().map(Into::into).collect(),
            active: Started::default(),
        }
    }
}

impl Nemesis for RandomHalves {
    fn name(&self) -> &str {
        "random-halves"
    }

    fn check(&self, net: &Net) -> Result<()> {
        check_candidates(net, &self.only, 2, "random halves")
    }

    fn start(&mut self, net: &Net, rng: &mut Rng) -> Result<String> {
        let mut nodes = candidates(net, &self.only);
        if nodes.len() < 2 {
            return Err(Error::InvalidPartition {
                reason: "random halves need at least two nodes".into(),
            });
        }
        rng.shuffle(&mut nodes);
        let b = nodes.split_off(nodes.len() / 2);
        let (mut a, mut b) = (nodes, b);
        a.sort();
        b.sort();
        let detail = format!("{{{}}} | {{{}}}", a.join(", "), b.join(", "));
        self.active.set(net.partition(a, b)?.into_id());
        Ok(detail)
    }

    fn stop(&mut self, net: &Net) -> Result<String> {
        self.active.end(net)?;
        Ok("healed".into())
    }
}

/// A nemesis that cuts one random node off from all the others, then heals.
#[derive(Debug, Clone, Default)]
pub struct IsolateOne {
    only: Vec<String>,
    active: Started,
}

impl IsolateOne {
    /// Picks among every node of the network that has an address.
    pub fn new() -> IsolateOne {
        IsolateOne::default()
    }

    /// Picks among these nodes only. A node named twice, like one without
    /// an address, is refused with [`Error::InvalidPartition`] by the
    /// schedule's check, before anything runs.
    pub fn of<S: Into<String>>(nodes: impl IntoIterator<Item = S>) -> IsolateOne {
        IsolateOne {
            only: nodes.into_iter().map(Into::into).collect(),
            active: Started::default(),
        }
    }
}

impl Nemesis for IsolateOne {
    fn name(&self) -> &str {
        "isolate-one"
    }

    fn check(&self, net: &Net) -> Result<()> {
        check_candidates(net, &self.only, 1, "isolating a node")
    }

    fn start(&mut self, net: &Net, rng: &mut Rng) -> Result<String> {
        let nodes = candidates(net, &self.only);
        if nodes.is_empty() {
            return Err(Error::InvalidPartition {
                reason: "no node to isolate".into(),
            });
        }
        let node = nodes[rng.below(nodes.len())].clone();
        self.active.set(net.isolate(&node)?.into_id());
        Ok(format!("{node} isolated"))
    }

    fn stop(&mut self, net: &Net) -> Result<String> {
        self.active.end(net)?;
        Ok("healed".into())
    }
}
