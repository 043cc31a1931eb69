//! `NETNS_TEST_DUMP` prints a failed test's network; `NETNS_TEST_KEEP`
//! keeps it mounted for `ip netns exec` / `nsenter` after the process exits.
//! This binary re-runs one of its own tests, failing on purpose, in a child.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::Command;

use netns_test::privilege::{self, Privilege};
use netns_test::{netns_test, Topology};

fn two_hosts() -> Topology {
    Topology::new().link(
        ("n1", "n1-veth0", "198.51.100.1/24"),
        ("n2", "n2-veth0", "198.51.100.2/24"),
    )
}

#[netns_test(topology = two_hosts)]
#[ignore = "fails on purpose; the tests below run it in a child"]
fn fails_on_purpose() {
    panic!("failing on purpose");
}

/// Runs `fails_on_purpose` in a child with `NETNS_TEST_KEEP=dir` (and the
/// dump); returns its exit code and its output.
fn fail_and_keep(dir: &Path) -> (Option<i32>, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "fails_on_purpose",
            "--include-ignored",
            "--nocapture",
        ])
        .env("NETNS_TEST_KEEP", dir)
        .env("NETNS_TEST_DUMP", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// Unmounts and removes a kept namespace file.
fn remove_kept(path: &Path) {
    nix::mount::umount2(path, nix::mount::MntFlags::MNT_DETACH).unwrap();
    std::fs::remove_file(path).unwrap();
}

#[test]
fn kept_after_failure() {
    let dir = tempfile::tempdir().unwrap();
    let (code, text) = fail_and_keep(dir.path());
    assert_eq!(code, Some(101), "{text}");
    // The dump: both nodes, with their addresses and routes.
    for needle in [
        "the network of failed test `fails_on_purpose`",
        "node n1:",
        "node n2:",
        "inet 198.51.100.2/24",
        "$ ip route show",
        "198.51.100.0/24 dev n1-veth0",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    if privilege::detect() != Privilege::Root {
        // A rootless process may not mount on the host: it says so.
        assert!(
            text.contains("cannot keep the network") && text.contains("keeping needs root"),
            "{text}"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        return;
    }
    assert!(
        text.contains("kept the network of failed test `fails_on_purpose`"),
        "{text}"
    );
    // The child is gone, yet its namespaces live on, interfaces and all.
    for (node, ifname) in [("n1", "n1-veth0"), ("n2", "n2-veth0")] {
        let path = dir.path().join(format!("nt-fails_on_purpose-{node}"));
        let file = std::fs::File::open(&path)
            .unwrap_or_else(|e| panic!("{}: {e}\n{text}", path.display()));
        let links = std::thread::scope(|s| {
            s.spawn(|| {
                nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
                netns_test::inspect::current_report(node).unwrap().links
            })
            .join()
            .unwrap()
        });
        assert!(
            links.iter().any(|l| l.name == ifname && l.up),
            "{node}: {links:?}"
        );
        drop(file);
        remove_kept(&path);
    }
}

#[test]
fn a_second_keep_of_the_same_test_names_the_files_in_the_way() {
    if privilege::detect() != Privilege::Root {
        // Rootless, nothing is ever kept (kept_after_failure checks the message).
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (code, first) = fail_and_keep(dir.path());
    assert_eq!(code, Some(101), "{first}");
    assert!(first.contains("kept the network"), "{first}");
    let kept: Vec<PathBuf> = ["n1", "n2"]
        .iter()
        .map(|n| dir.path().join(format!("nt-fails_on_purpose-{n}")))
        .collect();

    let (code, second) = fail_and_keep(dir.path());
    assert_eq!(code, Some(101), "{second}");
    // It names the file in the way and how to remove it, and does not
    // blame privileges it has.
    let path = kept[0].display().to_string();
    for needle in [
        "cannot keep the network of failed test `fails_on_purpose`".to_string(),
        format!("{path} already exists, likely kept by an earlier run"),
        format!("`umount {path} && rm {path}`"),
        format!("{}*", dir.path().join("nt-fails_on_purpose-").display()),
    ] {
        assert!(second.contains(&needle), "missing {needle:?} in:\n{second}");
    }
    assert!(!second.contains("needs root"), "{second}");
    // The first run's files are untouched, and the second left none of its own.
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    assert_eq!(names, kept);
    for path in &kept {
        std::fs::File::open(path).unwrap();
        remove_kept(path);
    }
}
