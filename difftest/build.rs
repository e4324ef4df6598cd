//! Compiles the C++ SDK's pure sources (json, config, regex, rules, strings: no host calls) and the extern "C"
//! shim in `native/` natively with `cc`, and generates the Rust bindings for `native/shim.h` with bindgen.

use std::env;
use std::path::PathBuf;

const SDK_SOURCES: [&str; 5] = ["strings", "json", "config", "regex", "rules"];

fn main() {
    let manifest =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let sdk = manifest.join("../wasm-cpp");
    let mut build = cc::Build::new();
    build
        .cpp(true)
        .std("c++17")
        .flag_if_supported("-fno-exceptions")
        .flag_if_supported("-fno-rtti")
        .warnings(true)
        .include(sdk.join("include"))
        .file(manifest.join("native/shim.cc"));
    for s in SDK_SOURCES {
        let path = sdk.join(format!("src/{s}.cc"));
        println!("cargo:rerun-if-changed={}", path.display());
        build.file(path);
    }
    build.compile("pwdiff_native");
    println!("cargo:rerun-if-changed=native/shim.cc");
    println!("cargo:rerun-if-changed=native/shim.h");
    println!("cargo:rerun-if-changed={}", sdk.join("include").display());

    let bindings = bindgen::Builder::default()
        .header(manifest.join("native/shim.h").display().to_string())
        .allowlist_function("pwd_.*")
        .allowlist_type("pwd_.*")
        .allowlist_var("PWD_.*")
        .generate()
        .expect(
            "bindgen could not generate bindings for native/shim.h (is libclang-dev installed?)",
        );
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    bindings
        .write_to_file(out.join("shim.rs"))
        .expect("writing the shim bindings to OUT_DIR");
}
