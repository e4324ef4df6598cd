//! Case generators built from the plug-ins' documented configuration schemas (one per plug-in), plus a
//! generic mutator that starts from the plug-in's existing vector cases.

use serde_json::{json, Map, Value};

use crate::case::{add_header, set_header, ConfigSpec, DiffCase};
use crate::prng::Rng;
use crate::regex_gen;

pub mod ext;

/// The plug-ins that have both a Rust and a C++ build.
pub const PLUGINS: [&str; 7] = [
    "hello-world",
    "say-hello",
    "add-header",
    "request-block",
    "custom-response",
    "key-auth",
    "basic-auth",
];

const NASTY: &[&str] = &[
    "",
    " ",
    "a",
    "A",
    "é",
    "日本語",
    "😀",
    "%00",
    "%2F",
    "\0",
    "a\0b",
    "\r\n",
    "a\r\nx-injected: 1",
    "\n",
    "\t",
    "\\",
    "\"",
    "'",
    ".*",
    "(a|b)+",
    "[",
    "]",
    "{",
    "}",
    "^$",
    "?",
    "*",
    "+",
    "|",
    "$(x)",
    "<script>",
    "../..",
    "ünïcödé",
    "\u{202e}rtl",
    "\u{feff}",
    "\u{7f}",
    "\u{85}",
    "null",
    "true",
    "0",
    "-1",
    "x:y",
    "a b",
];

const RAW_CONFIGS: &[&str] = &[
    "",
    " ",
    "\n",
    "not json",
    "[]",
    "42",
    "\"x\"",
    "null",
    "true",
    "{",
    "{\"a\":}",
    "{} {}",
    "{\"_rules_\": 5}",
    "\u{feff}{}",
    "{\"name\": \"a\", \"name\": \"b\"}",
    "{\"name\":\"\\ud800\"}",
    "{\"a\":1e999}",
    "{\"a\":1,}",
    "{'a': 1}",
    " {} ",
    "{}\n",
    "{\"_rules_\": [{}]}",
    "{\"_rules_\": []}",
    "{\"_rules_\": null}",
    "{\"name\": \"x\\u0000y\"}",
    "{\"header_name\": \"x-a\", \"header_value\": \"v\", \"header_name\": \"x-b\"}",
    "{\"block_urls\": [\"a\"], \"block_urls\": []}",
    "[{}]",
    "{\"a\" : [1, 2, {\"b\": null}]}",
];

const HOSTS: &[&str] = &[
    "example.com",
    "foo.com",
    "a.example.com",
    "www.test.org",
    "internal.local",
    "localhost",
    "x",
    "1.2.3.4",
    "[::1]",
    "::1",
    "[fe80::1]",
    "[::1",
    "bücher.de",
    "xn--bcher-kva.de",
    "FOO.com",
    "Api.Example.COM",
];
const PORTS: &[&str] = &[
    "",
    "",
    "",
    ":80",
    ":8080",
    ":443",
    ":",
    ":abc",
    ":65536",
    ":0",
    ":99999999999",
    ":8080:90",
    " :80",
    ":080",
];
const ROUTES: &[&str] = &[
    "r1",
    "route-a",
    "route-b",
    "api-v1",
    "api-",
    "Route-A",
    "lucy",
    "default/lucy",
    "路由",
    "r1 ",
    "a|b",
    "canary",
];
const PREFIXES: &[&str] = &["api-", "r", "route-", "API-", "x", "default/", "路"];
const SERVICES: &[&str] = &[
    "svc.dns",
    "svc.dns:443",
    "svc.default.svc.cluster.local:8080",
    "backend.dns",
    "svc.dns:",
    "svc.dns:abc",
    "svc.dns:123456",
    "svc.dns:0443",
    "[::1]:80",
    "a:b:80",
    "Svc.DNS",
    "legacy.dns",
    "svc.dns:65535",
];
const CLUSTERS: &[&str] = &[
    "outbound|443||svc.dns",
    "outbound|8080|v1|svc.default.svc.cluster.local",
    "svc.dns",
    "a|b|c",
    "outbound||||x",
    "inbound|80||svc.dns|extra",
    "outbound|443||Svc.DNS",
    "outbound|0443||svc.dns",
    "",
];

