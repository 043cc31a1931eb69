//! The kernel's rule for interface names (`dev_valid_name`), in one place.

use std::fmt;

/// The longest interface name the kernel accepts (`IFNAMSIZ` minus the NUL).
pub(crate) const IFNAME_MAX: usize = 15;

/// Why a text is not an interface name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IfnameProblem {
    Empty,
    TooLong(usize),
    Dots,
    BadChar,
}

impl fmt::Display for IfnameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IfnameProblem::Empty => f.write_str("an interface name cannot be empty"),
            IfnameProblem::TooLong(len) => write!(
                f,
                "an interface name has at most {IFNAME_MAX} bytes, this one has {len}"
            ),
            IfnameProblem::Dots => f.write_str("`.` and `..` are not interface names"),
            IfnameProblem::BadChar => f.write_str(
                "an interface name cannot hold `/`, `:`, whitespace or control characters",
            ),
        }
    }
}

/// Checks `name` against the kernel's rule: 1 to 15 bytes, not `.` or `..`,
/// no `/`, `:`, whitespace or control character.
pub(crate) fn check_ifname(name: &str) -> Result<(), IfnameProblem> {
    if name.is_empty() {
        return Err(IfnameProblem::Empty);
    }
    if name.len() > IFNAME_MAX {
        return Err(IfnameProblem::TooLong(name.len()));
    }
    if name == "." || name == ".." {
        return Err(IfnameProblem::Dots);
    }
    if name
        .chars()
        .any(|c| c == '/' || c == ':' || c.is_whitespace() || c.is_control())
    {
        return Err(IfnameProblem::BadChar);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_rule() {
        assert_eq!(check_ifname("eth0"), Ok(()));
        assert_eq!(check_ifname("a-b_c.d"), Ok(()));
        assert_eq!(check_ifname(""), Err(IfnameProblem::Empty));
        assert_eq!(
            check_ifname("sixteen-bytes-xx"),
            Err(IfnameProblem::TooLong(16))
        );
        assert_eq!(check_ifname(".."), Err(IfnameProblem::Dots));
        for bad in ["a/b", "a:b", "a b", "a\tb", "a\0b"] {
            assert_eq!(check_ifname(bad), Err(IfnameProblem::BadChar), "{bad:?}");
        }
    }
}
