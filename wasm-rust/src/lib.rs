//! `pwsdk`: the plug-in author's SDK for proxy-wasm HTTP filters, on the crates.io `proxy-wasm` crate.
//!
//! Layers, bottom up:
//! - pure logic that builds and tests natively: [`rules`] (configuration + per-route/domain/service rules),
//!   [`regex`] (the shared regex dialect), [`body`] (body-buffering decisions), [`sse`] (server-sent events),
//!   [`cluster`] naming, the CAS retry decisions of [`shared_data`], the [`auth`] rule layer;
//! - [`host`]: our own declarations of the ABI host calls with `Result<_, HostError>` wrappers (never a panic);
//! - [`log`], [`request`], [`time`], [`metrics`], [`queue`], [`shared_data`]: thin host-call modules;
//! - [`callout`]: HTTP and gRPC callouts (descriptions, answers, dispatch through proxy-wasm's dispatcher);
//! - [`plugin`](mod@plugin) ([`HttpPlugin`], [`Http`]) and [`root`] ([`RootPlugin`], [`Root`]): the author API;
//!   `glue` (hidden): the proxy-wasm contexts, [`register`], [`plugin!`].
//!
//! See `wasm-rust/README.md` for the contracts shared with the C++ SDK.

pub mod auth;
pub mod body;
pub mod callout;
pub mod cluster;
mod glue;
pub mod host;
pub mod log;
pub mod metrics;
pub mod plugin;
pub mod queue;
pub mod regex;
pub mod request;
pub mod root;
pub mod rules;
pub mod shared_data;
pub mod sse;
pub mod time;

pub use callout::{CallFailure, CallResponse, GrpcCall, GrpcResponse, HttpCall};
pub use cluster::Cluster;
pub use glue::{register, register_with_root};
pub use host::HostError;
pub use plugin::{Flow, Http, HttpPlugin};
pub use root::{Root, RootPlugin};
pub use rules::{ConfigError, PluginConfig, RuleSet};

#[doc(hidden)]
pub use proxy_wasm;
