//! Configuration parsing (global configuration + `_rules_`) and per-request rule matching, exactly as
//! `wasm-rust/README.md` ("Configuration and rule matching") specifies. Pure logic: no host calls.

use std::fmt;
use std::rc::Rc;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// A plug-in configuration type: serde-deserializable, with an optional semantic check.
pub trait PluginConfig: DeserializeOwned + 'static {
    /// Checks what serde cannot (e.g. "at least one block rule") and may precompute (compile regexes,
    /// lower-case strings). Runs once per configuration object at configure time. Paths in the error are
    /// relative to the object being checked (the SDK prefixes `_rules_[i].` for rules).
    fn validate(&mut self) -> Result<(), ConfigError> {
        Ok(())
    }
}

/// A rejected configuration. `path` names the offending key (`_rules_[2]._match_domain_`,
/// `block_regexp_urls[0]`), empty when the problem is the whole object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: String,
    pub reason: String,
}

impl ConfigError {
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> ConfigError {
        ConfigError {
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// An error about the object as a whole (no field path).
    pub fn whole(reason: impl Into<String>) -> ConfigError {
        ConfigError::new("", reason)
    }

    /// Prefixes the path with `parent` (`block_urls[0]` inside `_rules_[1]` → `_rules_[1].block_urls[0]`).
    pub fn within(mut self, parent: &str) -> ConfigError {
        self.path = join_path(parent, &self.path);
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "invalid configuration: {}", self.reason)
        } else {
            write!(f, "invalid configuration: {}: {}", self.path, self.reason)
        }
    }
}

impl std::error::Error for ConfigError {}

fn join_path(parent: &str, child: &str) -> String {
    match (parent.is_empty(), child.is_empty()) {
        (true, _) => child.to_owned(),
        (false, true) => parent.to_owned(),
        (false, false) if child.starts_with('[') => format!("{parent}{child}"),
        (false, false) => format!("{parent}.{child}"),
    }
}

/// Deserializes `value` as `C` and runs its `validate`, naming the failing field.
pub fn parse_config<C: PluginConfig>(value: Value) -> Result<C, ConfigError> {
    let mut config: C = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        // serde_path_to_error renders the root as "."
        let path = if path == "." { String::new() } else { path };
        ConfigError::new(path, e.into_inner().to_string())
    })?;
    config.validate()?;
    Ok(config)
}

pub const RULES_KEY: &str = "_rules_";
pub const DISABLE_KEY: &str = "_disable_";
const MATCH_KEYS: [&str; 4] = [
    "_match_route_",
    "_match_route_prefix_",
    "_match_domain_",
    "_match_service_",
];

/// How a rule selects requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    /// `route_name` equals one of these.
    Route(Vec<String>),
    /// `route_name` starts with one of these.
    RoutePrefix(Vec<String>),
    /// The host of `:authority` matches one of these.
    Domain(Vec<DomainPattern>),
    /// `cluster_name` names one of these services.
    Service(Vec<Service>),
}

/// A `_match_domain_` entry, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainPattern {
    Any,
    Exact(String),
    Suffix(String),
    Prefix(String),
}

impl DomainPattern {
    pub fn parse(pattern: &str) -> Result<DomainPattern, String> {
        let p = pattern.to_ascii_lowercase();
        if p == "*" {
            return Ok(DomainPattern::Any);
        }
        let stars = p.matches('*').count();
        if stars == 0 {
            return Ok(DomainPattern::Exact(p));
        }
        if stars == 1 {
            if let Some(suffix) = p.strip_prefix('*') {
                return Ok(DomainPattern::Suffix(suffix.to_owned()));
            }
            if let Some(prefix) = p.strip_suffix('*') {
                return Ok(DomainPattern::Prefix(prefix.to_owned()));
            }
        }
        Err("`*` is only allowed once, at the start or the end of a domain pattern".to_owned())
    }

