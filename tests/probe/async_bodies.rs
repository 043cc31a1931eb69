//! Async variants of the probes: they leave the test's runtime free, so a
//! server task on that same runtime can answer them.

use std::time::Duration;

use netns_test::{netns_test, Net, Topology};

fn two_hosts() -> Topology {
    Topology::new().link(
        ("n1", "n1-veth0", "198.51.100.1/24"),
        ("n2", "n2-veth0", "198.51.100.2/24"),
    )
}

#[netns_test(topology = two_hosts, timeout = "20s")]
async fn server_tasks_on_the_test_runtime_answer_async_probes(net: &Net) {
    // A UDP echo server and a TCP server in n2, as tasks of this runtime.
    let udp = net["n2"]
        .with(|| std::net::UdpSocket::bind("198.51.100.2:7"))
        .unwrap()
        .unwrap();
    udp.set_nonblocking(true).unwrap();
    let udp = tokio::net::UdpSocket::from_std(udp).unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        while let Ok((n, from)) = udp.recv_from(&mut buf).await {
            let _ = udp.send_to(&buf[..n], from).await;
        }
    });
    let tcp = net["n2"]
        .with(|| std::net::TcpListener::bind("198.51.100.2:8080"))
        .unwrap()
        .unwrap();
    tcp.set_nonblocking(true).unwrap();
    let tcp = tokio::net::TcpListener::from_std(tcp).unwrap();
    tokio::spawn(async move { while tcp.accept().await.is_ok() {} });

    let n1 = &net["n1"];
    let reply = n1
        .udp_request("198.51.100.2:7", b"hello")
        .timeout(Duration::from_secs(2))
        .run_async()
        .await
        .unwrap();
    assert_eq!(reply.reply(), Some(&b"hello"[..]), "{reply:?}");
    assert!(n1
        .wait_port_open("198.51.100.2:8080")
        .timeout(Duration::from_secs(2))
        .run_async()
        .await
        .unwrap()
        .is_open());
    assert!(n1
        .tcp_connect("198.51.100.2:8080")
        .timeout(Duration::from_secs(1))
        .run_async()
        .await
        .unwrap()
        .is_open());
    let ping = n1
        .ping("198.51.100.2")
        .count(2)
        .interval(Duration::from_millis(10))
        .run_async()
        .await
        .unwrap();
    assert_eq!(ping.received, 2, "{ping}");
    let trace = n1
        .traceroute("198.51.100.2")
        .probes_per_hop(1)
        .run_async()
        .await
        .unwrap();
    assert!(trace.reached(), "{trace}");
    assert_eq!(trace.names(), vec![Some("n2")], "{trace}");
}
