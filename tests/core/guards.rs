//! `enter()` guards nest like scopes, whatever order they are dropped in:
//! no thread is ever left in a node, checked by namespace inode.

use netns_test::{Net, Topology};
use serial_test::serial;

use crate::common;

fn three() -> Net {
    Net::build(&Topology::new().node("n1").node("n2").node("n3")).unwrap()
}

#[test]
#[serial]
fn guards_dropped_out_of_order_bring_the_thread_home() {
    let home = common::my_netns();
    let net = three();
    let (i1, i2) = (net["n1"].netns().inode(), net["n2"].netns().inode());
    let a = net["n1"].enter().unwrap();
    assert_eq!(common::my_netns(), i1);
    let b = net["n2"].enter().unwrap();
    assert_eq!(common::my_netns(), i2);
    // The outer guard goes first: the inner one is still alive, so the
    // thread stays where the inner one put it.
    drop(a);
    assert_eq!(common::my_netns(), i2);
    drop(b);
    assert_eq!(common::my_netns(), home);
    // And n1 does not outlive the network.
    let before = common::process_netns();
    assert!(before.contains(&i1));
    drop(net);
    assert!(!common::process_netns().contains(&i1));
}

#[test]
#[serial]
fn every_drop_order_of_three_guards_ends_at_home() {
    let home = common::my_netns();
    let net = three();
    let inodes: Vec<u64> = net.nodes().iter().map(|n| n.netns().inode()).collect();
    for order in [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ] {
        let mut guards: Vec<Option<_>> = net
            .nodes()
            .iter()
            .map(|n| Some(n.enter().unwrap()))
            .collect();
        assert_eq!(common::my_netns(), inodes[2]);
        for (k, &i) in order.iter().enumerate() {
            drop(guards[i].take());
            // The thread is in the innermost live guard's node, or home.
            let live = (0..3).rev().find(|j| guards[*j].is_some());
            let expected = live.map_or(home, |j| inodes[j]);
            assert_eq!(common::my_netns(), expected, "order {order:?}, step {k}");
        }
    }
    assert_eq!(common::my_netns(), home);
}
