//! Header maps, bodies, stream control and local responses, with Envoy's rules for when each is available.
//!
//! Facts from Envoy's `source/extensions/common/wasm/context.cc` (and proxy-wasm-cpp-host `src/exports.cc`):
//!
//! - **Header maps.** `decodeHeaders`/`encodeHeaders` (and the trailers and data callbacks) point the
//!   context at the map for the callback and clear the pointer when the callback returns Continue;
//!   `continueStream` clears the request's pointers (for either direction). A map the filter no longer holds
//!   reads as BadArgument (`getHeaderMapValue`), an empty list (`getHeaderMapPairs`), and refuses changes
//!   with BadArgument (`getMap`). In `proxy_on_log` reads see the access log's request headers, response
//!   headers and response trailers (a missing map or key is NotFound there). A missing key is NotFound
//!   (ABI 0.1.0: an empty value). The plug-in may add request/response trailers in the last data callback
//!   when there are none (`addDecodedTrailers`). `proxy_get_header_map_size` answers the map's byte size.
//! - **Bodies.** Buffer 0/1 is the data the filter holds: the current chunk plus chunks stopped with
//!   StopIterationAndBuffer. Outside that it reads as empty and refuses writes (BadArgument). Writes follow
//!   `Buffer::copyFrom`: start 0 replaces the first `length` bytes, start ≥ length appends, anything else is
//!   BadArgument.
//! - **Stream control.** `proxy_continue_stream(request|response)` resumes the stream after the callback;
//!   `(downstream)` resumes a TCP read; `(upstream)` is Unimplemented. Called on the root context (no
//!   effective stream), it does nothing and answers Ok.
//! - **Local responses** are deferred to after the callback (which is then forced to stop) and prepared by
//!   `Http::Utility::prepareLocalReply`: see [`prepare_local_reply`].

use wasmtime::Linker;

use crate::abi::{self, buffer, map, stream, AbiVersion, Status};
use crate::hostcalls::{copy_out, host_fn, read, st, text, write_u32, C, OK, R};
use crate::state::{Delivery, Half, HostState, StreamKind, Target};
use crate::types::{Headers, LocalResponse};

/// The map a read sees (Envoy's `getConstMap`), or `None` where Envoy's pointer is null.
fn const_map(s: &HostState, t: i32) -> Option<&Headers> {
    match t {
        map::HTTP_CALL_RESPONSE_HEADERS => match &s.delivering {
            Some(Delivery::Http(r)) => Some(&r.headers),
            _ => None,
        },
        map::HTTP_CALL_RESPONSE_TRAILERS => match &s.delivering {
            Some(Delivery::Http(r)) => r.trailers.as_ref(),
            _ => None,
        },
        // unary gRPC calls never deliver metadata; gRPC streams are not emulated
        map::GRPC_INITIAL_METADATA | map::GRPC_TRAILING_METADATA => None,
        _ => {
            if s.target() != Target::Stream {
                return None;
            }
            let x = s.stream.as_ref()?;
            if x.in_log {
                return match t {
                    map::REQUEST_HEADERS => x.request.headers.as_ref(),
                    map::RESPONSE_HEADERS => x.response.headers.as_ref(),
                    map::RESPONSE_TRAILERS => x.response.trailers.as_ref(),
                    _ => None,
                };
            }
            match t {
                map::REQUEST_HEADERS => held(&x.request, false),
                map::REQUEST_TRAILERS => held(&x.request, true),
                map::RESPONSE_HEADERS => held(&x.response, false),
                map::RESPONSE_TRAILERS => held(&x.response, true),
                _ => None,
            }
        }
    }
}

fn held(h: &Half, trailers: bool) -> Option<&Headers> {
    if trailers {
        h.trailers.as_ref().filter(|_| h.trailers_held)
    } else {
        h.headers.as_ref().filter(|_| h.headers_held)
    }
}

/// Whether reads act on a stream in its access-log phase.
fn in_log(s: &HostState) -> bool {
    s.target() == Target::Stream && s.stream.as_ref().is_some_and(|x| x.in_log)
}

