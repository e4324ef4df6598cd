//! Consumer authentication rules, the layer key-auth and basic-auth share (twin of the C++ SDK's
//! `pwsdk/auth.h`).
//!
//! Higress's "auth rule" configuration variant: the global configuration holds the consumers; each `_rules_`
//! entry may carry `allow` (consumer names) and/or its own configuration; the top-level `global_auth` says
//! whether requests that match no rule are authenticated. The semantics are written out in
//! `extensions/key-auth/README.md` ("Rules, allow lists and global_auth").
//!
//! Auth plug-ins register with [`crate::auth_plugin!`] (not [`crate::plugin!`]): deciding needs the whole rule
//! set (the global consumers for an allow-only rule, whether a rule matched), which the per-request
//! configuration of [`crate::HttpPlugin`] does not give.

use std::rc::Rc;

use crate::glue::{configuration, match_input};
use crate::host::{self, HostError, MapType};
use crate::rules::{parse_config, ConfigError, Match, MatchInput, Needs, RuleAction, RuleSet};
use crate::PluginConfig;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// The header naming the authenticated consumer for the upstream (set, replacing any value the client sent).
pub const CONSUMER_HEADER: &str = "x-mse-consumer";

/// One configuration object (global or rule) of an auth plug-in: `allow`, `global_auth` and, when any other
/// key is present, the plug-in's own configuration `C`.
#[derive(Debug)]
pub struct Entry<C> {
    raw: Map<String, Value>,
    pub allow: Option<Rc<Vec<String>>>,
    pub global_auth: Option<bool>,
    pub config: Option<Rc<C>>,
}

impl<'de, C> Deserialize<'de> for Entry<C> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Entry {
            raw: Map::deserialize(d)?,
            allow: None,
            global_auth: None,
            config: None,
        })
    }
}

fn allow_list(value: Value) -> Result<Vec<String>, ConfigError> {
    let Value::Array(items) = value else {
        return Err(ConfigError::new(
            "allow",
            "must be a non-empty array of consumer names",
        ));
    };
    if items.is_empty() {
        return Err(ConfigError::new(
            "allow",
            "must not be empty (use `_disable_: true` or omit the rule instead)",
        ));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(j, item)| match item {
            Value::String(s) if !s.is_empty() => Ok(s),
            _ => Err(ConfigError::new(
                format!("allow[{j}]"),
                "must be a non-empty consumer name",
            )),
        })
        .collect()
}

impl<C: PluginConfig> PluginConfig for Entry<C> {
    fn validate(&mut self) -> Result<(), ConfigError> {
        let mut raw = std::mem::take(&mut self.raw);
        if let Some(v) = raw.remove("allow") {
            self.allow = Some(Rc::new(allow_list(v)?));
        }
        match raw.remove("global_auth") {
            None => {}
            Some(Value::Bool(b)) => self.global_auth = Some(b),
            Some(_) => return Err(ConfigError::new("global_auth", "must be a boolean")),
        }
        if !raw.is_empty() {
            self.config = Some(Rc::new(parse_config::<C>(Value::Object(raw))?));
        }
        Ok(())
    }
}

/// What to do with one request.
#[derive(Debug)]
pub enum Decision<C> {
    /// No authentication: the request passes untouched.
    Skip,
    /// Authenticate with `config`; when `allow` is set, only these consumers pass (others get 403).
    Check {
        config: Rc<C>,
        allow: Option<Rc<Vec<String>>>,
    },
}

/// A parsed auth configuration.
#[derive(Debug)]
pub struct AuthRules<C> {
    set: RuleSet<Entry<C>>,
    global_config: Option<Rc<C>>,
    /// `global_auth` as configured, or its default: true without rules, false with rules.
    global_auth: bool,
}

