//! Issue 4 item 6: the Rust SDK's `pwsdk::regex` / `pwsdk::rules` against the C++ SDK's (compiled natively by
//! build.rs) on many generated inputs.

use pwdiff::native::{host_from_authority, CppMatch, CppRegex, CppRules};
use pwdiff::prng::Rng;
use pwdiff::regex_gen;
use pwsdk::regex::Regex;
use pwsdk::rules::{Match, MatchInput, RuleSet};
use pwsdk::{ConfigError, PluginConfig};
use serde::Deserialize;
use serde_json::{json, Value};

/// The twin of `TestConfig` in native/shim.cc.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestConfig {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    urls: Vec<String>,
    #[serde(default)]
    code: u32,
    #[serde(default)]
    flag: bool,
}

impl PluginConfig for TestConfig {
    fn validate(&mut self) -> Result<(), ConfigError> {
        if self.name.as_deref() == Some("") {
            return Err(ConfigError::new("name", "must not be empty"));
        }
        for (i, u) in self.urls.iter().enumerate() {
            if u.is_empty() {
                return Err(ConfigError::new(format!("urls[{i}]"), "must not be empty"));
            }
        }
        Ok(())
    }
}

impl TestConfig {
    fn canonical(&self) -> String {
        let name = match &self.name {
            Some(n) => format!("={n}"),
            None => "-".into(),
        };
        format!(
            "{name}|{}|{}|{}",
            self.urls.join("\x1f"),
            self.code,
            self.flag
        )
    }
}

fn rust_match(set: &RuleSet<TestConfig>, input: &MatchInput) -> CppMatch {
    match set.matching(input) {
        Match::Rule(i, c) => CppMatch::Rule(i, c.canonical()),
        Match::Global(c) => CppMatch::Global(c.canonical()),
        Match::Disabled(i) => CppMatch::Disabled(i),
        Match::None => CppMatch::None,
    }
}

/// The contract part of a rejection: `invalid configuration: <path>: ` or the whole-object head.
fn key(e: &str) -> String {
    pwdiff::observe::rejection_key(&format!("[t] {e}"))
}

#[test]
fn regex_engines_agree() {
    let mut rng = Rng::new(0x5eed_0001);
    let (mut patterns, mut pairs, mut accepted, mut matched) = (0, 0, 0, 0);
    let mut problems = Vec::new();
    let mut wording = Vec::new();
    for _ in 0..6000 {
        let g = regex_gen::pattern(&mut rng, true);
        let ci = rng.chance(30);
        patterns += 1;
        let r = Regex::new(&g.pattern, ci);
        let c = CppRegex::new(g.pattern.as_bytes(), ci);
        match (&r, &c) {
            (Ok(r), Ok(c)) => {
                accepted += 1;
                for input in &g.inputs {
                    pairs += 1;
                    let (a, b) = (r.is_full_match(input), c.is_full_match(input));
                    matched += usize::from(a);
                    if a != b && problems.len() < 20 {
                        problems.push(format!(
                            "pattern {:?} (ci {ci}) on {:?}: rust {a}, cpp {b}",
                            g.pattern,
                            String::from_utf8_lossy(input)
                        ));
                    }
                }
            }
            // Both reject: only a wording difference, never a problem (so no guard on this arm).
            (Err(a), Err(b)) => wording_diff(&mut wording, &g.pattern, &a.to_string(), b),
            (a, b) if problems.len() < 20 => problems.push(format!(
                "pattern {:?} (ci {ci}): rust {}, cpp {}",
                g.pattern,
                a.as_ref()
                    .map(|_| "accepted".to_string())
                    .unwrap_or_else(|e| e.to_string()),
                b.as_ref()
                    .map(|_| "accepted".to_string())
                    .unwrap_or_else(|e| e.clone()),
            )),
            _ => {}
        }
    }
    println!("regex: {patterns} patterns ({accepted} accepted by both), {pairs} pattern x input pairs ({matched} matches)");
    assert!(
        matched > pairs / 5 && matched < pairs * 4 / 5,
        "inputs should both match and miss: {matched} of {pairs}"
    );
    for w in &wording {
        println!("wording: {w}");
    }
    assert!(
        accepted > patterns / 2,
        "the generator should produce mostly valid patterns"
    );
    assert!(
        problems.is_empty(),
        "the SDKs disagree:\n{}",
        problems.join("\n")
    );
}

