//! `netns-test`: network regression suites from TOML files, for any CI.
//!
//! ```text
//! netns-test run suites/              # every scenario; exit status 1 if one fails, 2 if none ran
//! netns-test run suites/ --junit report.xml
//! netns-test check suites/            # validate only: every mistake, placed
//! netns-test up suites/labs/router.toml      # build a lab and hold it
//! netns-test exec router h1 -- ping -c1 203.0.113.1
//! netns-test draw suites/labs/router.toml
//! ```
//!
//! The file format is documented in the library's `docs/suites.md`.

mod exec;
mod junit;
mod run;
mod up;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use netns_test::suite::LoadOptions;

#[derive(Parser, Debug)]
#[command(
    name = "netns-test",
    version,
    about = "Network regression suites in Linux network namespaces, from TOML files."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Runs every scenario of the files (folders are searched for .toml).
    ///
    /// Exits 0 when every scenario passed, 1 when one failed or a file has
    /// a mistake, 2 on a usage error or when no scenario ran (none in the
    /// files, or every one skipped: ignored, or no namespaces here with
    /// NETNS_TEST_SKIP_UNSUPPORTED=1).
    Run {
        /// Suite files or folders.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Writes a JUnit XML report there (checked before running: a
        /// usage error when it cannot be written).
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Runs only scenarios whose `file::scenario` name contains this;
        /// a usage error (exit 2) when none does.
        #[arg(long)]
        filter: Option<String>,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Validates the files without running anything; lists every mistake.
    Check {
        /// Suite files or folders.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Builds the lab of a file and holds it until Ctrl-C.
    Up {
        /// A suite or lab file.
        file: PathBuf,
        /// The lab's name for `exec` (the file's stem unless set): one file
        /// name, at most 64 bytes.
        #[arg(long, value_parser = lab_name)]
        name: Option<String>,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Runs a program in a node of a lab that `up` holds.
    ///
    /// Exits with the program's status (128 + N when signal N killed it);
    /// 127 when the program was not found, 126 when it could not be run or
    /// did not end by itself (no such lab or node, not executable, the lab
    /// serving too many, or the lab stopped or was killed while it ran,
    /// which kills it), 2 on a usage error. The program has exec's
    /// standard input, output and error but no controlling terminal
    /// (`/dev/tty` cannot be opened), and ends when exec ends.
    Exec {
        /// The lab's name (as `up` printed it).
        #[arg(value_parser = lab_name)]
        lab: String,
        /// The node.
        node: String,
        /// The program and its arguments.
        #[arg(last = true, required = true)]
        cmd: Vec<OsString>,
    },
    /// Draws the lab of a file.
    Draw {
        /// A suite or lab file.
        file: PathBuf,
        /// `svg`, `mermaid` or `dot`.
        #[arg(long, default_value = "svg")]
        format: String,
        /// Writes there instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[command(flatten)]
        load: LoadArgs,
    },
}

/// A lab name that can name the lab's files.
fn lab_name(name: &str) -> Result<String, String> {
    netns_test::suite::hold::check_lab_name(name)
        .map(|()| name.to_string())
        .map_err(|e| e.to_string())
}

/// Options that change what the files say.
#[derive(Args, Debug, Clone, Default)]
struct LoadArgs {
    /// Sets a variable, over the files' own: `--var name=value`.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// The seed of every scenario, over the files' own.
    #[arg(long)]
    seed: Option<u64>,
}

impl LoadArgs {
    fn options(&self) -> Result<LoadOptions, String> {
        let mut vars = BTreeMap::new();
        for v in &self.vars {
            let (k, val) = v
                .split_once('=')
                .ok_or_else(|| format!("--var {v}: write NAME=VALUE"))?;
            vars.insert(k.to_string(), val.to_string());
        }
        Ok(LoadOptions {
            vars,
            seed: self.seed,
        })
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run {
            files,
            junit,
            filter,
            load,
        } => load
            .options()
            .and_then(|o| run::run(&files, &o, filter.as_deref(), junit.as_deref())),
        Command::Check { files, load } => load.options().and_then(|o| run::check(&files, &o)),
        Command::Up { file, name, load } => load.options().and_then(|o| up::up(&file, name, &o)),
        Command::Exec { lab, node, cmd } => Ok(exec::exec(&lab, &node, &cmd)),
        Command::Draw {
            file,
            format,
            output,
            load,
        } => load
            .options()
            .and_then(|o| up::draw(&file, &format, output.as_deref(), &o)),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("netns-test: {message}");
            ExitCode::from(2)
        }
    }
}
