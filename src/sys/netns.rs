//! Owned handles to anonymous network namespaces.
//!
//! A [`NetNs`] is an `O_CLOEXEC` file descriptor to a network namespace that a
//! dedicated thread created with `unshare(CLONE_NEWNET)`. The namespace is never
//! bind-mounted and never named: it lives exactly as long as the fd and the
//! threads inside it, so dropping the handle (or the process dying, even by
//! SIGKILL) frees it and everything in it.
//!
//! Code runs inside a namespace in one of three ways:
//! - [`NetNs::run`] and [`NetNs::spawn`]: on a fresh thread that enters the
//!   namespace and ends with the closure, so it never needs restoring;
//! - [`NetNs::enter`] / [`NetNs::with`]: on the current thread, restored when the
//!   guard drops (also on unwind); a thread that cannot move back aborts
//!   the process;
//! - [`NetNs::block_on`]: a future on a current-thread tokio runtime built
//!   inside the namespace.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::File;
use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::panic::resume_unwind;
use std::sync::Mutex;
use std::thread;

use nix::sched::{setns, unshare, CloneFlags};

use crate::error::{errno, Error, Result};
use crate::sys::thread::run_scoped;

/// The file that names the calling thread's network namespace.
pub(crate) const THREAD_NETNS: &str = "/proc/thread-self/ns/net";

/// Inodes of the namespaces this process created and still holds, with a
/// count of handles (a namespace may be registered by several handles).
static OURS: Mutex<Option<HashMap<u64, usize>>> = Mutex::new(None);

fn register(inode: u64) {
    let mut ours = OURS.lock().unwrap_or_else(|p| p.into_inner());
    *ours
        .get_or_insert_with(HashMap::new)
        .entry(inode)
        .or_insert(0) += 1;
}

fn unregister(inode: u64) {
    let mut ours = OURS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(map) = ours.as_mut() {
        if let Some(n) = map.get_mut(&inode) {
            *n -= 1;
            if *n == 0 {
                map.remove(&inode);
            }
        }
    }
}

/// Whether `inode` is a namespace this process created and still holds.
pub(crate) fn is_ours(inode: u64) -> bool {
    let ours = OURS.lock().unwrap_or_else(|p| p.into_inner());
    ours.as_ref().is_some_and(|m| m.contains_key(&inode))
}

/// Every namespace this process created and still holds.
pub(crate) fn registered() -> Vec<u64> {
    let ours = OURS.lock().unwrap_or_else(|p| p.into_inner());
    ours.as_ref()
        .map(|m| m.keys().copied().collect())
        .unwrap_or_default()
}

/// The inode of the calling thread's network namespace.
pub(crate) fn current_inode() -> io::Result<u64> {
    Ok(std::fs::metadata(THREAD_NETNS)?.ino())
}

/// `NS_GET_USERNS` (`_IO(0xb7, 0x1)`): the user namespace owning a namespace.
const NS_GET_USERNS: libc::c_ulong = 0xb701;

/// Whether a thread that leaves its current network namespace could move
/// back: the process holds CAP_SYS_ADMIN in the user namespace that owns it.
///
/// False under `unshare -U` without `-n`, for instance: the network
/// namespace belongs to the machine's user namespace, over which the
/// process has no capability, so `setns` back would fail.
pub(crate) fn can_return_here() -> bool {
    open_current().is_ok_and(|ns| can_return_to(ns.as_fd()))
}

/// Whether the calling thread could `setns` back into `ns`, a namespace
/// fd of the thread's own namespace.
fn can_return_to(ns: BorrowedFd<'_>) -> bool {
    // SAFETY: an ioctl on a valid fd; on success it returns a new fd that
    // we take ownership of at once.
    let owner = unsafe { libc::ioctl(ns.as_raw_fd(), NS_GET_USERNS as _) };
    if owner < 0 {
        // EPERM: the owner is an ancestor of our user namespace.
        return false;
    }
    // SAFETY: `owner` is a fresh fd returned by the kernel, owned by no one else.
    let owner = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(owner) };
    let mine = std::fs::metadata("/proc/thread-self/ns/user").map(|m| m.ino());
    matches!((fd_inode(owner.as_fd()), mine), (Ok(a), Ok(b)) if a == b)
        && crate::sys::privilege::has_caps()
}

fn open_current() -> io::Result<OwnedFd> {
    // std opens files with O_CLOEXEC.
    Ok(File::open(THREAD_NETNS)?.into())
}

