//! Regression suites from files: a lab and scenarios of ordered steps in
//! TOML, each scenario a test of the custom harness.
//!
//! ```toml
//! include = "labs/router.toml"        # the lab h1 -- r1 -- h2
//!
//! [[scenario]]
//! name = "web_through_the_router"
//! steps = [
//!   { do = "start", name = "web", node = "h2", cmd = ["python3", "-m", "http.server", "8080"] },
//!   { do = "wait_port", from = "h1", to = "h2:8080" },
//!   { do = "tcp", from = "h1", to = "h2:8081", expect = "refused" },
//! ]
//! ```
//!
//! A `harness = false` test target runs every file of a folder:
//!
//! ```no_run
//! // tests/suites.rs, with `[[test]] name = "suites" harness = false`
//! netns_test::suite_main!("tests/suites");
//! ```
//!
//! Each scenario is a trial named `file::scenario` (the file's path under
//! the folder, without `.toml`), so filters, `--list`, `cargo nextest` and
//! IDEs see them; a file with mistakes is one failed trial, named after
//! the file, listing each mistake as `file:line:column: what`. The format
//! is documented in `docs/suites.md`; its JSON schema is [`schema_json`].
//! When a scenario fails, its artifacts (step log, programs' output, node
//! reports, captures, seed) are written to one folder whose path the
//! failure names (see [`ARTIFACTS_ENV`]).

mod artifacts;
mod check;
mod error;
mod exec;
pub mod format;
mod head;
pub mod hold;
mod lab;
mod load;
mod source;
mod view;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use artifacts::ARTIFACTS_ENV;
pub use error::{SuiteError, SuiteErrorKind};
pub use format::schema_json;

use super::runner::{execute, panic_message, CaseParts, Failure, Outcome, TestSpec};
use super::{Case, Harness, Trial};
use crate::Topology;
use format::step::Step;

/// What loading takes from outside the files: variables and a seed that
/// win over the files' own.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Values for `${name}`, over the files' `[vars]`.
    pub vars: std::collections::BTreeMap<String, String>,
    /// The seed of every scenario, over the files' `seed`.
    pub seed: Option<u64>,
}

/// A loaded file: its lab and scenarios.
#[derive(Debug, Clone)]
pub struct LabFile {
    /// The file.
    pub path: PathBuf,
    /// Its name in test names.
    pub name: String,
    /// Its lab, validated.
    pub topology: Topology,
    /// Its seed.
    pub seed: u64,
    /// Its scenarios, checked.
    pub scenarios: Vec<Scenario>,
}

/// One file found under a path, loaded or not.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The file.
    pub path: PathBuf,
    /// Its name in test names.
    pub name: String,
    /// The file, or every mistake found in it.
    pub result: Result<LabFile, Vec<SuiteError>>,
}

/// What the scenarios of one file share.
#[derive(Debug)]
pub(crate) struct ScenarioFile {
    pub(crate) path: PathBuf,
    pub(crate) name: String,
    /// Programs run here.
    pub(crate) dir: PathBuf,
    pub(crate) topology: Topology,
    pub(crate) seed: u64,
}

/// A step and where it is written.
#[derive(Debug, Clone)]
pub(crate) struct PlacedStep {
    pub(crate) step: Step,
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) offset: usize,
}

/// A scenario, checked and ready to run.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub(crate) file: Arc<ScenarioFile>,
    pub(crate) short_name: String,
    pub(crate) description: Option<String>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) ignore: Option<String>,
    pub(crate) steps: Vec<PlacedStep>,
}

/// How a scenario's run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// Every step passed.
    Passed,
    /// A step failed, or the scenario ran out of time: why.
    Failed(String),
    /// It could not run: the lab could not be built, or the thread of its
    /// steps could not start. Why.
    Error(String),
    /// Not run: namespaces cannot be made here and skipping was asked
    /// for, or the scenario is ignored.
    Skipped(String),
}

impl Verdict {
    /// Why it did not pass, when it failed or could not run.
    pub fn problem(&self) -> Option<&str> {
        match self {
            Verdict::Failed(why) | Verdict::Error(why) => Some(why),
            Verdict::Passed | Verdict::Skipped(_) => None,
        }
    }
}

