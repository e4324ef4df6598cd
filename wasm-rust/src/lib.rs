//! `pwsdk`: the plug-in author's SDK for proxy-wasm HTTP filters, on the crates.io `proxy-wasm` crate.
//!
//! Layers, bottom up:
//! - pure logic that builds and tests natively: [`rules`] (configuration + per-route/domain/service rules),
//!   [`regex`] (the shared regex dialect), [`body`] (body-buffering decisions);
//! - [`host`]: our own declarations of the ABI host calls with `Result<_, HostError>` wrappers (never a panic);
//! - [`log`], [`request`]: `[<plugin>] `-prefixed logging and pseudo-header helpers;
//! - [`plugin`](mod@plugin): the author API ([`HttpPlugin`], [`Http`], [`plugin!`]) and the hidden proxy-wasm glue.
//!
//! See `wasm-rust/README.md` for the configuration contract shared with the C++ SDK.

pub mod body;
pub mod cluster;
pub mod host;
pub mod log;
pub mod plugin;
pub mod regex;
pub mod request;
pub mod rules;
pub mod sse;

pub use host::HostError;
pub use plugin::{register, Flow, Http, HttpPlugin};
pub use rules::{ConfigError, PluginConfig};

#[doc(hidden)]
pub use proxy_wasm;