/// The map a change acts on (Envoy's `getMap`), or `None` (BadArgument).
fn mut_map(s: &mut HostState, t: i32) -> Option<&mut Headers> {
    let x = s.target_stream()?;
    let half = match t {
        map::REQUEST_HEADERS | map::REQUEST_TRAILERS => &mut x.request,
        map::RESPONSE_HEADERS | map::RESPONSE_TRAILERS => &mut x.response,
        _ => return None,
    };
    if t == map::REQUEST_HEADERS || t == map::RESPONSE_HEADERS {
        return half.headers.as_mut().filter(|_| half.headers_held);
    }
    if !half.trailers_held && half.trailers.is_none() && half.body_held && half.end_of_stream {
        // Envoy's addDecodedTrailers/addEncodedTrailers in the last data callback
        half.trailers = Some(Headers::default());
        half.trailers_held = true;
    }
    half.trailers.as_mut().filter(|_| half.trailers_held)
}

/// Removes every value of `key`, then appends one (Envoy's `setCopy` for ordinary headers; a pseudo-header
/// keeps its place).
fn replace(h: &mut Headers, key: &str, value: Vec<u8>) {
    if key.starts_with(':') && h.contains(key) {
        h.set(key, value);
    } else {
        h.remove(key);
        h.add(key, value);
    }
}

/// Body buffers as a read sees them (Envoy's `getBuffer`); `Ok(None)` is Envoy's null (NotFound).
fn buffer_read(s: &HostState, t: i32) -> Result<Option<Vec<u8>>, Status> {
    if !(0..=buffer::MAX).contains(&t) {
        return Err(Status::BadArgument);
    }
    let x = match s.target() {
        Target::Stream => s.stream.as_ref(),
        Target::Root => None,
    };
    Ok(match t {
        buffer::HTTP_REQUEST_BODY => Some(
            x.filter(|x| x.request.body_held)
                .map(|x| x.request.body.clone())
                .unwrap_or_default(),
        ),
        buffer::HTTP_RESPONSE_BODY => Some(
            x.filter(|x| x.response.body_held)
                .map(|x| x.response.body.clone())
                .unwrap_or_default(),
        ),
        buffer::DOWNSTREAM_DATA => Some(
            x.filter(|x| x.downstream.in_callback)
                .map(|x| x.downstream.held.clone())
                .unwrap_or_default(),
        ),
        buffer::UPSTREAM_DATA => Some(
            x.filter(|x| x.upstream.in_callback)
                .map(|x| x.upstream.held.clone())
                .unwrap_or_default(),
        ),
        buffer::HTTP_CALL_RESPONSE_BODY => match &s.delivering {
            Some(Delivery::Http(r)) => Some(r.body.clone()),
            _ => None,
        },
        buffer::GRPC_RECEIVE_BUFFER => Some(match &s.delivering {
            Some(Delivery::Grpc(m)) => m.clone(),
            _ => Vec::new(),
        }),
        buffer::VM_CONFIGURATION => Some(s.vm_config.clone()),
        buffer::PLUGIN_CONFIGURATION => s.configuring.then(|| s.plugin_config.clone()),
        buffer::CALL_DATA => Some(Vec::new()), // foreign functions are not emulated
        _ => None,
    })
}

/// Envoy's `Buffer::copyFrom` on a buffer it holds.
fn copy_from(buf: &mut Vec<u8>, start: usize, length: usize, data: Vec<u8>) -> Status {
    if start == 0 {
        buf.drain(..length.min(buf.len()));
        buf.splice(0..0, data);
        Status::Ok
    } else if start >= buf.len() {
        buf.extend_from_slice(&data);
        Status::Ok
    } else {
        Status::BadArgument
    }
}

fn buffer_write(s: &mut HostState, t: i32, start: usize, length: usize, data: Vec<u8>) -> Status {
    if !(0..=buffer::MAX).contains(&t) {
        return Status::BadArgument;
    }
    match t {
        buffer::HTTP_CALL_RESPONSE_BODY if !matches!(s.delivering, Some(Delivery::Http(_))) => {
            return Status::NotFound
        }
        buffer::PLUGIN_CONFIGURATION if !s.configuring => return Status::NotFound,
        buffer::GRPC_RECEIVE_BUFFER => {
            return match &mut s.delivering {
                Some(Delivery::Grpc(m)) => copy_from(m, start, length, data),
                _ => Status::BadArgument,
            }
        }
        _ => {}
    }
    let Some(x) = s.target_stream() else {
        return Status::BadArgument;
    };
    let buf = match t {
        buffer::HTTP_REQUEST_BODY if x.request.body_held => &mut x.request.body,
        buffer::HTTP_RESPONSE_BODY if x.response.body_held => &mut x.response.body,
        buffer::DOWNSTREAM_DATA if x.downstream.in_callback => &mut x.downstream.held,
        buffer::UPSTREAM_DATA if x.upstream.in_callback => &mut x.upstream.held,
        // not held, or an immutable string buffer (configuration, http-call answer, call data)
        _ => return Status::BadArgument,
    };
    copy_from(buf, start, length, data)
}

