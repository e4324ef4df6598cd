//! Validation of a plug-in configuration against the OpenAPI v3 schema in its `spec.yaml`
//! (`spec.configSchema.openAPIV3Schema`). Supported keywords: `type` (object, array, string, integer, number,
//! boolean), `nullable`, `properties`, `required`, `additionalProperties` (bool or schema), `items`, `enum`,
//! `minimum`/`maximum` (with boolean `exclusiveMinimum`/`exclusiveMaximum`), `minItems`/`maxItems`,
//! `minLength`/`maxLength`. Other keywords (`description`, `title`, `x-*`, ...) are ignored.

use serde_json::Value;

use crate::error::{Error, Result};

/// What `spec.yaml` says about a plug-in (the parts the WasmPlugin renderer uses).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PluginMeta {
    pub name: Option<String>,
    pub version: Option<String>,
    /// `UNSPECIFIED_PHASE`, `AUTHN`, `AUTHZ` or `STATS`.
    pub phase: Option<String>,
    pub priority: Option<i64>,
    /// `spec.configSchema.openAPIV3Schema`.
    pub schema: Option<Value>,
}

/// Phases a WasmPlugin accepts.
pub const PHASES: [&str; 4] = ["UNSPECIFIED_PHASE", "AUTHN", "AUTHZ", "STATS"];

/// Parses a plug-in's `spec.yaml`.
pub fn parse_spec_yaml(text: &str) -> Result<PluginMeta> {
    let v: Value = serde_yaml_ng::from_str(text)
        .map_err(|e| Error::Config(format!("spec.yaml is not valid YAML: {e}")))?;
    if !v.is_object() {
        return Err(Error::Config("spec.yaml must be a mapping".into()));
    }
    let s = |p: &str| v.pointer(p).and_then(|x| x.as_str()).map(String::from);
    let phase = s("/spec/phase");
    if let Some(p) = &phase {
        if !PHASES.contains(&p.as_str()) {
            return Err(Error::Config(format!(
                "spec.yaml: spec.phase `{p}` must be one of {}",
                PHASES.join(", ")
            )));
        }
    }
    let priority =
        match v.pointer("/spec/priority") {
            None | Some(Value::Null) => None,
            Some(p) => Some(p.as_i64().ok_or_else(|| {
                Error::Config("spec.yaml: spec.priority must be an integer".into())
            })?),
        };
    let schema = v.pointer("/spec/configSchema/openAPIV3Schema").cloned();
    if let Some(sc) = &schema {
        if !sc.is_object() {
            return Err(Error::Config(
                "spec.yaml: spec.configSchema.openAPIV3Schema must be a mapping".into(),
            ));
        }
    }
    Ok(PluginMeta {
        name: s("/info/name"),
        version: s("/info/version"),
        phase,
        priority,
        schema,
    })
}

/// Validates `value` against `schema`; returns every violation as `<path>: <reason>` (empty when valid).
/// `path` names the value (`config`, `_rules_[0]`).
pub fn validate(value: &Value, schema: &Value, path: &str) -> Vec<String> {
    let mut errors = Vec::new();
    check(value, schema, path, &mut errors);
    errors
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}

