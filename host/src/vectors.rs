//! Conformance vector files (`extensions/<plugin>/vectors/*.yaml`), format in `host/VECTORS.md`.
//!
//! A case is one of three shapes: a single request (`request:` and friends, the default), a session
//! (`steps:`: requests, clock advances, ticks and connections through one VM), or a TCP connection
//! (`connection:`). Every map is closed: an unknown key is an error naming the file, the case and the key.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_yaml_ng::Value;

use crate::tcp::TcpEvent;
use crate::types::{GrpcAnswer, Headers, LogLevel, Request, Response};

/// A parsed vector file.
#[derive(Clone, Debug)]
pub struct VectorFile {
    /// The file name as given (used in messages).
    pub path: String,
    pub cases: Vec<Case>,
}

/// One case, with file-level defaults already applied.
#[derive(Clone, Debug, Default)]
pub struct Case {
    pub name: String,
    /// Configuration bytes given to `proxy_on_configure`.
    pub config: Vec<u8>,
    pub properties: Vec<(String, String)>,
    /// The request of a single-request case.
    pub request: RequestSpec,
    pub upstream_response: ResponseSpec,
    /// Scripted answers to `proxy_http_call`, in call order.
    pub http_calls: Vec<ResponseSpec>,
    /// Scripted answers to `proxy_grpc_call`, in call order.
    pub grpc_calls: Vec<GrpcAnswerSpec>,
    /// A session: when not empty, the case runs these steps instead of one request.
    pub steps: Vec<Step>,
    /// A TCP case: the connection's events instead of a request.
    pub connection: Option<Vec<TcpEventSpec>>,
    /// Upstream clusters that exist (`None`: every name).
    pub clusters: Option<Vec<String>>,
    /// Shared data present before the VM starts.
    pub shared_data: Vec<(String, String)>,
    pub expect: Expect,
}

/// One step of a session.
#[derive(Clone, Debug)]
pub enum Step {
    /// A request through the VM.
    Request {
        request: RequestSpec,
        upstream_response: ResponseSpec,
        http_calls: Vec<ResponseSpec>,
        grpc_calls: Vec<GrpcAnswerSpec>,
        expect: Expect,
    },
    /// The clock moves.
    Advance(Duration),
    /// `proxy_on_tick` fires this many times, the clock moving by the tick period before each.
    Ticks {
        count: u32,
        http_calls: Vec<ResponseSpec>,
        grpc_calls: Vec<GrpcAnswerSpec>,
        expect: Expect,
    },
    /// A TCP connection through the VM.
    Connection {
        events: Vec<TcpEventSpec>,
        http_calls: Vec<ResponseSpec>,
        grpc_calls: Vec<GrpcAnswerSpec>,
        expect: Expect,
    },
}

/// `request:`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    #[serde(default)]
    pub headers: HeaderSpec,
    pub body: Option<String>,
    /// The body in several chunks (exclusive with `body`).
    pub body_chunks: Option<Vec<String>>,
    pub trailers: Option<HeaderSpec>,
    /// Default headers to leave out (`:authority`, `x-request-id`, `x-forwarded-proto`, ...).
    #[serde(default)]
    pub omit: Vec<String>,
}

/// `upstream_response:` and each `http_calls:` answer.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseSpec {
    pub headers: Option<HeaderSpec>,
    pub body: Option<String>,
    /// The body in several chunks (exclusive with `body`).
    pub body_chunks: Option<Vec<String>>,
    pub trailers: Option<HeaderSpec>,
}

/// Each `grpc_calls:` answer: `{response: ...}` / `{response_hex: ...}` for success, `{status: N, message:
/// ...}` for failure.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrpcAnswerSpec {
    pub response: Option<String>,
    pub response_hex: Option<String>,
    pub status: Option<u32>,
    pub message: Option<String>,
}

/// One event of a TCP connection: `{downstream: data}`, `{upstream: data}` (each may add `end_of_stream:
/// true`) or `{close: downstream|upstream}`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpEventSpec {
    pub downstream: Option<String>,
    pub upstream: Option<String>,
    #[serde(default)]
    pub end_of_stream: bool,
    pub close: Option<Peer>,
}

/// A side of a TCP connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Peer {
    Downstream,
    Upstream,
}

