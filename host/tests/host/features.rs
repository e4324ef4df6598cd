//! Each vector feature: a case that passes against a well-behaved fixture, and one that must fail because
//! the plug-in misbehaves or the expectation is deliberately wrong.

use super::{assert_fails_with, assert_pass, load, run_yaml};
use pwhost::runner::RunOptions;
use pwhost::{GrpcAnswer, Request, Response, VmOptions};

const PLAIN: RunOptions = RunOptions {
    rechunk: false,
    realtime: false,
};
const RECHUNK: RunOptions = RunOptions {
    rechunk: true,
    realtime: false,
};

#[test]
fn body_chunks_reach_the_plugin_one_by_one() {
    let yaml = r#"
cases:
  - name: the word spans two chunks
    request: {headers: {":method": POST}, body_chunks: ["xxba", "dxx"]}
    expect: {local_response: {status: 403, body: bad word}}
"#;
    assert_pass(&run_yaml(&load("body_scan_whole.wat"), yaml, PLAIN));
    // a plug-in that inspects each chunk alone misses it
    assert_fails_with(
        &run_yaml(&load("body_scan_chunk.wat"), yaml, PLAIN),
        "local_response: expected a local response, got none (the request reached the backend)",
    );
}

#[test]
fn rechunk_finds_plugins_that_only_work_with_one_chunk() {
    let yaml = r#"
cases:
  - name: a bad word is blocked
    request: {headers: {":method": POST}, body: "xxbadxx"}
    expect: {local_response: {status: 403}}
  - name: a clean body passes whole
    request: {headers: {":method": POST}, body: "all good"}
    expect: {upstream_request: {body: "all good"}}
"#;
    assert_pass(&run_yaml(&load("body_scan_whole.wat"), yaml, RECHUNK));
    // as written (one chunk) the naive plug-in passes ...
    let naive = load("body_scan_chunk.wat");
    assert_pass(&run_yaml(&naive, yaml, PLAIN));
    // ... re-chunked it does not
    let results = run_yaml(&naive, yaml, RECHUNK);
    assert!(!results[0].passed);
    assert!(
        results[0].failures.iter().any(|f| f
            == "rechunked in halves: local_response: expected a local response, got none (the request reached the backend)"),
        "{}",
        results[0].render()
    );
    assert!(results[0]
        .failures
        .iter()
        .any(|f| f.starts_with("rechunked in halves: the outcome changed: local_response 403")));
    assert!(results[1].passed, "{}", results[1].render());
}

#[test]
fn upstream_response_chunks_and_trailers() {
    let plugin = load("passthrough.wat");
    let yaml = |trailer: &str| {
        format!(
            r#"
cases:
  - name: trailers pass through the response callbacks
    upstream_response: {{body_chunks: ["a", "b"], trailers: {{grpc-status: "0"}}}}
    expect: {{downstream_response: {{body: ab, trailers: {{grpc-status: "0", x-seen: "{trailer}"}}}}}}
"#
        )
    };
    assert_pass(&run_yaml(&plugin, &yaml("yes"), RECHUNK));
    assert_fails_with(
        &run_yaml(&plugin, &yaml("no"), PLAIN),
        "downstream_response.trailers.headers[x-seen]: expected \"no\", got \"yes\"",
    );
    // the library: two response body callbacks
    let mut vm = plugin.start("").unwrap();
    let out = vm
        .request(Request::get("/"))
        .upstream(Response::new(200).chunks(["a", "b"]).trailer("t", "1"))
        .run()
        .unwrap();
    let n = out
        .callbacks
        .iter()
        .filter(|c| **c == "proxy_on_response_trailers")
        .count();
    assert_eq!(n, 1);
    assert_eq!(out.downstream_response.unwrap().body_text(), "ab");
}

