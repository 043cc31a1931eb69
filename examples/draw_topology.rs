//! Draws a router lab as SVG (the picture in `docs/topology.svg`), or as
//! Mermaid or DOT text, without building anything (no privileges needed):
//!
//! ```text
//! cargo run --example draw_topology > docs/topology.svg
//! cargo run --example draw_topology -- --mermaid
//! cargo run --example draw_topology -- --dot
//! cargo run --example draw_topology -- --mark h1,r1,srv > failed.svg
//! ```

use std::time::Duration;

use netns_test::draw::Drawing;
use netns_test::firewall::Nat;
use netns_test::wire::Impairment;
use netns_test::{Endpoint, Route, Topology};

/// An office LAN (a switch with two hosts and their router, which
/// masquerades) and a server beyond the router over a wire that delays
/// what the router sends, IPv4 and IPv6.
fn lab() -> Topology {
    Topology::new()
        .bridge(
            "sw",
            [
                ("h1", "eth0", "198.51.100.1/26"),
                ("h2", "eth0", "198.51.100.2/26"),
                ("r1", "lan0", "198.51.100.62/26"),
            ],
        )
        .link(
            Endpoint::new("r1", "wan0")
                .addr("203.0.113.1/24")
                .addr("2001:db8::1/64")
                .egress(Impairment::new().delay(Duration::from_millis(20))),
            ("srv", "eth0", ["203.0.113.80/24", "2001:db8::80/64"]),
        )
        .forwarding("r1")
        .nat("r1", Nat::masquerade("wan0"))
        .route("h1", Route::default_via("198.51.100.62"))
        .route("h2", Route::default_via("198.51.100.62"))
        .seed(7)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut drawing = Drawing::new(&lab());
    if let Some(i) = args.iter().position(|a| a == "--mark") {
        let path = args.get(i + 1).map(String::as_str).unwrap_or_default();
        let hops: Vec<&str> = path.split(',').collect();
        drawing = match drawing.try_mark_path(&hops) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("draw_topology: {e}");
                std::process::exit(2);
            }
        };
    }
    if args.iter().any(|a| a == "--mermaid") {
        print!("{}", drawing.mermaid());
    } else if args.iter().any(|a| a == "--dot") {
        print!("{}", drawing.dot());
    } else {
        print!("{}", drawing.svg());
    }
}
