//! key-auth: authenticates requests by an API key in a header or a query parameter; names the consumer for
//! the upstream in `x-mse-consumer`; per-rule `allow` lists restrict which consumers may pass.

use std::collections::HashMap;

use pwsdk::auth::{check_realm, Authenticator, Identity};
use pwsdk::host::{self, HostError, MapType};
use pwsdk::{ConfigError, PluginConfig};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consumer {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub credential: Option<String>,
    #[serde(default)]
    pub credentials: Option<Vec<String>>,
}

fn default_true() -> bool {
    true
}

fn default_realm() -> String {
    "MSE Gateway".to_owned()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub consumers: Option<Vec<Consumer>>,
    #[serde(default)]
    pub keys: Option<Vec<String>>,
    #[serde(default = "default_true")]
    pub in_query: bool,
    #[serde(default = "default_true")]
    pub in_header: bool,
    #[serde(default = "default_realm")]
    pub realm: String,
    /// credential bytes → consumer name
    #[serde(skip)]
    by_credential: HashMap<Vec<u8>, String>,
    /// `keys`, ASCII-lower-cased for the header lookup
    #[serde(skip)]
    header_names: Vec<String>,
}

impl PluginConfig for Config {
    fn validate(&mut self) -> Result<(), ConfigError> {
        let consumers = match &self.consumers {
            Some(c) if !c.is_empty() => c,
            _ => {
                return Err(ConfigError::new(
                    "consumers",
                    "is required: a non-empty array of {name, credential}",
                ))
            }
        };
        let mut names: HashMap<&str, usize> = HashMap::new();
        for (i, consumer) in consumers.iter().enumerate() {
            let path = format!("consumers[{i}]");
            if consumer.name.is_empty() {
                return Err(ConfigError::new(
                    format!("{path}.name"),
                    "is required and must not be empty",
                ));
            }
            if names.insert(&consumer.name, i).is_some() {
                return Err(ConfigError::new(
                    format!("{path}.name"),
                    format!("duplicate consumer name `{}`", consumer.name),
                ));
            }
            let list: Vec<(String, &String)> = match (&consumer.credential, &consumer.credentials) {
                (Some(c), None) => vec![(format!("{path}.credential"), c)],
                (None, Some(list)) if !list.is_empty() => list
                    .iter()
                    .enumerate()
                    .map(|(j, c)| (format!("{path}.credentials[{j}]"), c))
                    .collect(),
                (None, Some(_)) => {
                    return Err(ConfigError::new(
                        format!("{path}.credentials"),
                        "must not be empty",
                    ))
                }
                _ => {
                    return Err(ConfigError::new(
                        path,
                        "needs exactly one of `credential` and `credentials`",
                    ))
                }
            };
            for (p, credential) in list {
                if credential.is_empty() {
                    return Err(ConfigError::new(p, "must not be empty"));
                }
                if let Some(other) = self
                    .by_credential
                    .insert(credential.as_bytes().to_vec(), consumer.name.clone())
                {
                    return Err(ConfigError::new(
                        p,
                        format!(
                            "duplicate credential (already a credential of consumer `{other}`)"
                        ),
                    ));
                }
            }
        }
        let keys = match &self.keys {
            Some(k) if !k.is_empty() => k,
            _ => {
                return Err(ConfigError::new(
                    "keys",
                    "is required: a non-empty array of header or query parameter names",
                ))
            }
        };
        for (j, key) in keys.iter().enumerate() {
            if key.is_empty() {
                return Err(ConfigError::new(format!("keys[{j}]"), "must not be empty"));
            }
        }
        self.header_names = keys.iter().map(|k| k.to_ascii_lowercase()).collect();
        if !self.in_query && !self.in_header {
            return Err(ConfigError::new(
                "in_header",
                "at least one of in_query and in_header must be true",
            ));
        }
        check_realm(&self.realm)
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `%XX` (two hex digits) → byte; anything else, `+` and malformed `%` included, is kept as is.
pub fn percent_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' && i + 2 < s.len() {
            if let (Some(h), Some(l)) = (hex(s[i + 1]), hex(s[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// The decoded value of the first query parameter of `path` named `name` (names compared after decoding,
/// case-sensitively). The query is what follows the first `?` up to a `#`; parameters are split on `&`; a
/// parameter without `=` has an empty value.
pub fn query_param(path: &[u8], name: &[u8]) -> Option<Vec<u8>> {
    let start = path.iter().position(|&b| b == b'?')? + 1;
    let query = &path[start..];
    let query = match query.iter().position(|&b| b == b'#') {
        Some(end) => &query[..end],
        None => query,
    };
    for param in query.split(|&b| b == b'&') {
        let (n, v) = match param.iter().position(|&b| b == b'=') {
            Some(eq) => (&param[..eq], &param[eq + 1..]),
            None => (param, &param[param.len()..]),
        };
        if percent_decode(n) == name {
            return Some(percent_decode(v));
        }
    }
    None
}

impl Config {
    /// The credential sent under `keys[index]`: the header's value if non-empty, else the query parameter's
    /// if non-empty (each only when enabled).
    fn credential(
        &self,
        index: usize,
        path: &mut Option<Option<Vec<u8>>>,
    ) -> Result<Option<Vec<u8>>, HostError> {
        if self.in_header {
            if let Some(v) = host::header(MapType::RequestHeaders, &self.header_names[index])? {
                if !v.is_empty() {
                    return Ok(Some(v));
                }
            }
        }
        if self.in_query {
            if path.is_none() {
                *path = Some(host::header(MapType::RequestHeaders, ":path")?);
            }
            if let Some(Some(p)) = path {
                let key = self.keys.as_deref().unwrap_or_default()[index].as_bytes();
                if let Some(v) = query_param(p, key) {
                    if !v.is_empty() {
                        return Ok(Some(v));
                    }
                }
            }
        }
        Ok(None)
    }
}

pub struct KeyAuth;

impl Authenticator for KeyAuth {
    type Config = Config;
    const SCHEME: &'static str = "Key";
    const MISSING_BODY: &'static str = "Request denied by Key Auth check. No API key found";
    const INVALID_BODY: &'static str = "Request denied by Key Auth check. Invalid API key";
    const FORBIDDEN_BODY: &'static str = "Request denied by Key Auth check. Unauthorized consumer";

    fn realm(config: &Config) -> &str {
        &config.realm
    }

    fn identify(config: &Config) -> Result<Identity, HostError> {
        let mut path = None;
        let mut seen = false;
        for index in 0..config.header_names.len() {
            if let Some(value) = config.credential(index, &mut path)? {
                if let Some(name) = config.by_credential.get(&value) {
                    return Ok(Identity::Consumer(name.clone()));
                }
                seen = true;
            }
        }
        Ok(if seen {
            Identity::Invalid
        } else {
            Identity::Missing
        })
    }
}

pwsdk::auth_plugin!(KeyAuth);

#[cfg(test)]
mod tests {
    use super::*;
    use pwsdk::auth::AuthRules;

    fn err(json: &str) -> String {
        AuthRules::<Config>::parse(json.as_bytes())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn config_checks() {
        let ok = AuthRules::<Config>::parse(
            br#"{"consumers": [{"name": "a", "credential": "k1"}, {"name": "b", "credentials": ["k2", "k3"]}],
                 "keys": ["X-API-Key", "apikey"]}"#,
        );
        assert!(ok.is_ok(), "{ok:?}");
        assert!(err(r#"{"keys": ["k"]}"#).starts_with("invalid configuration: consumers: "));
        assert!(err(r#"{"consumers": [{"name": "a", "credential": "k"}]}"#)
            .starts_with("invalid configuration: keys: "));
        assert!(err(r#"{"consumers": [{"name": "a", "credential": "k"}, {"name": "b", "credentials": ["j", "k"]}], "keys": ["x"]}"#)
            .starts_with("invalid configuration: consumers[1].credentials[1]: duplicate"));
        assert!(err(r#"{"consumers": [{"name": "a", "credential": "k", "credentials": ["j"]}], "keys": ["x"]}"#)
            .starts_with("invalid configuration: consumers[0]: "));
        assert!(err(r#"{"consumers": [{"name": "a", "credential": "k"}, {"name": "a", "credential": "j"}], "keys": ["x"]}"#)
            .starts_with("invalid configuration: consumers[1].name: "));
        assert!(err(r#"{"consumers": [{"name": "a", "credential": "k"}], "keys": ["x"], "in_query": false, "in_header": false}"#)
            .starts_with("invalid configuration: in_header: "));
        assert!(err(
            r#"{"consumers": [{"name": "a", "credential": "k"}], "keys": ["x"], "realm": "a\"b"}"#
        )
        .starts_with("invalid configuration: realm: "));
        assert!(err(
            r#"{"consumers": [{"name": "a", "credential": "k", "keys": ["y"]}], "keys": ["x"]}"#
        )
        .starts_with("invalid configuration: consumers[0].keys: "));
    }

    #[test]
    fn query_parsing() {
        assert_eq!(
            query_param(b"/a?x=1&apikey=k%2B1+2", b"apikey").unwrap(),
            b"k+1+2"
        );
        assert_eq!(query_param(b"/a?api%6Bey=v#frag", b"apikey").unwrap(), b"v");
        assert_eq!(
            query_param(b"/a?apikey=v#x&apikey=w", b"apikey").unwrap(),
            b"v"
        );
        assert_eq!(query_param(b"/a?apikey&apikey=w", b"apikey").unwrap(), b"");
        assert_eq!(
            query_param(b"/a?apikey=%zz%4", b"apikey").unwrap(),
            b"%zz%4"
        );
        assert_eq!(query_param(b"/a?APIKEY=v", b"apikey"), None);
        assert_eq!(query_param(b"/apikey=v", b"apikey"), None);
        assert_eq!(percent_decode(b"%41%4a%"), b"AJ%");
    }
}