fn fd_inode(fd: BorrowedFd<'_>) -> io::Result<u64> {
    let st = nix::sys::stat::fstat(fd).map_err(errno)?;
    Ok(st.st_ino)
}

/// Moves the calling thread into the namespace of `fd`. Success means the
/// thread is there: `setns` either moves it or fails.
fn setns_net(fd: BorrowedFd<'_>) -> io::Result<()> {
    setns(fd, CloneFlags::CLONE_NEWNET).map_err(errno)
}

/// The calling thread's namespace, opened once: for a caller that asks
/// where the thread is, whether it could come back, and then enters a
/// node ([`NetNs::enter_from`]), each of which would otherwise open it again.
/// `!Send`: a guard entered from it moves back to it, so it must stay on
/// the thread it was opened on.
pub(crate) struct Here {
    fd: OwnedFd,
    inode: u64,
    _not_send: PhantomData<*const ()>,
}

impl Here {
    pub(crate) fn open() -> io::Result<Here> {
        let fd = open_current()?;
        let inode = fd_inode(fd.as_fd())?;
        Ok(Here {
            fd,
            inode,
            _not_send: PhantomData,
        })
    }

    /// The namespace's inode.
    pub(crate) fn inode(&self) -> u64 {
        self.inode
    }

    /// Whether the thread could move back here after leaving.
    pub(crate) fn can_return(&self) -> bool {
        can_return_to(self.fd.as_fd())
    }
}

/// An anonymous network namespace, held by an `O_CLOEXEC` fd.
///
/// Dropping it closes the fd; the kernel frees the namespace, with every
/// interface, address and route in it, once no thread is left inside.
#[derive(Debug)]
pub struct NetNs {
    fd: OwnedFd,
    inode: u64,
    name: String,
    /// Set by `release`: the fd no longer refers to the namespace, which is
    /// no longer registered as ours.
    released: std::sync::atomic::AtomicBool,
}

impl NetNs {
    /// Creates a fresh namespace, from a dedicated thread, with loopback up.
    ///
    /// ```no_run
    /// let ns = netns_test::NetNs::new("lab")?;
    /// let inside = ns.run(|| std::net::TcpListener::bind("127.0.0.1:80").is_ok())?;
    /// assert!(inside);
    /// # Ok::<(), netns_test::Error>(())
    /// ```
    pub fn new(name: impl Into<String>) -> Result<Self> {
        let name = name.into();
        run_scoped(
            format!("netns-new-{name}"),
            "a namespace-creating thread",
            || {
                let ns = NetNs::unshare_current(name.clone())?;
                crate::sys::netlink::sync::RouteSocket::open_here(&name)?
                    .set_link_up(1, "lo", true)?;
                Ok(ns)
            },
        )
    }

