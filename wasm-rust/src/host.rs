//! Safe wrappers over the proxy-wasm ABI 0.2.1 host calls the SDK uses.
//!
//! We declare the imports ourselves with plain `u32` statuses instead of going through
//! `proxy_wasm::hostcalls`, whose wrappers panic on any unexpected status (and whose `Status` enum cannot hold
//! every value a host may return). Every wrapper returns `Result<_, HostError>`; nothing here panics.
//! Buffers the host returns were allocated with the guest allocator (`proxy_on_memory_allocate`, a boxed
//! `[u8]` of exactly `len` bytes), and are taken back with `Vec::from_raw_parts(ptr, len, len)`.

use std::fmt;
use std::ptr::{null, null_mut};

mod raw {
    #[link(wasm_import_module = "env")]
    extern "C" {
        pub fn proxy_log(level: u32, message: *const u8, size: usize) -> u32;
        pub fn proxy_get_buffer_bytes(
            buffer: u32,
            start: usize,
            max: usize,
            ret_data: *mut *mut u8,
            ret_size: *mut usize,
        ) -> u32;
        pub fn proxy_get_header_map_pairs(
            map: u32,
            ret_data: *mut *mut u8,
            ret_size: *mut usize,
        ) -> u32;
        pub fn proxy_get_header_map_value(
            map: u32,
            key: *const u8,
            key_size: usize,
            ret_data: *mut *mut u8,
            ret_size: *mut usize,
        ) -> u32;
        pub fn proxy_replace_header_map_value(
            map: u32,
            key: *const u8,
            key_size: usize,
            value: *const u8,
            value_size: usize,
        ) -> u32;
        pub fn proxy_add_header_map_value(
            map: u32,
            key: *const u8,
            key_size: usize,
            value: *const u8,
            value_size: usize,
        ) -> u32;
        pub fn proxy_remove_header_map_value(map: u32, key: *const u8, key_size: usize) -> u32;
        pub fn proxy_get_property(
            path: *const u8,
            path_size: usize,
            ret_data: *mut *mut u8,
            ret_size: *mut usize,
        ) -> u32;
        #[allow(clippy::too_many_arguments)]
        pub fn proxy_send_local_response(
            status_code: u32,
            details: *const u8,
            details_size: usize,
            body: *const u8,
            body_size: usize,
            headers: *const u8,
            headers_size: usize,
            grpc_status: i32,
        ) -> u32;
        pub fn proxy_set_buffer_bytes(
            buffer: u32,
            start: usize,
            size: usize,
            data: *const u8,
            data_size: usize,
        ) -> u32;
        pub fn proxy_get_buffer_status(
            buffer: u32,
            ret_size: *mut usize,
            ret_flags: *mut u32,
        ) -> u32;
        pub fn proxy_continue_stream(stream: u32) -> u32;
        pub fn proxy_get_status(
            ret_code: *mut u32,
            ret_data: *mut *mut u8,
            ret_size: *mut usize,
        ) -> u32;
        pub fn proxy_get_shared_data(
            key: *const u8,
            key_size: usize,
            ret_data: *mut *mut u8,
            ret_size: *mut usize,
            ret_cas: *mut u32,
        ) -> u32;
        pub fn proxy_set_shared_data(
            key: *const u8,
            key_size: usize,
            value: *const u8,
            value_size: usize,
            cas: u32,
        ) -> u32;
        pub fn proxy_register_shared_queue(
            name: *const u8,
            name_size: usize,
            ret_id: *mut u32,
        ) -> u32;
        pub fn proxy_resolve_shared_queue(
            vm_id: *const u8,
            vm_id_size: usize,
            name: *const u8,
            name_size: usize,
            ret_id: *mut u32,
        ) -> u32;
        pub fn proxy_enqueue_shared_queue(queue_id: u32, data: *const u8, size: usize) -> u32;
        pub fn proxy_dequeue_shared_queue(
            queue_id: u32,
            ret_data: *mut *mut u8,
            ret_size: *mut usize,
        ) -> u32;
        pub fn proxy_set_tick_period_milliseconds(period: u32) -> u32;
        pub fn proxy_define_metric(
            metric_type: u32,
            name: *const u8,
            name_size: usize,
            ret_id: *mut u32,
        ) -> u32;
        pub fn proxy_increment_metric(metric_id: u32, offset: i64) -> u32;
        pub fn proxy_record_metric(metric_id: u32, value: u64) -> u32;
        pub fn proxy_get_metric(metric_id: u32, ret_value: *mut u64) -> u32;
        pub fn proxy_get_current_time_nanoseconds(ret_time: *mut u64) -> u32;
    }
}

