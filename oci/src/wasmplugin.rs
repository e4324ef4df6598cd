//! WasmPlugin manifests for Higress (`extensions.higress.io/v1alpha1`) and Istio (`extensions.istio.io/v1alpha1`).
//!
//! The input is the plug-in configuration as our SDKs read it (wasm-rust/README.md): a global configuration
//! plus `_rules_`. For **Higress**, the global keys become `spec.defaultConfig` and each rule becomes one
//! `spec.matchRules` entry:
//!
//! | rule key | matchRules field |
//! |---|---|
//! | `_match_route_: [r…]` | `ingress: [r…]` (Higress route names: `namespace/ingress-name`) |
//! | `_match_domain_: [d…]` | `domain: [d…]` |
//! | `_match_service_: [s…]` | `service: [s…]` |
//! | `_match_route_prefix_` | refused: the CRD has no prefix match |
//! | `_disable_: true` | `configDisable: true` |
//! | other keys | `config` |
//!
//! A configuration with only `_rules_` has no global configuration: `defaultConfigDisable: true`. For
//! **Istio** (no per-route rules in the CRD), the whole configuration, `_rules_` included, goes in
//! `spec.pluginConfig`: our SDKs do the rule matching inside the plug-in.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::reference::Reference;
use crate::schema::{validate, PluginMeta};

/// Which gateway's CRD to render.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gateway {
    Higress,
    Istio,
}

/// Inputs of [`render`].
#[derive(Clone, Debug)]
pub struct WasmPluginInput {
    pub gateway: Gateway,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace` (Higress: usually `higress-system`; Istio: `istio-system` or the workload's).
    pub namespace: String,
    /// The pushed image (`url: oci://<reference>`).
    pub reference: Reference,
    /// The manifest digest (`sha256:` is its hex), as [`crate::Client::push`] returned it.
    pub digest: Digest,
    /// The configuration: a JSON object with optional `_rules_`.
    pub config: Value,
    /// From spec.yaml, when there is one: phase, priority and the schema to validate against.
    pub meta: PluginMeta,
}

/// One Higress `matchRules` entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchRule {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ingress: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub domain: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub service: Vec<String>,
    pub config: Value,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub config_disable: bool,
}

/// A configuration split into its global part (`None` when there are only `_rules_`) and its rules,
/// checked against the rule grammar of wasm-rust/README.md.
#[derive(Clone, Debug, PartialEq)]
pub struct SplitConfig {
    pub global: Option<Map<String, Value>>,
    /// Each rule: its match key, its entries, `_disable_`, and its own configuration.
    pub rules: Vec<Rule>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub key: &'static str,
    pub entries: Vec<String>,
    pub disable: bool,
    pub config: Map<String, Value>,
}

const MATCH_KEYS: [&str; 4] = [
    "_match_route_",
    "_match_route_prefix_",
    "_match_domain_",
    "_match_service_",
];

fn cfg_err(path: &str, reason: impl std::fmt::Display) -> Error {
    Error::Config(format!("invalid configuration: {path}: {reason}"))
}

/// Splits and checks a configuration.
pub fn split_config(config: &Value) -> Result<SplitConfig> {
    let obj = config
        .as_object()
        .ok_or_else(|| Error::Config("invalid configuration: must be a JSON object".into()))?;
    let mut global = obj.clone();
    let rules_v = global.remove("_rules_");
    let global = if global.is_empty() && rules_v.is_some() {
        None
    } else {
        Some(global)
    };
    let mut rules = Vec::new();
    if let Some(rv) = rules_v {
        let arr = rv
            .as_array()
            .ok_or_else(|| cfg_err("_rules_", "must be an array"))?;
        for (i, r) in arr.iter().enumerate() {
            let path = format!("_rules_[{i}]");
            let ro = r
                .as_object()
                .ok_or_else(|| cfg_err(&path, "must be an object"))?;
            let present: Vec<&'static str> = MATCH_KEYS
                .iter()
                .copied()
                .filter(|k| ro.contains_key(*k))
                .collect();
            let key = match present.as_slice() {
                [one] => *one,
                [] => {
                    return Err(cfg_err(
                        &path,
                        format!("needs exactly one of {}", MATCH_KEYS.join(", ")),
                    ))
                }
                many => {
                    return Err(cfg_err(
                        &path,
                        format!(
                            "has {} match keys ({}); use exactly one",
                            many.len(),
                            many.join(", ")
                        ),
                    ))
                }
            };
            let kpath = format!("{path}.{key}");
            let entries = ro[key]
                .as_array()
                .filter(|a| !a.is_empty())
                .ok_or_else(|| cfg_err(&kpath, "must be a non-empty array of non-empty strings"))?
                .iter()
                .enumerate()
                .map(|(j, e)| {
                    e.as_str()
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .ok_or_else(|| {
                            cfg_err(&format!("{kpath}[{j}]"), "must be a non-empty string")
                        })
                })
                .collect::<Result<Vec<_>>>()?;
            let disable = match ro.get("_disable_") {
                None => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err(cfg_err(&format!("{path}._disable_"), "must be a boolean")),
            };
            let config = ro
                .iter()
                .filter(|(k, _)| !MATCH_KEYS.contains(&k.as_str()) && *k != "_disable_")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            rules.push(Rule {
                key,
                entries,
                disable,
                config,
            });
        }
    }
    Ok(SplitConfig { global, rules })
}

