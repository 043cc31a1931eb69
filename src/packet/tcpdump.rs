//! One line per packet in the style of `tcpdump -n` (absolute sequence
//! numbers, as with `-S`), after the time of day (UTC) and where the packet
//! was seen:
//!
//! ```text
//! 12:00:00.000123 n1/eth0 Out IP 198.51.100.1 > 198.51.100.2: ICMP echo request, id 1, seq 1, length 64
//! 12:00:00.000187 n1/eth0 Out IP 198.51.100.1.40000 > 198.51.100.2.80: Flags [S], seq 3129, win 64240, length 0
//! 12:00:00.000201 n1/eth0 In ARP, Reply 198.51.100.2 is-at 02:00:00:00:00:02, length 28
//! ```
//!
//! `tcpdump -r` prints local time; with `TZ=UTC` its times match these.

use std::fmt::{self, Write};
use std::net::IpAddr;

use super::decode::{Decoded, Icmp, Packet, Transport};

impl fmt::Display for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}/{} {} {}",
            time_of_day(self.timestamp_ns()),
            self.node,
            self.iface,
            self.direction,
            summary(&self.decoded, self.len)
        )?;
        if let Some(c) = &self.comment {
            write!(f, " -- {c}")?;
        }
        Ok(())
    }
}

/// `HH:MM:SS.uuuuuu`, UTC, from nanoseconds since the epoch.
pub(crate) fn time_of_day(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    let micros = (ns % 1_000_000_000) / 1_000;
    let day = secs % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{micros:06}",
        day / 3600,
        day % 3600 / 60,
        day % 60
    )
}

/// `02:00:00:00:00:01`.
pub(crate) fn mac(m: &[u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Everything tcpdump prints after the time (and, with `-i any`, the
/// interface and direction); `len` is the frame's length on the wire.
pub(crate) fn summary(d: &Decoded, len: usize) -> String {
    if let Some(arp) = &d.arp {
        let arp_len = len.saturating_sub(14);
        return match arp.operation {
            1 => format!(
                "ARP, Request who-has {} tell {}, length {arp_len}",
                arp.target_ip, arp.sender_ip
            ),
            2 => format!(
                "ARP, Reply {} is-at {}, length {arp_len}",
                arp.sender_ip,
                mac(&arp.sender_mac)
            ),
            op => format!("ARP, op {op}, length {arp_len}"),
        };
    }
    let Some(ip) = &d.ip else {
        return format!("ethertype 0x{:04x}, length {len}", d.ethertype);
    };
    let family = if ip.src.is_ipv6() { "IP6" } else { "IP" };
    let ep = |a: IpAddr, port: u16| format!("{a}.{port}");
    match &d.transport {
        Transport::Tcp(t) => {
            let mut s = format!(
                "{family} {} > {}: Flags [{}], seq {}",
                ep(ip.src, t.src_port),
                ep(ip.dst, t.dst_port),
                t.flags,
                t.seq
            );
            if t.payload_len > 0 {
                let end = t.seq.wrapping_add(t.payload_len as u32);
                let _ = write!(s, ":{end}");
            }
            if t.flags.contains(super::decode::TcpFlags::ACK) {
                let _ = write!(s, ", ack {}", t.ack);
            }
            let _ = write!(s, ", win {}, length {}", t.window, t.payload_len);
            s
        }
        Transport::Udp(u) => format!(
            "{family} {} > {}: UDP, length {}",
            ep(ip.src, u.src_port),
            ep(ip.dst, u.dst_port),
            u.payload_len
        ),
        Transport::Icmp(i) => format!("{family} {} > {}: {}", ip.src, ip.dst, icmp(i)),
        Transport::None => format!(
            "{family} {} > {}: ip-proto-{} {}",
            ip.src, ip.dst, ip.protocol, ip.payload_len
        ),
    }
}

/// The ICMP part of a line: `ICMP echo request, id 1, seq 1, length 64`,
/// `ICMP6, neighbor solicitation, who has 2001:db8::2, length 32`.
fn icmp(i: &Icmp) -> String {
    let target = i
        .target
        .map(|t| t.to_string())
        .unwrap_or_else(|| "?".into());
    let mtu = u32::from_be_bytes(i.rest);
    let what = if let Some((id, seq)) = i.echo() {
        let kind = if i.is_echo_request() {
            "request"
        } else {
            "reply"
        };
        format!("echo {kind}, id {id}, seq {seq}")
    } else if i.v6 {
        match (i.kind, i.code) {
            (1, _) => format!(
                "destination unreachable, {target} unreachable (code {})",
                i.code
            ),
            (2, _) => format!("packet too big, mtu {mtu}"),
            (3, 0) => "time exceeded in-transit".into(),
            (3, _) => "time exceeded".into(),
            (133, _) => "router solicitation".into(),
            (134, _) => "router advertisement".into(),
            (135, _) => format!("neighbor solicitation, who has {target}"),
            (136, _) => format!("neighbor advertisement, tgt is {target}"),
            (143, _) => "multicast listener report v2".into(),
            (k, c) => format!("type {k}, code {c}"),
        }
    } else {
        match (i.kind, i.code) {
            (3, 0) => format!("net {target} unreachable"),
            (3, 1) => format!("host {target} unreachable"),
            (3, 2) => format!("{target} protocol unreachable"),
            (3, 3) => format!("{target} port unreachable"),
            (3, 4) => format!(
                "{target} unreachable - need to frag (mtu {})",
                u16::from_be_bytes([i.rest[2], i.rest[3]])
            ),
            (3, 13) => format!("host {target} unreachable - admin prohibited filter"),
            (3, c) => format!("{target} unreachable (code {c})"),
            (11, 0) => "time exceeded in-transit".into(),
            (11, _) => "ip reassembly time exceeded".into(),
            (k, c) => format!("type {k}, code {c}"),
        }
    };
    if i.v6 {
        format!("ICMP6, {what}, length {}", i.len)
    } else {
        format!("ICMP {what}, length {}", i.len)
    }
}
