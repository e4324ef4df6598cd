//! The per-VM plug-in type ([`RootPlugin`]) and its handle ([`Root`]): configure hook, ticks, queues and
//! callouts made outside any request. Registered next to the HTTP plug-in with
//! `pwsdk::plugin!(MyHttp, root = MyRoot)`.

use std::marker::PhantomData;
use std::time::Duration;

use crate::callout::{self, CallFailure, CallResponse, GrpcCall, GrpcResponse, HttpCall};
use crate::host::{self, HostError};
use crate::rules::{ConfigError, PluginConfig, RuleSet};

/// Per-VM work. One value per root context, created with `Default` before the first configuration. Every
/// callback is optional; an `Err(HostError)` is logged at error level.
pub trait RootPlugin: Default + 'static {
    /// The HTTP plug-in's configuration type.
    type Config: PluginConfig;

    /// `false` only for the SDK's stand-in of plug-ins registered without a root plug-in: the glue then
    /// compiles the root callbacks away (binary size). Leave it alone.
    #[doc(hidden)]
    const PRESENT: bool = true;

    /// After the SDK parsed and validated the configuration; an `Err` rejects it (one error line
    /// `[<plugin>] invalid configuration: <path>: <reason>`, `proxy_on_configure` returns false).
    fn on_configure(
        &mut self,
        root: &mut Root,
        config: &RuleSet<Self::Config>,
    ) -> Result<(), ConfigError> {
        let _ = (root, config);
        Ok(())
    }

    /// Every tick period (see [`Root::set_tick_period`]).
    fn on_tick(&mut self, root: &mut Root) -> Result<(), HostError> {
        let _ = root;
        Ok(())
    }

    /// A queue this VM registered has items.
    fn on_queue_ready(&mut self, root: &mut Root, queue_id: u32) -> Result<(), HostError> {
        let _ = (root, queue_id);
        Ok(())
    }

    /// The answer to [`Root::http_call`] `token`.
    fn on_http_call_response(
        &mut self,
        root: &mut Root,
        token: u32,
        response: Result<CallResponse, CallFailure>,
    ) -> Result<(), HostError> {
        let _ = (root, token, response);
        Ok(())
    }

    /// The answer to [`Root::grpc_call`] `token`.
    fn on_grpc_call_response(
        &mut self,
        root: &mut Root,
        token: u32,
        response: GrpcResponse,
    ) -> Result<(), HostError> {
        let _ = (root, token, response);
        Ok(())
    }
}

/// The root plug-in of HTTP plug-ins registered without one.
pub(crate) struct NoRoot<C>(PhantomData<C>);

impl<C> Default for NoRoot<C> {
    fn default() -> Self {
        NoRoot(PhantomData)
    }
}

impl<C: PluginConfig> RootPlugin for NoRoot<C> {
    type Config = C;
    const PRESENT: bool = false;
}

/// The root context's handle: ticks and callouts.
#[derive(Debug, Default)]
pub struct Root {
    http_calls: Vec<u32>,
    grpc_calls: Vec<u32>,
    /// Set by the first callout (see `Http`): the answer readers are linked only into plug-ins that call.
    pub(crate) http_reader: Option<callout::HttpReader>,
    pub(crate) grpc_reader: Option<callout::GrpcReader>,
}

impl Root {
    /// Calls `on_tick` every `period` (rounded down to milliseconds); zero stops the ticks.
    pub fn set_tick_period(&mut self, period: Duration) -> Result<(), HostError> {
        let ms = period.as_millis().min(u128::from(u32::MAX)) as u32;
        host::set_tick_period_milliseconds(ms)
    }

    /// Sends an HTTP callout; the answer arrives in [`RootPlugin::on_http_call_response`]. A
    /// [`crate::cluster::Cluster::Route`] is an error here (there is no request).
    pub fn http_call(&mut self, call: &HttpCall) -> Result<u32, HostError> {
        let token = callout::dispatch_http(call)?;
        self.http_calls.push(token);
        self.http_reader = Some(callout::read_http_answer);
        Ok(token)
    }

    /// Sends a unary gRPC callout; the answer arrives in [`RootPlugin::on_grpc_call_response`].
    pub fn grpc_call(&mut self, call: &GrpcCall) -> Result<u32, HostError> {
        let token = callout::dispatch_grpc(call)?;
        self.grpc_calls.push(token);
        self.grpc_reader = Some(callout::read_grpc_answer);
        Ok(token)
    }

    /// Root callouts not answered yet.
    pub fn calls_in_flight(&self) -> usize {
        self.http_calls.len() + self.grpc_calls.len()
    }

    pub(crate) fn take_http_call(&mut self, token: u32) -> bool {
        take(&mut self.http_calls, token)
    }

    pub(crate) fn take_grpc_call(&mut self, token: u32) -> bool {
        take(&mut self.grpc_calls, token)
    }
}

/// Removes `token` from `tokens`; false when it is not there.
pub(crate) fn take(tokens: &mut Vec<u32>, token: u32) -> bool {
    let Some(i) = tokens.iter().position(|&t| t == token) else {
        return false;
    };
    let last = tokens.pop().unwrap_or(token);
    if let Some(slot) = tokens.get_mut(i) {
        *slot = last;
    }
    true
}
