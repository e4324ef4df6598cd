//! The configuration (Higress's ai-data-masking keys) and its checks.

use pwsdk::{ConfigError, PluginConfig};
use serde::Deserialize;

use crate::jsonpath::JsonPath;
use crate::mask::{DenyWords, Replacement, Role};
use crate::pattern::Pattern;

/// Higress's default deny message ("the question or answer contains sensitive words and was blocked").
pub const DEFAULT_DENY_MESSAGE: &str = "提问或回答中包含敏感词，已被屏蔽";

/// `system_deny: true` adds these words: markers of private keys, which must never reach a model.
pub const SYSTEM_DENY_WORDS: &[&str] = &[
    "-----BEGIN PRIVATE KEY-----",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----BEGIN EC PRIVATE KEY-----",
    "-----BEGIN DSA PRIVATE KEY-----",
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    "-----BEGIN ENCRYPTED PRIVATE KEY-----",
    "-----BEGIN PGP PRIVATE KEY BLOCK-----",
];

fn default_true() -> bool {
    true
}
fn default_deny_code() -> u32 {
    200
}
fn default_deny_message() -> String {
    DEFAULT_DENY_MESSAGE.to_owned()
}
fn default_deny_raw_message() -> String {
    format!("{{\"errmsg\":\"{DEFAULT_DENY_MESSAGE}\"}}")
}
fn default_deny_content_type() -> String {
    "application/json".to_owned()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoleType {
    Replace,
    Hash,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {
    pub regex: String,
    #[serde(rename = "type", default = "default_role_type")]
    pub kind: RoleType,
    #[serde(default)]
    pub restore: bool,
    #[serde(default)]
    pub value: Option<String>,
}

fn default_role_type() -> RoleType {
    RoleType::Replace
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default = "default_true")]
    pub deny_openai: bool,
    #[serde(default)]
    pub deny_raw: bool,
    #[serde(default)]
    pub deny_jsonpath: Vec<String>,
    #[serde(default)]
    pub system_deny: bool,
    #[serde(default = "default_deny_code")]
    pub deny_code: u32,
    #[serde(default = "default_deny_message")]
    pub deny_message: String,
    #[serde(default = "default_deny_raw_message")]
    pub deny_raw_message: String,
    #[serde(default = "default_deny_content_type")]
    pub deny_content_type: String,
    #[serde(default)]
    pub deny_words: Vec<String>,
    #[serde(default)]
    pub replace_roles: Vec<RoleSpec>,

    #[serde(skip)]
    pub paths: Vec<JsonPath>,
    #[serde(skip)]
    pub words: DenyWords,
    #[serde(skip)]
    pub roles: Vec<Role>,
}