/// A scenario's run.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ScenarioReport {
    /// `file::scenario`.
    pub name: String,
    /// How it ended.
    pub verdict: Verdict,
    /// How long it took (lab included).
    pub duration: Duration,
    /// The artifacts folder, written when it failed.
    pub artifacts: Option<PathBuf>,
    /// The step log: each step, when, and what it saw.
    pub log: Vec<String>,
}

/// What a run leaves for its report besides the verdict.
#[derive(Debug, Default)]
struct RunNotes {
    artifacts: Option<PathBuf>,
    log: Vec<String>,
}

impl Scenario {
    /// `file::scenario`.
    pub fn name(&self) -> String {
        format!("{}::{}", self.file.name, self.short_name)
    }

    /// What the file says it shows.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// Why it is ignored, if it is.
    pub fn ignored(&self) -> Option<&str> {
        self.ignore.as_deref()
    }

    /// The file it comes from.
    pub fn file(&self) -> &Path {
        &self.file.path
    }

    /// Its lab.
    pub fn topology(&self) -> &Topology {
        &self.file.topology
    }

    /// The steps' verbs, in order.
    pub fn verbs(&self) -> Vec<&'static str> {
        self.steps.iter().map(|s| s.step.verb()).collect()
    }

    /// The body: runs the steps on `net`, writes the artifacts if one
    /// fails (their folder into `artifacts`), then ends what it started.
    fn body(
        &self,
        net: &crate::Net,
        notes: &Mutex<RunNotes>,
        live: Arc<Mutex<Vec<String>>>,
        cancelled: Arc<AtomicBool>,
    ) -> Result<(), Failure> {
        let mut runner = exec::Runner::new(net, self)
            .sharing_log(live)
            .cancelled_by(cancelled);
        let result = runner.run_all();
        let mut dir = None;
        let out = match result {
            Ok(()) => Ok(()),
            // Out of time: the verdict is already given, without artifacts.
            Err(msg) if runner.is_cancelled() => Err(Failure::Returned(msg)),
            Err(msg) => {
                let (written, note) = artifacts::write(&runner, &msg);
                dir = written;
                Err(Failure::Returned(format!("{msg}\n{note}")))
            }
        };
        runner.finish();
        let mut n = notes.lock().unwrap_or_else(|e| e.into_inner());
        n.artifacts = dir;
        n.log = std::mem::take(&mut runner.log);
        out
    }

    fn parts(&self) -> CaseParts {
        CaseParts {
            name: self.name(),
            topology: Some(self.file.topology.clone()),
            node: None,
            timeout: self.timeout,
        }
    }

    /// Runs the scenario on a fresh lab (in the calling process, which must
    /// be able to make namespaces: root, or entered a user namespace with
    /// [`privilege::enter_user_namespace`](crate::privilege::enter_user_namespace)
    /// while it had one thread).
    ///
    /// An ignored scenario is not run: its verdict is [`Verdict::Skipped`].
    pub fn run(&self) -> ScenarioReport {
        let begin = Instant::now();
        if let Some(reason) = &self.ignore {
            return ScenarioReport {
                name: self.name(),
                verdict: Verdict::Skipped(format!("ignored: {reason}")),
                duration: begin.elapsed(),
                artifacts: None,
                log: Vec::new(),
            };
        }
        let notes = Arc::new(Mutex::new(RunNotes::default()));
        let live = Arc::new(Mutex::new(Vec::new()));
        let cancelled = Arc::new(AtomicBool::new(false));
        let (me, art, steps, stop) = (self.clone(), notes.clone(), live.clone(), cancelled.clone());
        let outcome = execute(TestSpec::from_case(self.parts(), false), move |ctx| {
            me.body(ctx.net(), &art, steps, stop)
        });
        if matches!(outcome, Outcome::TimedOut(_)) {
            cancelled.store(true, Ordering::Release);
        }
        // Out of time, the runner is still busy: what it logged so far, and
        // the last step it started (the log goes to the report).
        let so_far = std::mem::take(&mut *live.lock().unwrap_or_else(|e| e.into_inner()));
        let outcome = match outcome {
            Outcome::TimedOut(m) => {
                Outcome::TimedOut(format!("{m}\n{}", out_of_time_note(&so_far, false)))
            }
            other => other,
        };
        let verdict = match outcome {
            Outcome::Passed => Verdict::Passed,
            Outcome::Skipped(m) => Verdict::Skipped(m),
            Outcome::Panicked(p) => Verdict::Failed(format!(
                "panicked: {}",
                panic_message(p.as_ref()).unwrap_or("(no message)")
            )),
            Outcome::Returned(m) | Outcome::TimedOut(m) => Verdict::Failed(m),
            Outcome::Setup(m) => Verdict::Error(m),
        };
        let notes = std::mem::take(&mut *notes.lock().unwrap_or_else(|e| e.into_inner()));
        let log = if notes.log.is_empty() {
            so_far
        } else {
            notes.log
        };
        ScenarioReport {
            name: self.name(),
            verdict,
            duration: begin.elapsed(),
            artifacts: notes.artifacts,
            log,
        }
    }

    /// The scenario as a test of the custom harness. Out of time, it fails
    /// naming the last step it started, with its step log so far.
    pub fn into_case(self) -> Case {
        let ignore = self.ignore.clone();
        let name = self.name();
        let timeout = self.timeout;
        let topology = self.file.topology.clone();
        let live = Arc::new(Mutex::new(Vec::new()));
        let cancelled = Arc::new(AtomicBool::new(false));
        let (steps, stop) = (live.clone(), cancelled.clone());
        let mut case = Case::new(name, move |net: &crate::Net| -> Result<(), Message> {
            let notes = Mutex::new(RunNotes::default());
            self.body(net, &notes, steps, stop).map_err(|f| match f {
                Failure::Returned(m) | Failure::Setup(m) => Message(m),
            })
        })
        .topology(topology)
        .on_timeout(move || {
            cancelled.store(true, Ordering::Release);
            let so_far = std::mem::take(&mut *live.lock().unwrap_or_else(|e| e.into_inner()));
            out_of_time_note(&so_far, true)
        });
        if let Some(t) = timeout {
            case = case.timeout(t);
        }
        if let Some(reason) = ignore {
            case = case.ignore_because(reason);
        }
        case
    }
}

