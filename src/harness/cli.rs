//! libtest's command line with any number of filters.
//!
//! libtest runs the tests whose names contain any of its positional
//! arguments (with `--exact`, equal to any), and `--skip` removes those
//! matching any skip pattern. libtest-mimic's [`Arguments`] holds one filter
//! and refuses a second one. So the positional arguments are taken out of
//! the command line before libtest-mimic parses the rest, and the trials are
//! filtered here.

use std::ffi::OsString;
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
    /// Parses the process's command line; on an error (or `--help`),
    /// libtest-mimic prints it and exits, as libtest does.
    pub(super) fn from_env() -> Self {
        Self::parse(std::env::args_os())
    }

    /// Parses `argv`, whose first item is the program's name.
    pub(super) fn parse(argv: impl IntoIterator<Item = OsString>) -> Self {
        let (options, filters) = split(argv);
        CommandLine {
            args: Arguments::from_iter(options),
            filters,
        }
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
pub(super) fn run(cl: &CommandLine, trials: Vec<Trial>) -> Conclusion {
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

    fn parse(args: &[&str]) -> CommandLine {
        CommandLine::parse(
            std::iter::once("test-binary")
                .chain(args.iter().copied())
                .map(OsString::from),
        )
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
}
