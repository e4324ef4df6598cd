//! Host toolchains: find them, install what can be installed, or say exactly how.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::plan::{CppToolchain, RUST_TARGET};
use crate::runner::output;
use crate::ui::Ui;

/// Debian/Ubuntu packages that give clang a wasm32-wasi sysroot with libc++ (wasi-sdk style).
pub const CPP_PACKAGES: &[&str] = &[
    "clang",
    "lld",
    "wasi-libc",
    "libc++-dev-wasm32",
    "libclang-rt-dev-wasm32",
    "binaryen",
];

/// Make sure rustc can target wasm32-wasip1, adding it through rustup when missing.
pub fn ensure_rust_target(ui: &Ui) -> Result<()> {
    let sysroot = output("rustc", &["--print", "sysroot"])?;
    if Path::new(&sysroot)
        .join("lib/rustlib")
        .join(RUST_TARGET)
        .is_dir()
    {
        return Ok(());
    }
    if which("rustup").is_none() {
        bail!(
            "the Rust target {RUST_TARGET} is not installed and rustup is not available; \
             install Rust with rustup, then run `rustup target add {RUST_TARGET}`"
        );
    }
    ui.status(&format!(
        "installing the Rust target {RUST_TARGET} with rustup"
    ));
    crate::runner::run(
        &crate::plan::Cmd::new("rustup", &crate::project::root()).args([
            "target",
            "add",
            RUST_TARGET,
        ]),
        ui,
    )
    .map_err(|e| {
        e.context(format!(
            "could not install {RUST_TARGET}; run `rustup target add {RUST_TARGET}`"
        ))
    })
}

/// Find clang++ with a wasm32-wasi sysroot; on Debian/Ubuntu as root, install the packages when missing.
pub fn ensure_cpp(ui: &Ui) -> Result<CppToolchain> {
    if let Some(tc) = find_cpp() {
        return Ok(tc);
    }
    if crate::setup::is_root() && crate::setup::has_apt() {
        crate::setup::apt_install(ui, "the C++ wasm toolchain", CPP_PACKAGES)?;
        if let Some(tc) = find_cpp() {
            return Ok(tc);
        }
    }
    bail!(
        "no clang++ with a wasm32-wasi sysroot found; install it with \
         `sudo apt-get install {}` (Debian 12 / Ubuntu), or set CXX_WASM32 to a wasi-sdk clang++ and \
         WASI_SYSROOT to its sysroot",
        CPP_PACKAGES.join(" ")
    )
}

/// clang++ with a wasm32-wasi sysroot and wasm-opt, when present.
pub fn find_cpp() -> Option<CppToolchain> {
    let cxx = std::env::var("CXX_WASM32").ok().or_else(|| {
        ["clang++", "clang++-14", "clang++-19"]
            .iter()
            .find(|c| which(c).is_some())
            .map(|c| c.to_string())
    })?;
    let sysroot: PathBuf = std::env::var_os("WASI_SYSROOT")
        .map(Into::into)
        .unwrap_or_else(|| "/usr".into());
    // Debian puts wasi-libc and libc++ for wasm32 under <sysroot>/lib/wasm32-wasi.
    let lib = sysroot.join("lib/wasm32-wasi");
    if !(lib.join("libc.a").is_file() && lib.join("libc++.a").is_file()) {
        return None;
    }
    // clang's wasm driver runs `wasm-opt` by itself whenever one is on PATH (with -O), so its presence
    // changes the bytes: require it (binaryen 108 here and in the builder image) rather than leave it to chance.
    which("wasm-opt")?;
    Some(CppToolchain {
        cxx,
        sysroot,
        wasm_opt: None,
    })
}

/// The first `name` on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}
