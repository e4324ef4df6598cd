//! Ticks, metrics and shared data of a plug-in written against the standard proxy-wasm C++ SDK API
//! (`extensions/http-wasm-example`, built with wasm-cpp/compat), through the library API: the vector format
//! cannot fire ticks or read metrics yet. Replace with vectors once it can.
//!
//! Needs the built module: `PWHOST_BUILT_DIR` names an `out/`-style tree (`<plugin>/<lang>/plugin.wasm`), as
//! `cargo xtask test` sets it after its conformance stage built every plug-in. Unset: the test prints SKIP.

use std::path::PathBuf;
use std::time::Duration;

use pwhost::{LogLevel, Plugin, Request, VmOptions};

fn built(plugin: &str, lang: &str) -> Option<PathBuf> {
    let Some(dir) = std::env::var_os("PWHOST_BUILT_DIR").map(PathBuf::from) else {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "SKIP {plugin} ({lang}) library-API test: set PWHOST_BUILT_DIR to an out/ tree (<plugin>/<lang>/plugin.wasm)"
        );
        return None;
    };
    Some(dir.join(plugin).join(lang).join("plugin.wasm"))
}

fn has_log(lines: &[pwhost::LogLine], level: LogLevel, text: &str) -> bool {
    lines
        .iter()
        .any(|l| l.level == level && l.message.contains(text))
}

#[test]
fn standard_api_ticks_metrics_and_shared_data() {
    let Some(wasm) = built("http-wasm-example", "cpp") else {
        return;
    };
    let plugin = Plugin::load(&wasm)
        .unwrap_or_else(|e| panic!("{}: {e}", wasm.display()))
        .named("http-wasm-example");
    let mut vm = plugin.start("{}").unwrap_or_else(|e| panic!("{e}"));

    // onConfigure called proxy_set_tick_period_milliseconds(1000) directly, as the upstream example does
    assert_eq!(vm.tick_period(), Duration::from_millis(1000));
    assert!(vm.shared_data("http-wasm-example.ticks").is_none());

    vm.tick().unwrap_or_else(|e| panic!("{e}"));
    vm.tick().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        has_log(vm.logs(), LogLevel::Info, "]::onTick() onTick 1"),
        "{:?}",
        vm.logs()
    );
    assert!(
        has_log(vm.logs(), LogLevel::Info, "]::onTick() onTick 2"),
        "{:?}",
        vm.logs()
    );
    assert_eq!(
        vm.shared_data("http-wasm-example.ticks").as_deref(),
        Some(&b"2"[..])
    );

    // Counter<std::string> with a `method` tag: one metric per value, "method.<value>.<name>"
    for path in ["/a", "/b"] {
        let out = vm
            .request(Request::get(path))
            .run()
            .unwrap_or_else(|e| panic!("{e}"));
        let up = out
            .upstream_request
            .expect("the request reaches the upstream");
        assert_eq!(up.header("x-wasm-example").as_deref(), Some("1"));
    }
    let out = vm
        .request(Request::get("/c").header(":method", "DELETE"))
        .run()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        has_log(&out.logs, LogLevel::Info, "requests with method DELETE: 1"),
        "{:?}",
        out.logs
    );
    assert_eq!(vm.metric("method.GET.http_wasm_example_requests"), Some(2));
    assert_eq!(
        vm.metric("method.DELETE.http_wasm_example_requests"),
        Some(1)
    );

    // the root context keeps its state across requests
    vm.tick().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        vm.shared_data("http-wasm-example.ticks").as_deref(),
        Some(&b"3"[..])
    );
    assert!(vm.failure().is_none());
}

#[test]
fn standard_api_picks_the_factories_by_root_id() {
    let Some(wasm) = built("http-wasm-example", "cpp") else {
        return;
    };
    let plugin = Plugin::load(&wasm)
        .unwrap_or_else(|e| panic!("{}: {e}", wasm.display()))
        .named("http-wasm-example");
    // The example registers its factories for root_id "" (the default). Under another root_id the upstream SDK
    // gives the plug-in a RootContext and Contexts that do nothing; the compat layer does too, and says so.
    let mut vm = plugin
        .start_with(VmOptions {
            plugin_config: b"{}".to_vec(),
            root_id: "other".into(),
            ..VmOptions::default()
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        has_log(
            vm.logs(),
            LogLevel::Warn,
            "no RegisterContextFactory for root_id \"other\" (registered: \"\")"
        ),
        "{:?}",
        vm.logs()
    );
    assert_eq!(vm.tick_period(), Duration::ZERO);
    let out = vm
        .request(Request::get("/local"))
        .run()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.local_response.is_none());
    let up = out.upstream_request.expect("the request passes untouched");
    assert!(up.header("x-wasm-example").is_none());
}
