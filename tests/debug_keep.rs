//! `NETNS_TEST_DUMP` prints a failed test's network; `NETNS_TEST_KEEP`
//! keeps it mounted for `ip netns exec` / `nsenter` after the process exits.
//! This binary re-runs one of its own tests, failing on purpose, in a child.

mod common;

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::Command;

use netns_test::__private::{execute, Outcome, TestSpec};
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

#[netns_test]
#[ignore = "fails on purpose; the tests below run it in a child"]
fn also_fails_on_purpose() {
    panic!("failing on purpose too");
}

/// Runs both failing tests in a child, in directory `cwd`, with the
/// variables `vars` and the target directory `target`; returns its exit
/// code and its output.
fn fail_twice(cwd: &Path, target: &Path, vars: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["fails_on_purpose", "--include-ignored", "--test-threads=1"])
        .current_dir(cwd)
        .env("CARGO_TARGET_DIR", target);
    for var in ["NETNS_TEST_KEEP", "NETNS_TEST_DUMP", "NETNS_TEST_CAPTURE"] {
        cmd.env_remove(var);
    }
    cmd.envs(vars.iter().copied());
    let out = cmd.output().unwrap();
    let text = common::output_text(&out);
    assert!(text.contains("running 2 tests"), "{text}");
    (out.status.code(), text)
}

/// What the three variables turn on, for the output of [`fail_twice`]:
/// each feature's line, if it printed it.
fn turned_on(text: &str) -> Vec<&'static str> {
    [
        ("dump", "netns-test: the network of failed test"),
        ("keep", "kept the network of failed test"),
        ("keep", "cannot keep the network of failed test"),
        ("capture", "netns-test: capture of failed test"),
    ]
    .into_iter()
    .filter(|(_, line)| text.contains(line))
    .map(|(feature, _)| feature)
    .collect()
}

/// The files in `dir`, recursively.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_in(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[test]
fn switch_words_that_mean_off_turn_nothing_on() {
    let (cwd, target) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for off in ["false", "no", "FALSE", "0", ""] {
        let vars = [
            ("NETNS_TEST_KEEP", off),
            ("NETNS_TEST_DUMP", off),
            ("NETNS_TEST_CAPTURE", off),
        ];
        let (code, text) = fail_twice(cwd.path(), target.path(), &vars);
        assert_eq!(code, Some(101), "{text}");
        assert_eq!(turned_on(&text), Vec::<&str>::new(), "{off:?}:\n{text}");
        assert!(!text.contains("netns-test: ignoring"), "{off:?}:\n{text}");
        // Nothing kept in (or under) the working directory.
        assert_eq!(files_in(cwd.path()), Vec::<PathBuf>::new(), "{off:?}");
        assert_eq!(files_in(target.path()), Vec::<PathBuf>::new(), "{off:?}");
    }
    let (code, text) = fail_twice(
        cwd.path(),
        target.path(),
        &[("NETNS_TEST_DUMP", "Yes"), ("NETNS_TEST_CAPTURE", "true")],
    );
    assert_eq!(code, Some(101), "{text}");
    assert_eq!(turned_on(&text), ["dump", "capture"], "{text}");
}

/// A value that is no switch value (nor, for `NETNS_TEST_KEEP`, an
/// absolute directory) turns nothing on, and says so once per variable.
#[test]
fn other_values_turn_nothing_on_and_are_reported_once() {
    let (cwd, target) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let vars = [
        ("NETNS_TEST_KEEP", "kept"),
        ("NETNS_TEST_DUMP", "maybe"),
        ("NETNS_TEST_CAPTURE", "always"),
    ];
    let (code, text) = fail_twice(cwd.path(), target.path(), &vars);
    assert_eq!(code, Some(101), "{text}");
    assert_eq!(turned_on(&text), Vec::<&str>::new(), "{text}");
    for (var, value) in vars {
        let warning = format!("netns-test: ignoring {var}=\"{value}\": expected 1, true or yes");
        assert_eq!(text.matches(&warning).count(), 1, "{warning}:\n{text}");
    }
    assert!(text.contains("or an absolute directory"), "{text}");
    assert_eq!(files_in(cwd.path()), Vec::<PathBuf>::new());
    assert_eq!(files_in(target.path()), Vec::<PathBuf>::new());
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
    let text = common::output_text(&out);
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
        let path = dir
            .path()
            .join(format!("nt-debug_keep.fails_on_purpose@{node}"));
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
        .map(|n| {
            dir.path()
                .join(format!("nt-debug_keep.fails_on_purpose@{n}"))
        })
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
        format!(
            "{}*",
            dir.path().join("nt-debug_keep.fails_on_purpose@").display()
        ),
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

/// Tests `smoke` of two binaries (`ipv4` and `ipv6`, as `tests/ipv4.rs` and
/// `tests/ipv6.rs` would have) and `smoke::more` of `ipv4`, run through the
/// runner as the macro would: both `smoke`s fail with capture on, then
/// `more` fails, then `ipv4`'s `smoke` fails again, then `ipv6`'s passes.
#[test]
#[ignore = "fails tests on purpose; same_test_name_in_two_binaries runs it in a child"]
fn fixture_same_name() {
    let run = |name: &'static str, fail: bool| {
        let spec = TestSpec::new(name)
            .topology("two_hosts", two_hosts)
            .capture();
        execute(spec, move |_| {
            assert!(!fail, "failing on purpose");
            Ok(())
        })
    };
    for (name, fail) in [
        ("ipv4::smoke", true),
        ("ipv6::smoke", true),
        ("ipv4::smoke::more", true),
        ("ipv4::smoke", true),
        ("ipv6::smoke", false),
    ] {
        let outcome = run(name, fail);
        assert_eq!(
            matches!(outcome, Outcome::Passed),
            !fail,
            "{name}: {outcome:?}"
        );
    }
}

