//! Phase `wire`: what the userspace wire costs beside a veth, in one run.
//!
//! | row | what is measured |
//! | --- | --- |
//! | `goodput` | TCP bulk transfer n1 → n2 (receiver's bytes over the time from its first to its last byte), over a veth and over an unimpaired wire |
//! | `latency` | UDP round trips of 64-byte datagrams, one at a time: p50 and p99 over a veth and over an unimpaired wire; the added latency per frame is half the difference (a round trip crosses the wire twice) |
//! | `delay-20ms` | one-way trips of datagrams over a wire with 20 ms configured, from the kernel's transmit stamp in n1 to its receive stamp in n2 (see `oneway.rs`): the error is the trip minus 20 ms minus the unimpaired wire's median one-way trip measured the same way |
//! | `relay-cpu` | the relay thread's CPU time (`/proc/self/task/*/schedstat`) over the wall time of a TCP transfer through a wire limited to 100 Mbit/s, and through an unlimited one |

#[path = "oneway.rs"]
mod oneway;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use netns_test::wire::{Bandwidth, Direction, Impairment};
use netns_test::{Net, Topology};

use crate::stats::judged;

pub(crate) struct WireRows {
    /// (veth, wire) goodput in bit/s.
    pub(crate) goodput: (f64, f64),
    /// (veth, wire) round trips.
    pub(crate) rtt: (Vec<Duration>, Vec<Duration>),
    /// One-way trips over the unimpaired wire.
    pub(crate) base: Vec<Duration>,
    /// One-way trips with 20 ms configured.
    pub(crate) delayed: Vec<Duration>,
    /// (goodput bit/s, relay CPU share) at 100 Mbit/s, then unlimited.
    pub(crate) cpu: Vec<(String, f64, f64)>,
}

fn lab(wire: bool) -> Result<Net, String> {
    let (a, b) = (
        ("n1", "eth0", "198.51.100.1/24"),
        ("n2", "eth0", "198.51.100.2/24"),
    );
    let t = if wire {
        Topology::new().wire(a, b)
    } else {
        Topology::new().link(a, b)
    };
    Net::build(&t).map_err(|e| e.to_string())
}

/// Sends `bytes` over TCP from n1 to n2; the goodput in bit/s.
fn tcp_goodput(net: &Net, bytes: usize) -> Result<f64, String> {
    let listener = net["n2"]
        .run(|| TcpListener::bind("198.51.100.2:5201"))
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let sender = net["n1"]
        .spawn(move |_| -> std::io::Result<()> {
            let mut s = TcpStream::connect("198.51.100.2:5201")?;
            let chunk = vec![0x5au8; 128 * 1024];
            let mut left = bytes;
            while left > 0 {
                let n = left.min(chunk.len());
                s.write_all(&chunk[..n])?;
                left -= n;
            }
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    let accepted = accept_within(&listener, CONNECT_TIMEOUT, || sender.is_finished());
    let mut conn = match accepted {
        Ok(conn) => conn,
        // A sender that gave up says why.
        Err(e) if sender.is_finished() => {
            return Err(match sender.join() {
                Err(why) => format!("the sender could not connect: {why}"),
                Ok(()) => e,
            })
        }
        Err(e) => return Err(e),
    };
    conn.set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 256 * 1024];
    let (mut got, mut first) = (0, None);
    while got < bytes {
        let n = conn.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err(format!("closed after {got} bytes"));
        }
        first.get_or_insert_with(Instant::now);
        got += n;
    }
    let secs = first.map_or(0.0, |f| f.elapsed().as_secs_f64());
    sender.join().map_err(|e| e.to_string())?;
    Ok(got as f64 * 8.0 / secs.max(1e-9))
}

/// How long the TCP rows wait for the sender to connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the round trips wait for one datagram before counting it lost
/// and failing the row.
const RECV_TIMEOUT: Duration = Duration::from_secs(2);