    /// Moves the *calling* thread into a fresh namespace and returns a handle to it.
    ///
    /// Only for dedicated threads that end without running user code outside
    /// the namespace: the thread is not moved back.
    pub(crate) fn unshare_current(name: String) -> Result<Self> {
        crate::sys::privilege::ensure_constructor_linked();
        unshare(CloneFlags::CLONE_NEWNET).map_err(|e| match e {
            nix::errno::Errno::EPERM => Error::Privileges {
                source: errno(e),
                fix: crate::sys::privilege::unsupported_reason().unwrap_or_default(),
            },
            _ => Error::namespace(format!("node `{name}`: unshare(CLONE_NEWNET)"), errno(e)),
        })?;
        let fd = open_current().map_err(|e| {
            Error::namespace(format!("node `{name}`: open /proc/thread-self/ns/net"), e)
        })?;
        let inode = fd_inode(fd.as_fd())
            .map_err(|e| Error::namespace(format!("node `{name}`: fstat namespace fd"), e))?;
        register(inode);
        Ok(NetNs {
            fd,
            inode,
            name,
            released: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// The name given at creation (a node name, in a topology).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The namespace's inode: what `readlink /proc/PID/ns/net` shows as `net:[INODE]`.
    pub fn inode(&self) -> u64 {
        self.inode
    }

    /// Runs `f` on a dedicated thread inside the namespace and returns its value.
    ///
    /// A panic in `f` is resumed on the calling thread with its original
    /// payload, so the test fails with the original message. `f` may borrow.
    pub fn run<F, R>(&self, f: F) -> Result<R>
    where
        F: FnOnce() -> R + Send,
        R: Send,
    {
        run_scoped(
            format!("netns-{}", self.name),
            &format!("a thread in node `{}`", self.name),
            move || {
                self.enter_for_good()?;
                Ok(f())
            },
        )
    }

    /// Makes the handle stop holding the namespace, keeping the fd number
    /// owned and open: it is atomically (`dup3`) pointed at `/dev/null`.
    ///
    /// For a timed-out test whose body thread still borrows the network: the
    /// kernel frees the namespace as soon as nothing else holds it, and the
    /// handle can no longer enter it (`setns` fails with `EINVAL`), while no
    /// fd is ever closed twice.
    pub(crate) fn release(&self) -> std::io::Result<()> {
        let null = File::options().read(true).open("/dev/null")?;
        // SAFETY: both fds are open and owned (`self.fd` by this handle,
        // which the caller borrows); dup3 only changes what `self.fd` refers to.
        let r = unsafe { libc::dup3(null.as_raw_fd(), self.fd.as_raw_fd(), libc::O_CLOEXEC) };
        if r < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // The kernel may give the inode to a namespace we did not make once
        // this one is freed: it must not pass `is_ours` then.
        if !self
            .released
            .swap(true, std::sync::atomic::Ordering::AcqRel)
        {
            unregister(self.inode);
        }
        Ok(())
    }

    /// Moves the calling thread into the namespace, with no guard to move
    /// it back: for a thread that ends there, or whose caller restores it
    /// (a `ThreadHome`).
    pub(crate) fn enter_for_good(&self) -> Result<()> {
        setns_net(self.fd.as_fd())
            .map_err(|e| Error::namespace(format!("setns into node `{}`", self.name), e))
    }

    /// Starts a background thread inside the namespace.
    ///
    /// The thread holds the namespace alive while it runs. Prefer
    /// [`Node::spawn`](crate::Node::spawn), which the live network stops and
    /// joins at teardown.
    pub fn spawn<F, R>(&self, f: F) -> Result<thread::JoinHandle<R>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let fd = self
            .fd
            .try_clone()
            .map_err(|e| Error::namespace("dup namespace fd", e))?;
        let name = self.name.clone();
        let (tx, rx) = std::sync::mpsc::sync_channel::<io::Result<()>>(1);
        let handle = thread::Builder::new()
            .name(crate::sys::thread::thread_name(format!("netns-{name}")))
            .spawn(move || {
                let entered = setns_net(fd.as_fd());
                drop(fd);
                let ok = entered.is_ok();
                let _ = tx.send(entered);
                if !ok {
                    // Never run user code in the wrong namespace.
                    resume_unwind(Box::new("setns failed"));
                }
                f()
            })
            .map_err(|e| Error::Spawn {
                op: format!("spawn a thread in node `{}`", self.name),
                source: e,
            })?;
        match rx.recv() {
            Ok(Ok(())) => Ok(handle),
            Ok(Err(e)) => {
                let _ = handle.join();
                Err(Error::namespace(
                    format!("setns into node `{}`", self.name),
                    e,
                ))
            }
            Err(_) => Err(Error::namespace(
                format!("setns into node `{}`", self.name),
                io::Error::other("thread ended before entering"),
            )),
        }
    }

    /// Enters the namespace on the calling thread until the guard drops.
    ///
    /// The guard restores the thread's previous namespace on drop, also during
    /// unwinding. A thread that cannot be restored would run later code in
    /// the wrong namespace, so the process is aborted instead. The guard is
    /// `!Send`: it cannot cross an `.await` on a multi-threaded runtime.
    pub fn enter(&self) -> Result<NsGuard<'_>> {
        let here =
            Here::open().map_err(|e| Error::namespace("open /proc/thread-self/ns/net", e))?;
        self.enter_from(here)
    }

    /// [`NetNs::enter`] from `here`, the calling thread's namespace opened
    /// already.
    pub(crate) fn enter_from(&self, here: Here) -> Result<NsGuard<'_>> {
        let Here {
            fd: prev,
            inode: prev_inode,
            ..
        } = here;
        if let Err(e) = setns_net(self.fd.as_fd()) {
            // Put the thread back where it was before reporting.
            restore_or_abort(prev.as_fd(), prev_inode);
            return Err(Error::namespace(
                format!("setns into node `{}`", self.name),
                e,
            ));
        }
        let id = GUARDS.with(|g| {
            let mut g = g.borrow_mut();
            g.next_id += 1;
            let id = g.next_id;
            g.stack.push(Entered {
                id,
                prev,
                prev_inode,
                dropped: false,
            });
            id
        });
        Ok(NsGuard {
            id,
            _ns: PhantomData,
            _not_send: PhantomData,
        })
    }

