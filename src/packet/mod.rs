//! Packet formats, pure: bytes in, values out, no I/O. The probes build and
//! read ICMP with it; capture and the wire decode frames with it.

pub(crate) mod checksum;
pub(crate) mod icmp;
pub(crate) mod icmp_error;

pub use icmp_error::{IcmpErrorKind, Unreachable};
