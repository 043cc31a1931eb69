//! Phase `capture`: what capture costs, and how fast it keeps up.
//!
//! | row | what is timed |
//! | --- | --- |
//! | `cycle-capture-off` | the two-host cycle (build, one echo, teardown) with capture off: nothing is opened for it |
//! | `cycle-capture-on` | the same cycle with `net.capture()` on both nodes before the echo |
//!
//! Then the rate: 100,000 UDP datagrams of 64 bytes sent over a veth as
//! fast as one thread can, captured on the sender's interface; the packets
//! per second sent and kept, and the kernel's drops (0 means none lost).

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use netns_test::capture::Filter;
use netns_test::{Net, Topology};

pub(crate) struct CaptureRows {
    pub(crate) off: Vec<Duration>,
    pub(crate) on: Vec<Duration>,
    pub(crate) rate: Option<(u64, f64, u64, u64)>,
}

fn pair() -> Topology {
    Topology::new().link(
        ("h1", "eth0", "198.51.100.1/24"),
        ("h2", "eth0", "198.51.100.2/24"),
    )
}

fn cycle(capture: bool) -> Result<Duration, String> {
    let t = Instant::now();
    let net = Net::build(&pair()).map_err(|e| e.to_string())?;
    let cap = if capture {
        Some(net.capture().map_err(|e| e.to_string())?)
    } else {
        None
    };
    let r = net["h1"]
        .ping("198.51.100.2")
        .run()
        .map_err(|e| e.to_string())?;
    if r.received != 1 {
        return Err("no echo reply".into());
    }
    drop(cap);
    drop(net);
    Ok(t.elapsed())
}

pub(crate) fn run(iters: usize, datagrams: u64) -> Result<CaptureRows, String> {
    let (mut off, mut on) = (Vec::new(), Vec::new());
    for _ in 0..iters {
        off.push(cycle(false)?);
        on.push(cycle(true)?);
    }
    let net = Net::build(&pair()).map_err(|e| e.to_string())?;
    let sink = net["h2"]
        .with(|| UdpSocket::bind("198.51.100.2:9"))
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let sock = net["h1"]
        .with(|| UdpSocket::bind("198.51.100.1:0"))
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    sock.send_to(b"warm up: ARP", "198.51.100.2:9")
        .map_err(|e| e.to_string())?;
    let cap = net["h1"].capture_iface("eth0").map_err(|e| e.to_string())?;
    cap.set_limit(64 << 20);
    let start = Instant::now();
    for _ in 0..datagrams {
        sock.send_to(&[0u8; 64], "198.51.100.2:9")
            .map_err(|e| e.to_string())?;
    }
    let sent_in = start.elapsed();
    let stats = cap.stats().remove(0);
    let kept = cap.count(&Filter::udp().dst_port(9).outgoing()) as u64;
    drop(sink);
    Ok(CaptureRows {
        off,
        on,
        rate: Some((
            kept,
            datagrams as f64 / sent_in.as_secs_f64(),
            stats.kernel_drops,
            datagrams,
        )),
    })
}

pub(crate) fn print(rows: &CaptureRows) {
    let med = |v: &[Duration]| {
        let mut v = v.to_vec();
        v.sort();
        v.get(v.len() / 2).copied().unwrap_or_default()
    };
    println!();
    println!("phase capture");
    println!(
        "  cycle-capture-off  median {:.3} ms",
        med(&rows.off).as_secs_f64() * 1e3
    );
    println!(
        "  cycle-capture-on   median {:.3} ms",
        med(&rows.on).as_secs_f64() * 1e3
    );
    if let Some((kept, pps, drops, sent)) = rows.rate {
        println!(
            "  rate: {sent} datagrams sent at {pps:.0}/s; {kept} captured, {drops} kernel drops"
        );
    }
}
