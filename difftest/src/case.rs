//! A differential case: configuration, request, properties and upstream answer, convertible to a
//! `pwhost::vectors::Case` (so it runs exactly as a vector would) and printable as vector YAML.

use pwhost::vectors::{Case, Expect, HeaderSpec, RequestSpec, ResponseSpec};
use serde_json::Value;

/// The configuration bytes: a JSON value (printed as `config:`) or raw text (printed as `config_raw:`).
#[derive(Clone, Debug, PartialEq)]
pub enum ConfigSpec {
    Json(Value),
    Raw(String),
}

impl ConfigSpec {
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            ConfigSpec::Json(v) => serde_json::to_vec(v).unwrap_or_default(),
            ConfigSpec::Raw(s) => s.as_bytes().to_vec(),
        }
    }
}

/// Headers with unique names (case-insensitive); a repeated header is one name with several values.
pub type HeaderList = Vec<(String, Vec<String>)>;

/// Appends `value` under `name`, merging with an existing entry of the same name.
pub fn add_header(list: &mut HeaderList, name: &str, value: &str) {
    match list.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
        Some((_, vs)) => vs.push(value.to_string()),
        None => list.push((name.to_string(), vec![value.to_string()])),
    }
}

/// Sets `name` to one value.
pub fn set_header(list: &mut HeaderList, name: &str, value: &str) {
    match list.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
        Some((_, vs)) => *vs = vec![value.to_string()],
        None => list.push((name.to_string(), vec![value.to_string()])),
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct DiffCase {
    pub name: String,
    pub config: ConfigSpec,
    pub properties: Vec<(String, String)>,
    pub headers: HeaderList,
    pub body: Option<String>,
    pub trailers: Option<HeaderList>,
    pub upstream_headers: Option<HeaderList>,
    pub upstream_body: Option<String>,
}

impl DiffCase {
    pub fn new(name: impl Into<String>, config: ConfigSpec) -> DiffCase {
        DiffCase {
            name: name.into(),
            config,
            properties: Vec::new(),
            headers: Vec::new(),
            body: None,
            trailers: None,
            upstream_headers: None,
            upstream_body: None,
        }
    }

    /// As a vector case (no expectations).
    pub fn to_case(&self) -> Case {
        Case {
            name: self.name.clone(),
            config: self.config.bytes(),
            properties: self.properties.clone(),
            request: RequestSpec {
                headers: HeaderSpec(self.headers.clone()),
                body: self.body.clone(),
                trailers: self.trailers.clone().map(HeaderSpec),
                ..RequestSpec::default()
            },
            upstream_response: ResponseSpec {
                headers: self.upstream_headers.clone().map(HeaderSpec),
                body: self.upstream_body.clone(),
                trailers: None,
                ..ResponseSpec::default()
            },
            http_calls: Vec::new(),
            expect: Expect::default(),
            ..Case::default()
        }
    }

    /// A vector case built from a parsed one (the mutator's seeds).
    pub fn from_case(case: &Case) -> Option<DiffCase> {
        if !case.http_calls.is_empty()
            || case.upstream_response.trailers.is_some()
            || !case.steps.is_empty()
            || case.connection.is_some()
            || case.request.body_chunks.is_some()
            || case.upstream_response.body_chunks.is_some()
        {
            return None;
        }
        let config = match serde_json::from_slice::<Value>(&case.config) {
            Ok(v) if !case.config.is_empty() => ConfigSpec::Json(v),
            _ => ConfigSpec::Raw(String::from_utf8(case.config.clone()).ok()?),
        };
        Some(DiffCase {
            name: case.name.clone(),
            config,
            properties: case.properties.clone(),
            headers: case.request.headers.0.clone(),
            body: case.request.body.clone(),
            trailers: case.request.trailers.clone().map(|h| h.0),
            upstream_headers: case.upstream_response.headers.clone().map(|h| h.0),
            upstream_body: case.upstream_response.body.clone(),
        })
    }

    /// Size measure used by the shrinker (smaller is simpler).
    pub fn weight(&self) -> usize {
        let h = |l: &HeaderList| -> usize {
            l.iter()
                .map(|(k, vs)| 8 + k.len() + vs.iter().map(|v| v.len() + 4).sum::<usize>())
                .sum()
        };
        self.config.bytes().len()
            + self
                .properties
                .iter()
                .map(|(k, v)| 8 + k.len() + v.len())
                .sum::<usize>()
            + h(&self.headers)
            + self.body.as_ref().map_or(0, |b| b.len() + 4)
            + self.trailers.as_ref().map_or(0, |t| h(t) + 4)
            + self.upstream_headers.as_ref().map_or(0, |t| h(t) + 4)
            + self.upstream_body.as_ref().map_or(0, |b| b.len() + 4)
    }
}

/// A YAML double-quoted scalar (JSON escapes are valid YAML; non-printable characters are escaped).
pub fn yq(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if (c as u32) < 0x20
                || (0x7f..=0x9f).contains(&(c as u32))
                || matches!(c as u32, 0x2028 | 0x2029 | 0xfeff | 0xfffe | 0xffff) =>
            {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON value as YAML flow text.
pub fn yaml_json(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            let t = n.to_string();
            // YAML 1.1 needs a dot in floats written with an exponent
            if t.contains(['e', 'E']) && !t.contains('.') {
                yq(&t)
            } else {
                t
            }
        }
        Value::String(s) => yq(s),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(yaml_json).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", yq(k), yaml_json(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

pub fn yaml_headers(l: &HeaderList) -> String {
    let parts: Vec<String> = l
        .iter()
        .map(|(k, vs)| {
            let v = if vs.len() == 1 {
                yq(&vs[0])
            } else {
                format!(
                    "[{}]",
                    vs.iter().map(|v| yq(v)).collect::<Vec<_>>().join(", ")
                )
            };
            format!("{}: {}", yq(k), v)
        })
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// The case as a vector-file list item (indented for `cases:`), followed by the given `expect` lines
/// (already indented by 4 spaces, may be empty).
pub fn to_yaml(case: &DiffCase, expect: &str) -> String {
    let mut y = format!("  - name: {}\n", yq(&case.name));
    match &case.config {
        ConfigSpec::Json(v) => {
            let text = yaml_json(v);
            // use the JSON form only if it reads back byte for byte
            let probe = format!("cases:\n  - name: x\n    config: {text}\n");
            let same = pwhost::vectors::parse("probe", &probe)
                .ok()
                .is_some_and(|f| f.cases[0].config == case.config.bytes());
            if same {
                y += &format!("    config: {text}\n");
            } else {
                y += &format!(
                    "    config_raw: {}\n",
                    yq(&String::from_utf8_lossy(&case.config.bytes()))
                );
            }
        }
        ConfigSpec::Raw(s) => y += &format!("    config_raw: {}\n", yq(s)),
    }
    if !case.properties.is_empty() {
        let parts: Vec<String> = case
            .properties
            .iter()
            .map(|(k, v)| format!("{k}: {}", yq(v)))
            .collect();
        y += &format!("    properties: {{{}}}\n", parts.join(", "));
    }
    y += "    request:\n";
    y += &format!("      headers: {}\n", yaml_headers(&case.headers));
    if let Some(b) = &case.body {
        y += &format!("      body: {}\n", yq(b));
    }
    if let Some(t) = &case.trailers {
        y += &format!("      trailers: {}\n", yaml_headers(t));
    }
    if case.upstream_headers.is_some() || case.upstream_body.is_some() {
        y += "    upstream_response:\n";
        if let Some(h) = &case.upstream_headers {
            y += &format!("      headers: {}\n", yaml_headers(h));
        }
        if let Some(b) = &case.upstream_body {
            y += &format!("      body: {}\n", yq(b));
        }
    }
    y += expect;
    y
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_round_trips_through_the_vector_parser() {
        let mut c = DiffCase::new(
            "nasty \"case\"",
            ConfigSpec::Json(
                json!({"name": "a\u{0}\r\n\u{85}\u{2028}é😀\\", "n": 1.5, "big": 4294967699u64,
                "_rules_": [{"_match_domain_": ["*.X.com"], "_disable_": true}]}),
            ),
        );
        c.properties = vec![("route_name".into(), "r\t1".into())];
        add_header(&mut c.headers, ":path", "/a?b=%00&c=\u{7f}");
        add_header(&mut c.headers, "x-a", "1");
        add_header(&mut c.headers, "X-A", "2");
        c.body = Some("body\u{feff}".into());
        c.trailers = Some(vec![("x-t".into(), vec!["v".into()])]);
        c.upstream_headers = Some(vec![(":status".into(), vec!["404".into()])]);
        c.upstream_body = Some(String::new());
        let text = format!("cases:\n{}", to_yaml(&c, ""));
        let f = pwhost::vectors::parse("t.yaml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let back = &f.cases[0];
        let want = c.to_case();
        assert_eq!(back.name, want.name);
        assert_eq!(back.config, want.config, "{text}");
        assert_eq!(back.properties, want.properties);
        assert_eq!(back.request.headers, want.request.headers);
        assert_eq!(back.request.body, want.request.body);
        assert_eq!(back.request.trailers, want.request.trailers);
        assert_eq!(
            back.upstream_response.headers,
            want.upstream_response.headers
        );
        assert_eq!(back.upstream_response.body, want.upstream_response.body);

        let raw = DiffCase::new("raw", ConfigSpec::Raw("{\"a\":\n".into()));
        let f =
            pwhost::vectors::parse("t.yaml", &format!("cases:\n{}", to_yaml(&raw, ""))).unwrap();
        assert_eq!(f.cases[0].config, b"{\"a\":\n");
    }
}