/// What a generated configuration talks about, so requests can hit (or nearly hit) it.
#[derive(Default, Debug)]
pub struct Tokens {
    routes: Vec<String>,
    prefixes: Vec<String>,
    domains: Vec<String>,
    services: Vec<String>,
    urls: Vec<String>,
    regexes: Vec<Vec<u8>>,
    header_needles: Vec<String>,
    body_needles: Vec<String>,
    header_names: Vec<String>,
    /// Auth plug-ins: the configured credentials (API keys, or `user:password` in clear).
    creds: Vec<String>,
    /// key-auth: the configured key names.
    key_names: Vec<String>,
    /// Auth plug-ins: the configured consumer names.
    names: Vec<String>,
    /// custom-response: the `enable_on_status` entries.
    statuses: Vec<String>,
    /// Whether `fields` is building a `_rules_` entry.
    in_rule: bool,
    /// Whether this case may contain deliberately invalid configuration.
    pub dirty: bool,
}

impl Tokens {
    /// True with probability `percent`/100 in a dirty case, never in a clean one.
    fn bad(&self, rng: &mut Rng, percent: u32) -> bool {
        self.dirty && rng.chance(percent)
    }
}

/// A nasty string that is never empty.
fn nasty_ne(rng: &mut Rng) -> String {
    let s = nasty(rng);
    if s.is_empty() {
        "x".into()
    } else {
        s
    }
}

fn nasty(rng: &mut Rng) -> String {
    if rng.chance(5) {
        let n = rng.range(100, 5000);
        let unit = *rng.pick(&["x", "é", "ab/", "😀", "%00"]);
        return unit.repeat(n / unit.len().max(1) + 1);
    }
    rng.pick(NASTY).to_string()
}

/// Flips the case of ASCII letters (all, none or some).
pub fn case_variant(s: &str, rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => s.to_ascii_uppercase(),
        1 => s.to_ascii_lowercase(),
        2 => s
            .chars()
            .map(|c| {
                if c.is_ascii_alphabetic() && rng.chance(50) {
                    if c.is_ascii_lowercase() {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                } else {
                    c
                }
            })
            .collect(),
        _ => s.to_string(),
    }
}

fn wrong_type(rng: &mut Rng) -> Value {
    rng.pick(&[
        json!(1),
        json!(null),
        json!(true),
        json!([]),
        json!({}),
        json!(1.5),
        json!(-1),
        json!("x"),
        json!([1]),
        json!(["a", 2]),
    ])
    .clone()
}

fn domain_pattern(rng: &mut Rng) -> String {
    let h = *rng.pick(HOSTS);
    let suffix = h.split_once('.').map(|(_, s)| s).unwrap_or(h);
    let p = match rng.below(12) {
        0..=2 => h.to_string(),
        3 | 4 => format!("*.{suffix}"),
        5 => format!("*{h}"),
        6 | 7 => format!("{}*", &h[..h.floor_char_boundary(h.len() / 2 + 1)]),
        8 => "*".to_string(),
        9 => rng
            .pick(&["**", "a*b", "*x*", "*.", ".*", "*:80", "x**", "*.*"])
            .to_string(),
        10 => h.to_ascii_uppercase(),
        _ => rng
            .pick(&["[::1]", "::1", "[fe80::1]", "foo.com:8080", "é.com"])
            .to_string(),
    };
    p
}

fn match_value(key: &str, rng: &mut Rng, tok: &mut Tokens) -> Value {
    if tok.bad(rng, 15) {
        return rng
            .pick(&[
                json!([]),
                json!("x"),
                json!([""]),
                json!([1]),
                json!(null),
                json!([["a"]]),
                json!({"a": 1}),
                json!(true),
                json!(["ok", ""]),
            ])
            .clone();
    }
    let n = rng.range(1, 3);
    let mut items = Vec::new();
    for _ in 0..n {
        let s = match key {
            "_match_route_" => {
                let r = if rng.chance(10) {
                    nasty_ne(rng)
                } else {
                    rng.pick(ROUTES).to_string()
                };
                tok.routes.push(r.clone());
                r
            }
            "_match_route_prefix_" => {
                let p = rng.pick(PREFIXES).to_string();
                tok.prefixes.push(p.clone());
                p
            }
            "_match_domain_" => {
                let d = if rng.chance(5) {
                    nasty_ne(rng)
                } else {
                    domain_pattern(rng)
                };
                tok.domains.push(d.clone());
                d
            }
            _ => {
                let s = rng.pick(SERVICES).to_string();
                tok.services.push(s.clone());
                s
            }
        };
        items.push(Value::String(s));
    }
    Value::Array(items)
}

