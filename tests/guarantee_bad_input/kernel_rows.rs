//! The rows of the bad-input table that validation accepts and the kernel
//! refuses while building.

use netns_test::{Net, Topology};

use super::{ab, row, Row};

/// A row whose topology passes validation and is refused by the kernel.
fn kernel(input: &'static str, t: impl Fn() -> Topology + 'static) -> Row {
    row("kernel", input, move |_| {
        let t = t();
        t.validate().expect("validation accepts a kernel row");
        Net::build(&t).map(drop)
    })
}

pub(crate) fn rows() -> Vec<Row> {
    vec![
        kernel(
            r#"ab().link(("b", "v6", "2001:db8::2/64"), ("c", "eth0")).sysctl("b", "net.ipv6.conf.v6.disable_ipv6", "1")"#,
            || {
                ab().link(("b", "v6", "2001:db8::2/64"), ("c", "eth0"))
                    .sysctl("b", "net.ipv6.conf.v6.disable_ipv6", "1")
            },
        ),
        kernel(
            r#"ab().sysctl("b", "net.ipv4.conf.eth0.no_such_sysctl", "1")"#,
            || ab().sysctl("b", "net.ipv4.conf.eth0.no_such_sysctl", "1"),
        ),
        kernel(
            r#"ab().sysctl("b", "net.ipv4.ip_forward", "banana")"#,
            || ab().sysctl("b", "net.ipv4.ip_forward", "banana"),
        ),
    ]
}
