//! Rows of phase `faults` for NAT routers: what installing a router's NAT
//! and firewall costs.
//!
//! | row | what is timed |
//! | --- | --- |
//! | `nat-install` | `set_nat` of a full-cone NAT with hairpinning on a live router: checked, compiled, one transaction (a table, a map, 3 chains, 7 rules) |
//! | `nat-forward` | `add_nat` of a port forward: the table updated in place in one transaction |
//! | `fw-install` | `set_firewall` of four rules: the table updated in place (now 1 map, 6 chains, 12 rules) |
//! | `nat-remove` | the guards' drop, newest first: two updates, then the table deleted |
//! | `nft-bin-nat` | the same table loaded by `nft -f -` inside the router, where `nft` is installed |

use std::time::Instant;

use netns_test::firewall::{CtState, Filter, Firewall, Nat, Proto};
use netns_test::{Net, Route, Topology};

use crate::faults::FaultRow;

pub(crate) fn run(iters: usize, nft: Option<&str>) -> Result<Vec<FaultRow>, String> {
    let net = Net::build(
        &Topology::new()
            .link(
                ("h1", "eth0", "198.51.100.1/26"),
                ("r1", "eth0", "198.51.100.62/26"),
            )
            .link(
                ("r1", "eth1", "203.0.113.1/24"),
                ("srv", "eth0", "203.0.113.10/24"),
            )
            .forwarding("r1")
            .route("h1", Route::default_via("198.51.100.62")),
    )
    .map_err(|e| e.to_string())?;
    let r1 = &net["r1"];
    let fw = Firewall::new()
        .forward(Filter::accept().state(CtState::ESTABLISHED | CtState::RELATED))
        .forward(Filter::accept().iif("eth0"))
        .forward(Filter::reject().tcp().dport(25))
        .input(Filter::drop().udp().dport(53).iif("eth1"));
    let row = |name| FaultRow {
        name,
        nodes: 1,
        times: Vec::new(),
    };
    let mut rows = vec![
        row("nat-install"),
        row("nat-forward"),
        row("fw-install"),
        row("nat-remove"),
    ];
    let mut text = String::new();
    for _ in 0..iters {
        let t = Instant::now();
        let nat = r1
            .set_nat(Nat::full_cone("eth1").hairpin(true))
            .map_err(|e| e.to_string())?;
        rows[0].times.push(t.elapsed());
        let t = Instant::now();
        let forward = r1
            .add_nat(Nat::port_forward(
                "eth1",
                Proto::Tcp,
                8080,
                "198.51.100.1:80",
            ))
            .map_err(|e| e.to_string())?;
        rows[1].times.push(t.elapsed());
        let t = Instant::now();
        let filter = r1.set_firewall(fw.clone()).map_err(|e| e.to_string())?;
        rows[2].times.push(t.elapsed());
        if text.is_empty() {
            text = r1.ruleset().map_err(|e| e.to_string())?.to_string();
        }
        let t = Instant::now();
        drop((filter, forward, nat));
        rows[3].times.push(t.elapsed());
    }
    // nft lists the map updates of a full cone with concatenated data
    // (`update @nat_outside { ct original ip saddr . ct original proto-src :
    // ip saddr . udp sport }`) but some versions (1.0.6) cannot read that
    // listing back: the row is left out there, with nft's complaint.
    let readable = nft.map(|nft| (nft, crate::faults::nft_reads(r1, nft, &text)));
    if let Some((_, Err(why))) = &readable {
        println!("nft-bin-nat not measured: nft does not read back the router's table as it lists it ({why})");
    }
    if let Some((nft, Ok(()))) = readable {
        let mut binary = row("nft-bin-nat");
        for _ in 0..iters {
            let t = Instant::now();
            crate::faults::nft_file(r1, nft, &text)?;
            binary.times.push(t.elapsed());
            let _ = r1
                .command(nft)
                .map_err(|e| e.to_string())?
                .args(["delete", "table", "inet", "netns_test_firewall"])
                .status();
        }
        rows.push(binary);
    }
    Ok(rows)
}
