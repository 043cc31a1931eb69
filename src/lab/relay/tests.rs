//! The relay of a live lab: what stopping it closes, a thread that does
//! not stop, the hub's MTU; and how it places a frame's arrival.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use super::run::arrival;
use crate::fault::Link;
use crate::impairment::{Frame, Impairment, Verdict};
use crate::lab::teardown::Teardown;
use crate::lab::{Veth, VethEnd};
use crate::wire::Direction;
use crate::{Net, Topology};

fn wired() -> Net {
    Net::build(&Topology::new().wire(
        ("n1", "eth0", "198.51.100.1/24"),
        ("n2", "eth0", "198.51.100.2/24"),
    ))
    .expect("build the lab (run the tests as root)")
}

#[test]
fn releasing_a_lab_closes_the_relays_descriptors_and_the_hub() {
    let net = wired();
    let relay = net.relay.as_ref().expect("a lab with a wire has a relay");
    let io = Arc::downgrade(relay.io.lock().unwrap().as_ref().expect("running"));
    // The path of a timed-out test: the `Net` stays borrowed by its body.
    net.tear_down(Teardown::Release);
    assert!(relay.thread.lock().unwrap().is_none(), "the thread runs on");
    assert!(
        io.upgrade().is_none(),
        "the ports, the epoll set or the hub namespace are still open"
    );
    // The wire's verbs still answer, without the descriptors.
    let link = net.link("n1", "n2").unwrap();
    let hold = link.hold(Direction::Forward).unwrap();
    assert_eq!(hold.release().unwrap(), 0);
    let err = link.set_mtu(1400).unwrap_err().to_string();
    assert!(err.contains("the relay has stopped"), "{err}");
}

#[test]
fn a_relay_stuck_in_its_rule_is_left_behind_by_the_teardown() {
    let net = wired();
    let link = net.link("n1", "n2").unwrap();
    // A fault whose end takes the direction's lock, which the stuck relay
    // holds.
    let model = Impairment::new().delay(Duration::from_millis(1));
    link.impair(Direction::Forward, model).unwrap();
    let (entered, on_entry) = mpsc::channel();
    let (gate, closed) = mpsc::channel::<()>();
    let returned = Arc::new(AtomicBool::new(false));
    let rule_returned = Arc::clone(&returned);
    let mut first = true;
    link.set_rule(Direction::Forward, move |_: &Frame<'_>| {
        if std::mem::take(&mut first) {
            let _ = entered.send(());
            // Until the test lets go (or, with a teardown that waits for
            // the relay, long enough to fail the test below).
            let _ = closed.recv_timeout(Duration::from_secs(30));
            rule_returned.store(true, Ordering::SeqCst);
        }
        Verdict::Pass
    })
    .unwrap();
    // Any frame from n1 (an ARP request first) reaches the rule.
    net["n1"]
        .run(|| {
            let s = std::net::UdpSocket::bind("198.51.100.1:0").unwrap();
            s.send_to(b"stuck", "198.51.100.2:9").unwrap();
        })
        .unwrap();
    on_entry
        .recv_timeout(Duration::from_secs(10))
        .expect("a frame reached the rule");
    net.tear_down(Teardown::Release);
    assert!(
        !returned.load(Ordering::SeqCst),
        "the teardown waited for the rule"
    );
    let relay = net.relay.as_ref().unwrap();
    assert!(relay.detached.load(Ordering::SeqCst));
    assert!(relay.thread.lock().unwrap().is_none());
    let io = relay.io.lock().unwrap().clone();
    assert!(io.is_none(), "the relay keeps its descriptors");
    // Let go: the thread returns and closes what it held.
    drop(gate);
    assert!(relay
        .finished
        .wait_until(Instant::now() + Duration::from_secs(60)));
    assert!(returned.load(Ordering::SeqCst));
}

