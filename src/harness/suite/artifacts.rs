//! The artifacts of a failed scenario: one folder with the step log, each
//! program's output, the node reports, the captures and the seed.

use std::path::{Path, PathBuf};

use super::exec::Runner;
use super::format::step::{Step, Stream};

/// Where artifact folders go: this folder if set, else
/// `target/netns-test-artifacts` of the build (else of the working
/// directory), else the temporary directory when that cannot be written.
pub const ARTIFACTS_ENV: &str = "NETNS_TEST_ARTIFACTS";

/// The folder that holds the artifact folders.
fn root() -> PathBuf {
    if let Some(dir) = std::env::var_os(ARTIFACTS_ENV) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return Path::new(&dir).join("netns-test-artifacts");
    }
    let exe = std::env::current_exe().ok();
    let target = exe.as_deref().and_then(|e| {
        e.ancestors()
            .find(|a| a.file_name().is_some_and(|n| n == "target"))
    });
    match target {
        Some(t) => t.join("netns-test-artifacts"),
        None => PathBuf::from("target").join("netns-test-artifacts"),
    }
}

/// A name safe as one path component.
fn component(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The folder of scenario `scenario` of the file named `file` (its path
/// under its folder, parts joined with `/`): the parts and the scenario
/// joined with `__` (`dir__file__scenario`), when that can be read back
/// (each part non-empty, of ASCII letters, digits, `.`, `-` and `_`, with
/// no `__` and no `_` at either end); else that with each other character
/// made `_`, and `-` and a hash of the full name after it, so that two
/// scenarios never share a folder (`x y` and `x_y`, `a/b` and `a__b`).
fn folder_name(file: &str, scenario: &str) -> String {
    let parts: Vec<&str> = file.split('/').chain([scenario]).collect();
    let plain = parts.join("__");
    let readable = parts.iter().all(|p| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && !p.contains("__")
            && !p.starts_with('_')
            && !p.ends_with('_')
    });
    if readable {
        return plain;
    }
    let full = format!("{file}::{scenario}");
    format!(
        "{}-{:08x}",
        component(&plain),
        fnv1a(full.as_bytes()) as u32
    )
}

/// The 64-bit FNV-1a hash of `bytes`: the same in every build.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Writes the artifacts of `runner`'s failed scenario; the folder (if
/// written) and a line saying where it is, or why there is none.
pub(crate) fn write(runner: &Runner<'_>, failure: &str) -> (Option<PathBuf>, String) {
    let sc = runner.scenario;
    let name = folder_name(&sc.file.name, &sc.short_name);
    let mut last_error = String::new();
    let fallback = std::env::temp_dir().join("netns-test-artifacts");
    for base in [root(), fallback] {
        let dir = base.join(&name);
        match write_into(runner, failure, &dir) {
            Ok(()) => {
                let note = format!("artifacts: {}", dir.display());
                return (Some(dir), note);
            }
            Err(e) => last_error = format!("{}: {e}", dir.display()),
        }
    }
    (
        None,
        format!("artifacts could not be written ({last_error})"),
    )
}

fn write_into(runner: &Runner<'_>, failure: &str, dir: &Path) -> std::io::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir.join("programs"))?;
    std::fs::create_dir_all(dir.join("nodes"))?;
    let sc = runner.scenario;
    std::fs::write(dir.join("failure.txt"), format!("{failure}\n"))?;
    std::fs::write(dir.join("seed"), format!("{}\n", sc.file.seed))?;
    std::fs::write(dir.join("steps.log"), runner.log.join("\n") + "\n")?;
    std::fs::write(
        dir.join("scenario.txt"),
        format!(
            "{}\nfile: {}\nseed: {}\n",
            sc.name(),
            sc.file.path.display(),
            sc.file.seed
        ),
    )?;
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for (name, output) in &runner.outputs {
        let n = seen.entry(name.clone()).or_default();
        *n += 1;
        let stem = match *n {
            1 => component(name),
            k => format!("{}.{k}", component(name)),
        };
        let p = dir.join("programs");
        std::fs::write(
            p.join(format!("{stem}.stdout")),
            output.text(Stream::Stdout),
        )?;
        std::fs::write(
            p.join(format!("{stem}.stderr")),
            output.text(Stream::Stderr),
        )?;
    }
    for node in runner.net.nodes() {
        let text = match node.report() {
            Ok(r) => r.to_string(),
            Err(e) => format!("no report: {e}\n"),
        };
        std::fs::write(
            dir.join("nodes")
                .join(format!("{}.txt", component(node.name()))),
            text,
        )?;
    }
    let path = failing_path(runner);
    let hops: Vec<&str> = path.iter().map(String::as_str).collect();
    let drawing = crate::draw::Drawing::new(&sc.file.topology).mark_path(&hops);
    std::fs::write(dir.join("topology.svg"), drawing.svg())?;
    for (i, cap) in runner.captures.iter().enumerate() {
        let file = match i {
            0 => "capture.pcapng".to_string(),
            k => format!("capture-{}.pcapng", k + 1),
        };
        if let Err(e) = cap.save(dir.join(&file)) {
            std::fs::write(dir.join(format!("{file}.error")), format!("{e}\n"))?;
        }
    }
    Ok(())
}

/// The nodes the failed step went through, as far as the file says: its
/// source, the routers it names, the node of its destination.
fn failing_path(runner: &Runner<'_>) -> Vec<String> {
    let Some(step) = runner.failed.and_then(|i| runner.scenario.steps.get(i)) else {
        return Vec::new();
    };
    let dest = |to: &str| -> Option<String> {
        // An address alone, an address and port, or a node (and port).
        let host = if let Ok(ip) = to.parse::<std::net::IpAddr>() {
            return runner.net.node_of(ip).map(|n| n.name().to_string());
        } else if let Ok(sa) = to.parse::<std::net::SocketAddr>() {
            return runner.net.node_of(sa.ip()).map(|n| n.name().to_string());
        } else {
            match to.rsplit_once(':') {
                Some((h, p)) if p.parse::<u16>().is_ok() => h,
                _ => to,
            }
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if runner.net.node(host).is_ok() {
            return Some(host.to_string());
        }
        let ip = host.parse().ok()?;
        runner.net.node_of(ip).map(|n| n.name().to_string())
    };
    let (from, via, to): (&str, &[String], &str) = match &step.step {
        Step::Path(s) => (&s.from, &s.via, &s.to),
        Step::Ping(s) => (&s.from, &[], &s.to),
        Step::Reachable(s) | Step::Unreachable(s) => (&s.from, &[], &s.to),
        Step::Tcp(s) => (&s.from, &[], &s.to),
        Step::Udp(s) => (&s.from, &[], &s.to),
        Step::WaitPort(s) => (&s.from, &[], &s.to),
        _ => return Vec::new(),
    };
    let mut out = vec![from.to_string()];
    out.extend(via.iter().cloned());
    out.extend(dest(to));
    out
}

#[cfg(test)]
mod tests {
    use super::folder_name;

    #[test]
    fn folder_names_are_plain_when_they_can_be_read_back() {
        assert_eq!(folder_name("basics", "web_ok"), "basics__web_ok");
        assert_eq!(folder_name("a/lab", "fails"), "a__lab__fails");
        let names = [
            folder_name("f", "x y"),
            folder_name("f", "x_y"),
            folder_name("a/b", "s"),
            folder_name("a__b", "s"),
            folder_name("a", "b__s"),
            folder_name("a_", "_s"),
            folder_name("a", "__s"),
        ];
        let distinct: std::collections::BTreeSet<_> = names.iter().collect();
        assert_eq!(distinct.len(), names.len(), "{names:#?}");
        assert!(names[0].starts_with("f__x_y-"), "{}", names[0]);
    }
}
