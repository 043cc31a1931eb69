//! Teardown: the one path that takes a network down, used by `Drop` and by
//! a test runner whose body overran its time limit.
//!
//! Every teardown sets every node's [`StopToken`](crate::StopToken), kills
//! every process inside one of the lab's namespaces, however and by whom it
//! was started (so that a thread waiting for its program returns), then
//! gives the threads started with [`Node::spawn`](crate::Node::spawn), all
//! of them together, [`THREAD_GRACE`] to return, kills again what they
//! started meanwhile, and reaps the killed children of the test process
//! that nothing has reaped (a thread may have waited for its program). The
//! wires' relay thread stops (it too gets [`THREAD_GRACE`], then is left
//! behind) and its descriptors close, which frees the wire hub. Every active fault ends (a
//! flapping link's thread stops), and the fault book refuses new link
//! faults from then on; one being made meanwhile is undone. From the start
//! of a teardown, route and firewall changes and [`Node::spawn`] are
//! refused with [`Error::TornDown`](crate::Error::TornDown);
//! once the nodes' netlink and nftables sockets are closed, none is opened
//! again.
//!
//! A network still borrowed by a running thread (the body of a timed-out
//! test) cannot simply be dropped. [`Teardown::Release`] then also deletes
//! every interface but `lo` in every node (veths and bridges, and with them
//! addresses, routes and neighbours), and makes each namespace descriptor
//! stop referring to its namespace, so the kernel frees a namespace as soon
//! as nothing else holds it. The thread can no longer enter a node after
//! that: `Node::with`, `Node::run` and commands return errors instead of
//! running elsewhere.

use std::time::{Duration, Instant};

use super::net::Net;
use super::node::Node;
use crate::sys::netlink::delete_all_links_here;
use crate::sys::process::{kill_inside, reap};

/// How long teardown waits for threads started by [`Node::spawn`] to notice
/// their stop token before leaving them behind.
pub(crate) const THREAD_GRACE: Duration = Duration::from_secs(2);

/// How far a teardown goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Teardown {
    /// Stop threads and children; the namespaces go when the `Net` drops.
    Drop,
    /// Also empty every node and let go of its namespace now: the `Net` is
    /// still borrowed by a thread that cannot be stopped.
    Release,
}

impl Net {
    /// Takes the network down; only the first call does anything. Returns a
    /// summary of what a [`Teardown::Release`] did.
    pub(crate) fn tear_down(&self, how: Teardown) -> String {
        // Before any look for processes inside a node: a child forked
        // meanwhile either is found there or sees the flag once inside.
        if self.torn.set() {
            // Faults recorded since by a thread still borrowing the network
            // (those the book records without refusing): undone now.
            let _ = self.faults.end_all(self);
            return "already torn down".into();
        }
        // Attachments first: a capture's reader thread stops and its
        // sockets close (they hold their namespaces).
        self.attachments.tear_down_all();
        // The wires' relay stops; its ports, its epoll set and the hub
        // namespace close now, even while the `Net` is still borrowed. It
        // goes before the faults: a relay thread stuck in a rule may hold
        // a direction's lock, which ending a wire fault then skips.
        if let Some(relay) = &self.relay {
            relay.stop();
        }
        // Then faults: a flap's thread stops, links come back (the rules of
        // a partition go with their namespaces anyway; held frames are
        // dropped with the relay). The book refuses new link faults from
        // now on, and undoes one that was being made meanwhile.
        let _ = self.faults.close(self);
        for node in self.nodes() {
            // A netlink socket holds its namespace: let it go, and refuse
            // to open another.
            node.route_socket
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .close();
            node.nft.lock().unwrap_or_else(|p| p.into_inner()).close();
        }
        // Threads are told to stop, and the programs they may be waiting
        // for are killed before they get their grace.
        for node in self.nodes() {
            node.stop.store(true, std::sync::atomic::Ordering::Release);
        }
        let inodes: Vec<u64> = self.nodes().iter().map(|n| n.ns.inode()).collect();
        let mut killed = kill_inside(&inodes);
        let detached = wait_for_threads(self.nodes());
        for thread in &detached {
            eprintln!(
                "netns-test: {thread} ignored its StopToken; leaving it detached \
                 (it keeps the namespace alive until it returns)"
            );
        }
        // What a thread started before it returned.
        killed.extend(kill_inside(&inodes));
        // Then the killed children nothing has reaped meanwhile (a thread
        // may have waited for its program before it returned).
        reap(&killed);
        if how == Teardown::Drop {
            let mut summary = String::from("threads stopped, children killed");
            if !detached.is_empty() {
                summary.push_str("; left detached: ");
                summary.push_str(&detached.join(", "));
            }
            return summary;
        }
        let mut deleted = 0;
        let mut problems = Vec::new();
        for node in self.nodes() {
            match node.run(|| delete_all_links_here(node.name())) {
                Ok(Ok(n)) => deleted += n,
                Ok(Err(e)) | Err(e) => problems.push(format!("node `{}`: {e}", node.name())),
            }
        }
        for node in self.nodes() {
            if let Err(e) = node.ns.release() {
                problems.push(format!(
                    "node `{}`: cannot close its namespace fd: {e}",
                    node.name()
                ));
            }
        }
        let mut summary = format!(
            "{deleted} interface(s) deleted in {} node(s), namespace fds closed",
            self.nodes().len()
        );
        if !problems.is_empty() {
            summary.push_str("; problems: ");
            summary.push_str(&problems.join("; "));
        }
        summary
    }
}