/// proxy-wasm statuses (`WasmResult`) the SDK looks at.
pub const OK: u32 = 0;
pub const NOT_FOUND: u32 = 1;
pub const BAD_ARGUMENT: u32 = 2;
pub const EMPTY: u32 = 7;
pub const CAS_MISMATCH: u32 = 8;

/// A header list: (name, value) byte pairs in host order.
pub type Headers = Vec<(Vec<u8>, Vec<u8>)>;

/// A host call that did not succeed: which call, and the proxy-wasm status it returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostError {
    pub call: &'static str,
    pub status: u32,
}

impl HostError {
    pub fn new(call: &'static str, status: u32) -> HostError {
        HostError { call, status }
    }
}

/// Names of the proxy-wasm statuses (`WasmResult`).
pub fn status_name(status: u32) -> &'static str {
    match status {
        0 => "Ok",
        1 => "NotFound",
        2 => "BadArgument",
        3 => "SerializationFailure",
        4 => "ParseFailure",
        5 => "BadExpression",
        6 => "InvalidMemoryAccess",
        7 => "Empty",
        8 => "CasMismatch",
        9 => "ResultMismatch",
        10 => "InternalFailure",
        11 => "BrokenConnection",
        12 => "Unimplemented",
        _ => "unknown status",
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "host call {} failed with status {} ({})",
            self.call,
            self.status,
            status_name(self.status)
        )
    }
}

impl std::error::Error for HostError {}

/// Log levels of the ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u32)]
pub enum LogLevel {
    Trace = 0,
    Debug = 1,
    Info = 2,
    Warn = 3,
    Error = 4,
    Critical = 5,
}

/// Header maps of the ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum MapType {
    RequestHeaders = 0,
    RequestTrailers = 1,
    ResponseHeaders = 2,
    ResponseTrailers = 3,
    GrpcReceiveInitialMetadata = 4,
    GrpcReceiveTrailingMetadata = 5,
    HttpCallResponseHeaders = 6,
    HttpCallResponseTrailers = 7,
}

/// Buffers of the ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum BufferType {
    HttpRequestBody = 0,
    HttpResponseBody = 1,
    HttpCallResponseBody = 4,
    GrpcReceiveBuffer = 5,
    VmConfiguration = 6,
    PluginConfiguration = 7,
}

/// Stream directions of `proxy_continue_stream`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum StreamType {
    Request = 0,
    Response = 1,
}

/// Metric kinds of `proxy_define_metric`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum MetricType {
    Counter = 0,
    Gauge = 1,
    Histogram = 2,
}

/// Takes ownership of a host-allocated buffer.
///
/// # Safety
/// `ptr`/`len` must come from the host as a buffer it allocated with `proxy_on_memory_allocate(len)`.
unsafe fn take(ptr: *mut u8, len: usize) -> Vec<u8> {
    if ptr.is_null() || len == 0 {
        return Vec::new();
    }
    Vec::from_raw_parts(ptr, len, len)
}

pub fn log(level: LogLevel, message: &str) -> Result<(), HostError> {
    // SAFETY: pointer and length of a live &str
    let status = unsafe { raw::proxy_log(level as u32, message.as_ptr(), message.len()) };
    match status {
        OK => Ok(()),
        s => Err(HostError::new("proxy_log", s)),
    }
}

/// Bytes `start..start+max` of a buffer; `None` when the host has no such buffer.
pub fn buffer(buffer: BufferType, start: usize, max: usize) -> Result<Option<Vec<u8>>, HostError> {
    let mut ptr = null_mut();
    let mut len = 0;
    // SAFETY: out-pointers to locals; the returned buffer is the host's allocation for us
    let status =
        unsafe { raw::proxy_get_buffer_bytes(buffer as u32, start, max, &mut ptr, &mut len) };
    match status {
        OK => Ok(Some(unsafe { take(ptr, len) })),
        NOT_FOUND => Ok(None),
        s => Err(HostError::new("proxy_get_buffer_bytes", s)),
    }
}

/// One header's value, `None` when absent.
pub fn header(map: MapType, name: &str) -> Result<Option<Vec<u8>>, HostError> {
    let mut ptr = null_mut();
    let mut len = 0;
    // SAFETY: as in `buffer`
    let status = unsafe {
        raw::proxy_get_header_map_value(map as u32, name.as_ptr(), name.len(), &mut ptr, &mut len)
    };
    match status {
        OK => Ok(Some(unsafe { take(ptr, len) })),
        NOT_FOUND => Ok(None),
        s => Err(HostError::new("proxy_get_header_map_value", s)),
    }
}

