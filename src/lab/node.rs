//! A node of a live network: what a test does on one namespace.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use ipnet::IpNet;

use super::attach::Attachments;
use super::netfilter::NetfilterState;
use super::node_thread::{FinishOnDrop, Finished, NodeThread, StopToken};
use crate::error::{Error, Result};
use crate::inspect::{AddrInfo, LinkInfo, NeighInfo, NodeReport, RouteInfo};
use crate::sys::netlink::dump::report_here;
use crate::sys::netlink::nft::Nft;
use crate::sys::netlink::sync::RouteSocket;
use crate::sys::netns::{NetNs, NsGuard};
use crate::sys::process::command_in;
use crate::sys::shared_flag::SharedFlag;
use crate::topology::{Plan, PlanIface};
use crate::vocab::Family;
use std::os::fd::AsFd;

/// Which node holds which address, and which interfaces each node was
/// made with, shared by the nodes of one network; the address lookups are
/// hash lookups.
#[derive(Debug, Clone, Default)]
pub(crate) struct Directory {
    /// Every node that holds each address (nodes on separate segments may
    /// hold the same one), in topology order.
    by_ip: HashMap<IpAddr, Vec<String>>,
    /// Each node's addresses, in topology order.
    by_name: HashMap<String, Vec<IpAddr>>,
    /// Each node, with the interfaces the topology made in it, in
    /// topology order.
    nodes: Vec<(String, Vec<String>)>,
}

impl Directory {
    /// The directory of the addresses `entries` (address, node) and of
    /// `nodes` (node, the interfaces the topology made in it).
    pub(crate) fn new(entries: Vec<(IpAddr, String)>, nodes: Vec<(String, Vec<String>)>) -> Self {
        let mut d = Directory {
            nodes,
            ..Directory::default()
        };
        for (ip, name) in entries {
            d.by_name.entry(name.clone()).or_default().push(ip);
            let owners = d.by_ip.entry(ip).or_default();
            if !owners.contains(&name) {
                owners.push(name);
            }
        }
        d
    }

    /// Every node that holds `ip`, in topology order.
    pub(crate) fn owners_of(&self, ip: IpAddr) -> &[String] {
        self.by_ip.get(&ip).map_or(&[], Vec::as_slice)
    }

    /// The directory of the nodes of `plan` and their addresses.
    pub(crate) fn of_plan(plan: &Plan) -> Self {
        Directory::new(
            plan.nodes
                .iter()
                .flat_map(|n| {
                    n.ifaces
                        .iter()
                        .flat_map(move |i| i.addrs.iter().map(move |a| (a.addr(), n.name.clone())))
                })
                .collect(),
            plan.nodes
                .iter()
                .map(|n| {
                    let ifaces = n.ifaces.iter().map(|i| i.name.clone()).collect();
                    (n.name.clone(), ifaces)
                })
                .collect(),
        )
    }

    /// The addresses of family `fam` of node `name`, in topology order.
    fn addrs_of(&self, name: &str, fam: Family) -> Vec<IpAddr> {
        let mine = self.by_name.get(name).map_or(&[][..], Vec::as_slice);
        let mut out: Vec<IpAddr> = Vec::new();
        for a in mine.iter().filter(|a| fam.holds(**a)) {
            if !out.contains(a) {
                out.push(*a);
            }
        }
        out
    }

    /// The address of family `fam` that stands for node `name`: its first
    /// address of the family that no other node holds (topology order).
    /// `Err` with its addresses of the family when another node holds each
    /// of them too (nodes on separate segments may), `None` when it has
    /// none of the family.
    pub(crate) fn own_addr(&self, name: &str, fam: Family) -> Option<Result<IpAddr, Vec<IpAddr>>> {
        let mine = self.addrs_of(name, fam);
        if mine.is_empty() {
            return None;
        }
        match mine.iter().find(|a| self.owners_of(**a).len() == 1) {
            Some(own) => Some(Ok(*own)),
            None => Some(Err(mine)),
        }
    }

