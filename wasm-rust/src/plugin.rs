//! The plug-in author's API ([`HttpPlugin`], [`Http`], [`register`]) and the hidden proxy-wasm glue
//! (root context: configure + rule matching; HTTP context: dispatch + body buffering).

use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType};

use crate::body::{BodyBuffer, BodyStep, DEFAULT_BODY_LIMIT};
use crate::host::{self, BufferType, Headers, HostError, MapType};
use crate::rules::{Match, MatchInput, Needs, PluginConfig, RuleSet};

/// What a callback asks the host to do with the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Let the request/response go on.
    Continue,
    /// Stop iteration (after [`Http::send_response`], or to hold the stream).
    Stop,
}

/// A plug-in's per-request logic. One value is created (with `Default`) per HTTP stream that has a
/// configuration; streams without one never reach the plug-in (see [`HttpPlugin::fallback_config`]).
///
/// Every callback gets the configuration that applies to this request: the first matching rule's, else the
/// global one, else the fallback. A callback's `Err(HostError)` is logged at error level and the stream
/// continues.
pub trait HttpPlugin: Default + 'static {
    type Config: PluginConfig;

    /// The configuration used when no rule matches and there is no global configuration. Default: none,
    /// and the plug-in does nothing for such requests. A matched `_disable_` rule always skips the plug-in.
    fn fallback_config() -> Option<Self::Config> {
        None
    }

    fn on_request_headers(
        &mut self,
        http: &mut Http,
        config: &Self::Config,
    ) -> Result<Flow, HostError> {
        let _ = (http, config);
        Ok(Flow::Continue)
    }

    /// The whole request body, when [`Http::inspect_request_body`] was called in `on_request_headers`.
    fn on_request_body(
        &mut self,
        http: &mut Http,
        config: &Self::Config,
        body: &[u8],
    ) -> Result<Flow, HostError> {
        let _ = (http, config, body);
        Ok(Flow::Continue)
    }

    fn on_response_headers(
        &mut self,
        http: &mut Http,
        config: &Self::Config,
    ) -> Result<Flow, HostError> {
        let _ = (http, config);
        Ok(Flow::Continue)
    }

    /// The whole response body, when [`Http::inspect_response_body`] was called in `on_response_headers`.
    fn on_response_body(
        &mut self,
        http: &mut Http,
        config: &Self::Config,
        body: &[u8],
    ) -> Result<Flow, HostError> {
        let _ = (http, config, body);
        Ok(Flow::Continue)
    }
}

/// The stream handle given to callbacks: header access, local responses, body inspection requests.
#[derive(Debug)]
pub struct Http {
    request_body: BodyBuffer,
    response_body: BodyBuffer,
    responded: bool,
    /// Set by `send_response` during the current callback; stops that callback's iteration.
    responded_now: bool,
    body_limit: usize,
}

