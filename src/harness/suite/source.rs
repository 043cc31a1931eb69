//! A file's text, `${name}` substitution, and byte offsets turned back
//! into lines and columns of the text as written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::error::{SuiteError, SuiteErrorKind};

/// A file's text as written, and as read after substitution.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub(crate) path: PathBuf,
    /// As written.
    original: String,
    /// After `${name}` substitution.
    pub(crate) text: String,
    /// For each replacement: (start in `text`, end in `text`, start in
    /// `original`, end in `original`), in order.
    map: Vec<(usize, usize, usize, usize)>,
}

impl Source {
    /// The file's text, with no substitution yet.
    pub(crate) fn new(path: &Path, original: String) -> Source {
        Source {
            path: path.to_path_buf(),
            text: original.clone(),
            original,
            map: Vec::new(),
        }
    }

    /// Whether the text asks for substitution at all.
    pub(crate) fn has_variables(&self) -> bool {
        self.original.contains("${")
    }

    /// Replaces every `${name}` by its value (`$${` is a literal `${`);
    /// every unknown name is an error at its place.
    pub(crate) fn substitute(
        &mut self,
        vars: &BTreeMap<String, String>,
    ) -> Result<(), Vec<SuiteError>> {
        let src = &self.original;
        let mut out = String::with_capacity(src.len());
        let mut map = Vec::new();
        let mut errors = Vec::new();
        let mut i = 0;
        let bytes = src.as_bytes();
        while i < bytes.len() {
            if src[i..].starts_with("$${") {
                map.push((out.len(), out.len() + 2, i, i + 3));
                out.push_str("${");
                i += 3;
            } else if src[i..].starts_with("${") {
                let Some(end) = src[i + 2..].find('}') else {
                    errors.push(self.error_at_original(
                        i,
                        SuiteErrorKind::Syntax("`${` without a closing `}`".into()),
                    ));
                    break;
                };
                let name = &src[i + 2..i + 2 + end];
                let stop = i + 3 + end;
                match vars.get(name.trim()) {
                    Some(value) => {
                        map.push((out.len(), out.len() + value.len(), i, stop));
                        out.push_str(value);
                    }
                    None => errors.push(self.error_at_original(
                        i,
                        SuiteErrorKind::UnknownVariable {
                            name: name.to_string(),
                            known: if vars.is_empty() {
                                "none".into()
                            } else {
                                vars.keys().cloned().collect::<Vec<_>>().join(", ")
                            },
                        },
                    )),
                }
                i = stop;
            } else {
                let ch = src[i..].chars().next().expect("in bounds");
                out.push(ch);
                i += ch.len_utf8();
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        self.text = out;
        self.map = map;
        Ok(())
    }

    /// The offset in the original text of `offset` in the substituted one.
    fn original_offset(&self, offset: usize) -> usize {
        let k = self.map.partition_point(|m| m.0 <= offset);
        if k == 0 {
            return offset;
        }
        let (_, end, start_orig, end_orig) = self.map[k - 1];
        if offset < end {
            start_orig
        } else {
            offset - end + end_orig
        }
    }

    /// Line and column (from 1, the column in characters) of `offset` in
    /// the substituted text, as written.
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        line_col(&self.original, self.original_offset(offset))
    }

    /// An error at `offset` of the substituted text.
    pub(crate) fn error(&self, offset: usize, kind: SuiteErrorKind) -> SuiteError {
        let (line, column) = self.position(offset);
        SuiteError {
            file: self.path.clone(),
            line,
            column,
            kind,
        }
    }

    fn error_at_original(&self, offset: usize, kind: SuiteErrorKind) -> SuiteError {
        let (line, column) = line_col(&self.original, offset);
        SuiteError {
            file: self.path.clone(),
            line,
            column,
            kind,
        }
    }

    /// A parse error of the `toml` crate, placed.
    pub(crate) fn toml_error(&self, e: &toml::de::Error) -> SuiteError {
        let offset = e.span().map_or(0, |s| s.start);
        let message = e.message().trim().to_string();
        self.error(offset, SuiteErrorKind::Syntax(message))
    }
}

/// Line and column (from 1; the column counts characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |p| p + 1);
    (line, before[start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn substitution_keeps_positions_of_the_text_as_written() {
        let mut s = Source::new(
            Path::new("f.toml"),
            "a = \"${long_name}\"\nb = \"${x}\" c\n".into(),
        );
        s.substitute(&vars(&[("long_name", "1"), ("x", "twenty-two")]))
            .unwrap();
        assert_eq!(s.text, "a = \"1\"\nb = \"twenty-two\" c\n");
        let c = s.text.find(" c").unwrap() + 1;
        assert_eq!(s.position(c), (2, 12));
        let inside = s.text.find("twenty").unwrap() + 3;
        assert_eq!(s.position(inside), (2, 6));
    }

    #[test]
    fn unknown_variables_and_escapes() {
        let mut s = Source::new(Path::new("f.toml"), "a = \"$${x} ${y}\"".into());
        let errs = s.substitute(&vars(&[("x", "1")])).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!((errs[0].line, errs[0].column), (1, 12));
        let mut ok = Source::new(Path::new("f.toml"), "a = \"$${x}\"".into());
        ok.substitute(&vars(&[])).unwrap();
        assert_eq!(ok.text, "a = \"${x}\"");
    }
}
