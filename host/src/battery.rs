//! The generic battery: checks any plug-in can be held to without vectors.
//!
//! - malformed configurations are rejected or accepted, never a trap;
//! - 10,000 requests through one VM do not grow linear memory without bound;
//! - odd requests (no `:path`, no `:authority`, non-UTF-8 values and bodies, 1 MiB of headers, an empty
//!   body with end_of_stream) do not trap.

use std::time::Instant;

use crate::runner::CaseResult;
use crate::types::{Error, Request, Response};
use crate::{Plugin, Vm};

/// Memory a plug-in may gain between request 1,000 and request 10,000.
pub const MEMORY_SLACK: usize = 1 << 20;

fn malformed_configs() -> Vec<(&'static str, Vec<u8>)> {
    let mut huge = String::from("{\"padding\": [");
    while huge.len() < (1 << 20) {
        huge.push_str("\"0123456789abcdef0123456789abcdef\",");
    }
    huge.push_str("\"end\"]}");
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    vec![
        ("empty", Vec::new()),
        ("not JSON", b"{not json".to_vec()),
        ("array", b"[]".to_vec()),
        ("number", b"42".to_vec()),
        ("string", b"\"x\"".to_vec()),
        ("null", b"null".to_vec()),
        ("_rules_ is a number", br#"{"_rules_": 5}"#.to_vec()),
        (
            "_rules_ entry without a matcher",
            br#"{"_rules_": [{}]}"#.to_vec(),
        ),
        ("huge 1 MiB JSON", huge.into_bytes()),
        ("deeply nested (100,000 levels)", deep.into_bytes()),
        ("binary garbage", vec![0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28]),
    ]
}

fn odd_requests() -> Vec<(&'static str, Request)> {
    let big_headers = (0..1024).fold(Request::get("/big"), |r, i| {
        r.header(&format!("x-h{i}"), "v".repeat(1000))
    });
    vec![
        (
            "no :path",
            Request::bare()
                .header(":method", "GET")
                .header(":scheme", "http")
                .header(":authority", "a.com"),
        ),
        (
            "no :authority",
            Request::bare()
                .header(":method", "GET")
                .header(":scheme", "http")
                .header(":path", "/"),
        ),
        ("no headers at all", Request::bare()),
        (
            "non-UTF-8 header values",
            Request::get("/\u{e9}").header("x-bin", [0x80u8, 0xff, 0xfe, b'a']),
        ),
        (
            "non-UTF-8 body",
            Request::post("/upload", [0xffu8, 0xfe, 0x00, 0xc3, 0x28, 0x80]),
        ),
        ("1 MiB of headers", big_headers),
        ("empty body with end_of_stream", Request::post("/", "")),
        (
            "64 KiB path",
            Request::get(&format!("/{}", "a".repeat(65_536))),
        ),
        (
            "body with trailers",
            Request::post("/t", "x=1").trailer("grpc-status", "0"),
        ),
    ]
}

fn result(
    plugin: &Plugin,
    lang: &str,
    check: String,
    failure: Option<String>,
    detail: String,
    t: Instant,
) -> CaseResult {
    CaseResult {
        plugin: plugin.name().to_string(),
        case: format!("battery: {check}"),
        lang: lang.to_string(),
        file: "(battery)".into(),
        passed: failure.is_none(),
        failures: failure.into_iter().collect(),
        got: detail,
        duration: t.elapsed(),
    }
}

/// Runs the battery; `config` is used for the request checks (it must be accepted).
pub fn run(plugin: &Plugin, lang: &str, config: &[u8]) -> Vec<CaseResult> {
    let mut out = Vec::new();
    let info = plugin.info();
    let t = Instant::now();
    out.push(result(
        plugin,
        lang,
        "load check".into(),
        None,
        format!(
            "{}, allocator {}, {} imports",
            info.abi,
            info.allocator,
            info.imports.len()
        ),
        t,
    ));

    for (label, cfg) in malformed_configs() {
        let t = Instant::now();
        let failure = match plugin.start(&cfg) {
            Ok(_) | Err(Error::ConfigRejected { .. }) => None,
            Err(e) => Some(e.to_string()),
        };
        out.push(result(
            plugin,
            lang,
            format!("configure with {label}"),
            failure,
            String::new(),
            t,
        ));
    }

    let t = Instant::now();
    let start = |plugin: &Plugin| {
        plugin.start(config).map_err(|e| format!("cannot start with the battery configuration (pass one the plug-in accepts with --config or --vectors): {e}"))
    };
    match start(plugin) {
        Err(e) => out.push(result(
            plugin,
            lang,
            "10,000 requests".into(),
            Some(e),
            String::new(),
            t,
        )),
        Ok(mut vm) => {
            let (failure, detail) = match soak(&mut vm) {
                Ok(detail) => (None, detail),
                Err(e) => (Some(e), String::new()),
            };
            out.push(result(
                plugin,
                lang,
                "10,000 requests".into(),
                failure,
                detail,
                t,
            ));
        }
    }

    for (label, req) in odd_requests() {
        let t = Instant::now();
        let failure = match start(plugin) {
            Err(e) => Some(e),
            Ok(mut vm) => match vm
                .request(req)
                .upstream(Response::new(200).body("ok"))
                .run()
            {
                Ok(_) => None,
                Err(e) => Some(e.to_string()),
            },
        };
        out.push(result(
            plugin,
            lang,
            format!("request with {label}"),
            failure,
            String::new(),
            t,
        ));
    }
    out
}

fn soak(vm: &mut Vm) -> Result<String, String> {
    let one = |vm: &mut Vm, i: usize| -> Result<(), String> {
        let req = if i.is_multiple_of(2) {
            Request::get(&format!("/items/{i}?q={i}"))
                .header("user-agent", "battery")
                .header("x-i", i.to_string())
        } else {
            Request::post("/submit", format!("{{\"n\": {i}}}"))
                .header("content-type", "application/json")
        };
        vm.request(req)
            .upstream(Response::new(200).body("ok"))
            .run()
            .map(|_| ())
            .map_err(|e| format!("request {i}: {e}"))
    };
    for i in 0..1000 {
        one(vm, i)?;
    }
    let after_1k = vm.memory_size();
    for i in 1000..10_000 {
        one(vm, i)?;
    }
    let after_10k = vm.memory_size();
    let detail = format!(
        "linear memory {} KiB after 1k requests, {} KiB after 10k",
        after_1k >> 10,
        after_10k >> 10
    );
    if after_10k > after_1k + MEMORY_SLACK {
        return Err(format!(
            "linear memory grew without bound: {detail} (slack {} KiB)",
            MEMORY_SLACK >> 10
        ));
    }
    Ok(detail)
}
