//! Conformance vector files (`extensions/<plugin>/vectors/*.yaml`), format in `host/VECTORS.md`.

use std::fmt;
use std::path::Path;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_yaml_ng::Value;

use crate::types::{Headers, LogLevel, Request, Response};

/// A parsed vector file.
#[derive(Clone, Debug)]
pub struct VectorFile {
    /// The file name as given (used in messages).
    pub path: String,
    pub cases: Vec<Case>,
}

/// One case, with file-level defaults already applied.
#[derive(Clone, Debug)]
pub struct Case {
    pub name: String,
    /// Configuration bytes given to `proxy_on_configure`.
    pub config: Vec<u8>,
    pub properties: Vec<(String, String)>,
    pub request: RequestSpec,
    pub upstream_response: ResponseSpec,
    pub http_calls: Vec<ResponseSpec>,
    pub expect: Expect,
}

/// `request:`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    #[serde(default)]
    pub headers: HeaderSpec,
    pub body: Option<String>,
    pub trailers: Option<HeaderSpec>,
}

/// `upstream_response:` and each `http_calls:` entry.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseSpec {
    pub headers: Option<HeaderSpec>,
    pub body: Option<String>,
    pub trailers: Option<HeaderSpec>,
}

/// `expect.configure:`
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfigureExpect {
    #[default]
    Ok,
    Rejected,
}

/// `expect:`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub configure: ConfigureExpect,
    pub local_response: Option<MessageExpect>,
    pub upstream_request: Option<MessageExpect>,
    pub downstream_response: Option<MessageExpect>,
    #[serde(default)]
    pub logs: Vec<LogExpect>,
}

/// Expectations on a message (`status` is not allowed for `upstream_request`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageExpect {
    pub status: Option<u32>,
    pub headers: Option<HeaderSpec>,
    #[serde(default)]
    pub absent: Vec<String>,
    pub body: Option<String>,
    pub body_contains: Option<String>,
}

/// `expect.logs[]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogExpect {
    pub level: LogLevel,
    pub contains: String,
}

/// An ordered header map; a value may be a scalar or a list of scalars (repeated header).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderSpec(pub Vec<(String, Vec<String>)>);

