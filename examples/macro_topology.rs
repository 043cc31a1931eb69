//! `#[netns_test(topology = f)]`: the network that `f()` describes is built
//! for the test. Parameters are injected: `&Net` is the live network, and a
//! `&Node` parameter is the node of the same name. The body runs inside the
//! first node, or the one `node = "..."` names.
//!
//! This example is a test suite. Run it as root:
//! `cargo test --example macro_topology`.
//! `cargo test` runs it too, through `tests/macro_examples.rs`.

fn main() {
    eprintln!("this example is a test suite: run `cargo test --example macro_topology`");
}

#[cfg(test)]
mod tests {
    use std::net::UdpSocket;
    use std::time::Duration;

    use netns_test::{netns_test, Net, Node, Route, Topology};

    /// h1 -- r1 -- h2: two subnets and a router.
    fn routed() -> Topology {
        Topology::new()
            .link(
                ("h1", "eth0", "198.51.100.1/24"),
                ("r1", "eth0", "198.51.100.254/24"),
            )
            .link(
                ("r1", "eth1", "203.0.113.254/24"),
                ("h2", "eth0", "203.0.113.1/24"),
            )
            .forwarding("r1")
            .route("h1", Route::default_via("198.51.100.254"))
            .route("h2", Route::default_via("203.0.113.254"))
    }

    /// The body runs in h1, the first node; h2 is injected by name.
    #[netns_test(topology = routed)]
    fn udp_through_the_router(h2: &Node) {
        let rx = h2
            .with(|| UdpSocket::bind("203.0.113.1:5000"))
            .unwrap()
            .unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        // This socket is h1's: only h1 has 198.51.100.1.
        let tx = UdpSocket::bind("198.51.100.1:0").unwrap();
        tx.send_to(b"via r1", "203.0.113.1:5000").unwrap();
        let mut buf = [0; 16];
        let (n, from) = rx.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"via r1");
        assert_eq!(from.ip().to_string(), "198.51.100.1");
    }

    /// `node = "r1"` runs the body in the router; `&Net` gives every node.
    #[netns_test(topology = routed, node = "r1")]
    fn router_sees_both_subnets(net: &Net) -> Result<(), netns_test::Error> {
        UdpSocket::bind("203.0.113.254:0").unwrap();
        let routes = net["r1"].routes()?;
        for subnet in ["198.51.100.0/24", "203.0.113.0/24"] {
            assert!(
                routes.iter().any(|r| r.to_string().contains(subnet)),
                "no route to {subnet}: {routes:?}"
            );
        }
        Ok(())
    }
}
