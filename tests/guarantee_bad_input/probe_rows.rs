//! The rows of the bad-input table that run on a live network: the
//! network's own lookups, probe options, and probes from a namespace the
//! library did not make.

use std::net::IpAddr;
use std::time::Duration;

use netns_test::probe::{self, PingOptions, TraceMode, TraceOptions};
use netns_test::{Error, Net, Topology};

use super::{row, Row};

pub(crate) fn rows() -> Vec<Row> {
    vec![
        // ---- a live network ----
        row("live network", r#"net.node("ghost")"#, |net| {
            net.node("ghost").map(drop)
        }),
        row("live network", r#"net["n1"].ping("ghost").run()"#, |net| {
            net["n1"].ping("ghost").run().map(drop)
        }),
        row(
            "live network",
            r#"net["n1"].tcp_connect("198.51.100.2").timeout(1s).run()"#,
            |net| {
                net["n1"]
                    .tcp_connect("198.51.100.2")
                    .timeout(Duration::from_secs(1))
                    .run()
                    .map(drop)
            },
        ),
        // ---- probe options ----
        row("probe", r#"ping("198.51.100.2").count(0)"#, |net| {
            net["n1"].ping("198.51.100.2").count(0).run().map(drop)
        }),
        row("probe", r#"ping("198.51.100.2").count(65536)"#, |net| {
            net["n1"].ping("198.51.100.2").count(65536).run().map(drop)
        }),
        row("probe", r#"ping("198.51.100.2").timeout(0s)"#, |net| {
            net["n1"]
                .ping("198.51.100.2")
                .timeout(Duration::ZERO)
                .run()
                .map(drop)
        }),
        row("probe", r#"ping("198.51.100.2").deadline(0s)"#, |net| {
            net["n1"]
                .ping("198.51.100.2")
                .deadline(Duration::ZERO)
                .run()
                .map(drop)
        }),
        row("probe", r#"ping("198.51.100.2").ttl(0)"#, |net| {
            net["n1"].ping("198.51.100.2").ttl(0).run().map(drop)
        }),
        row(
            "probe",
            r#"ping("198.51.100.2").payload_size(65508)"#,
            |net| {
                net["n1"]
                    .ping("198.51.100.2")
                    .payload_size(65508)
                    .run()
                    .map(drop)
            },
        ),
        row(
            "probe",
            r#"ping("2001:db8::2").payload_size(65528)"#,
            |net| {
                net["n1"]
                    .ping("2001:db8::2")
                    .payload_size(65528)
                    .run()
                    .map(drop)
            },
        ),
        row("probe", r#"ping("0.0.0.0")"#, |net| {
            net["n1"].ping("0.0.0.0").run().map(drop)
        }),
        row(
            "probe",
            r#"ping("198.51.100.2").source(2001:db8::1)"#,
            |net| {
                net["n1"]
                    .ping("198.51.100.2")
                    .source("2001:db8::1".parse().unwrap())
                    .run()
                    .map(drop)
            },
        ),
        row("probe", r#"ping("198.51.100.2").interface("")"#, |net| {
            net["n1"].ping("198.51.100.2").interface("").run().map(drop)
        }),
        row(
            "probe",
            r#"ping("198.51.100.2").interface("sixteen-bytes-xx")"#,
            |net| {
                net["n1"]
                    .ping("198.51.100.2")
                    .interface("sixteen-bytes-xx")
                    .run()
                    .map(drop)
            },
        ),
        row(
            "probe",
            r#"ping("198.51.100.2").interface("nope0")"#,
            |net| {
                net["n1"]
                    .ping("198.51.100.2")
                    .interface("nope0")
                    .run()
                    .map(drop)
            },
        ),
        row(
            "probe",
            r#"ping("198.51.100.2").source(203.0.113.9)"#,
            |net| {
                net["n1"]
                    .ping("198.51.100.2")
                    .source("203.0.113.9".parse().unwrap())
                    .run()
                    .map(drop)
            },
        ),
        row(
            "probe",
            r#"traceroute("198.51.100.2").max_hops(0)"#,
            |net| {
                net["n1"]
                    .traceroute("198.51.100.2")
                    .max_hops(0)
                    .run()
                    .map(drop)
            },
        ),
        row(
            "probe",
            r#"traceroute("198.51.100.2").probes_per_hop(0)"#,
            |net| {
                net["n1"]
                    .traceroute("198.51.100.2")
                    .probes_per_hop(0)
                    .run()
                    .map(drop)
            },
        ),
        row(
            "probe",
            r#"traceroute("198.51.100.2").probes_per_hop(11)"#,
            |net| {
                net["n1"]
                    .traceroute("198.51.100.2")
                    .probes_per_hop(11)
                    .run()
                    .map(drop)
            },
        ),
        row(
            "probe",
            r#"traceroute("198.51.100.2").timeout(0s)"#,
            |net| {
                net["n1"]
                    .traceroute("198.51.100.2")
                    .timeout(Duration::ZERO)
                    .run()
                    .map(drop)
            },
        ),
        row(
            "probe",
            r#"traceroute("198.51.100.2").options(TraceOptions::new().in_flight(0))"#,
            |net| {
                net["n1"]
                    .traceroute("198.51.100.2")
                    .options(TraceOptions::new().in_flight(0))
                    .run()
                    .map(drop)
            },
        ),
        row(
            "probe",
            r#"traceroute("198.51.100.2").mode(TraceMode::Udp { base_port: 0 })"#,
            |net| {
                net["n1"]
                    .traceroute("198.51.100.2")
                    .mode(TraceMode::Udp { base_port: 0 })
                    .run()
                    .map(drop)
            },
        ),
        row(
            "probe",
            r#"traceroute("198.51.100.2").mode(TraceMode::Udp { base_port: 65500 })"#,
            |net| {
                net["n1"]
                    .traceroute("198.51.100.2")
                    .mode(TraceMode::Udp { base_port: 65500 })
                    .run()
                    .map(drop)
            },
        ),
        row(
            "probe",
            r#"traceroute("198.51.100.2").options(TraceOptions::new().payload_size(65508))"#,
            |net| {
                net["n1"]
                    .traceroute("198.51.100.2")
                    .options(TraceOptions::new().payload_size(65508))
                    .run()
                    .map(drop)
            },
        ),
        row("probe", r#"traceroute("::")"#, |net| {
            net["n1"].traceroute("::").run().map(drop)
        }),
        row(
            "probe",
            r#"traceroute("2001:db8::2").options(TraceOptions::new().source(198.51.100.1))"#,
            |net| {
                net["n1"]
                    .traceroute("2001:db8::2")
                    .options(TraceOptions::new().source("198.51.100.1".parse().unwrap()))
                    .run()
                    .map(drop)
            },
        ),
        row("probe", r#"tcp_connect("198.51.100.2:0", 1s)"#, |net| {
            net["n1"]
                .tcp_connect("198.51.100.2:0")
                .timeout(Duration::from_secs(1))
                .run()
                .map(drop)
        }),
        row("probe", r#"tcp_connect("0.0.0.0:80", 1s)"#, |net| {
            net["n1"]
                .tcp_connect("0.0.0.0:80")
                .timeout(Duration::from_secs(1))
                .run()
                .map(drop)
        }),
        row("probe", r#"tcp_connect("198.51.100.2:80", 0s)"#, |net| {
            net["n1"]
                .tcp_connect("198.51.100.2:80")
                .timeout(Duration::ZERO)
                .run()
                .map(drop)
        }),
        row(
            "probe",
            r#"udp_request("198.51.100.2:53", [0; 65508], 1s)"#,
            |net| {
                net["n1"]
                    .udp_request("198.51.100.2:53", &[0; 65508])
                    .timeout(Duration::from_secs(1))
                    .run()
                    .map(drop)
            },
        ),
        row(
            "probe",
            r#"udp_request("[2001:db8::2]:0", b"q", 1s)"#,
            |net| {
                net["n1"]
                    .udp_request("[2001:db8::2]:0", b"q")
                    .timeout(Duration::from_secs(1))
                    .run()
                    .map(drop)
            },
        ),
        row("probe", r#"wait_reachable("198.51.100.2", 0s)"#, |net| {
            net["n1"]
                .wait_reachable("198.51.100.2")
                .timeout(Duration::ZERO)
                .run()
                .map(drop)
        }),
        row("probe", r#"wait_port_open("198.51.100.2:80", 0s)"#, |net| {
            net["n1"]
                .wait_port_open("198.51.100.2:80")
                .timeout(Duration::ZERO)
                .run()
                .map(drop)
        }),
        // ---- a probe from a namespace the library did not make ----
        row(
            "foreign namespace",
            r#"probe::ping(198.51.100.2, &PingOptions::new()) on a thread in the host namespace"#,
            |_| {
                let dst: IpAddr = "198.51.100.2".parse().unwrap();
                probe::ping(dst, &PingOptions::new())
                    .map(drop)
                    .map_err(Error::from)
            },
        ),
        row(
            "foreign namespace",
            r#"probe::tcp_connect(198.51.100.2:80, 1s) on a thread in the host namespace"#,
            |_| {
                probe::tcp_connect("198.51.100.2:80".parse().unwrap(), Duration::from_secs(1))
                    .map(drop)
                    .map_err(Error::from)
            },
        ),
    ]
}

