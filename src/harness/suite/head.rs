//! A file's head: `include`, `seed` and `[vars]`, read before the rest of
//! the file because they decide what each `${name}` becomes, while they
//! may hold `${name}` themselves.
//!
//! The head is read from the text with the variables known so far
//! substituted and placeholders for the others; a value that holds no
//! placeholder is settled. Each settled variable of `[vars]` (and the
//! seed) becomes known, and the text is read again until nothing more
//! settles. What is left unsettled is then traced to its cause: a name no
//! variable has, or variables that use each other in a cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::error::{SuiteError, SuiteErrorKind};
use super::format::VarValue;
use super::source::{Hole, Source};

/// The head as the `toml` crate reads it.
#[derive(Deserialize, Default)]
struct RawHead {
    include: Option<Spanned<String>>,
    seed: Option<Spanned<u64>>,
    #[serde(default)]
    vars: BTreeMap<Spanned<String>, Spanned<VarValue>>,
}

/// A file's head, its variables substituted.
#[derive(Debug, Clone, Default)]
pub(crate) struct Head {
    /// The included path and where it is written (a byte offset of the text
    /// as written), or why it is not known (its variables' problems).
    pub(crate) include: Option<Result<(String, usize), Vec<SuiteError>>>,
    /// The file's own seed, if it sets one (and it is settled).
    pub(crate) seed: Option<u64>,
    /// What `${seed}` stood for in the head, when the file writes
    /// `${seed}` and the seed is known.
    pub(crate) seed_seen: Option<u64>,
    /// Every variable: `weak`, then the file's own, then `strong`.
    pub(crate) vars: BTreeMap<String, String>,
    /// The names that did not settle: variables of `[vars]`, and `seed`
    /// when the file's own seed did not.
    pub(crate) unsettled: BTreeSet<String>,
    /// Why they did not: each unknown name where it is written, each cycle.
    pub(crate) problems: Vec<SuiteError>,
}

impl Head {
    /// The errors of substituting the whole file with the head's variables
    /// (`errors`, when it failed), each traced to its cause: an unknown
    /// variable that only did not settle is left out for the problem that
    /// kept it from settling; sorted by place.
    pub(crate) fn blame(&self, errors: Vec<SuiteError>) -> Vec<SuiteError> {
        let place = |e: &SuiteError| (e.line, e.column);
        let mut out: Vec<SuiteError> = errors
            .into_iter()
            .filter(|e| {
                let follows = matches!(&e.kind, SuiteErrorKind::UnknownVariable { name, .. }
                    if self.unsettled.contains(name.trim()));
                !follows && !self.problems.iter().any(|p| place(p) == place(e))
            })
            .collect();
        out.extend(self.problems.iter().cloned());
        out.sort_by_key(place);
        out
    }
}