const SESSION: &str = r#"
cases:
  - name: a session
    steps:
      - request: {}
        expect: {upstream_request: {absent: [x-late]}, metrics: {requests: 1, latency: [5], level: 42}}
      - advance: 60s
      - request: {}
        expect: {upstream_request: {headers: {x-late: "yes"}}}
      - ticks: 2
        expect: {metrics: {ticks: TICKS}, shared_data: {last: tick, other: null}}
      - request: {}
        expect: {local_response: {status: 200, body: ready}}
    expect: {metrics: {requests: 3, latency: [5, 5, 5]}}
"#;

#[test]
fn sessions_advance_the_clock_fire_ticks_and_see_metrics_and_shared_data() {
    let plugin = load("ticker.wat");
    assert_pass(&run_yaml(&plugin, &SESSION.replace("TICKS", "2"), RECHUNK));
    assert_fails_with(
        &run_yaml(&plugin, &SESSION.replace("TICKS", "3"), PLAIN),
        "steps[3] (ticks): metrics[ticks]: expected 3, got 2",
    );
    // ticks need a tick period
    assert_fails_with(
        &run_yaml(
            &load("passthrough.wat"),
            "cases:\n  - name: t\n    steps: [{ticks: 1}]\n",
            PLAIN,
        ),
        "steps[0] (ticks): ticks: 1 would never fire: the plug-in set no tick period",
    );
    // the library: the same
    let mut vm = plugin.start("").unwrap();
    assert_eq!(vm.tick_period().as_millis(), 1000);
    vm.tick().unwrap();
    vm.tick().unwrap();
    assert_eq!(vm.metric("ticks"), Some(2));
    assert_eq!(vm.shared_data("last").as_deref(), Some(b"tick".as_slice()));
    assert_eq!(vm.now_ns(), 1_704_067_202_000_000_000);
    let out = vm.request(Request::get("/")).run().unwrap();
    assert_eq!(out.local_response.unwrap().body_text(), "ready");
}

#[test]
fn a_background_service_runs_on_ticks_alone() {
    let plugin = load("background.wat");
    let yaml = |cluster: &str| {
        format!(
            r#"
cases:
  - name: pushes on every tick
    steps:
      - ticks: 2
        http_calls: [{{body: ok}}]
        expect:
          http_calls:
            - {{cluster: {cluster}, method: POST, path: /push, body: tick, timeout_ms: 500, headers: {{content-length: "4"}}}}
            - {{cluster: {cluster}}}
          logs: [{{level: info, contains: pushed}}, {{level: warn, contains: push failed}}]
"#
        )
    };
    assert_pass(&run_yaml(&plugin, &yaml("stats"), PLAIN));
    assert_fails_with(
        &run_yaml(&plugin, &yaml("metrics"), PLAIN),
        "steps[0] (ticks): http_calls[0].cluster: expected \"metrics\", got \"stats\"",
    );
    // the library
    let mut vm = plugin.start("").unwrap();
    vm.answer_http_call(Response::new(200));
    let out = vm.tick().unwrap();
    assert_eq!(out.http_calls.len(), 1);
    assert!(out.http_calls[0].answered);
    assert_eq!(
        out.callbacks,
        ["proxy_on_tick", "proxy_on_http_call_response"]
    );
}

const GRPC: &str = r#"
cases:
  - name: allowed
    grpc_calls: [{response: "allow"}]
    upstream_response: {headers: {":status": 201}}
    expect:
      downstream_response: {status: 201}
      grpc_calls:
        - {cluster: ext-authz, service: envoy.service.auth.v3.Authorization, method: METHOD, metadata: {x-tenant: t1}, request: check, timeout_ms: 250}
  - name: denied
    grpc_calls: [{response_hex: "64656e79"}]
    expect: {local_response: {status: 403, body: denied}}
  - name: failed
    grpc_calls: [{status: 14, message: unavailable}]
    expect:
      local_response: {status: 503}
      logs: [{level: info, contains: "grpc closed with status 14"}]
"#;