impl<C: PluginConfig> AuthRules<C> {
    pub fn parse(bytes: &[u8]) -> Result<AuthRules<C>, ConfigError> {
        let set = RuleSet::<Entry<C>>::parse(bytes)?;
        let global = set.global.as_deref();
        if global.is_some_and(|g| g.allow.is_some()) {
            return Err(ConfigError::new(
                "allow",
                "is allowed only inside _rules_ entries",
            ));
        }
        let global_config = global.and_then(|g| g.config.clone());
        let mut any_config = global_config.is_some();
        for (i, rule) in set.rules.iter().enumerate() {
            let RuleAction::Config(entry) = &rule.action else {
                continue;
            };
            let path = format!("_rules_[{i}]");
            if entry.global_auth.is_some() {
                return Err(ConfigError::new(
                    format!("{path}.global_auth"),
                    "is allowed only at the top level",
                ));
            }
            if entry.allow.is_none() && entry.config.is_none() {
                return Err(ConfigError::new(
                    path,
                    "needs `allow` or its own consumers configuration (or `_disable_: true`)",
                ));
            }
            any_config |= entry.config.is_some();
        }
        if !any_config {
            return Err(ConfigError::whole(
                "no consumers: configure consumers at the top level or in a rule",
            ));
        }
        for (i, rule) in set.rules.iter().enumerate() {
            if let RuleAction::Config(entry) = &rule.action {
                if entry.config.is_none() && global_config.is_none() {
                    return Err(ConfigError::new(
                        format!("_rules_[{i}].allow"),
                        "an allow-only rule needs consumers in the top-level configuration",
                    ));
                }
            }
        }
        let configured = global.and_then(|g| g.global_auth);
        if configured == Some(true) && global_config.is_none() {
            return Err(ConfigError::new(
                "global_auth",
                "`true` needs consumers in the top-level configuration",
            ));
        }
        let global_auth = configured.unwrap_or(set.rules.is_empty());
        Ok(AuthRules {
            set,
            global_config,
            global_auth,
        })
    }
}

impl<C> AuthRules<C> {
    pub fn needs(&self) -> Needs {
        self.set.needs()
    }

    /// The first matching rule decides; without one, the global configuration applies when `global_auth`.
    pub fn decide(&self, input: &MatchInput) -> Decision<C> {
        match self.set.matching(input) {
            Match::Disabled(_) => Decision::Skip,
            Match::Rule(_, entry) => {
                match entry.config.clone().or_else(|| self.global_config.clone()) {
                    Some(config) => Decision::Check {
                        config,
                        allow: entry.allow.clone(),
                    },
                    None => Decision::Skip, // unreachable: parse() rejects allow-only rules without a global
                }
            }
            Match::Global(_) | Match::None => match (&self.global_config, self.global_auth) {
                (Some(config), true) => Decision::Check {
                    config: Rc::clone(config),
                    allow: None,
                },
                _ => Decision::Skip,
            },
        }
    }
}

/// The outcome of looking for and checking a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// No credential in the request.
    Missing,
    /// A credential that matches no consumer.
    Invalid,
    /// The consumer's name.
    Consumer(String),
}

/// An auth plug-in: its configuration and how it identifies the consumer of a request.
pub trait Authenticator: 'static {
    type Config: PluginConfig;
    /// `WWW-Authenticate` scheme, e.g. `Basic`.
    const SCHEME: &'static str;
    const MISSING_BODY: &'static str;
    const INVALID_BODY: &'static str;
    const FORBIDDEN_BODY: &'static str;

    fn realm(config: &Self::Config) -> &str;
    fn identify(config: &Self::Config) -> Result<Identity, HostError>;
}

/// Checks a realm for use inside `realm="..."`: printable ASCII without `"` and `\`, 1 to 256 bytes.
pub fn check_realm(realm: &str) -> Result<(), ConfigError> {
    if realm.is_empty() || realm.len() > 256 {
        return Err(ConfigError::new(
            "realm",
            "must be 1 to 256 characters long",
        ));
    }
    if !realm
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        return Err(ConfigError::new(
            "realm",
            "must be printable ASCII without `\"` and `\\`",
        ));
    }
    Ok(())
}

pub const TEXT_PLAIN: &str = "text/plain; charset=utf-8";

