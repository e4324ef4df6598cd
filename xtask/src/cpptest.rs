//! The C++ SDK's native tests: its pure logic (JSON config access, rule matcher, regex, auth, SSE, cluster
//! naming, shared-data CAS retries) compiled for the host and run, so it is checked at native speed beside the
//! wasm conformance runs; they read the tables shared with the Rust SDK from `wasm-rust/tests/`. The same for
//! the standard API layer (`wasm-cpp/compat/tests`), plus a compile check of that API's whole surface.

use anyhow::{bail, Context, Result};

use crate::plan::Cmd;
use crate::project;
use crate::ui::Ui;

pub fn run(ui: &Ui) -> Result<()> {
    let root = project::root();
    let tests = root.join("wasm-cpp/tests");
    let mut sources =
        project::cpp_sources(&tests).with_context(|| format!("reading {}", tests.display()))?;
    if sources.is_empty() {
        bail!("no C++ SDK tests found in {}", tests.display());
    }
    // The SDK's pure logic: everything but the glue that touches the ABI (exports, imports, and the callout
    // bookkeeping between them).
    let src = root.join("wasm-cpp/src");
    sources.extend(project::cpp_sources(&src)?.into_iter().filter(|p| {
        !matches!(
            p.file_name().and_then(|n| n.to_str()),
            Some("dispatch.cc" | "hostcalls.cc" | "callouts.cc")
        )
    }));
    let cxx = ["c++", "g++", "clang++"]
        .iter()
        .find(|c| crate::toolchain::which(c).is_some())
        .context("no native C++ compiler found for the C++ SDK tests; install g++ or clang")?;
    let out = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("cpp-native");
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let bin = out.join(format!("pwsdk-tests-{}", std::process::id()));
    let compile = Cmd::new(*cxx, &root)
        .args([
            "-std=c++17",
            "-O1",
            "-g0",
            "-Wall",
            "-Wextra",
            "-fno-exceptions",
            "-fno-rtti",
        ])
        .arg(format!("-I{}", root.join("wasm-cpp/include").display()))
        .args(sources.iter().map(|s| s.display().to_string()))
        .arg("-o")
        .arg(bin.display().to_string());
    crate::runner::run(&compile, ui)?;
    // The regex, cluster and SSE case tables are shared with the Rust SDK's tests.
    let tables = root.join("wasm-rust/tests");
    let result = crate::runner::run(
        &Cmd::new(bin.display().to_string(), &root).arg(tables.display().to_string()),
        ui,
    );
    let _ = std::fs::remove_file(&bin);
    result?;
    standard_api(ui, &root, cxx, &out)
}

/// The standard C++ SDK API (`wasm-cpp/compat`): its pure logic compiled and run natively, and a compile check of
/// its whole surface (every function and template used once).
fn standard_api(ui: &Ui, root: &std::path::Path, cxx: &str, out: &std::path::Path) -> Result<()> {
    let tests = root.join("wasm-cpp/compat/tests");
    let flags = [
        "-std=c++17",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-fno-exceptions",
        "-fno-rtti",
    ];
    let include = format!("-I{}", root.join("wasm-cpp/compat/include").display());
    let surface = Cmd::new(cxx, root)
        .args(flags)
        .arg(&include)
        .arg("-fsyntax-only")
        .arg(tests.join("api_surface.cc").display().to_string());
    crate::runner::run(&surface, ui)?;
    let bin = out.join(format!("compat-tests-{}", std::process::id()));
    let compile = Cmd::new(cxx, root)
        .args(flags)
        .args(["-O1", "-g0"])
        .arg(&include)
        .arg(tests.join("compat_test.cc").display().to_string())
        .arg("-o")
        .arg(bin.display().to_string());
    crate::runner::run(&compile, ui)?;
    let result = crate::runner::run(&Cmd::new(bin.display().to_string(), root), ui);
    let _ = std::fs::remove_file(&bin);
    result
}
