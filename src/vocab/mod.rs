//! The vocabulary every layer shares: address families, things that name
//! addresses, and the kernel's rules for interface names and MAC addresses.
//! Pure: no I/O.

mod family;
mod ifname;
mod ip;
mod mac;

pub use family::Family;
pub(crate) use ifname::{check_ifname, IfnameProblem};
pub use ip::{IntoIp, IntoSocketAddr};
pub(crate) use mac::{mac_text, parse_mac};
