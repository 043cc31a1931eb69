//! The vocabulary every layer shares: address families, things that name
//! addresses, the kernel's rules for interface names and MAC addresses, how
//! a message quotes user text, the seeded random generator, the units of an
//! impaired link (a probability, a bandwidth), and text escaped for XML.
//! Pure: no I/O.

mod family;
mod ifname;
mod ip;
mod mac;
mod rng;
mod text;
mod units;
mod xml;

pub use family::Family;
pub(crate) use ifname::{check_ifname, IfnameProblem};
pub use ip::{IntoIp, IntoSocketAddr};
pub(crate) use mac::{mac_text, parse_mac};
pub use rng::Rng;
pub(crate) use text::quoted;
pub use units::{Bandwidth, Probability, UnitError};
pub(crate) use xml::{xml_attr, xml_text};
