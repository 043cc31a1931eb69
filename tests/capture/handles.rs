//! Several handles on one capture: what one does to its view leaves the
//! others, and the network's, as they were.

use netns_test::capture::{read_pcapng, Filter, DEFAULT_LIMIT};
use netns_test::Net;

use super::routed;

/// `clear` on one handle hides what came before from that handle only:
/// another handle, `net.captured()` and the file written from it (what
/// the harness keeps for a failed test) still have every packet.
#[test]
fn clear_is_per_handle() {
    let net = Net::build(&routed()).unwrap();
    let everything = net.capture().unwrap();
    let h1 = net["h1"].capture().unwrap();
    let request = Filter::echo_request().on("h1", "eth0");
    net["h1"].ping("203.0.113.1").count(1).run().unwrap();
    h1.clear();
    assert_eq!(h1.count(&request), 0);
    everything.assert_count(&request, 1);
    net.captured().unwrap().assert_count(&request, 1);
    // What comes after the clear shows in the handle.
    net["h1"].ping("203.0.113.1").count(1).run().unwrap();
    h1.assert_count(&request, 1);
    everything.assert_count(&request, 2);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("all.pcapng");
    net.captured().unwrap().save(&file).unwrap();
    let back = read_pcapng(&file).unwrap();
    assert_eq!(back.iter().filter(|p| request.matches(p)).count(), 2);
    // A clone is the same handle.
    let clone = h1.clone();
    clone.clear();
    assert_eq!(h1.count(&request), 0);
}

/// A filter that names a place the capture does not cover could never
/// match: an assertion on it fails, naming the place and the interfaces
/// captured, instead of passing for want of packets.
#[test]
fn an_uncovered_place_fails_the_assertion() {
    let net = Net::build(&routed()).unwrap();
    let h1 = net["h1"].capture().unwrap();
    net["h1"].ping("203.0.113.1").count(1).run().unwrap();
    for filter in [
        Filter::echo_request().on("h1", "eht0"),
        Filter::echo_request().on("h2", "eth0"),
        Filter::echo_request().node("r1"),
    ] {
        let never = h1.check_never(&filter).unwrap_err();
        assert!(
            never
                .reason
                .contains("which this capture does not cover (it captures h1/eth0)"),
            "{never}"
        );
        assert!(h1.check_count(&filter, 0).is_err());
        assert!(h1.check_order(&[&Filter::echo_request(), &filter]).is_err());
    }
    let typo = h1
        .check_never(&Filter::echo_request().on("h1", "eht0"))
        .unwrap_err();
    assert!(
        typo.reason
            .starts_with("`echo request on h1/eht0` names h1/eht0, which this capture"),
        "{typo}"
    );
    // The place it covers is judged as before.
    h1.assert_count(&Filter::echo_request().on("h1", "eth0"), 1);
    h1.assert_never(&Filter::udp().on("h1", "eth0"));
}

/// When frames were forgotten for the size limit, an absence, a count or
/// an order cannot be told: the assertion fails and says so, until a
/// `clear` starts afresh.
#[test]
fn lost_frames_fail_negative_assertions() {
    let net = Net::build(&routed()).unwrap();
    let h1 = net["h1"].capture().unwrap();
    let h2 = net["h2"].capture().unwrap();
    net["h1"].ping("203.0.113.1").count(1).run().unwrap();
    // Room for about one frame: the request is forgotten once the reply
    // comes.
    h1.set_limit(200);
    net["h1"].ping("203.0.113.1").count(1).run().unwrap();
    let stats = &h1.stats()[0];
    assert!(stats.evicted > 0, "{stats:?}");
    let never = h1.check_never(&Filter::tcp()).unwrap_err();
    assert!(
        never
            .reason
            .starts_with("cannot judge `tcp`: frames were lost")
            && never.reason.contains("h1/eth0: ")
            && never.reason.contains(" forgotten for the size limit"),
        "{never}"
    );
    assert!(h1.check_count(&Filter::tcp(), 0).is_err());
    let kept = h1.matching(&Filter::echo_reply()).len();
    assert!(h1.check_count(&Filter::echo_reply(), kept).is_err());
    assert!(h1
        .check_before(&Filter::echo_request(), &Filter::echo_reply())
        .is_err());
    // Another interface, which lost nothing, is judged as before.
    h2.assert_never(&Filter::tcp());
    h2.assert_count(&Filter::echo_request(), 2);
    // After a clear, what was lost before it does not count (with room
    // again: frames keep coming, the IPv6 start-up of the interfaces).
    h1.set_limit(DEFAULT_LIMIT);
    h1.clear();
    h1.assert_never(&Filter::tcp());
}