impl Peer {
    pub fn name(self) -> &'static str {
        match self {
            Peer::Downstream => "downstream",
            Peer::Upstream => "upstream",
        }
    }
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
#[derive(Clone, Debug, Default)]
pub struct Expect {
    pub configure: ConfigureExpect,
    pub local_response: Option<MessageExpect>,
    pub upstream_request: Option<MessageExpect>,
    pub downstream_response: Option<MessageExpect>,
    pub logs: Vec<LogExpect>,
    /// Every `proxy_http_call`, in order (the count must match).
    pub http_calls: Option<Vec<HttpCallExpect>>,
    /// Every `proxy_grpc_call`, in order (the count must match).
    pub grpc_calls: Option<Vec<GrpcCallExpect>>,
    /// Metric values by the name the plug-in defined (counter/gauge: a number; histogram: its samples).
    pub metrics: Option<Vec<(String, MetricExpect)>>,
    /// Shared-data values by key (`null`: absent).
    pub shared_data: Option<Vec<(String, Option<String>)>>,
    /// What a TCP connection passed on.
    pub connection: Option<ConnectionExpect>,
}

/// Expectations on a message (`status` is not allowed for `upstream_request`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageExpect {
    pub status: Option<u32>,
    pub headers: Option<HeaderSpec>,
    #[serde(default)]
    pub absent: Vec<String>,
    pub trailers: Option<HeaderSpec>,
    pub body: Option<String>,
    pub body_contains: Option<String>,
    pub body_json: Option<serde_json::Value>,
    pub body_matches: Option<String>,
    pub body_events: Option<Vec<serde_json::Value>>,
    #[serde(default)]
    pub ignore_fields: Vec<String>,
}

/// `expect.http_calls[]`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpCallExpect {
    pub cluster: Option<String>,
    pub method: Option<String>,
    pub path: Option<String>,
    pub headers: Option<HeaderSpec>,
    #[serde(default)]
    pub absent: Vec<String>,
    pub trailers: Option<HeaderSpec>,
    pub body: Option<String>,
    pub body_contains: Option<String>,
    pub body_json: Option<serde_json::Value>,
    pub body_matches: Option<String>,
    #[serde(default)]
    pub ignore_fields: Vec<String>,
    pub timeout_ms: Option<u32>,
}

/// `expect.grpc_calls[]`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrpcCallExpect {
    pub cluster: Option<String>,
    pub service: Option<String>,
    pub method: Option<String>,
    pub metadata: Option<HeaderSpec>,
    pub request: Option<String>,
    pub request_hex: Option<String>,
    pub request_contains: Option<String>,
    pub timeout_ms: Option<u32>,
}

/// `expect.connection:`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionExpect {
    pub to_upstream: Option<String>,
    pub to_downstream: Option<String>,
    pub closed_by_plugin: Option<Vec<Peer>>,
}

/// An expected metric value.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum MetricExpect {
    Value(i64),
    Samples(Vec<u64>),
}

/// `expect.logs[]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogExpect {
    pub level: LogLevel,
    pub contains: String,
}

/// The body expectation of a message or callout, whichever form was given.
#[derive(Clone, Copy, Debug)]
pub(crate) enum BodyExpect<'a> {
    Exact(&'a str),
    Contains(&'a str),
    Json(&'a serde_json::Value, &'a [String]),
    Matches(&'a str),
    Events(&'a [serde_json::Value], &'a [String]),
}

impl MessageExpect {
    pub(crate) fn body_expect(&self) -> Option<BodyExpect<'_>> {
        body_expect(
            &self.body,
            &self.body_contains,
            &self.body_json,
            &self.body_matches,
            self.body_events.as_deref(),
            &self.ignore_fields,
        )
    }
}

impl HttpCallExpect {
    pub(crate) fn body_expect(&self) -> Option<BodyExpect<'_>> {
        body_expect(
            &self.body,
            &self.body_contains,
            &self.body_json,
            &self.body_matches,
            None,
            &self.ignore_fields,
        )
    }
}

fn body_expect<'a>(
    body: &'a Option<String>,
    contains: &'a Option<String>,
    json: &'a Option<serde_json::Value>,
    matches: &'a Option<String>,
    events: Option<&'a [serde_json::Value]>,
    ignore: &'a [String],
) -> Option<BodyExpect<'a>> {
    if let Some(b) = body {
        return Some(BodyExpect::Exact(b));
    }
    if let Some(b) = contains {
        return Some(BodyExpect::Contains(b));
    }
    if let Some(j) = json {
        return Some(BodyExpect::Json(j, ignore));
    }
    if let Some(m) = matches {
        return Some(BodyExpect::Matches(m));
    }
    events.map(|e| BodyExpect::Events(e, ignore))
}