/// A failure's text, shown as is (a `String`'s `Debug` would quote it).
struct Message(String);

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Loads every `.toml` file under each path (a file, or a folder searched
/// recursively), sorted by path. A path that does not exist is loaded as a
/// file whose one mistake says so. A file is loaded once, however many
/// times it is reached (folders that loop through symbolic links are
/// searched once). Each file is named by its path under
/// its folder (its stem when named itself); files that would share a name
/// are named by their paths from the working directory instead.
pub fn load(paths: &[impl AsRef<Path>], options: &LoadOptions) -> Vec<Loaded> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, p) in paths.iter().enumerate() {
        let p = p.as_ref();
        if !p.exists() {
            missing.push((i, p.to_path_buf()));
            continue;
        }
        let scanned = p.is_dir();
        found.extend(
            load::discover(p, &mut seen)
                .into_iter()
                .map(|(path, name)| (i, path, name, scanned)),
        );
    }
    let mut names: Vec<(PathBuf, String)> = found
        .iter()
        .map(|(_, path, name, _)| (path.clone(), name.clone()))
        .collect();
    load::distinct_names(&mut names);
    let mut out = Vec::new();
    let mut missing = missing.into_iter().peekable();
    for ((i, path, _, scanned), (_, name)) in found.into_iter().zip(names) {
        while let Some((_, p)) = missing.next_if(|(m, _)| *m < i) {
            out.push(missing_file(p));
        }
        let result = load::load_file(&path, &name, options);
        if scanned && load::is_lab_for_including(&path, &result) {
            continue;
        }
        out.push(Loaded { path, name, result });
    }
    out.extend(missing.map(|(_, p)| missing_file(p)));
    out
}

/// A path that does not exist, as a file whose one mistake says so.
fn missing_file(p: PathBuf) -> Loaded {
    Loaded {
        name: p.display().to_string(),
        result: Err(vec![SuiteError {
            file: p.clone(),
            line: 1,
            column: 1,
            kind: SuiteErrorKind::Io("no such file or folder".into()),
        }]),
        path: p,
    }
}

