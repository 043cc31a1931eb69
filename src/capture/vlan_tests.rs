//! A frame whose 802.1Q tag the receiving veth takes off the data (into
//! the packet's metadata, before any tap sees it) is captured with its tag
//! back after the MAC addresses, as libpcap shows it; over a wire too.

use std::time::{Duration, Instant};

use super::Filter;
use crate::sys::packet_port::{open_port, send_frame};
use crate::{Net, Topology};

/// A broadcast ARP request for 198.51.100.2 from 198.51.100.1, tagged
/// with VLAN 100, priority 3.
fn tagged_arp_request() -> Vec<u8> {
    let mac = [0x02, 0, 0, 0, 0, 0x01];
    let mut f = vec![0xff; 6];
    f.extend(mac);
    f.extend([0x81, 0x00, 0x60, 0x64, 0x08, 0x06]);
    // Ethernet, IPv4, 6-byte and 4-byte addresses, request.
    f.extend([0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]);
    f.extend(mac);
    f.extend([198, 51, 100, 1]);
    f.extend([0; 6]);
    f.extend([198, 51, 100, 2]);
    f
}

/// Sends the tagged ARP request out of h1's `eth0` in `topology` and
/// checks that h2 captures it on its `eth0`, tag and all.
fn tagged_arp_arrives_whole(topology: &Topology) {
    let net = Net::build(topology).unwrap();
    let cap = net["h2"].capture_iface("eth0").unwrap();
    let frame = tagged_arp_request();
    net["h1"]
        .run(|| {
            let index = nix::net::if_::if_nametoindex("eth0")?;
            send_frame(open_port(index)?, &frame)
        })
        .unwrap()
        .unwrap();
    let arp = Filter::arp().on("h2", "eth0").incoming();
    let deadline = Instant::now() + Duration::from_secs(5);
    while cap.count(&arp) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let got = cap.matching(&arp);
    assert_eq!(got.len(), 1, "{:?}", cap.packets());
    assert_eq!(got[0].data, frame, "{}", got[0]);
    assert_eq!(got[0].len, frame.len());
}

#[test]
fn an_offloaded_vlan_tag_is_put_back() {
    tagged_arp_arrives_whole(&Topology::new().link(
        ("h1", "eth0", "198.51.100.1/24"),
        ("h2", "eth0", "198.51.100.2/24"),
    ));
}

/// The relay's packet sockets, too, get the tag the hub's veth took off,
/// and put it back before they send the frame on.
#[test]
fn a_vlan_tag_crosses_a_wire() {
    tagged_arp_arrives_whole(&Topology::new().wire(
        ("h1", "eth0", "198.51.100.1/24"),
        ("h2", "eth0", "198.51.100.2/24"),
    ));
}