const MATCH_KEYS: [&str; 4] = [
    "_match_route_",
    "_match_route_prefix_",
    "_match_domain_",
    "_match_service_",
];

fn rule(plugin: &str, rng: &mut Rng, tok: &mut Tokens) -> Value {
    let mut m = Map::new();
    let keys = match rng.below(100) {
        0..=7 if tok.dirty => 0,
        8..=15 if tok.dirty => 2,
        _ => 1,
    };
    for _ in 0..keys {
        let k = *rng.pick(&MATCH_KEYS);
        let v = match_value(k, rng, tok);
        m.insert(k.to_string(), v);
    }
    let disabled = match rng.below(100) {
        0..=19 => {
            m.insert("_disable_".into(), json!(true));
            true
        }
        20..=27 => {
            m.insert("_disable_".into(), json!(false));
            false
        }
        28..=35 if tok.dirty => {
            m.insert(
                "_disable_".into(),
                rng.pick(&[json!("true"), json!(1), json!(null)]).clone(),
            );
            false
        }
        _ => false,
    };
    if !disabled || rng.chance(40) {
        let outer = tok.in_rule;
        tok.in_rule = true;
        for (k, v) in fields(plugin, rng, tok) {
            m.insert(k, v);
        }
        tok.in_rule = outer;
    }
    Value::Object(m)
}

/// The plug-in's own configuration keys (global or per rule), from its README's schema.
fn fields(plugin: &str, rng: &mut Rng, tok: &mut Tokens) -> Map<String, Value> {
    if ext::is_ext(plugin) {
        return ext::fields(plugin, rng, tok);
    }
    let mut m = Map::new();
    match plugin {
        "hello-world" => {
            if tok.bad(rng, 30) {
                let k = *rng.pick(&[
                    "name",
                    "x",
                    "_rules",
                    "_disable_",
                    "_match_route_",
                    "Name",
                    "",
                ]);
                m.insert(k.to_string(), json!("x"));
            }
        }
        "say-hello" => {
            match rng.below(100) {
                0..=54 => {
                    let n = if rng.chance(50) {
                        rng.pick(&["Alice", "Lucy", "Foo", "World", "张三"])
                            .to_string()
                    } else if tok.dirty {
                        nasty(rng)
                    } else {
                        nasty_ne(rng)
                    };
                    m.insert("name".into(), Value::String(n));
                }
                55..=70 if tok.dirty => {
                    m.insert("name".into(), wrong_type(rng));
                }
                _ => {}
            }
            if tok.bad(rng, 10) {
                let k = *rng.pick(&["Name", "nam", "greeting", "name "]);
                m.insert(k.into(), json!("x"));
            }
        }
        "add-header" => {
            if !tok.dirty || rng.chance(85) {
                let v = if tok.bad(rng, 12) {
                    wrong_type(rng)
                } else if !tok.dirty {
                    let n = rng
                        .pick(&[
                            "x-env",
                            "X-Env",
                            "x-a",
                            "host",
                            "user-agent",
                            "!#$%&'*+-.^_`|~",
                            "X-REPLACE",
                            "content-type",
                            "x-hello",
                            "X-A",
                            "cookie",
                            "x-debug",
                        ])
                        .to_string();
                    let n = if rng.chance(3) {
                        "x".repeat(rng.range(100, 3000))
                    } else {
                        n
                    };
                    tok.header_names.push(n.clone());
                    Value::String(n)
                } else {
                    let n = rng
                        .pick(&[
                            "x-env",
                            "X-Env",
                            "x-a",
                            "x_a",
                            "a b",
                            ":path",
                            ":authority",
                            "",
                            "x-日本",
                            "x\0",
                            "host",
                            "user-agent",
                            "!#$%&'*+-.^_`|~",
                            "X-REPLACE",
                            "content-type",
                            "x-hello",
                            "x\u{e9}",
                            "x\u{7f}",
                            "x\u{85}",
                            "x\u{1}",
                            "x:y",
                            "x-a\t",
                        ])
                        .to_string();
                    let n = if rng.chance(3) {
                        "x".repeat(rng.range(100, 3000))
                    } else {
                        n
                    };
                    tok.header_names.push(n.clone());
                    Value::String(n)
                };
                m.insert("header_name".into(), v);
            }
            if !tok.dirty || rng.chance(85) {
                let v = if tok.bad(rng, 12) {
                    wrong_type(rng)
                } else if tok.dirty && rng.chance(40) {
                    Value::String(nasty(rng))
                } else if rng.chance(40) {
                    let v = nasty(rng);
                    Value::String(if v.contains(['\r', '\n', '\0']) {
                        "clean".into()
                    } else {
                        v
                    })
                } else {
                    Value::String(
                        rng.pick(
                            &[
                                "", "prod", "a b", "x\r\ny", "x\ny", "x\0", "é", "  lead",
                                "trail ", "\t",
                            ][..if tok.dirty { 10 } else { 3 }],
                        )
                        .to_string(),
                    )
                };
                m.insert("header_value".into(), v);
            }
            if tok.bad(rng, 8) {
                m.insert(
                    rng.pick(&["header", "value", "Header_Name"]).to_string(),
                    json!("x"),
                );
            }
        }
        _ => request_block_fields(rng, tok, &mut m),
    }
    m
}