impl PluginConfig for Config {
    fn validate(&mut self) -> Result<(), ConfigError> {
        if !(100..=599).contains(&self.deny_code) {
            return Err(ConfigError::new(
                "deny_code",
                "must be an HTTP status between 100 and 599",
            ));
        }
        if self.deny_content_type.trim().is_empty() {
            return Err(ConfigError::new("deny_content_type", "must not be empty"));
        }
        for (i, w) in self.deny_words.iter().enumerate() {
            if w.is_empty() {
                return Err(ConfigError::new(
                    format!("deny_words[{i}]"),
                    "must not be empty",
                ));
            }
        }
        self.paths = self
            .deny_jsonpath
            .iter()
            .enumerate()
            .map(|(i, p)| {
                JsonPath::parse(p).map_err(|e| ConfigError::new(format!("deny_jsonpath[{i}]"), e))
            })
            .collect::<Result<_, _>>()?;
        let mut words = self.deny_words.clone();
        if self.system_deny {
            words.extend(SYSTEM_DENY_WORDS.iter().map(|w| (*w).to_owned()));
        }
        self.words = DenyWords::new(words);
        self.roles = self
            .replace_roles
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let at = |field: &str| format!("replace_roles[{i}].{field}");
                let pattern =
                    Pattern::new(&spec.regex).map_err(|e| ConfigError::new(at("regex"), e))?;
                let replacement = match spec.kind {
                    RoleType::Hash => Replacement::Hash,
                    RoleType::Replace => {
                        Replacement::Value(spec.value.clone().ok_or_else(|| {
                            ConfigError::new(at("value"), "required with type replace")
                        })?)
                    }
                };
                if spec.restore && matches!(&replacement, Replacement::Value(v) if v.is_empty()) {
                    return Err(ConfigError::new(
                        at("value"),
                        "an empty value cannot be restored: set a value or restore false",
                    ));
                }
                Ok(Role {
                    pattern,
                    replacement,
                    restore: spec.restore,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(())
    }
}

impl Config {
    /// Whether request bodies need to be looked at.
    pub fn inspects_requests(&self) -> bool {
        !self.words.is_empty() || !self.roles.is_empty()
    }

    /// Whether responses may need work: restoring, or deny words on OpenAI answers.
    pub fn may_touch_responses(&self) -> bool {
        self.roles.iter().any(|r| r.restore) || (self.deny_openai && !self.words.is_empty())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use pwsdk::rules::RuleSet;

    pub(crate) fn parse(json: &str) -> Result<Config, String> {
        let set = RuleSet::<Config>::parse(json.as_bytes()).map_err(|e| e.to_string())?;
        let global = set.global.ok_or("no global")?;
        std::rc::Rc::try_unwrap(global).map_err(|_| "shared".to_owned())
    }

    #[test]
    fn defaults() {
        let c = parse("{}").unwrap();
        assert!(c.deny_openai && !c.deny_raw && !c.system_deny);
        assert_eq!(c.deny_code, 200);
        assert_eq!(c.deny_message, DEFAULT_DENY_MESSAGE);
        assert_eq!(
            c.deny_raw_message,
            format!("{{\"errmsg\":\"{DEFAULT_DENY_MESSAGE}\"}}")
        );
        assert_eq!(c.deny_content_type, "application/json");
        assert!(!c.inspects_requests() && !c.may_touch_responses());
        let c = parse(r#"{"system_deny": true}"#).unwrap();
        assert!(c
            .words
            .find(b"x -----begin rsa private key----- y")
            .is_some());
        assert!(c.inspects_requests() && c.may_touch_responses());
        let c = parse(r#"{"replace_roles": [{"regex": "%{IP}", "type": "hash"}]}"#).unwrap();
        assert!(c.inspects_requests() && !c.may_touch_responses());
    }

    #[test]
    fn rejections_name_the_field() {
        let e = |j: &str| parse(j).unwrap_err();
        let cases = [
            (r#"{"deny_code": 99}"#, "deny_code: "),
            (r#"{"deny_code": "200"}"#, "deny_code: "),
            (r#"{"deny_words": ["a", ""]}"#, "deny_words[1]: "),
            (r#"{"deny_words": "a"}"#, "deny_words: "),
            (r#"{"deny_jsonpath": ["$.a", "a.b"]}"#, "deny_jsonpath[1]: "),
            (r#"{"deny_content_type": " "}"#, "deny_content_type: "),
            (r#"{"deny_wrods": []}"#, "deny_wrods: "),
            (
                r#"{"replace_roles": [{"regex": "%{NOPE}", "type": "hash"}]}"#,
                "replace_roles[0].regex: ",
            ),
            (
                r#"{"replace_roles": [{"regex": "(", "type": "hash"}]}"#,
                "replace_roles[0].regex: ",
            ),
            (
                r#"{"replace_roles": [{"regex": "a", "type": "mask"}]}"#,
                "replace_roles[0].type: ",
            ),
            (
                r#"{"replace_roles": [{"regex": "a"}]}"#,
                "replace_roles[0].value: ",
            ),
            (
                r#"{"replace_roles": [{"regex": "a", "value": "", "restore": true}]}"#,
                "replace_roles[0].value: ",
            ),
            (
                r#"{"replace_roles": [{"regex": "a", "value": "x", "extra": 1}]}"#,
                "replace_roles[0].extra: ",
            ),
        ];
        for (json, prefix) in cases {
            let got = e(json);
            assert!(
                got.starts_with(&format!("invalid configuration: {prefix}")),
                "{json}: {got}"
            );
        }
        let rules = RuleSet::<Config>::parse(
            br#"{"_rules_": [{"_match_route_": ["r"], "replace_roles": [{"regex": "\\b", "type": "hash"}]}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            rules.starts_with(
                "invalid configuration: _rules_[0].replace_roles[0].regex: invalid regex"
            ),
            "{rules}"
        );
    }
}