fn check(v: &Value, schema: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(sc) = schema.as_object() else { return };
    if v.is_null() && sc.get("nullable").and_then(Value::as_bool) == Some(true) {
        return;
    }
    if let Some(t) = sc.get("type").and_then(Value::as_str) {
        let k = kind(v);
        let ok = t == k
            || (t == "number" && k == "integer")
            || (t == "integer"
                && v.as_f64()
                    .is_some_and(|f| f.fract() == 0.0 && k == "number"));
        if !ok {
            errors.push(format!(
                "{path}: must be {} {t}, got {k} {}",
                if t.starts_with(['a', 'i', 'o']) {
                    "an"
                } else {
                    "a"
                },
                show(v)
            ));
            return;
        }
    }
    if let Some(allowed) = sc.get("enum").and_then(Value::as_array) {
        if !allowed.contains(v) {
            let list = allowed.iter().map(show).collect::<Vec<_>>().join(", ");
            errors.push(format!("{path}: must be one of {list}, got {}", show(v)));
        }
    }
    if let Some(n) = v.as_f64() {
        let excl = |k: &str| sc.get(k).and_then(Value::as_bool) == Some(true);
        if let Some(min) = sc.get("minimum").and_then(Value::as_f64) {
            if n < min || (excl("exclusiveMinimum") && n == min) {
                errors.push(format!(
                    "{path}: must be {} {min}, got {}",
                    if excl("exclusiveMinimum") { ">" } else { ">=" },
                    show(v)
                ));
            }
        }
        if let Some(max) = sc.get("maximum").and_then(Value::as_f64) {
            if n > max || (excl("exclusiveMaximum") && n == max) {
                errors.push(format!(
                    "{path}: must be {} {max}, got {}",
                    if excl("exclusiveMaximum") { "<" } else { "<=" },
                    show(v)
                ));
            }
        }
    }
    if let Some(s) = v.as_str() {
        let len = s.chars().count() as u64;
        if let Some(min) = sc.get("minLength").and_then(Value::as_u64) {
            if len < min {
                errors.push(format!(
                    "{path}: must be at least {min} characters long, got {len}"
                ));
            }
        }
        if let Some(max) = sc.get("maxLength").and_then(Value::as_u64) {
            if len > max {
                errors.push(format!(
                    "{path}: must be at most {max} characters long, got {len}"
                ));
            }
        }
    }
    if let Some(items) = v.as_array() {
        let n = items.len() as u64;
        if let Some(min) = sc.get("minItems").and_then(Value::as_u64) {
            if n < min {
                errors.push(format!("{path}: must have at least {min} items, got {n}"));
            }
        }
        if let Some(max) = sc.get("maxItems").and_then(Value::as_u64) {
            if n > max {
                errors.push(format!("{path}: must have at most {max} items, got {n}"));
            }
        }
        if let Some(item_schema) = sc.get("items") {
            for (i, item) in items.iter().enumerate() {
                check(item, item_schema, &format!("{path}[{i}]"), errors);
            }
        }
    }
    if let Some(obj) = v.as_object() {
        let props = sc.get("properties").and_then(Value::as_object);
        if let Some(req) = sc.get("required").and_then(Value::as_array) {
            for r in req.iter().filter_map(Value::as_str) {
                if !obj.contains_key(r) {
                    errors.push(format!("{}: is required", join(path, r)));
                }
            }
        }
        let mut keys: Vec<&String> = obj.keys().collect();
        keys.sort();
        for k in keys {
            let child = join(path, k);
            match props.and_then(|p| p.get(k)) {
                Some(ps) => check(&obj[k], ps, &child, errors),
                None => match sc.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        let known = props
                            .map(|p| p.keys().map(String::as_str).collect::<Vec<_>>().join(", "))
                            .unwrap_or_default();
                        errors.push(format!("{child}: unknown field (known fields: {known})"));
                    }
                    Some(extra @ Value::Object(_)) => check(&obj[k], extra, &child, errors),
                    _ => {}
                },
            }
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "required": ["blocked_code"],
            "additionalProperties": false,
            "properties": {
                "blocked_code": {"type": "integer", "minimum": 100, "maximum": 599},
                "mode": {"type": "string", "enum": ["strict", "lax"]},
                "block_urls": {"type": "array", "items": {"type": "string", "minLength": 1}},
                "ratio": {"type": "number", "maximum": 1, "exclusiveMaximum": true},
                "nested": {"type": "object", "additionalProperties": {"type": "boolean"}}
            }
        })
    }

    #[test]
    fn accepts_valid() {
        let v = json!({"blocked_code": 403, "mode": "lax", "block_urls": ["/a"], "ratio": 0.5, "nested": {"x": true}});
        assert_eq!(validate(&v, &schema(), ""), Vec::<String>::new());
    }

    #[test]
    fn names_each_failing_field() {
        let v = json!({"blocked_code": 42, "mode": "x", "block_urls": ["ok", "", 3], "ratio": 1, "nested": {"x": 1}, "typo": 1});
        let e = validate(&v, &schema(), "_rules_[0]");
        assert_eq!(
            e,
            [
                "_rules_[0].block_urls[1]: must be at least 1 characters long, got 0",
                "_rules_[0].block_urls[2]: must be a string, got integer 3",
                "_rules_[0].blocked_code: must be >= 100, got 42",
                "_rules_[0].mode: must be one of \"strict\", \"lax\", got \"x\"",
                "_rules_[0].nested.x: must be a boolean, got integer 1",
                "_rules_[0].ratio: must be < 1, got 1",
                "_rules_[0].typo: unknown field (known fields: block_urls, blocked_code, mode, nested, ratio)",
            ]
        );
        assert_eq!(
            validate(&json!({}), &schema(), ""),
            ["blocked_code: is required"]
        );
        assert_eq!(
            validate(&json!([]), &schema(), "config"),
            ["config: must be an object, got array []"]
        );
    }

    #[test]
    fn spec_yaml() {
        let m = parse_spec_yaml(
            "apiVersion: 1.0.0\ninfo:\n  name: request-block\n  version: 1.0.0\nspec:\n  phase: AUTHZ\n  priority: 320\n  configSchema:\n    openAPIV3Schema:\n      type: object\n",
        )
        .unwrap();
        assert_eq!(
            (m.phase.as_deref(), m.priority, m.name.as_deref()),
            (Some("AUTHZ"), Some(320), Some("request-block"))
        );
        assert_eq!(m.schema, Some(json!({"type": "object"})));
        assert!(parse_spec_yaml("spec:\n  phase: LATE\n")
            .unwrap_err()
            .to_string()
            .contains("spec.phase `LATE`"));
    }
}