fn list_entry(rng: &mut Rng, tok: &Tokens, pool: &[&str]) -> Value {
    if tok.bad(rng, 8) {
        return rng
            .pick(&[json!(1), json!(null), json!(""), json!(["a"])])
            .clone();
    }
    if rng.chance(25) {
        Value::String(if tok.dirty { nasty(rng) } else { nasty_ne(rng) })
    } else {
        {
            let p = *rng.pick(pool);
            Value::String(case_variant(p, rng))
        }
    }
}

fn request_block_fields(rng: &mut Rng, tok: &mut Tokens, m: &mut Map<String, Value>) {
    const URLS: &[&str] = &[
        "/admin",
        "swagger.html",
        "/Admin",
        ".php",
        "?",
        "%00",
        "/",
        "é",
        "/api/v1",
        "..",
        "/exact",
        "/x?y=1",
        "/Login",
        "日本",
    ];
    const HEADERS: &[&str] = &[
        "x-debug",
        "user-agent: curl",
        "user-agent: evilbot",
        ": ",
        "x-a: 1",
        ":authority: evil",
        ":path: /admin",
        "cookie: sess",
        "X-Debug",
        "debug",
        ":method: post",
        "host",
        "x-a: ",
    ];
    const BODIES: &[&str] = &[
        "DROP TABLE",
        "drop table",
        "<script>",
        "\0",
        "é",
        "passwd",
        "x",
        "\r\n",
        "SELECT",
    ];
    let lists = [
        "block_urls",
        "block_exact_urls",
        "block_regexp_urls",
        "block_headers",
        "block_bodies",
    ];
    let want_some = !tok.bad(rng, 15);
    let mut any = false;
    for (i, key) in lists.iter().enumerate() {
        let last = i == lists.len() - 1;
        if !(rng.chance(33) || (last && want_some && !any)) {
            continue;
        }
        let n = rng.range(0, 3);
        let mut items = Vec::new();
        for _ in 0..n.max(usize::from(want_some)) {
            let v = match *key {
                "block_urls" => list_entry(rng, tok, URLS),
                "block_exact_urls" => list_entry(rng, tok, URLS),
                "block_regexp_urls" => {
                    let g = regex_gen::pattern(rng, tok.dirty);
                    for input in g.inputs.into_iter().take(3) {
                        tok.regexes.push(input);
                    }
                    if tok.bad(rng, 5) {
                        wrong_type(rng)
                    } else {
                        Value::String(g.pattern)
                    }
                }
                "block_headers" => list_entry(rng, tok, HEADERS),
                _ => list_entry(rng, tok, BODIES),
            };
            if let Value::String(s) = &v {
                match *key {
                    "block_urls" | "block_exact_urls" => tok.urls.push(s.clone()),
                    "block_headers" => tok.header_needles.push(s.clone()),
                    "block_bodies" => tok.body_needles.push(s.clone()),
                    _ => {}
                }
            }
            items.push(v);
        }
        any = true;
        let name = if *key == "block_bodies" && rng.chance(25) {
            "block_bodys"
        } else {
            key
        };
        m.insert(name.to_string(), Value::Array(items.clone()));
        if *key == "block_bodies" && tok.bad(rng, 8) {
            m.insert("block_bodys".into(), Value::Array(items));
        }
    }
    if tok.bad(rng, 8) {
        m.insert(lists[rng.below(5)].to_string(), wrong_type(rng));
    }
    if rng.chance(35) {
        let v = rng
            .pick(
                &[
                    json!(200),
                    json!(403),
                    json!(404),
                    json!(100),
                    json!(599),
                    json!(99),
                    json!(600),
                    json!(0),
                    json!(-1),
                    json!(403.0),
                    json!("403"),
                    json!(null),
                    json!(10_000_000_000u64),
                    json!(4_294_967_699u64),
                    json!(429),
                ][..if tok.dirty { 15 } else { 5 }],
            )
            .clone();
        m.insert("blocked_code".into(), v);
    }
    if rng.chance(35) {
        let v = if tok.bad(rng, 15) {
            wrong_type(rng)
        } else {
            Value::String(nasty(rng))
        };
        m.insert("blocked_message".into(), v);
    }
    if rng.chance(35) {
        let v = rng
            .pick(
                &[
                    json!(true),
                    json!(false),
                    json!(false),
                    json!("false"),
                    json!(0),
                    json!(null),
                ][..if tok.dirty { 6 } else { 3 }],
            )
            .clone();
        m.insert("case_sensitive".into(), v);
    }
    if tok.bad(rng, 6) {
        m.insert(
            rng.pick(&[
                "block_url",
                "Block_urls",
                "blocked_body",
                "case_insensitive",
            ])
            .to_string(),
            json!(["x"]),
        );
    }
}

