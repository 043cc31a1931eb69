//! Reading suite files: variables, includes, the topology, the scenarios,
//! and every mistake with its position.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use super::check::check_scenario;
use super::error::{SuiteError, SuiteErrorKind};
use super::format::{Step, SuiteFile, VarValue};
use super::lab::{self, Layer};
use super::source::Source;
use super::{LabFile, LoadOptions, PlacedStep, Scenario, ScenarioFile};
use crate::Topology;

/// The seed of a file that sets none.
pub(crate) const DEFAULT_SEED: u64 = 1;

/// What an include brings: the topologies of the chain, variables and seed.
struct Base {
    layers: Vec<Layer>,
    vars: BTreeMap<String, String>,
    seed: Option<u64>,
}

/// The part of a file read before substitution.
#[derive(Deserialize, Default)]
struct Head {
    include: Option<Spanned<String>>,
    seed: Option<u64>,
    #[serde(default)]
    vars: BTreeMap<String, VarValue>,
}

fn err_at_start(path: &Path, kind: SuiteErrorKind) -> Vec<SuiteError> {
    vec![SuiteError {
        file: path.to_path_buf(),
        line: 1,
        column: 1,
        kind,
    }]
}

/// Reads `path` (and what it includes): its source, parsed file and base.
fn read(
    path: &Path,
    overrides: &BTreeMap<String, String>,
    seed_override: Option<u64>,
    stack: &mut Vec<PathBuf>,
) -> Result<(Source, SuiteFile, Base), Vec<SuiteError>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| err_at_start(path, SuiteErrorKind::Io(e.to_string())))?;
    let mut source = Source::new(path, text);
    let head: Head = if source.has_variables() {
        toml::from_str(&source.text).map_err(|e| vec![source.toml_error(&e)])?
    } else {
        Head::default()
    };
    let parse = |source: &Source| -> Result<SuiteFile, Vec<SuiteError>> {
        toml::from_str(&source.text).map_err(|e| vec![source.toml_error(&e)])
    };
    // Without variables in the text, one parse gives the head too.
    let early = if source.has_variables() {
        None
    } else {
        Some(parse(&source)?)
    };
    let (include, own_vars, own_seed) = match &early {
        Some(f) => (f.include.clone(), f.vars.clone(), f.seed),
        None => (head.include.clone(), head.vars.clone(), head.seed),
    };
    let mut vars: BTreeMap<String, String> = own_vars
        .iter()
        .map(|(k, v)| (k.clone(), v.to_string()))
        .collect();
    vars.extend(overrides.clone());
    let mut base = Base {
        layers: Vec::new(),
        vars,
        seed: seed_override.or(own_seed),
    };
    if let Some(inc) = include {
        let target = path.parent().unwrap_or(Path::new(".")).join(inc.get_ref());
        let canon = target.canonicalize().unwrap_or(target.clone());
        if stack.contains(&canon) {
            let chain: Vec<String> = stack
                .iter()
                .chain(std::iter::once(&canon))
                .map(|p| p.display().to_string())
                .collect();
            return Err(vec![source.error(
                inc.span().start,
                SuiteErrorKind::IncludeCycle(chain.join(" -> ")),
            )]);
        }
        if !target.is_file() {
            return Err(vec![source.error(
                inc.span().start,
                SuiteErrorKind::Io(format!("included file {} not found", target.display())),
            )]);
        }
        stack.push(canon);
        let (inc_source, inc_file, inc_base) = read(&target, &base.vars, base.seed, stack)?;
        stack.pop();
        let mut layers = inc_base.layers;
        if let Some(t) = inc_file.topology {
            layers.push(Layer {
                source: inc_source,
                offset: t.span().start,
                spec: t.into_inner(),
            });
        }
        base = Base {
            layers,
            vars: inc_base.vars,
            seed: base.seed.or(inc_base.seed),
        };
    }
    let file = match early {
        Some(f) => f,
        None => {
            let mut vars = base.vars.clone();
            vars.entry("seed".into())
                .or_insert_with(|| base.seed.unwrap_or(DEFAULT_SEED).to_string());
            source.substitute(&vars)?;
            parse(&source)?
        }
    };
    Ok((source, file, base))
}

