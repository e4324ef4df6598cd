//! The hidden proxy-wasm glue: the root context (configure + rule matching + the [`RootPlugin`]) and the HTTP
//! context (dispatch, body buffering and chunks, trailers, holding and resuming, callout answers).

use std::marker::PhantomData;
use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType};

use crate::body::{BodyBuffer, BodyStep};
use crate::host::{self, BufferType, HostError, MapType};
use crate::plugin::{Dir, Http, HttpPlugin};
use crate::root::{NoRoot, Root, RootPlugin};
use crate::rules::{Match, MatchInput, Needs, RuleSet};

/// Registers HTTP plug-in `P` under `name` (the log prefix); call it from `proxy_wasm::main!`, or use
/// [`crate::plugin!`].
pub fn register<P: HttpPlugin>(name: &'static str) {
    register_with_root::<P, NoRoot<P::Config>>(name);
}

/// Registers HTTP plug-in `P` with root plug-in `R` (see [`crate::plugin!`]`(P, root = R)`).
pub fn register_with_root<P: HttpPlugin, R: RootPlugin<Config = P::Config>>(name: &'static str) {
    crate::log::set_plugin_name(name);
    std::panic::set_hook(Box::new(|info| {
        crate::log::log(
            crate::log::LogLevel::Critical,
            format_args!("panicked: {info}"),
        );
    }));
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> {
        Box::new(RootGlue::<P, R> {
            shared: None,
            plugin: R::default(),
            root: Root::default(),
            _http: PhantomData,
        })
    });
}

/// `pwsdk::plugin!(MyPlugin);` exports the proxy-wasm entry points for `MyPlugin`, named after the crate;
/// `pwsdk::plugin!(MyPlugin, root = MyRoot);` also registers a [`RootPlugin`].
#[macro_export]
macro_rules! plugin {
    ($plugin:ty) => {
        $crate::proxy_wasm::main! {{
            $crate::register::<$plugin>(env!("CARGO_PKG_NAME"));
        }}
    };
    ($plugin:ty, root = $root:ty) => {
        $crate::proxy_wasm::main! {{
            $crate::register_with_root::<$plugin, $root>(env!("CARGO_PKG_NAME"));
        }}
    };
}

/// Reads the plug-in configuration bytes (empty when `size` is 0).
pub(crate) fn configuration(size: usize) -> Result<Vec<u8>, HostError> {
    if size == 0 {
        return Ok(Vec::new());
    }
    Ok(host::buffer(BufferType::PluginConfiguration, 0, size)?.unwrap_or_default())
}

fn lossy(bytes: Option<Vec<u8>>) -> Option<String> {
    bytes.map(|b| {
        String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    })
}

