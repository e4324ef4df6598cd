//! Public data types: requests, responses, outcomes, logs and errors.

use std::time::Duration;

pub use crate::abi::LogLevel;

/// An ordered header list. Keys are stored lower-cased (as Envoy does); values are bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<(String, Vec<u8>)>);

impl Headers {
    /// Appends a header (the key is lower-cased).
    pub fn add(&mut self, key: &str, value: impl AsRef<[u8]>) {
        self.0
            .push((key.to_ascii_lowercase(), value.as_ref().to_vec()));
    }

    /// All values of `key` (case-insensitive), in order.
    pub fn get_all(&self, key: &str) -> Vec<&[u8]> {
        self.0
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_slice())
            .collect()
    }

    /// The value of `key` as text (repeated headers are joined with `,`, as Envoy does); `None` if absent.
    pub fn get(&self, key: &str) -> Option<String> {
        let all = self.get_all(key);
        if all.is_empty() {
            return None;
        }
        Some(
            all.iter()
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .collect::<Vec<_>>()
                .join(","),
        )
    }

    /// Whether `key` is present (case-insensitive).
    pub fn contains(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k.eq_ignore_ascii_case(key))
    }

    /// Removes every value of `key`.
    pub fn remove(&mut self, key: &str) {
        self.0.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
    }

    /// Replaces every value of `key` with one value (kept at the first position if present).
    pub fn set(&mut self, key: &str, value: impl AsRef<[u8]>) {
        let key = key.to_ascii_lowercase();
        if let Some(pos) = self.0.iter().position(|(k, _)| *k == key) {
            self.0[pos].1 = value.as_ref().to_vec();
            let mut i = 0;
            self.0.retain(|(k, _)| {
                i += 1;
                i - 1 == pos || *k != key
            });
        } else {
            self.0.push((key, value.as_ref().to_vec()));
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn wire(&self) -> Vec<u8> {
        crate::abi::serialize_pairs(self.0.iter().map(|(k, v)| (k.as_bytes(), v.as_slice())))
    }

    pub(crate) fn from_pairs(pairs: Vec<(Vec<u8>, Vec<u8>)>) -> Headers {
        Headers(
            pairs
                .into_iter()
                .map(|(k, v)| (String::from_utf8_lossy(&k).to_ascii_lowercase(), v))
                .collect(),
        )
    }
}

impl std::fmt::Display for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(k, v)| format!("{k}: {:?}", String::from_utf8_lossy(v)))
            .collect();
        write!(f, "{{{}}}", parts.join(", "))
    }
}

/// A downstream request to send through the plug-in.
#[derive(Clone, Debug)]
pub struct Request {
    pub(crate) headers: Headers,
    pub(crate) body: Option<Vec<u8>>,
    /// Chunk sizes the body is delivered in (empty: one chunk).
    pub(crate) split: Vec<usize>,
    pub(crate) trailers: Option<Headers>,
    pub(crate) properties: Vec<(String, Vec<u8>)>,
    pub(crate) defaults: bool,
    pub(crate) omit: Vec<String>,
}

impl Request {
    /// A request with `:method` and `:path`; `:scheme http` and `:authority example.com` are added unless given.
    pub fn new(method: &str, path: &str) -> Request {
        let mut headers = Headers::default();
        headers.add(":method", method);
        headers.add(":path", path);
        Request {
            headers,
            body: None,
            split: Vec::new(),
            trailers: None,
            properties: Vec::new(),
            defaults: true,
            omit: Vec::new(),
        }
    }

    /// `GET path`.
    pub fn get(path: &str) -> Request {
        Request::new("GET", path)
    }

    /// `POST path` with a body.
    pub fn post(path: &str, body: impl AsRef<[u8]>) -> Request {
        Request::new("POST", path).body(body)
    }

    /// A request with no headers at all and no defaults, not even the ones the gateway adds (for odd-input
    /// tests).
    pub fn bare() -> Request {
        Request {
            headers: Headers::default(),
            body: None,
            split: Vec::new(),
            trailers: None,
            properties: Vec::new(),
            defaults: false,
            omit: Vec::new(),
        }
    }

