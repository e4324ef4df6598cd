//! The plug-in author's per-request API: [`HttpPlugin`] (the callbacks) and [`Http`] (the stream handle).
//! The proxy-wasm glue that drives them is in `glue.rs`; the per-VM API ([`crate::RootPlugin`]) in `root.rs`.

use crate::body::{BodyBuffer, DEFAULT_BODY_LIMIT};
use crate::callout::{self, CallFailure, CallResponse, GrpcCall, GrpcResponse, HttpCall};
use crate::host::{self, BufferType, Headers, HostError, MapType, StreamType};
use crate::rules::PluginConfig;

/// What a callback asks the host to do with the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Let the request/response go on.
    Continue,
    /// Hold this direction: after [`Http::send_response`], to wait for a callout, or (in a chunk callback) to
    /// have this chunk handed again joined with the next one.
    Stop,
}

/// A plug-in's per-request logic. One value is created (with `Default`) per HTTP stream that has a
/// configuration; streams without one never reach the plug-in (see [`HttpPlugin::fallback_config`]).
///
/// Every callback gets the configuration that applies to this request: the first matching rule's, else the
/// global one, else the fallback. A callback's `Err(HostError)` is logged at error level and the stream
/// continues. All callbacks are optional.
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

    /// One request body chunk, when [`Http::stream_request_body`] was called in `on_request_headers`.
    fn on_request_chunk(
        &mut self,
        http: &mut Http,
        config: &Self::Config,
        chunk: &[u8],
        end_of_stream: bool,
    ) -> Result<Flow, HostError> {
        let _ = (http, config, chunk, end_of_stream);
        Ok(Flow::Continue)
    }

    fn on_request_trailers(
        &mut self,
        http: &mut Http,
        config: &Self::Config,
    ) -> Result<Flow, HostError> {
        let _ = (http, config);
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

    /// One response body chunk, when [`Http::stream_response_body`] was called in `on_response_headers`.
    fn on_response_chunk(
        &mut self,
        http: &mut Http,
        config: &Self::Config,
        chunk: &[u8],
        end_of_stream: bool,
    ) -> Result<Flow, HostError> {
        let _ = (http, config, chunk, end_of_stream);
        Ok(Flow::Continue)
    }

    fn on_response_trailers(
        &mut self,
        http: &mut Http,
        config: &Self::Config,
    ) -> Result<Flow, HostError> {
        let _ = (http, config);
        Ok(Flow::Continue)
    }

    /// The answer to [`Http::http_call`] `token`. `Continue` resumes the held direction once no other
    /// callout of this stream is in flight; `Stop` keeps it held.
    fn on_http_call_response(
        &mut self,
        http: &mut Http,
        config: &Self::Config,
        token: u32,
        response: Result<CallResponse, CallFailure>,
    ) -> Result<Flow, HostError> {
        let _ = (http, config, token, response);
        Ok(Flow::Continue)
    }

    /// The answer to [`Http::grpc_call`] `token` (same resuming rules as `on_http_call_response`).
    fn on_grpc_call_response(
        &mut self,
        http: &mut Http,
        config: &Self::Config,
        token: u32,
        response: GrpcResponse,
    ) -> Result<Flow, HostError> {
        let _ = (http, config, token, response);
        Ok(Flow::Continue)
    }
}

/// A direction of the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dir {
    Request,
    Response,
}

impl Dir {
    pub(crate) fn body(self) -> BufferType {
        match self {
            Dir::Request => BufferType::HttpRequestBody,
            Dir::Response => BufferType::HttpResponseBody,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Dir::Request => "request",
            Dir::Response => "response",
        }
    }

    fn stream(self) -> StreamType {
        match self {
            Dir::Request => StreamType::Request,
            Dir::Response => StreamType::Response,
        }
    }
}

/// The per-direction state of a stream.
#[derive(Debug)]
pub(crate) struct Side {
    /// Whole-body buffering.
    pub(crate) whole: BodyBuffer,
    /// Chunk callbacks.
    pub(crate) chunks: bool,
    /// The last chunk callback was answered Pause: the host keeps its bytes.
    pub(crate) chunk_held: bool,
    /// The plug-in holds this direction (a callback returned Stop and nothing resumed it yet).
    pub(crate) held: bool,
    /// Length of the chunk handed to the body callback running now.
    pub(crate) chunk: Option<usize>,
    /// The headers did not end the stream: a body (or trailers) follows.
    pub(crate) has_body: bool,
}

