//! The connection tracking table over ctnetlink (the `CTNETLINK` subsystem
//! of NETLINK_NETFILTER), on a node's nftables socket: list its entries
//! (`conntrack -L`), flush it (`conntrack -F`). No `conntrack` binary.
//!
//! Numbers are the kernel's, from `linux/netfilter/nfnetlink_conntrack.h`
//! and `nf_conntrack_tcp.h`.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use super::nft::msg::{attrs, Attrs, Reply, NLM_F_ACK, NLM_F_DUMP};
use super::nft::Nft;
use crate::error::{Error, Result};
use crate::inspect::{ConntrackEntry, Tuple};

/// `NFNL_SUBSYS_CTNETLINK`.
const NFNL_SUBSYS_CTNETLINK: u16 = 1;
/// `IPCTNL_MSG_CT_NEW`: an entry (also how a dump answers).
const IPCTNL_MSG_CT_NEW: u8 = 0;
/// `IPCTNL_MSG_CT_GET`: with `NLM_F_DUMP`, every entry.
const IPCTNL_MSG_CT_GET: u8 = 1;
/// `IPCTNL_MSG_CT_DELETE`: without a tuple, every entry (a flush).
const IPCTNL_MSG_CT_DELETE: u8 = 2;

/// `CTA_TUPLE_ORIG`.
const CTA_TUPLE_ORIG: u16 = 1;
/// `CTA_TUPLE_REPLY`.
const CTA_TUPLE_REPLY: u16 = 2;
/// `CTA_STATUS`: the `IPS_*` bits, be32.
const CTA_STATUS: u16 = 3;
/// `CTA_PROTOINFO`.
const CTA_PROTOINFO: u16 = 4;
/// `CTA_TIMEOUT`: seconds left, be32.
const CTA_TIMEOUT: u16 = 7;
/// `CTA_TUPLE_IP`.
const CTA_TUPLE_IP: u16 = 1;
/// `CTA_TUPLE_PROTO`.
const CTA_TUPLE_PROTO: u16 = 2;
/// `CTA_IP_V4_SRC`.
const CTA_IP_V4_SRC: u16 = 1;
/// `CTA_IP_V4_DST`.
const CTA_IP_V4_DST: u16 = 2;
/// `CTA_IP_V6_SRC`.
const CTA_IP_V6_SRC: u16 = 3;
/// `CTA_IP_V6_DST`.
const CTA_IP_V6_DST: u16 = 4;
/// `CTA_PROTO_NUM`.
const CTA_PROTO_NUM: u16 = 1;
/// `CTA_PROTO_SRC_PORT`.
const CTA_PROTO_SRC_PORT: u16 = 2;
/// `CTA_PROTO_DST_PORT`.
const CTA_PROTO_DST_PORT: u16 = 3;
/// `CTA_PROTO_ICMP_ID`.
const CTA_PROTO_ICMP_ID: u16 = 4;
/// `CTA_PROTO_ICMPV6_ID`.
const CTA_PROTO_ICMPV6_ID: u16 = 7;
/// `CTA_PROTOINFO_TCP`.
const CTA_PROTOINFO_TCP: u16 = 1;
/// `CTA_PROTOINFO_TCP_STATE`.
const CTA_PROTOINFO_TCP_STATE: u16 = 1;

/// `TCP_CONNTRACK_*`, by number, as `conntrack -L` prints them.
const TCP_STATES: [&str; 10] = [
    "NONE",
    "SYN_SENT",
    "SYN_RECV",
    "ESTABLISHED",
    "FIN_WAIT",
    "CLOSE_WAIT",
    "LAST_ACK",
    "TIME_WAIT",
    "CLOSE",
    "SYN_SENT2",
];

/// The netlink message type of a ctnetlink message.
fn ct_type(msg: u8) -> u16 {
    (NFNL_SUBSYS_CTNETLINK << 8) | u16::from(msg)
}

impl Nft {
    fn ct_error(&self, op: &str, source: io::Error) -> Error {
        Error::Netlink {
            node: self.node_name().to_string(),
            op: op.to_string(),
            source,
        }
    }