    /// Adds a header (a pseudo-header such as `:authority` replaces the existing one).
    pub fn header(mut self, key: &str, value: impl AsRef<[u8]>) -> Request {
        if key.starts_with(':') {
            self.headers.set(key, value);
        } else {
            self.headers.add(key, value);
        }
        self
    }

    /// Sets the body, delivered in one chunk with end_of_stream (unless trailers follow).
    pub fn body(mut self, body: impl AsRef<[u8]>) -> Request {
        self.body = Some(body.as_ref().to_vec());
        self.split.clear();
        self
    }

    /// Sets the body as several chunks, each delivered in its own `proxy_on_request_body` call.
    pub fn chunks<I, B>(mut self, chunks: I) -> Request
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        let (body, split) = join_chunks(chunks);
        self.body = Some(body);
        self.split = split;
        self
    }

    /// Adds a trailer.
    pub fn trailer(mut self, key: &str, value: impl AsRef<[u8]>) -> Request {
        self.trailers
            .get_or_insert_with(Headers::default)
            .add(key, value);
        self
    }

    /// Sets a stream property such as `route_name` or `cluster_name`.
    pub fn property(mut self, key: &str, value: impl AsRef<[u8]>) -> Request {
        self.properties.retain(|(k, _)| k != key);
        self.properties
            .push((key.to_string(), value.as_ref().to_vec()));
        self
    }

    /// Leaves out a header the request would get by default: a default pseudo-header (`:scheme`,
    /// `:authority`, ...) or one Envoy's connection manager adds (`x-forwarded-proto`, `x-request-id`).
    pub fn without(mut self, header: &str) -> Request {
        self.omit.push(header.to_ascii_lowercase());
        self
    }

    /// The headers as the client sends them: defaults (`:method GET`, `:scheme http`, `:path /`,
    /// `:authority example.com`) first for missing pseudo-headers, then the given ones in order. Envoy's
    /// connection manager then appends `x-forwarded-proto` and `x-request-id` (see [`Vm::request`]).
    ///
    /// [`Vm::request`]: crate::Vm::request
    pub fn effective_headers(&self) -> Headers {
        let mut out = Headers::default();
        if self.defaults {
            for (k, v) in [
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/"),
                (":authority", "example.com"),
            ] {
                if !self.headers.contains(k) && !self.omit.iter().any(|o| o == k) {
                    out.add(k, v);
                }
            }
        }
        out.0.extend(self.headers.0.iter().cloned());
        out
    }

    /// The body chunks as delivered (`None`: no body, the headers end the stream).
    pub fn body_chunks(&self) -> Option<Vec<Vec<u8>>> {
        self.body.as_ref().map(|b| split_body(b, &self.split))
    }

    /// The same request with its body delivered in chunks of these sizes (the rest in a last chunk).
    pub fn rechunked(mut self, sizes: Vec<usize>) -> Request {
        self.split = sizes;
        self
    }
}

/// Concatenates chunks; returns the body and the chunk sizes.
pub(crate) fn join_chunks<I, B>(chunks: I) -> (Vec<u8>, Vec<usize>)
where
    I: IntoIterator<Item = B>,
    B: AsRef<[u8]>,
{
    let mut body = Vec::new();
    let mut split = Vec::new();
    for c in chunks {
        body.extend_from_slice(c.as_ref());
        split.push(c.as_ref().len());
    }
    (body, split)
}

/// Splits a body into chunks of the given sizes; bytes left over form a last chunk. No sizes: one chunk.
pub(crate) fn split_body(body: &[u8], sizes: &[usize]) -> Vec<Vec<u8>> {
    if sizes.is_empty() {
        return vec![body.to_vec()];
    }
    let mut out = Vec::new();
    let mut at = 0;
    for &n in sizes {
        let end = (at + n).min(body.len());
        out.push(body[at..end].to_vec());
        at = end;
    }
    if at < body.len() {
        out.push(body[at..].to_vec());
    }
    out
}

