//! What a capture refuses: found before anything is opened or recorded.

/// A capture request that names a place it cannot capture; nothing was
/// opened, started or recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// The node has no interface of that name.
    #[error("capture on {node}/{iface}: no interface `{iface}` in node `{node}`")]
    UnknownInterface {
        /// The node.
        node: String,
        /// The interface asked for.
        iface: String,
    },
}
