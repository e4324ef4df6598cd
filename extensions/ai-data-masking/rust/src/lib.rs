//! ai-data-masking: denies AI requests and answers containing deny words, masks sensitive data in requests
//! (replace or hash) and restores it in the answers, streamed (SSE) or not.
//!
//! The pure logic lives in the modules below and is tested natively. This file is the plug-in on the SDK's
//! `HttpPlugin`: whole request bodies, whole non-streamed answers, and streamed answers chunk by chunk (events
//! split by `pwsdk::sse::Parser`), rewritten with the SDK's body setters.

pub mod config;
pub mod filter;
pub mod jsonpath;
pub mod mask;
pub mod pattern;
pub mod sse;

use pwsdk::sse::Parser;
use pwsdk::{Flow, HostError, Http, HttpPlugin};

use crate::config::Config;
use crate::filter::RequestOutcome;
use crate::mask::{DenyWords, Restore};
use crate::sse::{Context as SseContext, Events};

/// Largest whole body (request, or non-streamed response) that is looked at; larger ones pass untouched.
pub const BODY_LIMIT: usize = pwsdk::body::DEFAULT_BODY_LIMIT;

/// Unix time in seconds (0 if the host cannot tell).
fn now() -> u64 {
    pwsdk::time::now_nanos().map_or(0, |ns| ns / 1_000_000_000)
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
pub struct AiDataMasking {
    restore: Restore,
    response: Response,
    parser: Parser,
    events: Events,
}

impl AiDataMasking {
    /// Rewrites one chunk of an event stream: the events it completes (and, at the end, the rest).
    fn events_chunk(&mut self, config: &Config, chunk: &[u8], end_of_stream: bool) -> Vec<u8> {
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
        for event in self.parser.push(chunk) {
            out.extend(self.events.event(&ctx, event.raw().unwrap_or_default()));
        }
        if self.parser.pending() > BODY_LIMIT {
            pwsdk::warn!("event larger than {BODY_LIMIT} bytes: passed on unchanged");
            if let Some(rest) = self.parser.finish() {
                out.extend_from_slice(rest.raw().unwrap_or_default());
            }
        }
        if end_of_stream {
            if let Some(rest) = self.parser.finish() {
                out.extend(self.events.event(&ctx, rest.raw().unwrap_or_default()));
            }
            out.extend(self.events.flush(&ctx));
        }
        out
    }
}

impl HttpPlugin for AiDataMasking {
    type Config = Config;

    fn on_request_headers(&mut self, http: &mut Http, config: &Config) -> Result<Flow, HostError> {
        if config.inspects_requests() && http.request_has_body() {
            http.set_body_limit(BODY_LIMIT);
            http.inspect_request_body();
            http.remove_request_header("content-length")?;
        }
        if config.may_touch_responses() {
            // the answer must come back readable
            http.remove_request_header("accept-encoding")?;
        }
        Ok(Flow::Continue)
    }

    fn on_request_body(
        &mut self,
        http: &mut Http,
        config: &Config,
        body: &[u8],
    ) -> Result<Flow, HostError> {
        match filter::request(config, body, &mut self.restore, now()) {
            RequestOutcome::Pass => Ok(Flow::Continue),
            RequestOutcome::Replace(new) => {
                http.replace_request_body(&new)?;
                Ok(Flow::Continue)
            }
            RequestOutcome::Deny(deny) => {
                http.send_response(
                    deny.status,
                    &[("content-type", deny.content_type.as_str())],
                    &deny.body,
                )?;
                Ok(Flow::Stop)
            }
        }
    }

    fn on_response_headers(&mut self, http: &mut Http, config: &Config) -> Result<Flow, HostError> {
        if !http.response_has_body() || http.responded() {
            return Ok(Flow::Continue);
        }
        let restoring = !self.restore.is_empty();
        let denying = config.deny_openai && !config.words.is_empty();
        if !restoring && !denying {
            return Ok(Flow::Continue);
        }
        if let Some(enc) = http.response_header("content-encoding")? {
            if !enc.trim_ascii().eq_ignore_ascii_case(b"identity") {
                pwsdk::debug!("response is content-encoded: not inspected");
                return Ok(Flow::Continue);
            }
        }
        let content_type = http
            .response_header("content-type")?
            .unwrap_or_default()
            .to_ascii_lowercase();
        if memchr::memmem::find(&content_type, b"text/event-stream").is_some() {
            self.response = Response::Events;
            http.stream_response_body();
        } else {
            self.response = Response::Whole;
            http.set_body_limit(BODY_LIMIT);
            http.inspect_response_body();
        }
        http.remove_response_header("content-length")?;
        Ok(Flow::Continue)
    }

    fn on_response_body(
        &mut self,
        http: &mut Http,
        config: &Config,
        body: &[u8],
    ) -> Result<Flow, HostError> {
        if self.response == Response::Whole {
            if let Some(new) = filter::response(config, body, &self.restore) {
                http.replace_response_body(&new)?;
            }
        }
        Ok(Flow::Continue)
    }

    fn on_response_chunk(
        &mut self,
        http: &mut Http,
        config: &Config,
        chunk: &[u8],
        end_of_stream: bool,
    ) -> Result<Flow, HostError> {
        let out = self.events_chunk(config, chunk, end_of_stream);
        if out != chunk {
            http.replace_response_chunk(&out)?;
        }
        Ok(Flow::Continue)
    }
}

pwsdk::plugin!(AiDataMasking);
