//! Sysctls: only keys known to be per network namespace are written, so a
//! node's settings can never change the machine.
//!
//! A node sees only the sysctls the kernel registers for each namespace;
//! the kernel-global ones (`net.core.rmem_max`, `net.ipv4.tcp_mem`, the
//! neighbour tables' `default` directories) exist only in the host
//! namespace, or show read-only in a node. A few that every namespace shows
//! still act on the whole machine (`net.netfilter.nf_hooks_lwtunnel` flips a
//! kernel-global switch). So the keys below are an allow-list: what is
//! registered per namespace, holds per-namespace data, and was checked
//! writable in a fresh namespace.
//!
//! Keys follow sysctl(8): dot-separated words, and in an interface name a
//! `/` stands for a `.` (`net.ipv4.conf.e/1.rp_filter` for interface `e.1`).

use super::{Builder, TopologyError};
use crate::topology::error::SYSCTL_VALUE_MAX;
use crate::topology::{Plan, BRIDGE_NAME};
use crate::vocab::{check_ifname, quoted};

/// `net.ipv4.<word>` keys that are per network namespace.
const IPV4: &[&str] = &[
    "ip_forward",
    "ip_default_ttl",
    "ip_local_port_range",
    "ping_group_range",
    // ICMP
    "icmp_echo_enable_probe",
    "icmp_echo_ignore_all",
    "icmp_echo_ignore_broadcasts",
    "icmp_errors_use_inbound_ifaddr",
    "icmp_ignore_bogus_error_responses",
    "icmp_msgs_burst",
    "icmp_msgs_per_sec",
    "icmp_ratelimit",
    "icmp_ratemask",
    // FIB
    "fib_multipath_hash_fields",
    "fib_multipath_hash_policy",
    "fib_multipath_hash_seed",
    "fib_multipath_use_neigh",
    "fib_notify_on_flag_change",
    // UDP
    "udp_child_hash_entries",
    "udp_early_demux",
    "udp_l3mdev_accept",
    "udp_rmem_min",
    "udp_wmem_min",
    // TCP (not tcp_congestion_control: see GLOBAL)
    "tcp_abort_on_overflow",
    "tcp_adv_win_scale",
    "tcp_app_win",
    "tcp_autocorking",
    "tcp_backlog_ack_defer",
    "tcp_base_mss",
    "tcp_challenge_ack_limit",
    "tcp_child_ehash_entries",
    "tcp_comp_sack_delay_ns",
    "tcp_comp_sack_nr",
    "tcp_comp_sack_slack_ns",
    "tcp_dsack",
    "tcp_early_demux",
    "tcp_early_retrans",
    "tcp_ecn",
    "tcp_ecn_fallback",
    "tcp_ecn_option",
    "tcp_ecn_option_beacon",
    "tcp_fack",
    "tcp_fastopen",
    "tcp_fastopen_blackhole_timeout_sec",
    "tcp_fastopen_key",
    "tcp_fin_timeout",
    "tcp_frto",
    "tcp_fwmark_accept",
    "tcp_invalid_ratelimit",
    "tcp_keepalive_intvl",
    "tcp_keepalive_probes",
    "tcp_keepalive_time",
    "tcp_l3mdev_accept",
    "tcp_limit_output_bytes",
    "tcp_max_reordering",
    "tcp_max_syn_backlog",
    "tcp_max_tw_buckets",
    "tcp_migrate_req",
    "tcp_min_rtt_wlen",
    "tcp_min_snd_mss",
    "tcp_min_tso_segs",
    "tcp_moderate_rcvbuf",
    "tcp_mtu_probe_floor",
    "tcp_mtu_probing",
    "tcp_no_metrics_save",
    "tcp_no_ssthresh_metrics_save",
    "tcp_notsent_lowat",
    "tcp_orphan_retries",
    "tcp_pacing_ca_ratio",
    "tcp_pacing_ss_ratio",
    "tcp_pingpong_thresh",
    "tcp_plb_cong_thresh",
    "tcp_plb_enabled",
    "tcp_plb_idle_rehash_rounds",
    "tcp_plb_rehash_rounds",
    "tcp_plb_suspend_rto_sec",
    "tcp_probe_interval",
    "tcp_probe_threshold",
    "tcp_recovery",
    "tcp_reflect_tos",
    "tcp_reordering",
    "tcp_retrans_collapse",
    "tcp_retries1",
    "tcp_retries2",
    "tcp_rfc1337",
    "tcp_rmem",
    "tcp_rto_max_ms",
    "tcp_rto_min_us",
    "tcp_sack",
    "tcp_shrink_window",
    "tcp_slow_start_after_idle",
    "tcp_stdurg",
    "tcp_syn_linear_timeouts",
    "tcp_syn_retries",
    "tcp_synack_retries",
    "tcp_syncookies",
    "tcp_thin_linear_timeouts",
    "tcp_timestamps",
    "tcp_tso_rtt_log",
    "tcp_tso_win_divisor",
    "tcp_tw_reuse",
    "tcp_tw_reuse_delay",
    "tcp_window_scaling",
    "tcp_wmem",
    "tcp_workaround_signed_windows",
];

