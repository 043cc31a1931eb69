//! Packet formats, pure: bytes in, values out, no I/O. The probes build and
//! read ICMP with it; capture decodes frames ([`decode`]), prints them
//! tcpdump-style ([`tcpdump`]) and writes and reads pcapng ([`pcapng`]),
//! each frame as its interface's link type ([`link`]) has it.

pub(crate) mod checksum;
pub(crate) mod decode;
pub(crate) mod icmp;
pub(crate) mod icmp_error;
pub(crate) mod link;
pub(crate) mod pcapng;
pub(crate) mod tcpdump;

pub use icmp_error::{IcmpErrorKind, Unreachable};