/// A fresh configuration for `plugin`.
pub fn config(plugin: &str, rng: &mut Rng, tok: &mut Tokens) -> ConfigSpec {
    if ext::is_ext(plugin) {
        return ext::config(plugin, rng, tok);
    }
    tok.dirty = rng.chance(35);
    if tok.bad(rng, 15) {
        return ConfigSpec::Raw(rng.pick(RAW_CONFIGS).to_string());
    }
    if tok.bad(rng, 5) {
        let deep = if rng.chance(50) {
            format!("{}{}", "[".repeat(200), "]".repeat(200))
        } else {
            format!("{{\"_rules_\": {}{}}}", "[".repeat(130), "]".repeat(130))
        };
        return ConfigSpec::Raw(deep);
    }
    if tok.bad(rng, 8) {
        return ConfigSpec::Json(wrong_type(rng));
    }
    let mut m = if rng.chance(65) {
        fields(plugin, rng, tok)
    } else {
        Map::new()
    };
    if rng.chance(55) {
        let rules = if tok.bad(rng, 10) {
            rng.pick(&[
                json!(5),
                json!("x"),
                json!({}),
                json!(null),
                json!([5]),
                json!([[]]),
                json!([]),
            ])
            .clone()
        } else {
            let n = rng.range(1, 4);
            Value::Array((0..n).map(|_| rule(plugin, rng, tok)).collect())
        };
        m.insert("_rules_".into(), rules);
    }
    ConfigSpec::Json(Value::Object(m))
}

fn authority(rng: &mut Rng, tok: &Tokens) -> String {
    let host = if !tok.domains.is_empty() && rng.chance(65) {
        let p = rng.pick(&tok.domains).clone();
        let label = *rng.pick(&["a", "www", "x.y", "", "A"]);
        if p == "*" {
            rng.pick(HOSTS).to_string()
        } else if let Some(s) = p.strip_prefix('*') {
            match rng.below(3) {
                0 => s.trim_start_matches('.').to_string(),
                _ => format!("{label}{s}"),
            }
        } else if let Some(s) = p.strip_suffix('*') {
            format!("{s}{label}")
        } else {
            p
        }
    } else {
        rng.pick(HOSTS).to_string()
    };
    let host = if rng.chance(30) {
        case_variant(&host, rng)
    } else {
        host
    };
    format!("{host}{}", rng.pick(PORTS))
}

