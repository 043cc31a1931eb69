//! libtest's command line with any number of filters.
//!
//! libtest runs the tests whose names contain any of its positional
//! arguments (with `--exact`, equal to any), and `--skip` removes those
//! matching any skip pattern. libtest-mimic's [`Arguments`] holds one filter
//! and refuses a second one. So the positional arguments are taken out of
//! the command line before libtest-mimic parses the rest, and the trials are
//! filtered here.
//!
//! As libtest does, the number of test threads is `--test-threads`, else
//! [`THREADS_ENV`], else one per CPU; zero (or a value of the variable that
//! is no number) is refused with libtest's message and status.

use std::ffi::OsString;
use std::fmt;
use std::os::unix::ffi::OsStrExt;

use libtest_mimic::{Arguments, Conclusion, Trial};

/// The options of libtest-mimic whose value is the next argument (unless
/// written `--option=value`, or `-Zvalue`).
const TAKES_VALUE: [&str; 6] = [
    "--skip",
    "--test-threads",
    "--format",
    "--color",
    "--logfile",
    "-Z",
];

/// libtest's variable for the number of test threads, when the command
/// line does not give it.
const THREADS_ENV: &str = "RUST_TEST_THREADS";

/// libtest's exit status for a command line it refuses.
const ERROR_EXIT_CODE: i32 = 101;

/// A command line that libtest refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum CommandLineError {
    /// `--test-threads 0`.
    ZeroThreads,
    /// [`THREADS_ENV`], in the absence of `--test-threads`, is no number
    /// greater than zero; its value.
    ThreadsEnv(String),
}

impl fmt::Display for CommandLineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("argument for --test-threads must be a number > 0")?;
        match self {
            CommandLineError::ZeroThreads => Ok(()),
            CommandLineError::ThreadsEnv(value) => write!(f, " ({THREADS_ENV} is `{value}`)"),
        }
    }
}

impl std::error::Error for CommandLineError {}

/// The name of the stand-ins for trials filtered out here (see [`run`]): a
/// NUL byte keeps it from being part of any real test name.
const FILTERED_OUT: &str = "\0netns-test: filtered out\0";

/// A parsed command line: every filter, and the other arguments as
/// libtest-mimic parsed them (their `filter` left unset).
#[derive(Debug, Clone, Default)]
pub(super) struct CommandLine {
    pub(super) args: Arguments,
    pub(super) filters: Vec<String>,
}

impl CommandLine {
    /// Parses the process's command line, with [`THREADS_ENV`]; on an
    /// error (or `--help`), prints it and exits, as libtest does.
    pub(super) fn from_env() -> Self {
        match Self::parse(std::env::args_os(), std::env::var_os(THREADS_ENV)) {
            Ok(cl) => cl,
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(ERROR_EXIT_CODE)
            }
        }
    }

    /// Parses `argv`, whose first item is the program's name; `threads_env`
    /// is the value of [`THREADS_ENV`], which sets the number of threads
    /// when `--test-threads` does not (and tests are run, not listed).
    /// libtest-mimic reports its own parse errors and exits.
    pub(super) fn parse(
        argv: impl IntoIterator<Item = OsString>,
        threads_env: Option<OsString>,
    ) -> Result<Self, CommandLineError> {
        let (options, filters) = split(argv);
        let mut args = Arguments::from_iter(options);
        match (args.test_threads, threads_env) {
            (Some(0), _) => return Err(CommandLineError::ZeroThreads),
            (None, Some(value)) if !args.list => {
                let n = value.to_str().and_then(|v| v.parse::<usize>().ok());
                match n {
                    Some(n) if n > 0 => args.test_threads = Some(n),
                    _ => {
                        return Err(CommandLineError::ThreadsEnv(
                            value.to_string_lossy().into_owned(),
                        ))
                    }
                }
            }
            _ => {}
        }
        Ok(CommandLine { args, filters })
    }

    /// The command line that `args` stands for: its one filter, if any.
    pub(super) fn from_arguments(args: &Arguments) -> Self {
        let mut args = args.clone();
        let filters = args.filter.take().into_iter().collect();
        CommandLine { args, filters }
    }

    /// Whether `trial` runs (or is listed): its name matches one of the
    /// filters (any name does when there is none) and no skip pattern.
    pub(super) fn selects(&self, trial: &Trial) -> bool {
        let kinded = match trial.kind() {
            "" => trial.name().to_string(),
            kind => format!("[{kind}] {}", trial.name()),
        };
        // As libtest-mimic matches its one filter: a substring of the name
        // with its kind, or with `--exact` the name with or without it.
        let matches = |pattern: &String| {
            if self.args.exact {
                trial.name() == pattern || &kinded == pattern
            } else {
                kinded.contains(pattern.as_str())
            }
        };
        (self.filters.is_empty() || self.filters.iter().any(matches))
            && !self.args.skip.iter().any(matches)
    }
}

