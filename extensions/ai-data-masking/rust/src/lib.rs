//! ai-data-masking: denies AI requests and answers containing deny words, masks sensitive data in requests
//! (replace or hash) and restores it in the answers, streamed (SSE) or not.
//!
//! The pure logic lives in the modules below and is tested natively. This file is the proxy-wasm glue. It does
//! not use `pwsdk::HttpPlugin` because streamed answers must be worked on chunk by chunk (the SDK hands over
//! whole bodies only) and bodies must be rewritten (the SDK has no body setter yet); it reuses the SDK's
//! configuration rules (`pwsdk::rules`), host-call wrappers and logging.

pub mod config;
pub mod filter;
pub mod jsonpath;
pub mod mask;
pub mod pattern;
pub mod sse;

use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType};
use pwsdk::host::{self, BufferType, HostError, MapType};
use pwsdk::rules::{Match, MatchInput, Needs, RuleSet};

use crate::config::Config;
use crate::filter::RequestOutcome;
use crate::mask::{DenyWords, Restore};
use crate::sse::{Context as SseContext, Events, Splitter};

/// Largest whole body (request, or non-streamed response) that is looked at; larger ones pass untouched.
pub const BODY_LIMIT: usize = pwsdk::body::DEFAULT_BODY_LIMIT;

mod raw {
    #[link(wasm_import_module = "env")]
    extern "C" {
        pub fn proxy_set_buffer_bytes(
            buffer: u32,
            start: usize,
            size: usize,
            data: *const u8,
            data_size: usize,
        ) -> u32;
        pub fn proxy_get_current_time_nanoseconds(ret: *mut u64) -> u32;
    }
}

/// Replaces bytes `start..start+size` of a body buffer.
fn set_buffer(buffer: BufferType, start: usize, size: usize, data: &[u8]) -> Result<(), HostError> {
    // SAFETY: pointer and length of a live slice
    let status = unsafe {
        raw::proxy_set_buffer_bytes(buffer as u32, start, size, data.as_ptr(), data.len())
    };
    match status {
        0 => Ok(()),
        s => Err(HostError {
            call: "proxy_set_buffer_bytes",
            status: s,
        }),
    }
}

/// Unix time in seconds (0 if the host cannot tell).
fn now() -> u64 {
    let mut ns = 0u64;
    // SAFETY: out-pointer to a local
    let status = unsafe { raw::proxy_get_current_time_nanoseconds(&mut ns) };
    if status == 0 {
        ns / 1_000_000_000
    } else {
        0
    }
}

struct Shared {
    rules: RuleSet<Config>,
    needs: Needs,
}

