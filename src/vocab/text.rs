//! User text quoted in messages, cut to a readable length.

use std::borrow::Cow;

/// The most characters of one piece of user text a message quotes.
pub(crate) const QUOTED_MAX: usize = 64;

/// `text` as a message quotes it: whole up to [`QUOTED_MAX`] characters,
/// else its start followed by `…` and its full length in bytes.
pub(crate) fn quoted(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(QUOTED_MAX) {
        None => Cow::Borrowed(text),
        Some((cut, _)) => Cow::Owned(format!("{}… ({} bytes)", &text[..cut], text.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_whole_long_text_is_cut() {
        assert_eq!(quoted("1"), "1");
        let exact = "x".repeat(QUOTED_MAX);
        assert_eq!(quoted(&exact), exact);
        let long = "é".repeat(1 << 20);
        let q = quoted(&long);
        assert_eq!(
            q,
            format!("{}… ({} bytes)", "é".repeat(QUOTED_MAX), 2 << 20)
        );
    }
}
