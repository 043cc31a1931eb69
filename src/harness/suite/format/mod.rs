//! The file format: what a suite file holds, as serde types (which the
//! JSON schema is generated from).

pub mod impair;
pub mod step;
pub mod topology;
pub mod units;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

pub use step::Step;
pub use topology::TopologySpec;
use units::Dur;

/// A suite file: a lab and the scenarios run on it.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuiteFile {
    /// Another file (path relative to this one) whose topology, variables
    /// and seed this file starts from; its scenarios are not taken.
    #[schemars(with = "Option<String>")]
    pub include: Option<Spanned<String>>,
    /// The seed of the scenarios: the lab's (`Topology::seed`, for its
    /// wires), `${seed}` (in this file and the one it includes), and
    /// `NETNS_TEST_SEED` in programs' environment. Unless set, the
    /// included file's, else 1; `NETNS_TEST_SEED` in the environment wins.
    pub seed: Option<u64>,
    /// Variables: `${name}` anywhere in this file (and in the file it
    /// includes) but in comments is replaced by the value's text; `$${` is
    /// a literal `${`.
    #[serde(default)]
    pub vars: BTreeMap<String, VarValue>,
    /// The lab, added to the included file's.
    #[schemars(with = "Option<TopologySpec>")]
    pub topology: Option<Spanned<TopologySpec>>,
    /// The scenarios; each one is a test.
    #[serde(default)]
    #[schemars(with = "Vec<ScenarioSpec>")]
    pub scenario: Vec<Spanned<ScenarioSpec>>,
}

/// A variable's value: text, a number or a boolean.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum VarValue {
    /// Text.
    Text(String),
    /// A whole number.
    Int(i64),
    /// A number.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

impl std::fmt::Display for VarValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VarValue::Text(s) => f.write_str(s),
            VarValue::Int(n) => write!(f, "{n}"),
            VarValue::Float(n) => write!(f, "{n}"),
            VarValue::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// A scenario: ordered steps on a fresh lab.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = steps_required)]
pub struct ScenarioSpec {
    /// The test's name after `file::`.
    pub name: String,
    /// What it shows, for people.
    pub description: Option<String>,
    /// A limit for the whole scenario (each step has its own limits);
    /// more than zero.
    #[schemars(with = "Option<Dur>")]
    pub timeout: Option<Spanned<Dur>>,
    /// Not run, with this reason: `netns-test run` reports it skipped; in
    /// a test target it is an ignored test (which `--ignored` runs).
    pub ignore: Option<String>,
    /// The steps, in order (each read as a [`Step`] by itself, so that a
    /// mistake in one is placed at that step); at least one.
    #[serde(default)]
    #[schemars(with = "Vec<Step>", length(min = 1))]
    pub steps: Vec<Spanned<toml::Value>>,
}

/// Makes `steps` a required key of a scenario's schema, without a default,
/// as the checker requires it. The type reads a missing `steps` as none, so
/// that the checker reports [`NoSteps`](super::SuiteErrorKind::NoSteps) for
/// both.
fn steps_required(schema: &mut schemars::Schema) {
    let object = schema.ensure_object();
    if let Some(steps) = object
        .get_mut("properties")
        .and_then(|p| p.get_mut("steps"))
        .and_then(serde_json::Value::as_object_mut)
    {
        steps.remove("default");
    }
    let required = object
        .entry("required")
        .or_insert_with(|| serde_json::Value::Array(Vec::new()));
    if let Some(list) = required.as_array_mut() {
        list.push("steps".into());
    }
}

/// The JSON schema of a suite file, pretty-printed (what
/// `docs/suite.schema.json` holds).
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(SuiteFile);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    text.push('\n');
    text
}