/// Checks the exclusive body forms of an expectation; `what` names it in messages.
fn check_body_forms(
    what: &str,
    given: &[(&str, bool)],
    ignore: &[String],
    pattern: Option<&str>,
) -> Result<(), String> {
    let set: Vec<&str> = given.iter().filter(|(_, g)| *g).map(|(n, _)| *n).collect();
    if set.len() > 1 {
        return Err(format!(
            "{what}: `{}` are exclusive; give one body expectation",
            set.join("`, `")
        ));
    }
    let structured = set.iter().any(|n| *n == "body_json" || *n == "body_events");
    if !ignore.is_empty() && !structured {
        return Err(format!(
            "{what}: `ignore_fields` needs `body_json` or `body_events`"
        ));
    }
    if let Some(p) = pattern {
        regex::Regex::new(p)
            .map_err(|e| format!("{what}.body_matches: not a valid regular expression: {e}"))?;
    }
    Ok(())
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

/// A map of names to scalars, in order (properties, shared data).
#[derive(Clone, Debug, Default)]
struct Props(Vec<(String, String)>);

impl<'de> Deserialize<'de> for Props {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Props;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of names to strings")
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

/// An ordered map with values of any deserializable type (`expect.metrics`, `expect.shared_data`).
fn ordered_map<'de, D, T>(d: D) -> Result<Option<Vec<(String, T)>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct V<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = Option<Vec<(String, T)>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                out.push((key, map.next_value::<T>()?));
            }
            Ok(Some(out))
        }
    }
    d.deserialize_map(V(std::marker::PhantomData))
}

/// `expect:` as written, before it becomes [`Expect`] (metrics and shared data keep their order).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    #[serde(default)]
    configure: ConfigureExpect,
    local_response: Option<MessageExpect>,
    upstream_request: Option<MessageExpect>,
    downstream_response: Option<MessageExpect>,
    #[serde(default)]
    logs: Vec<LogExpect>,
    http_calls: Option<Vec<HttpCallExpect>>,
    grpc_calls: Option<Vec<GrpcCallExpect>>,
    #[serde(default, deserialize_with = "ordered_map")]
    metrics: Option<Vec<(String, MetricExpect)>>,
    #[serde(default, deserialize_with = "ordered_map")]
    shared_data: Option<Vec<(String, Option<String>)>>,
    connection: Option<ConnectionExpect>,
}

impl From<RawExpect> for Expect {
    fn from(r: RawExpect) -> Expect {
        Expect {
            configure: r.configure,
            local_response: r.local_response,
            upstream_request: r.upstream_request,
            downstream_response: r.downstream_response,
            logs: r.logs,
            http_calls: r.http_calls,
            grpc_calls: r.grpc_calls,
            metrics: r.metrics,
            shared_data: r.shared_data,
            connection: r.connection,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    config: Option<Value>,
    config_raw: Option<String>,
    properties: Option<Props>,
    clusters: Option<Vec<String>>,
    cases: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: String,
    config: Option<Value>,
    config_raw: Option<String>,
    properties: Option<Props>,
    clusters: Option<Vec<String>>,
    shared_data: Option<Props>,
    request: Option<RequestSpec>,
    upstream_response: Option<ResponseSpec>,
    http_calls: Option<Vec<ResponseSpec>>,
    grpc_calls: Option<Vec<GrpcAnswerSpec>>,
    steps: Option<Vec<RawStep>>,
    connection: Option<Vec<TcpEventSpec>>,
    expect: Option<RawExpect>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    request: Option<RequestSpec>,
    upstream_response: Option<ResponseSpec>,
    advance: Option<String>,
    ticks: Option<u32>,
    connection: Option<Vec<TcpEventSpec>>,
    #[serde(default)]
    http_calls: Vec<ResponseSpec>,
    #[serde(default)]
    grpc_calls: Vec<GrpcAnswerSpec>,
    expect: Option<RawExpect>,
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

/// Parses a duration such as `500ms`, `5s`, `2m`, `1h` (also `ns`, `us`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("duration `{s}` has no unit (use ns, us, ms, s, m or h)"))?;
    let (n, unit) = s.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("duration `{s}` does not start with a number"))?;
    let d = match unit {
        "ns" => Duration::from_nanos(n),
        "us" => Duration::from_micros(n),
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => {
            return Err(format!(
                "duration `{s}`: unknown unit `{unit}` (use ns, us, ms, s, m or h)"
            ))
        }
    };
    Ok(d)
}

/// Decodes hex (spaces allowed between bytes).
pub fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err(format!("hex `{s}` has an odd number of digits"));
    }
    digits
        .chunks(2)
        .map(|p| {
            std::str::from_utf8(p)
                .ok()
                .and_then(|d| u8::from_str_radix(d, 16).ok())
                .ok_or_else(|| format!("hex `{s}` has a non-hex digit"))
        })
        .collect()
}

