//! `cargo xtask lint`: rustfmt and clippy (warnings denied) for Rust, clang-format for C++, and tidy checks
//! (each plug-in has a README, a spec.yaml and vectors).

use anyhow::{bail, Result};

use crate::flags::{self, Lang};
use crate::plan::{Cmd, RUST_TARGET};
use crate::project;
use crate::ui::Ui;

impl flags::Lint {
    pub fn run(self, ui: &Ui) -> Result<()> {
        let root = project::root();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let plugins = project::plugins(&root)?;
        let mut failed = Vec::new();

        ui.status("tidy: every plug-in has README.md, spec.yaml and vectors");
        for p in &plugins {
            for problem in tidy(&root, p)? {
                ui.warn(&problem);
                failed.push(format!("tidy {}", p.name));
            }
        }

        ui.status("rustfmt");
        let fmt = Cmd::new(&cargo, &root).args(["fmt", "--all", "--", "--check"]);
        if crate::runner::run(&fmt, ui).is_err() {
            failed.push("rustfmt (run `cargo fmt --all`)".into());
        }

        ui.status("clippy (native crates)");
        let native = Cmd::new(&cargo, &root).args([
            "clippy",
            "--locked",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]);
        if crate::runner::run(&native, ui).is_err() {
            failed.push("clippy (native crates)".into());
        }

        let rust_plugins: Vec<_> = plugins.iter().filter(|p| p.has(Lang::Rust)).collect();
        if !rust_plugins.is_empty() {
            crate::toolchain::ensure_rust_target(ui)?;
            ui.status("clippy (plug-ins, wasm32-wasip1)");
            let mut c =
                Cmd::new(&cargo, &root).args(["clippy", "--locked", "--target", RUST_TARGET]);
            for p in rust_plugins {
                c = c.arg("--package").arg(&p.name);
            }
            if crate::runner::run(&c.args(["--", "-D", "warnings"]), ui).is_err() {
                failed.push("clippy (plug-ins)".into());
            }
        }

        if let Some(cf) = ["clang-format", "clang-format-14", "clang-format-19"]
            .iter()
            .find(|c| crate::toolchain::which(c).is_some())
        {
            ui.status("clang-format");
            let mut files = Vec::new();
            for dir in [
                "wasm-cpp/include/pwsdk",
                "wasm-cpp/include/pwsdk/detail",
                "wasm-cpp/src",
                "wasm-cpp/tests",
            ] {
                files.extend(cpp_files(&root.join(dir)));
            }
            for p in plugins.iter().filter(|p| p.has(Lang::Cpp)) {
                files.extend(cpp_files(&p.dir(&root).join("cpp")));
            }
            let c = Cmd::new(*cf, &root)
                .args(["--dry-run", "-Werror", "--style=file"])
                .args(files.iter().map(|f| f.display().to_string()));
            if !files.is_empty() && crate::runner::run(&c, ui).is_err() {
                failed.push("clang-format".into());
            }
        } else {
            ui.warn(
                "clang-format not found; C++ formatting not checked (apt-get install clang-format)",
            );
        }

        if failed.is_empty() {
            ui.result("lint: clean");
            Ok(())
        } else {
            bail!(crate::Failure(format!(
                "lint failed: {}",
                failed.join(", ")
            )))
        }
    }
}

fn cpp_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<_> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("cc" | "h" | "hpp" | "cpp")
            )
        })
        .collect();
    v.sort();
    v
}

/// Problems with a plug-in's folder, as messages naming the fix.
pub fn tidy(root: &std::path::Path, p: &project::Plugin) -> Result<Vec<String>> {
    let dir = p.dir(root);
    let mut out = Vec::new();
    for f in ["README.md", "spec.yaml"] {
        if !dir.join(f).is_file() {
            out.push(format!(
                "plug-in `{}` has no {f} (add extensions/{}/{f})",
                p.name, p.name
            ));
        }
    }
    if p.vectors(root)?.is_empty() {
        out.push(format!(
            "plug-in `{}` has no conformance vectors (add extensions/{}/vectors/<name>.yaml)",
            p.name, p.name
        ));
    }
    Ok(out)
}
