//! Interfaces without an Ethernet header: a tun device carries bare IP
//! packets, which capture records and writes as raw IP; a device whose
//! frames begin with another header is refused.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use etherparse::PacketBuilder;
use netns_test::capture::{read_pcapng, CaptureError, Direction, Filter, LinkType};
use netns_test::{Error, Net, Topology};

/// `ARPHRD_PPP`: a device type capture does not record.
const ARPHRD_PPP: libc::c_int = 512;

fn ifreq(name: &str) -> libc::ifreq {
    // SAFETY: `struct ifreq` is plain data; all zeros is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(name.bytes()) {
        *d = s as libc::c_char;
    }
    req
}

fn check(rc: libc::c_int, what: &str) {
    assert!(rc >= 0, "{what}: {}", std::io::Error::last_os_error());
}

/// Makes tun device `name` in the calling thread's namespace (of device
/// type `device_type` if given) and, with `addr`, brings it up with
/// `addr`/24. The device lives as long as the returned file; `None`, said
/// on standard error, where this user may not open `/dev/net/tun` (it is
/// often root's alone, and a user namespace does not change that).
fn make_tun(name: &str, device_type: Option<libc::c_int>, addr: Option<[u8; 4]>) -> Option<File> {
    let tun = match File::options().read(true).write(true).open("/dev/net/tun") {
        Ok(f) => f,
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EACCES | libc::EPERM | libc::ENOENT)
            ) =>
        {
            eprintln!("note: skipped: cannot open /dev/net/tun: {e}");
            return None;
        }
        Err(e) => panic!("open /dev/net/tun: {e}"),
    };
    let mut req = ifreq(name);
    req.ifr_ifru.ifru_flags = (libc::IFF_TUN | libc::IFF_NO_PI) as libc::c_short;
    // SAFETY: TUNSETIFF reads a live `struct ifreq`.
    check(
        unsafe { libc::ioctl(tun.as_raw_fd(), libc::TUNSETIFF, &mut req) },
        "TUNSETIFF",
    );
    if let Some(t) = device_type {
        // SAFETY: TUNSETLINK takes its argument by value.
        check(
            unsafe { libc::ioctl(tun.as_raw_fd(), libc::TUNSETLINK, t) },
            "TUNSETLINK",
        );
    }
    let Some(addr) = addr else { return Some(tun) };
    // SAFETY: plain socket(2); the result is checked, then owned.
    let sock = unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        check(fd, "socket");
        OwnedFd::from_raw_fd(fd)
    };
    let set = |request: libc::c_ulong, what: &str, fill: &dyn Fn(&mut libc::ifreq)| {
        let mut req = ifreq(name);
        fill(&mut req);
        // SAFETY: the request reads a live `struct ifreq`.
        check(
            unsafe { libc::ioctl(sock.as_raw_fd(), request, &mut req) },
            what,
        );
    };
    let sin = |a: [u8; 4]| {
        // SAFETY: `sockaddr_in` is plain data; all zeros is a valid value.
        let mut sin: libc::sockaddr_in = unsafe { std::mem::zeroed() };
        sin.sin_family = libc::AF_INET as libc::sa_family_t;
        sin.sin_addr.s_addr = u32::from_ne_bytes(a);
        // SAFETY: a `sockaddr_in` fits in the `sockaddr` of the union.
        unsafe { std::mem::transmute::<libc::sockaddr_in, libc::sockaddr>(sin) }
    };
    set(libc::SIOCSIFADDR, "SIOCSIFADDR", &|r| {
        r.ifr_ifru.ifru_addr = sin(addr)
    });
    set(libc::SIOCSIFNETMASK, "SIOCSIFNETMASK", &|r| {
        r.ifr_ifru.ifru_netmask = sin([255, 255, 255, 0])
    });
    set(libc::SIOCSIFFLAGS, "SIOCSIFFLAGS", &|r| {
        r.ifr_ifru.ifru_flags = (libc::IFF_UP | libc::IFF_POINTOPOINT) as libc::c_short
    });
    Some(tun)
}