/// Parses vector YAML; `name` is used in messages.
pub fn parse(name: &str, text: &str) -> Result<VectorFile, VectorError> {
    let err = |m: String| VectorError(format!("{name}: {m}"));
    let de = serde_yaml_ng::Deserializer::from_str(text);
    let raw: RawFile = serde_path_to_error::deserialize(de).map_err(|e| err(describe(&e)))?;
    let file_config = match (&raw.config, &raw.config_raw) {
        (Some(_), Some(_)) => {
            return Err(err(
                "`config` and `config_raw` are exclusive; give one".into()
            ))
        }
        (Some(v), None) => to_json(v).map_err(err)?,
        (None, Some(r)) => r.as_bytes().to_vec(),
        (None, None) => b"{}".to_vec(),
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
        let case = build_case(c, &file_config, &file_props, raw.clusters.as_ref()).map_err(cerr)?;
        cases.push(case);
    }
    Ok(VectorFile {
        path: name.to_string(),
        cases,
    })
}

fn build_case(
    c: RawCase,
    file_config: &[u8],
    file_props: &[(String, String)],
    file_clusters: Option<&Vec<String>>,
) -> Result<Case, String> {
    let config = match (&c.config, &c.config_raw) {
        (Some(_), Some(_)) => {
            return Err("`config` and `config_raw` are exclusive; give one".into())
        }
        (Some(v), None) => to_json(v)?,
        (None, Some(raw)) => raw.as_bytes().to_vec(),
        (None, None) => file_config.to_vec(),
    };
    let mut properties = file_props.to_vec();
    for (k, v) in c.properties.unwrap_or_default().0 {
        properties.retain(|(p, _)| *p != k);
        properties.push((k, v));
    }
    let single = [
        ("request", c.request.is_some()),
        ("upstream_response", c.upstream_response.is_some()),
        ("http_calls", c.http_calls.is_some()),
        ("grpc_calls", c.grpc_calls.is_some()),
    ];
    let single_keys: Vec<&str> = single.iter().filter(|(_, g)| *g).map(|(n, _)| *n).collect();
    let shapes = usize::from(!single_keys.is_empty())
        + usize::from(c.steps.is_some())
        + usize::from(c.connection.is_some());
    if shapes > 1 {
        return Err(format!(
            "a case is a single request (`request`, `upstream_response`, `http_calls`, `grpc_calls`), a session \
             (`steps`) or a TCP connection (`connection`); this one mixes {}",
            [
                (!single_keys.is_empty()).then(|| format!("`{}`", single_keys.join("`, `"))),
                c.steps.is_some().then(|| "`steps`".to_string()),
                c.connection.is_some().then(|| "`connection`".to_string()),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" and ")
        ));
    }
    let expect: Expect = c.expect.map(Expect::from).unwrap_or_default();
    let request = c.request.unwrap_or_default();
    let upstream_response = c.upstream_response.unwrap_or_default();
    let http_calls = c.http_calls.unwrap_or_default();
    let grpc_calls = c.grpc_calls.unwrap_or_default();
    check_request(&request, "request")?;
    check_response(&upstream_response, "upstream_response")?;
    for (i, a) in http_calls.iter().enumerate() {
        check_response(a, &format!("http_calls[{i}]"))?;
    }
    for (i, a) in grpc_calls.iter().enumerate() {
        check_grpc_answer(a, &format!("grpc_calls[{i}]"))?;
    }

    let mut steps = Vec::new();
    if let Some(raw_steps) = c.steps {
        if raw_steps.is_empty() {
            return Err("`steps` is empty; give at least one step".into());
        }
        check_expect(&expect, "expect", Shape::Session)?;
        for (i, s) in raw_steps.into_iter().enumerate() {
            steps.push(build_step(s).map_err(|m| format!("steps[{i}]: {m}"))?);
        }
    }
    let connection = c.connection;
    if let Some(events) = &connection {
        check_events(events, "connection")?;
        check_expect(&expect, "expect", Shape::Tcp)?;
    } else if steps.is_empty() {
        check_expect(&expect, "expect", Shape::Http)?;
    }
    Ok(Case {
        name: c.name,
        config,
        properties,
        request,
        upstream_response,
        http_calls,
        grpc_calls,
        steps,
        connection,
        clusters: c.clusters.or_else(|| file_clusters.cloned()),
        shared_data: c.shared_data.unwrap_or_default().0,
        expect,
    })
}

