//! What a capture refuses, and that a refusal leaves nothing behind.

use netns_test::capture::CaptureError;
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