#[test]
fn grpc_calls_are_answered_as_envoy_does() {
    let plugin = load("grpc_auth.wat");
    assert_pass(&run_yaml(&plugin, &GRPC.replace("METHOD", "Check"), PLAIN));
    let results = run_yaml(&plugin, &GRPC.replace("METHOD", "Authorize"), PLAIN);
    assert!(!results[0].passed);
    assert!(
        results[0]
            .failures
            .contains(&"grpc_calls[0].method: expected \"Authorize\", got \"Check\"".to_string()),
        "{}",
        results[0].render()
    );
    // success is proxy_on_grpc_receive only; failure is proxy_on_grpc_close only
    let mut vm = plugin.start("").unwrap();
    let out = vm
        .request(Request::get("/"))
        .grpc_call_answer(GrpcAnswer::ok("allow"))
        .run()
        .unwrap();
    assert!(out.callbacks.contains(&"proxy_on_grpc_receive"));
    assert!(!out.callbacks.contains(&"proxy_on_grpc_close"));
    assert_eq!(out.grpc_calls[0].answer, Some(GrpcAnswer::ok("allow")));
    let out = vm.request(Request::get("/")).run().unwrap();
    assert!(out.callbacks.contains(&"proxy_on_grpc_close"));
    assert!(!out.callbacks.contains(&"proxy_on_grpc_receive"));
    assert_eq!(out.local_response.unwrap().status, 503);
}

#[test]
fn http_callouts_are_asserted_in_order() {
    let plugin = load("callout.wat");
    let yaml = |timeout: u32| {
        format!(
            r#"
cases:
  - name: authorized
    http_calls: [{{body: ok}}]
    expect:
      upstream_request: {{headers: {{":path": /}}}}
      http_calls: [{{cluster: auth, method: GET, path: /auth, headers: {{":authority": auth}}, timeout_ms: {timeout}}}]
"#
        )
    };
    assert_pass(&run_yaml(&plugin, &yaml(1000), PLAIN));
    assert_fails_with(
        &run_yaml(&plugin, &yaml(5), PLAIN),
        "http_calls[0].timeout_ms: expected 5, got 1000",
    );
    assert_fails_with(
        &run_yaml(
            &plugin,
            "cases:\n  - name: x\n    http_calls: [{body: ok}]\n    expect: {http_calls: []}\n",
            PLAIN,
        ),
        "http_calls: expected 0 call(s), got 1: auth GET /auth",
    );
}

const TCP: &str = r#"
cases:
  - name: the client quits
    connection:
      - downstream: hello
      - upstream: pong
      - downstream: quit
      - downstream: never delivered
    expect:
      connection: {to_upstream: TO_UPSTREAM, to_downstream: "> pong", closed_by_plugin: [downstream]}
      logs: [{level: info, contains: "downstream closed, peer 01"}]
  - name: the backend ends the stream
    connection:
      - downstream: hi
      - upstream: bye
        end_of_stream: true
    expect:
      connection: {to_upstream: hi, to_downstream: "> bye"}
      logs: [{level: info, contains: "upstream closed, peer 00"}, {level: info, contains: "downstream closed, peer 02"}]
"#;

#[test]
fn tcp_connections_forward_what_the_plugin_lets_through() {
    let plugin = load("tcp_guard.wat");
    assert_pass(&run_yaml(
        &plugin,
        &TCP.replace("TO_UPSTREAM", "helloquit"),
        PLAIN,
    ));
    let results = run_yaml(
        &plugin,
        &TCP.replace("TO_UPSTREAM", "hellonever delivered"),
        PLAIN,
    );
    assert_eq!(
        results[0].failures,
        ["connection.to_upstream: expected \"hellonever delivered\", got \"helloquit\""]
    );
    assert!(results[1].passed);
    // the library
    let mut vm = plugin.start("").unwrap();
    let out = vm
        .connection()
        .downstream("abc")
        .upstream("x")
        .close_downstream()
        .run()
        .unwrap();
    assert_eq!(out.to_upstream, b"abc");
    assert_eq!(out.to_downstream, b"> x");
    assert_eq!(
        out.callbacks,
        [
            "proxy_on_context_create",
            "proxy_on_new_connection",
            "proxy_on_downstream_data",
            "proxy_on_upstream_data",
            "proxy_on_downstream_connection_close",
            "proxy_on_done" // the fixture exports neither proxy_on_log nor proxy_on_delete
        ]
    );
}

