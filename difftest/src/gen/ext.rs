//! Generators for custom-response, key-auth and basic-auth (issue 8), built from their READMEs: the
//! configuration keys (global and per rule), plus the request parts each plug-in reads (upstream `:status`,
//! API keys in headers and query strings, `Authorization: Basic ...`).

use serde_json::{json, Map, Value};

use super::{nasty, nasty_ne, rule, wrong_type, Tokens, RAW_CONFIGS};
use crate::case::{add_header, set_header, ConfigSpec, DiffCase};
use crate::prng::Rng;

/// The plug-ins this module generates for.
pub const EXT_PLUGINS: [&str; 3] = ["custom-response", "key-auth", "basic-auth"];

pub fn is_ext(plugin: &str) -> bool {
    EXT_PLUGINS.contains(&plugin)
}

/// The plug-in's own keys; `tok.in_rule` tells whether they go into a `_rules_` entry.
pub fn fields(plugin: &str, rng: &mut Rng, tok: &mut Tokens) -> Map<String, Value> {
    let mut m = Map::new();
    match plugin {
        "custom-response" => custom_response_fields(rng, tok, &mut m),
        "key-auth" => auth_fields(rng, tok, &mut m, key_auth_conf),
        _ => auth_fields(rng, tok, &mut m, basic_auth_conf),
    }
    m
}

/// A fresh configuration.
pub fn config(plugin: &str, rng: &mut Rng, tok: &mut Tokens) -> ConfigSpec {
    tok.dirty = rng.chance(30);
    if tok.bad(rng, 12) {
        return ConfigSpec::Raw(rng.pick(RAW_CONFIGS).to_string());
    }
    if tok.bad(rng, 5) {
        return ConfigSpec::Json(wrong_type(rng));
    }
    let auth = plugin != "custom-response";
    let mut m = if rng.chance(if auth { 92 } else { 65 }) {
        fields(plugin, rng, tok)
    } else {
        Map::new()
    };
    if rng.chance(45) {
        let rules = if tok.bad(rng, 8) {
            rng.pick(&[json!(5), json!({}), json!(null), json!([5]), json!([])])
                .clone()
        } else {
            let n = rng.range(1, 3);
            Value::Array((0..n).map(|_| rule(plugin, rng, tok)).collect())
        };
        m.insert("_rules_".into(), rules);
    }
    if auth && rng.chance(30) {
        let v = if tok.bad(rng, 25) {
            rng.pick(&[json!("true"), json!(1), json!(null)]).clone()
        } else {
            json!(rng.chance(50))
        };
        m.insert("global_auth".into(), v);
    }
    if auth && tok.bad(rng, 4) {
        m.insert("allow".into(), json!(["consumer1"]));
    }
    ConfigSpec::Json(Value::Object(m))
}

// ---------------------------------------------------------------------------------------------------------
// custom-response

const CR_HEADERS: &[&str] = &[
    "Content-Type=application/json",
    "Hello=World",
    "Location=https://example.com/busy.html",
    "x-a=1",
    "x-a=2",
    "X-Eq=a=b",
    "x-empty=",
    "x-sp=  v  ",
    "x-tab=\tv\t",
    "Content-Length=10",
    "content-length=abc",
    "CONTENT-LENGTH=",
    "x-u=é",
    "!#$%&'*+-.^_`|~=t",
    "CONTENT-TYPE=text/html",
    "content-type=",
    "set-cookie=a=1",
    "x-in=a\tb",
];
const CR_BAD_HEADERS: &[&str] = &[
    "novalue",
    "=v",
    " x=v",
    "x y=v",
    ":status=200",
    "x:y=v",
    "x=a\rb",
    "x=a\0",
    "x=\u{7f}",
    "x=a\nb",
    "é=v",
    "",
    "x\t=v",
    "x=\u{1}",
    "=",
    "(x)=1",
];
const CR_BODIES: &[&str] = &[
    "{\"hello\":\"world\"}",
    "[1,2]",
    "\"text\"",
    "42",
    "null",
    "true",
    "false",
    "{a:1}",
    "[1,]",
    "'x'",
    "NaN",
    "01",
    " ",
    "\t\r\n",
    "  {} \n",
    "1e400",
    "-0",
    "1.",
    ".5",
    "-",
    "1E+2",
    "0.5e",
    "\"\\u12\"",
    "\"\\u12zz\"",
    "\"a\tb\"",
    "\"\\x\"",
    "\"\\ud800\"",
    "\"\\/\"",
    "plain text",
    "",
    "[[[[]]]]",
    "{\"a\":1}}",
    "{\"a\":1,}",
    "{\"a\" 1}",
    "{1:2}",
    "[1 2]",
    "\u{feff}{}",
    "{}\u{0}",
    "nul",
    "truex",
    "[\"a\",{\"b\":[null,-1.5e-3]}]",
    "\"é😀\"",
    "\u{a0}1",
    "<p>hi</p>",
    "0",
    "-01",
    "1e",
    "1e+",
    "[",
    "\"",
];
const STATUSES: &[u64] = &[429, 404, 500, 503, 200, 302, 401, 100, 599];

