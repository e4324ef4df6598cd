//! Integration tests against WAT fixtures in host/fixtures/: containment and the library (here), Envoy's
//! strictness (`host/strictness.rs`), and the vector format's features, each with an expectation that must
//! fail when the plug-in misbehaves (`host/features.rs`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use pwhost::runner::{CaseResult, RunOptions};
use pwhost::{Error, Limits, LogLevel, Plugin, Request, Response};

mod features;
mod strictness;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn load(name: &str) -> Plugin {
    Plugin::load(fixture(name)).unwrap_or_else(|e| panic!("{e}"))
}

fn load_err(name: &str) -> String {
    Plugin::load(fixture(name))
        .map(|_| ())
        .unwrap_err()
        .to_string()
}

/// Runs inline vector YAML against a fixture.
fn run_yaml(plugin: &Plugin, yaml: &str, opts: RunOptions) -> Vec<CaseResult> {
    let file = pwhost::vectors::parse("t.yaml", yaml).unwrap_or_else(|e| panic!("{e}"));
    pwhost::runner::run_files_with(plugin, "wat", &[file], opts)
}

/// Asserts every case passed.
fn assert_pass(results: &[CaseResult]) {
    let failed: Vec<String> = results
        .iter()
        .filter(|r| !r.passed)
        .map(CaseResult::render)
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    assert!(!results.is_empty());
}

/// The failure lines of the one case, which must have failed.
fn failures_of(results: &[CaseResult]) -> Vec<String> {
    assert_eq!(results.len(), 1);
    assert!(
        !results[0].passed,
        "expected a failure:\n{}",
        results[0].render()
    );
    results[0].failures.clone()
}

/// Asserts the one case failed with a line containing `want`.
fn assert_fails_with(results: &[CaseResult], want: &str) {
    let f = failures_of(results);
    assert!(
        f.iter().any(|l| l.contains(want)),
        "no failure contains {want:?}:\n{}",
        results[0].render()
    );
}

#[test]
fn trap_names_plugin_callback_and_reason_and_fails_the_vm() {
    let mut vm = load("trap.wat").named("request-block").start("{}").unwrap();
    let err = vm.request(Request::get("/")).run().unwrap_err();
    assert_eq!(
        err.to_string(),
        "plug-in request-block trapped in proxy_on_request_headers: wasm trap: wasm `unreachable` instruction executed"
    );
    // like Envoy, a VM that trapped refuses further calls
    let again = vm.request(Request::get("/")).run().unwrap_err();
    assert!(matches!(again, Error::Failed { .. }), "{again}");
    assert!(again.to_string().starts_with(
        "plug-in request-block is unusable after an earlier failure (plug-in request-block trapped"
    ));
}

#[test]
fn endless_loop_hits_the_cpu_limit() {
    let plugin = load("endless_loop.wat").with_limits(Limits {
        cpu: Duration::from_millis(200),
        ..Limits::default()
    });
    let mut vm = plugin.start("").unwrap();
    let t = Instant::now();
    let err = vm.request(Request::get("/")).run().unwrap_err();
    assert_eq!(
        err.to_string(),
        "plug-in endless_loop exceeded the 200ms CPU limit in proxy_on_request_headers"
    );
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "took {:?}",
        t.elapsed()
    );
}

#[test]
fn default_cpu_limit_is_one_second() {
    let mut vm = load("endless_loop.wat").start("").unwrap();
    let err = vm.request(Request::get("/")).run().unwrap_err();
    assert_eq!(
        err.to_string(),
        "plug-in endless_loop exceeded the 1s CPU limit in proxy_on_request_headers"
    );
}

#[test]
fn memory_bomb_hits_the_memory_limit() {
    let plugin = load("memory_bomb.wat").with_limits(Limits {
        memory: 16 << 20,
        ..Limits::default()
    });
    let mut vm = plugin.start("").unwrap();
    let err = vm.request(Request::get("/")).run().unwrap_err();
    assert_eq!(
        err.to_string(),
        "plug-in memory_bomb exceeded the memory limit of 16 MiB in proxy_on_request_headers"
    );
}

