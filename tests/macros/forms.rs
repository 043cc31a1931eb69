//! Every form of `#[netns_test]`, each checked so that it fails if the form
//! breaks: the body really is inside the node, the injected nodes really are
//! the named ones, the timeout really fires.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::unix::fs::MetadataExt;
use std::time::Duration;

use netns_test::{netns_test, Net, Node, Topology};

fn thread_inode() -> u64 {
    std::fs::metadata("/proc/thread-self/ns/net").unwrap().ino()
}

/// The namespace of the process's main thread: the host's.
fn host_inode() -> u64 {
    std::fs::metadata("/proc/self/ns/net").unwrap().ino()
}

fn two_hosts() -> Topology {
    Topology::new().link(
        ("n1", "n1-veth0", ["198.51.100.1/24", "2001:db8::1/64"]),
        ("n2", "n2-veth0", ["198.51.100.2/24", "2001:db8::2/64"]),
    )
}

fn bind_fails(addr: &str) -> bool {
    TcpListener::bind(addr).is_err()
}

/// Binds port 80 on loopback and talks to itself through it: loopback is up.
fn loopback_port_80_roundtrip() {
    let l = TcpListener::bind("127.0.0.1:80").unwrap();
    let mut c = TcpStream::connect("127.0.0.1:80").unwrap();
    let (mut s, _) = l.accept().unwrap();
    c.write_all(b"ping").unwrap();
    let mut buf = [0u8; 4];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");
    // Hold the port a while so that the two tests below overlap.
    std::thread::sleep(Duration::from_millis(100));
}

// Form 1: no arguments.
#[netns_test]
fn plain_binds_port_80_a() {
    assert_ne!(
        thread_inode(),
        host_inode(),
        "the body runs in the host namespace"
    );
    assert_eq!(
        std::thread::current().name(),
        Some("forms::plain_binds_port_80_a"),
        "the body's thread is named after the test"
    );
    loopback_port_80_roundtrip();
}

#[netns_test]
fn plain_binds_port_80_b() {
    assert_ne!(thread_inode(), host_inode());
    loopback_port_80_roundtrip();
}

// The one-node network's node is called `local`, and may be injected.
#[netns_test]
fn plain_injects_local(local: &Node, net: &Net) {
    assert_eq!(local.name(), "local");
    assert_eq!(net.nodes().len(), 1);
    assert_eq!(thread_inode(), local.netns().inode());
}

// Form 2: a topology, nodes injected by parameter name, body in the first node.
#[netns_test(topology = two_hosts)]
fn topology_injects_named_nodes(net: &Net, n2: &Node, n1: &Node) {
    assert!(std::ptr::eq(n1, &net["n1"]));
    assert!(std::ptr::eq(n2, &net["n2"]));
    let ips = |n: &Node| {
        n.declared_addrs()
            .iter()
            .map(|(_, a)| a.addr())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ips(n1),
        [
            "198.51.100.1".parse::<IpAddr>().unwrap(),
            "2001:db8::1".parse().unwrap()
        ]
    );
    assert_eq!(
        ips(n2),
        [
            "198.51.100.2".parse::<IpAddr>().unwrap(),
            "2001:db8::2".parse().unwrap()
        ]
    );
    // The body runs in n1: its addresses bind here, n2's do not.
    assert_eq!(thread_inode(), n1.netns().inode());
    let rx = UdpSocket::bind("198.51.100.1:9000").unwrap();
    let _v6 = UdpSocket::bind("[2001:db8::1]:9000").unwrap();
    assert!(bind_fails("198.51.100.2:0"));
    // And n2 is what the parameter says: its address binds inside it.
    let tx = n2
        .with(|| UdpSocket::bind("198.51.100.2:0"))
        .unwrap()
        .unwrap();
    tx.send_to(b"hi", "198.51.100.1:9000").unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 8];
    let (n, from) = rx.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"hi");
    assert_eq!(from.ip(), "198.51.100.2".parse::<IpAddr>().unwrap());
}

// `node = "n2"` runs the body in n2.
#[netns_test(topology = two_hosts, node = "n2")]
fn topology_runs_in_chosen_node(n2: &Node) -> Result<(), std::io::Error> {
    assert_eq!(thread_inode(), n2.netns().inode());
    let _l = TcpListener::bind("198.51.100.2:80")?;
    let _l6 = TcpListener::bind("[2001:db8::2]:80")?;
    assert!(bind_fails("198.51.100.1:0"));
    Ok(())
}