/// All headers of a map, in order, as (name, value) bytes.
pub fn headers(map: MapType) -> Result<Headers, HostError> {
    let mut ptr = null_mut();
    let mut len = 0;
    // SAFETY: as in `buffer`
    let status = unsafe { raw::proxy_get_header_map_pairs(map as u32, &mut ptr, &mut len) };
    match status {
        OK => {
            let data = unsafe { take(ptr, len) };
            decode_pairs(&data).ok_or(HostError::new("proxy_get_header_map_pairs", 3))
        }
        NOT_FOUND => Ok(Vec::new()),
        s => Err(HostError::new("proxy_get_header_map_pairs", s)),
    }
}

/// Replaces (or adds) a header so that exactly one value remains.
pub fn replace_header(map: MapType, name: &str, value: &[u8]) -> Result<(), HostError> {
    // SAFETY: pointers and lengths of live slices
    let status = unsafe {
        raw::proxy_replace_header_map_value(
            map as u32,
            name.as_ptr(),
            name.len(),
            value.as_ptr(),
            value.len(),
        )
    };
    match status {
        OK => Ok(()),
        s => Err(HostError::new("proxy_replace_header_map_value", s)),
    }
}

/// Appends a header value (keeps existing ones).
pub fn add_header(map: MapType, name: &str, value: &[u8]) -> Result<(), HostError> {
    // SAFETY: pointers and lengths of live slices
    let status = unsafe {
        raw::proxy_add_header_map_value(
            map as u32,
            name.as_ptr(),
            name.len(),
            value.as_ptr(),
            value.len(),
        )
    };
    match status {
        OK => Ok(()),
        s => Err(HostError::new("proxy_add_header_map_value", s)),
    }
}

/// Removes every value of a header (absent is fine).
pub fn remove_header(map: MapType, name: &str) -> Result<(), HostError> {
    // SAFETY: pointer and length of a live &str
    let status =
        unsafe { raw::proxy_remove_header_map_value(map as u32, name.as_ptr(), name.len()) };
    match status {
        OK | NOT_FOUND => Ok(()),
        s => Err(HostError::new("proxy_remove_header_map_value", s)),
    }
}

/// A property such as `["route_name"]`; `None` when the host does not have it.
pub fn property(path: &[&str]) -> Result<Option<Vec<u8>>, HostError> {
    let serialized = path.join("\0");
    let mut ptr = null_mut();
    let mut len = 0;
    // SAFETY: as in `buffer`
    let status = unsafe {
        raw::proxy_get_property(serialized.as_ptr(), serialized.len(), &mut ptr, &mut len)
    };
    match status {
        OK => Ok(Some(unsafe { take(ptr, len) })),
        NOT_FOUND => Ok(None),
        s => Err(HostError::new("proxy_get_property", s)),
    }
}