fn build_step(s: RawStep) -> Result<Step, String> {
    let kinds = [
        ("request", s.request.is_some()),
        ("advance", s.advance.is_some()),
        ("ticks", s.ticks.is_some()),
        ("connection", s.connection.is_some()),
    ];
    let given: Vec<&str> = kinds.iter().filter(|(_, g)| *g).map(|(n, _)| *n).collect();
    if given.len() != 1 {
        return Err(format!(
            "a step is exactly one of `request`, `advance`, `ticks` or `connection`{}",
            if given.is_empty() {
                String::new()
            } else {
                format!(" (this one has `{}`)", given.join("`, `"))
            }
        ));
    }
    let expect: Expect = s.expect.map(Expect::from).unwrap_or_default();
    if expect.configure != ConfigureExpect::Ok {
        return Err("expect.configure belongs in the case's `expect`, not in a step".into());
    }
    if s.upstream_response.is_some() && s.request.is_none() {
        return Err("`upstream_response` belongs to a `request` step".into());
    }
    for (i, a) in s.http_calls.iter().enumerate() {
        check_response(a, &format!("http_calls[{i}]"))?;
    }
    for (i, a) in s.grpc_calls.iter().enumerate() {
        check_grpc_answer(a, &format!("grpc_calls[{i}]"))?;
    }
    if let Some(request) = s.request {
        check_request(&request, "request")?;
        let upstream_response = s.upstream_response.unwrap_or_default();
        check_response(&upstream_response, "upstream_response")?;
        check_expect(&expect, "expect", Shape::Http)?;
        return Ok(Step::Request {
            request,
            upstream_response,
            http_calls: s.http_calls,
            grpc_calls: s.grpc_calls,
            expect,
        });
    }
    if let Some(events) = s.connection {
        check_events(&events, "connection")?;
        check_expect(&expect, "expect", Shape::Tcp)?;
        return Ok(Step::Connection {
            events,
            http_calls: s.http_calls,
            grpc_calls: s.grpc_calls,
            expect,
        });
    }
    if let Some(count) = s.ticks {
        check_expect(&expect, "expect", Shape::Ticks)?;
        return Ok(Step::Ticks {
            count,
            http_calls: s.http_calls,
            grpc_calls: s.grpc_calls,
            expect,
        });
    }
    let advance = s.advance.unwrap_or_default();
    if !s.http_calls.is_empty() || !s.grpc_calls.is_empty() {
        return Err("an `advance` step makes no calls; put `http_calls`/`grpc_calls` answers on the step that does".into());
    }
    check_expect(&expect, "expect", Shape::Ticks)?;
    Ok(Step::Advance(
        parse_duration(&advance).map_err(|e| format!("advance: {e}"))?,
    ))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Http,
    Session,
    Ticks,
    Tcp,
}