/// An HTTP response (the backend's answer, or an answer to a plug-in's http_call).
#[derive(Clone, Debug)]
pub struct Response {
    pub headers: Headers,
    /// The whole body.
    pub body: Vec<u8>,
    pub trailers: Option<Headers>,
    /// Chunk sizes the backend's body is delivered in (empty: one chunk).
    pub(crate) split: Vec<usize>,
}

impl Response {
    /// A response with `:status`.
    pub fn new(status: u16) -> Response {
        let mut headers = Headers::default();
        headers.add(":status", status.to_string());
        Response {
            headers,
            body: Vec::new(),
            trailers: None,
            split: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, key: &str, value: impl AsRef<[u8]>) -> Response {
        if key.starts_with(':') {
            self.headers.set(key, value);
        } else {
            self.headers.add(key, value);
        }
        self
    }

    /// Sets the body (one chunk).
    pub fn body(mut self, body: impl AsRef<[u8]>) -> Response {
        self.body = body.as_ref().to_vec();
        self.split.clear();
        self
    }

    /// Sets the body as several chunks, each delivered in its own `proxy_on_response_body` call (for an
    /// http_call answer the chunks are joined: Envoy hands the plug-in the whole answer).
    pub fn chunks<I, B>(mut self, chunks: I) -> Response
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        let (body, split) = join_chunks(chunks);
        self.body = body;
        self.split = split;
        self
    }

    /// Adds a trailer.
    pub fn trailer(mut self, key: &str, value: impl AsRef<[u8]>) -> Response {
        self.trailers
            .get_or_insert_with(Headers::default)
            .add(key, value);
        self
    }

    /// The body chunks as delivered (no chunk for an empty body).
    pub fn body_chunks(&self) -> Vec<Vec<u8>> {
        if self.body.is_empty() {
            return Vec::new();
        }
        split_body(&self.body, &self.split)
    }

    /// The same response with its body delivered in chunks of these sizes.
    pub fn rechunked(mut self, sizes: Vec<usize>) -> Response {
        self.split = sizes;
        self
    }
}

impl Default for Response {
    fn default() -> Response {
        Response::new(200)
    }
}

/// A scripted answer to a `proxy_grpc_call`. Envoy answers a unary call with `proxy_on_grpc_receive` (the
/// response message) on success, or with `proxy_on_grpc_close` (the status) on failure; never both, and
/// never the metadata callbacks (source/extensions/common/wasm/context.h `GrpcCallClientHandler`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GrpcAnswer {
    /// Success: the serialized response message.
    Ok(Vec<u8>),
    /// Failure: a gRPC status (1-16) and its message, readable with `proxy_get_status`.
    Error { status: u32, message: String },
}

impl GrpcAnswer {
    /// Success with this serialized response message.
    pub fn ok(message: impl AsRef<[u8]>) -> GrpcAnswer {
        GrpcAnswer::Ok(message.as_ref().to_vec())
    }

    /// Failure with a gRPC status and message.
    pub fn error(status: u32, message: &str) -> GrpcAnswer {
        GrpcAnswer::Error {
            status,
            message: message.to_string(),
        }
    }
}

/// A reply the plug-in produced itself with `proxy_send_local_response`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalResponse {
    pub status: u32,
    /// The plug-in's headers (keys lower-cased), without `:status`.
    pub headers: Headers,
    pub body: Vec<u8>,
    pub details: String,
    pub grpc_status: i32,
    /// The callback that sent it.
    pub sent_in: &'static str,
}

impl LocalResponse {
    /// The body as text (lossy).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A message that crossed the plug-in: headers, body, trailers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    pub headers: Headers,
    pub body: Vec<u8>,
    pub trailers: Headers,
}

impl Message {
    /// `:status` as a number, if present and numeric.
    pub fn status(&self) -> Option<u32> {
        self.headers.get(":status")?.parse().ok()
    }