    /// `host` must already be lower-cased and without port (see [`host_of_authority`]).
    pub fn matches(&self, host: &str) -> bool {
        match self {
            DomainPattern::Any => true,
            DomainPattern::Exact(e) => host == e,
            DomainPattern::Suffix(s) => host.ends_with(s.as_str()),
            DomainPattern::Prefix(p) => host.starts_with(p.as_str()),
        }
    }
}

/// A `_match_service_` entry: `fqdn` or `fqdn:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub fqdn: String,
    pub port: Option<String>,
}

impl Service {
    pub fn parse(entry: &str) -> Service {
        if let Some((fqdn, port)) = entry.rsplit_once(':') {
            if (1..=5).contains(&port.len()) && port.bytes().all(|b| b.is_ascii_digit()) {
                return Service {
                    fqdn: fqdn.to_owned(),
                    port: Some(port.to_owned()),
                };
            }
        }
        Service {
            fqdn: entry.to_owned(),
            port: None,
        }
    }

    /// `cluster_name` such as `outbound|8080||svc.default.svc.cluster.local`.
    pub fn matches(&self, cluster_name: &str) -> bool {
        let parts: Vec<&str> = cluster_name.split('|').collect();
        if parts.len() != 4 || parts[3] != self.fqdn {
            return false;
        }
        match &self.port {
            None => true,
            Some(port) => parts[1] == port,
        }
    }
}

/// The host part of an `:authority`, lower-cased: `[v6]:port` → `[v6]`; a single trailing `:digits` is
/// removed; an authority with more than one `:` and no brackets is kept whole.
pub fn host_of_authority(authority: &str) -> String {
    let host = if authority.starts_with('[') {
        match authority.find(']') {
            Some(end) => {
                let rest = &authority[end + 1..];
                let port_ok = rest.is_empty()
                    || rest
                        .strip_prefix(':')
                        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
                if port_ok {
                    &authority[..=end]
                } else {
                    authority
                }
            }
            None => authority,
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
                host
            }
            _ => authority,
        }
    };
    host.to_ascii_lowercase()
}

/// What a rule does when it matches.
#[derive(Debug)]
pub enum RuleAction<C> {
    Config(Rc<C>),
    Disable,
}

#[derive(Debug)]
pub struct Rule<C> {
    pub matcher: Matcher,
    pub action: RuleAction<C>,
}

/// The request facts rules look at; `None` when the header or property is missing.
#[derive(Debug, Default, Clone)]
pub struct MatchInput {
    pub authority: Option<String>,
    pub route_name: Option<String>,
    pub cluster_name: Option<String>,
}

/// Which of the inputs the rules of a [`RuleSet`] need (so the glue reads only those).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    pub authority: bool,
    pub route_name: bool,
    pub cluster_name: bool,
}

/// The outcome of matching one request.
#[derive(Debug)]
pub enum Match<C> {
    /// Rule `index` (0-based in `_rules_`) matched and has a configuration.
    Rule(usize, Rc<C>),
    /// No rule matched; the global configuration applies.
    Global(Rc<C>),
    /// Rule `index` matched and is `_disable_: true`: the plug-in does nothing for this request.
    Disabled(usize),
    /// No rule matched and there is no global configuration.
    None,
}

impl<C> Match<C> {
    /// The configuration that applies, if any.
    pub fn config(&self) -> Option<&Rc<C>> {
        match self {
            Match::Rule(_, c) | Match::Global(c) => Some(c),
            Match::Disabled(_) | Match::None => None,
        }
    }
}

/// A parsed plug-in configuration: the optional global configuration and the rules, in order.
#[derive(Debug)]
pub struct RuleSet<C> {
    pub global: Option<Rc<C>>,
    pub rules: Vec<Rule<C>>,
}

impl<C: PluginConfig> RuleSet<C> {
    /// Parses configuration bytes (empty means `{}`).
    pub fn parse(bytes: &[u8]) -> Result<RuleSet<C>, ConfigError> {
        let value: Value = if bytes.is_empty() {
            Value::Object(Map::new())
        } else {
            serde_json::from_slice(bytes)
                .map_err(|e| ConfigError::whole(format!("not valid JSON: {e}")))?
        };
        RuleSet::from_value(value)
    }