/// Validates the global configuration and every enabled rule's configuration against `schema`; all
/// violations are reported at once, one per line, with their field paths.
pub fn validate_config(config: &Value, schema: &Value) -> Result<()> {
    let split = split_config(config)?;
    let mut errors = Vec::new();
    if let Some(g) = &split.global {
        errors.extend(validate(&Value::Object(g.clone()), schema, ""));
    }
    for (i, r) in split.rules.iter().enumerate().filter(|(_, r)| !r.disable) {
        errors.extend(validate(
            &Value::Object(r.config.clone()),
            schema,
            &format!("_rules_[{i}]"),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Config(
            errors
                .into_iter()
                .map(|e| format!("invalid configuration: {e}"))
                .collect::<Vec<_>>()
                .join("\n"),
        ))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Doc<S: Serialize> {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    spec: S,
}

#[derive(Serialize)]
struct Metadata {
    name: String,
    namespace: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HigressSpec {
    url: String,
    sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    phase: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_config: Option<Value>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    default_config_disable: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    match_rules: Vec<MatchRule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IstioSpec {
    url: String,
    sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    phase: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<i64>,
    plugin_config: Value,
}

/// Renders the WasmPlugin YAML, after validating the configuration against the spec.yaml schema (if any).
pub fn render(input: &WasmPluginInput) -> Result<String> {
    if let Some(schema) = &input.meta.schema {
        validate_config(&input.config, schema)?;
    }
    let split = split_config(&input.config)?;
    let mut reference = input.reference.clone();
    if reference.tag.is_none() && reference.digest.is_none() {
        return Err(Error::Input(format!(
            "reference {reference} needs a tag or digest for the WasmPlugin url"
        )));
    }
    if let Some(d) = &reference.digest {
        if d != &input.digest {
            return Err(Error::Input(format!(
                "reference {reference} names a different digest than {}",
                input.digest
            )));
        }
        reference.digest = Some(d.clone());
    }
    let url = format!("oci://{reference}");
    let sha256 = input.digest.hex().to_string();
    let metadata = Metadata {
        name: input.name.clone(),
        namespace: input.namespace.clone(),
    };
    let yaml = match input.gateway {
        Gateway::Higress => {
            let match_rules = split
                .rules
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let mut m = MatchRule {
                        ingress: vec![],
                        domain: vec![],
                        service: vec![],
                        config: Value::Object(r.config.clone()),
                        config_disable: r.disable,
                    };
                    match r.key {
                        "_match_route_" => m.ingress = r.entries.clone(),
                        "_match_domain_" => m.domain = r.entries.clone(),
                        "_match_service_" => m.service = r.entries.clone(),
                        _ => {
                            return Err(cfg_err(
                                &format!("_rules_[{i}]._match_route_prefix_"),
                                "Higress WasmPlugin matchRules have no route-prefix match; list the routes in `_match_route_`",
                            ))
                        }
                    }
                    Ok(m)
                })
                .collect::<Result<Vec<_>>>()?;
            let spec = HigressSpec {
                url,
                sha256,
                phase: input.meta.phase.clone(),
                priority: input.meta.priority,
                default_config_disable: split.global.is_none(),
                default_config: split.global.map(Value::Object),
                match_rules,
            };
            serde_yaml_ng::to_string(&Doc {
                api_version: "extensions.higress.io/v1alpha1",
                kind: "WasmPlugin",
                metadata,
                spec,
            })
        }
        Gateway::Istio => {
            let spec = IstioSpec {
                url,
                sha256,
                phase: input.meta.phase.clone(),
                priority: input.meta.priority,
                plugin_config: input.config.clone(),
            };
            serde_yaml_ng::to_string(&Doc {
                api_version: "extensions.istio.io/v1alpha1",
                kind: "WasmPlugin",
                metadata,
                spec,
            })
        }
    };
    yaml.map_err(|e| Error::Config(format!("rendering WasmPlugin YAML: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(gateway: Gateway, config: Value) -> WasmPluginInput {
        WasmPluginInput {
            gateway,
            name: "request-block".into(),
            namespace: "higress-system".into(),
            reference: Reference::parse("registry.example.com/plugins/request-block:1.0.0")
                .unwrap(),
            digest: Digest::of(b"manifest"),
            config,
            meta: PluginMeta {
                phase: Some("AUTHZ".into()),
                priority: Some(320),
                ..Default::default()
            },
        }
    }

    #[test]
    fn higress_rules_become_match_rules() {
        let cfg = json!({
            "blocked_code": 403,
            "_rules_": [
                {"_match_route_": ["default/foo"], "blocked_code": 404},
                {"_match_domain_": ["*.example.com"], "blocked_code": 405},
                {"_match_service_": ["svc.default.svc.cluster.local:8080"]},
                {"_match_domain_": ["internal.local"], "_disable_": true}
            ]
        });
        let y = render(&input(Gateway::Higress, cfg)).unwrap();
        let want = format!(
            "apiVersion: extensions.higress.io/v1alpha1
kind: WasmPlugin
metadata:
  name: request-block
  namespace: higress-system
spec:
  url: oci://registry.example.com/plugins/request-block:1.0.0
  sha256: {}
  phase: AUTHZ
  priority: 320
  defaultConfig:
    blocked_code: 403
  matchRules:
  - ingress:
    - default/foo
    config:
      blocked_code: 404
  - domain:
    - '*.example.com'
    config:
      blocked_code: 405
  - service:
    - svc.default.svc.cluster.local:8080
    config: {{}}
  - domain:
    - internal.local
    config: {{}}
    configDisable: true
",
            Digest::of(b"manifest").hex()
        );
        assert_eq!(y, want);
    }

    #[test]
    fn only_rules_disables_default_config() {
        let y = render(&input(
            Gateway::Higress,
            json!({"_rules_": [{"_match_domain_": ["a.com"], "x": 1}]}),
        ))
        .unwrap();
        assert!(
            y.contains("defaultConfigDisable: true") && !y.contains("defaultConfig:"),
            "{y}"
        );
        let y = render(&input(Gateway::Higress, json!({}))).unwrap();
        assert!(
            y.contains("defaultConfig: {}") && !y.contains("defaultConfigDisable"),
            "{y}"
        );
    }

    #[test]
    fn istio_keeps_rules_in_plugin_config() {
        let y = render(&input(
            Gateway::Istio,
            json!({"a": 1, "_rules_": [{"_match_route_prefix_": ["api-"], "a": 2}]}),
        ))
        .unwrap();
        assert!(
            y.starts_with("apiVersion: extensions.istio.io/v1alpha1\nkind: WasmPlugin\n"),
            "{y}"
        );
        assert!(y.contains("  pluginConfig:\n    _rules_:\n    - _match_route_prefix_:\n      - api-\n      a: 2\n    a: 1\n"), "{y}");
    }

    #[test]
    fn rule_errors_name_the_field() {
        let e = |cfg: Value| {
            render(&input(Gateway::Higress, cfg))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(e(json!([])), "invalid configuration: must be a JSON object");
        assert_eq!(
            e(json!({"_rules_": {}})),
            "invalid configuration: _rules_: must be an array"
        );
        assert!(e(json!({"_rules_": [{"x": 1}]}))
            .starts_with("invalid configuration: _rules_[0]: needs exactly one of"));
        assert!(
            e(json!({"_rules_": [{"_match_route_": ["a"], "_match_domain_": ["b"]}]}))
                .contains("has 2 match keys")
        );
        assert_eq!(
            e(json!({"_rules_": [{"_match_domain_": ["a", ""]}]})),
            "invalid configuration: _rules_[0]._match_domain_[1]: must be a non-empty string"
        );
        assert_eq!(
            e(json!({"_rules_": [{"_match_domain_": ["a"], "_disable_": 1}]})),
            "invalid configuration: _rules_[0]._disable_: must be a boolean"
        );
        assert!(e(json!({"_rules_": [{"_match_route_prefix_": ["api-"]}]})).contains("_rules_[0]._match_route_prefix_: Higress WasmPlugin matchRules have no route-prefix match"));
    }

    #[test]
    fn schema_is_applied_to_global_and_rules() {
        let mut i = input(
            Gateway::Higress,
            json!({"code": "x", "_rules_": [{"_match_domain_": ["a"], "code": 700}, {"_match_domain_": ["b"], "_disable_": true, "code": "ignored"}]}),
        );
        i.meta.schema = Some(
            json!({"type": "object", "properties": {"code": {"type": "integer", "maximum": 599}}}),
        );
        let e = render(&i).unwrap_err().to_string();
        assert_eq!(e, "invalid configuration: code: must be an integer, got string \"x\"\ninvalid configuration: _rules_[0].code: must be <= 599, got 700");
    }
}