/// Two tests of the same name in two binaries keep two capture files and
/// two sets of namespaces; the removal hint of one matches none of the
/// other's names, nor those of a test whose path extends its own.
#[test]
fn same_test_name_in_two_binaries() {
    if privilege::detect() != Privilege::Root {
        return; // rootless, nothing is kept
    }
    let (keep, target) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "fixture_same_name", "--include-ignored"])
        .args(["--nocapture"])
        .env("NETNS_TEST_KEEP", keep.path())
        .env("CARGO_TARGET_DIR", target.path())
        .env_remove("NETNS_TEST_DUMP")
        .env_remove("NETNS_TEST_CAPTURE")
        .output()
        .unwrap();
    let text = common::output_text(&out);
    let mut kept: Vec<PathBuf> = std::fs::read_dir(keep.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    kept.sort();
    let cleanup = || {
        for path in &kept {
            let _ = nix::mount::umount2(path, nix::mount::MntFlags::MNT_DETACH);
            let _ = std::fs::remove_file(path);
        }
    };
    let check = || {
        assert_eq!(out.status.code(), Some(0), "{text}");
        let mut wrong: Vec<String> = Vec::new();
        // The capture files: the failures of ipv4's and ipv6's `smoke` print
        // two paths, and ipv4's file outlives the pass of ipv6's `smoke`.
        let printed: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("netns-test: capture of failed test `smoke`: "))
            .filter_map(|l| l.split_once(" packets in ").map(|(_, p)| p))
            .collect();
        assert_eq!(printed.len(), 3, "{text}");
        if printed[0] == printed[1] || printed[0] != printed[2] {
            wrong.push(format!("capture paths: {printed:?}"));
        }
        if !Path::new(printed[0]).is_file() {
            wrong.push(format!("{} is gone", printed[0]));
        }
        let ipv4 = target.path().join("netns-test/ipv4/smoke/capture.pcapng");
        if Path::new(printed[0]) != ipv4 {
            wrong.push(format!("{} is not {}", printed[0], ipv4.display()));
        }
        // The kept namespaces: two nodes for each of the three tests, all
        // kept (none found in the way of another), until the second keep of
        // ipv4's `smoke`, which finds its own.
        let keeps = text.matches("kept the network of failed test").count();
        if kept.len() != 6 || keeps != 3 {
            wrong.push(format!("{keeps} tests kept, in {kept:?}"));
        }
        // The removal hint of the first test found in the way matches its
        // two nodes' files, and no other test's.
        let glob = text
            .lines()
            .find(|l| l.contains("already exists"))
            .and_then(|l| l.rsplit_once(" the same for each "))
            .map(|(_, g)| g.trim())
            .unwrap_or_else(|| panic!("no removal hint in:\n{text}"));
        let prefix = glob.strip_suffix('*').expect(glob);
        let matched: Vec<&PathBuf> = kept
            .iter()
            .filter(|p| p.to_str().unwrap().starts_with(prefix))
            .collect();
        if matched.len() != 2 {
            wrong.push(format!("{glob} matches {matched:?}"));
        }
        let ipv4_kept = ["n1", "n2"].map(|n| keep.path().join(format!("nt-ipv4.smoke@{n}")));
        if matched != ipv4_kept.iter().collect::<Vec<_>>() {
            wrong.push(format!("{glob} matches {matched:?}, not {ipv4_kept:?}"));
        }
        assert!(wrong.is_empty(), "{wrong:#?}\n{text}");
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(check));
    cleanup();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}