fn check_expect(e: &Expect, what: &str, shape: Shape) -> Result<(), String> {
    let http = [
        ("local_response", e.local_response.is_some()),
        ("upstream_request", e.upstream_request.is_some()),
        ("downstream_response", e.downstream_response.is_some()),
    ];
    let callouts = [
        ("http_calls", e.http_calls.is_some()),
        ("grpc_calls", e.grpc_calls.is_some()),
    ];
    let refuse = |keys: &[(&str, bool)], why: &str| -> Result<(), String> {
        match keys.iter().find(|(_, g)| *g) {
            Some((k, _)) => Err(format!("{what}.{k}: {why}")),
            None => Ok(()),
        }
    };
    match shape {
        Shape::Session => {
            refuse(&http, "put per-request expectations in the step's `expect`")?;
            refuse(&callouts, "put callout expectations in the step's `expect`")?;
            refuse(
                &[("connection", e.connection.is_some())],
                "put it in the connection step's `expect`",
            )?;
        }
        Shape::Ticks => {
            refuse(&http, "only a request has a request and a response")?;
            refuse(
                &[("connection", e.connection.is_some())],
                "only a connection has one",
            )?;
        }
        Shape::Tcp => refuse(
            &http,
            "a TCP connection has no HTTP messages; use `expect.connection`",
        )?,
        Shape::Http => refuse(
            &[("connection", e.connection.is_some())],
            "only a TCP case (`connection:`) has one",
        )?,
    }
    if e.local_response.is_some() && e.upstream_request.is_some() {
        return Err(format!(
            "{what}.local_response and {what}.upstream_request are exclusive (a local response never reaches the backend)"
        ));
    }
    for (name, m) in [
        ("local_response", &e.local_response),
        ("upstream_request", &e.upstream_request),
        ("downstream_response", &e.downstream_response),
    ] {
        let Some(m) = m else { continue };
        if name == "upstream_request" && m.status.is_some() {
            return Err(format!(
                "{what}.upstream_request: unknown field `status` (requests have no status)"
            ));
        }
        check_body_forms(
            &format!("{what}.{name}"),
            &[
                ("body", m.body.is_some()),
                ("body_contains", m.body_contains.is_some()),
                ("body_json", m.body_json.is_some()),
                ("body_matches", m.body_matches.is_some()),
                ("body_events", m.body_events.is_some()),
            ],
            &m.ignore_fields,
            m.body_matches.as_deref(),
        )?;
    }
    for (i, c) in e.http_calls.iter().flatten().enumerate() {
        check_body_forms(
            &format!("{what}.http_calls[{i}]"),
            &[
                ("body", c.body.is_some()),
                ("body_contains", c.body_contains.is_some()),
                ("body_json", c.body_json.is_some()),
                ("body_matches", c.body_matches.is_some()),
            ],
            &c.ignore_fields,
            c.body_matches.as_deref(),
        )?;
    }
    for (i, c) in e.grpc_calls.iter().flatten().enumerate() {
        let forms = [
            ("request", c.request.is_some()),
            ("request_hex", c.request_hex.is_some()),
            ("request_contains", c.request_contains.is_some()),
        ];
        let set: Vec<&str> = forms.iter().filter(|(_, g)| *g).map(|(n, _)| *n).collect();
        if set.len() > 1 {
            return Err(format!(
                "{what}.grpc_calls[{i}]: `{}` are exclusive",
                set.join("`, `")
            ));
        }
        if let Some(h) = &c.request_hex {
            parse_hex(h).map_err(|e| format!("{what}.grpc_calls[{i}].request_hex: {e}"))?;
        }
    }
    Ok(())
}

fn check_request(r: &RequestSpec, what: &str) -> Result<(), String> {
    if r.body.is_some() && r.body_chunks.is_some() {
        return Err(format!(
            "{what}: `body` and `body_chunks` are exclusive; give one"
        ));
    }
    Ok(())
}

fn check_response(r: &ResponseSpec, what: &str) -> Result<(), String> {
    if r.body.is_some() && r.body_chunks.is_some() {
        return Err(format!(
            "{what}: `body` and `body_chunks` are exclusive; give one"
        ));
    }
    Ok(())
}

fn check_grpc_answer(a: &GrpcAnswerSpec, what: &str) -> Result<(), String> {
    if a.response.is_some() && a.response_hex.is_some() {
        return Err(format!(
            "{what}: `response` and `response_hex` are exclusive"
        ));
    }
    let failure = a.status.is_some_and(|s| s != 0);
    if failure && (a.response.is_some() || a.response_hex.is_some()) {
        return Err(format!(
            "{what}: a failed call (`status` {}) has no response; Envoy answers it with proxy_on_grpc_close only",
            a.status.unwrap_or_default()
        ));
    }
    if a.message.is_some() && !failure {
        return Err(format!(
            "{what}: `message` is the status message of a failed call; give a non-zero `status`"
        ));
    }
    if a.status.is_some_and(|s| s > 16) {
        return Err(format!("{what}.status: gRPC status codes are 0 to 16"));
    }
    if let Some(h) = &a.response_hex {
        parse_hex(h).map_err(|e| format!("{what}.response_hex: {e}"))?;
    }
    Ok(())
}