/// Answers the request locally (the host stops the current callback's iteration).
pub fn send_local_response(
    status_code: u32,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<(), HostError> {
    let pairs: Vec<(&[u8], &[u8])> = headers
        .iter()
        .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
        .collect();
    let map = encode_pairs(&pairs);
    let (body_ptr, body_len) = if body.is_empty() {
        (null(), 0)
    } else {
        (body.as_ptr(), body.len())
    };
    let (map_ptr, map_len) = if headers.is_empty() {
        (null(), 0)
    } else {
        (map.as_ptr(), map.len())
    };
    // SAFETY: pointers and lengths of live buffers (or null/0)
    let status = unsafe {
        raw::proxy_send_local_response(
            status_code,
            null(),
            0,
            body_ptr,
            body_len,
            map_ptr,
            map_len,
            -1,
        )
    };
    match status {
        OK => Ok(()),
        s => Err(HostError::new("proxy_send_local_response", s)),
    }
}

fn check(call: &'static str, status: u32) -> Result<(), HostError> {
    match status {
        OK => Ok(()),
        s => Err(HostError::new(call, s)),
    }
}

/// Replaces `size` bytes at `start` of a body buffer with `data` (Envoy: start 0 drains `size` bytes then
/// prepends; start at or past the end appends).
pub fn set_buffer(
    buffer: BufferType,
    start: usize,
    size: usize,
    data: &[u8],
) -> Result<(), HostError> {
    // SAFETY: pointer and length of a live slice
    let status = unsafe {
        raw::proxy_set_buffer_bytes(buffer as u32, start, size, data.as_ptr(), data.len())
    };
    check("proxy_set_buffer_bytes", status)
}

/// The current length of a buffer (0 when the host has none).
pub fn buffer_len(buffer: BufferType) -> Result<usize, HostError> {
    let mut len = 0;
    let mut flags = 0;
    // SAFETY: out-pointers to locals
    let status = unsafe { raw::proxy_get_buffer_status(buffer as u32, &mut len, &mut flags) };
    match status {
        OK => Ok(len),
        NOT_FOUND => Ok(0),
        s => Err(HostError::new("proxy_get_buffer_status", s)),
    }
}

/// Resumes a paused direction of the current stream.
pub fn continue_stream(stream: StreamType) -> Result<(), HostError> {
    // SAFETY: plain value
    check("proxy_continue_stream", unsafe {
        raw::proxy_continue_stream(stream as u32)
    })
}

/// The status the host attached to the current callback (e.g. of a failed callout): code and message.
pub fn status() -> Result<(u32, Vec<u8>), HostError> {
    let mut code = 0;
    let mut ptr = null_mut();
    let mut len = 0;
    // SAFETY: out-pointers to locals; the returned buffer is the host's allocation for us
    let status = unsafe { raw::proxy_get_status(&mut code, &mut ptr, &mut len) };
    match status {
        OK => Ok((code, unsafe { take(ptr, len) })),
        s => Err(HostError::new("proxy_get_status", s)),
    }
}

/// A shared-data value and its CAS token; `None` when the key is absent.
pub fn get_shared_data(key: &str) -> Result<Option<(Vec<u8>, u32)>, HostError> {
    let mut ptr = null_mut();
    let mut len = 0;
    let mut cas = 0;
    // SAFETY: out-pointers to locals; the returned buffer is the host's allocation for us
    let status = unsafe {
        raw::proxy_get_shared_data(key.as_ptr(), key.len(), &mut ptr, &mut len, &mut cas)
    };
    match status {
        OK => Ok(Some((unsafe { take(ptr, len) }, cas))),
        NOT_FOUND => Ok(None),
        s => Err(HostError::new("proxy_get_shared_data", s)),
    }
}

/// Sets a shared-data value; `cas` 0 is unconditional. A CAS mismatch is status 8 (CasMismatch).
pub fn set_shared_data(key: &str, value: &[u8], cas: u32) -> Result<(), HostError> {
    // SAFETY: pointers and lengths of live slices
    let status = unsafe {
        raw::proxy_set_shared_data(key.as_ptr(), key.len(), value.as_ptr(), value.len(), cas)
    };
    check("proxy_set_shared_data", status)
}

pub fn register_shared_queue(name: &str) -> Result<u32, HostError> {
    let mut id = 0;
    // SAFETY: pointer and length of a live &str; out-pointer to a local
    let status = unsafe { raw::proxy_register_shared_queue(name.as_ptr(), name.len(), &mut id) };
    check("proxy_register_shared_queue", status).map(|()| id)
}

pub fn resolve_shared_queue(vm_id: &str, name: &str) -> Result<Option<u32>, HostError> {
    let mut id = 0;
    // SAFETY: pointers and lengths of live &strs; out-pointer to a local
    let status = unsafe {
        raw::proxy_resolve_shared_queue(
            vm_id.as_ptr(),
            vm_id.len(),
            name.as_ptr(),
            name.len(),
            &mut id,
        )
    };
    match status {
        OK => Ok(Some(id)),
        NOT_FOUND => Ok(None),
        s => Err(HostError::new("proxy_resolve_shared_queue", s)),
    }
}

pub fn enqueue_shared_queue(queue_id: u32, data: &[u8]) -> Result<(), HostError> {
    // SAFETY: pointer and length of a live slice
    let status = unsafe { raw::proxy_enqueue_shared_queue(queue_id, data.as_ptr(), data.len()) };
    check("proxy_enqueue_shared_queue", status)
}

/// The next item of a queue; `None` when it is empty.
pub fn dequeue_shared_queue(queue_id: u32) -> Result<Option<Vec<u8>>, HostError> {
    let mut ptr = null_mut();
    let mut len = 0;
    // SAFETY: out-pointers to locals; the returned buffer is the host's allocation for us
    let status = unsafe { raw::proxy_dequeue_shared_queue(queue_id, &mut ptr, &mut len) };
    match status {
        OK => Ok(Some(unsafe { take(ptr, len) })),
        EMPTY => Ok(None),
        s => Err(HostError::new("proxy_dequeue_shared_queue", s)),
    }
}

pub fn set_tick_period_milliseconds(period: u32) -> Result<(), HostError> {
    // SAFETY: plain value
    check("proxy_set_tick_period_milliseconds", unsafe {
        raw::proxy_set_tick_period_milliseconds(period)
    })
}

pub fn define_metric(kind: MetricType, name: &str) -> Result<u32, HostError> {
    let mut id = 0;
    // SAFETY: pointer and length of a live &str; out-pointer to a local
    let status =
        unsafe { raw::proxy_define_metric(kind as u32, name.as_ptr(), name.len(), &mut id) };
    check("proxy_define_metric", status).map(|()| id)
}

pub fn increment_metric(id: u32, offset: i64) -> Result<(), HostError> {
    // SAFETY: plain values
    check("proxy_increment_metric", unsafe {
        raw::proxy_increment_metric(id, offset)
    })
}

pub fn record_metric(id: u32, value: u64) -> Result<(), HostError> {
    // SAFETY: plain values
    check("proxy_record_metric", unsafe {
        raw::proxy_record_metric(id, value)
    })
}

pub fn get_metric(id: u32) -> Result<u64, HostError> {
    let mut value = 0;
    // SAFETY: out-pointer to a local
    let status = unsafe { raw::proxy_get_metric(id, &mut value) };
    check("proxy_get_metric", status).map(|()| value)
}

/// Unix time in nanoseconds, from the host's clock.
pub fn current_time_nanos() -> Result<u64, HostError> {
    let mut ns = 0;
    // SAFETY: out-pointer to a local
    let status = unsafe { raw::proxy_get_current_time_nanoseconds(&mut ns) };
    check("proxy_get_current_time_nanoseconds", status).map(|()| ns)
}

/// Serializes a header map: `N`, N × (key_len, value_len), then each `key\0value\0` (u32 little-endian).
pub fn encode_pairs(pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(pairs.len() as u32).to_le_bytes());
    for (k, v) in pairs {
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    }
    for (k, v) in pairs {
        out.extend_from_slice(k);
        out.push(0);
        out.extend_from_slice(v);
        out.push(0);
    }
    out
}