fn status_value(rng: &mut Rng, tok: &Tokens) -> Value {
    if tok.bad(rng, 30) {
        return rng
            .pick(&[
                json!(99),
                json!(600),
                json!(0),
                json!(-1),
                json!("200"),
                json!(200.0),
                json!(null),
                json!(1e3),
                json!(4_294_967_496u64),
                json!(200.5),
                json!(18_446_744_073_709_551_615u64),
                json!(-9_223_372_036_854_775_808i64),
                json!([200]),
                json!(true),
            ])
            .clone();
    }
    json!(*rng.pick(STATUSES))
}

fn custom_response_fields(rng: &mut Rng, tok: &mut Tokens, m: &mut Map<String, Value>) {
    if rng.chance(55) {
        let v = status_value(rng, tok);
        m.insert("status_code".into(), v);
    }
    if rng.chance(55) {
        let v = if tok.bad(rng, 10) {
            wrong_type(rng)
        } else {
            let n = rng.range(0, 4);
            Value::Array(
                (0..n)
                    .map(|_| {
                        if tok.bad(rng, 25) {
                            if rng.chance(20) {
                                wrong_type(rng)
                            } else {
                                Value::String(rng.pick(CR_BAD_HEADERS).to_string())
                            }
                        } else if rng.chance(8) {
                            let v = nasty(rng);
                            Value::String(format!("x-n={v}"))
                        } else {
                            Value::String(rng.pick(CR_HEADERS).to_string())
                        }
                    })
                    .collect(),
            )
        };
        m.insert("headers".into(), v);
    }
    if rng.chance(60) {
        let v = if tok.bad(rng, 10) {
            wrong_type(rng)
        } else if rng.chance(4) {
            let n = rng.range(1, 3000);
            Value::String(format!("{}{}", "[".repeat(n), "]".repeat(n)))
        } else if rng.chance(12) {
            Value::String(nasty(rng))
        } else {
            Value::String(rng.pick(CR_BODIES).to_string())
        };
        m.insert("body".into(), v);
    }
    if rng.chance(50) {
        let v = if tok.bad(rng, 10) {
            wrong_type(rng)
        } else {
            let n = rng.range(if tok.dirty { 0 } else { 1 }, 3);
            Value::Array(
                (0..n)
                    .map(|_| {
                        let v = status_value(rng, tok);
                        if let Some(s) = v.as_u64() {
                            tok.statuses.push(s.to_string());
                        }
                        v
                    })
                    .collect(),
            )
        };
        m.insert("enable_on_status".into(), v);
    }
    if tok.bad(rng, 6) {
        let k = *rng.pick(&["status", "Body", "header", "enable_on_status "]);
        m.insert(k.into(), json!(1));
    }
}

// ---------------------------------------------------------------------------------------------------------
// key-auth and basic-auth: the shared rule layer

