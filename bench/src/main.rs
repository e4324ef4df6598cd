//! `pwbench`: native baselines for `cargo xtask bench`.
//!
//! The same per-request decision logic a plug-in runs, compiled for the host and called directly: no proxy-wasm
//! host, no wasm, no copying across the ABI. `cargo xtask bench` runs it beside `pwhost bench` so the cost of
//! host + wasm shows as a ratio.
//!
//! ```text
//! pwbench native --plugin request-block --config JSON [--requests N] [--path P] [--header k:v]...
//! ```
//! prints one JSON object: `{"requests", "total_s", "rps", "p50_ns", "p99_ns", "max_ns", "local_responses"}`.
//!
//! The plug-ins are `cdylib` crates whose matching functions are private, so the logic is written here again
//! from each plug-in's README with the same building blocks (`pwsdk::rules` for `_rules_`, `pwsdk::regex` for the
//! regex dialect, `memchr` for substring search, as the Rust plug-ins use).

use std::hint::black_box;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use pwsdk::rules::{MatchInput, PluginConfig, RuleSet};

mod request_block;
mod say_hello;

/// A request as the plug-in sees it: header lines in order, pseudo-headers first.
pub type Headers = Vec<(String, String)>;

/// One plug-in's decision for one request: `true` when it answers locally (blocks, greets).
trait Baseline {
    fn decide(&self, headers: &Headers) -> bool;
}

/// The configuration that applies to a request, from the global configuration and `_rules_`, as the SDK's glue
/// does it: only the inputs the rules need are read (and copied, as a host call would).
fn applicable<C>(set: &RuleSet<C>, headers: &Headers) -> Option<Rc<C>> {
    let needs = set.needs();
    let input = MatchInput {
        authority: if needs.authority {
            header(headers, ":authority").map(str::to_owned)
        } else {
            None
        },
        route_name: None,
        cluster_name: None,
    };
    set.matching(&input).config().cloned()
}

pub fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

struct WithRules<C, F> {
    set: RuleSet<C>,
    fallback: Option<Rc<C>>,
    decide: F,
}

impl<C, F: Fn(&C, &Headers) -> bool> Baseline for WithRules<C, F> {
    fn decide(&self, headers: &Headers) -> bool {
        match applicable(&self.set, headers).or_else(|| self.fallback.clone()) {
            Some(c) => (self.decide)(&c, headers),
            None => false,
        }
    }
}

fn load<C: PluginConfig, F>(
    config: &str,
    fallback: Option<C>,
    decide: F,
) -> Result<Box<dyn Baseline>, String>
where
    F: Fn(&C, &Headers) -> bool + 'static,
{
    let set = RuleSet::<C>::parse(config.as_bytes()).map_err(|e| e.to_string())?;
    Ok(Box::new(WithRules {
        set,
        fallback: fallback.map(Rc::new),
        decide,
    }))
}

fn baseline(plugin: &str, config: &str) -> Result<Box<dyn Baseline>, String> {
    match plugin {
        "request-block" => load(config, None, request_block::decide),
        "say-hello" => load(config, Some(say_hello::Config::default()), say_hello::decide),
        other => Err(format!(
            "no native baseline for plug-in `{other}`; baselines exist for request-block and say-hello"
        )),
    }
}

struct Args {
    plugin: String,
    config: String,
    requests: usize,
    path: String,
    headers: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    match it.next().as_deref() {
        Some("native") => {}
        _ => return Err("usage: pwbench native --plugin NAME --config JSON [--requests N] [--path P] [--header k:v]...".into()),
    }
    let mut a = Args {
        plugin: String::new(),
        config: "{}".into(),
        requests: 100_000,
        path: "/api/items?id=1".into(),
        headers: Vec::new(),
    };
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--plugin" => a.plugin = value()?,
            "--config" => a.config = value()?,
            "--requests" => {
                let v = value()?;
                a.requests = v
                    .parse()
                    .map_err(|_| format!("--requests {v} is not a number"))?
            }
            "--path" => a.path = value()?,
            "--header" => a.headers.push(value()?),
            other => return Err(format!("unknown flag `{other}`")),
        }
    }
    if a.plugin.is_empty() {
        return Err("--plugin NAME is required".into());
    }
    Ok(a)
}

/// The request `pwhost bench` sends: its default pseudo-headers, then `user-agent: pwhost-bench`, then extras.
fn request(a: &Args) -> Headers {
    let mut h: Headers = vec![
        (":method".into(), "GET".into()),
        (":scheme".into(), "http".into()),
        (":path".into(), a.path.clone()),
        (":authority".into(), "example.com".into()),
        ("user-agent".into(), "pwhost-bench".into()),
    ];
    for x in &a.headers {
        let (k, v) = x.split_once(':').unwrap_or((x.as_str(), ""));
        h.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    h
}

fn run() -> Result<(), String> {
    let a = parse_args()?;
    let b = baseline(&a.plugin, &a.config)?;
    let headers = request(&a);
    for _ in 0..1000.min(a.requests) {
        black_box(b.decide(black_box(&headers)));
    }
    let mut times: Vec<Duration> = Vec::with_capacity(a.requests);
    let mut local = 0usize;
    let start = Instant::now();
    for _ in 0..a.requests {
        let t = Instant::now();
        let hit = b.decide(black_box(&headers));
        times.push(t.elapsed());
        local += usize::from(black_box(hit));
    }
    let total = start.elapsed();
    times.sort();
    let pct = |p: f64| {
        times
            .get(((times.len() as f64 * p) as usize).min(times.len().saturating_sub(1)))
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    };
    let out = serde_json::json!({
        "requests": a.requests,
        "total_s": total.as_secs_f64(),
        "rps": a.requests as f64 / total.as_secs_f64().max(1e-12),
        "p50_ns": pct(0.50),
        "p99_ns": pct(0.99),
        "max_ns": times.last().map(|d| d.as_nanos() as u64).unwrap_or(0),
        "local_responses": local,
    });
    println!("{out}");
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
