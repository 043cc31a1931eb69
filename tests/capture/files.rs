//! The pcapng file of a test with capture on: kept and named in the
//! failure output when the test fails, read back by our reader and by
//! `tcpdump -r` (an oracle, when installed), absent when the test passes.

use std::path::{Path, PathBuf};
use std::process::Command;

use netns_test::capture::{read_pcapng, Direction, Filter};

/// Runs fixture `test` of this binary in a child whose target directory
/// is `target`; returns its exit code and output.
fn run_child(test: &str, target: &Path, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", test, "--include-ignored", "--nocapture"])
        .env("CARGO_TARGET_DIR", target)
        .env_remove("NETNS_TEST_CAPTURE")
        .env_remove("FIXTURE_FAIL")
        .env_remove("FIXTURE_CAPTURE_IN_BODY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = crate::common::output_text(&out);
    (out.status.code(), text)
}

fn file_of(target: &Path, test: &str) -> PathBuf {
    target
        .join("netns-test")
        .join("capture")
        .join(test)
        .join("capture.pcapng")
}

/// A failed `assert_reachable!` lists the packets of the nodes involved and
/// the path of the kept file; the file holds every hop, named `node/iface`.
#[test]
fn failed_assertion_prints_packets_and_keeps_the_file() {
    let target = tempfile::tempdir().unwrap();
    let (code, text) = run_child("fixture_unreachable", target.path(), &[]);
    assert_eq!(code, Some(101), "{text}");
    for needle in [
        "assert_reachable! failed: h1 => 203.0.113.1 (node h2): 0 of 3 echo requests answered",
        "packets on h1/eth0, h2/eth0 (capture):",
        " h1/eth0 Out IP 198.51.100.1 > 203.0.113.1: ICMP echo request, id ",
        " h2/eth0 In IP 198.51.100.1 > 203.0.113.1: ICMP echo request, id ",
        "netns-test: capture of failed test `fixture_unreachable`: ",
        "tcpdump -nr ",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    let path = file_of(target.path(), "fixture_unreachable");
    assert!(text.contains(&path.display().to_string()), "{text}");

    let packets = read_pcapng(&path).unwrap();
    let requests: Vec<_> = packets
        .iter()
        .filter(|p| Filter::echo_request().matches(p))
        .collect();
    // 3 requests, each seen on h1/eth0, r1/eth0, r1/eth1 and h2/eth0.
    assert_eq!(requests.len(), 12, "{packets:#?}");
    let mut places: Vec<String> = requests.iter().map(|p| p.place()).collect();
    places.sort();
    places.dedup();
    assert_eq!(places, ["h1/eth0", "h2/eth0", "r1/eth0", "r1/eth1"]);
    assert!(requests
        .iter()
        .any(|p| p.place() == "r1/eth1" && p.direction == Direction::Out));
    assert!(
        packets.windows(2).all(|w| w[0].time <= w[1].time),
        "time order"
    );
    assert_eq!(
        packets
            .iter()
            .filter(|p| Filter::echo_reply().matches(p))
            .count(),
        0
    );
    tcpdump_reads(&path, &packets);
}

/// `tcpdump -r` as an oracle: it reads the file as Ethernet, sees the 12
/// echo requests, at the times our reader gives (to the microsecond, UTC).
/// tcpdump 4.99 does not print pcapng interface names; those are checked
/// with our reader above. Skipped, with a note, without tcpdump.
fn tcpdump_reads(path: &Path, ours: &[netns_test::capture::Packet]) {
    let tcpdump = |prefix: &[&str]| {
        let mut argv: Vec<&std::ffi::OsStr> = prefix.iter().map(|a| a.as_ref()).collect();
        argv.extend(["tcpdump", "-n", "-r"].map(std::ffi::OsStr::new));
        argv.push(path.as_os_str());
        Command::new(argv[0])
            .args(&argv[1..])
            .env("TZ", "UTC")
            .output()
    };
    let out = match tcpdump(&[]) {
        // Debian's tcpdump, run as uid 0, drops to user `tcpdump`, which a
        // rootless run (uid 0 of a user namespace) may not: run it from a
        // nested user namespace, where it is nobody and does not try.
        Ok(out) if String::from_utf8_lossy(&out.stderr).contains("Couldn't change to") => {
            tcpdump(&["unshare", "--user"]).unwrap()
        }
        Ok(out) => out,
        Err(e) => {
            eprintln!(
                "note: skipping the tcpdump check: cannot run tcpdump ({e}); \
                 install it (apt-get install tcpdump) to run it"
            );
            return;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tcpdump failed: {err}");
    assert!(err.contains("link-type EN10MB (Ethernet)"), "{err}");
    let theirs: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(" IP 198.51.100.1 > 203.0.113.1: ICMP echo request, id "))
        .collect();
    assert_eq!(theirs.len(), 12, "{text}");
    assert_eq!(text.lines().count(), ours.len(), "{text}");
    let ours: Vec<String> = ours
        .iter()
        .filter(|p| Filter::echo_request().matches(p))
        .map(|p| p.to_string())
        .collect();
    for (t, o) in theirs.iter().zip(&ours) {
        // `12:00:00.000123 IP ...` and `12:00:00.000123 h1/eth0 Out IP ...`
        assert_eq!(t.split(' ').next(), o.split(' ').next(), "{t}\n{o}");
        let (_, t_rest) = t.split_once(" IP ").unwrap();
        let (_, o_rest) = o.split_once(" IP ").unwrap();
        assert_eq!(t_rest, o_rest, "tcpdump and our line differ");
    }
}

/// A passing test leaves no file, and removes the one a failing run left.
#[test]
fn passing_test_leaves_no_file() {
    let target = tempfile::tempdir().unwrap();
    let path = file_of(target.path(), "fixture_pass");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"left by an earlier failing run").unwrap();
    let (code, text) = run_child("fixture_pass", target.path(), &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(!path.exists(), "{text}");
    assert!(!path.parent().unwrap().exists());
    assert!(!text.contains("capture.pcapng"), "{text}");
}

/// NETNS_TEST_CAPTURE=keep keeps the file of a passing test, with no
/// attribute; =1 captures a test without the attribute and keeps only
/// failures.
#[test]
fn environment_turns_capture_on() {
    let target = tempfile::tempdir().unwrap();
    let path = file_of(target.path(), "fixture_plain");
    let (code, text) = run_child(
        "fixture_plain",
        target.path(),
        &[("NETNS_TEST_CAPTURE", "keep")],
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("(NETNS_TEST_CAPTURE=keep)"), "{text}");
    let packets = read_pcapng(&path).unwrap();
    assert_eq!(
        packets
            .iter()
            .filter(|p| Filter::echo_reply().on("h1", "eth0").matches(p))
            .count(),
        2
    );

    let (code, text) = run_child(
        "fixture_plain",
        target.path(),
        &[("NETNS_TEST_CAPTURE", "1")],
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(!path.exists(), "a pass removes the file:\n{text}");

    let (code, text) = run_child(
        "fixture_plain",
        target.path(),
        &[("NETNS_TEST_CAPTURE", "1"), ("FIXTURE_FAIL", "1")],
    );
    assert_eq!(code, Some(101), "{text}");
    assert!(
        text.contains("netns-test: capture of failed test `fixture_plain`"),
        "{text}"
    );
    assert!(path.exists());

    // Off: no capture, and the file stays as it was.
    let (code, text) = run_child("fixture_plain", target.path(), &[("FIXTURE_FAIL", "1")]);
    assert_eq!(code, Some(101), "{text}");
    assert!(!text.contains("netns-test: capture of"), "{text}");
}

/// Capture turned on in the body counts too: the failed test's file holds
/// what the body captured.
#[test]
fn capture_from_the_body_is_kept_on_failure() {
    let target = tempfile::tempdir().unwrap();
    let (code, text) = run_child(
        "fixture_plain",
        target.path(),
        &[("FIXTURE_FAIL", "1"), ("FIXTURE_CAPTURE_IN_BODY", "1")],
    );
    assert_eq!(code, Some(101), "{text}");
    let packets = read_pcapng(file_of(target.path(), "fixture_plain")).unwrap();
    assert!(!packets.is_empty());
    assert!(
        packets.iter().all(|p| p.place() == "h2/eth0"),
        "{packets:#?}"
    );
    assert_eq!(
        packets
            .iter()
            .filter(|p| Filter::echo_request().matches(p))
            .count(),
        2
    );
}