/// Runs the check for one request; `Ok(true)` lets it continue.
fn check<A: Authenticator>(rules: &AuthRules<A::Config>) -> Result<bool, HostError> {
    let input = match_input(rules.needs())?;
    let Decision::Check { config, allow } = rules.decide(&input) else {
        return Ok(true);
    };
    let unauthorized = |body: &str| -> Result<bool, HostError> {
        let challenge = format!("{} realm=\"{}\"", A::SCHEME, A::realm(&config));
        host::send_local_response(
            401,
            &[
                ("www-authenticate", &challenge),
                ("content-type", TEXT_PLAIN),
            ],
            body.as_bytes(),
        )?;
        Ok(false)
    };
    match A::identify(&config)? {
        Identity::Missing => unauthorized(A::MISSING_BODY),
        Identity::Invalid => unauthorized(A::INVALID_BODY),
        Identity::Consumer(name) => {
            if allow.is_some_and(|a| !a.contains(&name)) {
                host::send_local_response(
                    403,
                    &[("content-type", TEXT_PLAIN)],
                    A::FORBIDDEN_BODY.as_bytes(),
                )?;
                return Ok(false);
            }
            host::replace_header(MapType::RequestHeaders, CONSUMER_HEADER, name.as_bytes())?;
            Ok(true)
        }
    }
}

struct Root<A: Authenticator> {
    rules: Option<Rc<AuthRules<A::Config>>>,
}

impl<A: Authenticator> Context for Root<A> {}