/// Every mistake in the files under `paths`, each placed.
///
/// ```
/// use netns_test::suite::{check, LoadOptions, SuiteErrorKind};
///
/// let dir = std::env::temp_dir().join(format!("suite-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let file = dir.join("lab.toml");
/// std::fs::write(&file, r#"
/// [[topology.links]]
/// a = { node = "n1", iface = "eth0", addr = "198.51.100.1/24" }
/// b = { node = "n2", iface = "eth0", addr = "198.51.100.2/24" }
///
/// [[scenario]]
/// name = "typo"
/// steps = [{ do = "ping", from = "n1", to = "n2" }, { do = "ping", from = "n3", to = "n1" }]
/// "#)?;
/// let errors = check(&[&file], &LoadOptions::default());
/// assert_eq!((errors[0].line, errors[0].column), (8, 51));
/// assert!(matches!(&errors[0].kind, SuiteErrorKind::UnknownNode { node, .. } if node == "n3"));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn check(paths: &[impl AsRef<Path>], options: &LoadOptions) -> Vec<SuiteError> {
    load(paths, options)
        .into_iter()
        .filter_map(|l| l.result.err())
        .flatten()
        .collect()
}

/// The lab of one file (its `include` followed), validated.
pub fn topology_of(
    path: impl AsRef<Path>,
    options: &LoadOptions,
) -> Result<Topology, Vec<SuiteError>> {
    load::topology_of(path.as_ref(), options)
}

/// A failed trial listing a file's mistakes.
fn broken_file(name: String, errors: Vec<SuiteError>) -> Trial {
    Trial::test(name, move || {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        Err(format!(
            "{} mistake(s) in the file:\n{}",
            lines.len(),
            lines.join("\n")
        )
        .into())
    })
}

/// A folder given relative: as is if it exists from here, else under the
/// package (`CARGO_MANIFEST_DIR`, which cargo sets when it runs tests).
fn resolve(dir: &Path) -> PathBuf {
    if dir.is_absolute() || dir.exists() {
        return dir.to_path_buf();
    }
    match std::env::var_os("CARGO_MANIFEST_DIR") {
        Some(root) => Path::new(&root).join(dir),
        None => dir.to_path_buf(),
    }
}

/// The harness with every scenario under `dir` as a test, and every
/// broken file as a failed one.
pub fn harness(dir: impl AsRef<Path>) -> Harness {
    let harness = Harness::new();
    let dir = resolve(dir.as_ref());
    let mut cases = Vec::new();
    let mut trials = Vec::new();
    if !dir.exists() {
        let shown = dir.display().to_string();
        trials.push(Trial::test(format!("{shown}::missing"), move || {
            Err(format!("the suite folder {shown} does not exist").into())
        }));
        return harness.trials(trials);
    }
    for loaded in load(&[&dir], &LoadOptions::default()) {
        match loaded.result {
            Ok(file) => cases.extend(file.scenarios.into_iter().map(Scenario::into_case)),
            Err(errors) => trials.push(broken_file(loaded.name, errors)),
        }
    }
    harness.cases(cases).trials(trials)
}

/// The `main` of a `harness = false` target: every scenario of every file
/// under `dir` (relative to the package when it is not found from the
/// working directory) is a test, and the `#[netns_test]` functions of the
/// target too. Prefer [`suite_main!`](crate::suite_main), which fixes the
/// folder at compile time.
pub fn main(dir: impl AsRef<Path>) -> ! {
    harness(dir).run()
}

/// What a scenario out of time had done, from its step log so far: the
/// last step it started, and the log itself when `with_log`.
fn out_of_time_note(so_far: &[String], with_log: bool) -> String {
    let last = match last_step_started(so_far) {
        Some(step) => format!("the last step it started: {step}"),
        None => "it had not started a step".to_string(),
    };
    if !with_log || so_far.is_empty() {
        return last;
    }
    format!("{last}\nthe step log so far:\n{}", so_far.join("\n"))
}

/// The last step a step log says was started (`step N (verb) at place`).
fn last_step_started(log: &[String]) -> Option<&str> {
    log.iter().rev().find_map(|line| {
        let text = line.split_once("] ").map_or(line.as_str(), |(_, t)| t);
        text.starts_with("step ").then_some(text)
    })
}
