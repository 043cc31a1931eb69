//! What a test's [`Outcome`] means, given what the test expects of it:
//! libtest's rules and messages for `#[should_panic]`. Both harnesses judge
//! a test with them, and the runner decides with them whether the test
//! failed (and so gets the lab report: wires, dump, kept namespaces, kept
//! capture).

use super::runner::{panic_message, Outcome};

/// libtest's message for a `#[should_panic]` test whose body did not panic.
pub(crate) const DID_NOT_PANIC: &str = "test did not panic as expected";

/// What a test expects of its body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Expect<'a> {
    /// `#[should_panic]`: the body must panic (or return `Err`, or time out).
    pub(crate) should_panic: bool,
    /// `#[should_panic(expected = "text")]`: the text the panic's message
    /// must contain.
    pub(crate) expected: Option<&'a str>,
}

impl Expect<'_> {
    /// Whether a test expecting this fails with `outcome`. A skipped test
    /// does not fail.
    pub(crate) fn fails(&self, outcome: &Outcome) -> bool {
        match outcome {
            Outcome::Skipped(_) => false,
            _ if self.should_panic => self.should_panic_failure(outcome).is_some(),
            Outcome::Passed => false,
            _ => true,
        }
    }

    /// Why a `#[should_panic]` test fails with `outcome`, in libtest's
    /// words; `None` when the expected panic came (or the test was
    /// skipped). A setup error is no panic of the body: the test did not
    /// panic as expected. A returned error or a timeout counts as a panic
    /// whose message is the failure's.
    pub(crate) fn should_panic_failure(&self, outcome: &Outcome) -> Option<String> {
        match outcome {
            Outcome::Passed => Some(DID_NOT_PANIC.to_string()),
            Outcome::Skipped(_) => None,
            Outcome::Setup(msg) => Some(format!(
                "{msg}\n(the test is #[should_panic], but this is no panic of its body)\n\
                 {DID_NOT_PANIC}"
            )),
            Outcome::Panicked(payload) => self.mismatch(panic_message(payload.as_ref())),
            Outcome::Returned(msg) | Outcome::TimedOut(msg) => self.mismatch(Some(msg)),
        }
    }

    /// libtest's check of `expected` against a panic's message (`None`: a
    /// payload that is no string).
    fn mismatch(&self, message: Option<&str>) -> Option<String> {
        let expected = self.expected?;
        match message {
            Some(text) if text.contains(expected) => None,
            Some(text) => Some(format!(
                "panic did not contain expected string\n      panic message: {text:?}\n \
                 expected substring: {expected:?}"
            )),
            None => Some(format!(
                "expected panic with string value,\n found non-string value\n     \
                 expected substring: {expected:?}"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: Expect<'static> = Expect {
        should_panic: false,
        expected: None,
    };
    const ANY_PANIC: Expect<'static> = Expect {
        should_panic: true,
        expected: None,
    };
    const BOOM: Expect<'static> = Expect {
        should_panic: true,
        expected: Some("boom"),
    };

    fn panicked(msg: &'static str) -> Outcome {
        Outcome::Panicked(Box::new(msg))
    }

    #[test]
    fn a_plain_test_fails_on_anything_but_a_pass_or_a_skip() {
        assert!(!PLAIN.fails(&Outcome::Passed));
        assert!(!PLAIN.fails(&Outcome::Skipped("s".into())));
        assert!(PLAIN.fails(&panicked("boom")));
        assert!(PLAIN.fails(&Outcome::Returned("e".into())));
        assert!(PLAIN.fails(&Outcome::Setup("e".into())));
        assert!(PLAIN.fails(&Outcome::TimedOut("t".into())));
    }

    #[test]
    fn a_should_panic_test_fails_unless_the_expected_panic_came() {
        assert!(ANY_PANIC.fails(&Outcome::Passed));
        assert!(!ANY_PANIC.fails(&Outcome::Skipped("s".into())));
        assert!(!ANY_PANIC.fails(&panicked("bang")));
        assert!(!ANY_PANIC.fails(&Outcome::Returned("e".into())));
        assert!(!ANY_PANIC.fails(&Outcome::TimedOut("t".into())));
        assert!(ANY_PANIC.fails(&Outcome::Setup("e".into())));
        assert!(!BOOM.fails(&panicked("a boom here")));
        assert!(!BOOM.fails(&Outcome::Panicked(Box::new(String::from("boom")))));
        assert!(BOOM.fails(&panicked("bang")));
        assert!(!BOOM.fails(&Outcome::TimedOut("boom: timed out".into())));
        assert!(BOOM.fails(&Outcome::Panicked(Box::new(42))));
    }

    #[test]
    fn should_panic_failures_read_as_libtest_words_them() {
        assert_eq!(
            BOOM.should_panic_failure(&Outcome::Passed).as_deref(),
            Some("test did not panic as expected")
        );
        assert_eq!(
            BOOM.should_panic_failure(&panicked("bang")).as_deref(),
            Some(
                "panic did not contain expected string\n      panic message: \"bang\"\n \
                 expected substring: \"boom\""
            )
        );
        let setup = BOOM
            .should_panic_failure(&Outcome::Setup("cannot build".into()))
            .unwrap();
        assert!(setup.starts_with("cannot build\n"), "{setup}");
        assert!(
            setup.ends_with("\ntest did not panic as expected"),
            "{setup}"
        );
    }
}
