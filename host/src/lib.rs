//! `pwhost`: a proxy-wasm host on wasmtime that behaves like Envoy and refuses what Envoy refuses, for
//! testing plug-ins without a gateway, plus the conformance vector runner behind `pwhost conformance`.
//!
//! Code map: `plugin` (load checks, linking), `abi` (ABI versions, callback table, wire format), `wasi` (the
//! WASI sets of Envoy's host generations), `hostcalls` (`env.*` functions: `streams`, `callouts`, `vmwide`),
//! `state` (per-VM host state, contexts), `vm` (start-up, calls, callout answers, ticks), `http` and `tcp`
//! (driving streams), `vectors` (the YAML format), `runner` (evaluating cases, re-chunking), `matching` (body
//! expectations), `battery`.
//!
//! The README follows; its examples are compiled as doctests.
#![doc = include_str!("../README.md")]

mod abi;
pub mod battery;
mod hostcalls;
mod http;
mod matching;
pub mod plugin;
pub mod runner;
mod state;
mod tcp;
mod types;
pub mod vectors;
mod vm;
mod wasi;

pub use abi::AbiVersion;
pub use http::Exchange;
pub use plugin::{ModuleInfo, Plugin};
pub use tcp::{Connection, TcpEvent};
pub use types::{
    Error, GrpcAnswer, GrpcCallRecord, Headers, HttpCallRecord, Limits, LocalResponse, LogLevel,
    LogLine, Message, Outcome, Request, Response, TcpOutcome, Teardown, VmOptions,
};
pub use vm::Vm;
pub use wasi::WasiSet;
