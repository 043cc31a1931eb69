//! The system layer: the only place that speaks to the kernel directly
//! (libc, netlink, `unsafe`).
//!
//! - [`netns`]: owned namespace handles, entering and leaving them, and the
//!   registry of namespaces this process made;
//! - [`thread`] and [`runtime`]: a scoped thread that resumes the closure's
//!   panic, and the one current-thread tokio runtime builder;
//! - [`fd_limit`]: room under the open-file limit for a lab's fds;
//! - [`sysctl`]: writes under `/proc/sys` from inside a node, and
//!   [`procfs`]: the private procfs instances a big build writes through;
//! - [`privilege`]: capabilities, user namespaces, the pre-main constructor;
//! - [`process`]: the fork-time hook that puts a child into a node, and
//!   the kill of every process left inside a lab; [`shared_flag`]: the
//!   flag in shared memory that tells a forked child the lab is going;
//! - [`supervisor`]: the PID-namespace supervisor every node program runs
//!   under, so that nothing it forks outlives the test process, and
//!   [`close_fds`]: how it lets go of the fds it inherited;
//! - [`sockopt`]: ICMP type filters and the don't-fragment mode of sockets;
//! - [`packet_ring`]: a packet socket on one interface with its TPACKET_V3
//!   ring (the `mmap` and the `unsafe` of capture), and the poll that waits
//!   on several;
//! - [`packet_port`], [`ethtool`] and [`poller`]: the packet sockets of
//!   the wire relay's ports, the offload setting of a wire's node ends, and
//!   the epoll set with a timerfd that the relay waits on;
//! - [`netlink`]: rtnetlink requests, one file per object (link, addr, route,
//!   dump), nftables (NETLINK_NETFILTER) and conntrack.

pub(crate) mod close_fds;
pub(crate) mod env;
pub(crate) mod ethtool;
pub(crate) mod fd_limit;
pub(crate) mod fdpass;
pub(crate) mod netlink;
pub(crate) mod netns;
pub(crate) mod packet_port;
pub(crate) mod packet_ring;
pub(crate) mod poller;
pub mod privilege;
pub(crate) mod process;
pub(crate) mod procfs;
pub(crate) mod runtime;
pub(crate) mod sched;
pub(crate) mod shared_flag;
pub(crate) mod sockopt;
pub(crate) mod supervisor;
pub(crate) mod sysctl;
pub(crate) mod thread;