/// Parses a serialized header map; `None` when it is malformed. Empty input is an empty map.
pub fn decode_pairs(data: &[u8]) -> Option<Headers> {
    if data.is_empty() {
        return Some(Vec::new());
    }
    let u32_at = |at: usize| -> Option<usize> {
        let b = data.get(at..at.checked_add(4)?)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let n = u32_at(0)?;
    let mut sizes_at = 4usize;
    let mut data_at = n.checked_mul(8)?.checked_add(4)?;
    if data_at > data.len() {
        return None;
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let klen = u32_at(sizes_at)?;
        let vlen = u32_at(sizes_at + 4)?;
        sizes_at += 8;
        let key = data.get(data_at..data_at.checked_add(klen)?)?.to_vec();
        data_at += klen + 1;
        let value = data.get(data_at..data_at.checked_add(vlen)?)?.to_vec();
        data_at += vlen + 1;
        if data_at > data.len() {
            return None;
        }
        out.push((key, value));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_round_trip() {
        let pairs: Vec<(&[u8], &[u8])> =
            vec![(b":method", b"GET"), (b"x-a", b""), (b"k", b"v\xff")];
        let enc = encode_pairs(&pairs);
        assert_eq!(&enc[..12], &[3, 0, 0, 0, 7, 0, 0, 0, 3, 0, 0, 0]);
        let dec = decode_pairs(&enc).unwrap();
        let dec: Vec<(&[u8], &[u8])> = dec
            .iter()
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
            .collect();
        assert_eq!(dec, pairs);
        assert_eq!(decode_pairs(&[]).unwrap(), vec![]);
        assert_eq!(decode_pairs(&[0, 0, 0, 0]).unwrap(), vec![]);
    }

    #[test]
    fn malformed_pairs_are_rejected_not_panicking() {
        let pairs: Vec<(&[u8], &[u8])> = vec![(b"abc", b"defg")];
        let enc = encode_pairs(&pairs);
        for cut in 1..enc.len() {
            assert!(decode_pairs(&enc[..cut]).is_none(), "cut {cut}");
        }
        assert!(decode_pairs(&[0]).is_none());
        assert!(decode_pairs(&[0xff, 0xff, 0xff, 0xff]).is_none());
        let mut huge = enc.clone();
        huge[4] = 0xff;
        assert!(decode_pairs(&huge).is_none());
    }
}
