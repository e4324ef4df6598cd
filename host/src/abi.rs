//! Proxy-Wasm ABI constants, the callbacks Envoy looks up, and the header-map wire format.

use wasmtime::ValType;

/// Status codes returned by host functions (proxy-wasm-cpp-host `WasmResult`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
#[allow(dead_code)] // the full set, for reference
pub(crate) enum Status {
    Ok = 0,
    NotFound = 1,
    BadArgument = 2,
    SerializationFailure = 3,
    ParseFailure = 4,
    BadExpression = 5,
    InvalidMemoryAccess = 6,
    Empty = 7,
    CasMismatch = 8,
    ResultMismatch = 9,
    InternalFailure = 10,
    BrokenConnection = 11,
    Unimplemented = 12,
}

impl Status {
    pub(crate) fn code(self) -> i32 {
        self as i32
    }
}

/// The ABI a module declares with its `proxy_abi_version_*` function export. Envoy links host functions
/// per version (proxy-wasm-cpp-host `WasmBase::registerCallbacks`). Higress' `0_2_100` is not a stock Envoy
/// ABI; a variant for it (with its extra host functions) would be added here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AbiVersion {
    /// `proxy_abi_version_0_1_0`
    V0_1_0,
    /// `proxy_abi_version_0_2_0`
    V0_2_0,
    /// `proxy_abi_version_0_2_1`
    V0_2_1,
}

impl AbiVersion {
    /// Every version Envoy accepts, with its marker export.
    pub(crate) const ALL: [(&'static str, AbiVersion); 3] = [
        ("proxy_abi_version_0_1_0", AbiVersion::V0_1_0),
        ("proxy_abi_version_0_2_0", AbiVersion::V0_2_0),
        ("proxy_abi_version_0_2_1", AbiVersion::V0_2_1),
    ];

    /// The marker export, e.g. `proxy_abi_version_0_2_1`.
    pub fn marker(self) -> &'static str {
        match self {
            AbiVersion::V0_1_0 => "proxy_abi_version_0_1_0",
            AbiVersion::V0_2_0 => "proxy_abi_version_0_2_0",
            AbiVersion::V0_2_1 => "proxy_abi_version_0_2_1",
        }
    }

    /// Host functions linked only for this version (beyond the 36 every version gets).
    #[cfg(test)]
    pub(crate) fn specific_imports(self) -> &'static [&'static str] {
        match self {
            AbiVersion::V0_1_0 => &[
                "proxy_get_configuration",
                "proxy_continue_request",
                "proxy_continue_response",
                "proxy_clear_route_cache",
            ],
            AbiVersion::V0_2_0 => &["proxy_continue_stream", "proxy_close_stream"],
            AbiVersion::V0_2_1 => &[
                "proxy_continue_stream",
                "proxy_close_stream",
                "proxy_get_log_level",
            ],
        }
    }
}

/// `proxy_get_buffer_bytes` buffer types.
pub(crate) mod buffer {
    pub const HTTP_REQUEST_BODY: i32 = 0;
    pub const HTTP_RESPONSE_BODY: i32 = 1;
    pub const DOWNSTREAM_DATA: i32 = 2;
    pub const UPSTREAM_DATA: i32 = 3;
    pub const HTTP_CALL_RESPONSE_BODY: i32 = 4;
    pub const GRPC_RECEIVE_BUFFER: i32 = 5;
    pub const VM_CONFIGURATION: i32 = 6;
    pub const PLUGIN_CONFIGURATION: i32 = 7;
    pub const CALL_DATA: i32 = 8;
    /// Largest type Envoy knows (`WasmBufferType::MAX`).
    pub const MAX: i32 = 8;
}