/// Waits for the threads of every node, whose stop tokens are set (up to
/// [`THREAD_GRACE`] for all of them together), in reverse creation order.
/// Returns those still running then, as "thread `NAME` of node `NODE`".
fn wait_for_threads(nodes: &[Node]) -> Vec<String> {
    let deadline = Instant::now() + THREAD_GRACE;
    let mut detached = Vec::new();
    for node in nodes.iter().rev() {
        let threads = std::mem::take(&mut *node.threads.lock().unwrap_or_else(|p| p.into_inner()));
        for (name, finished) in threads {
            if !finished.wait_until(deadline) {
                detached.push(format!("thread `{name}` of node `{}`", node.name()));
            }
        }
    }
    detached
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::fault::FaultError;

    use crate::lab::test_pair as pair;

    #[test]
    fn every_node_is_told_to_stop_before_any_grace_runs_out() {
        // Three nodes, each with a thread that notes when it sees its stop
        // token, then ignores it for longer than the grace.
        let net = Net::build(&crate::Topology::new().node("a").node("b").node("c")).unwrap();
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        for node in net.nodes() {
            let seen = Arc::clone(&seen);
            node.spawn(move |stop| {
                while !stop.is_stopped() {
                    std::thread::sleep(Duration::from_millis(1));
                }
                seen.lock().unwrap().push(Instant::now());
                std::thread::sleep(THREAD_GRACE + Duration::from_secs(1));
            })
            .unwrap();
        }
        let began = Instant::now();
        net.tear_down(Teardown::Drop);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 3, "not every thread saw its stop token");
        let late: Vec<_> = seen
            .iter()
            .map(|t| t.duration_since(began))
            .filter(|d| *d >= THREAD_GRACE)
            .collect();
        assert!(
            late.is_empty(),
            "stop tokens seen only after the first node's grace of {THREAD_GRACE:?}: {late:?}"
        );
    }

    #[test]
    fn a_thread_waiting_for_its_program_sees_it_killed_and_is_not_left_behind() {
        use std::os::unix::process::ExitStatusExt;
        let net = pair();
        let mut cmd = net["n1"].command("sleep").unwrap();
        cmd.arg("600");
        let (started, running) = std::sync::mpsc::channel();
        let waiter = net["n1"]
            .spawn(move |_| {
                let mut child = cmd.spawn().unwrap();
                started.send(()).unwrap();
                child.wait()
            })
            .unwrap();
        running.recv().unwrap();
        let summary = net.tear_down(Teardown::Drop);
        assert_eq!(summary, "threads stopped, children killed");
        let status = waiter.join().expect("the thread's wait for its program");
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{status}");
    }

    #[test]
    fn a_thread_that_waits_for_its_program_once_stopped_reads_how_it_ended() {
        use std::os::unix::process::ExitStatusExt;
        let net = pair();
        let mut cmd = net["n1"].command("sleep").unwrap();
        cmd.arg("600");
        let (started, running) = std::sync::mpsc::channel();
        let waiter = net["n1"]
            .spawn(move |stop| {
                let mut child = cmd.spawn().unwrap();
                started.send(()).unwrap();
                while !stop.is_stopped() {
                    std::thread::sleep(Duration::from_millis(1));
                }
                // Until teardown has killed it (it is a zombie, or gone if
                // teardown reaped it).
                let stat = format!("/proc/{}/stat", child.id());
                while std::fs::read_to_string(&stat)
                    .is_ok_and(|s| !s.rsplit_once(") ").unwrap().1.starts_with('Z'))
                {
                    std::thread::sleep(Duration::from_millis(1));
                }
                child.wait()
            })
            .unwrap();
        running.recv().unwrap();
        net.tear_down(Teardown::Drop);
        let status = waiter.join().expect("the thread's wait for its program");
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{status}");
    }

    /// The netlink and nftables sockets the nodes of `net` hold open.
    fn open_sockets(net: &Net) -> usize {
        use crate::lab::node::Lazy;
        net.nodes()
            .iter()
            .map(|n| {
                usize::from(matches!(*n.route_socket.lock().unwrap(), Lazy::Open(_)))
                    + usize::from(matches!(*n.nft.lock().unwrap(), Lazy::Open(_)))
            })
            .sum()
    }

    #[test]
    fn routes_firewalls_and_threads_are_refused_once_the_lab_is_torn_down() {
        // A `Drop` teardown stops where a `Release` one goes on to empty the
        // nodes: the state a timed-out body sees in between.
        let net = pair();
        let mut made_before = net["n1"].command("true").unwrap();
        net.tear_down(Teardown::Drop);
        let spawned = made_before.spawn().map(drop).unwrap_err();
        assert_eq!(spawned.raw_os_error(), Some(libc::ECANCELED), "{spawned}");
        let torn = |e: &crate::Error| matches!(e, crate::Error::TornDown { .. });
        let n1 = &net["n1"];
        let e = n1
            .add_route(crate::Route::to("203.0.113.0/24").via("198.51.100.2"))
            .unwrap_err();
        assert!(torn(&e), "{e}");
        let firewall =
            crate::firewall::Firewall::new().input(crate::firewall::Filter::drop().tcp());
        let e = n1.set_firewall(firewall).map(drop).unwrap_err();
        assert!(torn(&e), "{e}");
        let e = n1.ruleset().unwrap_err();
        assert!(torn(&e), "{e}");
        let e = n1.spawn(|_| ()).map(drop).unwrap_err();
        assert!(torn(&e), "{e}");
        let e = n1.command("true").map(drop).unwrap_err();
        assert!(torn(&e), "{e}");
        // Nothing was opened or registered that would hold the namespace.
        for node in net.nodes() {
            assert!(node.threads.lock().unwrap().is_empty());
        }
        assert_eq!(open_sockets(&net), 0);
    }

    #[test]
    fn link_faults_and_partitions_are_refused_once_the_lab_is_torn_down() {
        let net = pair();
        net.tear_down(Teardown::Drop);
        let link = net.link("n1", "n2").unwrap();
        let e = link.down().map(drop).unwrap_err();
        let expected = FaultError::TornDown {
            fault: "link n1/eth0 -- n2/eth0 down".into(),
        };
        assert_eq!(FaultError::find(&e), Some(&expected), "{e}");
        let tick = Duration::from_millis(10);
        let e = link.flap(tick, tick).map(drop).unwrap_err();
        assert!(
            matches!(FaultError::find(&e), Some(FaultError::TornDown { .. })),
            "{e}"
        );
        // The link is as it was (read without the nodes' sockets, which
        // teardown closed for good).
        for node in ["n1", "n2"] {
            let links = net[node].links().unwrap();
            assert!(links.iter().any(|l| l.name == "eth0" && l.up), "{links:?}");
        }
        assert_eq!(link.state_changes(), 0);
        let e = net.partition("n1", "n2").map(drop).unwrap_err();
        let expected = FaultError::TornDown {
            fault: "partition {n1} | {n2}".into(),
        };
        assert_eq!(FaultError::find(&e), Some(&expected), "{e}");
        assert!(net.active_faults().is_empty());
    }

    #[test]
    fn a_fault_being_made_as_the_lab_is_torn_down_is_undone() {
        let net = pair();
        let reserved = net
            .faults
            .reserve(Some("test".into()), "a test fault".into())
            .unwrap();
        net.tear_down(Teardown::Drop);
        let undone = Arc::new(AtomicBool::new(false));
        let flag = undone.clone();
        let e = net
            .faults
            .commit(
                &net,
                reserved,
                Box::new(|_, _| String::new()),
                Box::new(move |_| {
                    flag.store(true, Ordering::SeqCst);
                    Ok(())
                }),
            )
            .unwrap_err();
        let expected = FaultError::TornDown {
            fault: "a test fault".into(),
        };
        assert_eq!(FaultError::find(&e), Some(&expected), "{e}");
        assert!(undone.load(Ordering::SeqCst), "the fault was not undone");
        assert!(net.active_faults().is_empty());
    }
}
