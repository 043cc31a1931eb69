//! Netlink in process: rtnetlink connections bound to one namespace for the
//! introspection's dumps ([`Conn`]), blocking route sockets for the build
//! and for changes while a test runs ([`sync::RouteSocket`]), conntrack and
//! nftables.
//!
//! A netlink socket belongs to the namespace of the thread that created it, so
//! [`Conn::open_here`] and [`sync::RouteSocket::open_here`] must be called
//! on a thread inside the node. Once open, either can be used from any
//! thread, which lets one thread configure many namespaces.

use std::io;

use rtnetlink::Handle;

use crate::error::{Error, Result};

/// One rtnetlink connection inside one node's namespace.
pub(crate) struct Conn {
    handle: Handle,
    task: tokio::task::JoinHandle<()>,
    node: String,
}

fn to_io(e: rtnetlink::Error) -> io::Error {
    match e {
        rtnetlink::Error::NetlinkError(msg) => msg.to_io(),
        other => io::Error::other(other.to_string()),
    }
}

impl Conn {
    /// Opens a connection in the calling thread's namespace and spawns its task
    /// on the current tokio runtime.
    pub(crate) fn open_here(node: &str) -> Result<Conn> {
        let (conn, handle, _) = rtnetlink::new_connection().map_err(|e| Error::Netlink {
            node: node.to_string(),
            op: "open a NETLINK_ROUTE socket".into(),
            source: e,
        })?;
        let task = tokio::spawn(conn);
        Ok(Conn {
            handle,
            task,
            node: node.to_string(),
        })
    }

    fn err(&self, op: impl Into<String>) -> impl FnOnce(rtnetlink::Error) -> Error + '_ {
        let op = op.into();
        move |e| Error::Netlink {
            node: self.node.clone(),
            op,
            source: to_io(e),
        }
    }

    /// Drops the handle and waits for the connection task, so the socket is
    /// closed when this returns.
    pub(crate) async fn close(self) {
        drop(self.handle);
        self.task.abort();
        let _ = self.task.await;
    }
}

/// Runs `f` with a fresh connection in the calling thread's namespace, on a
/// current-thread runtime made for it.
pub(crate) fn with_conn_here<R>(
    node: &str,
    f: impl for<'a> FnOnce(&'a Conn) -> futures::future::BoxFuture<'a, Result<R>>,
) -> Result<R> {
    crate::sys::runtime::current_thread()?.block_on(async {
        let conn = Conn::open_here(node)?;
        let out = f(&conn).await;
        conn.close().await;
        out
    })
}

mod build_requests;
pub(crate) mod conntrack;
pub(crate) mod dump;
mod ipv6_ready;
mod link;
pub(crate) mod nft;
pub(crate) mod route;
pub(crate) mod sync;

pub(crate) use build_requests::VethEnd;
pub(crate) use link::delete_all_links_here;
pub(crate) use sync::sync_link_up;