impl Http {
    fn new() -> Http {
        Http {
            request_body: BodyBuffer::Off,
            response_body: BodyBuffer::Off,
            responded: false,
            responded_now: false,
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// A request header (pseudo-headers included, e.g. `:path`), as bytes.
    pub fn request_header(&self, name: &str) -> Result<Option<Vec<u8>>, HostError> {
        host::header(MapType::RequestHeaders, name)
    }

    /// All request headers in order, pseudo-headers first, as (name, value) bytes.
    pub fn request_headers(&self) -> Result<Headers, HostError> {
        host::headers(MapType::RequestHeaders)
    }

    /// Sets a request header so that exactly this one value remains.
    pub fn set_request_header(&mut self, name: &str, value: &str) -> Result<(), HostError> {
        host::replace_header(MapType::RequestHeaders, name, value.as_bytes())
    }

    /// Appends a request header value.
    pub fn add_request_header(&mut self, name: &str, value: &str) -> Result<(), HostError> {
        host::add_header(MapType::RequestHeaders, name, value.as_bytes())
    }

    pub fn remove_request_header(&mut self, name: &str) -> Result<(), HostError> {
        host::remove_header(MapType::RequestHeaders, name)
    }

    pub fn response_header(&self, name: &str) -> Result<Option<Vec<u8>>, HostError> {
        host::header(MapType::ResponseHeaders, name)
    }

    pub fn response_headers(&self) -> Result<Headers, HostError> {
        host::headers(MapType::ResponseHeaders)
    }

    pub fn set_response_header(&mut self, name: &str, value: &str) -> Result<(), HostError> {
        host::replace_header(MapType::ResponseHeaders, name, value.as_bytes())
    }

    pub fn add_response_header(&mut self, name: &str, value: &str) -> Result<(), HostError> {
        host::add_header(MapType::ResponseHeaders, name, value.as_bytes())
    }

    pub fn remove_response_header(&mut self, name: &str) -> Result<(), HostError> {
        host::remove_header(MapType::ResponseHeaders, name)
    }

    /// A host property such as `&["route_name"]`.
    pub fn property(&self, path: &[&str]) -> Result<Option<Vec<u8>>, HostError> {
        host::property(path)
    }

    /// Answers the client locally; the request does not reach the upstream. Return `Flow::Stop` after it
    /// (the SDK stops the current callback's iteration anyway). The local reply then passes through this
    /// plug-in's response callbacks like any response.
    pub fn send_response(
        &mut self,
        status: u32,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(), HostError> {
        host::send_local_response(status, headers, body)?;
        self.responded = true;
        self.responded_now = true;
        Ok(())
    }

    /// Whether [`Http::send_response`] was called on this stream.
    pub fn responded(&self) -> bool {
        self.responded
    }

    /// Largest body handed to `on_*_body` (default 32 MiB); a larger body logs one warning and passes
    /// uninspected. Call before `inspect_*_body`.
    pub fn set_body_limit(&mut self, bytes: usize) {
        self.body_limit = bytes;
    }

    /// Asks for the whole request body in [`HttpPlugin::on_request_body`] (call from `on_request_headers`).
    pub fn inspect_request_body(&mut self) {
        self.request_body = BodyBuffer::Buffering {
            limit: self.body_limit,
        };
    }

    /// Asks for the whole response body in [`HttpPlugin::on_response_body`] (call from `on_response_headers`).
    pub fn inspect_response_body(&mut self) {
        self.response_body = BodyBuffer::Buffering {
            limit: self.body_limit,
        };
    }
}

/// Registers plug-in `P` under `name` (the log prefix); call it from `proxy_wasm::main!`, or use
/// [`crate::plugin!`].
pub fn register<P: HttpPlugin>(name: &'static str) {
    crate::log::set_plugin_name(name);
    std::panic::set_hook(Box::new(|info| {
        crate::log::log(
            crate::log::LogLevel::Critical,
            format_args!("panicked: {info}"),
        );
    }));
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> {
        Box::new(Root::<P> { shared: None })
    });
}

/// `pwsdk::plugin!(MyPlugin);` exports the proxy-wasm entry points for `MyPlugin`, named after the crate.
#[macro_export]
macro_rules! plugin {
    ($plugin:ty) => {
        $crate::proxy_wasm::main! {{
            $crate::register::<$plugin>(env!("CARGO_PKG_NAME"));
        }}
    };
}

struct Shared<C> {
    rules: RuleSet<C>,
    fallback: Option<Rc<C>>,
    needs: Needs,
}

struct Root<P: HttpPlugin> {
    shared: Option<Rc<Shared<P::Config>>>,
}

impl<P: HttpPlugin> Context for Root<P> {}

impl<P: HttpPlugin> RootContext for Root<P> {
    fn on_configure(&mut self, size: usize) -> bool {
        let bytes = if size == 0 {
            Vec::new()
        } else {
            match host::buffer(BufferType::PluginConfiguration, 0, size) {
                Ok(bytes) => bytes.unwrap_or_default(),
                Err(e) => {
                    crate::error!("invalid configuration: cannot read it: {e}");
                    return false;
                }
            }
        };
        match RuleSet::<P::Config>::parse(&bytes) {
            Ok(rules) => {
                let needs = rules.needs();
                let fallback = P::fallback_config().map(Rc::new);
                self.shared = Some(Rc::new(Shared {
                    rules,
                    fallback,
                    needs,
                }));
                true
            }
            Err(e) => {
                self.shared = None;
                crate::error!("{e}");
                false
            }
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Stream::<P> {
            shared: self.shared.clone(),
            active: None,
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Active<P: HttpPlugin> {
    config: Rc<P::Config>,
    plugin: P,
    http: Http,
}

struct Stream<P: HttpPlugin> {
    shared: Option<Rc<Shared<P::Config>>>,
    /// Set at request headers when a configuration applies; `None` = the plug-in skips this stream.
    active: Option<Active<P>>,
}

impl<P: HttpPlugin> Context for Stream<P> {}

fn lossy(bytes: Option<Vec<u8>>) -> Option<String> {
    bytes.map(|b| {
        String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    })
}

fn match_input(needs: Needs) -> Result<MatchInput, HostError> {
    Ok(MatchInput {
        authority: if needs.authority {
            lossy(host::header(MapType::RequestHeaders, ":authority")?)
        } else {
            None
        },
        route_name: if needs.route_name {
            lossy(host::property(&["route_name"])?)
        } else {
            None
        },
        cluster_name: if needs.cluster_name {
            lossy(host::property(&["cluster_name"])?)
        } else {
            None
        },
    })
}

/// The callback's answer to the host. A local response sent in this callback stops it; the local reply then
/// comes back through the response callbacks, which continue as the plug-in says.
fn action(callback: &str, http: &mut Http, result: Result<Flow, HostError>) -> Action {
    let responded_now = std::mem::take(&mut http.responded_now);
    match result {
        _ if responded_now => Action::Pause,
        Ok(Flow::Continue) => Action::Continue,
        Ok(Flow::Stop) => Action::Pause,
        Err(e) => {
            crate::error!("{callback} failed: {e}");
            Action::Continue
        }
    }
}

impl<P: HttpPlugin> Stream<P> {
    fn select_config(&self) -> Result<Option<Rc<P::Config>>, HostError> {
        let Some(shared) = &self.shared else {
            return Ok(None);
        };
        let input = match_input(shared.needs)?;
        Ok(match shared.rules.matching(&input) {
            Match::Rule(_, c) | Match::Global(c) => Some(c),
            Match::Disabled(_) => None,
            Match::None => shared.fallback.clone(),
        })
    }

    /// Acts on one body step; `prefetched` is the body when the caller already read it.
    fn body(&mut self, request: bool, step: BodyStep, prefetched: Option<Vec<u8>>) -> Action {
        let Some(active) = &mut self.active else {
            return Action::Continue;
        };
        let what = if request { "request" } else { "response" };
        match step {
            BodyStep::Pass => Action::Continue,
            BodyStep::Wait => Action::Pause,
            BodyStep::TooLarge => {
                crate::warn!(
                    "{what} body larger than {} bytes: not inspected",
                    active.http.body_limit
                );
                Action::Continue
            }
            BodyStep::Ready(len) => {
                let kind = if request {
                    BufferType::HttpRequestBody
                } else {
                    BufferType::HttpResponseBody
                };
                let body = match prefetched {
                    Some(body) => body,
                    None => match host::buffer(kind, 0, len) {
                        Ok(b) => b.unwrap_or_default(),
                        Err(e) => {
                            crate::error!("reading the {what} body failed: {e}");
                            return Action::Continue;
                        }
                    },
                };
                let Active {
                    config,
                    plugin,
                    http,
                } = active;
                let result = if request {
                    plugin.on_request_body(http, config, &body)
                } else {
                    plugin.on_response_body(http, config, &body)
                };
                action(
                    if request {
                        "on_request_body"
                    } else {
                        "on_response_body"
                    },
                    http,
                    result,
                )
            }
        }
    }
}

impl<P: HttpPlugin> HttpContext for Stream<P> {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let config = match self.select_config() {
            Ok(Some(c)) => c,
            Ok(None) => return Action::Continue,
            Err(e) => {
                crate::error!("rule matching failed: {e}");
                return Action::Continue;
            }
        };
        let active = self.active.insert(Active {
            config,
            plugin: P::default(),
            http: Http::new(),
        });
        let Active {
            config,
            plugin,
            http,
        } = active;
        let result = plugin.on_request_headers(http, config);
        if end_of_stream || http.responded {
            http.request_body = BodyBuffer::Off;
        }
        action("on_request_headers", http, result)
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let Some(active) = &mut self.active else {
            return Action::Continue;
        };
        let step = active.http.request_body.on_data(body_size, end_of_stream);
        self.body(true, step, None)
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        let Some(active) = &mut self.active else {
            return Action::Continue;
        };
        if !matches!(active.http.request_body, BodyBuffer::Buffering { .. }) {
            return Action::Continue;
        }
        // trailers end the stream; the body callback before them did not say so
        let body = match host::buffer(BufferType::HttpRequestBody, 0, usize::MAX) {
            Ok(b) => b.unwrap_or_default(),
            Err(e) => {
                crate::error!("reading the request body failed: {e}");
                return Action::Continue;
            }
        };
        let step = active.http.request_body.on_trailers(body.len());
        self.body(true, step, Some(body))
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let Some(active) = &mut self.active else {
            return Action::Continue;
        };
        let Active {
            config,
            plugin,
            http,
        } = active;
        let result = plugin.on_response_headers(http, config);
        if end_of_stream {
            http.response_body = BodyBuffer::Off;
        }
        action("on_response_headers", http, result)
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let Some(active) = &mut self.active else {
            return Action::Continue;
        };
        let step = active.http.response_body.on_data(body_size, end_of_stream);
        self.body(false, step, None)
    }
}
