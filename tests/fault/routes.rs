//! Routes added, replaced and deleted on live nodes.

use netns_test::probe::PingErrorKind;
use netns_test::{assert_path, Error, Net, Route, Topology, TopologyError};

/// h1 reaches h2 through r1 or through r2:
///
/// ```text
///        .0/26  r1  .0/26
///   h1 <             > h2
///       .64/26  r2  .64/26
/// ```
fn diamond() -> Net {
    Net::build(
        &Topology::new()
            .link(
                ("h1", "eth0", "198.51.100.1/26"),
                ("r1", "eth0", "198.51.100.2/26"),
            )
            .link(
                ("h1", "eth1", "198.51.100.65/26"),
                ("r2", "eth0", "198.51.100.66/26"),
            )
            .link(
                ("r1", "eth1", "203.0.113.1/26"),
                ("h2", "eth0", "203.0.113.2/26"),
            )
            .link(
                ("r2", "eth1", "203.0.113.65/26"),
                ("h2", "eth1", "203.0.113.66/26"),
            )
            .forwarding("r1")
            .forwarding("r2")
            .route("h1", Route::to("203.0.113.0/26").via("198.51.100.2"))
            .route("r2", Route::to("203.0.113.0/26").via("203.0.113.66"))
            .route("h2", Route::to("198.51.100.0/26").via("203.0.113.1"))
            .route("h2", Route::to("198.51.100.64/26").via("203.0.113.65")),
    )
    .unwrap()
}

#[test]
fn a_replaced_route_moves_the_path() {
    let net = diamond();
    assert_path!(net["h1"] => "203.0.113.2", via ["r1"]);
    net["h1"]
        .replace_route(Route::to("203.0.113.0/26").via("198.51.100.66"))
        .unwrap();
    assert_path!(net["h1"] => "203.0.113.2", via ["r2"]);
    net["h1"]
        .replace_route(Route::to("203.0.113.0/26").via("198.51.100.2"))
        .unwrap();
    assert_path!(net["h1"] => "203.0.113.2", via ["r1"]);
}

#[test]
fn routes_added_and_deleted_at_run_time() {
    let net = diamond();
    // h1 has no route to r2's far side yet.
    assert_eq!(net["h1"].ping("203.0.113.65").run().unwrap().received, 0);
    net["h1"]
        .add_route(Route::to("203.0.113.64/26").via("198.51.100.66"))
        .unwrap();
    assert_eq!(net["h1"].ping("203.0.113.65").run().unwrap().received, 1);
    // The same route again: the kernel refuses, and the error names both.
    let e = net["h1"]
        .add_route(Route::to("203.0.113.64/26").via("198.51.100.66"))
        .unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, Error::Netlink { .. }), "{text}");
    assert!(
        text.contains("node `h1`") && text.contains("ip route add 203.0.113.64/26"),
        "{text}"
    );
    net["h1"]
        .delete_route(Route::to("203.0.113.64/26").via("198.51.100.66"))
        .unwrap();
    assert_eq!(net["h1"].ping("203.0.113.65").run().unwrap().received, 0);
}

#[test]
fn a_bad_route_is_refused_before_the_kernel_sees_it() {
    let net = diamond();
    let e = net["h1"]
        .add_route(Route::to("203.0.113.128/26").via("203.0.113.200"))
        .unwrap_err();
    assert!(
        matches!(e, Error::Topology(TopologyError::GatewayUnreachable { .. })),
        "{e}"
    );
    assert!(e.to_string().contains("h1"), "{e}");
    let e = net["h1"]
        .add_route(Route::to("203.0.113.128/26").dev("eth9"))
        .unwrap_err();
    assert!(
        matches!(e, Error::Topology(TopologyError::UnknownInterface { .. })),
        "{e}"
    );
    // `ip route` refuses host bits; cut to 203.0.113.128/26, this route
    // would have been added.
    let e = net["h1"]
        .add_route(Route::to("203.0.113.130/26").via("198.51.100.66"))
        .unwrap_err();
    assert!(
        matches!(&e, Error::Topology(TopologyError::InvalidRoute { node, dst, .. })
            if node == "h1" && dst == "203.0.113.130/26"),
        "{e}"
    );
}

#[test]
fn a_multipath_route_lists_its_nexthops() {
    // The library has no multipath routes; `ip` makes one.
    if !crate::common::ip_installed() {
        println!("skipped: the `ip` binary is not installed (CI installs it)");
        return;
    }
    let net = diamond();
    let status = net["h1"]
        .command("ip")
        .unwrap()
        .args([
            "route",
            "add",
            "203.0.113.64/26",
            "nexthop",
            "via",
            "198.51.100.2",
            "dev",
            "eth0",
            "nexthop",
            "via",
            "198.51.100.66",
            "dev",
            "eth1",
            "weight",
            "3",
        ])
        .status()
        .unwrap();
    assert!(status.success(), "ip route add ... nexthop ... nexthop");
    let routes = net["h1"].routes().unwrap();
    let ecmp = routes
        .iter()
        .find(|r| r.dst == Some("203.0.113.64/26".parse().unwrap()))
        .expect("the multipath route is listed");
    let hops: Vec<String> = ecmp.nexthops.iter().map(|h| h.to_string()).collect();
    assert_eq!(
        hops,
        [
            "nexthop via 198.51.100.2 dev eth0 weight 1",
            "nexthop via 198.51.100.66 dev eth1 weight 3"
        ],
        "{ecmp}"
    );
    assert_eq!(
        ecmp.to_string(),
        "203.0.113.64/26 nexthop via 198.51.100.2 dev eth0 weight 1 \
         nexthop via 198.51.100.66 dev eth1 weight 3"
    );
}

#[test]
fn a_connected_route_the_kernel_added_can_be_deleted() {
    let net = Net::build(&Topology::new().link(
        ("h1", "eth0", "198.51.100.1/24"),
        ("h2", "eth0", "198.51.100.2/24"),
    ))
    .unwrap();
    assert_eq!(net["h1"].ping("198.51.100.2").run().unwrap().received, 1);
    let connected = |net: &Net| {
        net["h1"]
            .routes()
            .unwrap()
            .iter()
            .any(|r| r.dst == Some("198.51.100.0/24".parse().unwrap()))
    };
    assert!(connected(&net));
    // Protocol `kernel`, scope `link`: not what the library adds.
    net["h1"]
        .delete_route(Route::to("198.51.100.0/24").dev("eth0"))
        .unwrap();
    assert!(!connected(&net), "{:?}", net["h1"].routes().unwrap());
    let r = net["h1"].ping("198.51.100.2").run().unwrap();
    assert_eq!(r.received, 0, "{r}");
    assert!(
        !r.errors.is_empty()
            && r.errors.iter().all(|e| e.kind
                == PingErrorKind::Send {
                    errno: libc::ENETUNREACH
                }),
        "{r:?}"
    );
}