fn continue_stream(c: &mut C<'_>, which: i32) -> R {
    if !(0..=stream::UPSTREAM).contains(&which) {
        return st(Status::BadArgument);
    }
    if which == stream::UPSTREAM {
        return st(Status::Unimplemented);
    }
    let callback = c.data().callback;
    let Some(x) = c.data_mut().target_stream() else {
        c.data_mut().note(format!(
            "proxy_continue_stream({which}) in {callback} acted on the root context and did nothing \
             (call proxy_set_effective_context with the stream's id first)"
        ));
        return OK;
    };
    match (x.kind, which) {
        (StreamKind::Http, stream::REQUEST) => x.request.resume = true,
        (StreamKind::Http, stream::RESPONSE) => x.response.resume = true,
        (StreamKind::Tcp, stream::DOWNSTREAM) => x.resume_downstream = true,
        _ => {}
    }
    if which == stream::REQUEST || which == stream::RESPONSE {
        // Envoy's continueStream clears the request's maps and body for either direction
        x.request.headers_held = false;
        x.request.body_held = false;
        x.request.trailers_held = false;
    }
    OK
}

/// Builds the reply Envoy sends for a local response (source/common/http/utility.cc `prepareLocalReply` and
/// `encodeLocalReply`): `:status`, then the plug-in's headers; with a body, `content-length` (set) and
/// `content-type: text/plain` (unless the plug-in gave one); without a body, both removed. For a gRPC
/// request (`content-type: application/grpc...`) the reply is a trailers-only response: `:status 200`,
/// `content-type: application/grpc`, `grpc-status` (the given code, else the HTTP status mapped by
/// `Grpc::Utility::httpToGrpcStatus`) and `grpc-message` (the body, percent-encoded), no body. A HEAD request
/// gets no body. Returns the headers and the body sent after them (`None`: headers end the stream).
pub(crate) fn prepare_local_reply(
    lr: &LocalResponse,
    request: Option<&Headers>,
) -> (Headers, Option<Vec<u8>>) {
    let mut h = Headers::default();
    h.add(":status", lr.status.to_string());
    h.0.extend(lr.headers.0.iter().cloned());
    let is_grpc = request
        .and_then(|r| r.get_all("content-type").first().map(|v| v.to_vec()))
        .is_some_and(|ct| {
            ct == b"application/grpc"
                || ct.starts_with(b"application/grpc+")
                || ct.starts_with(b"application/grpc;")
        });
    let is_head = request
        .and_then(|r| r.get(":method"))
        .is_some_and(|m| m == "HEAD");
    if is_grpc {
        h.set(":status", "200");
        h.set("content-type", "application/grpc");
        if !h.contains("grpc-status") {
            let code = if (0..=16).contains(&lr.grpc_status) {
                lr.grpc_status as u32
            } else {
                http_to_grpc_status(lr.status)
            };
            h.add("grpc-status", code.to_string());
        }
        if !lr.body.is_empty() {
            h.set("grpc-message", percent_encode(&lr.body));
        }
        h.remove("content-length");
        return (h, None);
    }
    if lr.body.is_empty() {
        h.remove("content-length");
        h.remove("content-type");
        return (h, None);
    }
    h.set("content-length", lr.body.len().to_string());
    if !h.contains("content-type") {
        h.add("content-type", "text/plain");
    }
    let body = (!is_head).then(|| lr.body.clone());
    (h, body)
}

/// Envoy's `Grpc::Utility::httpToGrpcStatus`.
fn http_to_grpc_status(http: u32) -> u32 {
    match http {
        400 => 13,
        401 => 16,
        403 => 7,
        404 => 12,
        429 | 502 | 503 | 504 => 14,
        _ => 2,
    }
}