impl Side {
    fn new() -> Side {
        Side {
            whole: BodyBuffer::Off,
            chunks: false,
            chunk_held: false,
            held: false,
            chunk: None,
            has_body: false,
        }
    }
}

/// The stream handle given to callbacks: headers, trailers, bodies, local responses, callouts.
#[derive(Debug)]
pub struct Http {
    pub(crate) request: Side,
    pub(crate) response: Side,
    responded: bool,
    /// Set by `send_response` during the current callback.
    pub(crate) responded_now: bool,
    /// A local response was sent from a response callback: the plug-in's response callbacks are over.
    pub(crate) responded_in_response: bool,
    pub(crate) in_response: bool,
    pub(crate) body_limit: usize,
    http_calls: Vec<u32>,
    grpc_calls: Vec<u32>,
    /// Set by the first callout: how to read its answers. Through these pointers the answer readers are only
    /// linked into plug-ins that make callouts (binary size).
    pub(crate) http_reader: Option<callout::HttpReader>,
    pub(crate) grpc_reader: Option<callout::GrpcReader>,
}

fn setter_outside_body() -> HostError {
    HostError::new("proxy_set_buffer_bytes", host::NOT_FOUND)
}

impl Http {
    pub(crate) fn new() -> Http {
        Http {
            request: Side::new(),
            response: Side::new(),
            responded: false,
            responded_now: false,
            responded_in_response: false,
            in_response: false,
            body_limit: DEFAULT_BODY_LIMIT,
            http_calls: Vec::new(),
            grpc_calls: Vec::new(),
            http_reader: None,
            grpc_reader: None,
        }
    }

    pub(crate) fn side(&mut self, dir: Dir) -> &mut Side {
        match dir {
            Dir::Request => &mut self.request,
            Dir::Response => &mut self.response,
        }
    }

    // --- headers and trailers

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

    pub fn request_trailer(&self, name: &str) -> Result<Option<Vec<u8>>, HostError> {
        host::header(MapType::RequestTrailers, name)
    }

    pub fn request_trailers(&self) -> Result<Headers, HostError> {
        host::headers(MapType::RequestTrailers)
    }

    pub fn set_request_trailer(&mut self, name: &str, value: &str) -> Result<(), HostError> {
        host::replace_header(MapType::RequestTrailers, name, value.as_bytes())
    }

    pub fn add_request_trailer(&mut self, name: &str, value: &str) -> Result<(), HostError> {
        host::add_header(MapType::RequestTrailers, name, value.as_bytes())
    }

    pub fn remove_request_trailer(&mut self, name: &str) -> Result<(), HostError> {
        host::remove_header(MapType::RequestTrailers, name)
    }

    pub fn response_trailer(&self, name: &str) -> Result<Option<Vec<u8>>, HostError> {
        host::header(MapType::ResponseTrailers, name)
    }

    pub fn response_trailers(&self) -> Result<Headers, HostError> {
        host::headers(MapType::ResponseTrailers)
    }

    pub fn set_response_trailer(&mut self, name: &str, value: &str) -> Result<(), HostError> {
        host::replace_header(MapType::ResponseTrailers, name, value.as_bytes())
    }

    pub fn add_response_trailer(&mut self, name: &str, value: &str) -> Result<(), HostError> {
        host::add_header(MapType::ResponseTrailers, name, value.as_bytes())
    }

    pub fn remove_response_trailer(&mut self, name: &str) -> Result<(), HostError> {
        host::remove_header(MapType::ResponseTrailers, name)
    }

    /// A host property such as `&["route_name"]`.
    pub fn property(&self, path: &[&str]) -> Result<Option<Vec<u8>>, HostError> {
        host::property(path)
    }

    // --- local responses

