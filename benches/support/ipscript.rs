//! The "ip-script" rows: the two-host lab cycle the way people script it
//! today, one bash script of `ip` commands per cycle.
//!
//! The namespaces are named `nstbench-<pid>-<iter>-a`/`-b` so that parallel
//! runs never clash and leftovers of a killed run can be told apart. The
//! script deletes both namespaces from an EXIT trap, so they go even when a
//! command or the ping fails (or the script gets SIGINT/SIGTERM/SIGHUP).
//!
//! Note: iproute2 6.1's `ip netns del a b` deletes only `a` and silently
//! ignores `b`; the script therefore deletes each namespace separately.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Prefix of every namespace name this benchmark creates.
pub(crate) const NAME_PREFIX: &str = "nstbench-";

/// Exit status the scripts use for "the lab came up but no echo reply".
const NO_REPLY: i32 = 42;

/// Shared start and end of both scripts. `$1`/`$2` are the namespace names.
const PROLOGUE: &str = r#"set -e
A=$1 B=$2
cleanup() { ip netns del "$A" 2>/dev/null || true; ip netns del "$B" 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
ip netns add "$A"
ip netns add "$B"
"#;

const EPILOGUE: &str = r#"ip -n "$A" link set lo up
ip -n "$A" link set veth0 up
ip -n "$B" link set lo up
ip -n "$B" link set $PEER up
set +e
ip netns exec "$A" ping -c1 -W1 198.51.100.2
rc=$?
[ "$rc" -eq 1 ] && exit 42
exit "$rc"
"#;

/// veth created in place: `veth0` in a, its peer `veth0` directly in b.
const IN_PLACE: &str = r#"PEER=veth0
ip -n "$A" link add veth0 type veth peer name veth0 netns "$B"
ip -n "$A" addr add 198.51.100.1/24 dev veth0
ip -n "$B" addr add 198.51.100.2/24 dev veth0
"#;

/// veth created in a, peer moved to b afterwards with `ip link set ... netns`.
const MOVED: &str = r#"PEER=veth1
ip -n "$A" link add veth0 type veth peer name veth1
ip -n "$A" link set veth1 netns "$B"
ip -n "$A" addr add 198.51.100.1/24 dev veth0
ip -n "$B" addr add 198.51.100.2/24 dev veth1
"#;

/// Which way the script makes the veth pair.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Variant {
    /// `ip link add ... peer name veth0 netns b`.
    InPlace,
    /// `ip link add ... peer name veth1` then `ip link set veth1 netns b`.
    Moved,
}

impl Variant {
    /// The whole script for this variant.
    pub(crate) fn script(self) -> String {
        let body = match self {
            Variant::InPlace => IN_PLACE,
            Variant::Moved => MOVED,
        };
        format!("{PROLOGUE}{body}{EPILOGUE}")
    }
}

/// Whether `name` is an executable file in a `$PATH` directory.
fn on_path(name: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| {
            std::fs::metadata(dir.join(name))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// `Err(why)` when a tool the scripts need is missing.
pub(crate) fn available() -> Result<(), String> {
    let missing: Vec<&str> = ["bash", "ip", "ping"]
        .into_iter()
        .filter(|t| !on_path(t))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "`{}` not found on PATH (install iproute2 / iputils-ping)",
            missing.join("`, `")
        ))
    }
}

/// Run one script cycle. `Ok(Some(rtt))` with ping's reported time,
/// `Ok(None)` when the lab came up but the echo got no reply within 1 s.
pub(crate) fn cycle(script: &str, tag: &str) -> Result<Option<Duration>, String> {
    let a = format!("{NAME_PREFIX}{tag}-a");
    let b = format!("{NAME_PREFIX}{tag}-b");
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg("ip-script")
        .arg(&a)
        .arg(&b)
        .output()
        .map_err(|e| format!("spawn bash: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    match out.status.code() {
        Some(0) => parse_ping_time(&stdout)
            .map(Some)
            .ok_or_else(|| format!("no `time=` in ping output: {stdout}")),
        Some(NO_REPLY) => Ok(None),
        _ => Err(format!(
            "script failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )),
    }
}

/// The RTT of the first reply in iputils ping output (`time=0.363 ms`).
fn parse_ping_time(out: &str) -> Option<Duration> {
    let rest = &out[out.find("time=")? + 5..];
    let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let ms: f64 = rest[..end].parse().ok()?;
    Some(Duration::from_secs_f64(ms / 1000.0))
}

/// Names of namespaces in /run/netns that this benchmark made.
pub(crate) fn leftovers() -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("/run/netns") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(NAME_PREFIX))
        .collect()
}

/// Delete leftovers of earlier runs that were killed before their EXIT trap
/// ran (their pid, the first field after the prefix, no longer exists).
pub(crate) fn remove_stale() {
    for name in leftovers() {
        let pid = name[NAME_PREFIX.len()..].split('-').next().unwrap_or("");
        let alive = !pid.is_empty() && Path::new("/proc").join(pid).exists();
        if !alive {
            eprintln!("removing stale namespace {name} from an earlier run");
            let _ = Command::new("ip").args(["netns", "del", &name]).status();
        }
    }
}

/// What `/run/netns` was before this benchmark: whether it existed, and
/// whether it was a mount point (`ip netns add` creates it and makes it a
/// shared bind mount of itself the first time it runs on a machine).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunNetns {
    existed: bool,
    mounted: bool,
}

/// `/run/netns` as it is now.
pub(crate) fn run_netns_now() -> RunNetns {
    RunNetns {
        existed: Path::new("/run/netns").exists(),
        mounted: run_netns_mounted(),
    }
}

fn run_netns_mounted() -> bool {
    std::fs::read_to_string("/proc/self/mountinfo")
        .map(|m| {
            m.lines()
                .any(|l| l.split_whitespace().nth(4) == Some("/run/netns"))
        })
        .unwrap_or(false)
}

/// Undoes what `ip netns add` did to the host, as far as it was not so
/// `before` this benchmark: unmounts `/run/netns` and removes the
/// directory (once no namespace of anybody's is left in it).
pub(crate) fn restore_run_netns(before: RunNetns) {
    let empty = || std::fs::read_dir("/run/netns").map_or(true, |mut d| d.next().is_none());
    if !before.mounted && run_netns_mounted() && empty() {
        while run_netns_mounted() {
            let ok = Command::new("umount")
                .arg("/run/netns")
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                break;
            }
        }
    }
    if !before.existed && !run_netns_mounted() && empty() {
        let _ = std::fs::remove_dir("/run/netns");
    }
}