/// Loads one suite file; `name` is its name in test names.
pub(crate) fn load_file(
    path: &Path,
    name: &str,
    options: &LoadOptions,
) -> Result<LabFile, Vec<SuiteError>> {
    let mut stack = vec![path.canonicalize().unwrap_or(path.to_path_buf())];
    // As for any lab: `NETNS_TEST_SEED` wins over the file's seed.
    let env_seed = std::env::var(crate::fault::SEED_ENV)
        .ok()
        .and_then(|v| v.trim().parse().ok());
    let seed_override = options.seed.or(env_seed);
    let (source, file, base) = read(path, &options.vars, seed_override, &mut stack)?;
    let seed = base.seed.unwrap_or(DEFAULT_SEED);
    let mut layers = base.layers;
    let table = file.topology.as_ref().map_or(0, |t| t.span().start);
    layers.push(Layer {
        source: source.clone(),
        offset: table,
        spec: file.topology.map(Spanned::into_inner).unwrap_or_default(),
    });
    let topology = lab::topology(&layers, seed).map_err(|e| vec![e])?;
    let ctx = Arc::new(ScenarioFile {
        path: path.to_path_buf(),
        name: name.to_string(),
        dir: path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".")),
        topology: topology.clone(),
        seed,
    });
    let nodes = topology.node_names();
    let mut errors = Vec::new();
    let mut scenarios: Vec<Scenario> = Vec::new();
    for sc in file.scenario {
        let offset = sc.span().start;
        let spec = sc.into_inner();
        if scenarios.iter().any(|s| s.short_name == spec.name) {
            errors.push(source.error(offset, SuiteErrorKind::DuplicateScenario(spec.name)));
            continue;
        }
        let before = errors.len();
        let mut steps: Vec<PlacedStep> = Vec::new();
        for (i, s) in spec.steps.iter().enumerate() {
            let offset = s.span().start;
            match s.get_ref().clone().try_into::<Step>() {
                Ok(step) => {
                    let (line, column) = source.position(offset);
                    steps.push(PlacedStep {
                        step,
                        line,
                        column,
                        offset,
                    });
                }
                Err(e) => errors.push(source.error(
                    offset,
                    SuiteErrorKind::Syntax(format!("step {}: {}", i + 1, e.message().trim())),
                )),
            }
        }
        if errors.len() > before {
            continue;
        }
        for (offset, kind) in check_scenario(&steps, &nodes) {
            errors.push(source.error(offset, kind));
        }
        if errors.len() > before {
            continue;
        }
        scenarios.push(Scenario {
            file: ctx.clone(),
            short_name: spec.name.clone(),
            description: spec.description.clone(),
            timeout: spec.timeout.map(|d| d.0),
            ignore: spec.ignore.clone(),
            steps,
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(LabFile {
        path: path.to_path_buf(),
        name: name.to_string(),
        topology,
        seed: ctx.seed,
        scenarios,
    })
}

/// Every `.toml` file under `path` (itself if a file), sorted, with its
/// name: the path relative to `path` without `.toml` (the file stem for a
/// file given directly).
pub(crate) fn discover(path: &Path) -> Vec<(PathBuf, String)> {
    if path.is_file() {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        return vec![(path.to_path_buf(), name)];
    }
    let mut out = Vec::new();
    let mut dirs = vec![path.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "toml") {
                let rel = p.strip_prefix(path).unwrap_or(&p).with_extension("");
                let name = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((p, name));
            }
        }
    }
    out.sort();
    out
}

/// A topology from a file, for tools that only build the lab (`up`, `draw`).
pub(crate) fn topology_of(path: &Path, options: &LoadOptions) -> Result<Topology, Vec<SuiteError>> {
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    load_file(path, &name, options).map(|f| f.topology)
}
