//! Proxy-Wasm ABI 0.2.1 constants and the header-map wire format.

/// Status codes returned by host functions. Only values the Rust SDK can decode are ever returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
#[allow(dead_code)] // the full set the SDKs decode, for reference
pub(crate) enum Status {
    Ok = 0,
    NotFound = 1,
    BadArgument = 2,
    SerializationFailure = 3,
    Empty = 7,
    CasMismatch = 8,
    InternalFailure = 10,
}

impl Status {
    pub(crate) fn code(self) -> i32 {
        self as i32
    }
}

/// `proxy_get_buffer_bytes` buffer types.
pub(crate) mod buffer {
    pub const HTTP_REQUEST_BODY: i32 = 0;
    pub const HTTP_RESPONSE_BODY: i32 = 1;
    pub const HTTP_CALL_RESPONSE_BODY: i32 = 4;
    pub const VM_CONFIGURATION: i32 = 6;
    pub const PLUGIN_CONFIGURATION: i32 = 7;
}

/// Header map types.
pub(crate) mod map {
    pub const REQUEST_HEADERS: i32 = 0;
    pub const REQUEST_TRAILERS: i32 = 1;
    pub const RESPONSE_HEADERS: i32 = 2;
    pub const RESPONSE_TRAILERS: i32 = 3;
    pub const HTTP_CALL_RESPONSE_HEADERS: i32 = 6;
    pub const HTTP_CALL_RESPONSE_TRAILERS: i32 = 7;
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
}
