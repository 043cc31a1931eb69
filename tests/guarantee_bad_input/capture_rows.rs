//! The rows of the bad-input table about capture: places a capture cannot
//! capture, refused before anything is opened or started.

use super::{row, Row};

pub(crate) fn rows() -> Vec<Row> {
    vec![row(
        "capture",
        r#"net["n1"].capture_iface("eth9")"#,
        |net| net["n1"].capture_iface("eth9").map(drop),
    )]
}
