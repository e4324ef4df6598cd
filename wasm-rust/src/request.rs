//! The request's pseudo-headers (`:scheme`, `:authority`, `:path`, `:method`), read from the current stream.
//! Values are UTF-8 (invalid bytes replaced); `Ok(None)` when the header is missing.

use crate::host::{self, HostError, MapType};

fn pseudo(name: &str) -> Result<Option<String>, HostError> {
    Ok(host::header(MapType::RequestHeaders, name)?
        .map(|b| String::from_utf8_lossy(&b).into_owned()))
}

/// `:scheme`, e.g. `https`.
pub fn scheme() -> Result<Option<String>, HostError> {
    pseudo(":scheme")
}

/// `:authority` (host and optional port), e.g. `example.com:8080`.
pub fn host() -> Result<Option<String>, HostError> {
    pseudo(":authority")
}

/// `:path` including the query, e.g. `/a/b?x=1`.
pub fn path() -> Result<Option<String>, HostError> {
    pseudo(":path")
}

/// `:method`, e.g. `GET`.
pub fn method() -> Result<Option<String>, HostError> {
    pseudo(":method")
}
