//! Labs and sockets the wire tests share.

use std::net::UdpSocket;
use std::time::Duration;

use netns_test::wire::Frame;
use netns_test::{Net, Topology};

/// n1 198.51.100.1 -- wire -- n2 198.51.100.2, IPv4 only (IPv6 off, so no
/// neighbour discovery or MLD frame takes a random draw), seeded.
pub(crate) fn ipv4_wire(seed: u64) -> Net {
    let mut t = Topology::new().seed(seed).wire(
        ("n1", "eth0", "198.51.100.1/24"),
        ("n2", "eth0", "198.51.100.2/24"),
    );
    for n in ["n1", "n2"] {
        t = t.sysctl(n, "net.ipv6.conf.all.disable_ipv6", "1").sysctl(
            n,
            "net.ipv6.conf.default.disable_ipv6",
            "1",
        );
    }
    let net = Net::build(&t).unwrap();
    // Resolve ARP both ways before any model draws.
    let r = net["n1"].ping("n2").count(1).run().unwrap();
    assert_eq!(r.received, 1, "{r}");
    let r = net["n2"].ping("n1").count(1).run().unwrap();
    assert_eq!(r.received, 1, "{r}");
    net
}

/// A UDP socket bound in `node` to `addr`, with a read timeout.
pub(crate) fn udp(net: &Net, node: &str, addr: &str, timeout: Duration) -> UdpSocket {
    let addr = addr.to_string();
    net[node]
        .run(move || {
            let s = UdpSocket::bind(addr).unwrap();
            s.set_read_timeout(Some(timeout)).unwrap();
            s
        })
        .unwrap()
}

/// Sends datagrams numbered `from..to` (a 4-byte big-endian number, then
/// padding up to `size` bytes) to `dst`, `gap` apart.
pub(crate) fn send_numbered(
    sock: &UdpSocket,
    dst: &str,
    range: std::ops::Range<u32>,
    size: usize,
    gap: Duration,
) {
    for i in range {
        let mut buf = vec![0xa5u8; size.max(4)];
        buf[..4].copy_from_slice(&i.to_be_bytes());
        sock.send_to(&buf, dst).unwrap();
        if !gap.is_zero() {
            std::thread::sleep(gap);
        }
    }
}

/// The numbers of the datagrams received until the socket times out or
/// `max` arrived.
pub(crate) fn recv_numbers(sock: &UdpSocket, max: usize) -> Vec<u32> {
    let mut got = Vec::new();
    let mut buf = [0u8; 2048];
    while got.len() < max {
        match sock.recv(&mut buf) {
            Ok(n) if n >= 4 => got.push(u32::from_be_bytes(buf[..4].try_into().unwrap())),
            Ok(_) => {}
            // A wait cut short by a signal or a stop and continue.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    got
}

/// [`recv_numbers`] for datagrams that must arrive: it waits up to 2 s
/// for each (a relay slowed by a loaded machine may take a while), then
/// puts the socket's timeout back.
pub(crate) fn arrived_numbers(sock: &UdpSocket, max: usize) -> Vec<u32> {
    let before = sock.read_timeout().unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let got = recv_numbers(sock, max);
    sock.set_read_timeout(before).unwrap();
    got
}

/// One counter of `/proc/net/snmp` or `/proc/net/netstat` (e.g. `("Udp",
/// "InCsumErrors")`, `("IpExt", "InTruncatedPkts")`) as the kernel keeps it
/// in `node`.
pub(crate) fn snmp(net: &Net, node: &str, table: &str, field: &str) -> u64 {
    let text = net[node]
        .run(|| {
            ["snmp", "netstat"]
                .map(|f| std::fs::read_to_string(format!("/proc/thread-self/net/{f}")).unwrap())
                .join("")
        })
        .unwrap();
    let prefix = format!("{table}:");
    let mut rows = text.lines().filter(|l| l.starts_with(&prefix));
    let (names, values) = (rows.next().unwrap(), rows.next().unwrap());
    let i = names.split_whitespace().position(|n| n == field).unwrap();
    values.split_whitespace().nth(i).unwrap().parse().unwrap()
}

/// The number a datagram of [`send_numbered`] to UDP port `port` carries,
/// when `frame` is one (IPv4).
pub(crate) fn udp_number(frame: &Frame<'_>, port: u16) -> Option<u32> {
    let b = frame.bytes();
    if b.len() < 14 + 20 || b[12..14] != [0x08, 0x00] || b[14 + 9] != 17 {
        return None;
    }
    let udp = 14 + usize::from(b[14] & 0x0f) * 4;
    let payload = b.get(udp + 8..udp + 12)?;
    (u16::from_be_bytes([b[udp + 2], b[udp + 3]]) == port)
        .then(|| u32::from_be_bytes(payload.try_into().unwrap()))
}

/// The relay kept busy in a rule; dropping this lets the rule return.
pub(crate) struct Busy {
    _open: std::sync::mpsc::Sender<()>,
}

/// Sets a rule on `direction` of `link` that blocks at datagram 0 of
/// [`send_numbered`] to `dst` (an IPv4 socket address), sends that
/// datagram from `tx`, and returns once the rule has it: the relay stays
/// in the rule, every wire of the lab stopped, until the [`Busy`] drops.
pub(crate) fn block_relay(
    link: &netns_test::fault::Link<'_>,
    direction: netns_test::wire::Direction,
    tx: &UdpSocket,
    dst: &str,
) -> Busy {
    let port: u16 = dst.rsplit(':').next().unwrap().parse().unwrap();
    let (open, gate) = std::sync::mpsc::channel::<()>();
    let gate = std::sync::Mutex::new(gate);
    let (entered_tx, entered) = std::sync::mpsc::channel();
    link.set_rule(direction, move |frame: &Frame<'_>| {
        if udp_number(frame, port) == Some(0) {
            let _ = entered_tx.send(());
            // Returns when the sender drops.
            let _ = gate.lock().unwrap().recv();
        }
        netns_test::wire::Verdict::Pass
    })
    .unwrap();
    send_numbered(tx, dst, 0..1, 32, Duration::ZERO);
    entered
        .recv_timeout(Duration::from_secs(10))
        .expect("the rule sees the datagram");
    Busy { _open: open }
}

/// Waits until `hold` holds `n` frames (the relay reads them from the
/// node's veth a little after the send).
pub(crate) fn until_held(hold: &netns_test::wire::Hold<'_>, n: usize) {
    let by = std::time::Instant::now() + Duration::from_secs(10);
    while hold.held() < n && std::time::Instant::now() < by {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(hold.held(), n);
}