const NAMES: &[&str] = &["consumer1", "consumer2", "c3", "Alice", "é", "a b", "x-mse"];

fn auth_fields(
    rng: &mut Rng,
    tok: &mut Tokens,
    m: &mut Map<String, Value>,
    conf: fn(&mut Rng, &mut Tokens, &mut Map<String, Value>),
) {
    if tok.in_rule {
        // allow and/or the rule's own configuration (neither: rejected, so only in dirty cases)
        let (allow, own) = match rng.below(100) {
            0..=54 => (true, false),
            55..=79 => (false, true),
            80..=91 => (true, true),
            _ if tok.dirty => (false, false),
            _ => (true, false),
        };
        if allow {
            let v = if tok.bad(rng, 20) {
                rng.pick(&[
                    json!([]),
                    json!("consumer1"),
                    json!([""]),
                    json!([1]),
                    json!(null),
                    json!(["consumer1", 2]),
                ])
                .clone()
            } else {
                let n = rng.range(1, 3);
                Value::Array(
                    (0..n)
                        .map(|_| {
                            let pool = if !tok.names.is_empty() && rng.chance(75) {
                                tok.names.clone()
                            } else {
                                NAMES.iter().map(|s| s.to_string()).collect()
                            };
                            Value::String(rng.pick(&pool).clone())
                        })
                        .collect(),
                )
            };
            m.insert("allow".into(), v);
        }
        if own {
            conf(rng, tok, m);
        }
        if tok.bad(rng, 5) {
            m.insert("global_auth".into(), json!(true));
        }
        if tok.bad(rng, 5) {
            m.insert("realm".into(), json!("only realm"));
        }
    } else {
        conf(rng, tok, m);
    }
}

/// A consumer name; in a clean case unique within `used` (one configuration object).
fn consumer_name(
    rng: &mut Rng,
    tok: &mut Tokens,
    i: usize,
    used: &mut Vec<String>,
) -> Option<Value> {
    if tok.bad(rng, 6) {
        return rng
            .pick(&[None, Some(json!("")), Some(json!(1)), Some(json!(null))])
            .clone();
    }
    let n = if tok.dirty && rng.chance(10) && !tok.names.is_empty() {
        rng.pick(&tok.names).clone() // possibly a duplicate
    } else if rng.chance(70) {
        format!("consumer{}", i + 1)
    } else {
        rng.pick(NAMES).to_string()
    };
    let n = if !tok.dirty && used.contains(&n) {
        format!("{n}-{i}")
    } else {
        n
    };
    used.push(n.clone());
    tok.names.push(n.clone());
    Some(Value::String(n))
}

fn realm(rng: &mut Rng, tok: &Tokens, m: &mut Map<String, Value>) {
    if !rng.chance(30) {
        return;
    }
    let good = [
        "MSE Gateway",
        "r",
        "my realm",
        "~!@#$%^&*()",
        " lead",
        "trail ",
    ];
    let v = if tok.dirty && rng.chance(50) {
        rng.pick(&[
            json!("a\"b"),
            json!("a\\b"),
            json!("é"),
            json!(""),
            json!("\t"),
            json!("x\u{7f}"),
            json!("x\ny"),
            json!(1),
            json!(null),
            json!("x".repeat(257)),
        ])
        .clone()
    } else if rng.chance(10) {
        json!("x".repeat(256))
    } else {
        json!(*rng.pick(&good))
    };
    m.insert("realm".into(), v);
}

fn unknown_key(rng: &mut Rng, tok: &Tokens, m: &mut Map<String, Value>, pool: &[&str]) {
    if tok.bad(rng, 6) {
        m.insert(rng.pick(pool).to_string(), json!("x"));
    }
}

// ---------------------------------------------------------------------------------------------------------
// key-auth

