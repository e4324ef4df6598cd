//! pwhost refuses what Envoy refuses: each refusal has a fixture rejected with Envoy's wording and a control
//! that loads (or runs).

use super::{fixture, load, load_err, run_yaml};
use pwhost::runner::RunOptions;
use pwhost::{Error, GrpcAnswer, LogLevel, Plugin, Request, Response, VmOptions, WasiSet};

fn log_lines(logs: &[pwhost::LogLine]) -> Vec<String> {
    logs.iter().map(|l| l.message.clone()).collect()
}

#[test]
fn wasi_functions_follow_the_host_generation() {
    // the default is the oldest generation still shipped: 15 functions
    assert_eq!(
        load_err("wasi_newer.wat"),
        "plug-in wasi_newer does not load: Failed to load Wasm module due to a missing import: \
         wasi_snapshot_preview1.sched_yield"
    );
    let bytes = std::fs::read(fixture("wasi_newer.wat")).unwrap();
    assert_eq!(
        pwhost::plugin::check(&bytes, WasiSet::Set18).unwrap_err(),
        ["Failed to load Wasm module due to a missing import: wasi_snapshot_preview1.clock_res_get"]
    );
    // control: the newest generation has both
    let info = pwhost::plugin::check(&bytes, WasiSet::Set45).unwrap();
    assert_eq!(info.wasi, WasiSet::Set45);
    let plugin = Plugin::from_bytes("wasi_newer", &bytes);
    assert!(plugin.is_err());
    // a plug-in loaded with the default set can be re-linked for a newer gateway
    let wasi = load("wasi.wat").with_wasi(WasiSet::Set45).unwrap();
    assert_eq!(wasi.info().wasi, WasiSet::Set45);
}

#[test]
fn env_imports_are_linked_per_abi_version() {
    assert_eq!(
        load_err("abi_0_1_0_continue_stream.wat"),
        "plug-in abi_0_1_0_continue_stream does not load: Failed to load Wasm module due to a missing import: \
         env.proxy_continue_stream"
    );
    assert_eq!(
        load_err("abi_0_2_0_log_level.wat"),
        "plug-in abi_0_2_0_log_level does not load: Failed to load Wasm module due to a missing import: \
         env.proxy_get_log_level"
    );
    assert_eq!(
        load_err("unknown_import.wat"),
        "plug-in unknown_import does not load: Failed to load Wasm module due to a missing import: \
         env.proxy_get_configuration"
    );
    // controls: 0.2.1 has proxy_get_log_level, 0.1.0 has its own four calls
    let vm = load("log_level.wat")
        .start_with(VmOptions {
            log_level: LogLevel::Warn,
            ..VmOptions::default()
        })
        .unwrap();
    assert_eq!(log_lines(vm.logs()), ["log level 03"]);
    assert_eq!(load("abi_0_1_0.wat").info().abi, "proxy_abi_version_0_1_0");
}

#[test]
fn abi_0_1_0_calls_behave_as_in_envoy() {
    let plugin = load("abi_0_1_0.wat");
    let mut vm = plugin.start("the config").unwrap();
    // proxy_get_configuration answers the plug-in configuration while configuring
    assert_eq!(log_lines(vm.logs()), ["configuration=the config"]);
    let out = vm.request(Request::get("/")).run().unwrap();
    // 0.1.0: a missing header reads as an empty value (Ok); continue_request resumes the stopped request
    assert_eq!(
        log_lines(&out.logs),
        [
            "missing-key 00",
            "missing-key-len 00",
            "clear-route-cache 00",
            "continue-request 00"
        ]
    );
    assert!(out.paused.is_none(), "{:?}", out.paused);
    assert!(out.upstream_request.is_some());
    // the two-parameter proxy_on_request_headers of 0.1.0 was called
    assert!(out.callbacks.contains(&"proxy_on_request_headers"));
}

#[test]
fn wrong_import_and_callback_signatures_are_refused() {
    assert_eq!(
        load_err("import_mismatch.wat"),
        "plug-in import_mismatch does not load: Failed to load Wasm module due to an import type mismatch: \
         wasi_snapshot_preview1.fd_write, want: i32 i32 -> i32, but host exports: i32 i32 i32 i32 -> i32"
    );
    assert_eq!(
        load_err("bad_callback_signature.wat"),
        "plug-in bad_callback_signature does not load: Bad function signature for: proxy_on_request_headers, \
         want: i32 i32 i32 -> i32, but the module exports: i32 i32 -> i32"
    );
    // control: the same two-parameter export is right for ABI 0.1.0 (abi_0_1_0.wat loads)
    load("abi_0_1_0.wat");
    // and a correct fd_write import links (wasi.wat)
    load("wasi.wat");
}