/// The first connection to `listener` within `timeout`, or an error once
/// `timeout` has passed or `gave_up()` (the sender has finished without
/// connecting). The listener is left non-blocking.
pub(crate) fn accept_within(
    listener: &TcpListener,
    timeout: Duration,
    gave_up: impl Fn() -> bool,
) -> Result<TcpStream, String> {
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + timeout;
    loop {
        match listener.accept() {
            Ok((conn, _)) => {
                conn.set_nonblocking(false).map_err(|e| e.to_string())?;
                return Ok(conn);
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                if gave_up() {
                    return Err("the sender finished without connecting".into());
                }
                if Instant::now() >= deadline {
                    return Err(format!("no connection within {timeout:?}"));
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => return Err(format!("accept: {e}")),
        }
    }
}

/// One datagram from `sock` into `buf`, or an error naming `what` once
/// `timeout` has passed without one (a datagram lost). The socket's read
/// timeout sets how often the wait looks at the clock; a read that returns
/// early (a signal) is tried again within `timeout`.
pub(crate) fn recv_within(
    sock: &UdpSocket,
    buf: &mut [u8],
    timeout: Duration,
    what: &str,
) -> Result<(usize, SocketAddr), String> {
    let deadline = Instant::now() + timeout;
    loop {
        match sock.recv_from(buf) {
            Ok(got) => return Ok(got),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) =>
            {
                if Instant::now() >= deadline {
                    return Err(format!("{what}: no datagram within {timeout:?} (lost)"));
                }
            }
            Err(e) => return Err(format!("{what}: {e}")),
        }
    }
}

/// A UDP socket bound to `addr` inside `node`.
fn bind_in(net: &Net, node: &str, addr: &str) -> Result<UdpSocket, String> {
    net[node]
        .run(move || UdpSocket::bind(addr))
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

/// `n` UDP round trips n1 → n2 → n1, one at a time, echoed by the same
/// thread (sleeping in `recv` as most programs do).
fn round_trips(net: &Net, n: usize) -> Result<Vec<Duration>, String> {
    let echo = bind_in(net, "n2", "198.51.100.2:7")?;
    let sock = bind_in(net, "n1", "198.51.100.1:0")?;
    for s in [&echo, &sock] {
        s.set_read_timeout(Some(RECV_TIMEOUT))
            .map_err(|e| e.to_string())?;
    }
    let mut out = Vec::with_capacity(n);
    let (mut buf, mut back) = ([0u8; 64], [0u8; 64]);
    for i in 0..n + 10 {
        let t = Instant::now();
        sock.send_to(&buf, "198.51.100.2:7")
            .map_err(|e| e.to_string())?;
        let (len, from) = recv_within(&echo, &mut back, RECV_TIMEOUT, "round trip to n2")?;
        echo.send_to(&back[..len], from)
            .map_err(|e| e.to_string())?;
        recv_within(&sock, &mut buf, RECV_TIMEOUT, "round trip back to n1")?;
        // The first ten warm up (ARP, caches).
        if i >= 10 {
            out.push(t.elapsed());
        }
    }
    Ok(out)
}

/// Nanoseconds the relay thread of this process has run so far.
fn relay_cpu_ns() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim() == "netns-wire")
        })
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// A transfer over a wire with `rate` (or none): goodput and the relay's
/// share of one core.
fn cpu_row(rate: Option<Bandwidth>, bytes: usize) -> Result<(f64, f64), String> {
    let net = lab(true)?;
    if let Some(r) = rate {
        net.link("n1", "n2")
            .and_then(|l| l.impair(Direction::Forward, Impairment::new().rate(r)))
            .map_err(|e| e.to_string())?;
    }
    let (cpu0, t0) = (relay_cpu_ns(), Instant::now());
    let goodput = tcp_goodput(&net, bytes)?;
    let share = (relay_cpu_ns() - cpu0) as f64 / t0.elapsed().as_nanos() as f64;
    Ok((goodput, share))
}

pub(crate) fn run(quick: bool) -> Result<WireRows, String> {
    let (bulk, trips) = if quick {
        (4_000_000, 200)
    } else {
        (400_000_000, 5_000)
    };
    let veth = lab(false)?;
    let wire = lab(true)?;
    let goodput = (tcp_goodput(&veth, bulk)?, tcp_goodput(&wire, bulk)?);
    let rtt = (round_trips(&veth, trips)?, round_trips(&wire, trips)?);
    let base = oneway::trips(&wire, trips)?;
    wire.link("n1", "n2")
        .and_then(|l| {
            l.impair(
                Direction::Forward,
                Impairment::new().delay(Duration::from_millis(20)),
            )
        })
        .map_err(|e| e.to_string())?;
    let delayed = oneway::trips(&wire, if quick { 20 } else { 500 })?;
    drop((veth, wire));
    let rate = Bandwidth::mbit(100).map_err(|e| e.to_string())?;
    let shaped_bytes = if quick { 1_000_000 } else { 37_500_000 };
    let mut cpu = Vec::new();
    let (g, s) = cpu_row(Some(rate), shaped_bytes)?;
    cpu.push(("wire at 100 Mbit/s".to_string(), g, s));
    let (g, s) = cpu_row(None, bulk)?;
    cpu.push(("wire unlimited".to_string(), g, s));
    Ok(WireRows {
        goodput,
        rtt,
        base,
        delayed,
        cpu,
    })
}

fn quantile(v: &[Duration], q: f64) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v.get(((v.len() as f64 - 1.0) * q).round() as usize)
        .copied()
        .unwrap_or_default()
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

pub(crate) fn print(rows: &WireRows) {
    println!();
    println!("phase wire (veth beside wire, one run)");
    println!();
    println!("| row | veth | wire |");
    println!("| --- | ---: | ---: |");
    println!(
        "| TCP goodput | {:.3} Gbit/s | {:.3} Gbit/s |",
        rows.goodput.0 / 1e9,
        rows.goodput.1 / 1e9
    );
    let (v, w) = &rows.rtt;
    for (name, q) in [("p50", 0.5), ("p99", 0.99)] {
        println!(
            "| UDP round trip {name} | {:.1} µs | {:.1} µs |",
            us(quantile(v, q)),
            us(quantile(w, q))
        );
    }
    println!();
    for (name, q) in [("p50", 0.5), ("p99", 0.99)] {
        let added = (us(quantile(w, q)) - us(quantile(v, q))) / 2.0;
        let target = if name == "p50" {
            " (target < 30 µs)"
        } else {
            ""
        };
        println!("added latency per frame {name}: {added:.1} µs{target}");
    }
    let base = quantile(&rows.base, 0.5);
    let errors: Vec<Duration> = rows
        .delayed
        .iter()
        .map(|r| r.abs_diff(Duration::from_millis(20) + base))
        .collect();
    let (p99, met) = judged(us(quantile(&errors, 0.99)), 1, |us| us < 500.0);
    println!(
        "20 ms delay: error p50 {:.1} µs, p99 {p99} µs, max {:.1} µs (target p99 < 500 µs: {met})",
        us(quantile(&errors, 0.5)),
        us(quantile(&errors, 1.0)),
    );
    for (name, goodput, share) in &rows.cpu {
        println!(
            "relay CPU, {name}: {:.1}% of one core at {:.1} Mbit/s goodput",
            share * 100.0,
            goodput / 1e6
        );
    }
    let (goodput, met) = judged(rows.goodput.1 / 1e9, 3, |g| g >= 1.0);
    println!("target: wire goodput >= 1 Gbit/s: {met} ({goodput} Gbit/s)");
}