/// Header map types.
pub(crate) mod map {
    pub const REQUEST_HEADERS: i32 = 0;
    pub const REQUEST_TRAILERS: i32 = 1;
    pub const RESPONSE_HEADERS: i32 = 2;
    pub const RESPONSE_TRAILERS: i32 = 3;
    pub const GRPC_INITIAL_METADATA: i32 = 4;
    pub const GRPC_TRAILING_METADATA: i32 = 5;
    pub const HTTP_CALL_RESPONSE_HEADERS: i32 = 6;
    pub const HTTP_CALL_RESPONSE_TRAILERS: i32 = 7;
    /// Largest type Envoy knows (`WasmHeaderMapType::MAX`).
    pub const MAX: i32 = 7;
}

/// `proxy_continue_stream` / `proxy_close_stream` stream types.
pub(crate) mod stream {
    pub const REQUEST: i32 = 0;
    pub const RESPONSE: i32 = 1;
    pub const DOWNSTREAM: i32 = 2;
    pub const UPSTREAM: i32 = 3;
}

/// Callback exports Envoy looks up (proxy-wasm-cpp-host `WasmBase::getFunctions`, in that order), with their
/// parameter count and whether they return a value; every parameter and result is i32. V8, Envoy's default
/// runtime, refuses a module that exports one of these names with another signature ("Bad function
/// signature for: ...").
pub(crate) fn callbacks(abi: AbiVersion) -> Vec<(&'static str, usize, bool)> {
    let mut all = vec![
        ("_initialize", 0, false),
        ("_start", 0, false),
        ("main", 2, true),
        ("__main_void", 0, true),
        ("malloc", 1, true),
        ("proxy_on_memory_allocate", 1, true),
        ("proxy_validate_configuration", 2, true),
        ("proxy_on_vm_start", 2, true),
        ("proxy_on_configure", 2, true),
        ("proxy_on_tick", 1, false),
        ("proxy_on_context_create", 2, false),
        ("proxy_on_new_connection", 1, true),
        ("proxy_on_downstream_data", 3, true),
        ("proxy_on_upstream_data", 3, true),
        ("proxy_on_downstream_connection_close", 2, false),
        ("proxy_on_upstream_connection_close", 2, false),
        ("proxy_on_request_body", 3, true),
        ("proxy_on_request_trailers", 2, true),
        ("proxy_on_request_metadata", 2, true),
        ("proxy_on_response_body", 3, true),
        ("proxy_on_response_trailers", 2, true),
        ("proxy_on_response_metadata", 2, true),
        ("proxy_on_http_call_response", 5, false),
        ("proxy_on_grpc_receive", 3, false),
        ("proxy_on_grpc_close", 3, false),
        ("proxy_on_grpc_receive_initial_metadata", 3, false),
        ("proxy_on_grpc_receive_trailing_metadata", 3, false),
        ("proxy_on_queue_ready", 2, false),
        ("proxy_on_done", 1, true),
        ("proxy_on_log", 1, false),
        ("proxy_on_delete", 1, false),
    ];
    match abi {
        AbiVersion::V0_1_0 => {
            all.push(("proxy_on_request_headers", 2, true));
            all.push(("proxy_on_response_headers", 2, true));
        }
        AbiVersion::V0_2_0 | AbiVersion::V0_2_1 => {
            all.push(("proxy_on_request_headers", 3, true));
            all.push(("proxy_on_response_headers", 3, true));
            all.push(("proxy_on_foreign_function", 3, false));
        }
    }
    all
}

/// Formats value types the way V8's `printValTypes` does: `i32 i64`, or `void` for none.
pub(crate) fn print_types(types: impl Iterator<Item = ValType>) -> String {
    let names: Vec<&str> = types
        .map(|t| match t {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F32 => "f32",
            ValType::F64 => "f64",
            ValType::V128 => "v128",
            ValType::Ref(_) => "ref",
        })
        .collect();
    if names.is_empty() {
        "void".into()
    } else {
        names.join(" ")
    }
}

/// Log levels, as `proxy_log` numbers them.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Trace = 0,
    Debug = 1,
    Info = 2,
    Warn = 3,
    Error = 4,
    Critical = 5,
}