/// The request's rule-matching inputs, reading only what the rules need.
pub(crate) fn match_input(needs: Needs) -> Result<MatchInput, HostError> {
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

struct Shared<C> {
    rules: RuleSet<C>,
    fallback: Option<Rc<C>>,
    needs: Needs,
}

struct RootGlue<P: HttpPlugin, R: RootPlugin<Config = P::Config>> {
    shared: Option<Rc<Shared<P::Config>>>,
    plugin: R,
    root: Root,
    _http: PhantomData<P>,
}

fn log_err(callback: &str, result: Result<(), HostError>) {
    if let Err(e) = result {
        crate::error!("{callback} failed: {e}");
    }
}

impl<P: HttpPlugin, R: RootPlugin<Config = P::Config>> Context for RootGlue<P, R> {
    fn on_http_call_response(
        &mut self,
        token: u32,
        num_headers: usize,
        body_size: usize,
        num_trailers: usize,
    ) {
        let Some(read) = self.root.http_reader.filter(|_| R::PRESENT) else {
            return;
        };
        if !self.root.take_http_call(token) {
            return;
        }
        let answer = read(num_headers, body_size, num_trailers);
        let result = self
            .plugin
            .on_http_call_response(&mut self.root, token, answer);
        log_err("on_http_call_response", result);
    }

    fn on_grpc_call_response(&mut self, token: u32, status_code: u32, response_size: usize) {
        let Some(read) = self.root.grpc_reader.filter(|_| R::PRESENT) else {
            return;
        };
        if !self.root.take_grpc_call(token) {
            return;
        }
        let answer = read(status_code, response_size);
        let result = self
            .plugin
            .on_grpc_call_response(&mut self.root, token, answer);
        log_err("on_grpc_call_response", result);
    }
}

impl<P: HttpPlugin, R: RootPlugin<Config = P::Config>> RootContext for RootGlue<P, R> {
    fn on_configure(&mut self, size: usize) -> bool {
        self.shared = None;
        let bytes = match configuration(size) {
            Ok(b) => b,
            Err(e) => {
                crate::error!("invalid configuration: cannot read it: {e}");
                return false;
            }
        };
        let rules = match RuleSet::<P::Config>::parse(&bytes) {
            Ok(rules) => rules,
            Err(e) => {
                crate::error!("{e}");
                return false;
            }
        };
        if let Err(e) = self.plugin.on_configure(&mut self.root, &rules) {
            crate::error!("{e}");
            return false;
        }
        let needs = rules.needs();
        let fallback = P::fallback_config().map(Rc::new);
        self.shared = Some(Rc::new(Shared {
            rules,
            fallback,
            needs,
        }));
        true
    }

    fn on_tick(&mut self) {
        if !R::PRESENT {
            return;
        }
        let result = self.plugin.on_tick(&mut self.root);
        log_err("on_tick", result);
    }

    fn on_queue_ready(&mut self, queue_id: u32) {
        if !R::PRESENT {
            return;
        }
        let result = self.plugin.on_queue_ready(&mut self.root, queue_id);
        log_err("on_queue_ready", result);
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

fn action(pause: bool) -> Action {
    if pause {
        Action::Pause
    } else {
        Action::Continue
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

    /// The stream's state when the plug-in should see this callback of `dir`.
    fn active(&mut self, dir: Dir) -> Option<&mut Active<P>> {
        let active = self.active.as_mut()?;
        if dir == Dir::Response && active.http.responded_in_response {
            return None;
        }
        active.http.responded_now = false;
        Some(active)
    }
}

/// Reads `len` bytes of a body buffer from its start.
fn read_body(dir: Dir, len: usize) -> Result<Vec<u8>, HostError> {
    if len == 0 {
        return Ok(Vec::new());
    }
    Ok(host::buffer(dir.body(), 0, len)?.unwrap_or_default())
}

impl<P: HttpPlugin> Active<P> {
    fn headers(&mut self, dir: Dir, end_of_stream: bool) -> Action {
        let Active {
            config,
            plugin,
            http,
        } = self;
        http.side(dir).has_body = !end_of_stream;
        let (result, callback) = match dir {
            Dir::Request => (
                plugin.on_request_headers(http, config),
                "on_request_headers",
            ),
            Dir::Response => (
                plugin.on_response_headers(http, config),
                "on_response_headers",
            ),
        };
        if end_of_stream || (dir == Dir::Request && http.responded()) {
            let side = http.side(dir);
            side.whole = BodyBuffer::Off;
            side.chunks = false;
        }
        action(http.settle(dir, callback, result))
    }

    /// Hands one chunk (`len` bytes of the host's buffer) to the chunk callback.
    fn chunk(&mut self, dir: Dir, len: usize, end_of_stream: bool) -> Action {
        let bytes = match read_body(dir, len) {
            Ok(b) => b,
            Err(e) => {
                crate::error!("reading the {} body failed: {e}", dir.name());
                return action(self.http.pass(dir));
            }
        };
        let Active {
            config,
            plugin,
            http,
        } = self;
        http.side(dir).chunk = Some(bytes.len());
        let (result, callback) = match dir {
            Dir::Request => (
                plugin.on_request_chunk(http, config, &bytes, end_of_stream),
                "on_request_chunk",
            ),
            Dir::Response => (
                plugin.on_response_chunk(http, config, &bytes, end_of_stream),
                "on_response_chunk",
            ),
        };
        let side = http.side(dir);
        side.chunk = None;
        if end_of_stream {
            side.chunks = false;
        }
        let pause = http.settle(dir, callback, result);
        http.side(dir).chunk_held = pause;
        action(pause)
    }

    /// Acts on one whole-body buffering step; `prefetched` is the body when the caller already read it.
    fn whole(&mut self, dir: Dir, step: BodyStep, prefetched: Option<Vec<u8>>) -> Action {
        match step {
            BodyStep::Pass => action(self.http.pass(dir)),
            BodyStep::Wait => Action::Pause,
            BodyStep::TooLarge => {
                crate::warn!(
                    "{} body larger than {} bytes: not inspected",
                    dir.name(),
                    self.http.body_limit
                );
                action(self.http.pass(dir))
            }
            BodyStep::Ready(len) => {
                let body = match prefetched {
                    Some(body) => body,
                    None => match read_body(dir, len) {
                        Ok(b) => b,
                        Err(e) => {
                            crate::error!("reading the {} body failed: {e}", dir.name());
                            return action(self.http.pass(dir));
                        }
                    },
                };
                let Active {
                    config,
                    plugin,
                    http,
                } = self;
                http.side(dir).chunk = Some(body.len());
                let (result, callback) = match dir {
                    Dir::Request => (
                        plugin.on_request_body(http, config, &body),
                        "on_request_body",
                    ),
                    Dir::Response => (
                        plugin.on_response_body(http, config, &body),
                        "on_response_body",
                    ),
                };
                http.side(dir).chunk = None;
                action(http.settle(dir, callback, result))
            }
        }
    }

    fn body(&mut self, dir: Dir, size: usize, end_of_stream: bool) -> Action {
        if self.http.side(dir).chunks {
            return self.chunk(dir, size, end_of_stream);
        }
        let step = self.http.side(dir).whole.on_data(size, end_of_stream);
        self.whole(dir, step, None)
    }

    fn trailers(&mut self, dir: Dir) -> Action {
        // trailers end the body: the body's last callback first
        let side = self.http.side(dir);
        if side.chunks {
            // the bytes held by a Stop from the last chunk callback, with end_of_stream
            let held = if side.chunk_held {
                host::buffer_len(dir.body()).unwrap_or(0)
            } else {
                0
            };
            self.chunk(dir, held, true);
        } else if matches!(side.whole, BodyBuffer::Buffering { .. }) {
            let action = match host::buffer(dir.body(), 0, usize::MAX) {
                Ok(b) => {
                    let body = b.unwrap_or_default();
                    let step = self.http.side(dir).whole.on_trailers(body.len());
                    self.whole(dir, step, Some(body))
                }
                Err(e) => {
                    crate::error!("reading the {} body failed: {e}", dir.name());
                    self.http.side(dir).whole = BodyBuffer::Done;
                    Action::Continue
                }
            };
            let _ = action;
        }
        if self.http.responded_now {
            return Action::Pause;
        }
        let Active {
            config,
            plugin,
            http,
        } = self;
        let (result, callback) = match dir {
            Dir::Request => (
                plugin.on_request_trailers(http, config),
                "on_request_trailers",
            ),
            Dir::Response => (
                plugin.on_response_trailers(http, config),
                "on_response_trailers",
            ),
        };
        action(http.settle(dir, callback, result))
    }
}

impl<P: HttpPlugin> Context for Stream<P> {
    fn on_http_call_response(
        &mut self,
        token: u32,
        num_headers: usize,
        body_size: usize,
        num_trailers: usize,
    ) {
        let Some(active) = self.active.as_mut() else {
            return;
        };
        let Some(read) = active.http.http_reader else {
            return;
        };
        if !active.http.take_http_call(token) {
            return;
        }
        let answer = read(num_headers, body_size, num_trailers);
        let Active {
            config,
            plugin,
            http,
        } = active;
        http.responded_now = false;
        let result = plugin.on_http_call_response(http, config, token, answer);
        http.after_answer("on_http_call_response", result);
    }

    fn on_grpc_call_response(&mut self, token: u32, status_code: u32, response_size: usize) {
        let Some(active) = self.active.as_mut() else {
            return;
        };
        let Some(read) = active.http.grpc_reader else {
            return;
        };
        if !active.http.take_grpc_call(token) {
            return;
        }
        let answer = read(status_code, response_size);
        let Active {
            config,
            plugin,
            http,
        } = active;
        http.responded_now = false;
        let result = plugin.on_grpc_call_response(http, config, token, answer);
        http.after_answer("on_grpc_call_response", result);
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
        active.headers(Dir::Request, end_of_stream)
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        match self.active(Dir::Request) {
            Some(a) => a.body(Dir::Request, body_size, end_of_stream),
            None => Action::Continue,
        }
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        match self.active(Dir::Request) {
            Some(a) => a.trailers(Dir::Request),
            None => Action::Continue,
        }
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        if let Some(a) = self.active.as_mut() {
            a.http.in_response = true;
        }
        match self.active(Dir::Response) {
            Some(a) => a.headers(Dir::Response, end_of_stream),
            None => Action::Continue,
        }
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        match self.active(Dir::Response) {
            Some(a) => a.body(Dir::Response, body_size, end_of_stream),
            None => Action::Continue,
        }
    }

    fn on_http_response_trailers(&mut self, _num_trailers: usize) -> Action {
        match self.active(Dir::Response) {
            Some(a) => a.trailers(Dir::Response),
            None => Action::Continue,
        }
    }
}