    /// Which other nodes than `name` hold each of `addrs`:
    /// `198.51.100.10 by hB; 2001:db8::a by hB, hC`.
    pub(crate) fn held_by_others(&self, name: &str, addrs: &[IpAddr]) -> String {
        let each: Vec<String> = addrs
            .iter()
            .map(|a| {
                let others: Vec<&str> = self
                    .owners_of(*a)
                    .iter()
                    .map(String::as_str)
                    .filter(|o| *o != name)
                    .collect();
                format!("{a} by {}", others.join(", "))
            })
            .collect();
        each.join("; ")
    }

    /// The address node `name` stands for as a destination: its first
    /// IPv4 address that no other node holds, else its first such IPv6
    /// address (topology order), so that a reply can only come from it.
    /// `None` when it has no address; [`Error::NoOwnAddress`] when another
    /// node holds each of its addresses too.
    pub(crate) fn destination_of(&self, name: &str) -> Option<Result<IpAddr>> {
        let v4 = self.own_addr(name, Family::V4);
        let v6 = self.own_addr(name, Family::V6);
        let mut shared = Vec::new();
        for found in [v4, v6].into_iter().flatten() {
            match found {
                Ok(ip) => return Some(Ok(ip)),
                Err(addrs) => shared.extend(addrs),
            }
        }
        let first = *shared.first()?;
        Some(Err(Error::NoOwnAddress {
            node: name.to_string(),
            addr: first,
            shared: self.held_by_others(name, &shared),
        }))
    }

    /// Each node, with the interfaces the topology made in it.
    pub(crate) fn nodes(&self) -> &[(String, Vec<String>)] {
        &self.nodes
    }

    /// The node that holds `ip`; `None` if none does, or several do.
    pub(crate) fn name_of(&self, ip: IpAddr) -> Option<&str> {
        match self.owners_of(ip) {
            [only] => Some(only),
            _ => None,
        }
    }
}

/// One node of a live [`Net`](crate::Net): an anonymous network namespace
/// with its interfaces, the threads and processes started in it.
///
/// Get one with `net["n1"]` or [`Net::node`](crate::Net::node).
#[derive(Debug)]
pub struct Node {
    pub(super) ns: NetNs,
    addrs: Vec<(String, IpNet)>,
    /// The interfaces the topology made.
    pub(super) ifaces: Vec<PlanIface>,
    /// A blocking rtnetlink socket in the node, opened on first use by a
    /// change at run time; closed for good at teardown.
    pub(super) route_socket: Mutex<Lazy<RouteSocket>>,
    /// A NETLINK_NETFILTER socket in the node, opened on first use by a
    /// fault or a firewall at run time (the build closes the one it installs
    /// the topology's NATs and firewall with); closed for good at teardown.
    pub(super) nft: Mutex<Lazy<Nft>>,
    /// Whether the node forwards (the topology made it a router).
    pub(super) forwarding: bool,
    /// Its NATs and firewall now.
    pub(super) netfilter: Mutex<NetfilterState>,
    directory: Arc<Directory>,
    /// The network's attachments (captures), shared with the `Net`.
    attachments: Arc<Attachments>,
    pub(super) stop: Arc<AtomicBool>,
    /// The threads [`Node::spawn`] started and teardown waits for (those
    /// known to have finished are dropped at the next spawn).
    pub(super) threads: Mutex<Vec<(String, Arc<Finished>)>>,
    /// The network's flag, set when its teardown begins (in memory its
    /// forked children share).
    torn: Arc<SharedFlag>,
}

/// A socket a node opens on first use, until teardown closes it for good
/// (a socket holds its namespace, so none may be opened after that).
#[derive(Debug)]
pub(super) enum Lazy<T> {
    /// Not opened yet.
    Unopened,
    /// Open.
    Open(T),
    /// Closed by teardown.
    Closed,
}

impl<T> Lazy<T> {
    /// Closes the socket for good.
    pub(super) fn close(&mut self) {
        *self = Lazy::Closed;
    }