impl LogLevel {
    pub(crate) fn from_i32(v: i32) -> Option<LogLevel> {
        Some(match v {
            0 => LogLevel::Trace,
            1 => LogLevel::Debug,
            2 => LogLevel::Info,
            3 => LogLevel::Warn,
            4 => LogLevel::Error,
            5 => LogLevel::Critical,
            _ => return None,
        })
    }

    /// Lower-case name (`info`, `warn`, ...).
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
            LogLevel::Critical => "critical",
        }
    }

    /// Parses a lower-case level name.
    pub fn parse(s: &str) -> Option<LogLevel> {
        (0..=5)
            .filter_map(LogLevel::from_i32)
            .find(|l| l.name() == s)
    }
}

impl std::fmt::Display for LogLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Serialises header pairs: `N`, N×`(key_len, val_len)`, then `key\0value\0` for each (u32 LE).
/// An empty map serialises to no bytes (the host then returns ptr 0, len 0).
pub(crate) fn serialize_pairs<'a>(
    pairs: impl Iterator<Item = (&'a [u8], &'a [u8])> + Clone,
) -> Vec<u8> {
    let n = pairs.clone().count();
    if n == 0 {
        return Vec::new();
    }
    let data: usize = pairs.clone().map(|(k, v)| k.len() + v.len() + 2).sum();
    let mut out = Vec::with_capacity(4 + 8 * n + data);
    out.extend_from_slice(&(n as u32).to_le_bytes());
    for (k, v) in pairs.clone() {
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

/// Parses the header-map wire format; `None` when it is malformed. Empty input is an empty map.
pub(crate) fn deserialize_pairs(bytes: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    if bytes.is_empty() {
        return Some(Vec::new());
    }
    let u32_at = |off: usize| -> Option<usize> {
        let b = bytes.get(off..off.checked_add(4)?)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let n = u32_at(0)?;
    if n == 0 {
        return Some(Vec::new());
    }
    let mut sizes = Vec::with_capacity(n.min(bytes.len() / 8));
    for i in 0..n {
        let off = 4usize.checked_add(i.checked_mul(8)?)?;
        sizes.push((u32_at(off)?, u32_at(off + 4)?));
    }
    let mut pos = 4 + 8 * n;
    let mut out = Vec::with_capacity(n);
    for (kl, vl) in sizes {
        let k = bytes.get(pos..pos.checked_add(kl)?)?.to_vec();
        pos += kl + 1;
        let v = bytes.get(pos..pos.checked_add(vl)?)?.to_vec();
        pos += vl + 1;
        if pos > bytes.len() {
            return None;
        }
        out.push((k, v));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_map_matches_the_spec_example() {
        let pairs = [(b":method".as_slice(), b"GET".as_slice())];
        let bytes = serialize_pairs(pairs.iter().map(|(k, v)| (*k, *v)));
        let mut want = vec![1, 0, 0, 0, 7, 0, 0, 0, 3, 0, 0, 0];
        want.extend_from_slice(b":method\0GET\0");
        assert_eq!(bytes, want);
        assert_eq!(
            deserialize_pairs(&bytes).unwrap(),
            vec![(b":method".to_vec(), b"GET".to_vec())]
        );
    }

    #[test]
    fn malformed_header_maps_are_rejected_not_panicking() {
        assert_eq!(deserialize_pairs(&[]).unwrap(), vec![]);
        assert!(deserialize_pairs(&[1]).is_none());
        assert!(deserialize_pairs(&[1, 0, 0, 0, 200, 0, 0, 0, 0, 0, 0, 0]).is_none());
        assert!(deserialize_pairs(&[255, 255, 255, 255]).is_none());
    }

    #[test]
    fn abi_specific_imports_follow_register_callbacks() {
        assert!(AbiVersion::V0_1_0
            .specific_imports()
            .contains(&"proxy_get_configuration"));
        assert!(!AbiVersion::V0_2_0
            .specific_imports()
            .contains(&"proxy_get_log_level"));
        assert!(AbiVersion::V0_2_1
            .specific_imports()
            .contains(&"proxy_get_log_level"));
    }
}
