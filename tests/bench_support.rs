//! The benchmark's support code that decides what a row means, tested
//! without running a phase: waits that end when a datagram or a connection
//! never comes, what `down-to-loss` counts as the loss, and verdicts that
//! agree with the figures printed beside them.
//!
//! The modules are the bench's own files (`benches/support/`), compiled
//! here as they are in `benches/cycle.rs`; what this file does not call is
//! dead code here.

#[allow(dead_code)]
#[path = "../benches/support/faults.rs"]
mod faults;
#[allow(dead_code)]
#[path = "../benches/support/floor.rs"]
mod floor;
#[allow(dead_code)]
#[path = "../benches/support/floor_scale.rs"]
mod floor_scale;
#[allow(dead_code)]
#[path = "../benches/support/labs.rs"]
mod labs;
#[allow(dead_code)]
#[path = "../benches/support/nat.rs"]
mod nat;
#[allow(dead_code)]
#[path = "../benches/support/phases.rs"]
mod phases;
#[allow(dead_code)]
#[path = "../benches/support/scale.rs"]
mod scale;
#[allow(dead_code)]
#[path = "../benches/support/stats.rs"]
mod stats;
#[allow(dead_code)]
#[path = "../benches/support/wire.rs"]
mod wire;

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use netns_test::{Net, Topology};

/// Runs `f` on a thread and returns its result, or fails when it has not
/// returned within `limit` (a wait that never ends).
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .expect("the wait did not end within its bound")
}

#[test]
fn a_lost_datagram_ends_the_round_trips_with_an_error() {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let addr = sock.local_addr().unwrap();
    let t = Instant::now();
    let (sock, got) = within(Duration::from_secs(10), move || {
        let mut buf = [0u8; 64];
        let got = wire::recv_within(&sock, &mut buf, Duration::from_millis(200), "echo");
        (sock, got)
    });
    let err = got.unwrap_err();
    assert!(err.contains("echo") && err.contains("lost"), "{err}");
    assert!(t.elapsed() >= Duration::from_millis(200));
    // A datagram that comes is read.
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .send_to(b"x", addr)
        .unwrap();
    let mut buf = [0u8; 64];
    let (len, _) = wire::recv_within(&sock, &mut buf, Duration::from_secs(5), "echo").unwrap();
    assert_eq!(&buf[..len], b"x");
}

#[test]
fn a_sender_that_never_connects_ends_the_transfer_with_an_error() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (listener, got) = within(Duration::from_secs(10), move || {
        let got = wire::accept_within(&listener, Duration::from_millis(200), || false);
        (listener, got)
    });
    assert!(got.unwrap_err().contains("no connection"));
    // A sender that has given up ends the wait at once.
    let t = Instant::now();
    let got = wire::accept_within(&listener, Duration::from_secs(60), || true);
    assert!(got.unwrap_err().contains("without connecting"));
    assert!(t.elapsed() < Duration::from_secs(5));
    // A sender that connects is accepted, in blocking mode.
    let _client = TcpStream::connect(addr).unwrap();
    let conn = wire::accept_within(&listener, Duration::from_secs(5), || false).unwrap();
    conn.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let t = Instant::now();
    assert!((&conn).read(&mut [0u8; 1]).is_err());
    assert!(
        t.elapsed() >= Duration::from_millis(40),
        "the read did not block"
    );
}

#[test]
fn down_to_loss_counts_only_a_probe_the_kernel_refuses() {
    let net = Net::build(&Topology::new().link(
        ("n1", "eth0", "198.51.100.1/24"),
        ("n2", "eth0", "198.51.100.2/24"),
    ))
    .unwrap();
    let probe = net["n1"]
        .run(|| UdpSocket::bind("198.51.100.1:0"))
        .unwrap()
        .unwrap();
    let n2: SocketAddr = "198.51.100.2:9".parse().unwrap();
    // Up, a probe to an address nobody has is lost too, but it was sent.
    let silent: SocketAddr = "198.51.100.99:9".parse().unwrap();
    let err = faults::lost_at(&probe, silent, Instant::now()).unwrap_err();
    assert!(err.contains("was sent"), "{err}");
    let link = net.link("n1", "n2").unwrap();
    let t = Instant::now();
    let guard = link.down().unwrap();
    let down = t.elapsed();
    let lost = faults::lost_at(&probe, n2, t).unwrap();
    assert!(lost >= down, "{lost:?} < {down:?}");
    drop(guard);
    let err = faults::lost_at(&probe, n2, Instant::now()).unwrap_err();
    assert!(err.contains("was sent"), "{err}");
}

/// Whether `verdict` is what `target` says of `value`, and `text`, read
/// back, says the same.
fn agrees(value: f64, text: &str, verdict: &str, target: impl Fn(f64) -> bool) -> bool {
    let shown: f64 = text.parse().unwrap();
    let truth = if target(value) { "met" } else { "MISSED" };
    verdict == truth && target(shown) == target(value)
}

#[test]
fn a_verdict_is_the_figures_own_and_agrees_with_the_figure_printed_beside_it() {
    for i in 0..=400 {
        let near = |at: f64| at - 0.02 + f64::from(i) * 0.0001;
        let (text, verdict) = scale::flat(Some(near(1.1)));
        assert!(
            agrees(near(1.1), &text, verdict, |r| r <= 1.1),
            "flat: {text} {verdict}"
        );
        let (text, verdict) = phases::over_floor(near(0.9) * 500.0, 500.0);
        assert!(
            agrees(near(0.9), &text, verdict, |r| r >= 0.9),
            "floor: {text}× {verdict}"
        );
        let (text, verdict) = stats::judged(near(0.5), 3, |s| s <= 0.5);
        assert!(
            agrees(near(0.5), &text, verdict, |s| s <= 0.5),
            "slope: {text} {verdict}"
        );
    }
    for ms in [999.0, 999.94, 999.96, 1000.0, 1000.04] {
        let build = Duration::from_secs_f64(ms / 1e3);
        let (text, verdict) = scale::under_a_second(1000, build);
        assert!(
            agrees(ms, &text, verdict, |ms| ms < 1000.0),
            "build: {text} ms {verdict}"
        );
        assert_eq!(scale::under_a_second(999, build).1, "–");
    }
    assert_eq!(scale::flat(Some(1.104)), ("1.104".into(), "MISSED"));
    assert_eq!(scale::flat(None), ("–".into(), "–"));
    assert_eq!(
        phases::over_floor(89.96, 100.0),
        ("0.8996".into(), "MISSED")
    );
    assert_eq!(phases::over_floor(90.0, 100.0), ("0.900".into(), "met"));
}
