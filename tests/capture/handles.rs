//! Several handles on one capture: what one does to its view leaves the
//! others, and the network's, as they were.

use netns_test::capture::{read_pcapng, Filter};
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
    assert_eq!(h1.stats()[0].kept, h1.packets().len());
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
