//! The kernel's rule for interface names, in one place.

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
    Percent,
    SysctlDir,
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
            IfnameProblem::Percent => f.write_str(
                "an interface name cannot hold `%`: the kernel reads it as a pattern to \
                 number (`e%d` becomes `e0`) and refuses any other use",
            ),
            IfnameProblem::SysctlDir => f.write_str(
                "`all` and `default` are not interface names: they are the sysctl \
                 directories of every interface (`net.ipv4.conf.all`), and the kernel \
                 refuses them",
            ),
        }
    }
}

/// Checks `name` against the kernel's rule: 1 to 15 bytes, not `.` or `..`,
/// no `/`, `:`, whitespace or control character (`dev_valid_name`); no `%`
/// (`dev_alloc_name` treats it as a numbering pattern, so no interface keeps
/// one in its name); not `all` or `default` (`sysctl_dev_name_is_allowed`).
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
    if name.contains('%') {
        return Err(IfnameProblem::Percent);
    }
    if name == "all" || name == "default" {
        return Err(IfnameProblem::SysctlDir);
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
        assert_eq!(check_ifname("ALL"), Ok(()));
        assert_eq!(check_ifname(""), Err(IfnameProblem::Empty));
        assert_eq!(
            check_ifname("sixteen-bytes-xx"),
            Err(IfnameProblem::TooLong(16))
        );
        assert_eq!(check_ifname(".."), Err(IfnameProblem::Dots));
        for bad in ["a/b", "a:b", "a b", "a\tb", "a\0b"] {
            assert_eq!(check_ifname(bad), Err(IfnameProblem::BadChar), "{bad:?}");
        }
        for bad in ["e%d", "%", "e%x"] {
            assert_eq!(check_ifname(bad), Err(IfnameProblem::Percent), "{bad:?}");
        }
        for bad in ["all", "default"] {
            assert_eq!(check_ifname(bad), Err(IfnameProblem::SysctlDir), "{bad:?}");
        }
    }
}
