//! The classic two-namespace lab, without a single `ip` command:
//!
//! ```text
//! ip netns add n1; ip netns add n2
//! ip -n n1 link add n1-veth0 type veth peer name n2-veth0 netns n2
//! ip -n n1 addr add 198.51.100.1/24 dev n1-veth0; ip -n n1 link set n1-veth0 up
//! ip -n n2 addr add 198.51.100.2/24 dev n2-veth0; ip -n n2 link set n2-veth0 up
//! ip netns exec n1 ping -c 3 198.51.100.2
//! ```
//!
//! Run it as root: `cargo run --example two_hosts`.

use std::time::Duration;

use netns_test::{Net, Topology};

fn main() -> Result<(), netns_test::Error> {
    let topology = Topology::new().link(
        ("n1", "n1-veth0", "198.51.100.1/24"),
        ("n2", "n2-veth0", "198.51.100.2/24"),
    );
    let net = Net::build(&topology)?;

    for node in net.nodes() {
        let report = node.report()?;
        println!("# {}: ip address show", node.name());
        for link in &report.links {
            print!("{link}");
        }
        println!("# {}: ip route show", node.name());
        for route in &report.routes {
            println!("{route}");
        }
        println!();
    }

    println!("# n1: ping -c 3 198.51.100.2");
    let report = net["n1"]
        .ping("198.51.100.2")
        .count(3)
        .interval(Duration::from_millis(200))
        .run()?;
    println!("PING 198.51.100.2 (198.51.100.2) 56(84) bytes of data.");
    println!("{report}");
    if report.received != 3 {
        eprintln!("expected 3 replies, got {}", report.received);
        std::process::exit(1);
    }
    Ok(())
    // Dropping `net` closes the namespaces: nothing is left behind.
}