#[test]
fn json_bodies_can_ignore_fields_or_match_patterns() {
    let plugin = load("passthrough.wat");
    let yaml = |created: &str, ignore: &str, pattern: &str| {
        format!(
            r#"
cases:
  - name: json
    upstream_response: {{body: '{{"id": "a1", "created": 1795000000, "n": [1, 2]}}'}}
    expect: {{downstream_response: {{body_json: {{id: a1, created: {created}, n: [1, 2]}}, ignore_fields: [{ignore}]}}}}
  - name: pattern
    upstream_response: {{body: 'took 17 ms'}}
    expect: {{downstream_response: {{body_matches: '{pattern}'}}}}
  - name: events
    upstream_response: {{body: "data: {{\"created\": 9, \"v\": 1}}\n\ndata: [DONE]\n\n"}}
    expect: {{downstream_response: {{body_events: [{{created: 0, v: 1}}, "[DONE]"], ignore_fields: [created]}}}}
"#
        )
    };
    assert_pass(&run_yaml(
        &plugin,
        &yaml("0", "created", r"took \d+ ms"),
        RECHUNK,
    ));
    let results = run_yaml(&plugin, &yaml("0", "id", r"took \d+ s"), PLAIN);
    assert_eq!(
        results[0].failures,
        ["downstream_response.body_json: created: expected 0, got 1795000000"]
    );
    assert_eq!(
        results[1].failures,
        ["downstream_response.body: expected to match /took \\d+ s/, got \"took 17 ms\""]
    );
    assert!(results[2].passed);
}

#[test]
fn file_level_config_raw_is_the_configuration() {
    let plugin = load("malloc_only.wat");
    let yaml = |log: &str| {
        format!(
            "config_raw: 'raw <bytes>'\ncases:\n  - name: x\n    expect: {{logs: [{{level: info, contains: '{log}'}}]}}\n"
        )
    };
    assert_pass(&run_yaml(&plugin, &yaml("raw <bytes>"), PLAIN));
    assert_fails_with(
        &run_yaml(&plugin, &yaml("{}"), PLAIN),
        "logs: expected a line at level info containing \"{}\", found none",
    );
}

#[test]
fn the_clock_and_randomness_are_fixed_unless_real_time() {
    let plugin = load("ticker.wat");
    let fixed = plugin.start("").unwrap();
    assert_eq!(fixed.now_ns(), 1_704_067_200_000_000_000);
    let mut real = plugin
        .start_with(VmOptions {
            realtime: true,
            ..VmOptions::default()
        })
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    assert!(real.now_ns().abs_diff(now) < 5_000_000_000);
    // today is long past 2024-01-01T00:01:00Z
    let out = real.request(Request::get("/")).run().unwrap();
    assert_eq!(
        out.upstream_request.unwrap().header("x-late").as_deref(),
        Some("yes")
    );
    // the request ids differ between two real-time VMs
    let id = |vm: &mut pwhost::Vm| {
        vm.request(Request::get("/"))
            .run()
            .unwrap()
            .upstream_request
            .unwrap()
            .header("x-request-id")
    };
    let mut other = plugin
        .start_with(VmOptions {
            realtime: true,
            ..VmOptions::default()
        })
        .unwrap();
    assert_ne!(id(&mut real), id(&mut other));
    // and the vector runner: the session holds under a real clock too? No: its first request expects no
    // x-late, which only the fixed clock gives.
    assert_fails_with(
        &run_yaml(
            &plugin,
            &SESSION.replace("TICKS", "2"),
            RunOptions {
                rechunk: false,
                realtime: true,
            },
        ),
        "steps[0] (request): upstream_request.headers[x-late]: expected absent, got \"yes\"",
    );
}