    /// Closes the socket if it is open; the next use opens another.
    pub(super) fn release(&mut self) {
        if let Lazy::Open(_) = self {
            *self = Lazy::Unopened;
        }
    }

    /// The open socket, opened with `open` on first use; `what` for the
    /// [`Error::TornDown`] once teardown closed it.
    fn get_or_open(
        &mut self,
        what: impl FnOnce() -> String,
        open: impl FnOnce() -> Result<T>,
    ) -> Result<&mut T> {
        if let Lazy::Closed = self {
            return Err(Error::TornDown { what: what() });
        }
        if let Lazy::Unopened = self {
            *self = Lazy::Open(open()?);
        }
        match self {
            Lazy::Open(sock) => Ok(sock),
            Lazy::Unopened | Lazy::Closed => unreachable!("opened above"),
        }
    }
}

impl Node {
    pub(crate) fn new(
        ns: NetNs,
        addrs: Vec<(String, IpNet)>,
        ifaces: Vec<PlanIface>,
        directory: Arc<Directory>,
        attachments: Arc<Attachments>,
        forwarding: bool,
        torn: Arc<SharedFlag>,
    ) -> Result<Self> {
        Ok(Node {
            ns,
            addrs,
            ifaces,
            route_socket: Mutex::new(Lazy::Unopened),
            nft: Mutex::new(Lazy::Unopened),
            forwarding,
            netfilter: Mutex::new(NetfilterState::default()),
            directory,
            attachments,
            stop: Arc::new(AtomicBool::new(false)),
            threads: Mutex::new(Vec::new()),
            torn,
        })
    }

    /// The node's name.
    pub fn name(&self) -> &str {
        self.ns.name()
    }

    /// The node's namespace.
    pub fn netns(&self) -> &NetNs {
        &self.ns
    }

    /// Whether the network's teardown has begun (a timed-out test's body
    /// may still run).
    pub(crate) fn is_torn_down(&self) -> bool {
        self.torn.is_set()
    }

    /// [`Error::TornDown`] for `what`, once the network's teardown
    /// has begun.
    pub(super) fn refuse_once_torn(&self, what: impl FnOnce() -> String) -> Result<()> {
        if self.is_torn_down() {
            return Err(Error::TornDown { what: what() });
        }
        Ok(())
    }

    /// Runs `f` with the node's blocking rtnetlink socket, opening it (from
    /// inside the node) on first use; [`Error::TornDown`] once
    /// teardown has closed it.
    pub(crate) fn with_route_socket<R>(
        &self,
        f: impl FnOnce(&mut RouteSocket) -> Result<R>,
    ) -> Result<R> {
        self.with_socket(
            &self.route_socket,
            "a netlink request",
            RouteSocket::open_here,
            f,
        )
    }

    /// Runs `f` with the node's nftables socket, opening it (from inside
    /// the node) on first use; [`Error::TornDown`] once teardown has
    /// closed it.
    pub(crate) fn with_nft<R>(&self, f: impl FnOnce(&mut Nft) -> Result<R>) -> Result<R> {
        self.with_socket(&self.nft, "an nftables request", Nft::open_here, f)
    }