fn cluster_for(service: &str, rng: &mut Rng) -> String {
    let (fqdn, port) = match service.rsplit_once(':') {
        Some((f, p)) if (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) => {
            (f, p.to_string())
        }
        _ => (service, rng.pick(&["80", "443", "8080"]).to_string()),
    };
    match rng.below(8) {
        0 => format!("outbound|{port}|v1|{fqdn}"),
        1 => format!("outbound|{port}||{fqdn}|x"),
        2 => format!("outbound|{port}|{fqdn}"),
        3 => format!("outbound|9999||{fqdn}"),
        4 => format!("outbound|{port}||{}", fqdn.to_ascii_uppercase()),
        _ => format!("outbound|{port}||{fqdn}"),
    }
}

fn url(plugin: &str, rng: &mut Rng, tok: &Tokens) -> String {
    if plugin == "request-block" {
        if !tok.regexes.is_empty() && rng.chance(35) {
            let s = rng.pick(&tok.regexes).clone();
            let s = if rng.chance(30) {
                regex_gen::mutate_input(&s, rng)
            } else {
                s
            };
            if let Ok(s) = String::from_utf8(s) {
                return s;
            }
        }
        if !tok.urls.is_empty() && rng.chance(45) {
            let n = rng.pick(&tok.urls).clone();
            let n = if rng.chance(30) {
                case_variant(&n, rng)
            } else {
                n
            };
            return match rng.below(3) {
                0 => n,
                1 => format!("/pre{n}"),
                _ => format!("/v1{n}?q=1"),
            };
        }
    }
    if rng.chance(20) {
        return nasty(rng);
    }
    if rng.chance(3) {
        return format!("/{}", "a/".repeat(rng.range(100, 2000)));
    }
    rng.pick(&[
        "/",
        "/index.html",
        "/api/v1/users?id=1",
        "/admin/x",
        "/swagger.html",
        "/a%00b",
        "/Login",
        "/x?y=1&z=%2F",
        "/日本",
        "*",
        "/a b",
        "/index.php",
        "/exact",
    ])
    .to_string()
}

