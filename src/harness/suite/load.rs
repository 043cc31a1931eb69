//! Reading suite files: variables, includes, the topology, the scenarios,
//! and every mistake with its position.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use toml::Spanned;

use super::check::{check_scenario, StepView};
use super::error::{SuiteError, SuiteErrorKind};
use super::format::{Step, SuiteFile};
use super::head::{read_head, Head};
use super::lab::{self, Layer};
use super::source::Source;
use super::view::LabView;
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

fn err_at_start(path: &Path, kind: SuiteErrorKind) -> Vec<SuiteError> {
    vec![SuiteError {
        file: path.to_path_buf(),
        line: 1,
        column: 1,
        kind,
    }]
}

/// The folder of `path`, `.` for a bare file name.
fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Reads the file `inc` that `source` (at `path`) includes, written at
/// byte `at`, with `vars` and `seed`: its topologies (the chain's, its
/// own last), variables and seed.
fn include(
    source: &Source,
    path: &Path,
    (inc, at): (&str, usize),
    vars: &BTreeMap<String, String>,
    seed: Option<u64>,
    stack: &mut Vec<PathBuf>,
) -> Result<Base, Vec<SuiteError>> {
    let target = folder_of(path).join(inc);
    let canon = target.canonicalize().unwrap_or(target.clone());
    if stack.contains(&canon) {
        let chain: Vec<String> = stack
            .iter()
            .chain(std::iter::once(&canon))
            .map(|p| p.display().to_string())
            .collect();
        return Err(vec![source.error_at_original(
            at,
            SuiteErrorKind::IncludeCycle(chain.join(" -> ")),
        )]);
    }
    if !target.is_file() {
        return Err(vec![source.error_at_original(
            at,
            SuiteErrorKind::Io(format!("included file {} not found", target.display())),
        )]);
    }
    stack.push(canon);
    let read = read(&target, vars, seed, stack);
    stack.pop();
    let (inc_source, inc_file, mut base) = read?;
    if let Some(t) = inc_file.topology {
        base.layers.push(Layer {
            source: inc_source,
            offset: t.span().start,
            spec: t.into_inner(),
        });
    }
    Ok(base)
}

/// Reads `path` (and what it includes): its source, parsed file and base.
/// `overrides` are variables given from outside, `seed_override` a seed.
fn read(
    path: &Path,
    overrides: &BTreeMap<String, String>,
    seed_override: Option<u64>,
    stack: &mut Vec<PathBuf>,
) -> Result<(Source, SuiteFile, Base), Vec<SuiteError>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| err_at_start(path, SuiteErrorKind::Io(e.to_string())))?;
    let mut source = Source::new(path, text);
    let parse = |source: &Source| -> Result<SuiteFile, Vec<SuiteError>> {
        toml::from_str(&source.text).map_err(|e| vec![source.toml_error(&e)])
    };
    if !source.has_variables() {
        // One parse gives the head too.
        let file = parse(&source)?;
        let mut vars: BTreeMap<String, String> = file
            .vars
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect();
        vars.extend(overrides.clone());
        let seed = seed_override.or(file.seed);
        let base = match &file.include {
            None => Base {
                layers: Vec::new(),
                vars,
                seed,
            },
            Some(inc) => {
                let at = (inc.get_ref().as_str(), inc.span().start);
                let inc = include(&source, path, at, &vars, seed, stack)?;
                Base {
                    seed: seed.or(inc.seed),
                    ..inc
                }
            }
        };
        return Ok((source, file, base));
    }
    let (head, base) = read_with_variables(&source, path, overrides, seed_override, stack)?;
    let mut vars = base.vars.clone();
    vars.entry("seed".into())
        .or_insert_with(|| base.seed.unwrap_or(DEFAULT_SEED).to_string());
    let errors = head.blame(source.substitute(&vars).err().unwrap_or_default());
    if !errors.is_empty() {
        return Err(errors);
    }
    let file = parse(&source)?;
    Ok((source, file, base))
}

