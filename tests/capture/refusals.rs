//! What a capture refuses, and that a refusal leaves nothing behind.

use netns_test::capture::{read_pcapng, CaptureError, Direction, Filter};
use netns_test::{Error, Net};

use super::routed;

/// A capture of an interface that does not exist is a typed error naming
/// it, and starts nothing: no capture, no log of that interface.
#[test]
fn a_refused_interface_leaves_no_trace() {
    let net = Net::build(&routed()).unwrap();
    let err = net["h1"].capture_iface("eth9").unwrap_err();
    assert!(
        matches!(
            &err,
            Error::CaptureRefused(CaptureError::UnknownInterface { node, iface })
                if node == "h1" && iface == "eth9"
        ),
        "{err}"
    );
    assert!(net.captured().is_none(), "a capture was started");
    // With capture on, a refusal adds no interface to it.
    let cap = net["h1"].capture().unwrap();
    net["h1"].capture_iface("eth9").unwrap_err();
    assert_eq!(cap.interfaces(), ["h1/eth0"]);
    assert_eq!(net.captured().unwrap().interfaces(), ["h1/eth0"]);
}

/// A frame recorded on an interface a handle does not capture shows in
/// that handle's packets and file; a node or an interface the network does
/// not have is refused, and nothing is recorded.
#[test]
fn a_recorded_frame_joins_the_handle_and_a_bad_place_is_refused() {
    let net = Net::build(&routed()).unwrap();
    let cap = net["h1"].capture().unwrap();
    net["h1"].ping("203.0.113.1").count(1).run().unwrap();
    let request = cap.matching(&Filter::echo_request())[0].data.clone();
    cap.record(
        "r1",
        "eth1",
        Direction::Out,
        &request,
        "dropped by the wire",
    )
    .unwrap();
    assert_eq!(cap.interfaces(), ["h1/eth0", "r1/eth1"]);
    let dropped = Filter::echo_request().on("r1", "eth1").outgoing();
    let seen = cap.assert_count(&dropped, 1);
    assert_eq!(seen[0].comment.as_deref(), Some("dropped by the wire"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("recorded.pcapng");
    cap.save(&file).unwrap();
    let back = read_pcapng(&file).unwrap();
    assert_eq!(back.iter().filter(|p| dropped.matches(p)).count(), 1);

    for (node, iface) in [("h9", "eth0"), ("h1", "eth9"), ("h1", "eht0")] {
        let err = cap
            .record(node, iface, Direction::Out, &request, "a typo")
            .unwrap_err();
        let named = match &err {
            Error::CaptureRefused(CaptureError::UnknownNode { node: n, iface: i })
                if node == "h9" =>
            {
                (n.as_str(), i.as_str()) == (node, iface)
            }
            Error::CaptureRefused(CaptureError::UnknownInterface { node: n, iface: i }) => {
                (n.as_str(), i.as_str()) == (node, iface)
            }
            _ => false,
        };
        assert!(named, "{node}/{iface}: {err}");
    }
    assert_eq!(
        net.captured().unwrap().interfaces(),
        ["h1/eth0", "r1/eth1"],
        "a refused place has no log"
    );
}
