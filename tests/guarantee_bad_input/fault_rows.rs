//! The rows of the bad-input table about faults at run time: durations
//! that would make a fault spin.

use std::time::Duration;

use netns_test::fault::{FlapLink, Schedule};

use super::{row, Row};

pub(crate) fn rows() -> Vec<Row> {
    vec![
        row(
            "fault",
            r#"net.link("n1", "n2")?.flap(Duration::ZERO, Duration::ZERO)"#,
            |net| {
                let link = net.link("n1", "n2")?;
                link.flap(Duration::ZERO, Duration::ZERO).map(drop)
            },
        ),
        row(
            "fault",
            r#"Schedule::new(1).period(Duration::ZERO).with(FlapLink::new("n1", "n2")).run(&net, || ())"#,
            |net| {
                Schedule::new(1)
                    .period(Duration::ZERO)
                    .with(FlapLink::new("n1", "n2"))
                    .run(net, || ())
                    .map(drop)
            },
        ),
    ]
}
