//! `up` (build a lab and hold it) and `draw`.

use std::path::Path;
use std::process::ExitCode;

use netns_test::suite::hold::HeldLab;
use netns_test::suite::{topology_of, LoadOptions};
use nix::sys::signal::{SigSet, Signal};

fn load(file: &Path, options: &LoadOptions) -> Result<netns_test::Topology, String> {
    topology_of(file, options).map_err(|errors| {
        errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    })
}

pub(crate) fn up(
    file: &Path,
    name: Option<String>,
    options: &LoadOptions,
) -> Result<ExitCode, String> {
    netns_test::privilege::enter_user_namespace();
    let topology = load(file, options)?;
    let name = name.unwrap_or_else(|| {
        file.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "lab".into())
    });
    // Blocked before any thread starts, so that every thread inherits the
    // mask and only the wait below takes these signals.
    let mut signals = SigSet::empty();
    for s in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        signals.add(s);
    }
    signals
        .thread_block()
        .map_err(|e| format!("cannot block signals: {e}"))?;
    let lab = HeldLab::hold(&name, &topology).map_err(|e| e.to_string())?;
    print!("{}", lab.instructions());
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let got = signals.wait().map_err(|e| e.to_string())?;
    eprintln!("netns-test: {got:?}: tearing lab `{name}` down");
    drop(lab);
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn draw(
    file: &Path,
    format: &str,
    output: Option<&Path>,
    options: &LoadOptions,
) -> Result<ExitCode, String> {
    let topology = load(file, options)?;
    let drawing = netns_test::draw::Drawing::new(&topology);
    let text = match format {
        "svg" => drawing.svg(),
        "mermaid" => drawing.mermaid(),
        "dot" => drawing.dot(),
        other => return Err(format!("--format {other}: write svg, mermaid or dot")),
    };
    match output {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