/// The head and base of `source` (at `path`), which has variables.
///
/// What `${seed}` stands for may depend on the included file (its seed
/// counts when this file sets none), and which file is included on
/// `${seed}`: the head is read first with a guess (the default seed), and
/// once more if the included file showed the guess wrong. The included
/// file is read with this file's seed when it sets one, so that
/// `${seed}` is one seed everywhere.
fn read_with_variables(
    source: &Source,
    path: &Path,
    overrides: &BTreeMap<String, String>,
    seed_override: Option<u64>,
    stack: &mut Vec<PathBuf>,
) -> Result<(Head, Base), Vec<SuiteError>> {
    let none = BTreeMap::new();
    let mut guess = DEFAULT_SEED;
    let mut own_seed = None;
    let mut retried = false;
    loop {
        let first = read_head(source, &none, overrides, seed_override, guess)?;
        let Some(inc) = first.include.clone() else {
            let base = Base {
                layers: Vec::new(),
                vars: first.vars.clone(),
                seed: seed_override.or(first.seed),
            };
            return Ok((first, base));
        };
        let (inc, at) = inc?;
        let passed = seed_override.or(first.seed).or(own_seed);
        let base = include(source, path, (&inc, at), &first.vars, passed, stack)?;
        // The included variables may settle more of this file's.
        let inc_seed = base.seed.unwrap_or(DEFAULT_SEED);
        let head = read_head(source, &base.vars, overrides, seed_override, inc_seed)?;
        let seed = seed_override.or(head.seed).unwrap_or(inc_seed);
        if first.seed_seen.is_none_or(|s| s == seed) && inc_seed == seed {
            let base = Base {
                layers: base.layers,
                vars: head.vars.clone(),
                seed: seed_override.or(head.seed).or(base.seed),
            };
            return Ok((head, base));
        }
        if retried {
            return Err(vec![
                source.error_at_original(at, SuiteErrorKind::SeedAndInclude)
            ]);
        }
        retried = true;
        guess = seed;
        own_seed = head.seed;
    }
}