/// `net.ipv4.route.<word>`: the per-namespace part of the IPv4 route
/// settings (the garbage collection and redirect knobs are kernel-global).
const IPV4_ROUTE: &[&str] = &["flush", "min_adv_mss", "min_pmtu", "mtu_expires"];

/// `net.netfilter.<word>`: the connection tracking settings a node may
/// change (the table sizes are kernel-global and read-only in a node).
const NETFILTER: &[&str] = &[
    "nf_conntrack_acct",
    "nf_conntrack_checksum",
    "nf_conntrack_events",
    "nf_conntrack_frag6_high_thresh",
    "nf_conntrack_frag6_low_thresh",
    "nf_conntrack_frag6_timeout",
    "nf_conntrack_generic_timeout",
    "nf_conntrack_gre_timeout",
    "nf_conntrack_gre_timeout_stream",
    "nf_conntrack_icmp_timeout",
    "nf_conntrack_icmpv6_timeout",
    "nf_conntrack_log_invalid",
    "nf_conntrack_sctp_timeout_closed",
    "nf_conntrack_sctp_timeout_cookie_echoed",
    "nf_conntrack_sctp_timeout_cookie_wait",
    "nf_conntrack_sctp_timeout_established",
    "nf_conntrack_sctp_timeout_heartbeat_sent",
    "nf_conntrack_sctp_timeout_shutdown_ack_sent",
    "nf_conntrack_sctp_timeout_shutdown_recd",
    "nf_conntrack_sctp_timeout_shutdown_sent",
    "nf_conntrack_tcp_be_liberal",
    "nf_conntrack_tcp_ignore_invalid_rst",
    "nf_conntrack_tcp_loose",
    "nf_conntrack_tcp_max_retrans",
    "nf_conntrack_tcp_timeout_close",
    "nf_conntrack_tcp_timeout_close_wait",
    "nf_conntrack_tcp_timeout_established",
    "nf_conntrack_tcp_timeout_fin_wait",
    "nf_conntrack_tcp_timeout_last_ack",
    "nf_conntrack_tcp_timeout_max_retrans",
    "nf_conntrack_tcp_timeout_syn_recv",
    "nf_conntrack_tcp_timeout_syn_sent",
    "nf_conntrack_tcp_timeout_time_wait",
    "nf_conntrack_tcp_timeout_unacknowledged",
    "nf_conntrack_timestamp",
    "nf_conntrack_udp_timeout",
    "nf_conntrack_udp_timeout_stream",
];