    /// A header's value (see [`Headers::get`]).
    pub fn header(&self, key: &str) -> Option<String> {
        self.headers.get(key)
    }

    /// The body as text (lossy).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One `proxy_log` line (or a WASI stdout/stderr write).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    pub level: LogLevel,
    pub message: String,
}

impl std::fmt::Display for LogLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {}", self.level, self.message)
    }
}

/// A callout made with `proxy_http_call`.
#[derive(Clone, Debug)]
pub struct HttpCallRecord {
    /// The cluster named in the call.
    pub upstream: String,
    /// The request headers as Envoy sends them (`content-length` added for a non-empty body).
    pub headers: Headers,
    pub body: Vec<u8>,
    pub trailers: Headers,
    pub timeout_ms: u32,
    /// Whether a scripted answer was delivered (otherwise the call was answered as failed).
    pub answered: bool,
}

/// A callout made with `proxy_grpc_call`.
#[derive(Clone, Debug)]
pub struct GrpcCallRecord {
    /// The cluster: the `grpc_service` argument itself when it is a plain cluster name, or the
    /// `envoy_grpc.cluster_name` (`google_grpc.target_uri`) of a serialized `GrpcService`.
    pub cluster: String,
    /// The raw `grpc_service` argument.
    pub grpc_service: Vec<u8>,
    /// The gRPC service name, e.g. `envoy.service.auth.v3.Authorization`.
    pub service: String,
    pub method: String,
    /// Initial metadata.
    pub metadata: Headers,
    /// The serialized request message.
    pub message: Vec<u8>,
    pub timeout_ms: u32,
    /// How it was answered (`None`: not answered, e.g. cancelled or the stream ended first).
    pub answer: Option<GrpcAnswer>,
}

/// What happened to one request (or, for [`Vm::tick`](crate::Vm::tick), one round of ticks).
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// The plug-in's own reply, if it sent one.
    pub local_response: Option<LocalResponse>,
    /// What reached the backend (`None` if the request never got there).
    pub upstream_request: Option<Message>,
    /// What the client received (the backend's answer or the local reply, after the plug-in's response
    /// callbacks); `None` if the stream stalled before a response.
    pub downstream_response: Option<Message>,
    /// `Some("stream paused at proxy_on_request_headers ...")` when the plug-in stopped the stream and never
    /// resumed it: in a gateway the request would hang.
    pub paused: Option<String>,
    /// HTTP callouts the plug-in made, in order.
    pub http_calls: Vec<HttpCallRecord>,
    /// gRPC callouts the plug-in made, in order.
    pub grpc_calls: Vec<GrpcCallRecord>,
    /// Logs written while this request ran.
    pub logs: Vec<LogLine>,
    /// Every plug-in callback the host made for this request, in order.
    pub callbacks: Vec<&'static str>,
}

/// What happened on one TCP connection.
#[derive(Clone, Debug, Default)]
pub struct TcpOutcome {
    /// Bytes passed on to the backend.
    pub to_upstream: Vec<u8>,
    /// Bytes passed on to the client.
    pub to_downstream: Vec<u8>,
    /// `proxy_close_stream` calls the plug-in made (`downstream`, `upstream`), in order.
    pub closed_by_plugin: Vec<&'static str>,
    /// Data the plug-in stopped and never let through (`Some` describes where).
    pub paused: Option<String>,
    pub http_calls: Vec<HttpCallRecord>,
    pub grpc_calls: Vec<GrpcCallRecord>,
    pub logs: Vec<LogLine>,
    pub callbacks: Vec<&'static str>,
}

/// Containment limits applied to every call into the plug-in.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// CPU (wall-clock, epoch based) time one callback may take.
    pub cpu: Duration,
    /// Largest linear memory, in bytes.
    pub memory: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            cpu: Duration::from_secs(1),
            memory: 256 << 20,
        }
    }
}

/// In which order a finished stream is torn down.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Teardown {
    /// Envoy: `proxy_on_log` → `proxy_on_done` → `proxy_on_delete`.
    #[default]
    Envoy,
    /// The spec: `proxy_on_done` → `proxy_on_log` → `proxy_on_delete`.
    Spec,
}

