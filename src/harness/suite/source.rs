//! A file's text, `${name}` substitution (outside comments), and byte
//! offsets turned back into lines and columns of the text as written.

use std::collections::BTreeMap;
use std::ops::Range;
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

/// A `${name}` left unreplaced by [`Source::substitute_known`]: a
/// placeholder stands in its place.
#[derive(Debug, Clone)]
pub(crate) struct Hole {
    /// The placeholder's bytes in the substituted text.
    pub(crate) span: Range<usize>,
    /// Where `${` is in the text as written.
    pub(crate) original: usize,
    /// The name between the braces.
    pub(crate) name: String,
}

/// The comments of TOML `text`: from a `#` outside strings to the end of
/// its line, as byte ranges.
fn comments(text: &str) -> Vec<Range<usize>> {
    let b = text.as_bytes();
    let at = |i: usize, s: &str| b[i..].starts_with(s.as_bytes());
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                let end = text[i..].find('\n').map_or(b.len(), |n| i + n);
                out.push(i..end);
                i = end;
            }
            b'"' | b'\'' if at(i, if b[i] == b'"' { "\"\"\"" } else { "'''" }) => {
                let quote = b[i];
                let escapes = quote == b'"';
                i += 3;
                while i < b.len() {
                    if escapes && b[i] == b'\\' {
                        i += 2;
                    } else if b[i] == quote && b[i..].starts_with(&[quote; 3]) {
                        i += 3;
                        // Up to two quotes just before the closing three
                        // belong to the string.
                        let mut extra = 0;
                        while extra < 2 && i < b.len() && b[i] == quote {
                            i += 1;
                            extra += 1;
                        }
                        break;
                    } else {
                        i += 1;
                    }
                }
            }
            quote @ (b'"' | b'\'') => {
                i += 1;
                while i < b.len() && b[i] != quote && b[i] != b'\n' {
                    if quote == b'"' && b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
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

    /// Replaces every `${name}` outside comments by its value (`$${` is a
    /// literal `${`); every unknown name is an error at its place.
    pub(crate) fn substitute(
        &mut self,
        vars: &BTreeMap<String, String>,
    ) -> Result<(), Vec<SuiteError>> {
        let holes = self.fill(vars, false)?;
        if holes.is_empty() {
            return Ok(());
        }
        let known = if vars.is_empty() {
            "none".into()
        } else {
            vars.keys().cloned().collect::<Vec<_>>().join(", ")
        };
        Err(holes
            .into_iter()
            .map(|h| {
                self.error_at_original(
                    h.original,
                    SuiteErrorKind::UnknownVariable {
                        name: h.name,
                        known: known.clone(),
                    },
                )
            })
            .collect())
    }

    /// Replaces every `${name}` of `vars` as [`substitute`](Self::substitute)
    /// does, and each other one by a placeholder of digits (a different
    /// one each time, so that the text still parses where a number, a
    /// bare key or a string's content stands); the placeholders are the
    /// holes returned.
    pub(crate) fn substitute_known(
        &mut self,
        vars: &BTreeMap<String, String>,
    ) -> Result<Vec<Hole>, Vec<SuiteError>> {
        self.fill(vars, true)
    }

    /// Substitutes; unknown names become holes (placeholders when
    /// `placeholders`, else left out of the text, which is then kept
    /// unchanged).
    fn fill(
        &mut self,
        vars: &BTreeMap<String, String>,
        placeholders: bool,
    ) -> Result<Vec<Hole>, Vec<SuiteError>> {
        let src = &self.original;
        let skipped = comments(src);
        let mut next_comment = skipped.iter().peekable();
        let mut out = String::with_capacity(src.len());
        let mut map = Vec::new();
        let mut holes = Vec::new();
        let mut i = 0;
        while i < src.len() {
            while next_comment.peek().is_some_and(|c| c.end <= i) {
                next_comment.next();
            }
            if let Some(c) = next_comment.peek().filter(|c| c.start == i) {
                out.push_str(&src[c.start..c.end]);
                i = c.end;
                continue;
            }
            if src[i..].starts_with("$${") {
                map.push((out.len(), out.len() + 2, i, i + 3));
                out.push_str("${");
                i += 3;
            } else if src[i..].starts_with("${") {
                let Some(end) = src[i + 2..].find('}') else {
                    return Err(vec![self.error_at_original(
                        i,
                        SuiteErrorKind::Syntax("`${` without a closing `}`".into()),
                    )]);
                };
                let name = &src[i + 2..i + 2 + end];
                let stop = i + 3 + end;
                let value = match vars.get(name.trim()) {
                    Some(value) => value.clone(),
                    None => {
                        let placeholder = format!("{}", 1_000_000 + holes.len());
                        let at = out.len();
                        holes.push(Hole {
                            span: at..at + placeholder.len(),
                            original: i,
                            name: name.to_string(),
                        });
                        placeholder
                    }
                };
                map.push((out.len(), out.len() + value.len(), i, stop));
                out.push_str(&value);
                i = stop;
            } else {
                let ch = src[i..].chars().next().expect("in bounds");
                out.push(ch);
                i += ch.len_utf8();
            }
        }
        if placeholders || holes.is_empty() {
            self.text = out;
            self.map = map;
        }
        Ok(holes)
    }

    /// Where (in the text as written) the first `${name}` substituted
    /// within `span` of the substituted text is, if one is.
    pub(crate) fn variable_in(&self, span: &Range<usize>) -> Option<usize> {
        self.map
            .iter()
            .filter(|m| m.0 < span.end && span.start < m.1.max(m.0 + 1))
            .map(|m| m.2)
            .find(|&at| !self.original[at..].starts_with("$${"))
    }

    /// The offset in the original text of `offset` in the substituted one.
    pub(crate) fn original_offset(&self, offset: usize) -> usize {
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
        self.error_at_original(self.original_offset(offset), kind)
    }

    /// An error at `offset` of the text as written.
    pub(crate) fn error_at_original(&self, offset: usize, kind: SuiteErrorKind) -> SuiteError {
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
pub(super) mod tests {
    use super::*;

    /// Variables from (name, value) pairs.
    pub(in crate::harness::suite) fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
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

    #[test]
    fn comments_are_left_as_written() {
        let text = "a = 1 # ${nope}\n\
                    b = \"# ${x}\" # ${nope} \"\n\
                    c = '#' # ${nope}\n\
                    d = \"\"\"\n# ${x}\n\"\"\" # ${nope}\n\
                    e = \"\\\"#\" # ${nope}\n\
                    # ${nope}\n\
                    f = ${x}\n";
        let mut s = Source::new(Path::new("f.toml"), text.into());
        s.substitute(&vars(&[("x", "7")])).unwrap();
        assert_eq!(s.text, text.replace("${x}", "7"));
        let parsed: toml::Table = toml::from_str(&s.text).unwrap();
        assert_eq!(parsed["b"].as_str(), Some("# 7"));
        assert_eq!(parsed["f"].as_integer(), Some(7));
    }

    #[test]
    fn unknown_names_become_distinct_placeholders() {
        let mut s = Source::new(
            Path::new("f.toml"),
            "y = \"${known}\"\n[t.${a}]\nx = ${b}\n[t.${c}]\n".into(),
        );
        let holes = s.substitute_known(&vars(&[("known", "k")])).unwrap();
        let names: Vec<&str> = holes.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        let parsed: toml::Table = toml::from_str(&s.text).unwrap();
        assert_eq!(parsed["t"].as_table().unwrap().len(), 2);
        assert_eq!(parsed["y"].as_str(), Some("k"));
        let b = &holes[1];
        assert_eq!(s.position(b.span.start), (3, 5));
    }
}
