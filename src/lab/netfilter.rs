//! A node's NATs and firewall, live: what it declares now, and how a new
//! declaration replaces the old one in the kernel. The build installs the
//! topology's; the firewall layer changes them at run time. The lab only
//! keeps the declaration and applies tables made elsewhere.

use super::node::Node;
use crate::error::Result;
use crate::ruleset::{NodeRuleset, RulesetConfig, FIREWALL_FAMILY, FIREWALL_TABLE};
use crate::sys::netlink::nft::Batch;
use crate::sys::sysctl::{read_sysctl, write_sysctl};
use crate::topology::{IfaceView, NodeView};

/// What a node declares now, and the sysctl values its NATs replaced.
#[derive(Debug, Default)]
pub(crate) struct NetfilterState {
    /// The NATs and firewall in force.
    pub(crate) config: RulesetConfig,
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

    /// Makes `config`, compiled into `ruleset`, the node's NATs and
    /// firewall: its table changed in one transaction (removed when
    /// empty; the presets' sets keep their mappings when they and the
    /// rules that write them stay the same), then the conntrack sysctls it sets written (the values they
    /// replace are kept, and written back when no declaration sets them).
    /// Refused once the network's teardown has begun.
    pub(crate) fn apply_netfilter(
        &self,
        config: RulesetConfig,
        ruleset: &NodeRuleset,
    ) -> Result<()> {
        self.refuse_once_torn(|| {
            format!("a change of the NATs and firewall of node {}", self.name())
        })?;
        let mut state = self.netfilter.lock().unwrap_or_else(|p| p.into_inner());
        let mut batch = Batch::new();
        if state.config.is_empty() {
            if !ruleset.is_empty() {
                batch.install_table(FIREWALL_FAMILY, FIREWALL_TABLE, ruleset);
            }
        } else {
            batch.update_table(FIREWALL_FAMILY, FIREWALL_TABLE, &state.installed, ruleset);
        }
        if !batch.is_empty() {
            self.with_nft(|nft| nft.apply(&batch))?;
        }
        // The table is in force from here on, whatever the sysctls do, so
        // the next change replaces it.
        state.config = config;
        state.installed = ruleset.clone();
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