/// An echo request arrives on a tun device and its reply leaves by it:
/// both are captured as IP packets (filters match them), and the file
/// says raw IP, which the reader honours.
#[test]
fn a_tun_device_is_captured_as_raw_ip() {
    let net = Net::build(&Topology::new().node("n1")).unwrap();
    let Some(mut tun) = net["n1"]
        .run(|| make_tun("tun0", None, Some([203, 0, 113, 1])))
        .unwrap()
    else {
        return;
    };
    let cap = net["n1"].capture_iface("tun0").unwrap();
    let mut request = Vec::new();
    PacketBuilder::ipv4([203, 0, 113, 2], [203, 0, 113, 1], 64)
        .icmpv4_echo_request(7, 1)
        .write(&mut request, &[0u8; 56])
        .unwrap();
    tun.write_all(&request).unwrap();
    // The reply: read until it comes (the kernel may send others first).
    let mut buf = [0u8; 2048];
    loop {
        let mut pfd = libc::pollfd {
            fd: tun.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one live `pollfd`.
        let ready = unsafe { libc::poll(&mut pfd, 1, 5_000) };
        assert_eq!(ready, 1, "no echo reply within 5 s");
        let n = tun.read(&mut buf).unwrap();
        if buf[0] >> 4 == 4 && buf[9] == 1 && buf[20] == 0 {
            assert_eq!(buf[16..20], [203, 0, 113, 2], "{:?}", &buf[..n]);
            break;
        }
    }
    let req = cap.assert_count(&Filter::echo_request().on("n1", "tun0").incoming(), 1);
    cap.assert_count(
        &Filter::echo_reply()
            .src("203.0.113.1")
            .dst("203.0.113.2")
            .on("n1", "tun0")
            .outgoing(),
        1,
    );
    assert_eq!(req[0].link, LinkType::RawIp);
    assert_eq!(
        req[0].data, request,
        "the packet as it crossed, from its IP header"
    );
    assert!(
        req[0].to_string().contains(
            " n1/tun0 In IP 203.0.113.2 > 203.0.113.1: ICMP echo request, id 7, seq 1, length 64"
        ),
        "{}",
        req[0]
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tun.pcapng");
    cap.save(&file).unwrap();
    let bytes = std::fs::read(&file).unwrap();
    // The interface block (after the section header) names LINKTYPE_RAW.
    let shb_len = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
    let idb = &bytes[shb_len..];
    assert_eq!(idb[..4], 1u32.to_le_bytes(), "an interface block");
    assert_eq!(u16::from_le_bytes([idb[8], idb[9]]), 101, "LINKTYPE_RAW");
    let back = read_pcapng(&file).unwrap();
    let again: Vec<_> = back
        .iter()
        .filter(|p| Filter::echo_request().on("n1", "tun0").matches(p))
        .collect();
    assert_eq!(again.len(), 1, "{back:?}");
    assert_eq!(
        (again[0].link, again[0].direction, &again[0].data),
        (LinkType::RawIp, Direction::In, &request)
    );
    drop(tun);
}

/// A device whose frames begin with a header capture does not record is
/// refused, by name, before anything is opened.
#[test]
fn another_device_type_is_refused() {
    let net = Net::build(&Topology::new().node("n1")).unwrap();
    let Some(_tun) = net["n1"]
        .run(|| make_tun("ppp0", Some(ARPHRD_PPP), None))
        .unwrap()
    else {
        return;
    };
    let err = net["n1"].capture_iface("ppp0").unwrap_err();
    assert!(
        matches!(
            &err,
            Error::CaptureRefused(CaptureError::UnsupportedLinkType { node, iface, device_type: 512 })
                if node == "n1" && iface == "ppp0"
        ),
        "{err}"
    );
    assert!(net.captured().is_none(), "a capture was started");
}
