//! The table of a segment's switch node: its bridge keeps the members'
//! multicast listener reports (MLD) to itself.
//!
//! The kernel reports a listener for every IPv6 address it adds (its
//! solicited-node group), more than once, unasked. A bridge without
//! snooping floods each report to every port, so the reports of `n`
//! members make `n²` copies, each handled by a member's kernel: on a
//! 1,000-member segment that is most of the build's time. No node of a lab
//! needs them: the bridge does no snooping and no node is a querier unless
//! a test makes one (then [`Topology::forward_mld`](crate::Topology::forward_mld)
//! leaves the table out). The switch drops them as they arrive, before the
//! bridge sees them. Queries and all other multicast are flooded as before.
//! Best effort: a kernel without nftables' bridge family gets no table.

use super::{BaseChain, ChainKind, Hook, Match, NodeRuleset, Rule, TableFamily, Verdict};

/// The switch node's table, apart from any table of the user's own.
pub(crate) const SWITCH_TABLE: &str = "netns_test_switch";

/// The family of [`SWITCH_TABLE`]: it sees the frames the bridge receives.
pub(crate) const SWITCH_FAMILY: TableFamily = TableFamily::Bridge;

/// The chain that drops the reports.
const CHAIN: &str = "prerouting";

/// ICMPv6 types of listener reports: MLDv1 report and done, MLDv2 report.
const REPORTS: [u8; 3] = [131, 132, 143];

/// The comment of the rules, shown by `nft list ruleset`.
const COMMENT: &str = "multicast listener reports stay off the bridge";

/// The switch's table: a `prerouting` chain that drops listener reports.
pub(crate) fn switch_ruleset() -> NodeRuleset {
    let base = BaseChain {
        hook: Hook::Prerouting,
        // `filter` (-200 in the bridge family's numbering).
        priority: -200,
        kind: ChainKind::Filter,
        policy: Verdict::Accept,
    };
    NodeRuleset {
        chains: vec![(CHAIN.into(), base)],
        rules: REPORTS
            .iter()
            .map(|&t| {
                let rule = Rule::counted(vec![Match::Icmpv6Type(t)], Verdict::Drop, COMMENT);
                (CHAIN.to_string(), rule)
            })
            .collect(),
        ..NodeRuleset::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_switch_table_drops_the_three_report_types_and_nothing_else() {
        let r = switch_ruleset();
        assert_eq!(r.chains.len(), 1);
        assert_eq!(r.chains[0].1.hook, Hook::Prerouting);
        assert_eq!(r.chains[0].1.policy, Verdict::Accept);
        let text: Vec<String> = r
            .rules
            .iter()
            .map(|(_, r)| super::super::text::rule(r))
            .collect();
        assert_eq!(
            text,
            [
                "icmpv6 type mld-listener-report counter packets 0 bytes 0 drop comment \"multicast listener reports stay off the bridge\"",
                "icmpv6 type mld-listener-done counter packets 0 bytes 0 drop comment \"multicast listener reports stay off the bridge\"",
                "icmpv6 type mld2-listener-report counter packets 0 bytes 0 drop comment \"multicast listener reports stay off the bridge\"",
            ]
        );
    }
}