    /// Runs `f` on the calling thread inside the namespace, restored afterwards.
    ///
    /// Use it to create sockets in a node: a socket keeps the namespace it was
    /// created in, so one thread can drive sockets of many nodes.
    ///
    /// ```no_run
    /// let ns = netns_test::NetNs::new("lab")?;
    /// let listener = ns.with(|| std::net::TcpListener::bind("127.0.0.1:0"))??;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with<R>(&self, f: impl FnOnce() -> R) -> Result<R> {
        let _guard = self.enter()?;
        Ok(f())
    }

    /// Runs a future to completion on a current-thread tokio runtime built on
    /// a dedicated thread inside the namespace.
    pub fn block_on<F>(&self, fut: F) -> Result<F::Output>
    where
        F: Future + Send,
        F::Output: Send,
    {
        self.run(move || Ok(crate::sys::runtime::current_thread()?.block_on(fut)))?
    }
}

impl AsFd for NetNs {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for NetNs {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        if !*self.released.get_mut() {
            unregister(self.inode);
        }
    }
}

fn restore_or_abort(prev: BorrowedFd<'_>, prev_inode: u64) {
    let Err(e) = setns_net(prev) else {
        return;
    };
    // A thread that never left (a build refused at its first unshare) may
    // lack the right to `setns` into the namespace it is in.
    if current_inode().ok() == Some(prev_inode) {
        return;
    }
    eprintln!(
        "netns-test: FATAL: cannot move thread {:?} back to its namespace {prev_inode}: {e}; \
         aborting so no code runs in the wrong namespace",
        thread::current().name()
    );
    std::process::abort();
}

/// Remembers the calling thread's namespace and moves the thread back there
/// on drop (also during unwinding), for code that unshares on the caller's
/// thread. Aborts if the thread cannot be moved back.
pub(crate) struct ThreadHome {
    prev: OwnedFd,
    prev_inode: u64,
    _not_send: PhantomData<*const ()>,
}

impl ThreadHome {
    /// Remembers the calling thread's namespace, if the thread could move
    /// back to it (see [`can_return_here`]); `None` otherwise.
    pub(crate) fn save_if_returnable() -> Option<Self> {
        let here = Here::open().ok().filter(Here::can_return)?;
        Some(ThreadHome {
            prev: here.fd,
            prev_inode: here.inode,
            _not_send: PhantomData,
        })
    }
}

impl Drop for ThreadHome {
    fn drop(&mut self) {
        restore_or_abort(self.prev.as_fd(), self.prev_inode);
    }
}

/// Keeps the calling thread inside a namespace; restores the previous one on drop.
///
/// Made by [`NetNs::enter`].
#[must_use = "the thread leaves the namespace when the guard drops"]
pub struct NsGuard<'a> {
    id: u64,
    _ns: PhantomData<&'a NetNs>,
    _not_send: PhantomData<*const ()>,
}

/// One live [`NsGuard`] of this thread: where the thread was before it.
struct Entered {
    id: u64,
    prev: OwnedFd,
    prev_inode: u64,
    /// Its guard was dropped while a later guard was still alive.
    dropped: bool,
}

/// The live guards of one thread, innermost last.
#[derive(Default)]
struct Guards {
    next_id: u64,
    stack: Vec<Entered>,
}

thread_local! {
    static GUARDS: RefCell<Guards> = RefCell::default();
}

impl std::fmt::Debug for NsGuard<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NsGuard").field("id", &self.id).finish()
    }
}

impl Drop for NsGuard<'_> {
    /// Guards nest like scopes: the thread is in the namespace of its
    /// innermost live guard. Dropping the innermost one moves the thread
    /// back to where it was before the innermost guard still alive after it
    /// (or before the first, when none is); dropping an outer one first only
    /// marks it, and the thread moves when the guards inside it go too.
    fn drop(&mut self) {
        let restore = GUARDS.with(|g| {
            let mut g = g.borrow_mut();
            if let Some(e) = g.stack.iter_mut().find(|e| e.id == self.id) {
                e.dropped = true;
            }
            let mut target = None;
            while g.stack.last().is_some_and(|e| e.dropped) {
                target = g.stack.pop();
            }
            target
        });
        if let Some(e) = restore {
            restore_or_abort(e.prev.as_fd(), e.prev_inode);
        }
    }
}
