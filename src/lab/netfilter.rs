//! A node's NATs and firewall, live: what it declares now, and how a new
//! declaration replaces the old one in the kernel. The build installs the
//! topology's; the firewall layer changes them at run time. The lab only
//! keeps the declaration and applies tables made elsewhere.

use super::node::Node;
use crate::error::Result;
use crate::ruleset::{Layers, NodeRuleset, RulesetConfig, FIREWALL_FAMILY, FIREWALL_TABLE};
use crate::sys::netlink::nft::Batch;
use crate::sys::sysctl::{read_sysctl, write_sysctl};
use crate::topology::{IfaceView, NodeView};

/// What a node declares now, and the sysctl values its NATs replaced.
#[derive(Debug, Default)]
pub(crate) struct NetfilterState {
    /// The declaration and the changes over it whose guards live.
    layers: Layers,
    /// The NATs and firewall in force: `layers.config()`.
    config: RulesetConfig,
    /// `config` compiled: what the node's table holds.
    installed: NodeRuleset,
    /// (path, value before the first change): written back when no
    /// declaration sets the sysctl any more.
    saved: Vec<(String, String)>,
}

impl Node {
    /// The node as the NAT and firewall checks see it.
    pub(crate) fn netfilter_view(&self) -> NodeView<'_> {
        NodeView {
            name: self.name(),
            ifaces: self
                .ifaces
                .iter()
                .map(|i| IfaceView {
                    name: &i.name,
                    addrs: &i.addrs,
                })
                .collect(),
            forwarding: Some(self.forwarding),
            switch: self.ifaces.iter().any(|i| i.master.is_some()),
        }
    }

    /// The NATs and firewall the node declares now.
    pub(crate) fn netfilter_config(&self) -> RulesetConfig {
        self.netfilter
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .config
            .clone()
    }

    /// Makes `layers`, whose declaration compiles into `ruleset`, the
    /// node's NATs and firewall: its table changed in one transaction
    /// (removed when empty; the presets' sets keep their mappings when
    /// they and the rules that write them stay the same), then the
    /// conntrack sysctls it sets written (the values they replace are
    /// kept, and written back when no declaration sets them). When a
    /// sysctl cannot be written, the table and the declaration go back to
    /// what they were, and the sysctls to the old declaration's values as
    /// far as they can. Refused once the network's teardown has begun.
    pub(crate) fn apply_netfilter(&self, layers: Layers, ruleset: &NodeRuleset) -> Result<()> {
        self.update_netfilter(|_| Ok(layers), |_| Ok(ruleset.clone()))
            .map(|_| ())
    }

    /// Changes the node's NATs and firewall as [`apply_netfilter`]
    /// does, to what `edit` makes of its layers, the declaration in force
    /// compiled by `compile`: `edit` reads them and the change is made
    /// under one hold of the node's netfilter lock, so concurrent changes
    /// of one node apply one after the other, each to the layers the one
    /// before left. When the declaration in force stays the same, only the
    /// layers change (the table is left as it is). Returns the layers it
    /// replaced; an error of `edit` or `compile` changes nothing.
    ///
    /// [`apply_netfilter`]: Node::apply_netfilter
    pub(crate) fn update_netfilter(
        &self,
        edit: impl FnOnce(&Layers) -> Result<Layers>,
        compile: impl FnOnce(&RulesetConfig) -> Result<NodeRuleset>,
    ) -> Result<Layers> {
        self.refuse_once_torn(|| {
            format!("a change of the NATs and firewall of node {}", self.name())
        })?;
        let mut state = self.netfilter.lock().unwrap_or_else(|p| p.into_inner());
        let layers = edit(&state.layers)?;
        let config = layers.config();
        if config == state.config {
            return Ok(std::mem::replace(&mut state.layers, layers));
        }
        let ruleset = &compile(&config)?;
        self.change_table(state.config.is_empty(), &state.installed, ruleset)?;
        let old_config = std::mem::replace(&mut state.config, config);
        let old_layers = std::mem::replace(&mut state.layers, layers);
        let old_installed = std::mem::replace(&mut state.installed, ruleset.clone());
        let Err(e) = self.write_netfilter_sysctls(&mut state, ruleset) else {
            return Ok(old_layers);
        };
        // Back to the old table and declaration; the sysctls follow them
        // as far as they can (a failure here is the first one's cause).
        if self
            .change_table(state.config.is_empty(), ruleset, &old_installed)
            .is_ok()
        {
            state.config = old_config;
            state.layers = old_layers;
            state.installed = old_installed.clone();
            let _ = self.write_netfilter_sysctls(&mut state, &old_installed);
        }
        Err(e)
    }

    /// Changes the node's table from `old` (none when `was_empty`) to `new`.
    fn change_table(&self, was_empty: bool, old: &NodeRuleset, new: &NodeRuleset) -> Result<()> {
        let mut batch = Batch::new();
        if was_empty {
            if !new.is_empty() {
                batch.install_table(FIREWALL_FAMILY, FIREWALL_TABLE, new);
            }
        } else {
            batch.update_table(FIREWALL_FAMILY, FIREWALL_TABLE, old, new);
        }
        if !batch.is_empty() {
            self.with_nft(|nft| nft.apply(&batch))?;
        }
        Ok(())
    }

    /// Writes the sysctls `ruleset` sets, saving the values they replace,
    /// and writes back the saved values no declaration sets any more.
    fn write_netfilter_sysctls(
        &self,
        state: &mut NetfilterState,
        ruleset: &NodeRuleset,
    ) -> Result<()> {
        if ruleset.sysctls.is_empty() && state.saved.is_empty() {
            return Ok(());
        }
        let name = self.name().to_string();
        let wanted = ruleset.sysctls.clone();
        let saved = state.saved.clone();
        // Every value read before a write stays saved, even when a later
        // write fails, so that it is written back in the end.
        let (now_saved, written) = self.run(move || {
            let mut saved = saved;
            for (path, value) in &wanted {
                if !saved.iter().any(|(p, _)| p == path) {
                    match read_sysctl(&name, path) {
                        Ok(old) => saved.push((path.clone(), old)),
                        Err(e) => return (saved, Err(e)),
                    }
                }
                if let Err(e) = write_sysctl(&name, path, value) {
                    return (saved, Err(e));
                }
            }
            let (mut keep, restore): (Vec<_>, Vec<_>) = saved
                .into_iter()
                .partition(|(p, _)| wanted.iter().any(|(w, _)| w == p));
            let mut restore = restore.into_iter();
            while let Some((path, value)) = restore.next() {
                if let Err(e) = write_sysctl(&name, &path, &value) {
                    keep.push((path, value));
                    keep.extend(restore);
                    return (keep, Err(e));
                }
            }
            (keep, Ok(()))
        })?;
        state.saved = now_saved;
        written
    }
}

#[cfg(test)]
mod tests {
    use crate::firewall::{Filter, Firewall};
    use crate::lab::node::Lazy;
    use crate::{Net, Topology};

    #[test]
    fn the_build_keeps_no_nftables_socket_and_a_change_opens_one() {
        let firewall = || Firewall::new().input(Filter::drop().tcp());
        let t = Topology::new()
            .link(
                ("n1", "eth0", "198.51.100.1/24"),
                ("n2", "eth0", "198.51.100.2/24"),
            )
            .firewall("n1", firewall());
        let net = Net::build(&t).unwrap();
        let n1 = &net["n1"];
        let open = || matches!(*n1.nft.lock().unwrap(), Lazy::Open(_));
        assert!(!open(), "the build's nftables socket is still open");
        // A change at run time opens one, and keeps it for the next.
        let change = n1.remove_firewall().unwrap();
        assert!(open());
        drop(change);
        assert!(open());
        // The build's firewall is in force again.
        let ruleset = format!("{:?}", n1.ruleset().unwrap());
        assert!(
            ruleset.contains("drop") || ruleset.contains("Drop"),
            "{ruleset}"
        );
    }
}