    /// Every entry of the node's connection tracking table, IPv4 and IPv6.
    pub(crate) fn conntrack_list(&mut self) -> Result<Vec<ConntrackEntry>> {
        let op = "conntrack -L";
        let seq = self
            .send_one(ct_type(IPCTNL_MSG_CT_GET), NLM_F_DUMP, 0, Attrs::new())
            .map_err(|e| self.ct_error(op, e))?;
        let mut out = Vec::new();
        loop {
            let datagram = self.recv(0).map_err(|e| self.ct_error(op, e))?;
            let replies = super::nft::msg::replies(&datagram).map_err(|e| self.ct_error(op, e))?;
            for reply in replies {
                match reply {
                    Reply::Object {
                        subsys,
                        msg,
                        seq: s,
                        attrs,
                        ..
                    } if s == seq
                        && u16::from(subsys) == NFNL_SUBSYS_CTNETLINK
                        && msg == IPCTNL_MSG_CT_NEW =>
                    {
                        out.extend(parse_entry(attrs));
                    }
                    Reply::Done { seq: s } if s == seq => return Ok(out),
                    Reply::Ack { seq: s, errno } if s == seq && errno != 0 => {
                        return Err(self.ct_error(op, io::Error::from_raw_os_error(errno)));
                    }
                    _ => {}
                }
            }
        }
    }

    /// Deletes every entry of the node's connection tracking table, as a
    /// reboot of the node would: NAT mappings are forgotten, and the next
    /// packet of a connection is new to the node.
    pub(crate) fn conntrack_flush(&mut self) -> Result<()> {
        let op = "conntrack -F";
        let seq = self
            .send_one(ct_type(IPCTNL_MSG_CT_DELETE), NLM_F_ACK, 0, Attrs::new())
            .map_err(|e| self.ct_error(op, e))?;
        loop {
            let datagram = self.recv(0).map_err(|e| self.ct_error(op, e))?;
            let replies = super::nft::msg::replies(&datagram).map_err(|e| self.ct_error(op, e))?;
            for reply in replies {
                if let Reply::Ack { seq: s, errno } = reply {
                    if s == seq {
                        return match errno {
                            0 => Ok(()),
                            e => Err(self.ct_error(op, io::Error::from_raw_os_error(e))),
                        };
                    }
                }
            }
        }
    }
}

fn be16(v: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes(v.get(..2)?.try_into().ok()?))
}

fn be32(v: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(v.get(..4)?.try_into().ok()?))
}