    /// Answers the client locally. Return `Flow::Stop` after it (the SDK stops the current callback's
    /// iteration anyway). Sent in the request phase (or from a callout answer while the request is held), the
    /// request does not reach the upstream and the reply passes through this plug-in's response callbacks.
    /// Sent in the response phase, it replaces the response and the plug-in's response callbacks are over.
    pub fn send_response(
        &mut self,
        status: u32,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(), HostError> {
        host::send_local_response(status, headers, body)?;
        self.responded = true;
        self.responded_now = true;
        if self.in_response {
            self.responded_in_response = true;
        }
        Ok(())
    }

    /// Whether [`Http::send_response`] was called on this stream.
    pub fn responded(&self) -> bool {
        self.responded
    }

    // --- bodies

    /// Whether a body (or trailers) follows the request headers (`false`: the headers ended the stream).
    pub fn request_has_body(&self) -> bool {
        self.request.has_body
    }

    /// Whether a body (or trailers) follows the response headers.
    pub fn response_has_body(&self) -> bool {
        self.response.has_body
    }

    /// Largest body handed to `on_*_body` (default 32 MiB); a larger body logs one warning and passes
    /// uninspected. Call before `inspect_*_body`.
    pub fn set_body_limit(&mut self, bytes: usize) {
        self.body_limit = bytes;
    }

    /// Asks for the whole request body in [`HttpPlugin::on_request_body`] (call from `on_request_headers`).
    pub fn inspect_request_body(&mut self) {
        self.request.whole = BodyBuffer::Buffering {
            limit: self.body_limit,
        };
        self.request.chunks = false;
    }

    /// Asks for the whole response body in [`HttpPlugin::on_response_body`] (call from `on_response_headers`).
    pub fn inspect_response_body(&mut self) {
        self.response.whole = BodyBuffer::Buffering {
            limit: self.body_limit,
        };
        self.response.chunks = false;
    }

    /// Asks for the request body chunk by chunk in [`HttpPlugin::on_request_chunk`] (call from
    /// `on_request_headers`).
    pub fn stream_request_body(&mut self) {
        self.request.chunks = true;
        self.request.whole = BodyBuffer::Off;
    }

    /// Asks for the response body chunk by chunk in [`HttpPlugin::on_response_chunk`] (call from
    /// `on_response_headers`).
    pub fn stream_response_body(&mut self) {
        self.response.chunks = true;
        self.response.whole = BodyBuffer::Off;
    }

    fn replace_body(&mut self, dir: Dir, data: &[u8]) -> Result<(), HostError> {
        let len = host::buffer_len(dir.body())?;
        host::set_buffer(dir.body(), 0, len, data)?;
        if let Some(c) = &mut self.side(dir).chunk {
            *c = data.len();
        }
        Ok(())
    }

    fn replace_chunk(&mut self, dir: Dir, data: &[u8]) -> Result<(), HostError> {
        let len = self.side(dir).chunk.ok_or_else(setter_outside_body)?;
        host::set_buffer(dir.body(), 0, len, data)?;
        self.side(dir).chunk = Some(data.len());
        Ok(())
    }

    fn append_body(&mut self, dir: Dir, data: &[u8]) -> Result<(), HostError> {
        let len = host::buffer_len(dir.body())?;
        host::set_buffer(dir.body(), len, 0, data)?;
        if let Some(c) = &mut self.side(dir).chunk {
            *c += data.len();
        }
        Ok(())
    }

    fn prepend_body(&mut self, dir: Dir, data: &[u8]) -> Result<(), HostError> {
        host::set_buffer(dir.body(), 0, 0, data)?;
        if let Some(c) = &mut self.side(dir).chunk {
            *c += data.len();
        }
        Ok(())
    }

    /// Replaces the host's whole current request body buffer (inside a request body callback).
    pub fn replace_request_body(&mut self, data: &[u8]) -> Result<(), HostError> {
        self.replace_body(Dir::Request, data)
    }

    /// Replaces the chunk handed to the current request body callback.
    pub fn replace_request_chunk(&mut self, data: &[u8]) -> Result<(), HostError> {
        self.replace_chunk(Dir::Request, data)
    }

    /// Appends to the host's current request body buffer.
    pub fn append_request_body(&mut self, data: &[u8]) -> Result<(), HostError> {
        self.append_body(Dir::Request, data)
    }

    /// Prepends to the host's current request body buffer.
    pub fn prepend_request_body(&mut self, data: &[u8]) -> Result<(), HostError> {
        self.prepend_body(Dir::Request, data)
    }

    /// Replaces the host's whole current response body buffer (inside a response body callback).
    pub fn replace_response_body(&mut self, data: &[u8]) -> Result<(), HostError> {
        self.replace_body(Dir::Response, data)
    }

    /// Replaces the chunk handed to the current response body callback.
    pub fn replace_response_chunk(&mut self, data: &[u8]) -> Result<(), HostError> {
        self.replace_chunk(Dir::Response, data)
    }

    /// Appends to the host's current response body buffer.
    pub fn append_response_body(&mut self, data: &[u8]) -> Result<(), HostError> {
        self.append_body(Dir::Response, data)
    }

    /// Prepends to the host's current response body buffer.
    pub fn prepend_response_body(&mut self, data: &[u8]) -> Result<(), HostError> {
        self.prepend_body(Dir::Response, data)
    }

    // --- callouts and resuming

    /// Sends an HTTP callout; its answer arrives in [`HttpPlugin::on_http_call_response`] with this token.
    /// Return `Flow::Stop` to hold the stream until then.
    pub fn http_call(&mut self, call: &HttpCall) -> Result<u32, HostError> {
        let token = callout::dispatch_http(call)?;
        self.http_calls.push(token);
        self.http_reader = Some(callout::read_http_answer);
        Ok(token)
    }

    /// Sends a unary gRPC callout; its answer arrives in [`HttpPlugin::on_grpc_call_response`].
    pub fn grpc_call(&mut self, call: &GrpcCall) -> Result<u32, HostError> {
        let token = callout::dispatch_grpc(call)?;
        self.grpc_calls.push(token);
        self.grpc_reader = Some(callout::read_grpc_answer);
        Ok(token)
    }

    /// This stream's callouts not answered yet.
    pub fn calls_in_flight(&self) -> usize {
        self.http_calls.len() + self.grpc_calls.len()
    }

    pub(crate) fn take_http_call(&mut self, token: u32) -> bool {
        crate::root::take(&mut self.http_calls, token)
    }

    pub(crate) fn take_grpc_call(&mut self, token: u32) -> bool {
        crate::root::take(&mut self.grpc_calls, token)
    }

    fn resume(&mut self, dir: Dir) -> Result<(), HostError> {
        self.side(dir).held = false;
        host::continue_stream(dir.stream())
    }

    /// Resumes the request now (`proxy_continue_stream`).
    pub fn resume_request(&mut self) -> Result<(), HostError> {
        self.resume(Dir::Request)
    }

    /// Resumes the response now (`proxy_continue_stream`).
    pub fn resume_response(&mut self) -> Result<(), HostError> {
        self.resume(Dir::Response)
    }

    // --- decisions for the glue

    /// Turns a direction's callback result into the host's answer (`true` = pause).
    pub(crate) fn settle(
        &mut self,
        dir: Dir,
        callback: &str,
        result: Result<Flow, HostError>,
    ) -> bool {
        if self.responded_now {
            return true;
        }
        let stop = match result {
            Ok(Flow::Stop) => true,
            Ok(Flow::Continue) => false,
            Err(e) => {
                crate::error!("{callback} failed: {e}");
                false
            }
        };
        let waiting = self.calls_in_flight() > 0;
        let side = self.side(dir);
        if stop {
            side.held = true;
            return true;
        }
        if side.held && waiting {
            return true;
        }
        side.held = false;
        false
    }

    /// The host's answer for a callback the plug-in did not see: hold a held direction, else continue.
    pub(crate) fn pass(&mut self, dir: Dir) -> bool {
        self.side(dir).held
    }

    /// After a callout answer: resume the held directions when the plug-in continues and nothing else is in
    /// flight.
    pub(crate) fn after_answer(&mut self, callback: &str, result: Result<Flow, HostError>) {
        if self.responded_now {
            self.request.held = false;
            self.response.held = false;
            return;
        }
        let stop = match result {
            Ok(Flow::Stop) => true,
            Ok(Flow::Continue) => false,
            Err(e) => {
                crate::error!("{callback} failed: {e}");
                false
            }
        };
        if stop || self.calls_in_flight() > 0 {
            return;
        }
        for dir in [Dir::Request, Dir::Response] {
            if self.side(dir).held {
                if let Err(e) = self.resume(dir) {
                    crate::error!("resuming the {} failed: {e}", dir.name());
                }
            }
        }
    }
}