/// Whether the two byte ranges share a byte.
fn overlap(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// Whether `span` holds no placeholder of `holes`.
fn settled(span: &Range<usize>, holes: &[Hole]) -> bool {
    !holes.iter().any(|h| overlap(&h.span, span))
}

/// `vars` with `${seed}` when the seed is known and no variable is called
/// `seed`.
fn with_seed(vars: &BTreeMap<String, String>, seed: Option<u64>) -> BTreeMap<String, String> {
    let mut all = vars.clone();
    if let Some(s) = seed {
        all.entry("seed".into()).or_insert_with(|| s.to_string());
    }
    all
}

/// The names of `vars`, for messages.
fn names(vars: &BTreeMap<String, String>) -> String {
    if vars.is_empty() {
        "none".into()
    } else {
        vars.keys().cloned().collect::<Vec<_>>().join(", ")
    }
}

/// `source` read with `lookup` substituted and placeholders for the other
/// names: the text, its placeholders and its head.
fn read_with(
    source: &Source,
    lookup: &BTreeMap<String, String>,
) -> Result<(Source, Vec<Hole>, RawHead), Vec<SuiteError>> {
    let mut text = source.clone();
    let holes = text.substitute_known(lookup)?;
    let raw: RawHead = toml::from_str(&text.text).map_err(|e| vec![text.toml_error(&e)])?;
    Ok((text, holes, raw))
}

/// Reads the head of `source`. Its variables are, weakest first, `weak`
/// (those of the file it includes), its own `[vars]`, and `strong` (those
/// given from outside). `${seed}` is a variable called `seed` if there is
/// one, else `seed_override` if given, else the file's `seed` if it sets
/// one (nothing until it settles), else `fallback` (the included file's
/// seed, or the default). A `${name}` in a name of `[vars]` is an error.
pub(crate) fn read_head(
    source: &Source,
    weak: &BTreeMap<String, String>,
    strong: &BTreeMap<String, String>,
    seed_override: Option<u64>,
    fallback: u64,
) -> Result<Head, Vec<SuiteError>> {
    let mut known = weak.clone();
    known.extend(strong.clone());
    let (first, holes, raw) = read_with(source, &known)?;
    let keys: Vec<SuiteError> = raw
        .vars
        .keys()
        .filter_map(|k| first.variable_in(&k.span()))
        .map(|at| source.error_at_original(at, SuiteErrorKind::VariableInKey))
        .collect();
    if !keys.is_empty() {
        return Err(keys);
    }
    // A variable called `seed` stands for `${seed}` in place of the seed.
    let seed_var = known.contains_key("seed") || raw.vars.keys().any(|k| k.get_ref() == "seed");
    let writes_seed = !seed_var && holes.iter().any(|h| h.name.trim() == "seed");
    // The file's own seed, once settled, stands for `${seed}`; until then
    // nothing does.
    let fallback = raw.seed.is_none().then_some(fallback);
    let mut own_seed = None;
    // Each round settles at least one more name, or is the last.
    let mut rounds = 0;
    loop {
        rounds += 1;
        let seed = seed_override
            .or(own_seed)
            .or(fallback)
            .filter(|_| !seed_var);
        let lookup = with_seed(&known, seed);
        let (text, holes, raw) = read_with(source, &lookup)?;
        let mut next = weak.clone();
        for (name, value) in &raw.vars {
            if settled(&value.span(), &holes) {
                next.insert(name.get_ref().clone(), value.get_ref().to_string());
            }
        }
        next.extend(strong.clone());
        let next_seed = raw
            .seed
            .as_ref()
            .filter(|s| settled(&s.span(), &holes))
            .map(|s| *s.get_ref());
        if (next == known && next_seed == own_seed) || rounds > raw.vars.len() + 2 {
            let mut pending: BTreeMap<String, Range<usize>> = raw
                .vars
                .iter()
                .filter(|(name, _)| !known.contains_key(name.get_ref()))
                .map(|(name, value)| (name.get_ref().clone(), value.span()))
                .collect();
            if let Some(s) = raw.seed.as_ref().filter(|_| seed.is_none() && !seed_var) {
                pending.insert("seed".into(), s.span());
            }
            let trace = || Trace {
                source,
                holes: &holes,
                pending: &pending,
                known: names(&lookup),
                done: BTreeSet::new(),
                stack: Vec::new(),
                out: Vec::new(),
            };
            let include = raw.include.map(|inc| {
                let span = inc.span();
                if settled(&span, &holes) {
                    return Ok((inc.into_inner(), text.original_offset(span.start)));
                }
                let mut t = trace();
                for h in holes.iter().filter(|h| overlap(&h.span, &span)) {
                    t.hole(h);
                }
                Err(t.out)
            });
            let mut t = trace();
            for name in pending.keys() {
                t.name(name);
            }
            let problems = t.out;
            return Ok(Head {
                include,
                seed: own_seed,
                seed_seen: seed.filter(|_| writes_seed),
                vars: known,
                unsettled: pending.into_keys().collect(),
                problems,
            });
        }
        known = next;
        own_seed = next_seed;
    }
}

/// Follows unsettled names to what keeps them from settling.
struct Trace<'a> {
    source: &'a Source,
    /// The placeholders of the last reading.
    holes: &'a [Hole],
    /// The names that did not settle, with their values' bytes.
    pending: &'a BTreeMap<String, Range<usize>>,
    /// The names there are, for messages.
    known: String,
    /// The names followed already.
    done: BTreeSet<String>,
    /// The names being followed, outermost first.
    stack: Vec<String>,
    /// The causes found.
    out: Vec<SuiteError>,
}

