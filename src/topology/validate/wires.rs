//! A link's wire, if either end asks for one: the model of each direction,
//! checked, and never given twice.

use super::super::plan::PlanWire;
use super::super::{Endpoint, TopologyError};
use crate::impairment::Impairment;

/// The wire joining `a` and `b`, or `None` for a veth pair.
pub(super) fn plan_wire(a: &Endpoint, b: &Endpoint) -> Result<Option<PlanWire>, TopologyError> {
    if a.wire.is_none() && b.wire.is_none() {
        return Ok(None);
    }
    Ok(Some(PlanWire {
        models: [direction(a, b)?, direction(b, a)?],
    }))
}

/// The model of what `from` sends to `to`.
fn direction(from: &Endpoint, to: &Endpoint) -> Result<Impairment, TopologyError> {
    let sent = from.wire.as_ref().and_then(|w| w.egress.as_ref());
    let received = to.wire.as_ref().and_then(|w| w.ingress.as_ref());
    let (model, declared_by) = match (sent, received) {
        (Some(_), Some(_)) => {
            return Err(TopologyError::ConflictingImpairment {
                from_node: from.node.clone(),
                from_ifname: from.ifname.clone(),
                to_node: to.node.clone(),
                to_ifname: to.ifname.clone(),
            })
        }
        (Some(m), None) => (m, from),
        (None, Some(m)) => (m, to),
        (None, None) => return Ok(Impairment::new()),
    };
    model
        .validate()
        .map_err(|source| TopologyError::InvalidImpairment {
            node: declared_by.node.clone(),
            ifname: declared_by.ifname.clone(),
            source,
        })?;
    Ok(model.clone())
}