/// How a VM is started.
#[derive(Clone, Debug)]
pub struct VmOptions {
    /// Plug-in configuration bytes (`proxy_on_configure`, buffer 7).
    pub plugin_config: Vec<u8>,
    /// VM configuration bytes (`proxy_on_vm_start`, buffer 6).
    pub vm_config: Vec<u8>,
    /// `plugin_root_id` (the C++ SDK selects its root factory by it).
    pub root_id: String,
    /// `plugin_vm_id`.
    pub vm_id: String,
    /// WASI environment variables.
    pub env: Vec<(String, String)>,
    /// Properties of every stream (requests may override them); root contexts do not see them.
    pub properties: Vec<(String, Vec<u8>)>,
    /// What `proxy_get_log_level` answers (logs below it are still captured).
    pub log_level: LogLevel,
    pub teardown: Teardown,
    /// Start of the fixed clock, nanoseconds since the epoch.
    pub clock_ns: u64,
    /// Seed of the fixed random source (`random_get`, `x-request-id`).
    pub seed: u64,
    /// Real time and randomness: the clock reads the system time (plus whatever was advanced) and the random
    /// source is seeded from the OS.
    pub realtime: bool,
    /// Upstream clusters that exist; callouts to others fail as in Envoy (`None`: every name exists).
    pub clusters: Option<Vec<String>>,
    /// Shared data present before the VM starts.
    pub shared_data: Vec<(String, Vec<u8>)>,
}

impl Default for VmOptions {
    fn default() -> VmOptions {
        VmOptions {
            plugin_config: Vec::new(),
            vm_config: Vec::new(),
            root_id: String::new(),
            vm_id: String::new(),
            env: Vec::new(),
            properties: Vec::new(),
            log_level: LogLevel::Trace,
            teardown: Teardown::Envoy,
            clock_ns: 1_704_067_200_000_000_000, // 2024-01-01T00:00:00Z
            seed: 0x5eed,
            realtime: false,
            clusters: None,
            shared_data: Vec::new(),
        }
    }
}

/// Everything that can go wrong loading or running a plug-in.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The gateway would refuse the module; `message` is Envoy's wording.
    #[error("plug-in {plugin} does not load: {message}")]
    Load { plugin: String, message: String },
    #[error("plug-in {plugin} trapped in {callback}: {reason}")]
    Trap {
        plugin: String,
        callback: &'static str,
        reason: String,
    },
    #[error("plug-in {plugin} exceeded the {limit:?} CPU limit in {callback}")]
    CpuLimit {
        plugin: String,
        callback: &'static str,
        limit: Duration,
    },
    #[error("plug-in {plugin} exceeded the memory limit of {} MiB in {callback}", limit >> 20)]
    MemoryLimit {
        plugin: String,
        callback: &'static str,
        limit: usize,
    },
    /// `proxy_on_configure` returned false; `detail` is ": <last error log>" or empty.
    #[error(
        "plug-in {plugin} rejected its configuration (proxy_on_configure returned false){detail}"
    )]
    ConfigRejected {
        plugin: String,
        detail: String,
        logs: Vec<LogLine>,
    },
    #[error("plug-in {plugin} failed to start (proxy_on_vm_start returned false)")]
    VmStartFailed { plugin: String },
    /// The VM failed earlier; like Envoy, the host refuses further calls.
    #[error("plug-in {plugin} is unusable after an earlier failure ({first})")]
    Failed { plugin: String, first: String },
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("plug-in {plugin}: {message}")]
    Host { plugin: String, message: String },
}

impl Error {
    /// Whether this is a plug-in failure (trap, limit) rather than a rejection or a host problem.
    pub fn is_crash(&self) -> bool {
        matches!(
            self,
            Error::Trap { .. }
                | Error::CpuLimit { .. }
                | Error::MemoryLimit { .. }
                | Error::Failed { .. }
        )
    }
}