const API_KEYS: &[&str] = &[
    "2bda943c-ba2b-11ec-ba07-00163e1250b5",
    "c2-key-a",
    "c2-key-b",
    "k1",
    "a b/c+d",
    "ключ",
    "k+1",
    "k%201",
    "k&x",
    "k=v",
    "k#x",
    "%",
    "😀",
    "K1",
    " k",
];
const KEY_NAMES: &[&str] = &[
    "x-api-key",
    "apikey",
    "X-API-Key",
    "token",
    "key",
    "a b",
    "x_key",
    "%61pikey",
    "k=",
    "ключ",
    "authorization",
];

fn key_auth_conf(rng: &mut Rng, tok: &mut Tokens, m: &mut Map<String, Value>) {
    if !tok.bad(rng, 8) {
        let v = if tok.bad(rng, 8) {
            rng.pick(&[json!([]), json!({}), json!("x"), json!([1]), json!(null)])
                .clone()
        } else {
            let n = rng.range(1, 3);
            let mut list = Vec::new();
            let mut names = Vec::new();
            let mut keys: Vec<String> = Vec::new();
            for i in 0..n {
                let mut c = Map::new();
                if let Some(name) = consumer_name(rng, tok, i, &mut names) {
                    c.insert("name".into(), name);
                }
                let mut key = |rng: &mut Rng, tok: &mut Tokens| -> Value {
                    if tok.bad(rng, 6) {
                        return rng
                            .pick(&[json!(""), json!(1), json!(null), json!(["k"])])
                            .clone();
                    }
                    let k = if tok.dirty && rng.chance(10) && !tok.creds.is_empty() {
                        rng.pick(&tok.creds).clone() // duplicate key
                    } else if rng.chance(10) {
                        nasty_ne(rng)
                    } else {
                        rng.pick(API_KEYS).to_string()
                    };
                    let k = if !tok.dirty && keys.contains(&k) {
                        format!("{k}-{}", keys.len())
                    } else {
                        k
                    };
                    keys.push(k.clone());
                    tok.creds.push(k.clone());
                    Value::String(k)
                };
                match rng.below(100) {
                    0..=49 => {
                        let k = key(rng, tok);
                        c.insert("credential".into(), k);
                    }
                    50..=89 => {
                        let v = if tok.bad(rng, 10) {
                            json!([])
                        } else {
                            let n = rng.range(1, 3);
                            Value::Array((0..n).map(|_| key(rng, tok)).collect())
                        };
                        c.insert("credentials".into(), v);
                    }
                    _ if tok.dirty => {
                        if rng.chance(50) {
                            let k = key(rng, tok);
                            c.insert("credential".into(), k);
                            let k = key(rng, tok);
                            c.insert("credentials".into(), json!([k]));
                        }
                    }
                    _ => {
                        let k = key(rng, tok);
                        c.insert("credential".into(), k);
                    }
                }
                if tok.bad(rng, 5) {
                    c.insert(
                        rng.pick(&["keys", "in_query", "Name", "credentail"])
                            .to_string(),
                        json!(true),
                    );
                }
                list.push(Value::Object(c));
            }
            Value::Array(list)
        };
        m.insert("consumers".into(), v);
    }
    if !tok.bad(rng, 8) {
        let v = if tok.bad(rng, 10) {
            rng.pick(&[json!([]), json!([""]), json!("x-api-key"), json!([1])])
                .clone()
        } else {
            let n = rng.range(1, 3);
            Value::Array(
                (0..n)
                    .map(|_| {
                        let k = rng.pick(KEY_NAMES).to_string();
                        tok.key_names.push(k.clone());
                        Value::String(k)
                    })
                    .collect(),
            )
        };
        m.insert("keys".into(), v);
    }
    for k in ["in_header", "in_query"] {
        if rng.chance(35) {
            let v = if tok.bad(rng, 15) {
                rng.pick(&[json!("true"), json!(1), json!(null)]).clone()
            } else if tok.dirty {
                json!(rng.chance(50))
            } else {
                // never both false in a clean case
                json!(k == "in_header" || rng.chance(50))
            };
            m.insert(k.into(), v);
        }
    }
    realm(rng, tok, m);
    unknown_key(rng, tok, m, &["key", "credentials", "in_headers", "Realm"]);
}