/// Keys a node shows that act on the whole machine, and why they are refused.
const GLOBAL: &[(&str, &str)] = &[
    (
        "net.netfilter.nf_hooks_lwtunnel",
        "every namespace shows it, but it turns netfilter hooks for lightweight \
         tunnels on for the whole machine (a kernel-global switch)",
    ),
    (
        "net.ipv4.tcp_congestion_control",
        "naming an algorithm the kernel lacks makes it load a module, which \
         changes the whole machine",
    ),
    (
        "net.netfilter.nf_conntrack_max",
        "the connection tracking table is kernel-global; a node sees its size read-only",
    ),
    (
        "net.netfilter.nf_conntrack_buckets",
        "the connection tracking table is kernel-global; a node sees its size read-only",
    ),
    (
        "net.netfilter.nf_conntrack_expect_max",
        "the connection tracking table is kernel-global; a node sees its size read-only",
    ),
    (
        "net.core.rmem_max",
        "socket buffer limits are kernel-global; a node sees them read-only",
    ),
    (
        "net.core.wmem_max",
        "socket buffer limits are kernel-global; a node sees them read-only",
    ),
    (
        "net.core.rmem_default",
        "socket buffer limits are kernel-global; a node sees them read-only",
    ),
    (
        "net.core.wmem_default",
        "socket buffer limits are kernel-global; a node sees them read-only",
    ),
];

const NOT_NET: &str = "only `net.*` sysctls can be per network namespace; this one is \
                       kernel-global and would change the whole machine";
const NOT_LISTED: &str = "it is not a sysctl known to be per network namespace, and a \
                          kernel-global one would change the whole machine (the allowed \
                          keys are listed at `Topology::sysctl`)";
const NEIGH_DEFAULT: &str = "the neighbour tables' defaults (`gc_thresh1` and the like) \
                             are kernel-global: a node has per-interface `neigh` \
                             directories only";
const DOTTED_IFNAME: &str = "too many words for a per-interface sysctl: a `.` in an \
                             interface name is written `/` (`net.ipv4.conf.e/1.rp_filter` \
                             for interface `e.1`)";
const SYNTAX: &str = "a sysctl key is dot-separated words of letters, digits, `_` and `-`, \
                      like `net.ipv4.ip_forward`; a `/` stands for a `.` in an interface \
                      name only (`net.ipv4.conf.e/1.rp_filter`)";

