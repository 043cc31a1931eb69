//! pcapng, the format of Wireshark and `tcpdump -r`: a small writer and a
//! reader for what the writer makes (and other simple files).
//!
//! A file is a section header block, then one interface description block
//! per interface (its link type, Ethernet or raw IP; `if_name` is
//! `node/interface`, `if_tsresol` 9: nanosecond timestamps), then one
//! enhanced packet block per frame with
//! its direction (`epb_flags`) and an optional comment (`opt_comment`).
//! Little-endian, like the machines this runs on; the reader takes both
//! byte orders.

use std::io::{self, Write};

use super::decode::Direction;
use super::link::LinkType;

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 0x0000_0001;
const SPB: u32 = 0x0000_0003;
const EPB: u32 = 0x0000_0006;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;

const OPT_END: u16 = 0;
const OPT_COMMENT: u16 = 1;
const SHB_USERAPPL: u16 = 4;
const IF_NAME: u16 = 2;
const IF_TSRESOL: u16 = 9;
const EPB_FLAGS: u16 = 2;

/// One frame to write.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FrameOut<'a> {
    /// The interface's position in the list given to [`write_header`].
    pub(crate) iface: u32,
    /// Nanoseconds since the Unix epoch.
    pub(crate) ts_ns: u64,
    /// Length on the wire.
    pub(crate) orig_len: u32,
    /// The captured bytes.
    pub(crate) data: &'a [u8],
    pub(crate) direction: Direction,
    pub(crate) comment: Option<&'a str>,
}

/// The longest option value written: an option's length is 16 bits, and
/// its padding must not carry it past that.
const OPTION_MAX: usize = u16::MAX as usize & !3;

fn option(buf: &mut Vec<u8>, code: u16, value: &[u8]) {
    let value = &value[..value.len().min(OPTION_MAX)];
    buf.extend_from_slice(&code.to_le_bytes());
    buf.extend_from_slice(&(value.len() as u16).to_le_bytes());
    buf.extend_from_slice(value);
    pad(buf);
}

/// `text` cut to at most `max` bytes, at a character boundary (a comment
/// stays UTF-8, as pcapng asks).
fn cut_at_char(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn pad(buf: &mut Vec<u8>) {
    while buf.len() % 4 != 0 {
        buf.push(0);
    }
}

fn block(w: &mut impl Write, kind: u32, body: &[u8]) -> io::Result<()> {
    let total = u32::try_from(body.len() + 12)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pcapng block too large"))?;
    w.write_all(&kind.to_le_bytes())?;
    w.write_all(&total.to_le_bytes())?;
    w.write_all(body)?;
    w.write_all(&total.to_le_bytes())
}

/// Writes the section header and one interface block per (name, link
/// type), in order: frame `iface` numbers index this list.
pub(crate) fn write_header(w: &mut impl Write, ifaces: &[(String, LinkType)]) -> io::Result<()> {
    let mut shb = Vec::new();
    shb.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes()); // major
    shb.extend_from_slice(&0u16.to_le_bytes()); // minor
    shb.extend_from_slice(&(-1i64).to_le_bytes()); // section length: unknown
    option(&mut shb, SHB_USERAPPL, b"netns-test");
    option(&mut shb, OPT_END, &[]);
    block(w, SHB, &shb)?;
    for (name, link) in ifaces {
        let mut idb = Vec::new();
        idb.extend_from_slice(&link.pcap_code().to_le_bytes());
        idb.extend_from_slice(&0u16.to_le_bytes());
        idb.extend_from_slice(&0u32.to_le_bytes()); // snaplen: no limit
        option(&mut idb, IF_NAME, name.as_bytes());
        option(&mut idb, IF_TSRESOL, &[9]);
        option(&mut idb, OPT_END, &[]);
        block(w, IDB, &idb)?;
    }
    Ok(())
}