    pub fn from_value(value: Value) -> Result<RuleSet<C>, ConfigError> {
        let Value::Object(mut object) = value else {
            return Err(ConfigError::whole("must be a JSON object"));
        };
        let rules_value = object.remove(RULES_KEY);
        let global = if object.is_empty() && rules_value.is_some() {
            None
        } else {
            Some(Rc::new(parse_config::<C>(Value::Object(object))?))
        };
        let mut rules = Vec::new();
        match rules_value {
            None => {}
            Some(Value::Array(entries)) => {
                for (i, entry) in entries.into_iter().enumerate() {
                    let path = format!("{RULES_KEY}[{i}]");
                    rules.push(parse_rule::<C>(entry).map_err(|e| e.within(&path))?);
                }
            }
            Some(_) => {
                return Err(ConfigError::new(
                    RULES_KEY,
                    "must be an array of rule objects",
                ))
            }
        }
        Ok(RuleSet { global, rules })
    }
}

fn parse_rule<C: PluginConfig>(entry: Value) -> Result<Rule<C>, ConfigError> {
    let Value::Object(mut object) = entry else {
        return Err(ConfigError::whole("must be a JSON object"));
    };
    let present: Vec<&str> = MATCH_KEYS
        .iter()
        .copied()
        .filter(|k| object.contains_key(*k))
        .collect();
    let key = match present.as_slice() {
        [one] => *one,
        [] => {
            return Err(ConfigError::whole(format!(
                "needs exactly one of {}",
                MATCH_KEYS.join(", ")
            )))
        }
        more => {
            return Err(ConfigError::whole(format!(
                "has {} match keys ({}); a rule needs exactly one",
                more.len(),
                more.join(", ")
            )))
        }
    };
    let entries =
        string_list(object.remove(key).unwrap_or(Value::Null)).map_err(|e| e.within(key))?;
    let matcher = match key {
        "_match_route_" => Matcher::Route(entries),
        "_match_route_prefix_" => Matcher::RoutePrefix(entries),
        "_match_domain_" => Matcher::Domain(
            entries
                .iter()
                .enumerate()
                .map(|(j, e)| {
                    DomainPattern::parse(e).map_err(|r| ConfigError::new(format!("{key}[{j}]"), r))
                })
                .collect::<Result<_, _>>()?,
        ),
        _ => Matcher::Service(entries.iter().map(|e| Service::parse(e)).collect()),
    };
    let disable = match object.remove(DISABLE_KEY) {
        None => false,
        Some(Value::Bool(b)) => b,
        Some(_) => return Err(ConfigError::new(DISABLE_KEY, "must be a boolean")),
    };
    let action = if disable {
        RuleAction::Disable
    } else {
        RuleAction::Config(Rc::new(parse_config::<C>(Value::Object(object))?))
    };
    Ok(Rule { matcher, action })
}

fn string_list(value: Value) -> Result<Vec<String>, ConfigError> {
    let Value::Array(items) = value else {
        return Err(ConfigError::whole(
            "must be a non-empty array of non-empty strings",
        ));
    };
    if items.is_empty() {
        return Err(ConfigError::whole(
            "must be a non-empty array of non-empty strings",
        ));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(j, item)| match item {
            Value::String(s) if !s.is_empty() => Ok(s),
            _ => Err(ConfigError::new(
                format!("[{j}]"),
                "must be a non-empty string",
            )),
        })
        .collect()
}

impl<C> RuleSet<C> {
    /// Which inputs matching needs.
    pub fn needs(&self) -> Needs {
        let mut needs = Needs::default();
        for rule in &self.rules {
            match rule.matcher {
                Matcher::Route(_) | Matcher::RoutePrefix(_) => needs.route_name = true,
                Matcher::Domain(_) => needs.authority = true,
                Matcher::Service(_) => needs.cluster_name = true,
            }
        }
        needs
    }

