//! HTTP and gRPC callouts: the request descriptions, their answers, and the glue that dispatches them.
//!
//! Calls go through `proxy_wasm::hostcalls::dispatch_http_call` / `dispatch_grpc_call` because those register
//! the token with proxy-wasm's dispatcher, which routes the answer to the context that made the call (and
//! panics on a token it does not know). See `wasm-rust/README.md`, "HTTP callouts" and "gRPC unary callouts".

use std::time::Duration;

use proxy_wasm::hostcalls;

use crate::cluster::Cluster;
use crate::host::{self, BufferType, Headers, HostError, MapType};

/// The default callout timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(1000);

/// An HTTP request to another service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCall {
    pub cluster: Cluster,
    pub method: String,
    /// Path and query, e.g. `/check?x=1`.
    pub path: String,
    /// `:authority`; `None`: the cluster's.
    pub authority: Option<String>,
    /// Sent after `:method`, `:path`, `:authority`, in order (do not repeat those three here).
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
    /// 0: no timeout (Envoy).
    pub timeout: Duration,
}

impl HttpCall {
    pub fn new(cluster: Cluster, method: &str, path: &str) -> HttpCall {
        HttpCall {
            cluster,
            method: method.to_owned(),
            path: path.to_owned(),
            authority: None,
            headers: Vec::new(),
            body: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> HttpCall {
        self.headers
            .push((name.to_owned(), value.as_ref().to_vec()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> HttpCall {
        self.body = body.into();
        self
    }

    pub fn authority(mut self, authority: &str) -> HttpCall {
        self.authority = Some(authority.to_owned());
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> HttpCall {
        self.timeout = timeout;
        self
    }
}

/// The answer to an [`HttpCall`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallResponse {
    /// From `:status`; 0 when it is missing or not a number.
    pub status: u32,
    pub headers: Headers,
    pub body: Vec<u8>,
    pub trailers: Headers,
}

impl CallResponse {
    /// The first value of a header (names compared ASCII case-insensitively).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.as_slice())
    }
}

/// A callout that got no answer: the host's status for it (Envoy: 11 BrokenConnection, `"reset"`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallFailure {
    pub status: u32,
    pub message: String,
}

/// A unary gRPC request to another service. The message is the serialized protobuf, as bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrpcCall {
    pub cluster: Cluster,
    /// Fully qualified service, e.g. `envoy.service.auth.v3.Authorization`.
    pub service: String,
    pub method: String,
    pub initial_metadata: Vec<(String, Vec<u8>)>,
    pub message: Vec<u8>,
    /// 0: no timeout (Envoy).
    pub timeout: Duration,
}

impl GrpcCall {
    pub fn new(cluster: Cluster, service: &str, method: &str) -> GrpcCall {
        GrpcCall {
            cluster,
            service: service.to_owned(),
            method: method.to_owned(),
            initial_metadata: Vec::new(),
            message: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    pub fn metadata(mut self, name: &str, value: impl AsRef<[u8]>) -> GrpcCall {
        self.initial_metadata
            .push((name.to_owned(), value.as_ref().to_vec()));
        self
    }

    pub fn message(mut self, message: impl Into<Vec<u8>>) -> GrpcCall {
        self.message = message.into();
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> GrpcCall {
        self.timeout = timeout;
        self
    }
}

/// The answer to a [`GrpcCall`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrpcResponse {
    /// The gRPC status code; 0 (OK) with the answer's message.
    pub status: u32,
    pub message: Vec<u8>,
    /// The host's status message on a failure.
    pub status_message: String,
    /// Trailing metadata (empty with Envoy: unary calls get no metadata callbacks).
    pub trailers: Headers,
}

fn millis(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis().min(u128::from(u32::MAX)) as u64)
}

/// A header value as the `&str` proxy-wasm's API takes.
fn as_str(value: &[u8]) -> &str {
    match std::str::from_utf8(value) {
        Ok(s) => s,
        // SAFETY: proxy-wasm 0.2.5's `serialize_map` (the only reader of these pairs) uses only `len()` and
        // `as_bytes()`, which do not rely on UTF-8; header values are bytes in the ABI.
        Err(_) => unsafe { std::str::from_utf8_unchecked(value) },
    }
}

/// Sends an HTTP callout; the token identifies the answer.
pub(crate) fn dispatch_http(call: &HttpCall) -> Result<u32, HostError> {
    let upstream = call.cluster.name()?;
    let authority = match &call.authority {
        Some(a) => a.clone(),
        None => call.cluster.authority()?,
    };
    let mut headers: Vec<(&str, &str)> = Vec::with_capacity(call.headers.len() + 3);
    headers.push((":method", &call.method));
    headers.push((":path", &call.path));
    headers.push((":authority", &authority));
    for (k, v) in &call.headers {
        headers.push((k, as_str(v)));
    }
    let body = (!call.body.is_empty()).then_some(call.body.as_slice());
    hostcalls::dispatch_http_call(&upstream, headers, body, Vec::new(), millis(call.timeout))
        .map_err(|s| HostError::new("proxy_http_call", s as u32))
}

/// Reads a protobuf varint at `pos`.
fn varint(b: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..70).step_by(7) {
        let byte = *b.get(*pos)?;
        *pos += 1;
        v |= u64::from(byte & 0x7f).checked_shl(shift).unwrap_or(0);
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// Whether bytes are valid protobuf wire format, so that Envoy's `proxy_grpc_call` would read them as a
/// serialized `GrpcService` rather than as a cluster name (the empty string included). Pure.
pub fn parses_as_protobuf(b: &[u8]) -> bool {
    let mut pos = 0;
    let mut groups: Vec<u64> = Vec::new();
    while pos < b.len() {
        let Some(tag) = varint(b, &mut pos) else {
            return false;
        };
        let field = tag >> 3;
        if field == 0 || field > (1 << 29) - 1 {
            return false;
        }
        let skip = match tag & 7 {
            0 => {
                if varint(b, &mut pos).is_none() {
                    return false;
                }
                0
            }
            1 => 8,
            2 => match varint(b, &mut pos) {
                Some(n) => n,
                None => return false,
            },
            3 => {
                groups.push(field);
                0
            }
            4 => {
                if groups.pop() != Some(field) {
                    return false;
                }
                0
            }
            5 => 4,
            _ => return false,
        };
        match usize::try_from(skip).ok().and_then(|n| pos.checked_add(n)) {
            Some(end) if end <= b.len() => pos = end,
            _ => return false,
        }
    }
    groups.is_empty()
}

/// Sends a unary gRPC callout; the token identifies the answer.
pub(crate) fn dispatch_grpc(call: &GrpcCall) -> Result<u32, HostError> {
    let upstream = call.cluster.name()?;
    // Envoy would read such a name as a GrpcService without a target and refuse with BadArgument, a status
    // proxy-wasm 0.2.5's dispatch_grpc_call panics on: refuse it here, as a value.
    if parses_as_protobuf(upstream.as_bytes()) {
        return Err(HostError::new("proxy_grpc_call", host::BAD_ARGUMENT));
    }
    let metadata: Vec<(&str, &[u8])> = call
        .initial_metadata
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect();
    hostcalls::dispatch_grpc_call(
        &upstream,
        &call.service,
        &call.method,
        metadata,
        (!call.message.is_empty()).then_some(call.message.as_slice()),
        millis(call.timeout),
    )
    .map_err(|s| HostError::new("proxy_grpc_call", s as u32))
}

/// [`read_http_answer`]'s type.
pub(crate) type HttpReader = fn(usize, usize, usize) -> Result<CallResponse, CallFailure>;
/// [`read_grpc_answer`]'s type.
pub(crate) type GrpcReader = fn(u32, usize) -> GrpcResponse;

fn failure_from(e: HostError) -> CallFailure {
    CallFailure {
        status: e.status,
        message: e.to_string(),
    }
}

/// Reads the answer of an HTTP callout inside `proxy_on_http_call_response`.
pub(crate) fn read_http_answer(
    num_headers: usize,
    body_size: usize,
    num_trailers: usize,
) -> Result<CallResponse, CallFailure> {
    if num_headers == 0 && body_size == 0 && num_trailers == 0 {
        return Err(match host::status() {
            Ok((status, message)) => CallFailure {
                status,
                message: String::from_utf8_lossy(&message).into_owned(),
            },
            Err(e) => failure_from(e),
        });
    }
    let headers = host::headers(MapType::HttpCallResponseHeaders).map_err(failure_from)?;
    let body = if body_size == 0 {
        Vec::new()
    } else {
        host::buffer(BufferType::HttpCallResponseBody, 0, body_size)
            .map_err(failure_from)?
            .unwrap_or_default()
    };
    let trailers = if num_trailers == 0 {
        Vec::new()
    } else {
        host::headers(MapType::HttpCallResponseTrailers).map_err(failure_from)?
    };
    let status = headers
        .iter()
        .find(|(k, _)| k == b":status")
        .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse().ok())
        .unwrap_or(0);
    Ok(CallResponse {
        status,
        headers,
        body,
        trailers,
    })
}

/// Reads the answer of a gRPC callout: proxy-wasm hands `(status 0, message size)` for
/// `proxy_on_grpc_receive` and `(status, 0)` for `proxy_on_grpc_close`.
pub(crate) fn read_grpc_answer(status: u32, response_size: usize) -> GrpcResponse {
    if status == 0 {
        let message = if response_size == 0 {
            Ok(Some(Vec::new()))
        } else {
            host::buffer(BufferType::GrpcReceiveBuffer, 0, response_size)
        };
        return match message {
            Ok(m) => GrpcResponse {
                message: m.unwrap_or_default(),
                ..GrpcResponse::default()
            },
            // the message is lost: report it as gRPC INTERNAL (13)
            Err(e) => GrpcResponse {
                status: 13,
                status_message: e.to_string(),
                ..GrpcResponse::default()
            },
        };
    }
    let status_message = match host::status() {
        Ok((_, m)) => String::from_utf8_lossy(&m).into_owned(),
        Err(_) => String::new(),
    };
    GrpcResponse {
        status,
        status_message,
        ..GrpcResponse::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_names_that_envoy_reads_as_protobuf() {
        // Higress names start with `o` (field 13, wire type 7): never protobuf
        assert!(!parses_as_protobuf(b"outbound|9000||grpc.dns"));
        assert!(!parses_as_protobuf(b"ext_authz"));
        assert!(!parses_as_protobuf(b"grpc"));
        // the empty string is an empty message
        assert!(parses_as_protobuf(b""));
        // `a` = field 12 fixed64: 8 more bytes make a valid message
        assert!(parses_as_protobuf(b"a12345678"));
        assert!(!parses_as_protobuf(b"a1234567"));
        // a real GrpcService { envoy_grpc { cluster_name: "x" } }
        assert!(parses_as_protobuf(&[0x0a, 0x03, 0x0a, 0x01, b'x']));
        // `"` = field 4, length-delimited: length 0x61 runs past the end
        assert!(!parses_as_protobuf(b"\"abc"));
        // groups must close
        assert!(parses_as_protobuf(&[0x0b, 0x0c]));
        assert!(!parses_as_protobuf(&[0x0b]));
        assert!(!parses_as_protobuf(&[0x0c]));
    }
}