/// Where a key leads: its `/proc/sys` path and the interface it is about
/// (`None` for the namespace as a whole, `all` and `default` included).
#[derive(Debug, PartialEq, Eq)]
struct Resolved {
    path: String,
    iface: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    Syntax,
    DottedIfname,
    /// The interface word (with `/` read as `.`), and what is wrong with it.
    BadIfname(String, String),
    NotPerNamespace(&'static str),
}

fn is_word(w: &str) -> bool {
    !w.is_empty()
        && w.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Checks `key` against the allow-list and finds its path.
fn resolve(key: &str) -> Result<Resolved, Refusal> {
    let words: Vec<&str> = key.split('.').collect();
    // `net.ipv{4,6}.{conf,neigh}.<interface>.<setting>`: word 3 is an
    // interface name, where a `/` stands for a `.`.
    let per_iface = words.len() >= 5
        && words[0] == "net"
        && matches!(words[1], "ipv4" | "ipv6")
        && matches!(words[2], "conf" | "neigh");
    if per_iface && words.len() > 5 {
        return Err(Refusal::DottedIfname);
    }
    for (i, w) in words.iter().enumerate() {
        let ifname_word = per_iface && i == 3;
        if !ifname_word && !is_word(w) {
            return Err(Refusal::Syntax);
        }
    }
    if per_iface {
        let dev = words[3].replace('/', ".");
        let iface = match dev.as_str() {
            "all" | "default" if words[2] == "conf" => None,
            "default" => return Err(Refusal::NotPerNamespace(NEIGH_DEFAULT)),
            // `neigh` has no `all`: the kernel rule refuses it as a name.
            _ => match check_ifname(&dev) {
                Ok(()) => Some(dev.clone()),
                Err(problem) => return Err(Refusal::BadIfname(dev.clone(), problem.to_string())),
            },
        };
        return Ok(Resolved {
            path: format!("net/{}/{}/{dev}/{}", words[1], words[2], words[4]),
            iface,
        });
    }
    if let Some((_, why)) = GLOBAL.iter().find(|(k, _)| *k == key) {
        return Err(Refusal::NotPerNamespace(why));
    }
    let allowed = match words.as_slice() {
        ["net", "ipv4", w] => IPV4.contains(w),
        ["net", "ipv4", "route", w] => IPV4_ROUTE.contains(w),
        // Both tables are registered whole for each namespace.
        ["net", "ipv6", "route" | "icmp", _] => true,
        ["net", "netfilter", w] => NETFILTER.contains(w),
        ["net", "core", "somaxconn"] | ["net", "unix", "max_dgram_qlen"] => true,
        ["net", ..] => false,
        _ => return Err(Refusal::NotPerNamespace(NOT_NET)),
    };
    if !allowed {
        return Err(Refusal::NotPerNamespace(NOT_LISTED));
    }
    Ok(Resolved {
        path: words.join("/"),
        iface: None,
    })
}

/// Whether every address and route destination of `plan` is IPv6, and it
/// has at least one.
fn ipv6_only(plan: &Plan) -> bool {
    let mut families = plan.nodes.iter().flat_map(|n| {
        let addrs = n.ifaces.iter().flat_map(|i| &i.addrs).map(|a| a.addr());
        addrs.chain(n.routes.iter().map(|r| r.dst.addr()))
    });
    let first = families.next();
    first.is_some_and(|a| a.is_ipv6()) && families.all(|a| a.is_ipv6())
}

impl Builder<'_> {
    pub(super) fn settings(&mut self) -> Result<(), TopologyError> {
        // A router of a lab whose addresses and routes are all IPv6 gets no
        // IPv4 settings: in a namespace's first IPv4 sysctl the kernel
        // compares against that entry of every other namespace of the
        // machine, tens of microseconds per router in a big build. IPv6
        // forwarding stays on in every router: without it a router's
        // interfaces would send router solicitations.
        let ipv6_only = ipv6_only(&self.plan);
        for node in &self.topo.forwarding {
            let ni = self.node_index(node, || "forwarding".into())?;
            self.plan.nodes[ni].forwarding = true;
            let s = &mut self.plan.nodes[ni].sysctls;
            // Routers answer every probe: with the default rate limit (a
            // burst of 6 ICMP errors, then one a second per destination), a
            // second traceroute through the same router shows `*`.
            if !ipv6_only {
                s.push(("net/ipv4/ip_forward".into(), "1".into()));
                s.push(("net/ipv4/icmp_ratelimit".into(), "0".into()));
            }
            s.push(("net/ipv6/conf/all/forwarding".into(), "1".into()));
            s.push(("net/ipv6/icmp/ratelimit".into(), "0".into()));
        }
        let mut asked = std::collections::HashSet::new();
        for (node, key, value) in &self.topo.sysctls {
            let ni = self.node_index(node, || format!("sysctl {}", quoted(key)))?;
            if value.len() > SYSCTL_VALUE_MAX {
                return Err(TopologyError::SysctlValueTooLong {
                    node: node.clone(),
                    key: key.clone(),
                    len: value.len(),
                });
            }
            let resolved = resolve(key).map_err(|refusal| match refusal {
                Refusal::Syntax => TopologyError::InvalidSysctl {
                    node: node.clone(),
                    key: key.clone(),
                    reason: SYNTAX,
                },
                Refusal::DottedIfname => TopologyError::InvalidSysctl {
                    node: node.clone(),
                    key: key.clone(),
                    reason: DOTTED_IFNAME,
                },
                Refusal::BadIfname(ifname, reason) => TopologyError::InvalidName {
                    name: format!("{node}/{ifname}"),
                    reason: format!("in sysctl `{}`: {reason}", quoted(key)),
                },
                Refusal::NotPerNamespace(reason) => TopologyError::SysctlNotPerNamespace {
                    node: node.clone(),
                    key: key.clone(),
                    reason,
                },
            })?;
            let n = &mut self.plan.nodes[ni];
            match resolved.iface {
                None => {
                    asked.insert((ni, resolved.path.clone()));
                    n.sysctls.push((resolved.path, value.clone()));
                }
                Some(iface) => {
                    let exists = iface == "lo"
                        || (n.bridge.is_some() && iface == BRIDGE_NAME)
                        || n.ifaces.iter().any(|i| i.name == iface);
                    if !exists {
                        return Err(TopologyError::UnknownInterface {
                            node: node.clone(),
                            ifname: iface,
                            used_by: format!("sysctl {}", quoted(key)),
                        });
                    }
                    n.iface_sysctls.push((resolved.path, value.clone()));
                }
            }
        }
        // IPv6 nodes: no DAD on any address, link-local ones included, so
        // neighbour discovery works the moment the build returns (`all`
        // too: DAD runs unless both it and the interface's own setting are
        // off). IPv6 nodes and members of a segment send no router
        // solicitations: no node of a lab answers them, a bridge copies
        // each to every port, and each takes an entry in the kernel's
        // neighbour table, which all namespaces share (1,024 entries by
        // default). A switch node has no address: IPv6 off, so its ports
        // send no DAD, solicitation or MLD of their own. Written first, so
        // that a topology's own sysctls win.
        let members: std::collections::HashSet<&str> = self
            .topo
            .segments
            .iter()
            .flat_map(|s| s.members.iter().map(|m| m.node.as_str()))
            .collect();
        for n in &mut self.plan.nodes {
            let mut first: Vec<(&str, &str)> = Vec::new();
            if n.bridge.is_some() {
                first.push(("net/ipv6/conf/default/disable_ipv6", "1"));
            } else if n.has_ipv6() {
                first.push(("net/ipv6/conf/all/accept_dad", "0"));
                first.push(("net/ipv6/conf/default/accept_dad", "0"));
            }
            if n.bridge.is_none() && (n.has_ipv6() || members.contains(n.name.as_str())) {
                first.push(("net/ipv6/conf/default/router_solicitations", "0"));
            }
            let first = first.iter().map(|(k, v)| (k.to_string(), v.to_string()));
            n.sysctls.splice(0..0, first);
        }
        // The library's IPv6 settings: all IPv6 ones the topology did not ask for.
        for (ni, n) in self.plan.nodes.iter_mut().enumerate() {
            n.own_sysctls = (n.sysctls.iter())
                .filter(|(p, _)| p.starts_with("net/ipv6/") && !asked.contains(&(ni, p.clone())))
                .map(|(p, _)| p.clone())
                .collect();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::{Route, Topology};

    /// The sysctls the plan of `topo` gives node `r`.
    fn router_sysctls(topo: Topology) -> Vec<String> {
        let plan = Plan::new(&topo.forwarding("r")).unwrap();
        let r = plan.nodes.iter().find(|n| n.name == "r").unwrap();
        r.sysctls.iter().map(|(k, _)| k.clone()).collect()
    }

    const V4: [&str; 2] = ["net/ipv4/ip_forward", "net/ipv4/icmp_ratelimit"];
    const V6: [&str; 2] = ["net/ipv6/conf/all/forwarding", "net/ipv6/icmp/ratelimit"];

    fn has(keys: &[String], want: [&str; 2]) -> bool {
        want.iter().all(|w| keys.iter().any(|k| k == w))
    }

    #[test]
    fn a_router_of_an_ipv6_only_lab_gets_no_ipv4_settings() {
        let t = Topology::new().link(
            ("h", "eth0", "2001:db8::1/64"),
            ("r", "eth0", "2001:db8::2/64"),
        );
        let keys = router_sysctls(t);
        assert!(
            has(&keys, V6) && !keys.iter().any(|k| k.starts_with("net/ipv4/")),
            "{keys:?}"
        );
    }

    #[test]
    fn a_router_gets_both_families_unless_its_lab_is_ipv6_only() {
        let v4 = Topology::new().link(
            ("h", "eth0", "198.51.100.1/24"),
            ("r", "eth0", "198.51.100.2/24"),
        );
        // An IPv4 route makes a lab with only IPv6 addresses use IPv4 too.
        let v6_with_v4_route = Topology::new()
            .link(
                ("h", "eth0", "2001:db8::1/64"),
                ("r", "eth0", "2001:db8::2/64"),
            )
            .route("r", Route::to("203.0.113.0/24").dev("eth0"));
        let nothing = Topology::new().link(("h", "eth0"), ("r", "eth0"));
        for t in [v4, v6_with_v4_route, nothing] {
            let keys = router_sysctls(t);
            assert!(has(&keys, V4) && has(&keys, V6), "{keys:?}");
        }
    }

    fn path(key: &str) -> Result<Resolved, Refusal> {
        resolve(key)
    }

    #[test]
    fn allowed_keys_and_their_paths() {
        for (key, p) in [
            ("net.ipv4.ip_forward", "net/ipv4/ip_forward"),
            ("net.ipv4.tcp_syncookies", "net/ipv4/tcp_syncookies"),
            ("net.ipv6.icmp.ratelimit", "net/ipv6/icmp/ratelimit"),
            ("net.ipv6.route.gc_thresh", "net/ipv6/route/gc_thresh"),
            ("net.ipv4.route.min_pmtu", "net/ipv4/route/min_pmtu"),
            ("net.core.somaxconn", "net/core/somaxconn"),
            ("net.unix.max_dgram_qlen", "net/unix/max_dgram_qlen"),
            (
                "net.netfilter.nf_conntrack_tcp_loose",
                "net/netfilter/nf_conntrack_tcp_loose",
            ),
            ("net.ipv4.conf.all.rp_filter", "net/ipv4/conf/all/rp_filter"),
            (
                "net.ipv6.conf.default.accept_ra",
                "net/ipv6/conf/default/accept_ra",
            ),
        ] {
            assert_eq!(
                path(key),
                Ok(Resolved {
                    path: p.into(),
                    iface: None
                }),
                "{key}"
            );
        }
        assert_eq!(
            path("net.ipv4.conf.e/1.rp_filter"),
            Ok(Resolved {
                path: "net/ipv4/conf/e.1/rp_filter".into(),
                iface: Some("e.1".into())
            })
        );
        assert_eq!(
            path("net.ipv6.neigh.eth0.retrans_time_ms"),
            Ok(Resolved {
                path: "net/ipv6/neigh/eth0/retrans_time_ms".into(),
                iface: Some("eth0".into())
            })
        );
    }

    #[test]
    fn refused_keys() {
        for key in [
            "net.netfilter.nf_hooks_lwtunnel",
            "net.core.rmem_max",
            "net.ipv4.tcp_congestion_control",
            "net.ipv4.tcp_mem",
            "net.ipv4.neigh.default.gc_thresh3",
            "net.ipv6.neigh.default.gc_thresh1",
            "net.ipv4.route.gc_thresh",
            "net.netfilter.nf_log_all_netns",
            "net.bridge.bridge-nf-call-iptables",
            "net.ipv4.no_such_sysctl",
            "kernel.panic",
        ] {
            assert!(
                matches!(path(key), Err(Refusal::NotPerNamespace(_))),
                "{key}: {:?}",
                path(key)
            );
        }
        for key in [
            "net/ipv4/ip_forward",
            "net.ipv4..ip_forward",
            "net.ipv4.ip_forward.",
            "net.ipv4.conf.all.rp/filter",
            "net.ipv4.ip forward",
            "",
        ] {
            assert_eq!(path(key), Err(Refusal::Syntax), "{key:?}");
        }
        assert_eq!(
            path("net.ipv4.conf.e.1.rp_filter"),
            Err(Refusal::DottedIfname)
        );
        // No path tricks through the interface word.
        for key in [
            "net.ipv4.conf./.rp_filter",
            "net.ipv4.conf.//.rp_filter",
            "net.ipv4.conf..rp_filter",
            "net.ipv4.neigh.all.ucast_solicit",
            "net.ipv4.conf.e%d.rp_filter",
        ] {
            assert!(
                matches!(path(key), Err(Refusal::BadIfname(..))),
                "{key:?}: {:?}",
                path(key)
            );
        }
    }
}
