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
    /// The first character refused.
    BadChar(char),
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
            IfnameProblem::BadChar(c) => {
                write!(f, "an interface name cannot hold {c:?}")?;
                let mut utf8 = [0; 4];
                let utf8 = c.encode_utf8(&mut utf8).as_bytes();
                if !c.is_whitespace() && utf8.contains(&0xa0) {
                    let bytes: Vec<String> = utf8.iter().map(|b| format!("{b:02x}")).collect();
                    write!(
                        f,
                        ": its UTF-8 bytes {} hold 0xa0, which the kernel reads as a space",
                        bytes.join(" ")
                    )?;
                }
                f.write_str(" (no `/`, `:`, whitespace or control character)")
            }
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

/// Whether the kernel's `isspace` (`lib/ctype.c`) is true for `b`: the
/// ASCII whitespace `\t \n \v \f \r` and space, and 0xA0, which the kernel's
/// Latin-1 table counts as a space. A UTF-8 name holds 0xA0 as the second
/// byte of characters such as `à` (`c3 a0`).
fn kernel_isspace(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' | 0xa0)
}

/// Checks `name` against the kernel's rule: 1 to 15 bytes, not `.` or `..`,
/// no byte `/`, `:` or space as the kernel's `isspace` sees it
/// (`dev_valid_name`, byte by byte); no `%` (`dev_alloc_name` treats it as a
/// numbering pattern, so no interface keeps one in its name); not `all` or
/// `default` (`sysctl_dev_name_is_allowed`). Stricter than the kernel, no
/// control character or Unicode whitespace either: messages and listings
/// could not show them.
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
    let refused = |c: char| {
        let mut utf8 = [0; 4];
        c == '/'
            || c == ':'
            || c.is_whitespace()
            || c.is_control()
            || c.encode_utf8(&mut utf8).bytes().any(kernel_isspace)
    };
    if let Some(c) = name.chars().find(|c| refused(*c)) {
        return Err(IfnameProblem::BadChar(c));
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
        for (bad, c) in [
            ("a/b", '/'),
            ("a:b", ':'),
            ("a b", ' '),
            ("a\tb", '\t'),
            ("a\x0bb", '\x0b'),
            ("a\0b", '\0'),
            ("a\u{a0}b", '\u{a0}'),
        ] {
            assert_eq!(check_ifname(bad), Err(IfnameProblem::BadChar(c)), "{bad:?}");
        }
        // 0xA0 inside a UTF-8 character: the kernel's `isspace` sees it.
        for (bad, c) in [
            ("\u{e0}0", '\u{e0}'),
            ("x\u{160}", '\u{160}'),
            ("\u{20a0}", '\u{20a0}'),
        ] {
            assert!(bad.bytes().any(|b| b == 0xa0), "{bad:?}");
            assert_eq!(check_ifname(bad), Err(IfnameProblem::BadChar(c)), "{bad:?}");
        }
        assert_eq!(
            IfnameProblem::BadChar('\u{e0}').to_string(),
            "an interface name cannot hold 'à': its UTF-8 bytes c3 a0 hold 0xa0, which the \
             kernel reads as a space (no `/`, `:`, whitespace or control character)"
        );
        assert_eq!(check_ifname("\u{e9}th0"), Ok(()));
        for bad in ["e%d", "%", "e%x"] {
            assert_eq!(check_ifname(bad), Err(IfnameProblem::Percent), "{bad:?}");
        }
        for bad in ["all", "default"] {
            assert_eq!(check_ifname(bad), Err(IfnameProblem::SysctlDir), "{bad:?}");
        }
    }
}
