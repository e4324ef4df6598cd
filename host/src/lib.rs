//! `pwhost`: a proxy-wasm ABI 0.2.1 host on wasmtime that behaves like Envoy, for testing plug-ins
//! without a gateway, plus the conformance vector runner behind `pwhost conformance`.
//!
//! The README follows; its example is compiled as a doctest.
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