#[test]
fn load_checks_use_envoys_messages() {
    assert_eq!(
        load_err("no_abi_marker.wat"),
        "plug-in no_abi_marker does not load: Missing or unknown Proxy-Wasm ABI version"
    );
    assert_eq!(
        load_err("unknown_import.wat"),
        "plug-in unknown_import does not load: Failed to load Wasm module due to a missing import: env.proxy_get_configuration"
    );
    assert_eq!(
        load_err("no_allocator.wat"),
        "plug-in no_allocator does not load: Wasm module is missing malloc function."
    );
    assert!(load_err("does_not_exist.wasm").starts_with("reading "));
}

#[test]
fn malloc_only_module_gets_its_configuration() {
    let plugin = load("malloc_only.wat");
    assert_eq!(plugin.info().allocator, "malloc");
    assert_eq!(plugin.info().abi, "proxy_abi_version_0_2_1");
    let vm = plugin.start(r#"{"k": "v"}"#).unwrap();
    assert_eq!(vm.logs().len(), 1);
    assert_eq!(vm.logs()[0].level, LogLevel::Info);
    assert_eq!(vm.logs()[0].message, r#"{"k": "v"}"#);
    // empty configuration: returned as (0, 0) without allocating, logged as an empty line
    let vm = plugin.start("").unwrap();
    assert_eq!(vm.logs()[0].message, "");
}

#[test]
fn local_response_stops_the_request_and_is_replayed_as_the_response() {
    let mut vm = load("blocker.wat").start("{}").unwrap();
    let out = vm
        .request(Request::post("/swagger.html", "payload"))
        .run()
        .unwrap();
    let lr = out.local_response.as_ref().unwrap();
    assert_eq!(lr.status, 403);
    assert_eq!(lr.body_text(), "blocked by fixture");
    assert_eq!(lr.headers.get("x-blocked").as_deref(), Some("yes"));
    assert!(out.upstream_request.is_none());
    assert!(out.paused.is_none());
    let down = out.downstream_response.as_ref().unwrap();
    assert_eq!(down.status(), Some(403));
    assert_eq!(out.logs[0].message, "[blocker] request blocked");
    // the request body never reached the plug-in; the teardown is Envoy's order
    assert_eq!(
        out.callbacks,
        ["proxy_on_context_create", "proxy_on_request_headers"],
        "fixture exports only these stream callbacks"
    );
}

#[test]
fn pause_without_resume_is_reported() {
    let mut vm = load("pause_forever.wat").start("{}").unwrap();
    let out = vm.request(Request::post("/", "body")).run().unwrap();
    let p = out.paused.unwrap();
    assert!(
        p.starts_with("stream paused at proxy_on_request_headers and never resumed"),
        "{p}"
    );
    assert!(out.upstream_request.is_none());
}

#[test]
fn http_call_answer_goes_to_the_root_context_and_can_resume() {
    let plugin = load("callout.wat");
    let mut vm = plugin.start("{}").unwrap();
    let out = vm
        .request(Request::get("/private"))
        .http_call_answer(Response::new(200).body("ok"))
        .upstream(Response::new(201).body("created"))
        .run()
        .unwrap();
    assert!(out.paused.is_none(), "{:?}", out.paused);
    assert!(out.local_response.is_none());
    assert_eq!(out.http_calls.len(), 1);
    assert_eq!(out.http_calls[0].upstream, "auth");
    assert_eq!(
        out.http_calls[0].headers.get(":path").as_deref(),
        Some("/auth")
    );
    assert!(out.http_calls[0].answered);
    assert_eq!(
        out.upstream_request.unwrap().header(":path").as_deref(),
        Some("/private")
    );
    assert_eq!(out.downstream_response.unwrap().status(), Some(201));

    // an empty answer makes the fixture deny
    let out = vm
        .request(Request::get("/private"))
        .http_call_answer(Response::new(200))
        .run()
        .unwrap();
    assert_eq!(out.local_response.unwrap().status, 403);
    // no scripted answer: the call fails (0 headers) and the fixture denies too
    let out = vm.request(Request::get("/private")).run().unwrap();
    assert!(!out.http_calls[0].answered);
    assert_eq!(out.local_response.unwrap().status, 403);
}

#[test]
fn passthrough_forwards_request_and_response() {
    let mut vm = load("passthrough.wat").start("{}").unwrap();
    let out = vm
        .request(
            Request::get("/x")
                .header("X-Upper", "1")
                .body("b")
                .trailer("t", "v"),
        )
        .upstream(Response::new(404).header("server", "s").body("nope"))
        .run()
        .unwrap();
    let up = out.upstream_request.unwrap();
    assert_eq!(up.header("x-upper").as_deref(), Some("1"));
    // defaults for missing pseudo-headers come first (VECTORS.md)
    let keys: Vec<&str> = up.headers.0.iter().map(|(k, _)| k.as_str()).collect();
    // Envoy's connection manager appends x-forwarded-proto and x-request-id
    assert_eq!(
        keys,
        [
            ":scheme",
            ":authority",
            ":method",
            ":path",
            "x-upper",
            "x-forwarded-proto",
            "x-request-id"
        ]
    );
    assert_eq!(up.header("x-forwarded-proto").as_deref(), Some("http"));
    assert_eq!(up.header(":authority").as_deref(), Some("example.com"));
    assert_eq!(up.body, b"b");
    assert_eq!(up.trailers.get("t").as_deref(), Some("v"));
    let down = out.downstream_response.unwrap();
    assert_eq!(down.status(), Some(404));
    assert_eq!(down.body_text(), "nope");
}

#[test]
fn broken_plugin_fails_the_vector_with_a_readable_diff() {
    let file = pwhost::vectors::load(fixture("block.yaml")).unwrap();
    let good = load("blocker.wat").named("blocker");
    let results = pwhost::runner::run_files(&good, "wat", std::slice::from_ref(&file));
    assert!(results.iter().all(|r| r.passed), "{}", results[0].render());

    let broken = load("passthrough.wat").named("request-block");
    let results = pwhost::runner::run_files(&broken, "wat", &[file]);
    assert_eq!(results.len(), 1);
    let r = &results[0];
    assert!(!r.passed);
    assert_eq!(r.id(), "request-block/swagger page is blocked/wat");
    let text = r.render();
    let want_lines = [
        "FAIL request-block/swagger page is blocked/wat",
        "  - local_response: expected a local response, got none (the request reached the backend)",
        "  - downstream_response.status: expected 403, got 200",
        "  - logs: expected a line at level info containing \"request blocked\", found none",
        "  got:",
        "    local_response: none",
        "    upstream_request: {:method: \"GET\", :scheme: \"http\", :path: \"/swagger.html\", :authority: \"foo.com\", x-forwarded-proto: \"http\", x-request-id: ",
        "    downstream_response: {:status: \"200\"}",
    ];
    for line in want_lines {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    let junit = pwhost::runner::junit(&results);
    assert!(
        junit
            .contains("<testcase classname=\"request-block.wat\" name=\"swagger page is blocked\""),
        "{junit}"
    );
    assert!(junit.contains("failures=\"1\""));
}

#[test]
fn battery_passes_a_well_behaved_fixture_and_catches_a_trap() {
    let results = pwhost::battery::run(&load("passthrough.wat"), "wat", b"{}");
    let failed: Vec<String> = results
        .iter()
        .filter(|r| !r.passed)
        .map(|r| r.render())
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
    assert!(results.len() > 15);

    let results = pwhost::battery::run(&load("trap.wat"), "wat", b"{}");
    let soak = results
        .iter()
        .find(|r| r.case == "battery: 10,000 requests")
        .unwrap();
    assert_eq!(
        soak.failures,
        ["request 0: plug-in trap trapped in proxy_on_request_headers: wasm trap: wasm `unreachable` instruction executed"]
    );
}

#[test]
fn teardown_order_is_envoys_by_default_and_the_spec_on_request() {
    let plugin = load("passthrough.wat");
    let mut vm = plugin.start("{}").unwrap();
    let out = vm.request(Request::post("/", "b")).run().unwrap();
    assert_eq!(
        out.callbacks,
        [
            "proxy_on_context_create",
            "proxy_on_request_headers",
            "proxy_on_request_body",
            "proxy_on_response_headers",
            "proxy_on_log",
            "proxy_on_done",
            "proxy_on_delete"
        ]
    );
    let options = pwhost::VmOptions {
        teardown: pwhost::Teardown::Spec,
        ..Default::default()
    };
    let mut vm = plugin.start_with(options).unwrap();
    let out = vm.request(Request::get("/")).run().unwrap();
    assert_eq!(
        out.callbacks[out.callbacks.len() - 3..],
        ["proxy_on_done", "proxy_on_log", "proxy_on_delete"]
    );
}

#[test]
fn body_held_by_a_headers_pause_reaches_the_backend_after_resume() {
    let mut vm = load("callout.wat").start("{}").unwrap();
    let out = vm
        .request(Request::post("/upload", "payload"))
        .http_call_answer(Response::new(200).body("ok"))
        .run()
        .unwrap();
    assert!(out.paused.is_none(), "{:?}", out.paused);
    assert_eq!(out.upstream_request.unwrap().body, b"payload");
}

#[test]
fn wasi_stderr_is_an_error_log_and_proc_exit_returns() {
    let plugin = load("wasi.wat");
    let mut vm = plugin.start("{}").unwrap();
    assert_eq!(
        vm.logs(),
        [pwhost::LogLine {
            level: LogLevel::Error,
            message: "configured".into()
        }]
    );
    // Envoy's host logs proc_exit and returns: the module carries on
    let out = vm.request(Request::get("/")).run().unwrap();
    assert!(out.upstream_request.is_some());
    assert!(
        vm.notes()
            .iter()
            .any(|n| n.contains("\"wasi_unstable proc_exit\" from proxy_on_request_headers")),
        "{:?}",
        vm.notes()
    );
}

#[test]
fn cli_exit_codes_and_summary_line() {
    let bin = env!("CARGO_BIN_EXE_pwhost");
    let run = |wasm: &str, vectors: &str| {
        let out = std::process::Command::new(bin)
            .args([
                "conformance",
                "--plugin",
                "request-block",
                "--lang",
                "wat",
                "--wasm",
            ])
            .arg(fixture(wasm))
            .arg("--vectors")
            .arg(fixture(vectors))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stdout, _) = run("blocker.wat", "block.yaml");
    assert_eq!(code, Some(0));
    assert_eq!(
        stdout,
        "PASS request-block/swagger page is blocked/wat\n1 passed, 0 failed\n"
    );
    let (code, stdout, _) = run("passthrough.wat", "block.yaml");
    assert_eq!(code, Some(1));
    assert!(stdout.ends_with("0 passed, 1 failed\n"), "{stdout}");
    // a module the gateway refuses fails every case with the load error
    let (code, stdout, _) = run("no_abi_marker.wat", "block.yaml");
    assert_eq!(code, Some(1));
    assert!(
        stdout.contains(
            "  - plug-in request-block does not load: Missing or unknown Proxy-Wasm ABI version"
        ),
        "{stdout}"
    );
    // a vector file that is not a vector file is an infrastructure error
    let (code, _, stderr) = run("blocker.wat", "trap.wat");
    assert_eq!(code, Some(2));
    assert!(stderr.starts_with("error: "), "{stderr}");
}