impl<A: Authenticator> RootContext for Root<A> {
    fn on_configure(&mut self, size: usize) -> bool {
        self.rules = None;
        let bytes = match configuration(size) {
            Ok(b) => b,
            Err(e) => {
                crate::error!("invalid configuration: cannot read it: {e}");
                return false;
            }
        };
        match AuthRules::<A::Config>::parse(&bytes) {
            Ok(rules) => {
                self.rules = Some(Rc::new(rules));
                true
            }
            Err(e) => {
                crate::error!("{e}");
                false
            }
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Stream::<A> {
            rules: self.rules.clone(),
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Stream<A: Authenticator> {
    rules: Option<Rc<AuthRules<A::Config>>>,
}

impl<A: Authenticator> Context for Stream<A> {}

impl<A: Authenticator> HttpContext for Stream<A> {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let Some(rules) = &self.rules else {
            return Action::Continue;
        };
        match check::<A>(rules) {
            Ok(true) => Action::Continue,
            Ok(false) => Action::Pause,
            Err(e) => {
                // fail closed: an auth check that could not run must not let the request through
                crate::error!("on_request_headers failed: {e}");
                let _ = host::send_local_response(500, &[], b"");
                Action::Pause
            }
        }
    }
}

/// Registers auth plug-in `A` under `name` (the log prefix); [`crate::auth_plugin!`] calls it.
pub fn register<A: Authenticator>(name: &'static str) {
    crate::log::set_plugin_name(name);
    std::panic::set_hook(Box::new(|info| {
        crate::log::log(
            crate::log::LogLevel::Critical,
            format_args!("panicked: {info}"),
        );
    }));
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> {
        Box::new(Root::<A> { rules: None })
    });
}

/// `pwsdk::auth_plugin!(MyAuth);` exports the proxy-wasm entry points for [`Authenticator`] `MyAuth`, named
/// after the crate.
#[macro_export]
macro_rules! auth_plugin {
    ($auth:ty) => {
        $crate::proxy_wasm::main! {{
            $crate::auth::register::<$auth>(env!("CARGO_PKG_NAME"));
        }}
    };
}

/// Standard base64 (RFC 4648 alphabet `A-Z a-z 0-9 + /`), padding optional; `None` on any other byte,
/// misplaced `=`, or a length that cannot be base64 (n mod 4 = 1). Non-zero trailing bits are accepted.
pub fn base64_decode(input: &[u8]) -> Option<Vec<u8>> {
    let data = match input.iter().position(|&b| b == b'=') {
        Some(p) => {
            let pad = &input[p..];
            if pad.len() > 2 || pad.iter().any(|&b| b != b'=') || !input.len().is_multiple_of(4) {
                return None;
            }
            &input[..p]
        }
        None => input,
    };
    if data.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &b in data {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Byte comparison whose time does not depend on where the inputs differ (only on their lengths).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Users {
        users: Vec<String>,
    }
    impl PluginConfig for Users {}

    fn rules(json: &str) -> Result<AuthRules<Users>, String> {
        AuthRules::parse(json.as_bytes()).map_err(|e| e.to_string())
    }

    fn decide(r: &AuthRules<Users>, route: &str) -> String {
        let input = MatchInput {
            route_name: Some(route.to_owned()),
            ..MatchInput::default()
        };
        match r.decide(&input) {
            Decision::Skip => "skip".to_owned(),
            Decision::Check { config, allow } => format!(
                "{}/{}",
                config.users.join(","),
                allow.map(|a| a.join(",")).unwrap_or_else(|| "*".to_owned())
            ),
        }
    }

    #[test]
    fn global_auth_defaults_and_allow() {
        let r = rules(r#"{"users": ["a", "b"]}"#).unwrap();
        assert_eq!(decide(&r, "x"), "a,b/*");
        let r = rules(r#"{"users": ["a"], "_rules_": [{"_match_route_": ["r"], "allow": ["a"]}]}"#)
            .unwrap();
        assert_eq!(decide(&r, "r"), "a/a");
        assert_eq!(decide(&r, "x"), "skip");
        let r = rules(r#"{"users": ["a"], "global_auth": true, "_rules_": [{"_match_route_": ["r"], "allow": ["a"]}]}"#)
            .unwrap();
        assert_eq!(decide(&r, "x"), "a/*");
        let r = rules(r#"{"users": ["a"], "global_auth": false}"#).unwrap();
        assert_eq!(decide(&r, "x"), "skip");
        let r = rules(
            r#"{"users": ["a"], "_rules_": [{"_match_route_": ["r"], "users": ["b"], "allow": ["c"]},
                {"_match_route_": ["d"], "_disable_": true}]}"#,
        )
        .unwrap();
        assert_eq!(decide(&r, "r"), "b/c");
        assert_eq!(decide(&r, "d"), "skip");
    }

    #[test]
    fn rejections() {
        let e = |j: &str| rules(j).unwrap_err();
        assert!(e("{}").starts_with("invalid configuration: no consumers"));
        assert!(
            e(r#"{"users": ["a"], "allow": ["a"]}"#).starts_with("invalid configuration: allow: ")
        );
        assert!(e(r#"{"users": ["a"], "global_auth": 1}"#)
            .starts_with("invalid configuration: global_auth: "));
        assert!(
            e(r#"{"users": ["a"], "_rules_": [{"_match_route_": ["r"], "allow": []}]}"#)
                .starts_with("invalid configuration: _rules_[0].allow: ")
        );
        assert!(e(
            r#"{"users": ["a"], "_rules_": [{"_match_route_": ["r"], "allow": ["a", ""]}]}"#
        )
        .starts_with("invalid configuration: _rules_[0].allow[1]: "));
        assert!(e(
            r#"{"users": ["a"], "_rules_": [{"_match_route_": ["r"], "global_auth": true}]}"#
        )
        .starts_with("invalid configuration: _rules_[0].global_auth: "));
        assert!(
            e(r#"{"users": ["a"], "_rules_": [{"_match_route_": ["r"]}]}"#)
                .starts_with("invalid configuration: _rules_[0]: ")
        );
        assert!(e(r#"{"_rules_": [{"_match_route_": ["r"], "allow": ["a"]}, {"_match_route_": ["s"], "users": []}]}"#)
            .starts_with("invalid configuration: _rules_[0].allow: "));
        assert!(
            e(r#"{"global_auth": true, "_rules_": [{"_match_route_": ["s"], "users": []}]}"#)
                .starts_with("invalid configuration: global_auth: ")
        );
        assert!(
            e(r#"{"users": ["a"], "_rules_": [{"_match_route_": ["r"], "user": []}]}"#)
                .starts_with("invalid configuration: _rules_[0].user: ")
        );
    }

    #[test]
    fn base64() {
        assert_eq!(base64_decode(b"YWxpY2U6cHc=").unwrap(), b"alice:pw");
        assert_eq!(base64_decode(b"YWxpY2U6cHc").unwrap(), b"alice:pw");
        assert_eq!(base64_decode(b"").unwrap(), b"");
        assert!(base64_decode(b"YWxpY2U6cHc==").is_none());
        assert!(base64_decode(b"YW=xp").is_none());
        assert!(base64_decode(b"Y").is_none());
        assert!(base64_decode(b"YW-x").is_none());
        assert!(
            constant_time_eq(b"ab", b"ab")
                && !constant_time_eq(b"ab", b"ac")
                && !constant_time_eq(b"a", b"ab")
        );
    }
}
