//! Draws a router lab as SVG (the picture in `docs/topology.svg`), or as
//! Mermaid or DOT text, without building anything (no privileges needed):
//!
//! ```text
//! cargo run --example draw_topology > docs/topology.svg
//! cargo run --example draw_topology -- --mermaid
//! cargo run --example draw_topology -- --dot
//! cargo run --example draw_topology -- --mark h1,r1,r2,srv > failed.svg
//! ```

use netns_test::draw::Drawing;
use netns_test::firewall::Nat;
use netns_test::{Route, Topology};

/// An office LAN (a switch with two hosts and its router, which
/// masquerades) reaching a server through a second router.
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
            ("r1", "wan0", ["203.0.113.1/30", "2001:db8:1::1/64"]),
            ("r2", "eth0", ["203.0.113.2/30", "2001:db8:1::2/64"]),
        )
        .link(
            ("r2", "eth1", ["203.0.113.129/25", "2001:db8:2::1/64"]),
            ("srv", "eth0", ["203.0.113.130/25", "2001:db8:2::80/64"]),
        )
        .forwarding("r1")
        .forwarding("r2")
        .nat("r1", Nat::masquerade("wan0"))
        .route("h1", Route::default_via("198.51.100.62"))
        .route("h2", Route::default_via("198.51.100.62"))
        .route("r1", Route::default_via("203.0.113.2"))
        .route("r1", Route::default_via("2001:db8:1::2"))
        .route("srv", Route::default_via("203.0.113.129"))
        .route("srv", Route::default_via("2001:db8:2::1"))
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