/// Waits longer than `probe::MAX_WAIT` (one day), refused before anything
/// is sent.
pub(crate) fn wait_rows() -> Vec<Row> {
    vec![
        row(
            "probe",
            r#"ping("198.51.100.2").timeout(Duration::MAX)"#,
            |net| {
                net["n1"]
                    .ping("198.51.100.2")
                    .timeout(Duration::MAX)
                    .run()
                    .map(drop)
            },
        ),
        row(
            "probe",
            r#"ping("198.51.100.2").interval(Duration::MAX)"#,
            |net| {
                net["n1"]
                    .ping("198.51.100.2")
                    .interval(Duration::MAX)
                    .run()
                    .map(drop)
            },
        ),
        row(
            "probe",
            r#"ping("198.51.100.2").deadline(Duration::MAX)"#,
            |net| {
                net["n1"]
                    .ping("198.51.100.2")
                    .deadline(Duration::MAX)
                    .run()
                    .map(drop)
            },
        ),
        row(
            "probe",
            r#"traceroute("198.51.100.2").timeout(Duration::MAX)"#,
            |net| {
                net["n1"]
                    .traceroute("198.51.100.2")
                    .timeout(Duration::MAX)
                    .run()
                    .map(drop)
            },
        ),
        row(
            "probe",
            r#"tcp_connect("198.51.100.2:80", Duration::MAX)"#,
            |net| {
                net["n1"]
                    .tcp_connect("198.51.100.2:80")
                    .timeout(Duration::MAX)
                    .run()
                    .map(drop)
            },
        ),
        row(
            "probe",
            r#"udp_request("198.51.100.2:53", b"q", Duration::MAX)"#,
            |net| {
                net["n1"]
                    .udp_request("198.51.100.2:53", b"q")
                    .timeout(Duration::MAX)
                    .run()
                    .map(drop)
            },
        ),
        row(
            "probe",
            r#"wait_reachable("198.51.100.2", Duration::MAX)"#,
            |net| {
                net["n1"]
                    .wait_reachable("198.51.100.2")
                    .timeout(Duration::MAX)
                    .run()
                    .map(drop)
            },
        ),
        row(
            "probe",
            r#"wait_port_open("198.51.100.2:80", Duration::MAX)"#,
            |net| {
                net["n1"]
                    .wait_port_open("198.51.100.2:80")
                    .timeout(Duration::MAX)
                    .run()
                    .map(drop)
            },
        ),
    ]
}

/// The rows of a node name that stands for no address as a destination
/// (each builds a lab of its own).
pub(crate) fn name_rows() -> Vec<Row> {
    vec![row(
        "live network",
        r#"net["r"].ping("h1").run(), h2 holding h1's only address too"#,
        |_| {
            let net = Net::build(
                &Topology::new()
                    .link(
                        ("h1", "e0", "198.51.100.10/24"),
                        ("r", "e0", "198.51.100.1/24"),
                    )
                    .link(
                        ("h2", "e0", "198.51.100.10/24"),
                        ("r", "e1", "203.0.113.1/24"),
                    ),
            )?;
            net["r"].ping("h1").run().map(drop)
        },
    )]
}
