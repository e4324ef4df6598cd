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
    }
}

const OK: u32 = 0;
const NOT_FOUND: u32 = 1;

/// A header list: (name, value) byte pairs in host order.
pub type Headers = Vec<(Vec<u8>, Vec<u8>)>;

/// A host call that did not succeed: which call, and the proxy-wasm status it returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostError {
    pub call: &'static str,
    pub status: u32,
}

impl HostError {
    fn new(call: &'static str, status: u32) -> HostError {
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
}

/// Buffers of the ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum BufferType {
    HttpRequestBody = 0,
    HttpResponseBody = 1,
    VmConfiguration = 6,
    PluginConfiguration = 7,
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