fn check_events(events: &[TcpEventSpec], what: &str) -> Result<(), String> {
    if events.is_empty() {
        return Err(format!("{what}: give at least one event"));
    }
    for (i, e) in events.iter().enumerate() {
        let n = usize::from(e.downstream.is_some())
            + usize::from(e.upstream.is_some())
            + usize::from(e.close.is_some());
        if n != 1 {
            return Err(format!(
                "{what}[{i}]: an event is exactly one of `downstream`, `upstream` or `close`"
            ));
        }
        if e.end_of_stream && e.close.is_some() {
            return Err(format!(
                "{what}[{i}]: `end_of_stream` goes with data, not with `close`"
            ));
        }
    }
    Ok(())
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

impl RequestSpec {
    /// As a request (no properties).
    pub fn to_request(&self) -> Request {
        let mut r = Request::bare();
        r.defaults = true;
        r.headers = self.headers.to_headers();
        match (&self.body, &self.body_chunks) {
            (Some(b), _) => r = r.body(b),
            (None, Some(chunks)) => r = r.chunks(chunks),
            (None, None) => {}
        }
        r.trailers = self.trailers.as_ref().map(HeaderSpec::to_headers);
        r.omit = self.omit.iter().map(|h| h.to_ascii_lowercase()).collect();
        r
    }
}

impl Case {
    /// The request of a single-request case.
    pub fn to_request(&self) -> Request {
        let mut r = self.request.to_request();
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
        let mut r = Response::new(200);
        r.headers = headers;
        match (&self.body, &self.body_chunks) {
            (Some(b), _) => r = r.body(b),
            (None, Some(chunks)) => r = r.chunks(chunks),
            (None, None) => {}
        }
        r.trailers = self.trailers.as_ref().map(HeaderSpec::to_headers);
        r
    }
}

impl GrpcAnswerSpec {
    /// As an answer.
    pub fn to_answer(&self) -> GrpcAnswer {
        match self.status {
            Some(s) if s != 0 => GrpcAnswer::error(s, self.message.as_deref().unwrap_or("")),
            _ => {
                let bytes = match (&self.response, &self.response_hex) {
                    (_, Some(h)) => parse_hex(h).unwrap_or_default(),
                    (Some(t), None) => t.as_bytes().to_vec(),
                    (None, None) => Vec::new(),
                };
                GrpcAnswer::Ok(bytes)
            }
        }
    }
}

impl TcpEventSpec {
    /// As an event.
    pub fn to_event(&self) -> TcpEvent {
        match (&self.downstream, &self.upstream, self.close) {
            (Some(d), _, _) => TcpEvent::Downstream {
                data: d.as_bytes().to_vec(),
                end_of_stream: self.end_of_stream,
            },
            (None, Some(u), _) => TcpEvent::Upstream {
                data: u.as_bytes().to_vec(),
                end_of_stream: self.end_of_stream,
            },
            (None, None, Some(Peer::Upstream)) => TcpEvent::CloseUpstream,
            (None, None, _) => TcpEvent::CloseDownstream,
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
        let e = parse("v.yaml", "config: {}\nconfig_raw: x\ncases: []\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "v.yaml: `config` and `config_raw` are exclusive; give one"
        );
    }

    #[test]
    fn file_level_config_raw_is_every_case_default() {
        let f = parse(
            "v.yaml",
            "config_raw: 'not json'\ncases:\n  - name: a\n  - name: b\n    config: {x: 1}\n",
        )
        .unwrap();
        assert_eq!(f.cases[0].config, b"not json");
        assert_eq!(f.cases[1].config, br#"{"x":1}"#);
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

    #[test]
    fn body_and_body_chunks_are_exclusive() {
        let y = "cases:\n  - name: x\n    request: {body: a, body_chunks: [a]}\n";
        let e = parse("v.yaml", y).unwrap_err().to_string();
        assert_eq!(
            e,
            "v.yaml: case `x`: request: `body` and `body_chunks` are exclusive; give one"
        );
        let y =
            "cases:\n  - name: x\n    upstream_response: {body_chunks: [a, b], trailers: {t: v}}\n";
        let f = parse("v.yaml", y).unwrap();
        let r = f.cases[0].upstream_response.to_response();
        assert_eq!(r.body, b"ab");
        assert_eq!(r.body_chunks(), vec![b"a".to_vec(), b"b".to_vec()]);
        assert!(r.trailers.is_some());
    }

    #[test]
    fn shapes_do_not_mix() {
        let y = "cases:\n  - name: x\n    request: {}\n    steps: [{ticks: 1}]\n";
        let e = parse("v.yaml", y).unwrap_err().to_string();
        assert!(e.contains("this one mixes `request` and `steps`"), "{e}");
        let y = "cases:\n  - name: x\n    steps: [{ticks: 1, advance: 1s}]\n";
        let e = parse("v.yaml", y).unwrap_err().to_string();
        assert!(
            e.contains("steps[0]: a step is exactly one of `request`, `advance`, `ticks` or `connection` (this one has `advance`, `ticks`)"),
            "{e}"
        );
        let y = "cases:\n  - name: x\n    steps: [{ticks: 1}]\n    expect: {local_response: {status: 1}}\n";
        let e = parse("v.yaml", y).unwrap_err().to_string();
        assert!(
            e.contains(
                "expect.local_response: put per-request expectations in the step's `expect`"
            ),
            "{e}"
        );
    }

    #[test]
    fn sessions_parse_steps_in_order() {
        let y = r#"
cases:
  - name: s
    shared_data: {k: v}
    steps:
      - request: {headers: {":path": /a}}
        http_calls: [{body: ok}]
        expect: {upstream_request: {headers: {":path": /a}}, metrics: {hits: 1}}
      - advance: 1500ms
      - ticks: 2
        expect: {shared_data: {k: v, gone: null}, metrics: {lat: [1, 2]}}
      - connection: [{downstream: hi}, {close: downstream}]
        expect: {connection: {to_upstream: hi}}
"#;
        let f = parse("v.yaml", y).unwrap();
        let c = &f.cases[0];
        assert_eq!(c.shared_data, vec![("k".into(), "v".into())]);
        assert_eq!(c.steps.len(), 4);
        assert!(matches!(&c.steps[0], Step::Request { http_calls, .. } if http_calls.len() == 1));
        assert!(matches!(c.steps[1], Step::Advance(d) if d == Duration::from_millis(1500)));
        let Step::Ticks { count, expect, .. } = &c.steps[2] else {
            panic!("ticks")
        };
        assert_eq!(*count, 2);
        assert_eq!(
            expect.shared_data.as_ref().unwrap(),
            &vec![
                ("k".to_string(), Some("v".to_string())),
                ("gone".to_string(), None)
            ]
        );
        assert_eq!(
            expect.metrics.as_ref().unwrap()[0].1,
            MetricExpect::Samples(vec![1, 2])
        );
        assert!(matches!(&c.steps[3], Step::Connection { events, .. } if events.len() == 2));
    }

    #[test]
    fn body_forms_are_exclusive_and_checked() {
        let y =
            "cases:\n  - name: x\n    expect: {downstream_response: {body: a, body_json: {}}}\n";
        let e = parse("v.yaml", y).unwrap_err().to_string();
        assert!(e.contains("`body`, `body_json` are exclusive"), "{e}");
        let y = "cases:\n  - name: x\n    expect: {downstream_response: {body: a, ignore_fields: [x]}}\n";
        let e = parse("v.yaml", y).unwrap_err().to_string();
        assert!(
            e.contains("`ignore_fields` needs `body_json` or `body_events`"),
            "{e}"
        );
        let y = "cases:\n  - name: x\n    expect: {downstream_response: {body_matches: '('}}\n";
        let e = parse("v.yaml", y).unwrap_err().to_string();
        assert!(
            e.contains("body_matches: not a valid regular expression"),
            "{e}"
        );
    }

    #[test]
    fn grpc_answers_and_durations() {
        let y = "cases:\n  - name: x\n    grpc_calls: [{status: 7, response: a}]\n";
        let e = parse("v.yaml", y).unwrap_err().to_string();
        assert!(
            e.contains("grpc_calls[0]: a failed call (`status` 7) has no response"),
            "{e}"
        );
        let y = "cases:\n  - name: x\n    grpc_calls: [{response_hex: '0a 01 61'}, {status: 16, message: no}]\n";
        let f = parse("v.yaml", y).unwrap();
        assert_eq!(
            f.cases[0].grpc_calls[0].to_answer(),
            GrpcAnswer::Ok(vec![0x0a, 1, b'a'])
        );
        assert_eq!(
            f.cases[0].grpc_calls[1].to_answer(),
            GrpcAnswer::error(16, "no")
        );
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("5").unwrap_err().contains("no unit"));
        assert!(parse_duration("5d")
            .unwrap_err()
            .contains("unknown unit `d`"));
    }
}
