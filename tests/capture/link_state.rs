//! A link that goes down and up again: capture goes on afterwards, and its
//! reader sleeps between frames (the kernel marks the packet sockets of a
//! downed interface with an error that poll reports until it is read).

use std::time::Duration;

use netns_test::capture::Filter;
use netns_test::{Net, Topology};

/// CPU ticks (user + system) used so far by this process's threads named
/// like the capture's reader.
fn reader_ticks() -> u64 {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim() == "nt-capture")
        })
        .filter_map(|t| std::fs::read_to_string(t.path().join("stat")).ok())
        .map(|stat| {
            // Fields after the command name, which ends with the last `)`:
            // state is the first, utime the 12th and stime the 13th.
            let rest = &stat[stat.rfind(')').unwrap() + 2..];
            let f: Vec<&str> = rest.split(' ').collect();
            f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
        })
        .sum()
}

#[test]
#[ignore = "measures the CPU of the process's reader thread: run alone, in a child, by the test below"]
fn fixture_down_and_up_again() {
    let net = Net::build(&Topology::new().link(
        ("h1", "eth0", "198.51.100.1/24"),
        ("h2", "eth0", "198.51.100.2/24"),
    ))
    .unwrap();
    let cap = net.capture().unwrap();
    let link = net.link("h1", "h2").unwrap();
    let down = link.down().unwrap();
    std::thread::sleep(Duration::from_millis(50));
    down.restore().unwrap();
    assert!(link.is_up().unwrap());
    net["h1"].ping("198.51.100.2").count(1).run().unwrap();
    // Frames after the link came back are captured on both ends.
    cap.assert_count(&Filter::echo_request().on("h1", "eth0").outgoing(), 1);
    cap.assert_count(&Filter::echo_reply().on("h2", "eth0").outgoing(), 1);
    // And the reader sleeps: about 100 ticks a second when it spins.
    let before = reader_ticks();
    std::thread::sleep(Duration::from_secs(1));
    let used = reader_ticks() - before;
    assert!(
        used < 20,
        "the capture's reader used {used} ticks in 1 s with no traffic"
    );
    drop(net);
}

#[test]
fn capture_goes_on_after_a_link_goes_down_and_up() {
    super::run_fixture("link_state::fixture_down_and_up_again");
}
