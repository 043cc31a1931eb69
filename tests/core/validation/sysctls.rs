//! Sysctls refused before anything is created: keys that are not per
//! network namespace, malformed keys, huge values.

use netns_test::TopologyError;
use serial_test::serial;

use super::{ok_link, refused};

#[test]
#[serial]
fn sysctls_that_would_change_the_machine() {
    // Both are files every node shows; neither is the node's own.
    for key in [
        "net.netfilter.nf_hooks_lwtunnel",
        "net.core.rmem_max",
        "net.netfilter.nf_conntrack_max",
        "net.ipv4.tcp_congestion_control",
        "net.ipv4.neigh.default.gc_thresh3",
        "net.ipv6.neigh.default.gc_thresh3",
        "net.ipv4.tcp_mem",
        "net.core.netdev_max_backlog",
        "net.bridge.bridge-nf-call-iptables",
        "kernel.panic",
        "vm.overcommit_memory",
    ] {
        match refused(ok_link().sysctl("a", key, "1")) {
            TopologyError::SysctlNotPerNamespace {
                node,
                key: k,
                reason,
            } => {
                assert_eq!((node.as_str(), k.as_str()), ("a", key));
                assert!(
                    reason.contains("whole machine") || reason.contains("kernel-global"),
                    "{key}: {reason}"
                );
            }
            other => panic!("{key}: expected SysctlNotPerNamespace, got {other:?}"),
        }
    }
    let e = refused(ok_link().sysctl("a", "net.netfilter.nf_hooks_lwtunnel", "1"));
    assert!(
        e.to_string().contains("kernel-global switch"),
        "the reason is the key's own: {e}"
    );
}

#[test]
#[serial]
fn sysctl_keys_and_values_that_are_malformed() {
    // An interface the node does not have.
    let e = refused(ok_link().sysctl("a", "net.ipv4.conf.eth9.rp_filter", "0"));
    assert_eq!(
        e,
        TopologyError::UnknownInterface {
            node: "a".into(),
            ifname: "eth9".into(),
            used_by: "sysctl net.ipv4.conf.eth9.rp_filter".into()
        }
    );
    // A dot in an interface name is written `/`, as sysctl(8) does.
    let e = refused(ok_link().sysctl("a", "net.ipv4.conf.e.1.rp_filter", "0"));
    assert!(
        matches!(&e, TopologyError::InvalidSysctl { reason, .. } if reason.contains("e/1")),
        "{e:?}"
    );
    // A `/` anywhere else, or an interface word that is no interface name.
    for key in ["net/ipv4/ip_forward", "net.ipv4.conf.all.rp/filter"] {
        let e = refused(ok_link().sysctl("a", key, "0"));
        assert!(
            matches!(e, TopologyError::InvalidSysctl { .. }),
            "{key}: {e:?}"
        );
    }
    for (key, name) in [
        ("net.ipv4.conf.//.rp_filter", "a/.."),
        ("net.ipv4.conf./.rp_filter", "a/."),
        ("net.ipv6.neigh.all.retrans_time_ms", "a/all"),
    ] {
        let e = refused(ok_link().sysctl("a", key, "0"));
        assert!(
            matches!(&e, TopologyError::InvalidName { name: n, .. } if n == name),
            "{key}: {e:?}"
        );
    }
    // A 1 MiB value: refused by its length, which is all the message shows.
    let huge = "1".repeat(1 << 20);
    let e = refused(ok_link().sysctl("a", "net.ipv4.ip_forward", huge.as_str()));
    assert_eq!(
        e,
        TopologyError::SysctlValueTooLong {
            node: "a".into(),
            key: "net.ipv4.ip_forward".into(),
            len: 1 << 20
        }
    );
    let msg = e.to_string();
    assert!(msg.contains("1048576 bytes") && msg.len() < 200, "{msg}");
    // One page is the most; a huge key is cut in the message too.
    ok_link()
        .sysctl("a", "net.ipv4.ip_forward", "1".repeat(4096))
        .validate()
        .unwrap();
    let e = refused(ok_link().sysctl("a", format!("net.{huge}"), "1"));
    assert!(e.to_string().len() < 300, "{}", e.to_string().len());
}
