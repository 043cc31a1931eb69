//! Traceroute by TTL: ICMP echo or UDP probes, answers read from a raw ICMP socket.

mod options;
mod report;
#[cfg(test)]
mod tests;

use super::sock::{self, IcmpSocket};
use super::ProbeError;
use crate::packet::icmp::{self, Incoming, Quoted};
use crate::packet::{IcmpErrorKind, Unreachable};
use socket2::{SockAddr, Socket, Type};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

pub use options::*;
pub use report::*;

struct Probe {
    sent: Option<Instant>,
    result: Option<HopProbe>,
}

/// The UDP sender of UDP mode.
struct UdpSender {
    sock: Socket,
    port: u16,
}

/// Traces the path to `dst` from the calling thread's namespace, like
/// `traceroute -n` (ICMP mode: `traceroute -I -n`).
///
/// The calling thread must be inside a namespace this process created;
/// otherwise [`ProbeError::ForeignNamespace`]. Probes with TTL 1, 2, ... go
/// out with up to `in_flight` of them unanswered at once; the trace ends
/// with the first hop where the destination answered (or an unreachable
/// error came back, port unreachable from a router on the way included), or
/// at `max_hops`. Silence is a result (`*`), not an error.
///
/// Routers answer with ICMP errors, which the kernel rate-limits per
/// destination (`net.ipv4.icmp_ratelimit`, `net.ipv6.icmp.ratelimit`, burst
/// of 6, then one per second): traces repeated in quick succession through
/// the same router can show `*` unless those sysctls are 0 in the routers.
///
/// ```no_run
/// use netns_test::probe::{self, TraceOptions};
/// # let ns = netns_test::NetNs::new("lab")?;
/// let report = ns.run(|| probe::traceroute("203.0.113.2".parse().unwrap(), &TraceOptions::new()))??;
/// assert!(report.reached());
/// println!("{report}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn traceroute(dst: IpAddr, opts: &TraceOptions) -> Result<TraceReport, ProbeError> {
    opts.validate(dst)?;
    let mut icmp_sock = IcmpSocket::open("traceroute", dst, opts.bind())?;
    let is_v6 = dst.is_ipv6();
    let udp = match opts.mode {
        TraceMode::Icmp => None,
        TraceMode::Udp { .. } => {
            let s = Socket::new(sock::domain(dst), Type::DGRAM, None)
                .map_err(|e| ProbeError::io("traceroute: open a UDP socket", e))?;
            sock::apply_bind("traceroute", &s, opts.bind(), 0)?;
            if opts.source.is_none() {
                let any: IpAddr = if is_v6 {
                    std::net::Ipv6Addr::UNSPECIFIED.into()
                } else {
                    std::net::Ipv4Addr::UNSPECIFIED.into()
                };
                s.bind(&SockAddr::from(SocketAddr::new(any, 0)))
                    .map_err(|e| ProbeError::io("traceroute: bind the UDP socket", e))?;
            }
            let port = s
                .local_addr()
                .ok()
                .and_then(|a| a.as_socket())
                .map(|a| a.port())
                .ok_or_else(|| {
                    ProbeError::io(
                        "traceroute: read the UDP socket's port",
                        std::io::Error::other("no local address"),
                    )
                })?;
            Some(UdpSender { sock: s, port })
        }
    };
    let ident = sock::next_ident();
    let nonce = sock::random_u64();
    let payload = icmp::echo_payload(nonce, opts.payload_size);
    let pph = usize::from(opts.probes_per_hop);
    let total = usize::from(opts.max_hops) * pph;
    let mut probes: Vec<Probe> = (0..total)
        .map(|_| Probe {
            sent: None,
            result: None,
        })
        .collect();
    // Probes at and after `end` are not needed (a final hop was found).
    let mut end = total;
    let window = usize::from(opts.in_flight.unwrap_or(u16::from(opts.probes_per_hop)));

    loop {
        let now = Instant::now();
        // Expire.
        for p in probes.iter_mut().take(end) {
            if p.result.is_none() && p.sent.is_some_and(|t| now >= t + opts.timeout) {
                p.result = Some(HopProbe::Silent);
            }
        }
        // Send while there is room.
        let mut in_flight = probes
            .iter()
            .take(end)
            .filter(|p| p.sent.is_some() && p.result.is_none())
            .count();
        let mut n = probes.iter().take_while(|p| p.sent.is_some()).count();
        while n < end && in_flight < window {
            let ttl = (n / pph + 1) as u8;
            let seq = (n + 1) as u16;
            let t = Instant::now();
            let res = match &udp {
                None => icmp_sock.set_ttl(ttl).and_then(|()| {
                    icmp_sock.send_to(&icmp::echo_request(is_v6, ident, seq, &payload), dst)
                }),
                Some(u) => sock::set_ttl(&u.sock, is_v6, ttl).and_then(|()| {
                    let TraceMode::Udp { base_port } = opts.mode else {
                        unreachable!("a UDP sender exists in UDP mode only")
                    };
                    let port = base_port + n as u16;
                    u.sock
                        .send_to(&payload, &SockAddr::from(SocketAddr::new(dst, port)))
                        .map(|_| ())
                }),
            };
            probes[n].sent = Some(t);
            match res {
                Ok(()) => in_flight += 1,
                Err(e) => {
                    probes[n].result = Some(HopProbe::SendFailed {
                        errno: e.raw_os_error().unwrap_or(0),
                    });
                    end = end.min((n / pph + 1) * pph);
                }
            }
            n += 1;
        }
        // Done when every needed probe has a result.
        if probes.iter().take(end).all(|p| p.result.is_some()) {
            break;
        }
        let wake = probes
            .iter()
            .take(end)
            .filter(|p| p.result.is_none())
            .filter_map(|p| p.sent.map(|t| t + opts.timeout))
            .min()
            .unwrap_or(now);
        let Some(rx) = icmp_sock.recv(wake)? else {
            continue;
        };
        let (idx, kind) = match (&rx.msg, &udp) {
            (
                Incoming::EchoReply {
                    ident: id,
                    seq,
                    payload: got,
                    ..
                },
                None,
            ) => {
                let k = opts.payload_size.min(8);
                if *id != ident || got.len() < k || got[..k] != payload[..k] {
                    continue;
                }
                (usize::from(*seq), HopKind::Reached)
            }
            (
                Incoming::Error {
                    kind,
                    quoted:
                        Quoted::Echo {
                            dst: qdst,
                            ident: id,
                            seq,
                        },
                },
                None,
            ) => {
                if *id != ident || *qdst != dst {
                    continue;
                }
                (usize::from(*seq), hop_kind(*kind, rx.from, dst))
            }
            (
                Incoming::Error {
                    kind,
                    quoted:
                        Quoted::Udp {
                            dst: qdst,
                            src_port,
                            dst_port,
                        },
                },
                Some(u),
            ) => {
                let TraceMode::Udp { base_port } = opts.mode else {
                    continue;
                };
                if *src_port != u.port || *qdst != dst || *dst_port < base_port {
                    continue;
                }
                (
                    usize::from(*dst_port - base_port) + 1,
                    hop_kind(*kind, rx.from, dst),
                )
            }
            _ => continue,
        };
        if idx == 0 || idx > total {
            continue;
        }
        let p = &mut probes[idx - 1];
        let (Some(sent), None) = (p.sent, &p.result) else {
            continue;
        };
        let reply = HopProbe::Reply(ProbeReply {
            from: rx.from,
            rtt: rx.at.saturating_duration_since(sent),
            kind,
            name: None,
        });
        if reply.is_final() {
            end = end.min(((idx - 1) / pph + 1) * pph);
        }
        p.result = Some(reply);
    }

    let hops = probes
        .chunks(pph)
        .take(end / pph)
        .enumerate()
        .map(|(i, chunk)| Hop {
            ttl: (i + 1) as u8,
            probes: chunk
                .iter()
                .map(|p| p.result.clone().unwrap_or(HopProbe::Silent))
                .collect(),
        })
        .collect();
    let header = if is_v6 { 40 } else { 20 };
    Ok(TraceReport {
        destination: dst,
        max_hops: opts.max_hops,
        packet_size: header + 8 + opts.payload_size,
        hops,
    })
}

/// What an ICMP error from `from` about a probe to `dst` says: port
/// unreachable means the destination was reached only when the destination
/// itself sent it; from anyone else (a firewall's `reject` on the way) it
/// ends the trace as an unreachable hop.
fn hop_kind(kind: IcmpErrorKind, from: IpAddr, dst: IpAddr) -> HopKind {
    match kind {
        IcmpErrorKind::TtlExceeded => HopKind::TimeExceeded,
        IcmpErrorKind::Unreachable(Unreachable::Port) if from == dst => HopKind::Reached,
        IcmpErrorKind::Unreachable(u) => HopKind::Unreachable(u),
        other => HopKind::Error(other),
    }
}
