use netns_test::{Net, Topology};
use std::net::UdpSocket;

#[test]
fn udp_crosses_veth() {
    let net = Net::build(&Topology::new().link(
        ("n1", "n1-veth0", ["198.51.100.1/24", "2001:db8::1/64"]),
        ("n2", "n2-veth0", ["198.51.100.2/24", "2001:db8::2/64"]),
    ))
    .unwrap();
    for (a, b) in [
        ("198.51.100.2:9000", "198.51.100.1:0"),
        ("[2001:db8::2]:9000", "[2001:db8::1]:0"),
    ] {
        let rx = net["n2"].with(|| UdpSocket::bind(a)).unwrap().unwrap();
        let tx = net["n1"].with(|| UdpSocket::bind(b)).unwrap().unwrap();
        tx.send_to(b"hi", a).unwrap();
        rx.set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        let mut buf = [0u8; 16];
        let (n, from) = rx.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"hi");
        println!("from {from}");
    }
    let r = net["n1"].report().unwrap();
    println!("{r}");
}