fn pct_encode(s: &str, rng: &mut Rng, all: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        let must = !(b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if must || (all && rng.chance(50)) {
            if b == b' ' && rng.chance(30) {
                out.push('+');
            } else if rng.chance(50) {
                out += &format!("%{b:02X}");
            } else {
                out += &format!("%{b:02x}");
            }
        } else {
            out.push(b as char);
        }
    }
    out
}

fn push_query(case: &mut DiffCase, q: &str) {
    let path = case
        .headers
        .iter()
        .find(|(k, _)| k == ":path")
        .map(|(_, v)| v[0].clone())
        .unwrap_or_else(|| "/".into());
    let sep = if path.contains('?') { "&" } else { "?" };
    set_header(&mut case.headers, ":path", &format!("{path}{sep}{q}"));
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn key_auth_request(rng: &mut Rng, tok: &Tokens, case: &mut DiffCase) {
    if rng.chance(15) {
        set_header(&mut case.headers, "x-mse-consumer", "admin");
    }
    let n = rng.range(0, 2);
    for _ in 0..n {
        let name = if !tok.key_names.is_empty() && rng.chance(85) {
            rng.pick(&tok.key_names).clone()
        } else {
            rng.pick(KEY_NAMES).to_string()
        };
        let value = match rng.below(100) {
            0..=59 if !tok.creds.is_empty() => rng.pick(&tok.creds).clone(),
            0..=69 => rng.pick(API_KEYS).to_string(),
            70..=79 => String::new(),
            _ => rng.pick(&["wrong", "nope", "C2-KEY-A", "k1 "]).to_string(),
        };
        let place = rng.below(100);
        if place < 45 && is_token(&name) && !value.contains(['\r', '\n', '\0']) {
            let hn = super::case_variant(&name, rng);
            if rng.chance(10) {
                add_header(&mut case.headers, &hn, "other");
            }
            add_header(&mut case.headers, &hn, &value);
        } else if place < 90 {
            let qn = if rng.chance(25) {
                pct_encode(&name, rng, true)
            } else {
                pct_encode(&name, rng, false)
            };
            let qv = match rng.below(6) {
                0 => pct_encode(&value, rng, true),
                1 => value.replace(' ', "+"),
                2 => value.clone(),
                3 if rng.chance(30) => format!(
                    "{}{}",
                    pct_encode(&value, rng, false),
                    rng.pick(&["%", "%z", "%zz", "%4", "%FF", "%00", "%2", "+%2B"])
                ),
                _ => pct_encode(&value, rng, false),
            };
            let q = match rng.below(10) {
                0 => format!("{qn}=&{qn}={qv}"),
                1 => format!("{qn}=bad&{qn}={qv}"),
                2 => format!("{qn}={qv}&{qn}=bad"),
                3 => format!("x=1#{qn}={qv}"),
                4 => qn.clone(),
                5 => format!("{qn}={qv}#frag"),
                6 => format!("&&{qn}={qv}&"),
                7 => format!("{}={qv}", super::case_variant(&qn, rng)),
                _ => format!("{qn}={qv}"),
            };
            push_query(case, &q);
        } else if is_token(&name) && !value.contains(['\r', '\n', '\0']) {
            // both: the header wins when non-empty
            add_header(&mut case.headers, &name, &value);
            push_query(case, &format!("{}=k1", pct_encode(&name, rng, false)));
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// basic-auth

/// Precomputed hashes (from basic-auth's tests and vectors) and the passwords they match. bcrypt: cost 4 only.
const HASHES: &[(&str, &str)] = &[
    ("$apr1$svI3h0Hc$oiSIo3SCN0NIfXQCUyqmw0", "secret"),
    ("$apr1$x$tMwYqBfQwi3FYAr0aJc8M/", ""),
    ("$1$saltsalt$9xy1btjgzLYfb7hivXtC//", "secret"),
    ("{SHA}87u9ZqY9S/F0eUBXjsPQEDUw4h0=", "hunter2"),
    ("{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "secret"),
    ("{SSHA}uJDd0BIdJ9Z7yDCZNWdgYeb33+cBAgME", "secret"),
    ("{PLAIN}p:w", "p:w"),
    ("{PLAIN}", ""),
    ("{PLAIN}pässwörd", "pässwörd"),
];
const BCRYPT: &[(&str, &str)] = &[
    (
        "$2y$04$fpyPPwFCA7jNgGSWCc5W9eul2wMJqFCilB11QTRvb3L4dj6aHWdRa",
        "p@ss:word",
    ),
    (
        "$2b$04$RGqSgnXTLpSLvYORtZi5KOG1oGp6YfOt7I0XYnMgijcLB1e9HwaAu",
        "pässwörd",
    ),
    (
        "$2a$04$JIGgqr3HUG66m6DOI46gBOfGqEQqRQN/7kQ7SXqH7q2mbA97RZ7ui",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    ),
];
const BAD_HASHES: &[&str] = &[
    "plain",
    "{SHA}abc",
    "{SHA}",
    "{SSHA}87u9ZqY9S/F0eUBXjsPQEDUw4h0=",
    "{SSHA}uJDd0BIdJ9Z7yDCZNWdgYeb33+cBAgME==",
    "{sha}87u9ZqY9S/F0eUBXjsPQEDUw4h0=",
    "$apr1$svI3h0Hc",
    "$apr1$toolongsalt$oiSIo3SCN0NIfXQCUyqmw0",
    "$apr1$svI3h0Hc$oiSIo3SCN0NIfXQCUyqmw",
    "$apr1$$oiSIo3SCN0NIfXQCUyqmw0",
    "$apr1$sv:I3h0H$oiSIo3SCN0NIfXQCUyqmw0",
    "$1$saltsalt$9xy1btjgzLYfb7hivXtC/!",
    "$2y$11$DhPYGsgRMngvVnRuDavR/OljBlIYnItZ8J3lPwX/Ad00xvZHe7irG",
    "$2y$03$fpyPPwFCA7jNgGSWCc5W9eul2wMJqFCilB11QTRvb3L4dj6aHWdRa",
    "$2x$04$fpyPPwFCA7jNgGSWCc5W9eul2wMJqFCilB11QTRvb3L4dj6aHWdRa",
    "$2y$04$fpyPPwFCA7jNgGSWCc5W9eul2wMJqFCilB11QTRvb3L4dj6aHWdR",
    "$2y$04$fpyPPwFCA7jNgGSWCc5W9eul2wMJqFCilB11QTRvb3L4dj6aHWd+a",
    "$2y$4$fpyPPwFCA7jNgGSWCc5W9eul2wMJqFCilB11QTRvb3L4dj6aHWdRaa",
    "$6$salt$hash",
    "abJnggxhB/yWI",
    "",
];
const USERS: &[&str] = &["admin", "guest", "alice", "bob", "Admin", "é", "a b", "u"];
const PASSWORDS: &[&str] = &["123456", "abc", "", "p:w", "pässwörd", " sp ", "secret"];

pub fn b64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn basic_auth_conf(rng: &mut Rng, tok: &mut Tokens, m: &mut Map<String, Value>) {
    let encrypted = rng.chance(40);
    if encrypted || tok.bad(rng, 5) {
        let v = if tok.bad(rng, 15) {
            rng.pick(&[json!("true"), json!(1), json!(null)]).clone()
        } else {
            json!(encrypted)
        };
        m.insert("encrypted".into(), v);
    }
    if !tok.bad(rng, 8) {
        let v = if tok.bad(rng, 8) {
            rng.pick(&[json!([]), json!({}), json!("x"), json!([1]), json!(null)])
                .clone()
        } else {
            let n = rng.range(1, 3);
            let mut list = Vec::new();
            // at most one bcrypt consumer per configuration object keeps the run fast
            let mut bcrypt_left = rng.chance(25);
            let mut names = Vec::new();
            let mut users: Vec<String> = Vec::new();
            for i in 0..n {
                let mut c = Map::new();
                if let Some(name) = consumer_name(rng, tok, i, &mut names) {
                    c.insert("name".into(), name);
                }
                let user = if tok.dirty && rng.chance(10) {
                    rng.pick(&["", "a:b", "\u{0}"]).to_string()
                } else {
                    rng.pick(USERS).to_string()
                };
                let user = if !tok.dirty && users.contains(&user) {
                    format!("{user}{i}")
                } else {
                    user
                };
                users.push(user.clone());
                let cred = if tok.bad(rng, 6) {
                    rng.pick(&[json!(""), json!(1), json!(null), json!(":pw")])
                        .clone()
                } else if encrypted {
                    let (hash, pw) = if tok.bad(rng, 20) {
                        (rng.pick(BAD_HASHES).to_string(), "secret".to_string())
                    } else if bcrypt_left && rng.chance(50) {
                        bcrypt_left = false;
                        let (h, p) = *rng.pick(BCRYPT);
                        (h.to_string(), p.to_string())
                    } else {
                        let (h, p) = *rng.pick(HASHES);
                        (h.to_string(), p.to_string())
                    };
                    tok.creds.push(format!("{user}:{pw}"));
                    json!(format!("{user}:{hash}"))
                } else {
                    let pw = rng.pick(PASSWORDS).to_string();
                    let plain = format!("{user}:{pw}");
                    tok.creds.push(plain.clone());
                    match rng.below(10) {
                        0..=1 => json!(b64(plain.as_bytes())),
                        2 if tok.dirty => json!(*rng.pick(&["!!!", "YWRtaW4", "YWRtaW4=", "Zm9v"])),
                        3 if tok.dirty => {
                            // a hash under encrypted: false is just a password
                            let (h, p) = *rng.pick(HASHES);
                            tok.creds.push(format!("{user}:{p}"));
                            json!(format!("{user}:{h}"))
                        }
                        _ => json!(plain),
                    }
                };
                c.insert("credential".into(), cred);
                if tok.bad(rng, 5) {
                    c.insert(
                        rng.pick(&["credentials", "password", "Name"]).to_string(),
                        json!("x"),
                    );
                }
                list.push(Value::Object(c));
            }
            Value::Array(list)
        };
        m.insert("consumers".into(), v);
    }
    realm(rng, tok, m);
    unknown_key(rng, tok, m, &["credentials", "encrypt", "Realm"]);
}

fn basic_auth_request(rng: &mut Rng, tok: &Tokens, case: &mut DiffCase) {
    if rng.chance(15) {
        set_header(&mut case.headers, "x-mse-consumer", "admin");
    }
    if rng.chance(12) {
        return; // no authorization header
    }
    let plain = match rng.below(100) {
        0..=59 if !tok.creds.is_empty() => {
            let c = rng.pick(&tok.creds).clone();
            // bcrypt hashes cost ~1.5 ms per check; a wrong password costs the same, so no extra limit
            c
        }
        0..=69 => format!("{}:{}", rng.pick(USERS), rng.pick(PASSWORDS)),
        70..=79 => {
            let c = if tok.creds.is_empty() {
                "admin:123456".to_string()
            } else {
                rng.pick(&tok.creds).clone()
            };
            format!("{c}x")
        }
        80..=84 => "nocolon".into(),
        85..=89 => ":".into(),
        _ => nasty(rng),
    };
    let mut token = b64(plain.as_bytes());
    match rng.below(14) {
        0 => token = token.trim_end_matches('=').to_string(),
        1 => token.push('='),
        2 => token += "===",
        3 => token.push('A'),
        4 => token = format!("{token}!"),
        5 => token = token.replace('+', "-").replace('/', "_"),
        6 if !token.is_empty() => {
            // non-zero unused bits in the last character
            let t = token.trim_end_matches('=');
            let pad = token.len() - t.len();
            if pad > 0 {
                let last = t.as_bytes()[t.len() - 1];
                let next = if last == b'z' { b'y' } else { last + 1 };
                let next = if next.is_ascii_alphanumeric() {
                    next
                } else {
                    b'B'
                };
                token = format!("{}{}{}", &t[..t.len() - 1], next as char, "=".repeat(pad));
            }
        }
        7 => token = format!("{token} x"),
        8 => token = format!("=={token}"),
        9 => token = nasty(rng),
        _ => {}
    }
    let scheme = *rng.pick(&[
        "Basic ",
        "Basic ",
        "Basic ",
        "basic ",
        "BASIC ",
        "BaSiC ",
        "Basic  ",
        "Basic\t",
        "Basic",
        "Bearer ",
        " Basic ",
        "Basic\u{a0}",
        "Basicx ",
    ]);
    let tail = *rng.pick(&["", "", "", " ", "\t", " \t ", "\r"]);
    let value = if rng.chance(4) {
        scheme.to_string()
    } else {
        format!("{scheme}{token}{tail}")
    };
    let name = if rng.chance(20) {
        "Authorization"
    } else {
        "authorization"
    };
    if rng.chance(5) {
        add_header(&mut case.headers, name, "Basic Zm9vOmJhcg==");
    }
    add_header(&mut case.headers, name, &value);
}

// ---------------------------------------------------------------------------------------------------------
// requests

const ODD_STATUSES: &[&str] = &[
    "+429",
    "0429",
    " 429",
    "429 ",
    "4e2",
    "429.0",
    "",
    "abc",
    "-429",
    "0x1ad",
    "٤٢٩",
    "4290",
    "42",
    "00000000000000000000429",
    "18446744073709551616",
    "99",
    "600",
    "0",
];

/// Adds the parts of a request (and upstream answer) the plug-in reads, after `super::request`.
pub fn decorate(plugin: &str, rng: &mut Rng, tok: &Tokens, case: &mut DiffCase) {
    match plugin {
        "custom-response" => {
            if rng.chance(65) {
                let st = if !tok.statuses.is_empty() && rng.chance(55) {
                    rng.pick(&tok.statuses).clone()
                } else if rng.chance(40) {
                    rng.pick(ODD_STATUSES).to_string()
                } else {
                    rng.pick(&["200", "404", "429", "500", "302"]).to_string()
                };
                let mut uh = case.upstream_headers.take().unwrap_or_default();
                if rng.chance(3) {
                    uh.retain(|(k, _)| k != ":status");
                    add_header(&mut uh, "x-no-status", "1");
                } else {
                    set_header(&mut uh, ":status", &st);
                }
                if rng.chance(40) {
                    add_header(&mut uh, "x-upstream", "1");
                }
                case.upstream_headers = Some(uh);
                if rng.chance(50) {
                    case.upstream_body = Some(rng.pick(&["upstream body", "", "{}"]).to_string());
                }
            }
        }
        "key-auth" => key_auth_request(rng, tok, case),
        _ => basic_auth_request(rng, tok, case),
    }
}

/// A request-side mutation of a vector case (the parts the plug-in reads).
pub fn mutate_request(plugin: &str, rng: &mut Rng, case: &mut DiffCase) {
    let tok = Tokens::default();
    match plugin {
        "custom-response" => decorate(plugin, rng, &tok, case),
        "key-auth" => {
            if rng.chance(30) {
                case.headers
                    .retain(|(k, _)| !KEY_NAMES.iter().any(|n| n.eq_ignore_ascii_case(k)));
            }
            key_auth_request(rng, &tok, case)
        }
        _ => {
            if rng.chance(50) {
                case.headers
                    .retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
            }
            basic_auth_request(rng, &tok, case)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(b64(b""), "");
        assert_eq!(b64(b"f"), "Zg==");
        assert_eq!(b64(b"fo"), "Zm8=");
        assert_eq!(b64(b"foo"), "Zm9v");
        assert_eq!(b64(b"foob"), "Zm9vYg==");
        assert_eq!(b64(b"admin:123456"), "YWRtaW46MTIzNDU2");
    }
}
