//! Text and attribute values escaped for XML 1.0 (SVG pictures, JUnit
//! reports).
//!
//! Markup characters become entities, and the characters XML 1.0 does not
//! allow at all (C0 controls other than tab, newline and carriage return,
//! U+FFFE, U+FFFF) are written as visible `\u{..}` text, so the document
//! always parses and the reader still sees what was there.

use std::fmt::Write;

/// Whether XML 1.0 allows `c` in a document (its `Char` production).
fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn escape(s: &str, attr: bool) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\'' if attr => out.push_str("&apos;"),
            '\n' if attr => out.push_str("&#10;"),
            '\t' if attr => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            c if allowed(c) => out.push(c),
            c => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    out
}

/// `s` as XML character data (element content).
pub(crate) fn xml_text(s: &str) -> String {
    escape(s, false)
}

/// `s` as the value of a double- or single-quoted XML attribute; tabs and
/// line breaks are kept as character references, so they survive
/// attribute-value normalisation.
pub(crate) fn xml_attr(s: &str) -> String {
    escape(s, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_forbidden_characters_are_escaped() {
        assert_eq!(xml_text("a<b & c>\"d'"), "a&lt;b &amp; c&gt;\"d'");
        assert_eq!(xml_attr("a\"b'c\nd\te"), "a&quot;b&apos;c&#10;d&#9;e");
        assert_eq!(
            xml_text("\u{1b}[31mred\u{0}\r\n"),
            "\\u{1b}[31mred\\u{0}&#13;\n"
        );
        assert_eq!(xml_text("\u{FFFE}\u{FFFF}é😀"), "\\u{fffe}\\u{ffff}é😀");
    }
}