/// Writes one enhanced packet block.
pub(crate) fn write_frame(w: &mut impl Write, f: &FrameOut<'_>) -> io::Result<()> {
    let mut epb = Vec::with_capacity(f.data.len() + 64);
    epb.extend_from_slice(&f.iface.to_le_bytes());
    epb.extend_from_slice(&((f.ts_ns >> 32) as u32).to_le_bytes());
    epb.extend_from_slice(&(f.ts_ns as u32).to_le_bytes());
    epb.extend_from_slice(&(f.data.len() as u32).to_le_bytes());
    epb.extend_from_slice(&f.orig_len.to_le_bytes());
    epb.extend_from_slice(f.data);
    pad(&mut epb);
    let flags: u32 = match f.direction {
        Direction::In => 1,
        Direction::Out => 2,
    };
    option(&mut epb, EPB_FLAGS, &flags.to_le_bytes());
    if let Some(c) = f.comment {
        option(&mut epb, OPT_COMMENT, cut_at_char(c, OPTION_MAX).as_bytes());
    }
    option(&mut epb, OPT_END, &[]);
    block(w, EPB, &epb)
}

/// A frame read back from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FrameIn {
    /// Index into [`PcapngFile::interfaces`].
    pub(crate) iface: usize,
    pub(crate) ts_ns: u64,
    pub(crate) orig_len: u32,
    pub(crate) data: Vec<u8>,
    /// From `epb_flags`, when given.
    pub(crate) direction: Option<Direction>,
    pub(crate) comment: Option<String>,
}

/// What a pcapng file holds: interface names (`if_name`, or `ifN` without
/// one), their link types (pcapng codes, as `links[i]` for
/// `interfaces[i]`) and frames.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PcapngFile {
    pub(crate) interfaces: Vec<String>,
    pub(crate) links: Vec<u16>,
    pub(crate) frames: Vec<FrameIn>,
}

struct Iface {
    name: String,
    /// Nanoseconds per timestamp unit, as (multiplier, divisor).
    unit: (u64, u64),
}

