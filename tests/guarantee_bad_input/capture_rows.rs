//! The rows of the bad-input table about capture: places a capture cannot
//! capture, or record a frame on, refused before anything is opened,
//! started or recorded.

use netns_test::capture::Direction;

use super::{row, Row};

pub(crate) fn rows() -> Vec<Row> {
    vec![
        row("capture", r#"net["n1"].capture_iface("eth9")"#, |net| {
            net["n1"].capture_iface("eth9").map(drop)
        }),
        row(
            "capture",
            r#"net["n1"].capture()?.record("n9", "eth0", Direction::Out, &[0; 60], "lost")"#,
            |net| {
                net["n1"]
                    .capture()?
                    .record("n9", "eth0", Direction::Out, &[0; 60], "lost")
            },
        ),
        row(
            "capture",
            r#"net["n1"].capture()?.record("n1", "eth9", Direction::Out, &[0; 60], "lost")"#,
            |net| {
                net["n1"]
                    .capture()?
                    .record("n1", "eth9", Direction::Out, &[0; 60], "lost")
            },
        ),
    ]
}