fn rule_value(rng: &mut Rng) -> Value {
    let keys = [
        "_match_route_",
        "_match_route_prefix_",
        "_match_domain_",
        "_match_service_",
    ];
    let mut m = serde_json::Map::new();
    let k = *rng.pick(&keys);
    let pool: &[&str] = match k {
        "_match_route_" => &["r1", "route-a", "R1", "a|b", "路由"],
        "_match_route_prefix_" => &["r", "route-", "api-", "路"],
        "_match_domain_" => &[
            "foo.com",
            "*.example.com",
            "www.*",
            "*",
            "[::1]",
            "::1",
            "FOO.com",
            "*x",
            "a*b",
            "**",
            "*.",
            "é.com",
        ],
        _ => &[
            "svc.dns",
            "svc.dns:443",
            "svc.dns:",
            "svc.dns:abc",
            "svc.dns:123456",
            "a:b:80",
            "[::1]:80",
        ],
    };
    let n = rng.range(1, 3);
    let v: Vec<Value> = (0..n).map(|_| json!(*rng.pick(pool))).collect();
    m.insert(
        k.into(),
        if rng.chance(5) {
            rng.pick(&[json!([]), json!([""]), json!("x"), json!([1])])
                .clone()
        } else {
            Value::Array(v)
        },
    );
    if rng.chance(5) {
        m.insert(rng.pick(&keys).to_string(), json!(["x"]));
    }
    if rng.chance(20) {
        m.insert(
            "_disable_".into(),
            if rng.chance(90) {
                json!(true)
            } else {
                json!("yes")
            },
        );
    }
    if rng.chance(60) {
        m.insert("name".into(), json!(format!("rule{}", rng.below(100))));
    }
    if rng.chance(10) {
        m.insert(
            "urls".into(),
            rng.pick(&[json!(["a"]), json!([""]), json!("a"), json!([1])])
                .clone(),
        );
    }
    if rng.chance(10) {
        m.insert(
            "code".into(),
            rng.pick(&[
                json!(1),
                json!(-1),
                json!(4294967296u64),
                json!(1.5),
                json!("1"),
            ])
            .clone(),
        );
    }
    if rng.chance(5) {
        m.insert(rng.pick(&["flag", "nope", "Name"]).to_string(), json!(true));
    }
    Value::Object(m)
}