    /// Runs `f` with the socket in `slot`, opened with `open` from inside
    /// the node on first use; `request` names it once teardown closed it.
    fn with_socket<T: Send + 'static, R>(
        &self,
        slot: &Mutex<Lazy<T>>,
        request: &str,
        open: fn(&str) -> Result<T>,
        f: impl FnOnce(&mut T) -> Result<R>,
    ) -> Result<R> {
        let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
        let name = self.name().to_string();
        let sock = slot.get_or_open(
            || format!("{request} in node {name}"),
            || self.run(|| open(&name))?,
        )?;
        f(sock)
    }

    pub(crate) fn directory(&self) -> &Directory {
        &self.directory
    }

    /// What upper layers attached to the node's network.
    pub(crate) fn attachments(&self) -> &Attachments {
        &self.attachments
    }

    /// The interfaces the topology made in this node, by name.
    pub(crate) fn iface_names(&self) -> Vec<String> {
        self.ifaces.iter().map(|i| i.name.clone()).collect()
    }

    /// The addresses the topology declared for this node, as (interface,
    /// address). For what the kernel holds now, see
    /// [`addresses`](Node::addresses).
    pub fn declared_addrs(&self) -> &[(String, IpNet)] {
        &self.addrs
    }

    /// The first address of `family` the topology declared for this node.
    ///
    /// ```no_run
    /// # use netns_test::{Family, Net, Topology};
    /// let net = Net::build(&Topology::new().link(
    ///     ("n1", "eth0", "198.51.100.1/24"),
    ///     ("n2", "eth0", "198.51.100.2/24"),
    /// ))?;
    /// assert_eq!(net["n2"].ip(Family::V4), Some("198.51.100.2".parse().unwrap()));
    /// assert_eq!(net["n2"].ip(Family::V6), None);
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn ip(&self, family: Family) -> Option<IpAddr> {
        self.addrs
            .iter()
            .map(|(_, a)| a.addr())
            .find(|a| family.holds(*a))
    }

    /// Runs `f` on a dedicated thread inside the node and returns its value;
    /// a panic in `f` is resumed here with the original message.
    ///
    /// ```no_run
    /// # use netns_test::{Net, Topology};
    /// let net = Net::build(&Topology::new().node("n1"))?;
    /// let port = net["n1"].run(|| {
    ///     let l = std::net::TcpListener::bind("127.0.0.1:80").unwrap();
    ///     l.local_addr().unwrap().port()
    /// })?;
    /// assert_eq!(port, 80);
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn run<F, R>(&self, f: F) -> Result<R>
    where
        F: FnOnce() -> R + Send,
        R: Send,
    {
        self.ns.run(f)
    }

    /// Starts a background thread inside the node.
    ///
    /// `f` gets a [`StopToken`]; teardown sets it (in every node at once)
    /// and waits up to 2 s, for all the lab's threads together, for the
    /// thread to return. A thread still running then is left detached (it
    /// keeps its namespace alive until it returns or the process exits) and a
    /// warning names it. Once teardown has begun (a timed-out test's body
    /// still runs), no thread is started: [`Error::TornDown`].
    ///
    /// ```no_run
    /// # use netns_test::{Net, Topology};
    /// let net = Net::build(&Topology::new().node("srv"))?;
    /// let server = net["srv"].spawn(|stop| {
    ///     let sock = std::net::UdpSocket::bind("127.0.0.1:7").unwrap();
    ///     sock.set_read_timeout(Some(std::time::Duration::from_millis(50))).unwrap();
    ///     let mut buf = [0u8; 1500];
    ///     while !stop.is_stopped() {
    ///         if let Ok((n, from)) = sock.recv_from(&mut buf) {
    ///             sock.send_to(&buf[..n], from).unwrap();
    ///         }
    ///     }
    /// })?;
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn spawn<F, R>(&self, f: F) -> Result<NodeThread<R>>
    where
        F: FnOnce(StopToken) -> R + Send + 'static,
        R: Send + 'static,
    {
        // Under the lock teardown takes the threads with, after it has set
        // the flag: a thread is either refused or waited for.
        let mut threads = self.threads.lock().unwrap_or_else(|p| p.into_inner());
        self.refuse_once_torn(|| format!("a thread in node {}", self.name()))?;
        // Teardown waits only for threads still running.
        threads.retain(|(_, finished)| !finished.is_done());
        let finished = Arc::new(Finished::default());
        let marker = FinishOnDrop(Arc::clone(&finished));
        let token = StopToken(Arc::clone(&self.stop));
        let handle = self.ns.spawn(move || {
            let _marker = marker;
            f(token)
        })?;
        let name = handle.thread().name().unwrap_or("?").to_string();
        threads.push((name, Arc::clone(&finished)));
        Ok(NodeThread { handle, finished })
    }

    /// Enters the node on the calling thread until the guard drops (see
    /// [`NetNs::enter`]). Sockets created meanwhile stay in the node.
    pub fn enter(&self) -> Result<NsGuard<'_>> {
        self.ns.enter()
    }

    /// Runs `f` on the calling thread inside the node, restored afterwards.
    /// Sockets created in `f` stay in the node:
    ///
    /// ```no_run
    /// # use netns_test::{Net, Topology};
    /// # let net = Net::build(&Topology::new().node("n1"))?;
    /// let sock = net["n1"].with(|| std::net::UdpSocket::bind("127.0.0.1:0"))?.unwrap();
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn with<R>(&self, f: impl FnOnce() -> R) -> Result<R> {
        self.ns.with(f)
    }

    /// Runs a future on a current-thread tokio runtime made inside the node.
    pub fn block_on<F>(&self, fut: F) -> Result<F::Output>
    where
        F: Future + Send,
        F::Output: Send,
    {
        self.ns.block_on(fut)
    }

    /// A `std::process::Command` that runs `program` inside the node.
    ///
    /// In the child, before exec: `setns` into the node, `PR_SET_PDEATHSIG`
    /// (SIGKILL when the thread that spawned it dies) and a process group of
    /// its own. Teardown kills every process still inside the node, this
    /// one, its children and grandchildren, and any other program started
    /// in the node (a plain `std::process::Command` spawned from a thread in
    /// the node, say), and reaps those that are the test process's children
    /// and that nothing reaped meanwhile: it kills them before it waits for
    /// the threads of [`Node::spawn`], so a thread waiting for its program
    /// gets the program's status, but a `Child` waited for after teardown
    /// has been reaped already (`ECHILD`).
    /// Whatever kills the test process, they die with it too (see the
    /// README, "Guarantees").
    ///
    /// What the program sees: the node's interfaces, addresses and routes
    /// through netlink and sockets, and its `/proc/net` (which follows the
    /// process's own namespace). It shares the host's filesystem, so
    /// `/sys/class/net` still lists the host's interfaces and `/etc/hosts` is
    /// the host's: `ip netns exec` remounts `/sys`; we do not, so that
    /// nothing of ours outlives the process in the mount table.
    ///
    /// Spawn it from a thread that outlives the child (the test body does):
    /// a child spawned inside [`Node::run`] is killed when that thread ends.
    ///
    /// Once the network's teardown has begun (a timed-out test's body
    /// still running), this is [`Error::TornDown`], and a command made
    /// before fails to spawn (`ECANCELED`).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Result<std::process::Command> {
        self.refuse_once_torn(|| format!("a program in node {}", self.name()))?;
        let ns_fd = self
            .ns
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| crate::Error::Spawn {
                op: format!("dup the namespace fd of node `{}`", self.name()),
                source: e,
            })?;
        Ok(command_in(ns_fd, program, self.torn.clone()))
    }

    /// The same as [`command`](Node::command), as a `tokio::process::Command`.
    pub fn tokio_command(
        &self,
        program: impl AsRef<std::ffi::OsStr>,
    ) -> Result<tokio::process::Command> {
        Ok(tokio::process::Command::from(self.command(program)?))
    }

    /// The node's interfaces with their addresses (`ip address show`).
    pub fn links(&self) -> Result<Vec<LinkInfo>> {
        Ok(self.report()?.links)
    }

    /// The node's addresses (`ip address show`, flattened).
    pub fn addresses(&self) -> Result<Vec<AddrInfo>> {
        Ok(self.links()?.into_iter().flat_map(|l| l.addrs).collect())
    }

    /// The node's main-table routes, IPv4 then IPv6 (`ip route show`).
    pub fn routes(&self) -> Result<Vec<RouteInfo>> {
        Ok(self.report()?.routes)
    }

    /// The node's neighbour table (`ip neigh show`).
    pub fn neighbours(&self) -> Result<Vec<NeighInfo>> {
        Ok(self.report()?.neighbours)
    }

    /// Links, addresses, routes and neighbours in one netlink session.
    pub fn report(&self) -> Result<NodeReport> {
        let name = self.name().to_string();
        self.ns.run(move || report_here(&name))?
    }
}