fn bad(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

/// Reads a pcapng file (one or more sections; enhanced and simple packet
/// blocks; other blocks skipped).
pub(crate) fn read(bytes: &[u8]) -> io::Result<PcapngFile> {
    let mut out = PcapngFile::default();
    let mut ifaces: Vec<Iface> = Vec::new();
    let mut big = false;
    let mut pos = 0usize;
    let u32_at = |b: &[u8], at: usize, big: bool| -> io::Result<u32> {
        let s: [u8; 4] = b
            .get(at..at + 4)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| bad(format!("truncated at byte {at}")))?;
        Ok(if big {
            u32::from_be_bytes(s)
        } else {
            u32::from_le_bytes(s)
        })
    };
    let u16_at = |b: &[u8], at: usize, big: bool| -> io::Result<u16> {
        let s: [u8; 2] = b
            .get(at..at + 2)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| bad(format!("truncated at byte {at}")))?;
        Ok(if big {
            u16::from_be_bytes(s)
        } else {
            u16::from_le_bytes(s)
        })
    };
    while pos < bytes.len() {
        let kind = u32_at(bytes, pos, false)?;
        if kind == SHB {
            let magic = u32_at(bytes, pos + 8, false)?;
            big = match magic {
                BYTE_ORDER_MAGIC => false,
                m if m.swap_bytes() == BYTE_ORDER_MAGIC => true,
                _ => return Err(bad("bad byte-order magic")),
            };
            ifaces.clear();
        } else if pos == 0 {
            return Err(bad("not a pcapng file (no section header block)"));
        }
        let kind = u32_at(bytes, pos, big)?;
        let total = u32_at(bytes, pos + 4, big)? as usize;
        if total < 12 || total % 4 != 0 || pos + total > bytes.len() {
            return Err(bad(format!("bad block length {total} at byte {pos}")));
        }
        let body = &bytes[pos + 8..pos + total - 4];
        // Options: (code, value) pairs from `at` in `body`.
        let options = |at: usize| -> io::Result<Vec<(u16, &[u8])>> {
            let mut v = Vec::new();
            let mut o = at;
            while o + 4 <= body.len() {
                let code = u16_at(body, o, big)?;
                let len = usize::from(u16_at(body, o + 2, big)?);
                if code == OPT_END {
                    break;
                }
                let value = body
                    .get(o + 4..o + 4 + len)
                    .ok_or_else(|| bad("option past its block"))?;
                v.push((code, value));
                o += 4 + len.div_ceil(4) * 4;
            }
            Ok(v)
        };
        match kind {
            IDB => {
                let mut iface = Iface {
                    name: format!("if{}", ifaces.len()),
                    unit: (1_000, 1), // microseconds by default
                };
                for (code, value) in options(8)? {
                    match code {
                        IF_NAME => {
                            iface.name = String::from_utf8_lossy(value)
                                .trim_end_matches('\0')
                                .to_string()
                        }
                        IF_TSRESOL => {
                            let r = *value.first().unwrap_or(&6);
                            iface.unit = if r & 0x80 == 0 {
                                let p = u32::from(r);
                                if p <= 9 {
                                    (10u64.pow(9 - p), 1)
                                } else {
                                    (1, 10u64.pow((p - 9).min(19)))
                                }
                            } else {
                                (1_000_000_000, 1u64 << (r & 0x7f).min(63))
                            };
                        }
                        _ => {}
                    }
                }
                out.interfaces.push(iface.name.clone());
                out.links.push(u16_at(body, 0, big)?);
                ifaces.push(iface);
            }
            EPB => {
                let id = u32_at(body, 0, big)? as usize;
                let ts =
                    (u64::from(u32_at(body, 4, big)?) << 32) | u64::from(u32_at(body, 8, big)?);
                let cap = u32_at(body, 12, big)? as usize;
                let orig_len = u32_at(body, 16, big)?;
                let data = body
                    .get(20..20 + cap)
                    .ok_or_else(|| bad("packet data past its block"))?
                    .to_vec();
                let iface = ifaces
                    .get(id)
                    .ok_or_else(|| bad(format!("packet on undeclared interface {id}")))?;
                let mut frame = FrameIn {
                    iface: out.interfaces.len() - ifaces.len() + id,
                    ts_ns: (u128::from(ts) * u128::from(iface.unit.0) / u128::from(iface.unit.1))
                        as u64,
                    orig_len,
                    data,
                    direction: None,
                    comment: None,
                };
                for (code, value) in options(20 + cap.div_ceil(4) * 4)? {
                    match code {
                        OPT_COMMENT => frame.comment = Some(String::from_utf8_lossy(value).into()),
                        EPB_FLAGS if value.len() == 4 => {
                            frame.direction = match u32_at(value, 0, big)? & 3 {
                                1 => Some(Direction::In),
                                2 => Some(Direction::Out),
                                _ => None,
                            }
                        }
                        _ => {}
                    }
                }
                out.frames.push(frame);
            }
            SPB => {
                let orig_len = u32_at(body, 0, big)?;
                if ifaces.is_empty() {
                    return Err(bad("simple packet block before any interface"));
                }
                let cap = (orig_len as usize).min(body.len() - 4);
                out.frames.push(FrameIn {
                    iface: out.interfaces.len() - ifaces.len(),
                    ts_ns: 0,
                    orig_len,
                    data: body[4..4 + cap].to_vec(),
                    direction: None,
                    comment: None,
                });
            }
            _ => {}
        }
        pos += total;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_reads_back() {
        let mut buf = Vec::new();
        write_header(
            &mut buf,
            &[
                ("n1/eth0".into(), LinkType::Ethernet),
                ("r1/tun0".into(), LinkType::RawIp),
            ],
        )
        .unwrap();
        let frame = [0xaau8; 61]; // not a multiple of 4: padding
        write_frame(
            &mut buf,
            &FrameOut {
                iface: 1,
                ts_ns: 1_700_000_000_123_456_789,
                orig_len: 61,
                data: &frame,
                direction: Direction::Out,
                comment: Some("dropped by the wire: loss 100%"),
            },
        )
        .unwrap();
        write_frame(
            &mut buf,
            &FrameOut {
                iface: 0,
                ts_ns: 5,
                orig_len: 100,
                data: &frame[..4],
                direction: Direction::In,
                comment: None,
            },
        )
        .unwrap();
        assert_eq!(buf.len() % 4, 0);
        let file = read(&buf).unwrap();
        assert_eq!(file.interfaces, ["n1/eth0", "r1/tun0"]);
        assert_eq!(file.links, [1, 101]);
        assert_eq!(
            file.frames[0],
            FrameIn {
                iface: 1,
                ts_ns: 1_700_000_000_123_456_789,
                orig_len: 61,
                data: frame.to_vec(),
                direction: Some(Direction::Out),
                comment: Some("dropped by the wire: loss 100%".into()),
            }
        );
        assert_eq!(file.frames[1].data, [0xaa; 4]);
        assert_eq!(file.frames[1].orig_len, 100);
        assert_eq!(file.frames[1].direction, Some(Direction::In));
    }

    #[test]
    fn a_long_comment_is_cut_at_a_character_boundary() {
        // 65,531 ASCII bytes, then 3-byte characters: the 65,532-byte
        // limit falls inside the first of them.
        let comment = format!("{}{}", "a".repeat(OPTION_MAX - 1), "€".repeat(4));
        let mut buf = Vec::new();
        write_header(&mut buf, &[("n1/eth0".into(), LinkType::Ethernet)]).unwrap();
        write_frame(
            &mut buf,
            &FrameOut {
                iface: 0,
                ts_ns: 1,
                orig_len: 4,
                data: &[1, 2, 3, 4],
                direction: Direction::In,
                comment: Some(&comment),
            },
        )
        .unwrap();
        let got = read(&buf).unwrap().frames.remove(0).comment.unwrap();
        assert_eq!(got, "a".repeat(OPTION_MAX - 1));
        assert_eq!(cut_at_char("a€", 3), "a");
        assert_eq!(cut_at_char("a€", 4), "a€");
        assert_eq!(cut_at_char("a€", 9), "a€");
    }

    #[test]
    fn microsecond_files_and_big_endian() {
        // A big-endian section with one interface without if_tsresol
        // (microseconds) and one EPB, as another tool may write it.
        let mut b = Vec::new();
        let blk = |b: &mut Vec<u8>, kind: u32, body: &[u8]| {
            let total = (body.len() + 12) as u32;
            b.extend_from_slice(&kind.to_be_bytes());
            b.extend_from_slice(&total.to_be_bytes());
            b.extend_from_slice(body);
            b.extend_from_slice(&total.to_be_bytes());
        };
        let mut shb = BYTE_ORDER_MAGIC.to_be_bytes().to_vec();
        shb.extend_from_slice(&[0, 1, 0, 0]);
        shb.extend_from_slice(&(-1i64).to_be_bytes());
        blk(&mut b, SHB, &shb);
        blk(&mut b, IDB, &[0, 1, 0, 0, 0, 0, 0, 0]);
        let mut epb = Vec::new();
        for v in [0u32, 0, 1_000_000, 4, 4] {
            epb.extend_from_slice(&v.to_be_bytes());
        }
        epb.extend_from_slice(&[1, 2, 3, 4]);
        blk(&mut b, EPB, &epb);
        let file = read(&b).unwrap();
        assert_eq!(file.interfaces, ["if0"]);
        assert_eq!(file.links, [1]);
        assert_eq!(file.frames[0].ts_ns, 1_000_000_000); // 1 s in µs
        assert_eq!(file.frames[0].data, [1, 2, 3, 4]);
    }

    #[test]
    fn refuses_what_is_not_pcapng() {
        assert!(read(b"\xd4\xc3\xb2\xa1 a classic pcap file").is_err());
        let mut buf = Vec::new();
        write_header(&mut buf, &[("a/b".into(), LinkType::Ethernet)]).unwrap();
        buf.truncate(buf.len() - 2);
        assert!(read(&buf).is_err());
    }
}
