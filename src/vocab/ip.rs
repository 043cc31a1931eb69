//! Things that name addresses, parsed strictly (no name lookups).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Something that names an IP address: `"198.51.100.2"`, an `IpAddr`, ...
///
/// Text is parsed strictly: no name lookups, so a probe can never trigger a
/// DNS query from the host.
pub trait IntoIp {
    /// The address, or the text that did not parse.
    fn into_ip(self) -> std::result::Result<IpAddr, String>;
}

impl IntoIp for IpAddr {
    fn into_ip(self) -> std::result::Result<IpAddr, String> {
        Ok(self)
    }
}
impl IntoIp for Ipv4Addr {
    fn into_ip(self) -> std::result::Result<IpAddr, String> {
        Ok(self.into())
    }
}
impl IntoIp for Ipv6Addr {
    fn into_ip(self) -> std::result::Result<IpAddr, String> {
        Ok(self.into())
    }
}
impl IntoIp for &str {
    fn into_ip(self) -> std::result::Result<IpAddr, String> {
        self.parse().map_err(|_| self.to_string())
    }
}
impl IntoIp for String {
    fn into_ip(self) -> std::result::Result<IpAddr, String> {
        self.as_str().into_ip()
    }
}
impl IntoIp for &String {
    fn into_ip(self) -> std::result::Result<IpAddr, String> {
        self.as_str().into_ip()
    }
}

/// Something that names a socket address: `"198.51.100.2:80"`,
/// `"[2001:db8::2]:80"`, a `SocketAddr`, or an `(ip, port)` pair. Parsed
/// strictly, without name lookups.
pub trait IntoSocketAddr {
    /// The address, or the text that did not parse.
    fn into_socket_addr(self) -> std::result::Result<SocketAddr, String>;
}

impl IntoSocketAddr for SocketAddr {
    fn into_socket_addr(self) -> std::result::Result<SocketAddr, String> {
        Ok(self)
    }
}
impl IntoSocketAddr for &str {
    fn into_socket_addr(self) -> std::result::Result<SocketAddr, String> {
        self.parse().map_err(|_| self.to_string())
    }
}
impl IntoSocketAddr for String {
    fn into_socket_addr(self) -> std::result::Result<SocketAddr, String> {
        self.as_str().into_socket_addr()
    }
}
impl<I: IntoIp> IntoSocketAddr for (I, u16) {
    fn into_socket_addr(self) -> std::result::Result<SocketAddr, String> {
        Ok(SocketAddr::new(self.0.into_ip()?, self.1))
    }
}