#[test]
fn rule_sets_agree() {
    let mut rng = Rng::new(0x5eed_0002);
    let authorities = [
        "foo.com",
        "FOO.com:8080",
        "a.example.com",
        "example.com",
        "www.test.org",
        "[::1]:443",
        "[::1]",
        "::1",
        "[::1]x",
        "[::1]:",
        "foo.com:",
        "foo.com:abc",
        "x",
        "",
        "é.com",
        "a:b:80",
        "[::1",
        "WWW.X:1",
    ];
    let routes = [
        "r1", "R1", "route-a", "route-ab", "api-v1", "", "a|b", "路由",
    ];
    let clusters = [
        "outbound|443||svc.dns",
        "outbound|80||svc.dns",
        "svc.dns",
        "outbound|443||svc.dns|x",
        "a|b|c",
        "outbound|123456||svc.dns",
        "outbound|||svc.dns",
        "outbound|80||[::1]",
        "outbound|b:80||a",
    ];
    let raw = [
        "",
        " ",
        "{}",
        "[]",
        "null",
        "{",
        "{\"name\": \"a\", \"name\": \"\"}",
        "{\"_rules_\": {}}",
        "\u{feff}{}",
    ];
    let (mut sets, mut requests, mut rejected) = (0, 0, 0);
    let mut problems = Vec::new();
    let mut wording = 0;
    for _ in 0..4000 {
        let bytes: Vec<u8> = if rng.chance(5) {
            rng.pick(&raw).as_bytes().to_vec()
        } else {
            let mut m = serde_json::Map::new();
            if rng.chance(50) {
                m.insert(
                    "name".into(),
                    json!(*rng.pick(&["global", "", "g", "h", "k"])),
                );
            }
            if rng.chance(10) {
                m.insert("urls".into(), json!(["x", ""]));
            }
            if rng.chance(75) {
                let n = rng.range(0, 4);
                m.insert(
                    "_rules_".into(),
                    Value::Array((0..n).map(|_| rule_value(&mut rng)).collect()),
                );
            }
            serde_json::to_vec(&Value::Object(m)).unwrap()
        };
        sets += 1;
        let r = RuleSet::<TestConfig>::parse(&bytes);
        let c = CppRules::parse(&bytes);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        match (r, c) {
            (Ok(r), Ok(c)) => {
                for _ in 0..20 {
                    requests += 1;
                    let a = rng.chance(90).then(|| rng.pick(&authorities).to_string());
                    let ro = rng.chance(70).then(|| rng.pick(&routes).to_string());
                    let cl = rng.chance(70).then(|| rng.pick(&clusters).to_string());
                    let input = MatchInput {
                        authority: a.clone(),
                        route_name: ro.clone(),
                        cluster_name: cl.clone(),
                    };
                    let want = rust_match(&r, &input);
                    let got = c.select(
                        a.as_deref().map(str::as_bytes),
                        ro.as_deref().map(str::as_bytes),
                        cl.as_deref().map(str::as_bytes),
                    );
                    if want != got && problems.len() < 20 {
                        problems.push(format!("{text} with {input:?}: rust {want:?}, cpp {got:?}"));
                    }
                }
            }
            (Err(a), Err(b)) => {
                rejected += 1;
                let a = a.to_string();
                if key(&a) != key(&b) && problems.len() < 20 {
                    problems.push(format!("{text}: rust `{a}`, cpp `{b}`"));
                } else if a != b {
                    wording += 1;
                    println!("wording: {text}: rust `{a}` | cpp `{b}`");
                }
            }
            (a, b) if problems.len() < 20 => problems.push(format!(
                "{text}: rust {}, cpp {}",
                a.map(|_| "accepted".to_string())
                    .unwrap_or_else(|e| e.to_string()),
                b.map(|_| "accepted".to_string()).unwrap_or_else(|e| e),
            )),
            _ => {}
        }
    }
    for a in authorities {
        let want = pwsdk::rules::host_of_authority(a);
        let got = host_from_authority(a.as_bytes());
        if want.as_bytes() != got {
            problems.push(format!(
                "host of {a:?}: rust {want:?}, cpp {:?}",
                String::from_utf8_lossy(&got)
            ));
        }
    }
    println!("rules: {sets} configurations ({rejected} rejected by both), {requests} requests, {wording} wording differences");
    assert!(
        rejected < sets * 6 / 10 && requests > 10_000,
        "too few valid rule sets: {rejected} of {sets} rejected"
    );
    assert!(
        problems.is_empty(),
        "the SDKs disagree:\n{}",
        problems.join("\n")
    );
}

#[test]
fn regex_costs_agree_at_the_limits() {
    for p in [
        "a{1000}",
        "a{0,1000}",
        "(a{10}){100}",
        "(a{10}){101}",
        "(a|b){500}",
        "a{2,}",
        "(ab){333}c",
        "x{1000}{1}",
    ] {
        let rust = Regex::new(p, false).is_ok();
        let cpp = CppRegex::new(p.as_bytes(), false).is_ok();
        assert_eq!(
            rust,
            cpp,
            "pattern {p}: rust accepts {rust}, cpp accepts {cpp} (cpp cost {:?})",
            CppRegex::cost(p.as_bytes())
        );
    }
}

fn wording_diff(wording: &mut Vec<String>, pattern: &impl std::fmt::Debug, rust: &str, cpp: &str) {
    if rust != cpp && wording.len() < 20 {
        wording.push(format!("pattern {pattern:?}: rust {rust} | cpp {cpp}"));
    }
}