struct Root {
    shared: Option<Rc<Shared>>,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, size: usize) -> bool {
        let bytes = if size == 0 {
            Vec::new()
        } else {
            match host::buffer(BufferType::PluginConfiguration, 0, size) {
                Ok(b) => b.unwrap_or_default(),
                Err(e) => {
                    pwsdk::error!("invalid configuration: cannot read it: {e}");
                    return false;
                }
            }
        };
        match RuleSet::<Config>::parse(&bytes) {
            Ok(rules) => {
                let needs = rules.needs();
                self.shared = Some(Rc::new(Shared { rules, needs }));
                true
            }
            Err(e) => {
                self.shared = None;
                pwsdk::error!("{e}");
                false
            }
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Stream {
            shared: self.shared.clone(),
            ..Stream::default()
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Response {
    /// Not touched.
    #[default]
    Off,
    /// Buffered whole, then rewritten.
    Whole,
    /// An event stream, rewritten event by event as it passes.
    Events,
}

#[derive(Default)]
struct Stream {
    shared: Option<Rc<Shared>>,
    config: Option<Rc<Config>>,
    buffering_request: bool,
    responded: bool,
    restore: Restore,
    response: Response,
    splitter: Splitter,
    events: Events,
}

impl Context for Stream {}

fn text(bytes: Option<Vec<u8>>) -> Option<String> {
    bytes.map(mask::into_string)
}

impl Stream {
    fn select(&self) -> Result<Option<Rc<Config>>, HostError> {
        let Some(shared) = &self.shared else {
            return Ok(None);
        };
        let needs = shared.needs;
        let input = MatchInput {
            authority: if needs.authority {
                text(host::header(MapType::RequestHeaders, ":authority")?)
            } else {
                None
            },
            route_name: if needs.route_name {
                text(host::property(&["route_name"])?)
            } else {
                None
            },
            cluster_name: if needs.cluster_name {
                text(host::property(&["cluster_name"])?)
            } else {
                None
            },
        };
        Ok(match shared.rules.matching(&input) {
            Match::Rule(_, c) | Match::Global(c) => Some(c),
            Match::Disabled(_) | Match::None => None,
        })
    }

    /// The whole request body is here (`size` bytes).
    fn request_body(&mut self, size: usize) -> Result<Action, HostError> {
        self.buffering_request = false;
        let Some(config) = self.config.clone() else {
            return Ok(Action::Continue);
        };
        let body = host::buffer(BufferType::HttpRequestBody, 0, size)?.unwrap_or_default();
        match filter::request(&config, &body, &mut self.restore, now()) {
            RequestOutcome::Pass => {}
            RequestOutcome::Replace(new) => {
                set_buffer(BufferType::HttpRequestBody, 0, body.len(), &new)?;
            }
            RequestOutcome::Deny(deny) => {
                host::send_local_response(
                    deny.status,
                    &[("content-type", deny.content_type.as_str())],
                    &deny.body,
                )?;
                self.responded = true;
                return Ok(Action::Pause);
            }
        }
        Ok(Action::Continue)
    }

    fn response_headers(&mut self) -> Result<(), HostError> {
        let Some(config) = &self.config else {
            return Ok(());
        };
        if self.responded {
            return Ok(());
        }
        let restoring = !self.restore.is_empty();
        let denying = config.deny_openai && !config.words.is_empty();
        if !restoring && !denying {
            return Ok(());
        }
        if let Some(enc) = host::header(MapType::ResponseHeaders, "content-encoding")? {
            if !enc.trim_ascii().eq_ignore_ascii_case(b"identity") {
                pwsdk::debug!("response is content-encoded: not inspected");
                return Ok(());
            }
        }
        let content_type = host::header(MapType::ResponseHeaders, "content-type")?
            .unwrap_or_default()
            .to_ascii_lowercase();
        self.response = if memchr::memmem::find(&content_type, b"text/event-stream").is_some() {
            Response::Events
        } else {
            Response::Whole
        };
        host::remove_header(MapType::ResponseHeaders, "content-length")?;
        Ok(())
    }

    fn response_body(&mut self, size: usize, end_of_stream: bool) -> Result<Action, HostError> {
        let Some(config) = self.config.clone() else {
            return Ok(Action::Continue);
        };
        match self.response {
            Response::Off => Ok(Action::Continue),
            Response::Whole => {
                if size > BODY_LIMIT {
                    pwsdk::warn!("response body larger than {BODY_LIMIT} bytes: not inspected");
                    self.response = Response::Off;
                    return Ok(Action::Continue);
                }
                if !end_of_stream {
                    return Ok(Action::Pause);
                }
                self.response = Response::Off;
                let body = host::buffer(BufferType::HttpResponseBody, 0, size)?.unwrap_or_default();
                if let Some(new) = filter::response(&config, &body, &self.restore) {
                    set_buffer(BufferType::HttpResponseBody, 0, body.len(), &new)?;
                }
                Ok(Action::Continue)
            }
            Response::Events => {
                let chunk =
                    host::buffer(BufferType::HttpResponseBody, 0, size)?.unwrap_or_default();
                let no_words = DenyWords::default();
                let ctx = SseContext {
                    restore: &self.restore,
                    // answers are deny-checked as OpenAI chunks only
                    words: if config.deny_openai {
                        &config.words
                    } else {
                        &no_words
                    },
                    deny_message: &config.deny_message,
                };
                let mut out = Vec::with_capacity(chunk.len() + 64);
                for event in self.splitter.push(&chunk) {
                    out.extend(self.events.event(&ctx, &event));
                }
                if self.splitter.pending() > BODY_LIMIT {
                    pwsdk::warn!("event larger than {BODY_LIMIT} bytes: passed on unchanged");
                    out.extend(self.splitter.finish());
                }
                if end_of_stream {
                    let rest = self.splitter.finish();
                    if !rest.is_empty() {
                        out.extend(self.events.event(&ctx, &rest));
                    }
                    out.extend(self.events.flush(&ctx));
                }
                if out != chunk {
                    set_buffer(BufferType::HttpResponseBody, 0, chunk.len(), &out)?;
                }
                Ok(Action::Continue)
            }
        }
    }
}

fn or_log(callback: &str, result: Result<Action, HostError>) -> Action {
    result.unwrap_or_else(|e| {
        pwsdk::error!("{callback} failed: {e}");
        Action::Continue
    })
}

impl HttpContext for Stream {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let result = (|| -> Result<Action, HostError> {
            let Some(config) = self.select()? else {
                return Ok(Action::Continue);
            };
            if config.inspects_requests() && !end_of_stream {
                self.buffering_request = true;
                host::remove_header(MapType::RequestHeaders, "content-length")?;
            }
            if config.may_touch_responses() {
                // the answer must come back readable
                host::remove_header(MapType::RequestHeaders, "accept-encoding")?;
            }
            self.config = Some(config);
            Ok(Action::Continue)
        })();
        or_log("on_request_headers", result)
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if !self.buffering_request {
            return Action::Continue;
        }
        if body_size > BODY_LIMIT {
            pwsdk::warn!("request body larger than {BODY_LIMIT} bytes: not inspected");
            self.buffering_request = false;
            return Action::Continue;
        }
        if !end_of_stream {
            return Action::Pause;
        }
        let result = self.request_body(body_size);
        or_log("on_request_body", result)
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        if !self.buffering_request {
            return Action::Continue;
        }
        let size = match host::buffer(BufferType::HttpRequestBody, 0, usize::MAX) {
            Ok(b) => b.map_or(0, |b| b.len()),
            Err(e) => {
                pwsdk::error!("reading the request body failed: {e}");
                return Action::Continue;
            }
        };
        if size > BODY_LIMIT {
            pwsdk::warn!("request body larger than {BODY_LIMIT} bytes: not inspected");
            self.buffering_request = false;
            return Action::Continue;
        }
        let result = self.request_body(size);
        or_log("on_request_trailers", result)
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        if end_of_stream {
            return Action::Continue;
        }
        let result = self.response_headers().map(|()| Action::Continue);
        or_log("on_response_headers", result)
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let result = self.response_body(body_size, end_of_stream);
        or_log("on_response_body", result)
    }
}

/// Registers the plug-in (log prefix `ai-data-masking`) and a panic hook that logs at critical level.
pub fn register() {
    pwsdk::log::set_plugin_name(env!("CARGO_PKG_NAME"));
    std::panic::set_hook(Box::new(|info| {
        pwsdk::log::log(
            pwsdk::log::LogLevel::Critical,
            format_args!("panicked: {info}"),
        );
    }));
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root { shared: None }) });
}

proxy_wasm::main! {{
    register();
}}
