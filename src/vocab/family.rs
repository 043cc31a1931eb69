//! IPv4 or IPv6.

use std::fmt;
use std::net::IpAddr;

/// An address family: IPv4 or IPv6.
///
/// ```
/// use netns_test::Family;
///
/// let ip: std::net::IpAddr = "2001:db8::1".parse().unwrap();
/// assert_eq!(Family::of(ip), Family::V6);
/// assert!(Family::V6.holds(ip));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

impl Family {
    /// The family of `ip`.
    pub fn of(ip: IpAddr) -> Family {
        match ip {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// Whether `ip` belongs to this family.
    pub fn holds(self, ip: IpAddr) -> bool {
        Family::of(ip) == self
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        })
    }
}