impl Trace<'_> {
    /// Why the `${name}` of `hole` has no value.
    fn hole(&mut self, hole: &Hole) {
        let name = hole.name.trim();
        let kind = if let Some(from) = self.stack.iter().position(|s| s == name) {
            let mut names = self.stack[from..].to_vec();
            names.push(name.to_string());
            SuiteErrorKind::VariableCycle { names }
        } else if self.pending.contains_key(name) {
            self.name(name);
            return;
        } else {
            SuiteErrorKind::UnknownVariable {
                name: hole.name.clone(),
                known: self.known.clone(),
            }
        };
        self.out
            .push(self.source.error_at_original(hole.original, kind));
    }

    /// Why the value of `name` (which did not settle) has none.
    fn name(&mut self, name: &str) {
        if !self.done.insert(name.to_string()) {
            return;
        }
        let span = self.pending[name].clone();
        self.stack.push(name.to_string());
        for h in self.holes.iter().filter(|h| overlap(&h.span, &span)) {
            self.hole(h);
        }
        self.stack.pop();
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::source::tests::vars;
    use super::*;

    fn head(text: &str, strong: &[(&str, &str)]) -> Result<Head, Vec<SuiteError>> {
        let source = Source::new(Path::new("f.toml"), text.into());
        read_head(&source, &BTreeMap::new(), &vars(strong), None, 1)
    }

    #[test]
    fn the_include_path_is_substituted() {
        let h = head(
            "include = \"labs/${lab}.toml\"\n[vars]\nlab = \"router\"\n",
            &[],
        )
        .unwrap();
        let (path, offset) = h.include.unwrap().unwrap();
        assert_eq!(path, "labs/router.toml");
        assert_eq!(offset, 10);
        let h = head("include = \"labs/${lab}.toml\"\n", &[("lab", "x")]).unwrap();
        assert_eq!(h.include.unwrap().unwrap().0, "labs/x.toml");
    }

    #[test]
    fn an_unknown_variable_in_the_include_is_placed() {
        let h = head("include = \"labs/${lab}.toml\"\n", &[]).unwrap();
        let errors = h.include.unwrap().unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].line, errors[0].column), (1, 17));
        assert!(
            matches!(&errors[0].kind, SuiteErrorKind::UnknownVariable { name, .. } if name == "lab")
        );
    }

    #[test]
    fn unquoted_variables_and_variables_in_vars_settle() {
        let h = head(
            "seed = ${s}\n[vars]\nn = 3\ns = ${n}\nurl = \"${host}:${port}\"\nhost = \"h2\"\n\
             [[scenario]]\nname = \"x\"\nsteps = [{ do = \"ping\", count = ${n}, to = ${later} }]\n",
            &[("port", "80")],
        )
        .unwrap();
        assert_eq!(h.vars["url"], "h2:80");
        assert_eq!(h.vars["s"], "3");
        assert_eq!(h.seed, Some(3));
    }

    #[test]
    fn strong_variables_win() {
        let h = head("[vars]\nport = 1\n", &[("port", "2")]).unwrap();
        assert_eq!(h.vars["port"], "2");
    }

    #[test]
    fn seed_stands_for_the_default_the_fallback_or_the_files_own() {
        let text = "[vars]\nmsg = \"s${seed}\"\n";
        let h = head(text, &[]).unwrap();
        assert_eq!(h.vars["msg"], "s1");
        assert_eq!(h.seed_seen, Some(1));
        let source = Source::new(Path::new("f.toml"), text.into());
        let h = read_head(&source, &BTreeMap::new(), &BTreeMap::new(), None, 42).unwrap();
        assert_eq!(h.vars["msg"], "s42");
        let h = read_head(&source, &BTreeMap::new(), &BTreeMap::new(), Some(5), 42).unwrap();
        assert_eq!(h.vars["msg"], "s5");
        let h = head(&format!("seed = ${{n}}\n{text}n = 7\n"), &[]).unwrap();
        assert_eq!((h.vars["msg"].as_str(), h.seed), ("s7", Some(7)));
        assert!(h.problems.is_empty() && h.unsettled.is_empty());
        // A file that does not write `${seed}` saw no seed.
        assert_eq!(
            head("[vars]\nx = \"${y}\"\ny = 1\n", &[])
                .unwrap()
                .seed_seen,
            None
        );
    }

    #[test]
    fn an_include_through_an_unknown_variable_blames_it() {
        let text = "include = \"labs/${lab}.toml\"\n[vars]\nlab = \"${kind}\"\n";
        let h = head(text, &[]).unwrap();
        let errors = h.include.unwrap().unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert_eq!((errors[0].line, errors[0].column), (3, 8));
        assert!(
            matches!(&errors[0].kind, SuiteErrorKind::UnknownVariable { name, .. } if name == "kind"),
            "{:?}",
            errors[0].kind
        );
        assert_eq!(h.unsettled, ["lab".to_string()].into());
        assert_eq!(h.problems, errors);
    }

    #[test]
    fn a_cycle_is_one_error_naming_its_variables() {
        let h = head(
            "include = \"${a}\"\n[vars]\na = \"${b}\"\nb = \"x${a}\"\nc = \"${a}\"\n",
            &[],
        )
        .unwrap();
        for errors in [h.include.clone().unwrap().unwrap_err(), h.problems.clone()] {
            assert_eq!(errors.len(), 1, "{errors:#?}");
            let names = match &errors[0].kind {
                SuiteErrorKind::VariableCycle { names } => names.clone(),
                other => panic!("{other:?}"),
            };
            assert_eq!(names.first(), names.last());
            assert!(names.contains(&"a".into()) && names.contains(&"b".into()));
        }
        assert_eq!(h.unsettled.len(), 3);
        let h = head("seed = ${s}\n[vars]\ns = ${seed}\n", &[]).unwrap();
        assert_eq!(
            h.problems[0].kind,
            SuiteErrorKind::VariableCycle {
                names: vec!["s".into(), "seed".into(), "s".into()]
            }
        );
        assert_eq!((h.problems[0].line, h.problems[0].column), (1, 8));
    }

    #[test]
    fn blame_leaves_out_what_only_did_not_settle() {
        let text = "[vars]\nmsg = \"${kind}\"\n[[scenario]]\nname = \"${msg}\"\n";
        let h = head(text, &[]).unwrap();
        let mut source = Source::new(Path::new("f.toml"), text.into());
        let errors = source.substitute(&h.vars).unwrap_err();
        assert_eq!(errors.len(), 2);
        let blamed = h.blame(errors);
        assert_eq!(blamed.len(), 1, "{blamed:#?}");
        assert_eq!((blamed[0].line, blamed[0].column), (2, 8));
    }

    #[test]
    fn a_variable_in_a_name_of_vars_is_refused() {
        for text in ["[vars]\n${k} = 1\n", "[vars]\nk = \"x\"\n\"a${k}\" = 1\n"] {
            let errors = head(text, &[]).unwrap_err();
            assert_eq!(errors.len(), 1, "{errors:#?}");
            assert_eq!(errors[0].kind, SuiteErrorKind::VariableInKey);
        }
        let errors = head("[vars]\n${k} = 1\n", &[]).unwrap_err();
        assert_eq!((errors[0].line, errors[0].column), (2, 1));
        // An escape is no variable.
        assert!(head("[vars]\n\"$${k}\" = 1\n", &[]).is_ok());
    }
}
