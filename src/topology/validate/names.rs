//! Node and interface names.

use super::TopologyError;
use crate::vocab::{check_ifname as kernel_ifname_rule, IfnameProblem};

pub(super) fn check_node_name(name: &str) -> Result<(), TopologyError> {
    let reason = if name.is_empty() {
        "a node name cannot be empty"
    } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        "a node name cannot hold whitespace or control characters"
    } else {
        return Ok(());
    };
    Err(TopologyError::InvalidName {
        name: name.to_string(),
        reason: reason.into(),
    })
}

/// The kernel's rule, and no `lo`: every node has it already.
pub(super) fn check_ifname(node: &str, name: &str) -> Result<(), TopologyError> {
    let invalid = |reason: String| {
        Err(TopologyError::InvalidName {
            name: format!("{node}/{name}"),
            reason,
        })
    };
    match kernel_ifname_rule(name) {
        Ok(()) => {}
        Err(IfnameProblem::TooLong(len)) => {
            return Err(TopologyError::NameTooLong {
                node: node.to_string(),
                ifname: name.to_string(),
                len,
            })
        }
        Err(problem) => return invalid(problem.to_string()),
    }
    if name == "lo" {
        return invalid("`lo` is the loopback every node already has".into());
    }
    Ok(())
}