/// Envoy's `PercentEncoding::encode` for `grpc-message`: bytes outside printable ASCII, and `%`, as `%XX`.
fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if !(b' '..=b'~').contains(&b) || b == b'%' {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(b as char);
        }
    }
    out
}

pub(crate) fn link(l: &mut Linker<HostState>, abi: AbiVersion) -> wasmtime::Result<()> {
    let env = "env";
    let v010 = abi == AbiVersion::V0_1_0;

    // --- header maps
    host_fn!(l, env, "proxy_get_header_map_value", |c,
                                                    t: i32,
                                                    kp: i32,
                                                    kl: i32,
                                                    ret_ptr: i32,
                                                    ret_len: i32|
     -> R {
        if !(0..=map::MAX).contains(&t) {
            return st(Status::BadArgument);
        }
        let Some(key) = read(&c, kp, kl) else {
            return st(Status::InvalidMemoryAccess);
        };
        let key = text(&key).to_ascii_lowercase();
        let value = match const_map(c.data(), t) {
            None if in_log(c.data()) => {
                if v010 {
                    Some(Vec::new())
                } else {
                    return st(Status::NotFound);
                }
            }
            None => return st(Status::BadArgument),
            Some(m) => m.get_all(&key).first().map(|v| v.to_vec()),
        };
        match value {
            Some(v) => copy_out(&mut c, &v, ret_ptr, ret_len),
            None if v010 => copy_out(&mut c, &[], ret_ptr, ret_len),
            None => st(Status::NotFound),
        }
    })?;
    host_fn!(l, env, "proxy_get_header_map_pairs", |c,
                                                    t: i32,
                                                    ret_ptr: i32,
                                                    ret_len: i32|
     -> R {
        if !(0..=map::MAX).contains(&t) {
            return st(Status::BadArgument);
        }
        let bytes = const_map(c.data(), t)
            .map(Headers::wire)
            .unwrap_or_default();
        copy_out(&mut c, &bytes, ret_ptr, ret_len)
    })?;
    host_fn!(l, env, "proxy_get_header_map_size", |c,
                                                   t: i32,
                                                   ret: i32|
     -> R {
        if !(0..=map::MAX).contains(&t) {
            return st(Status::BadArgument);
        }
        let Some(m) = mut_map(c.data_mut(), t) else {
            return st(Status::BadArgument);
        };
        let size: usize = m.0.iter().map(|(k, v)| k.len() + v.len()).sum();
        if !write_u32(&mut c, ret, size as u32) {
            return st(Status::InvalidMemoryAccess);
        }
        OK
    })?;
    host_fn!(l, env, "proxy_set_header_map_pairs", |c,
                                                    t: i32,
                                                    ptr: i32,
                                                    len: i32|
     -> R {
        if !(0..=map::MAX).contains(&t) {
            return st(Status::BadArgument);
        }
        let Some(bytes) = read(&c, ptr, len) else {
            return st(Status::InvalidMemoryAccess);
        };
        let pairs = abi::deserialize_pairs(&bytes).unwrap_or_default();
        let Some(m) = mut_map(c.data_mut(), t) else {
            return st(Status::BadArgument);
        };
        *m = Headers::from_pairs(pairs);
        OK
    })?;
    host_fn!(l, env, "proxy_add_header_map_value", |c,
                                                    t: i32,
                                                    kp: i32,
                                                    kl: i32,
                                                    vp: i32,
                                                    vl: i32|
     -> R {
        if !(0..=map::MAX).contains(&t) {
            return st(Status::BadArgument);
        }
        let (Some(k), Some(v)) = (read(&c, kp, kl), read(&c, vp, vl)) else {
            return st(Status::InvalidMemoryAccess);
        };
        let Some(m) = mut_map(c.data_mut(), t) else {
            return st(Status::BadArgument);
        };
        m.add(&text(&k), v);
        OK
    })?;
    host_fn!(l, env, "proxy_replace_header_map_value", |c,
                                                        t: i32,
                                                        kp: i32,
                                                        kl: i32,
                                                        vp: i32,
                                                        vl: i32|
     -> R {
        if !(0..=map::MAX).contains(&t) {
            return st(Status::BadArgument);
        }
        let (Some(k), Some(v)) = (read(&c, kp, kl), read(&c, vp, vl)) else {
            return st(Status::InvalidMemoryAccess);
        };
        let Some(m) = mut_map(c.data_mut(), t) else {
            return st(Status::BadArgument);
        };
        replace(m, &text(&k).to_ascii_lowercase(), v);
        OK
    })?;
    host_fn!(l, env, "proxy_remove_header_map_value", |c,
                                                       t: i32,
                                                       kp: i32,
                                                       kl: i32|
     -> R {
        if !(0..=map::MAX).contains(&t) {
            return st(Status::BadArgument);
        }
        let Some(k) = read(&c, kp, kl) else {
            return st(Status::InvalidMemoryAccess);
        };
        let Some(m) = mut_map(c.data_mut(), t) else {
            return st(Status::BadArgument);
        };
        m.remove(&text(&k));
        OK
    })?;

    // --- buffers
    host_fn!(l, env, "proxy_get_buffer_bytes", |c,
                                                t: i32,
                                                start: i32,
                                                max: i32,
                                                ret_ptr: i32,
                                                ret_len: i32|
     -> R {
        let data = match buffer_read(c.data(), t) {
            Err(e) => return st(e),
            Ok(None) => return st(Status::NotFound),
            Ok(Some(b)) => {
                let (start, max) = (start as u32 as usize, max as u32 as usize);
                if start >= b.len() {
                    Vec::new()
                } else {
                    b[start..start.saturating_add(max).min(b.len())].to_vec()
                }
            }
        };
        copy_out(&mut c, &data, ret_ptr, ret_len)
    })?;
    host_fn!(l, env, "proxy_get_buffer_status", |c,
                                                 t: i32,
                                                 ret_len: i32,
                                                 ret_flags: i32|
     -> R {
        let len = match buffer_read(c.data(), t) {
            Err(e) => return st(e),
            Ok(None) => return st(Status::NotFound),
            Ok(Some(b)) => b.len() as u32,
        };
        if !write_u32(&mut c, ret_len, len) || !write_u32(&mut c, ret_flags, 0) {
            return st(Status::InvalidMemoryAccess);
        }
        OK
    })?;
    host_fn!(l, env, "proxy_set_buffer_bytes", |c,
                                                t: i32,
                                                start: i32,
                                                size: i32,
                                                ptr: i32,
                                                len: i32|
     -> R {
        let Some(data) = read(&c, ptr, len) else {
            return st(Status::InvalidMemoryAccess);
        };
        let status = buffer_write(
            c.data_mut(),
            t,
            start as u32 as usize,
            size as u32 as usize,
            data,
        );
        st(status)
    })?;

    // --- stream control
    if abi == AbiVersion::V0_1_0 {
        host_fn!(l, env, "proxy_continue_request", |c| -> R {
            continue_stream(&mut c, stream::REQUEST)
        })?;
        host_fn!(l, env, "proxy_continue_response", |c| -> R {
            continue_stream(&mut c, stream::RESPONSE)
        })?;
        host_fn!(l, env, "proxy_clear_route_cache", |c| -> R { OK })?;
    } else {
        host_fn!(l, env, "proxy_continue_stream", |c, which: i32| -> R {
            continue_stream(&mut c, which)
        })?;
        host_fn!(l, env, "proxy_close_stream", |c, which: i32| -> R {
            if !(0..=stream::UPSTREAM).contains(&which) {
                return st(Status::BadArgument);
            }
            let callback = c.data().callback;
            let Some(x) = c.data_mut().target_stream() else {
                c.data_mut().note(format!(
                    "proxy_close_stream({which}) in {callback} acted on the root context and did nothing"
                ));
                return OK;
            };
            match (x.kind, which) {
                (StreamKind::Http, stream::REQUEST | stream::RESPONSE) => x.reset = true,
                (StreamKind::Tcp, stream::DOWNSTREAM) => x.closed_by_plugin.push("downstream"),
                (StreamKind::Tcp, stream::UPSTREAM) => x.closed_by_plugin.push("upstream"),
                _ => {}
            }
            OK
        })?;
    }
    host_fn!(l, env, "proxy_send_local_response", |c,
                                                   code: i32,
                                                   dp: i32,
                                                   dl: i32,
                                                   bp: i32,
                                                   bl: i32,
                                                   hp: i32,
                                                   hl: i32,
                                                   grpc: i32|
     -> R {
        let (Some(details), Some(body), Some(hdrs)) =
            (read(&c, dp, dl), read(&c, bp, bl), read(&c, hp, hl))
        else {
            return st(Status::InvalidMemoryAccess);
        };
        let pairs = abi::deserialize_pairs(&hdrs).unwrap_or_default();
        let callback = c.data().callback;
        let s = c.data_mut();
        s.stop_next = true;
        let Some(x) = s.target_stream().filter(|x| x.kind == StreamKind::Http) else {
            s.note(format!(
                "proxy_send_local_response({code}) in {callback} acted on the root context and did nothing \
                 (call proxy_set_effective_context with the stream's id first)"
            ));
            return OK;
        };
        if x.local_response.is_some() {
            x.extra_local_responses += 1;
            return OK;
        }
        x.local_response = Some(LocalResponse {
            status: code as u32,
            headers: Headers::from_pairs(pairs),
            body,
            // Envoy's StringUtil::replaceAllEmptySpace
            details: text(&details)
                .chars()
                .map(|ch| if ch.is_ascii_whitespace() { '_' } else { ch })
                .collect(),
            grpc_status: grpc,
            sent_in: callback,
        });
        OK
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u32, headers: &[(&str, &str)], body: &str) -> LocalResponse {
        let mut h = Headers::default();
        for (k, v) in headers {
            h.add(k, v);
        }
        LocalResponse {
            status,
            headers: h,
            body: body.as_bytes().to_vec(),
            details: String::new(),
            grpc_status: -1,
            sent_in: "proxy_on_request_headers",
        }
    }

    #[test]
    fn local_reply_gets_content_length_and_text_plain() {
        let (h, body) = prepare_local_reply(&reply(403, &[("x-a", "1")], "denied"), None);
        let keys: Vec<&str> = h.0.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, [":status", "x-a", "content-length", "content-type"]);
        assert_eq!(h.get("content-length").as_deref(), Some("6"));
        assert_eq!(h.get("content-type").as_deref(), Some("text/plain"));
        assert_eq!(body.unwrap(), b"denied");
        // the plug-in's content type wins; its content-length is corrected
        let (h, _) = prepare_local_reply(
            &reply(
                200,
                &[
                    ("content-type", "application/json"),
                    ("content-length", "99"),
                ],
                "{}",
            ),
            None,
        );
        assert_eq!(h.get("content-type").as_deref(), Some("application/json"));
        assert_eq!(h.get("content-length").as_deref(), Some("2"));
    }

    #[test]
    fn empty_local_reply_loses_content_headers() {
        let (h, body) = prepare_local_reply(
            &reply(
                204,
                &[("content-type", "text/html"), ("content-length", "5")],
                "",
            ),
            None,
        );
        assert!(!h.contains("content-type") && !h.contains("content-length"));
        assert!(body.is_none());
    }

    #[test]
    fn grpc_request_gets_a_trailers_only_reply() {
        let mut req = Headers::default();
        req.add("content-type", "application/grpc");
        let (h, body) = prepare_local_reply(&reply(403, &[], "no 100%"), Some(&req));
        assert_eq!(h.get(":status").as_deref(), Some("200"));
        assert_eq!(h.get("grpc-status").as_deref(), Some("7"));
        assert_eq!(h.get("grpc-message").as_deref(), Some("no 100%25"));
        assert!(body.is_none());
    }

    #[test]
    fn copy_from_follows_envoy() {
        let mut b = b"hello".to_vec();
        assert_eq!(copy_from(&mut b, 0, 5, b"bye".to_vec()), Status::Ok);
        assert_eq!(b, b"bye");
        assert_eq!(copy_from(&mut b, 0, 0, b">".to_vec()), Status::Ok);
        assert_eq!(b, b">bye");
        assert_eq!(copy_from(&mut b, 4, 0, b"!".to_vec()), Status::Ok);
        assert_eq!(b, b">bye!");
        assert_eq!(copy_from(&mut b, 2, 1, b"x".to_vec()), Status::BadArgument);
    }
}