/// A fresh request for a case whose configuration produced `tok`.
pub fn request(plugin: &str, rng: &mut Rng, tok: &Tokens, case: &mut DiffCase) {
    let mut h = Vec::new();
    if rng.chance(40) {
        let m = *rng.pick(&[
            "POST", "PUT", "get", "DELETE", "", "GET POST", "PATCH", "GET",
        ]);
        add_header(&mut h, ":method", m);
    }
    add_header(&mut h, ":path", &url(plugin, rng, tok));
    if rng.chance(85) {
        add_header(&mut h, ":authority", &authority(rng, tok));
    }
    if rng.chance(10) {
        let s = *rng.pick(&["https", "HTTP", ""]);
        add_header(&mut h, ":scheme", s);
    }
    let n = rng.range(0, 4);
    for _ in 0..n {
        let name = if !tok.header_names.is_empty() && rng.chance(40) {
            {
                let n = rng.pick(&tok.header_names).clone();
                case_variant(&n, rng)
            }
        } else {
            rng.pick(&[
                "x-debug",
                "User-Agent",
                "user-agent",
                "x-a",
                "cookie",
                "X-Env",
                "x-hello",
                "x-b",
            ])
            .to_string()
        };
        if name.is_empty() || name.starts_with(':') {
            continue;
        }
        let value = if rng.chance(30) {
            nasty(rng)
        } else {
            rng.pick(&[
                "curl/8.0",
                "evilbot/1",
                "1",
                "sess=abc",
                "prod",
                "Mozilla/5.0",
            ])
            .to_string()
        };
        if rng.chance(15) {
            add_header(&mut h, &name, &value);
        }
        add_header(&mut h, &name, &value);
    }
    if !tok.header_needles.is_empty() && rng.chance(35) {
        let needle = rng.pick(&tok.header_needles).clone();
        let needle = if rng.chance(30) {
            case_variant(&needle, rng)
        } else {
            needle
        };
        match needle.split_once(": ") {
            Some((k, v)) if !k.is_empty() && !k.starts_with(':') && !k.contains(['\r', '\n']) => {
                set_header(&mut h, k, &format!("{v}{}", rng.pick(&["", "/8", " x"])))
            }
            Some((k, v)) if k.starts_with(':') && k.len() > 1 => set_header(&mut h, k, v),
            _ if !needle.is_empty()
                && !needle.starts_with(':')
                && !needle.contains([':', ' ', '\r', '\n', '\0']) =>
            {
                set_header(&mut h, &needle, "1")
            }
            _ => {}
        }
    }
    case.headers = h;
    case.body = match rng.below(100) {
        0..=39 => None,
        40..=49 => Some(String::new()),
        50..=84 => {
            let mut b = nasty(rng);
            if !tok.body_needles.is_empty() && rng.chance(60) {
                let n = rng.pick(&tok.body_needles).clone();
                b += &(if rng.chance(30) {
                    case_variant(&n, rng)
                } else {
                    n
                });
                b += "tail";
            }
            Some(b)
        }
        85..=94 => {
            let size = rng.range(64 << 10, 300 << 10);
            let mut b = "x".repeat(size);
            if !tok.body_needles.is_empty() && rng.chance(60) {
                let n = rng.pick(&tok.body_needles).clone();
                let at = if rng.chance(50) {
                    size
                } else {
                    rng.below(size)
                };
                b.insert_str(at, &n);
            }
            Some(b)
        }
        _ => Some("héllo wörld 日本 😀".repeat(rng.range(1, 50))),
    };
    if case.body.is_some() && rng.chance(8) {
        case.trailers = Some(vec![("x-t".into(), vec!["v".into()])]);
    }
    if rng.chance(30) {
        let mut uh = Vec::new();
        let st = *rng.pick(&["200", "404", "503", "204"]);
        add_header(&mut uh, ":status", st);
        if rng.chance(50) {
            add_header(&mut uh, "x-hello", "upstream");
            if rng.chance(30) {
                add_header(&mut uh, "X-Hello", "again");
            }
        }
        if rng.chance(30) {
            add_header(&mut uh, "content-type", "text/plain");
        }
        case.upstream_headers = Some(uh);
        if rng.chance(50) {
            case.upstream_body = Some(nasty(rng));
        }
    }
    let mut props = Vec::new();
    if rng.chance(55) {
        let r = if !tok.routes.is_empty() && rng.chance(50) {
            rng.pick(&tok.routes).clone()
        } else if !tok.prefixes.is_empty() && rng.chance(50) {
            format!("{}{}", rng.pick(&tok.prefixes), rng.pick(&["", "v1", "x"]))
        } else {
            rng.pick(ROUTES).to_string()
        };
        props.push((
            "route_name".to_string(),
            if rng.chance(10) {
                case_variant(&r, rng)
            } else {
                r
            },
        ));
    }
    if rng.chance(45) {
        let c = if !tok.services.is_empty() && rng.chance(65) {
            cluster_for(&rng.pick(&tok.services).clone(), rng)
        } else {
            rng.pick(CLUSTERS).to_string()
        };
        props.push(("cluster_name".to_string(), c));
    }
    case.properties = props;
}

/// A fresh case.
pub fn fresh(plugin: &str, rng: &mut Rng, index: usize) -> DiffCase {
    let mut tok = Tokens::default();
    let config = config(plugin, rng, &mut tok);
    let mut case = DiffCase::new(format!("generated {index}"), config);
    request(plugin, rng, &tok, &mut case);
    if ext::is_ext(plugin) {
        ext::decorate(plugin, rng, &tok, &mut case);
    }
    case
}