// A path to the topology function works, and a `Result` with the crate's error.
mod labs {
    use netns_test::Topology;

    pub(crate) fn lan() -> Topology {
        Topology::new().bridge(
            "sw",
            [
                ("h1", "eth0", "203.0.113.1/24"),
                ("h2", "eth0", "203.0.113.2/24"),
            ],
        )
    }
}

#[netns_test(topology = labs::lan, node = "h2")]
fn topology_by_path(h1: &Node, sw: &Node) -> Result<(), netns_test::Error> {
    assert_eq!(h1.name(), "h1");
    assert_eq!(sw.name(), "sw");
    let l = TcpListener::bind("203.0.113.2:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let c = h1.with(|| TcpStream::connect(("203.0.113.2", port)))?;
    let c = c.unwrap();
    assert_eq!(
        c.local_addr().unwrap().ip(),
        "203.0.113.1".parse::<IpAddr>().unwrap()
    );
    Ok(())
}

// Form 3: async bodies run on a current-thread runtime made inside the node.
#[netns_test(topology = two_hosts)]
async fn async_body_runs_in_node(n1: &Node, n2: &Node) -> Result<(), std::io::Error> {
    assert_eq!(thread_inode(), n1.netns().inode());
    assert_eq!(
        tokio::runtime::Handle::current().runtime_flavor(),
        tokio::runtime::RuntimeFlavor::CurrentThread
    );
    // Only n1 has this address, so this bind proves where the runtime is.
    let listener = tokio::net::TcpListener::bind("198.51.100.1:8080").await?;
    // Threads of the runtime (here, its blocking pool) are inside n1 too.
    let inode = tokio::task::spawn_blocking(thread_inode).await.unwrap();
    assert_eq!(inode, n1.netns().inode());
    // A socket of n2, driven by this runtime.
    let std_stream = n2
        .with(|| TcpStream::connect("198.51.100.1:8080"))
        .unwrap()?;
    std_stream.set_nonblocking(true)?;
    let mut client = tokio::net::TcpStream::from_std(std_stream)?;
    let (mut server, peer) = listener.accept().await?;
    assert_eq!(peer.ip(), "198.51.100.2".parse::<IpAddr>().unwrap());
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    client.write_all(b"over veth").await?;
    let mut buf = [0u8; 9];
    server.read_exact(&mut buf).await?;
    assert_eq!(&buf, b"over veth");
    tokio::time::sleep(Duration::from_millis(1)).await; // timers are enabled
    Ok(())
}

#[netns_test]
async fn async_plain_unit() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:80").await.unwrap();
    let addr: SocketAddr = l.local_addr().unwrap();
    assert_eq!(addr.port(), 80);
}

// Timeouts: a body within its limit passes...
#[netns_test(timeout = "5s")]
fn timeout_not_reached() {
    std::thread::sleep(Duration::from_millis(10));
}

#[netns_test(topology = two_hosts, timeout = "2m")]
async fn timeout_not_reached_async(n1: &Node) {
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(thread_inode(), n1.netns().inode());
}

// ...and one that overruns fails with a message naming the test and the
// limit (the message is the panic payload, so `expected` can match it).
#[netns_test(topology = two_hosts, timeout = "300ms")]
#[should_panic(
    expected = "test `forms::timeout_fires` timed out: its body ran longer than `timeout = \"300ms\"`"
)]
fn timeout_fires() {
    std::thread::sleep(Duration::from_secs(2));
}

// Attributes pass through: should_panic (before or after), ignore, docs.

/// A doc comment on a test.
#[should_panic(expected = "boom in n2")]
#[netns_test(topology = two_hosts, node = "n2")]
fn should_panic_before(n2: &Node) {
    panic!("boom in {}", n2.name());
}

#[netns_test]
#[should_panic]
fn should_panic_after() {
    panic!("boom");
}

#[netns_test]
#[ignore = "checks that #[ignore] passes through (see macros/failures.rs)"]
fn ignored_passthrough() {
    panic!("an ignored test ran");
}

#[netns_test]
#[allow(unused_variables)]
fn other_attributes_pass_through() {
    let unused = 1;
}

// The host has none of the lab's addresses.
#[test]
fn host_has_no_lab_address() {
    assert!(bind_fails("198.51.100.1:0"));
    assert!(bind_fails("[2001:db8::1]:0"));
}
