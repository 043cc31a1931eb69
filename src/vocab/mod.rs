//! The vocabulary every layer shares: address families, things that name
//! addresses, the kernel's rules for interface names and MAC addresses, and
//! how a message quotes user text.
//! Pure: no I/O.

mod family;
mod ifname;
mod ip;
mod mac;
mod text;
mod xml;

pub use family::Family;
pub(crate) use ifname::{check_ifname, IfnameProblem};
pub use ip::{IntoIp, IntoSocketAddr};
pub(crate) use mac::{mac_text, parse_mac};
pub(crate) use text::quoted;
pub(crate) use xml::{xml_attr, xml_text};