/// Loads one suite file; `name` is its name in test names.
pub(crate) fn load_file(
    path: &Path,
    name: &str,
    options: &LoadOptions,
) -> Result<LabFile, Vec<SuiteError>> {
    let mut stack = vec![path.canonicalize().unwrap_or(path.to_path_buf())];
    // As for any lab: `NETNS_TEST_SEED` wins over the file's seed.
    let seed_override = options.seed.or(crate::sys::env::seed());
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
        dir: folder_of(path),
        topology: topology.clone(),
        seed,
    });
    let lab = LabView::new(&topology);
    let mut errors = Vec::new();
    let mut scenarios: Vec<Scenario> = Vec::new();
    let mut names = std::collections::HashSet::new();
    for sc in file.scenario {
        let offset = sc.span().start;
        let spec = sc.into_inner();
        if !names.insert(spec.name.clone()) {
            errors.push(source.error(offset, SuiteErrorKind::DuplicateScenario(spec.name)));
            continue;
        }
        if spec.name.is_empty() || spec.name.contains("::") {
            errors.push(source.error(
                offset,
                SuiteErrorKind::Syntax(format!(
                    "scenario name `{}`: not empty and without `::` (it joins the file's \
                     name in test names)",
                    spec.name
                )),
            ));
            continue;
        }
        let before = errors.len();
        if let Some(t) = spec.timeout.as_ref().filter(|t| t.get_ref().0.is_zero()) {
            errors.push(source.error(
                t.span().start,
                SuiteErrorKind::Syntax(format!(
                    "scenario `{}`: `timeout` must be more than zero (leave it out for no \
                     limit)",
                    spec.name
                )),
            ));
        }
        if spec.steps.is_empty() {
            errors.push(source.error(offset, SuiteErrorKind::NoSteps(spec.name.clone())));
        }
        let mut read: Vec<Option<PlacedStep>> = Vec::new();
        for (i, s) in spec.steps.iter().enumerate() {
            let offset = s.span().start;
            match s.get_ref().clone().try_into::<Step>() {
                Ok(step) => {
                    let (line, column) = source.position(offset);
                    read.push(Some(PlacedStep {
                        step,
                        line,
                        column,
                        offset,
                    }));
                }
                Err(e) => {
                    errors.push(source.error(
                        offset,
                        SuiteErrorKind::Syntax(format!("step {}: {}", i + 1, e.message().trim())),
                    ));
                    read.push(None);
                }
            }
        }
        // The steps that were read are checked too, beside those that
        // were not.
        let views: Vec<StepView<'_>> = read
            .iter()
            .zip(&spec.steps)
            .map(|(r, raw)| match r {
                Some(placed) => StepView::Read(placed),
                None => StepView::Unread(raw.get_ref()),
            })
            .collect();
        for (offset, kind) in check_scenario(&views, &lab) {
            errors.push(source.error(offset, kind));
        }
        errors[before..].sort_by_key(|e| (e.line, e.column));
        if errors.len() > before {
            continue;
        }
        let steps: Vec<PlacedStep> = read.into_iter().flatten().collect();
        scenarios.push(Scenario {
            file: ctx.clone(),
            short_name: spec.name.clone(),
            description: spec.description.clone(),
            timeout: spec.timeout.map(|d| d.into_inner().0),
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
/// file given directly). A folder reached again through a symbolic link
/// is searched once, and a file reached again (its canonical path in
/// `seen`, which gets the files found) is left out.
pub(crate) fn discover(path: &Path, seen: &mut HashSet<PathBuf>) -> Vec<(PathBuf, String)> {
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    if path.is_file() {
        if !seen.insert(canonical(path)) {
            return Vec::new();
        }
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        return vec![(path.to_path_buf(), name)];
    }
    let mut out = Vec::new();
    let mut visited = HashSet::new();
    let mut dirs = vec![path.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        if !visited.insert(canonical(&dir)) {
            continue;
        }
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
    // In order, so that the file kept is the first by path.
    out.retain(|(p, _)| seen.insert(canonical(p)));
    out
}

/// Names files apart: a name that two files or more share becomes, for
/// each of them, its path from the working directory without `.toml` (the
/// absolute path when it is not under it), and a name still shared (one
/// file under two paths that its deduplication did not join, as a hard
/// link) gets `#2`, `#3`, ... in order.
pub(crate) fn distinct_names(files: &mut [(PathBuf, String)]) {
    let shared = |files: &[(PathBuf, String)], name: &str| {
        files.iter().filter(|(_, n)| n == name).count() > 1
    };
    let renamed: Vec<Option<String>> = files
        .iter()
        .map(|(path, name)| shared(files, name).then(|| name_from_here(path)))
        .collect();
    for ((_, name), new) in files.iter_mut().zip(renamed) {
        if let Some(new) = new {
            *name = new;
        }
    }
    let mut seen = BTreeMap::<String, usize>::new();
    for (_, name) in files.iter_mut() {
        let n = seen.entry(name.clone()).or_default();
        *n += 1;
        if *n > 1 {
            *name = format!("{name}#{n}");
        }
    }
}

/// The path of `path` from the working directory (the absolute path when
/// it is not under it), without `.toml`, its parts joined with `/`.
fn name_from_here(path: &Path) -> String {
    let here = std::env::current_dir().unwrap_or_default();
    let shown = match path.strip_prefix(&here) {
        Ok(rel) if path.is_absolute() => rel,
        _ => path,
    };
    let shown = match shown.extension() {
        Some(x) if x == "toml" => shown.with_extension(""),
        _ => shown.to_path_buf(),
    };
    let parts: Vec<String> = shown
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .map(|c| match c {
            std::path::Component::RootDir => String::new(),
            c => c.as_os_str().to_string_lossy().into_owned(),
        })
        .collect();
    parts.join("/")
}

/// Whether a file found in a folder is a lab meant to be included, not
/// loaded alone: it has no scenario, and its only mistakes are variables it
/// leaves to the files that include it. Its lab is checked through them.
pub(crate) fn is_lab_for_including(path: &Path, result: &Result<LabFile, Vec<SuiteError>>) -> bool {
    let Err(errors) = result else {
        return false;
    };
    let only_variables = errors
        .iter()
        .all(|e| matches!(e.kind, SuiteErrorKind::UnknownVariable { .. }));
    only_variables && !has_scenario(path)
}

/// Whether the file at `path` has a `scenario` key at its top level, its
/// variables all taken as unknown (each a placeholder); a file that cannot
/// be read or parsed so counts as having one, so that its mistakes are
/// reported.
fn has_scenario(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return true;
    };
    let mut source = Source::new(path, text);
    if source.substitute_known(&BTreeMap::new()).is_err() {
        return true;
    }
    source
        .text
        .parse::<toml::Table>()
        .map_or(true, |table| table.contains_key("scenario"))
}

/// A topology from a file, for tools that only build the lab (`up`, `draw`).
pub(crate) fn topology_of(path: &Path, options: &LoadOptions) -> Result<Topology, Vec<SuiteError>> {
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    load_file(path, &name, options).map(|f| f.topology)
}