/// A tuple and its protocol number from a `CTA_TUPLE_*` attribute.
fn parse_tuple(buf: &[u8]) -> Option<(u8, Tuple)> {
    let (mut src, mut dst, mut proto, mut sport, mut dport) = (None, None, None, None, None);
    for (ty, v) in attrs(buf) {
        match ty {
            CTA_TUPLE_IP => {
                for (t, a) in attrs(v) {
                    let ip: Option<IpAddr> = match t {
                        CTA_IP_V4_SRC | CTA_IP_V4_DST => <[u8; 4]>::try_from(a)
                            .ok()
                            .map(|b| Ipv4Addr::from(b).into()),
                        CTA_IP_V6_SRC | CTA_IP_V6_DST => <[u8; 16]>::try_from(a)
                            .ok()
                            .map(|b| Ipv6Addr::from(b).into()),
                        _ => None,
                    };
                    match t {
                        CTA_IP_V4_SRC | CTA_IP_V6_SRC => src = ip,
                        CTA_IP_V4_DST | CTA_IP_V6_DST => dst = ip,
                        _ => {}
                    }
                }
            }
            CTA_TUPLE_PROTO => {
                for (t, a) in attrs(v) {
                    match t {
                        CTA_PROTO_NUM => proto = a.first().copied(),
                        CTA_PROTO_SRC_PORT | CTA_PROTO_ICMP_ID | CTA_PROTO_ICMPV6_ID => {
                            sport = be16(a)
                        }
                        CTA_PROTO_DST_PORT => dport = be16(a),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Some((
        proto?,
        Tuple {
            src: src?,
            dst: dst?,
            sport,
            dport,
        },
    ))
}

/// An entry from the attributes of an `IPCTNL_MSG_CT_NEW`.
fn parse_entry(buf: &[u8]) -> Option<ConntrackEntry> {
    let (mut original, mut reply, mut status, mut timeout, mut tcp) = (None, None, 0, None, None);
    for (ty, v) in attrs(buf) {
        match ty {
            CTA_TUPLE_ORIG => original = parse_tuple(v),
            CTA_TUPLE_REPLY => reply = parse_tuple(v),
            CTA_STATUS => status = be32(v).unwrap_or(0),
            CTA_TIMEOUT => timeout = be32(v).map(|s| Duration::from_secs(u64::from(s))),
            CTA_PROTOINFO => {
                tcp = attrs(v)
                    .find(|(t, _)| *t == CTA_PROTOINFO_TCP)
                    .and_then(|(_, info)| attrs(info).find(|(t, _)| *t == CTA_PROTOINFO_TCP_STATE))
                    .and_then(|(_, s)| s.first())
                    .map(|s| {
                        TCP_STATES
                            .get(usize::from(*s))
                            .map_or_else(|| s.to_string(), |n| n.to_string())
                    });
            }
            _ => {}
        }
    }
    let (proto, original) = original?;
    let (_, reply) = reply?;
    Some(ConntrackEntry {
        proto,
        original,
        reply,
        status,
        timeout,
        tcp_state: tcp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tuple attribute: addresses, protocol, ports.
    fn tuple(ty: u16, src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> Attrs {
        let mut a = Attrs::new();
        a.nested(ty, |t| {
            t.nested(CTA_TUPLE_IP, |ip| {
                ip.bytes(CTA_IP_V4_SRC, &src).bytes(CTA_IP_V4_DST, &dst);
            });
            t.nested(CTA_TUPLE_PROTO, |p| {
                p.bytes(CTA_PROTO_NUM, &[17])
                    .bytes(CTA_PROTO_SRC_PORT, &sport.to_be_bytes())
                    .bytes(CTA_PROTO_DST_PORT, &dport.to_be_bytes());
            });
        });
        a
    }

    #[test]
    fn an_snat_entry_reads_back_as_a_mapping() {
        let mut body = Attrs::new();
        body.raw(
            &tuple(
                CTA_TUPLE_ORIG,
                [198, 51, 100, 1],
                [203, 0, 113, 10],
                4000,
                3478,
            )
            .into_bytes(),
        )
        .raw(
            &tuple(
                CTA_TUPLE_REPLY,
                [203, 0, 113, 10],
                [203, 0, 113, 1],
                3478,
                4000,
            )
            .into_bytes(),
        )
        .u32_be(CTA_STATUS, 0x1 << 4 | 0x2)
        .u32_be(CTA_TIMEOUT, 29);
        let e = parse_entry(&body.into_bytes()).unwrap();
        assert!(e.is_snat() && !e.is_dnat());
        let m = e.mapping().unwrap();
        assert_eq!(m.inside.to_string(), "198.51.100.1:4000");
        assert_eq!(m.outside.to_string(), "203.0.113.1:4000");
        assert_eq!(m.remote.to_string(), "203.0.113.10:3478");
        assert_eq!(
            e.to_string(),
            "udp      17 29 src=198.51.100.1 dst=203.0.113.10 sport=4000 dport=3478 \
             src=203.0.113.10 dst=203.0.113.1 sport=3478 dport=4000 snat"
        );
    }

    #[test]
    fn a_hairpinned_entry_maps_to_the_host_behind_the_outside_endpoint() {
        // 198.51.100.1 sends to 203.0.113.1:5000, which the NAT forwards to
        // 198.51.100.2:4002 (DNAT) with the source mapped to
        // 203.0.113.1:4001 (SNAT).
        let mut body = Attrs::new();
        body.raw(
            &tuple(
                CTA_TUPLE_ORIG,
                [198, 51, 100, 1],
                [203, 0, 113, 1],
                4001,
                5000,
            )
            .into_bytes(),
        )
        .raw(
            &tuple(
                CTA_TUPLE_REPLY,
                [198, 51, 100, 2],
                [203, 0, 113, 1],
                4002,
                4001,
            )
            .into_bytes(),
        )
        .u32_be(CTA_STATUS, 0x1 << 4 | 0x1 << 5);
        let e = parse_entry(&body.into_bytes()).unwrap();
        assert!(e.is_snat() && e.is_dnat());
        let m = e.mapping().unwrap();
        assert_eq!(m.inside.to_string(), "198.51.100.1:4001");
        assert_eq!(m.outside.to_string(), "203.0.113.1:4001");
        assert_eq!(m.remote.to_string(), "198.51.100.2:4002");
    }

    #[test]
    fn constants_match_the_kernel_headers_in_libc() {
        assert_eq!(
            i32::from(NFNL_SUBSYS_CTNETLINK),
            libc::NFNL_SUBSYS_CTNETLINK
        );
        assert_eq!(ct_type(IPCTNL_MSG_CT_DELETE), 0x102);
    }
}
