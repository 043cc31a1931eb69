//! What one node declares (its NATs and its firewall) and what that becomes:
//! the sets, base chains and rules of the node's firewall table, and the
//! sysctls that go with them.

use super::{BaseChain, Firewall, Nat, Rule, SetDef, TableFamily};

/// The table a node's NAT and firewall live in (`inet`), apart from the
/// faults' table and from any table of the user's own.
pub(crate) const FIREWALL_TABLE: &str = "netns_test_firewall";

/// The family of [`FIREWALL_TABLE`].
pub(crate) const FIREWALL_FAMILY: TableFamily = TableFamily::Inet;

/// What a node declares: its NATs, in order, and its firewall.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RulesetConfig {
    /// The translations.
    pub(crate) nats: Vec<Nat>,
    /// The packet filter.
    pub(crate) firewall: Option<Firewall>,
}

impl RulesetConfig {
    /// Whether it declares nothing.
    pub(crate) fn is_empty(&self) -> bool {
        self.nats.is_empty() && self.firewall.is_none()
    }
}

/// The contents of a node's firewall table, in the order they are made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NodeRuleset {
    /// Named sets and maps.
    pub(crate) sets: Vec<SetDef>,
    /// Base chains: (name, hook and policy).
    pub(crate) chains: Vec<(String, BaseChain)>,
    /// Rules: (chain, rule), in order within each chain.
    pub(crate) rules: Vec<(String, Rule)>,
    /// Sysctls to write once the table exists (conntrack's UDP timeouts):
    /// (`/proc/sys` relative path, value).
    pub(crate) sysctls: Vec<(String, String)>,
}

impl NodeRuleset {
    /// Whether there is nothing to install.
    pub(crate) fn is_empty(&self) -> bool {
        self.sets.is_empty() && self.chains.is_empty() && self.sysctls.is_empty()
    }

    /// The table as `nft list ruleset` prints it, counters at zero, without
    /// set elements: what the node holds right after installing it.
    #[cfg(test)]
    pub(crate) fn text(&self) -> String {
        let mut blocks: Vec<String> = Vec::new();
        for set in &self.sets {
            let mut b = format!("\t{} {} {{\n", super::text::set_keyword(set), set.name);
            for line in super::text::set_lines(set) {
                b.push_str(&format!("\t\t{line}\n"));
            }
            b.push_str("\t}\n");
            blocks.push(b);
        }
        for (name, base) in &self.chains {
            let mut b = format!("\tchain {name} {{\n");
            b.push_str(&format!(
                "\t\t{}\n",
                super::text::chain_header(FIREWALL_FAMILY, base)
            ));
            for (_, rule) in self.rules.iter().filter(|(c, _)| c == name) {
                b.push_str(&format!("\t\t{}\n", super::text::rule(rule)));
            }
            b.push_str("\t}\n");
            blocks.push(b);
        }
        format!(
            "table {FIREWALL_FAMILY} {FIREWALL_TABLE} {{\n{}}}\n",
            blocks.join("\n")
        )
    }
}
