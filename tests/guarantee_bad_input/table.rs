//! The bad-input table as Markdown: its rows' messages made stable, its
//! cells escaped.

use super::Row;

/// Makes run-dependent parts of a message stable (a namespace inode).
pub(crate) fn normalize(msg: &str) -> String {
    let mut out = String::new();
    let mut rest = msg;
    const KEY: &str = "network namespace ";
    while let Some(i) = rest.find(KEY) {
        out.push_str(&rest[..i + KEY.len()]);
        rest = &rest[i + KEY.len()..];
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 {
            out.push_str("INODE");
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub(crate) fn render(results: &[(&Row, String, String)]) -> String {
    let mut t = String::new();
    t.push_str("| # | where | input | error | message (`Display`) |\n");
    t.push_str("| --- | --- | --- | --- | --- |\n");
    for (i, (r, v, m)) in results.iter().enumerate() {
        t.push_str(&format!(
            "| {} | {} | `{}` | `{}` | {} |\n",
            i + 1,
            r.group,
            r.input,
            v,
            cell(m)
        ));
    }
    t
}
