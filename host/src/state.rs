//! The per-VM host state stored in the wasmtime `Store`.

use std::collections::{HashMap, VecDeque};

use wasmtime::{Memory, ResourceLimiter, TypedFunc};

use crate::types::{Headers, HttpCallRecord, LocalResponse, LogLevel, LogLine, Response};

/// Memory limiter that remembers it fired, so the error can say "memory limit".
pub(crate) struct Limiter {
    pub max: usize,
    pub hit: bool,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max {
            self.hit = true;
            wasmtime::bail!("memory limit of {} bytes reached", self.max);
        }
        Ok(maximum.is_none_or(|m| desired <= m))
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000 && maximum.is_none_or(|m| desired <= m))
    }
}

/// One HTTP stream's data as the plug-in sees it.
#[derive(Default)]
pub(crate) struct Stream {
    pub id: u32,
    pub properties: Vec<(String, Vec<u8>)>,
    pub request_headers: Headers,
    pub request_body: Option<Vec<u8>>,
    pub request_trailers: Option<Headers>,
    pub response_headers: Option<Headers>,
    pub response_body: Option<Vec<u8>>,
    pub response_trailers: Option<Headers>,
    pub local_response: Option<LocalResponse>,
    /// Extra `proxy_send_local_response` calls after the first (ignored, like Envoy).
    pub extra_local_responses: u32,
    pub continue_request: bool,
    pub continue_response: bool,
    pub closed: bool,
}

pub(crate) struct PendingCall {
    pub token: u32,
    pub record: usize,
}

pub(crate) struct Queue {
    pub name: String,
    pub vm_id: String,
    pub items: VecDeque<Vec<u8>>,
}

pub(crate) struct Metric {
    pub name: String,
    pub kind: i32,
    pub value: i64,
}

/// The host side of one VM.
pub(crate) struct HostState {
    pub limiter: Limiter,
    pub memory: Option<Memory>,
    pub alloc: Option<TypedFunc<i32, i32>>,
    pub root_id: u32,
    pub vm_id: String,
    pub effective: u32,
    pub callback: &'static str,
    pub logs: Vec<LogLine>,
    pub log_level: LogLevel,
    pub clock_ns: u64,
    pub rng: u64,
    pub env: Vec<(String, String)>,
    pub vm_config: Vec<u8>,
    pub plugin_config: Vec<u8>,
    /// VM-wide properties (`plugin_name`, ...); a stream's own properties take precedence.
    pub properties: Vec<(String, Vec<u8>)>,
    pub stream: Option<Stream>,
    /// The answer being delivered by `proxy_on_http_call_response`.
    pub call_answer: Option<Response>,
    pub next_token: u32,
    pub pending_calls: VecDeque<PendingCall>,
    pub calls: Vec<HttpCallRecord>,
    pub status: (i32, Vec<u8>),
    pub shared: HashMap<Vec<u8>, (Vec<u8>, u32)>,
    pub queues: Vec<Queue>,
    pub ready_queues: VecDeque<u32>,
    pub metrics: Vec<Metric>,
    pub tick_period_ms: u32,
    pub exit_code: Option<i32>,
    /// Problems the host noticed that are not the plug-in's fault to trap on (shown in diagnostics).
    pub notes: Vec<String>,
}

impl HostState {
    pub fn log(&mut self, level: LogLevel, message: String) {
        // keep memory bounded under long benches
        if self.logs.len() >= 100_000 {
            self.logs.drain(..50_000);
        }
        self.logs.push(LogLine { level, message });
    }

    pub fn note(&mut self, note: String) {
        if self.notes.len() < 1000 {
            self.notes.push(note);
        }
    }

    /// splitmix64
    pub fn next_random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Looks up a property by its dotted name.
    pub fn property(&self, name: &str) -> Option<Vec<u8>> {
        if let Some(s) = &self.stream {
            if let Some((_, v)) = s.properties.iter().find(|(k, _)| k == name) {
                return Some(v.clone());
            }
            if let Some(v) = stream_property(s, name) {
                return Some(v);
            }
        }
        self.properties
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

/// Properties Envoy derives from the request (`request.path`, `request.headers`, ...).
fn stream_property(s: &Stream, name: &str) -> Option<Vec<u8>> {
    let h = &s.request_headers;
    let get = |k: &str| h.get(k).map(String::into_bytes);
    match name {
        "request.path" => get(":path"),
        "request.url_path" => h
            .get(":path")
            .map(|p| p.split('?').next().unwrap_or("").as_bytes().to_vec()),
        "request.query" => h.get(":path").map(|p| {
            p.split_once('?')
                .map(|x| x.1)
                .unwrap_or("")
                .as_bytes()
                .to_vec()
        }),
        "request.host" => get(":authority"),
        "request.method" => get(":method"),
        "request.scheme" => get(":scheme"),
        "request.protocol" => Some(b"HTTP/1.1".to_vec()),
        "request.id" => get("x-request-id"),
        "request.useragent" => get("user-agent"),
        "request.referer" => get("referer"),
        "request.headers" => Some(h.wire()),
        "response.code" => s
            .response_headers
            .as_ref()
            .and_then(|r| r.get(":status"))
            .and_then(|c| c.parse::<i64>().ok())
            .map(|c| c.to_le_bytes().to_vec()),
        "response.headers" => s.response_headers.as_ref().map(Headers::wire),
        "source.address" => Some(b"127.0.0.1:40000".to_vec()),
        "destination.address" => Some(b"127.0.0.1:10000".to_vec()),
        _ => {
            let rest = name.strip_prefix("request.headers.")?;
            get(rest)
        }
    }
}
