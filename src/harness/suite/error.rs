//! Errors in suite files, each with the file, line and column of the
//! mistake.

use std::fmt;
use std::path::PathBuf;

/// What is wrong at a place of a suite file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SuiteErrorKind {
    /// The file cannot be read.
    #[error("cannot read the file: {0}")]
    Io(String),
    /// Not TOML, or not the suite format (an unknown key, a missing field,
    /// a value of the wrong type); the parser's message.
    #[error("{0}")]
    Syntax(String),
    /// `${name}` names no variable.
    #[error("unknown variable `${{{name}}}` (variables: {known})")]
    UnknownVariable {
        /// The name.
        name: String,
        /// The variables there are.
        known: String,
    },
    /// Variables of `[vars]` (or the file's `seed`) whose values use each
    /// other, so that none of them has a value.
    #[error("variables make a cycle: {}", .names.join(" -> "))]
    VariableCycle {
        /// The names around the cycle, the first repeated at the end.
        names: Vec<String>,
    },
    /// `${name}` in the name of a variable of `[vars]`.
    #[error("a variable in the name of a variable: names in `[vars]` are written as they are")]
    VariableInKey,
    /// The seed and the included file depend on each other (`include`
    /// names a file through `${seed}` while the seed is the included
    /// file's, say), so that `${seed}` has no one value.
    #[error(
        "the seed does not settle: the included file depends on it and it on the included file"
    )]
    SeedAndInclude,
    /// `include` makes a cycle.
    #[error("`include` makes a cycle: {0}")]
    IncludeCycle(String),
    /// The topology is invalid.
    #[error("invalid topology: {0}")]
    Topology(String),
    /// Two scenarios have the same name.
    #[error("a second scenario called `{0}`")]
    DuplicateScenario(String),
    /// A scenario has no step, so it would pass without testing anything.
    #[error("scenario `{0}` has no step: it would pass without testing anything")]
    NoSteps(String),
    /// A step names a node the topology does not have.
    #[error("step {step} ({verb}): unknown node `{node}` (nodes: {known})")]
    UnknownNode {
        /// The step's number, from 1.
        step: usize,
        /// Its verb.
        verb: &'static str,
        /// The name.
        node: String,
        /// The nodes there are.
        known: String,
    },
    /// A step names a program no earlier step started.
    #[error("step {step} ({verb}): no program `{name}` was started before")]
    UnknownProgram {
        /// The step's number, from 1.
        step: usize,
        /// Its verb.
        verb: &'static str,
        /// The name.
        name: String,
    },
    /// A step's destination or address (`to`, `filter.src`, ...) is
    /// neither an address nor a node of the lab.
    #[error(
        "step {step} ({verb}): `{field} = \"{value}\"`: `{host}` is neither an address nor a node"
    )]
    UnknownHost {
        /// The step's number, from 1.
        step: usize,
        /// Its verb.
        verb: &'static str,
        /// The field: `to`, `filter.src`, `filter.dst` or `filter.host`.
        field: &'static str,
        /// What the field says (`h9:80`).
        value: String,
        /// The host in it (`h9`); boxed, to keep errors small.
        host: Box<str>,
    },
    /// A step is wrong in another way (a bad regex, address, signal...).
    #[error("step {step} ({verb}): {message}")]
    InvalidStep {
        /// The step's number, from 1.
        step: usize,
        /// Its verb.
        verb: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// An error in a suite file: where and what.
///
/// Displayed `file:line:column: message`, as compilers print them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SuiteError {
    /// The file.
    pub file: PathBuf,
    /// The line, from 1.
    pub line: usize,
    /// The column (in characters), from 1.
    pub column: usize,
    /// What is wrong.
    pub kind: SuiteErrorKind,
}

impl fmt::Display for SuiteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.kind
        )
    }
}