impl HeaderSpec {
    /// As a header list (repeated headers become several entries).
    pub fn to_headers(&self) -> Headers {
        let mut h = Headers::default();
        for (k, vs) in &self.0 {
            for v in vs {
                h.add(k, v);
            }
        }
        h
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    fn text(self) -> String {
        match self {
            Scalar::Str(s) => s,
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(Scalar),
    Many(Vec<Scalar>),
}

impl<'de> Deserialize<'de> for HeaderSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = HeaderSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of header names to a string or a list of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HeaderSpec, A::Error> {
                let mut out: Vec<(String, Vec<String>)> = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value = match map.next_value::<OneOrMany>()? {
                        OneOrMany::One(s) => vec![s.text()],
                        OneOrMany::Many(v) => v.into_iter().map(Scalar::text).collect(),
                    };
                    if out.iter().any(|(k, _)| k.eq_ignore_ascii_case(&key)) {
                        return Err(de::Error::custom(format!(
                            "header `{key}` given twice (use a list for a repeated header)"
                        )));
                    }
                    out.push((key, value));
                }
                Ok(HeaderSpec(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Properties: a map of names to scalars.
#[derive(Clone, Debug, Default)]
struct Props(Vec<(String, String)>);

impl<'de> Deserialize<'de> for Props {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Props;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of property names to strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Props, A::Error> {
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    out.push((key, map.next_value::<Scalar>()?.text()));
                }
                Ok(Props(out))
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    config: Option<Value>,
    properties: Option<Props>,
    cases: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: String,
    config: Option<Value>,
    config_raw: Option<String>,
    properties: Option<Props>,
    #[serde(default)]
    request: RequestSpec,
    upstream_response: Option<ResponseSpec>,
    #[serde(default)]
    http_calls: Vec<ResponseSpec>,
    #[serde(default)]
    expect: Expect,
}

/// A vector file that cannot be used; the message names the file, the case and the key.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct VectorError(pub String);

/// Reads and parses a vector file.
pub fn load(path: impl AsRef<Path>) -> Result<VectorFile, VectorError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path)
        .map_err(|e| VectorError(format!("reading {}: {e}", path.display())))?;
    parse(&path.display().to_string(), &text)
}

fn to_json(v: &Value) -> Result<Vec<u8>, String> {
    serde_json::to_vec(v).map_err(|e| format!("config cannot be turned into JSON: {e}"))
}

/// Parses vector YAML; `name` is used in messages.
pub fn parse(name: &str, text: &str) -> Result<VectorFile, VectorError> {
    let err = |m: String| VectorError(format!("{name}: {m}"));
    let de = serde_yaml_ng::Deserializer::from_str(text);
    let raw: RawFile = serde_path_to_error::deserialize(de).map_err(|e| err(describe(&e)))?;
    let file_config = match &raw.config {
        Some(v) => to_json(v).map_err(err)?,
        None => b"{}".to_vec(),
    };
    let file_props = raw.properties.unwrap_or_default().0;
    let mut cases = Vec::new();
    for (i, value) in raw.cases.into_iter().enumerate() {
        let label = match value.get("name").and_then(Value::as_str) {
            Some(n) => format!("case `{n}`"),
            None => format!("case #{}", i + 1),
        };
        let cerr = |m: String| VectorError(format!("{name}: {label}: {m}"));
        let c: RawCase = serde_path_to_error::deserialize(value).map_err(|e| cerr(describe(&e)))?;
        if cases.iter().any(|x: &Case| x.name == c.name) {
            return Err(cerr(
                "duplicate case name (names must be unique within a file)".into(),
            ));
        }
        let config = match (&c.config, &c.config_raw) {
            (Some(_), Some(_)) => {
                return Err(cerr(
                    "`config` and `config_raw` are exclusive; give one".into(),
                ))
            }
            (Some(v), None) => to_json(v).map_err(cerr)?,
            (None, Some(raw)) => raw.as_bytes().to_vec(),
            (None, None) => file_config.clone(),
        };
        let mut properties = file_props.clone();
        for (k, v) in c.properties.unwrap_or_default().0 {
            properties.retain(|(p, _)| *p != k);
            properties.push((k, v));
        }
        let e = &c.expect;
        if e.local_response.is_some() && e.upstream_request.is_some() {
            return Err(cerr(
                "expect.local_response and expect.upstream_request are exclusive (a local response never reaches the backend)"
                    .into(),
            ));
        }
        for (what, m) in [
            ("local_response", &e.local_response),
            ("upstream_request", &e.upstream_request),
            ("downstream_response", &e.downstream_response),
        ] {
            if let Some(m) = m {
                if m.body.is_some() && m.body_contains.is_some() {
                    return Err(cerr(format!(
                        "expect.{what}: `body` and `body_contains` are exclusive"
                    )));
                }
                if what == "upstream_request" && m.status.is_some() {
                    return Err(cerr(
                        "expect.upstream_request: unknown field `status` (requests have no status)"
                            .into(),
                    ));
                }
            }
        }
        cases.push(Case {
            name: c.name,
            config,
            properties,
            request: c.request,
            upstream_response: c.upstream_response.unwrap_or_default(),
            http_calls: c.http_calls,
            expect: c.expect,
        });
    }
    Ok(VectorFile {
        path: name.to_string(),
        cases,
    })
}

fn describe<E: fmt::Display>(e: &serde_path_to_error::Error<E>) -> String {
    let mut path = e.path().to_string();
    let inner = e.inner().to_string();
    // serde_path_to_error ends the path with the unknown key itself; the message names it already
    if let Some(field) = inner
        .strip_prefix("unknown field `")
        .and_then(|r| r.split('`').next())
    {
        if path == field {
            path.clear();
        } else if let Some(p) = path.strip_suffix(&format!(".{field}")) {
            path = p.to_string();
        }
    }
    if path == "." || path.is_empty() {
        e.inner().to_string()
    } else {
        format!("{path}: {}", e.inner())
    }
}

impl Case {
    /// The request this case sends.
    pub fn to_request(&self) -> Request {
        let mut r = Request::bare();
        r.defaults = true;
        r.headers = self.request.headers.to_headers();
        r.body = self.request.body.as_ref().map(|b| b.as_bytes().to_vec());
        r.trailers = self.request.trailers.as_ref().map(HeaderSpec::to_headers);
        for (k, v) in &self.properties {
            r = r.property(k, v);
        }
        r
    }
}

impl ResponseSpec {
    /// As a response (`:status: 200` when no headers are given).
    pub fn to_response(&self) -> Response {
        let headers = match &self.headers {
            Some(h) => h.to_headers(),
            None => Response::new(200).headers,
        };
        Response {
            headers,
            body: self
                .body
                .as_ref()
                .map(|b| b.as_bytes().to_vec())
                .unwrap_or_default(),
            trailers: self.trailers.as_ref().map(HeaderSpec::to_headers),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_named_with_file_and_case() {
        let y =
            "cases:\n  - name: one\n    expect:\n      local_response: {status: 403, stauts: 1}\n";
        let e = parse("v.yaml", y).unwrap_err().to_string();
        assert!(
            e.starts_with("v.yaml: case `one`: expect.local_response: unknown field `stauts`"),
            "{e}"
        );
    }

    #[test]
    fn unknown_top_level_key_is_named() {
        let e = parse("v.yaml", "confg: {}\ncases: []\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("v.yaml: unknown field `confg`"), "{e}");
    }

    #[test]
    fn config_and_config_raw_are_exclusive() {
        let y = "cases:\n  - name: both\n    config: {a: 1}\n    config_raw: 'x'\n";
        let e = parse("v.yaml", y).unwrap_err().to_string();
        assert_eq!(
            e,
            "v.yaml: case `both`: `config` and `config_raw` are exclusive; give one"
        );
    }

    #[test]
    fn defaults_merge_and_json_conversion() {
        let y = r#"
config: {name: Alice, n: [1, 2]}
properties: {route_name: r1, cluster_name: c1}
cases:
  - name: a
    properties: {route_name: r2}
    request: {headers: {":path": /x, x-n: 5, x-m: [a, b]}, body: hi}
  - name: b
    config_raw: "not json"
    upstream_response: {headers: {":status": 404}}
"#;
        let f = parse("v.yaml", y).unwrap();
        let a = &f.cases[0];
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&a.config).unwrap(),
            serde_json::json!({"name": "Alice", "n": [1, 2]})
        );
        assert_eq!(
            a.properties,
            vec![
                ("cluster_name".into(), "c1".into()),
                ("route_name".into(), "r2".into())
            ]
        );
        let h = a.to_request().effective_headers();
        let keys: Vec<&str> = h.0.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                ":method",
                ":scheme",
                ":authority",
                ":path",
                "x-n",
                "x-m",
                "x-m"
            ]
        );
        assert_eq!(h.get("x-n").as_deref(), Some("5"));
        assert_eq!(f.cases[1].config, b"not json");
        assert_eq!(
            f.cases[1]
                .upstream_response
                .to_response()
                .headers
                .get(":status")
                .as_deref(),
            Some("404")
        );
        assert_eq!(
            f.cases[1]
                .to_request()
                .effective_headers()
                .get(":path")
                .as_deref(),
            Some("/")
        );
    }

    #[test]
    fn local_response_excludes_upstream_request() {
        let y = "cases:\n  - name: x\n    expect: {local_response: {status: 403}, upstream_request: {body: a}}\n";
        let e = parse("v.yaml", y).unwrap_err().to_string();
        assert!(
            e.contains("case `x`: expect.local_response and expect.upstream_request are exclusive"),
            "{e}"
        );
    }

    #[test]
    fn bad_log_level_and_duplicate_names_are_rejected() {
        let y = "cases:\n  - name: x\n    expect: {logs: [{level: loud, contains: a}]}\n";
        let e = parse("v.yaml", y).unwrap_err().to_string();
        assert!(
            e.contains("case `x`: expect.logs[0].level: unknown variant `loud`"),
            "{e}"
        );
        let y = "cases:\n  - name: x\n  - name: x\n";
        let e = parse("v.yaml", y).unwrap_err().to_string();
        assert!(e.contains("duplicate case name"), "{e}");
    }
}