fn mutate_value(v: &mut Value, plugin: &str, rng: &mut Rng, depth: u32) {
    let descend = depth < 6 && rng.chance(60);
    match v {
        Value::Object(m) if descend && !m.is_empty() => {
            let keys: Vec<String> = m.keys().cloned().collect();
            let k = rng.pick(&keys).clone();
            if rng.chance(20) {
                m.remove(&k);
            } else if let Some(child) = m.get_mut(&k) {
                mutate_value(child, plugin, rng, depth + 1);
            }
            return;
        }
        Value::Array(items) if descend && !items.is_empty() => {
            let i = rng.below(items.len());
            match rng.below(5) {
                0 => {
                    items.remove(i);
                }
                1 => {
                    let dup = items[i].clone();
                    items.push(dup);
                }
                _ => mutate_value(&mut items[i], plugin, rng, depth + 1),
            }
            return;
        }
        _ => {}
    }
    *v = match (v.clone(), rng.below(6)) {
        (Value::String(s), 0) => Value::String(case_variant(&s, rng)),
        (Value::String(s), 1) => Value::String(format!("{s}{}", nasty(rng))),
        (Value::String(s), 2) => Value::String(s[..s.floor_char_boundary(s.len() / 2)].to_string()),
        (Value::Object(mut m), 3) => {
            let mut tok = Tokens::default();
            let extra = rule(plugin, rng, &mut tok);
            match m.get_mut("_rules_") {
                Some(Value::Array(rules)) => rules.insert(rng.below(rules.len() + 1), extra),
                _ => {
                    m.insert("_rules_".into(), Value::Array(vec![extra]));
                }
            }
            Value::Object(m)
        }
        (Value::Object(mut m), 4) => {
            let mut tok = Tokens::default();
            for (k, val) in fields(plugin, rng, &mut tok) {
                m.insert(k, val);
            }
            Value::Object(m)
        }
        (Value::Number(_), _) => rng
            .pick(&[json!(0), json!(403), json!(-5), json!(1e3), json!(600)])
            .clone(),
        (Value::Bool(b), _) => json!(!b),
        _ => wrong_type(rng),
    };
}

/// A vector case with one to three mutations of its configuration, request or properties.
pub fn mutate(seed: &DiffCase, plugin: &str, rng: &mut Rng, index: usize) -> DiffCase {
    let mut c = seed.clone();
    c.name = format!("mutated {index} of `{}`", seed.name);
    let mut tok = Tokens::default();
    let n = rng.range(1, 3);
    for _ in 0..n {
        if ext::is_ext(plugin) && rng.chance(40) {
            ext::mutate_request(plugin, rng, &mut c);
            continue;
        }
        match rng.below(8) {
            0..=2 => match &mut c.config {
                ConfigSpec::Json(v) => mutate_value(v, plugin, rng, 0),
                ConfigSpec::Raw(s) => {
                    let t = *rng.pick(&["", " ", "}", "\0", "{}"]);
                    s.push_str(t)
                }
            },
            3 => {
                let path = c
                    .headers
                    .iter()
                    .find(|(k, _)| k == ":path")
                    .map(|(_, v)| v[0].clone())
                    .unwrap_or_else(|| "/".into());
                let p = match rng.below(3) {
                    0 => case_variant(&path, rng),
                    1 => format!("{path}{}", nasty(rng)),
                    _ => format!("{path}?q={}", nasty(rng)),
                };
                set_header(&mut c.headers, ":path", &p);
            }
            4 => {
                let a = c
                    .headers
                    .iter()
                    .find(|(k, _)| k == ":authority")
                    .map(|(_, v)| v[0].clone())
                    .unwrap_or_else(|| "example.com".into());
                let a = match rng.below(3) {
                    0 => case_variant(&a, rng),
                    1 => format!("{a}{}", rng.pick(PORTS)),
                    _ => authority(rng, &tok),
                };
                set_header(&mut c.headers, ":authority", &a);
            }
            5 => {
                if c.headers.len() > 1 && rng.chance(40) {
                    let i = rng.below(c.headers.len());
                    c.headers.remove(i);
                } else {
                    let k = rng
                        .pick(&["x-debug", "User-Agent", "X-A", "x-env", "cookie"])
                        .to_string();
                    add_header(&mut c.headers, &k, &nasty(rng));
                }
            }
            6 => {
                c.body = match rng.below(4) {
                    0 => None,
                    1 => Some("x".repeat(rng.range(1, 200 << 10))),
                    _ => Some(format!(
                        "{}{}",
                        c.body.clone().unwrap_or_default(),
                        nasty(rng)
                    )),
                };
            }
            _ => {
                tok.routes.push(rng.pick(ROUTES).to_string());
                match rng.below(3) {
                    0 => c.properties.clear(),
                    1 => {
                        c.properties.retain(|(k, _)| k != "route_name");
                        c.properties
                            .push(("route_name".into(), rng.pick(ROUTES).to_string()));
                    }
                    _ => {
                        c.properties.retain(|(k, _)| k != "cluster_name");
                        c.properties
                            .push(("cluster_name".into(), rng.pick(CLUSTERS).to_string()));
                    }
                }
            }
        }
    }
    c
}
