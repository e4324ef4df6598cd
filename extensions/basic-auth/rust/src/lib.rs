//! basic-auth: authenticates requests by HTTP Basic credentials (RFC 7617) against configured consumers;
//! names the consumer for the upstream in `x-mse-consumer`; per-rule `allow` lists restrict which consumers
//! may pass.

pub mod hash;

use std::collections::HashMap;

use hash::Password;
use pwsdk::auth::{base64_decode, check_realm, Authenticator, Identity};
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
    pub encrypted: bool,
    #[serde(default = "default_realm")]
    pub realm: String,
    /// user name → (consumer name, password)
    #[serde(skip)]
    users: HashMap<Vec<u8>, (String, Password)>,
}

/// Splits a configured credential into user and password: `user:password` (at the first `:`), or, without
/// a `:` and only when not `encrypted`, the base64 of `user:password`.
fn split_credential(credential: &str, encrypted: bool) -> Result<(Vec<u8>, Vec<u8>), String> {
    let bytes = match credential.split_once(':') {
        Some(_) => credential.as_bytes().to_vec(),
        None if encrypted => return Err("must be `user:hash`".to_owned()),
        None => match base64_decode(credential.as_bytes()) {
            Some(d) if d.contains(&b':') => d,
            _ => return Err("must be `user:password` or its base64".to_owned()),
        },
    };
    let colon = bytes.iter().position(|&b| b == b':').unwrap_or(bytes.len());
    let user = bytes[..colon].to_vec();
    let password = bytes.get(colon + 1..).unwrap_or_default().to_vec();
    if user.is_empty() {
        return Err("the user name must not be empty".to_owned());
    }
    Ok((user, password))
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
        let mut names: HashMap<&str, ()> = HashMap::new();
        for (i, consumer) in consumers.iter().enumerate() {
            let path = format!("consumers[{i}]");
            if consumer.name.is_empty() {
                return Err(ConfigError::new(
                    format!("{path}.name"),
                    "is required and must not be empty",
                ));
            }
            if names.insert(&consumer.name, ()).is_some() {
                return Err(ConfigError::new(
                    format!("{path}.name"),
                    format!("duplicate consumer name `{}`", consumer.name),
                ));
            }
            let cpath = format!("{path}.credential");
            let credential = consumer
                .credential
                .as_deref()
                .ok_or_else(|| ConfigError::new(&cpath, "is required: `user:password`"))?;
            let (user, password) = split_credential(credential, self.encrypted)
                .map_err(|r| ConfigError::new(&cpath, r))?;
            let password = if self.encrypted {
                let text = String::from_utf8(password)
                    .map_err(|_| ConfigError::new(&cpath, "is not UTF-8"))?;
                Password::parse_hashed(&text).map_err(|r| ConfigError::new(&cpath, r))?
            } else {
                Password::Plain(password)
            };
            if let Some((other, _)) = self.users.get(&user) {
                return Err(ConfigError::new(
                    cpath,
                    format!("duplicate user (already the user of consumer `{other}`)"),
                ));
            }
            self.users.insert(user, (consumer.name.clone(), password));
        }
        check_realm(&self.realm)
    }
}

/// The token68 of a `Basic` authorization value: the scheme (ASCII case-insensitive), one or more spaces,
/// then the token up to trailing spaces or tabs. `None` when the value is not of the Basic scheme.
pub fn basic_token(value: &[u8]) -> Option<&[u8]> {
    if value.len() < 6 || !value[..5].eq_ignore_ascii_case(b"basic") || value[5] != b' ' {
        return None;
    }
    let rest = &value[5..];
    let start = rest.iter().position(|&b| b != b' ').unwrap_or(rest.len());
    let rest = &rest[start..];
    let end = rest
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(0, |p| p + 1);
    Some(&rest[..end])
}

impl Config {
    /// Checks an `authorization` header value.
    pub fn identify_value(&self, value: Option<&[u8]>) -> Identity {
        let Some(token) = value.and_then(basic_token) else {
            return Identity::Missing;
        };
        let Some(decoded) = base64_decode(token) else {
            return Identity::Invalid;
        };
        let Some(colon) = decoded.iter().position(|&b| b == b':') else {
            return Identity::Invalid;
        };
        match self.users.get(&decoded[..colon]) {
            Some((name, password)) if password.verify(&decoded[colon + 1..]) => {
                Identity::Consumer(name.clone())
            }
            _ => Identity::Invalid,
        }
    }
}

pub struct BasicAuth;

impl Authenticator for BasicAuth {
    type Config = Config;
    const SCHEME: &'static str = "Basic";
    const MISSING_BODY: &'static str =
        "Request denied by Basic Auth check. No Basic Authentication information found";
    const INVALID_BODY: &'static str =
        "Request denied by Basic Auth check. Invalid username and/or password";
    const FORBIDDEN_BODY: &'static str =
        "Request denied by Basic Auth check. Unauthorized consumer";

    fn realm(config: &Config) -> &str {
        &config.realm
    }

    fn identify(config: &Config) -> Result<Identity, HostError> {
        let value = host::header(MapType::RequestHeaders, "authorization")?;
        Ok(config.identify_value(value.as_deref()))
    }
}

pwsdk::auth_plugin!(BasicAuth);

#[cfg(test)]
mod tests;