    /// The first matching rule, else the global configuration, else nothing.
    pub fn matching(&self, input: &MatchInput) -> Match<C> {
        let host = input.authority.as_deref().map(host_of_authority);
        for (i, rule) in self.rules.iter().enumerate() {
            let hit = match &rule.matcher {
                Matcher::Route(names) => input
                    .route_name
                    .as_deref()
                    .is_some_and(|r| names.iter().any(|n| n == r)),
                Matcher::RoutePrefix(prefixes) => input
                    .route_name
                    .as_deref()
                    .is_some_and(|r| prefixes.iter().any(|p| r.starts_with(p.as_str()))),
                Matcher::Domain(patterns) => host
                    .as_deref()
                    .is_some_and(|h| patterns.iter().any(|p| p.matches(h))),
                Matcher::Service(services) => input
                    .cluster_name
                    .as_deref()
                    .is_some_and(|c| services.iter().any(|s| s.matches(c))),
            };
            if hit {
                return match &rule.action {
                    RuleAction::Config(c) => Match::Rule(i, Rc::clone(c)),
                    RuleAction::Disable => Match::Disabled(i),
                };
            }
        }
        match &self.global {
            Some(g) => Match::Global(Rc::clone(g)),
            None => Match::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Hello {
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        urls: Vec<String>,
    }

    impl PluginConfig for Hello {
        fn validate(&mut self) -> Result<(), ConfigError> {
            if self.name.as_deref() == Some("forbidden") {
                return Err(ConfigError::new("name", "must not be `forbidden`"));
            }
            for (i, u) in self.urls.iter().enumerate() {
                if u.is_empty() {
                    return Err(ConfigError::new(format!("urls[{i}]"), "must not be empty"));
                }
            }
            Ok(())
        }
    }

    fn parse(s: &str) -> Result<RuleSet<Hello>, ConfigError> {
        RuleSet::parse(s.as_bytes())
    }

    fn err(s: &str) -> String {
        parse(s)
            .expect_err("configuration should be rejected")
            .to_string()
    }

    fn name_for(
        set: &RuleSet<Hello>,
        authority: Option<&str>,
        route: Option<&str>,
        cluster: Option<&str>,
    ) -> String {
        let input = MatchInput {
            authority: authority.map(str::to_owned),
            route_name: route.map(str::to_owned),
            cluster_name: cluster.map(str::to_owned),
        };
        match set.matching(&input) {
            Match::Rule(i, c) => format!("rule{i}:{}", c.name.clone().unwrap_or_default()),
            Match::Global(c) => format!("global:{}", c.name.clone().unwrap_or_default()),
            Match::Disabled(i) => format!("disabled{i}"),
            Match::None => "none".to_owned(),
        }
    }

    const README_EXAMPLE: &str = r#"{
      "name": "World",
      "_rules_": [
        { "_match_route_":        ["route-a", "route-b"], "name": "Route" },
        { "_match_route_prefix_": ["api-"],               "name": "Api" },
        { "_match_domain_":       ["*.example.com", "foo.com", "www.*", "[::1]"], "name": "Domain" },
        { "_match_service_":      ["svc.default.svc.cluster.local:8080", "backend.dns"], "name": "Service" },
        { "_match_domain_":       ["internal.local"], "_disable_": true }
      ]
    }"#;

    #[test]
    fn readme_example_matches_each_kind() {
        let set = parse(README_EXAMPLE).unwrap();
        assert_eq!(set.rules.len(), 5);
        assert_eq!(
            name_for(&set, Some("x.org"), Some("route-b"), None),
            "rule0:Route"
        );
        assert_eq!(
            name_for(&set, Some("x.org"), Some("route-c"), None),
            "global:World"
        );
        assert_eq!(
            name_for(&set, Some("x.org"), Some("api-v1"), None),
            "rule1:Api"
        );
        assert_eq!(
            name_for(&set, Some("x.org"), Some("v1-api"), None),
            "global:World"
        );
        assert_eq!(
            name_for(&set, Some("a.example.com"), None, None),
            "rule2:Domain"
        );
        assert_eq!(
            name_for(&set, Some("example.com"), None, None),
            "global:World"
        );
        assert_eq!(
            name_for(&set, Some("www.test.org"), None, None),
            "rule2:Domain"
        );
        assert_eq!(
            name_for(&set, Some("[::1]:443"), None, None),
            "rule2:Domain"
        );
        assert_eq!(
            name_for(
                &set,
                None,
                None,
                Some("outbound|8080||svc.default.svc.cluster.local")
            ),
            "rule3:Service"
        );
        assert_eq!(
            name_for(
                &set,
                None,
                None,
                Some("outbound|9090||svc.default.svc.cluster.local")
            ),
            "global:World"
        );
        assert_eq!(
            name_for(&set, None, None, Some("outbound|1||backend.dns")),
            "rule3:Service"
        );
        assert_eq!(
            name_for(&set, Some("internal.local:80"), None, None),
            "disabled4"
        );
        assert_eq!(name_for(&set, None, None, None), "global:World");
        assert_eq!(
            set.needs(),
            Needs {
                authority: true,
                route_name: true,
                cluster_name: true
            }
        );
    }

    #[test]
    fn first_match_wins() {
        let set = parse(r#"{"_rules_":[{"_match_domain_":["*"],"name":"A"},{"_match_route_":["r"],"name":"B"}]}"#).unwrap();
        assert_eq!(name_for(&set, Some("x"), Some("r"), None), "rule0:A");
        // a missing :authority never matches, so the route rule gets its turn
        assert_eq!(name_for(&set, None, Some("r"), None), "rule1:B");
    }

    #[test]
    fn authority_host_extraction() {
        assert_eq!(host_of_authority("foo.com:8080"), "foo.com");
        assert_eq!(host_of_authority("FOO.com"), "foo.com");
        assert_eq!(host_of_authority("[::1]:443"), "[::1]");
        assert_eq!(host_of_authority("[::1]"), "[::1]");
        assert_eq!(host_of_authority("[::1]x"), "[::1]x");
        assert_eq!(host_of_authority("[::1"), "[::1");
        assert_eq!(host_of_authority("::1"), "::1");
        assert_eq!(host_of_authority("a:b:80"), "a:b:80");
        assert_eq!(host_of_authority("foo.com:"), "foo.com:");
        assert_eq!(host_of_authority("foo.com:http"), "foo.com:http");
        assert_eq!(host_of_authority(""), "");
    }

    #[test]
    fn domain_patterns() {
        let d = |p: &str, h: &str| {
            DomainPattern::parse(p)
                .unwrap()
                .matches(&host_of_authority(h))
        };
        assert!(d("foo.com", "foo.com:8080"));
        assert!(d("foo.com", "FOO.com"));
        assert!(d("FOO.COM", "foo.com"));
        assert!(d("*.example.com", "a.example.com"));
        assert!(d("*.example.com", "a.b.example.com:1"));
        assert!(!d("*.example.com", "example.com"));
        assert!(d("www.*", "www.test.org"));
        assert!(!d("www.*", "wwx.test.org"));
        assert!(d("[::1]", "[::1]:443"));
        assert!(d("::1", "::1"));
        assert!(d("*", "anything:1"));
        assert!(d("*", ""));
        assert!(!d("foo.com", "foo.com.evil"));
        for bad in ["a*b", "*a*", "**", "a**", "*.*.com"] {
            assert!(DomainPattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn service_entries() {
        let s = Service::parse("svc.default.svc.cluster.local:8080");
        assert_eq!(s.port.as_deref(), Some("8080"));
        assert!(s.matches("outbound|8080||svc.default.svc.cluster.local"));
        assert!(!s.matches("outbound|9090||svc.default.svc.cluster.local"));
        let s = Service::parse("svc.default.svc.cluster.local");
        assert!(s.matches("outbound|8080||svc.default.svc.cluster.local"));
        assert!(s.matches("outbound|1|v1|svc.default.svc.cluster.local"));
        assert!(!Service::parse("svc.default").matches("svc.default"));
        assert!(!s.matches("outbound|8080||svc.default.svc.cluster.local|x"));
        // a port of 6 digits or letters is part of the fqdn
        assert_eq!(
            Service::parse("a:123456"),
            Service {
                fqdn: "a:123456".into(),
                port: None
            }
        );
        assert_eq!(
            Service::parse("a:http"),
            Service {
                fqdn: "a:http".into(),
                port: None
            }
        );
        assert_eq!(
            Service::parse("a:"),
            Service {
                fqdn: "a:".into(),
                port: None
            }
        );
        assert!(Service::parse("a:http").matches("outbound|1||a:http"));
    }

    #[test]
    fn empty_and_trivial_configurations() {
        for text in ["", "{}"] {
            let set = parse(text).unwrap();
            assert_eq!(
                set.global.as_deref(),
                Some(&Hello {
                    name: None,
                    urls: vec![]
                }),
                "{text:?}"
            );
            assert!(set.rules.is_empty());
        }
        assert_eq!(
            err("not json"),
            "invalid configuration: not valid JSON: expected ident at line 1 column 2"
        );
        assert_eq!(err("[1]"), "invalid configuration: must be a JSON object");
        assert_eq!(err("\"x\""), "invalid configuration: must be a JSON object");
        assert_eq!(err("null"), "invalid configuration: must be a JSON object");
        assert!(err("{").starts_with("invalid configuration: not valid JSON: "));
        assert!(err(" ").starts_with("invalid configuration: not valid JSON: "));
    }

    #[test]
    fn global_only_and_rules_only() {
        let set = parse(r#"{"name":"G"}"#).unwrap();
        assert_eq!(name_for(&set, Some("a"), Some("r"), Some("c")), "global:G");
        let set = parse(r#"{"_rules_":[{"_match_route_":["r"],"name":"R"}]}"#).unwrap();
        assert!(set.global.is_none());
        assert_eq!(name_for(&set, Some("a"), Some("r"), None), "rule0:R");
        assert_eq!(name_for(&set, Some("a"), Some("x"), None), "none");
        // an empty rule list with no global keys: no global configuration either
        let set = parse(r#"{"_rules_":[]}"#).unwrap();
        assert!(set.global.is_none() && set.rules.is_empty());
        // a rule with no config keys parses {}
        let set = parse(r#"{"_rules_":[{"_match_route_":["r"]}]}"#).unwrap();
        assert_eq!(name_for(&set, None, Some("r"), None), "rule0:");
    }

    #[test]
    fn global_errors_are_fatal_and_name_the_field() {
        assert_eq!(
            err(r#"{"name": 3}"#),
            "invalid configuration: name: invalid type: integer `3`, expected a string"
        );
        assert_eq!(
            err(r#"{"urls": ["a", 1]}"#),
            "invalid configuration: urls[1]: invalid type: integer `1`, expected a string"
        );
        {
            let e = err(r#"{"nme": "x"}"#);
            assert_eq!(
                e,
                "invalid configuration: nme: unknown field `nme`, expected `name` or `urls`"
            );
        }
        assert_eq!(
            err(r#"{"name": "forbidden"}"#),
            "invalid configuration: name: must not be `forbidden`"
        );
        assert_eq!(
            err(r#"{"urls": ["a", ""]}"#),
            "invalid configuration: urls[1]: must not be empty"
        );
        // a broken global is not silently dropped even when rules are fine
        assert!(err(r#"{"name": 1, "_rules_": [{"_match_route_":["r"]}]}"#)
            .contains("name: invalid type"));
    }

    #[test]
    fn rules_errors_name_the_field() {
        assert_eq!(
            err(r#"{"_rules_": {}}"#),
            "invalid configuration: _rules_: must be an array of rule objects"
        );
        assert_eq!(
            err(r#"{"_rules_": "x"}"#),
            "invalid configuration: _rules_: must be an array of rule objects"
        );
        assert_eq!(
            err(r#"{"_rules_": [1]}"#),
            "invalid configuration: _rules_[0]: must be a JSON object"
        );
        assert_eq!(
            err(r#"{"_rules_": [{"_match_route_":["r"]}, {"name":"x"}]}"#),
            "invalid configuration: _rules_[1]: needs exactly one of _match_route_, _match_route_prefix_, _match_domain_, _match_service_"
        );
        assert_eq!(
            err(r#"{"_rules_": [{"_match_route_":["r"], "_match_domain_":["d"]}]}"#),
            "invalid configuration: _rules_[0]: has 2 match keys (_match_route_, _match_domain_); a rule needs exactly one"
        );
        assert_eq!(
            err(r#"{"_rules_": [{"_match_domain_":[]}]}"#),
            "invalid configuration: _rules_[0]._match_domain_: must be a non-empty array of non-empty strings"
        );
        assert_eq!(
            err(r#"{"_rules_": [{"_match_route_":"r"}]}"#),
            "invalid configuration: _rules_[0]._match_route_: must be a non-empty array of non-empty strings"
        );
        assert_eq!(
            err(r#"{"_rules_": [{"_match_service_":["a", ""]}]}"#),
            "invalid configuration: _rules_[0]._match_service_[1]: must be a non-empty string"
        );
        assert_eq!(
            err(r#"{"_rules_": [{"_match_route_prefix_":[7]}]}"#),
            "invalid configuration: _rules_[0]._match_route_prefix_[0]: must be a non-empty string"
        );
        assert_eq!(
            err(r#"{"_rules_": [{"_match_route_":["r"]}, {"_match_route_":["r"]}, {"_match_domain_":["a*b"]}]}"#),
            "invalid configuration: _rules_[2]._match_domain_[0]: `*` is only allowed once, at the start or the end of a domain pattern"
        );
        assert_eq!(
            err(r#"{"_rules_": [{"_match_route_":["r"], "_disable_": "yes"}]}"#),
            "invalid configuration: _rules_[0]._disable_: must be a boolean"
        );
        assert_eq!(
            err(r#"{"_rules_": [{"_match_route_":["r"], "name": 5}]}"#),
            "invalid configuration: _rules_[0].name: invalid type: integer `5`, expected a string"
        );
        assert_eq!(
            err(
                r#"{"_rules_": [{"_match_route_":["r"]}, {"_match_route_":["s"], "urls": ["ok", ""]}]}"#
            ),
            "invalid configuration: _rules_[1].urls[1]: must not be empty"
        );
        assert!(err(r#"{"_rules_": [{"_match_route_":["r"], "nam": "x"}]}"#)
            .starts_with("invalid configuration: _rules_[0].nam: unknown field `nam`"));
    }

    #[test]
    fn disable_rules() {
        // a disabled rule's other keys are not parsed at all
        let set =
            parse(r#"{"name":"G","_rules_":[{"_match_route_":["r"],"_disable_":true,"name":5}]}"#)
                .unwrap();
        assert_eq!(name_for(&set, None, Some("r"), None), "disabled0");
        assert_eq!(name_for(&set, None, Some("s"), None), "global:G");
        // `_disable_: false` is an ordinary rule
        let set =
            parse(r#"{"_rules_":[{"_match_route_":["r"],"_disable_":false,"name":"R"}]}"#).unwrap();
        assert_eq!(name_for(&set, None, Some("r"), None), "rule0:R");
    }

    #[test]
    fn route_and_service_are_exact() {
        let set =
            parse(r#"{"_rules_":[{"_match_route_":["Route"]},{"_match_service_":["Svc.dns"]}]}"#)
                .unwrap();
        assert_eq!(name_for(&set, None, Some("route"), None), "none");
        assert_eq!(name_for(&set, None, Some("Route"), None), "rule0:");
        assert_eq!(
            name_for(&set, None, None, Some("outbound|1||svc.dns")),
            "none"
        );
        assert_eq!(
            name_for(&set, None, None, Some("outbound|1||Svc.dns")),
            "rule1:"
        );
        assert_eq!(
            set.needs(),
            Needs {
                authority: false,
                route_name: true,
                cluster_name: true
            }
        );
    }
}