/// Splits `argv` into the arguments for libtest-mimic (the program's name
/// and the options, each with its value) and the filters (every positional
/// argument, and everything after `--`).
fn split(argv: impl IntoIterator<Item = OsString>) -> (Vec<OsString>, Vec<String>) {
    let mut argv = argv.into_iter();
    let mut options: Vec<OsString> = argv.next().into_iter().collect();
    let mut filters = Vec::new();
    let mut only_filters = false;
    while let Some(arg) = argv.next() {
        let bytes = arg.as_bytes();
        if only_filters || bytes == b"-" || !bytes.starts_with(b"-") {
            match arg.into_string() {
                Ok(filter) => filters.push(filter),
                // Not UTF-8: libtest-mimic refuses it with its own message.
                Err(arg) => options.push(arg),
            }
            continue;
        }
        if bytes == b"--" {
            only_filters = true;
            continue;
        }
        let takes_value = TAKES_VALUE.iter().any(|o| o.as_bytes() == bytes);
        options.push(arg);
        if takes_value {
            options.extend(argv.next());
        }
    }
    (options, filters)
}

/// Runs `trials` under the command line `cl`, as libtest-mimic runs them
/// under its arguments.
///
/// The trials that `cl` does not select are taken out here. libtest-mimic
/// reports as "filtered out" only the trials it removes itself, so each one
/// taken out is replaced by a stand-in that its `--skip` removes, and the
/// summary counts them as libtest does.
///
/// # Panics
///
/// When `cl` asks for zero test threads, which would wait forever.
pub(super) fn run(cl: &CommandLine, trials: Vec<Trial>) -> Conclusion {
    assert_ne!(
        cl.args.test_threads,
        Some(0),
        "{}",
        CommandLineError::ZeroThreads
    );
    let total = trials.len();
    let mut kept: Vec<Trial> = trials.into_iter().filter(|t| cl.selects(t)).collect();
    let filtered_out = total - kept.len();
    let mut args = cl.args.clone();
    args.filter = None;
    args.exact = false;
    args.skip = Vec::new();
    if filtered_out > 0 {
        args.skip.push(FILTERED_OUT.to_string());
        kept.extend((0..filtered_out).map(|_| Trial::test(FILTERED_OUT, || Ok(()))));
    }
    libtest_mimic::run(&args, kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_with_env(
        args: &[&str],
        threads_env: Option<&str>,
    ) -> Result<CommandLine, CommandLineError> {
        CommandLine::parse(
            std::iter::once("test-binary")
                .chain(args.iter().copied())
                .map(OsString::from),
            threads_env.map(OsString::from),
        )
    }

    fn parse(args: &[&str]) -> CommandLine {
        parse_with_env(args, None).unwrap()
    }

    fn selected(cl: &CommandLine, names: &[&str]) -> Vec<String> {
        names
            .iter()
            .map(|n| Trial::test(*n, || Ok(())))
            .filter(|t| cl.selects(t))
            .map(|t| t.name().to_string())
            .collect()
    }

    const NAMES: [&str; 5] = ["ping::v4", "ping::v6", "trace::v4", "tcp::open", "ping"];

    #[test]
    fn several_filters_select_the_union() {
        let cl = parse(&["ping::v", "trace"]);
        assert_eq!(cl.filters, ["ping::v", "trace"]);
        assert_eq!(cl.args.filter, None);
        assert_eq!(selected(&cl, &NAMES), ["ping::v4", "ping::v6", "trace::v4"]);
    }

    #[test]
    fn no_filter_selects_everything() {
        assert_eq!(selected(&parse(&[]), &NAMES), NAMES);
    }

    #[test]
    fn exact_filters_match_whole_names() {
        let cl = parse(&["--exact", "ping", "trace::v4", "tcp"]);
        assert!(cl.args.exact);
        assert_eq!(selected(&cl, &NAMES), ["trace::v4", "ping"]);
    }

    #[test]
    fn skip_applies_after_the_filters() {
        let cl = parse(&["ping", "--skip", "v6", "trace", "--skip=tcp"]);
        assert_eq!(cl.filters, ["ping", "trace"]);
        assert_eq!(cl.args.skip, ["v6", "tcp"]);
        assert_eq!(selected(&cl, &NAMES), ["ping::v4", "trace::v4", "ping"]);
        let cl = parse(&["--exact", "--skip", "ping", "ping", "ping::v4"]);
        assert_eq!(cl.filters, ["ping", "ping::v4"]);
        assert_eq!(selected(&cl, &NAMES), ["ping::v4"]);
    }

    #[test]
    fn option_values_are_not_filters() {
        let cl = parse(&[
            "--test-threads",
            "1",
            "a",
            "--color",
            "never",
            "b",
            "--logfile",
            "/dev/null",
            "-Z",
            "unstable-options",
            "--skip",
            "c",
            "--format=json",
            "--list",
            "d",
        ]);
        assert_eq!(cl.filters, ["a", "b", "d"]);
        assert_eq!(cl.args.test_threads, Some(1));
        assert_eq!(cl.args.logfile.as_deref(), Some("/dev/null"));
        assert_eq!(cl.args.skip, ["c"]);
        assert_eq!(cl.args.format, Some(libtest_mimic::FormatSetting::Json));
        assert!(cl.args.list);
    }

    #[test]
    fn after_a_double_dash_everything_is_a_filter() {
        let cl = parse(&["--ignored", "--", "--exact", "-"]);
        assert!(cl.args.ignored);
        assert!(!cl.args.exact);
        assert_eq!(cl.filters, ["--exact", "-"]);
    }

    #[test]
    fn kinds_are_matched_as_libtest_mimic_matches_them() {
        let t = Trial::test("v4", || Ok(())).with_kind("ping");
        assert!(parse(&["[ping]"]).selects(&t));
        assert!(parse(&["--exact", "v4"]).selects(&t));
        assert!(parse(&["--exact", "[ping] v4"]).selects(&t));
        assert!(!parse(&["--exact", "ping"]).selects(&t));
    }

    #[test]
    fn arguments_keep_their_one_filter() {
        let args = Arguments {
            filter: Some("trace".into()),
            ..Arguments::default()
        };
        let cl = CommandLine::from_arguments(&args);
        assert_eq!(cl.filters, ["trace"]);
        assert_eq!(selected(&cl, &NAMES), ["trace::v4"]);
    }

    #[test]
    fn rust_test_threads_counts_when_the_flag_is_absent() {
        let threads = |args: &[&str], env| parse_with_env(args, env).map(|cl| cl.args.test_threads);
        assert_eq!(threads(&[], None), Ok(None));
        assert_eq!(threads(&[], Some("3")), Ok(Some(3)));
        assert_eq!(threads(&["--test-threads", "2"], Some("3")), Ok(Some(2)));
        assert_eq!(threads(&["--test-threads=1"], Some("0")), Ok(Some(1)));
        // Listing runs nothing: the variable is not read, as under libtest.
        assert_eq!(threads(&["--list"], Some("0")), Ok(None));
    }

    #[test]
    fn zero_threads_are_refused_with_libtests_message() {
        let err = |args: &[&str], env| parse_with_env(args, env).unwrap_err().to_string();
        let message = "argument for --test-threads must be a number > 0";
        assert_eq!(err(&["--test-threads", "0"], None), message);
        assert_eq!(err(&["--test-threads=0", "--list"], Some("2")), message);
        for bad in ["0", "", "two", "-1"] {
            assert_eq!(
                err(&[], Some(bad)),
                format!("{message} (RUST_TEST_THREADS is `{bad}`)")
            );
        }
    }
}