#[test]
fn the_hubs_ends_follow_the_mtu_and_are_lowered_last() {
    let net = wired();
    let relay = net.relay.as_ref().unwrap();
    let link = net.link("n1", "n2").unwrap();
    let wire = link.veth.wire.unwrap();
    let first = relay.hub_mtus(wire).unwrap();
    assert_eq!(first, [1500, 1500]);
    // The same wire, with end a's index one the node does not have: the
    // node's end refuses any MTU.
    let real = link.veth;
    let broken = Veth {
        a: VethEnd {
            index: 0x7fff_fff0,
            ..real.a.clone()
        },
        b: real.b.clone(),
        wire: real.wire,
        state_changes: Arc::default(),
        lost_routes: Arc::clone(&real.lost_routes),
    };
    let broken = Link {
        net: &net,
        veth: &broken,
        flipped: false,
    };
    // Lowering: the nodes' ends go first, so the hub's are never touched.
    broken.set_mtu(1280).unwrap_err();
    assert_eq!(relay.hub_mtus(wire).unwrap(), first);
    // Raising: the hub's ends go first, and are put back.
    broken.set_mtu(9000).unwrap_err();
    assert_eq!(relay.hub_mtus(wire).unwrap(), first);
    // And through the real link, both ways.
    link.set_mtu(9000).unwrap();
    assert_eq!(relay.hub_mtus(wire).unwrap(), [9000, 9000]);
    link.set_mtu(1400).unwrap();
    assert_eq!(relay.hub_mtus(wire).unwrap(), [1400, 1400]);
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn a_frame_arrives_its_wall_clock_age_before_now_and_never_before_the_last() {
    // The relay's clock reads 100 ms while the wall clock reads 10 s.
    let clocks = (ms(100), ms(10_000));
    assert_eq!(arrival(Some(ms(9_997)), clocks, ms(0)), ms(97));
    assert_eq!(arrival(None, clocks, ms(0)), ms(100), "no stamp: now");
    // The wall clock stepped back between the stamp and the read.
    assert_eq!(arrival(Some(ms(10_500)), clocks, ms(0)), ms(100));
    // Stepped forward: older than the relay.
    assert_eq!(arrival(Some(ms(5_000)), clocks, ms(0)), ms(0));
    // Never before the frame before it, however the clock stepped.
    assert_eq!(arrival(Some(ms(9_997)), clocks, ms(99)), ms(99));
    assert_eq!(arrival(Some(ms(5_000)), clocks, ms(60)), ms(60));
}

#[test]
fn a_held_direction_keeps_at_most_its_limits_and_counts_the_rest() {
    use crate::impairment::Pipeline;
    use crate::vocab::Rng;
    use crate::wire::{HOLD_LIMIT, HOLD_LIMIT_BYTES};

    let held = || {
        let mut st = super::DirState::new(Pipeline::new(Impairment::new(), Rng::new(0)));
        st.held = Some(Default::default());
        st
    };
    // Frames: the count is the limit.
    let mut st = held();
    for _ in 0..HOLD_LIMIT + 3 {
        st.keep_held(0, &[0u8; 60]);
    }
    assert_eq!(st.held.as_ref().unwrap().len(), HOLD_LIMIT);
    assert_eq!(
        (st.stats.held, st.stats.held_dropped),
        (HOLD_LIMIT as u64, 3)
    );
    // Bytes: the frames' sizes together are the limit.
    let mut st = held();
    let big = vec![0u8; 65_535];
    for _ in 0..HOLD_LIMIT_BYTES / big.len() + 2 {
        st.keep_held(0, &big);
    }
    let kept = HOLD_LIMIT_BYTES / big.len();
    assert_eq!(st.held.as_ref().unwrap().len(), kept);
    assert_eq!(st.stats.held_dropped, 2);
    // A smaller frame that fits still goes in; taking them out empties it.
    st.keep_held(0, &[0u8; 60]);
    assert_eq!(st.held.as_ref().unwrap().len(), kept + 1);
    assert_eq!(st.take_held().len(), kept + 1);
    st.keep_held(0, &big);
    assert_eq!(st.held.as_ref().unwrap().len(), 1);
}
