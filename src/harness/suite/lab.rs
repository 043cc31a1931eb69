//! The lab of a suite file: the `[topology]` of each file of an include
//! chain, built into one [`Topology`] in a fixed order, and a validation
//! error placed at the entry that causes it.

use std::collections::BTreeMap;

use super::error::{SuiteError, SuiteErrorKind};
use super::format::topology::{BridgeSpec, FirewallSpec, LinkSpec, NatSpec, RouteSpec};
use super::format::TopologySpec;
use super::source::Source;
use crate::Topology;

/// One file's topology: its source (for positions), its table, where the
/// table starts.
pub(crate) struct Layer {
    pub(crate) source: Source,
    pub(crate) spec: TopologySpec,
    pub(crate) offset: usize,
}

/// One entry of a topology, in the order they are built: what declares
/// nodes and interfaces first, then what uses them.
enum Item<'a> {
    Node(&'a str),
    Link(&'a LinkSpec),
    Bridge(&'a BridgeSpec),
    Route(&'a RouteSpec),
    Forwarding(&'a str),
    Sysctls(&'a str, &'a BTreeMap<String, String>),
    Nat(&'a NatSpec),
    Firewall(&'a FirewallSpec),
}

/// Every entry of the layers: (layer, offset in its source, entry).
fn entries(layers: &[Layer]) -> Vec<(usize, usize, Item<'_>)> {
    let mut out = Vec::new();
    for kind in 0..8 {
        for (i, l) in layers.iter().enumerate() {
            let s = &l.spec;
            match kind {
                0 => out.extend(
                    s.nodes
                        .iter()
                        .map(|n| (i, n.span().start, Item::Node(n.get_ref()))),
                ),
                1 => out.extend(
                    s.links
                        .iter()
                        .map(|n| (i, n.span().start, Item::Link(n.get_ref()))),
                ),
                2 => out.extend(
                    s.bridges
                        .iter()
                        .map(|n| (i, n.span().start, Item::Bridge(n.get_ref()))),
                ),
                3 => out.extend(
                    s.routes
                        .iter()
                        .map(|n| (i, n.span().start, Item::Route(n.get_ref()))),
                ),
                4 => out.extend(
                    s.forwarding
                        .iter()
                        .map(|n| (i, n.span().start, Item::Forwarding(n.get_ref()))),
                ),
                5 => out.extend(
                    s.sysctls
                        .iter()
                        .map(|(n, t)| (i, l.offset, Item::Sysctls(n, t))),
                ),
                6 => out.extend(
                    s.nat
                        .iter()
                        .map(|n| (i, n.span().start, Item::Nat(n.get_ref()))),
                ),
                _ => out.extend(
                    s.firewall
                        .iter()
                        .map(|n| (i, n.span().start, Item::Firewall(n.get_ref()))),
                ),
            }
        }
    }
    out
}

/// The topology of `items`, or the position and text of an entry that
/// cannot be one (a NAT or firewall missing a field).
fn build(items: &[(usize, usize, Item<'_>)]) -> Result<Topology, (usize, String)> {
    let mut t = Topology::new();
    for (k, (_, _, item)) in items.iter().enumerate() {
        t = match item {
            Item::Node(n) => t.node(*n),
            Item::Link(l) => t.link(l.a.endpoint(), l.b.endpoint()),
            Item::Bridge(b) => {
                let t = t.bridge(&b.switch, b.members.get_ref().iter().map(|m| m.endpoint()));
                if b.forward_mld {
                    t.forward_mld(&b.switch)
                } else {
                    t
                }
            }
            Item::Route(r) => t.route(&r.node, r.route()),
            Item::Forwarding(n) => t.forwarding(*n),
            Item::Sysctls(node, table) => table
                .iter()
                .fold(t, |t, (key, value)| t.sysctl(*node, key, value)),
            Item::Nat(n) => {
                let nat = n
                    .nat()
                    .map_err(|e| (k, format!("nat on {}: {e}", n.node)))?;
                t.nat(&n.node, nat)
            }
            Item::Firewall(f) => {
                let fw = f
                    .firewall()
                    .map_err(|e| (k, format!("firewall of {}: {e}", f.node)))?;
                t.firewall(&f.node, fw)
            }
        };
    }
    Ok(t)
}

/// The first bridge of `items` with no member, as a mistake at its
/// `members`: the segment would join no node.
fn empty_bridge(layers: &[Layer], items: &[(usize, usize, Item<'_>)]) -> Option<SuiteError> {
    items.iter().find_map(|(layer, _, item)| match item {
        Item::Bridge(b) if b.members.get_ref().is_empty() => Some(layers[*layer].source.error(
            b.members.span().start,
            SuiteErrorKind::Topology(format!(
                "bridge `{}`: `members` is empty: the segment would join no node; \
                 name at least one member",
                b.switch
            )),
        )),
        _ => None,
    })
}

/// The lab of `layers` (an include chain, the included file first),
/// validated, with `seed`; an invalid one is an error at the entry that
/// makes it so (a bridge with no member at its `members`).
pub(crate) fn topology(layers: &[Layer], seed: u64) -> Result<Topology, SuiteError> {
    let items = entries(layers);
    if let Some(e) = empty_bridge(layers, &items) {
        return Err(e);
    }
    let at = |k: usize, message: String| {
        let (layer, offset, _) = &items[k];
        layers[*layer]
            .source
            .error(*offset, SuiteErrorKind::Topology(message))
    };
    let topology = build(&items).map_err(|(k, m)| at(k, m))?.seed(seed);
    let Err(full) = topology.validate() else {
        return Ok(topology);
    };
    // The shortest failing prefix ends with the culprit: declarations come
    // first, so an entry never needs a later one to be valid.
    let fails = |k: usize| build(&items[..k]).map_or(true, |t| t.validate().is_err());
    let (mut lo, mut hi) = (0, items.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if fails(mid + 1) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    if lo < items.len() {
        let message = match build(&items[..=lo]).map(|t| t.validate()) {
            Ok(Err(e)) => e.to_string(),
            _ => full.to_string(),
        };
        return Err(at(lo, message));
    }
    let last = layers.last().expect("at least one layer");
    Err(last
        .source
        .error(last.offset, SuiteErrorKind::Topology(full.to_string())))
}