#[test]
fn check_reports_every_refusal_like_envoys_log() {
    // no allocator and a bad callback signature: Envoy logs both
    let wat = r#"(module
      (memory (export "memory") 1)
      (func (export "proxy_abi_version_0_2_1"))
      (func (export "proxy_on_tick") (param i32 i32)))"#;
    assert_eq!(
        pwhost::plugin::check(wat.as_bytes(), WasiSet::default()).unwrap_err(),
        [
            "Wasm module is missing malloc function.",
            "Bad function signature for: proxy_on_tick, want: i32 -> void, but the module exports: i32 i32 -> void"
        ]
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pwhost"))
        .args(["check", "--wasm"])
        .arg(fixture("wasi_newer.wat"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("would refuse it; Envoy logs:\n  Failed to load Wasm module due to a missing import: wasi_snapshot_preview1.sched_yield"),
        "{stdout}"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pwhost"))
        .args(["check", "--wasi", "45", "--wasm"])
        .arg(fixture("wasi_newer.wat"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn v8_restricts_host_calls_while_the_vm_starts() {
    let err = load("startup_restricted.wat").start("").unwrap_err();
    assert!(
        matches!(
            err,
            Error::Trap {
                callback: "_initialize",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().starts_with(
            "plug-in startup_restricted trapped in _initialize: restricted_callback: env.proxy_get_property is \
             not allowed while the VM starts (_initialize/main)"
        ),
        "{err}"
    );
    // Envoy starts the VM when it loads the module: pwhost check reports it
    let bytes = std::fs::read(fixture("startup_restricted.wat")).unwrap();
    let refusals = pwhost::plugin::check(&bytes, WasiSet::default()).unwrap_err();
    assert!(
        refusals[0].starts_with(
            "Function: _initialize failed: restricted_callback: env.proxy_get_property is not allowed"
        ),
        "{refusals:?}"
    );
    // control: logging, WASI output, environment, randomness and clocks are allowed
    let bytes = std::fs::read(fixture("startup_allowed.wat")).unwrap();
    pwhost::plugin::check(&bytes, WasiSet::default()).unwrap();
    let vm = load("startup_allowed.wat").start("").unwrap();
    assert_eq!(log_lines(vm.logs()), ["initializing", "hello from stdout"]);
}

#[test]
fn v8_restricts_host_calls_inside_the_guest_allocator() {
    let err = load("alloc_restricted.wat").start("{}").unwrap_err();
    assert!(
        err.to_string().contains(
            "trapped in proxy_on_configure: restricted_callback: env.proxy_set_tick_period_milliseconds is not \
             allowed inside the guest allocator"
        ),
        "{err}"
    );
    // control: logging is allowed there
    let vm = load("alloc_logs.wat").start("{}").unwrap();
    assert_eq!(log_lines(vm.logs()), ["allocating"]);
}

#[test]
fn maps_bodies_configuration_and_properties_are_available_when_envoy_holds_them() {
    let mut vm = load("probe.wat").start("{}").unwrap();
    let start = log_lines(vm.logs());
    assert_eq!(
        start,
        [
            "cfg-in-configure 00",  // the plug-in configuration during proxy_on_configure
            "root-request-path 01", // the root context has no request
            "root-plugin-name 00",  // plugin_name is readable everywhere
            "root-set-property 01", // no stream info to set it on
            "root-header 02",       // no header map on the root context
        ]
    );
    let out = vm
        .request(Request::post("/p", "abc").trailer("t", "v"))
        .run()
        .unwrap();
    assert_eq!(
        log_lines(&out.logs),
        [
            "cfg-after-configure 01",
            "headers-in-headers 00",
            "missing-key 01",
            "stream-request-path 00",
            "continue-upstream 12",
            "buffer-9 02",
            // after proxy_on_request_headers returned Continue the request headers are gone
            "headers-in-body 02",
            "pairs-in-body 00",
            "pairs-in-body-len 00",
            "add-header-in-body 02",
            "body-in-body 00",
            "body-in-body-len 03",
            // the request body was passed on: empty, and not writable
            "request-body-in-response 00",
            "request-body-in-response-len 00",
            "request-body-write 02",
            "request-trailers-in-response 02",
            "response-headers-in-response 00",
            // proxy_on_log reads the access log's maps (no request trailers there) and changes nothing
            "headers-in-log 00",
            "request-trailers-in-log 01",
            "response-headers-in-log 00",
            "mutate-in-log 02",
        ]
    );
}

#[test]
fn proc_exit_logs_and_returns() {
    let mut vm = load("wasi.wat").start("{}").unwrap();
    let out = vm.request(Request::get("/")).run().unwrap();
    assert!(out.upstream_request.is_some());
    assert!(vm.failure().is_none());
}

#[test]
fn local_replies_get_envoys_content_length_and_type() {
    let plugin = load("local_reply.wat");
    let mut vm = plugin.start("with body").unwrap();
    let out = vm.request(Request::get("/")).run().unwrap();
    // the plug-in's reply as sent ...
    let lr = out.local_response.as_ref().unwrap();
    assert!(!lr.headers.contains("content-length"));
    assert_eq!(lr.details, "denied_by_fixture");
    // ... reaches its own response callbacks, and the client, as Envoy's prepareLocalReply makes it
    assert_eq!(
        log_lines(&out.logs),
        ["content-type=text/plain", "content-length=6"]
    );
    let down = out.downstream_response.unwrap();
    let keys: Vec<&str> = down.headers.0.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, [":status", "x-a", "content-length", "content-type"]);
    assert_eq!(down.body_text(), "denied");

    // an empty body: neither header
    let mut vm = plugin.start("").unwrap();
    let out = vm.request(Request::get("/")).run().unwrap();
    assert_eq!(
        log_lines(&out.logs),
        ["content-type= 01", "content-length= 01"]
    );
    let down = out.downstream_response.unwrap();
    assert!(!down.headers.contains("content-type") && !down.headers.contains("content-length"));

    // a gRPC request gets a trailers-only reply
    let mut vm = plugin.start("with body").unwrap();
    let out = vm
        .request(Request::post("/pkg.S/M", "x").header("content-type", "application/grpc"))
        .run()
        .unwrap();
    let down = out.downstream_response.unwrap();
    assert_eq!(down.status(), Some(200));
    assert_eq!(down.header("grpc-status").as_deref(), Some("7"));
    assert_eq!(down.header("grpc-message").as_deref(), Some("denied"));
    assert!(down.body.is_empty());
}

#[test]
fn the_connection_manager_adds_forwarded_proto_and_request_id() {
    let plugin = load("passthrough.wat");
    let mut vm = plugin.start("").unwrap();
    let up =
        |vm: &mut pwhost::Vm, r: Request| vm.request(r).run().unwrap().upstream_request.unwrap();
    let a = up(&mut vm, Request::get("/"));
    assert_eq!(a.header("x-forwarded-proto").as_deref(), Some("http"));
    let id = a.header("x-request-id").unwrap();
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "4", "a version-4 UUID: {id}");
    // each request gets its own id; the sequence is fixed for a fixed seed
    let b = up(&mut vm, Request::get("/"));
    assert_ne!(b.header("x-request-id").unwrap(), id);
    let mut again = plugin.start("").unwrap();
    assert_eq!(
        up(&mut again, Request::get("/"))
            .header("x-request-id")
            .unwrap(),
        id
    );
    // a request that has them keeps its own; a request may leave them out
    let c = up(
        &mut vm,
        Request::get("/")
            .header("x-request-id", "mine")
            .header("x-forwarded-proto", "https"),
    );
    assert_eq!(c.headers.get_all("x-request-id"), [b"mine".as_slice()]);
    assert_eq!(c.header("x-forwarded-proto").as_deref(), Some("https"));
    let d = up(
        &mut vm,
        Request::get("/")
            .without("x-request-id")
            .without(":authority"),
    );
    assert!(!d.headers.contains("x-request-id") && !d.headers.contains(":authority"));
    assert!(d.headers.contains("x-forwarded-proto"));
    // the same in a vector: `omit`
    let results = run_yaml(
        &plugin,
        "cases:\n  - name: x\n    request: {omit: [x-forwarded-proto]}\n    expect: {upstream_request: {absent: [x-forwarded-proto]}}\n",
        RunOptions::default(),
    );
    super::assert_pass(&results);
}

#[test]
fn callouts_follow_envoys_argument_checks() {
    let plugin = load("grpc_auth.wat");
    // a plain name that is no cluster: ParseFailure (the plug-in logs it and lets the request through)
    let mut vm = plugin
        .start_with(VmOptions {
            clusters: Some(vec!["other".into()]),
            ..VmOptions::default()
        })
        .unwrap();
    let out = vm.request(Request::get("/")).run().unwrap();
    assert_eq!(log_lines(&out.logs), ["grpc_call failed 04"]);
    assert!(out.grpc_calls.is_empty());
    // control: the cluster exists
    let mut vm = plugin
        .start_with(VmOptions {
            clusters: Some(vec!["ext-authz".into()]),
            ..VmOptions::default()
        })
        .unwrap();
    let out = vm
        .request(Request::get("/"))
        .grpc_call_answer(GrpcAnswer::ok("allow"))
        .upstream(Response::new(204))
        .run()
        .unwrap();
    assert_eq!(out.grpc_calls.len(), 1);
    assert_eq!(out.downstream_response.unwrap().status(), Some(204));
}
