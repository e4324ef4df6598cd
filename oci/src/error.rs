//! The crate's error type. Messages are lowercase, name the object and, where one exists, the fix.

use std::path::PathBuf;

use crate::gate::GateError;

/// Every failure of this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file system operation failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The inputs to packaging are unusable (bad revision, empty wasm, ...).
    #[error("invalid package input: {0}")]
    Input(String),
    /// An image or layout on disk is malformed.
    #[error("invalid image: {0}")]
    Image(String),
    /// The layout gate refused the image.
    #[error(transparent)]
    Gate(#[from] GateError),
    /// An image reference (`registry/repo:tag`) does not parse.
    #[error("invalid image reference `{reference}`: {reason}")]
    Reference { reference: String, reason: String },
    /// The registry could not be reached (after retries).
    #[error("{method} {url}: {reason}")]
    Transport {
        method: String,
        url: String,
        reason: String,
    },
    /// The registry answered with an unexpected status.
    #[error("{method} {url}: registry answered {status}{}", if body.is_empty() { String::new() } else { format!(": {body}") })]
    Status {
        method: String,
        url: String,
        status: u16,
        body: String,
    },
    /// Authentication failed or credentials could not be obtained.
    #[error("authentication with {registry} failed: {reason}")]
    Auth { registry: String, reason: String },
    /// What was pulled back differs from what was pushed.
    #[error("verification of {reference} failed: {reason}")]
    Verify { reference: String, reason: String },
    /// A WasmPlugin configuration or spec.yaml is invalid.
    #[error("{0}")]
    Config(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn io_err(
    action: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io {
        action,
        path,
        source,
    }
}
