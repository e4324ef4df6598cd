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
        ui.status("tidy: Dockerfile bases pinned by digest, generated files fresh");
        for problem in tidy_repo(&root)? {
            ui.warn(&problem);
            failed.push("tidy".into());
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
                "wasm-cpp/compat/include",
                "wasm-cpp/compat/src",
                "wasm-cpp/compat/tests",
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
    out.extend(tidy_languages(root, p)?);
    if p.vectors(root)?.is_empty() {
        out.push(format!(
            "plug-in `{}` has no conformance vectors (add extensions/{}/vectors/<name>.yaml)",
            p.name, p.name
        ));
    }
    Ok(out)
}

/// `extensions/<name>/extension.yaml`: the languages of a plug-in that is not written in both, and why.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtensionDecl {
    languages: Vec<String>,
    #[allow(dead_code)]
    #[serde(default)]
    reason: Option<String>,
}

/// The `languages` an `extension.yaml` declares.
pub fn declared_languages_from(text: &str) -> Result<Vec<Lang>> {
    let d: ExtensionDecl = serde_yaml_ng::from_str(text).map_err(|e| {
        anyhow::anyhow!("{e} (expected `languages: [rust]` and an optional `reason: ...`)")
    })?;
    let mut l = d
        .languages
        .iter()
        .map(|name| {
            Lang::ALL
                .into_iter()
                .find(|l| l.as_str() == name)
                .ok_or_else(|| anyhow::anyhow!("unknown language `{name}` (rust or cpp)"))
        })
        .collect::<Result<Vec<_>>>()?;
    l.sort();
    l.dedup();
    Ok(l)
}

/// Both languages, or exactly the ones `extension.yaml` declares.
fn tidy_languages(root: &std::path::Path, p: &project::Plugin) -> Result<Vec<String>> {
    let decl = p.dir(root).join("extension.yaml");
    let have = |ls: &[Lang]| ls.iter().map(|l| l.as_str()).collect::<Vec<_>>().join(", ");
    if decl.is_file() {
        let text = std::fs::read_to_string(&decl)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", decl.display()))?;
        let want = match declared_languages_from(&text) {
            Ok(w) => w,
            Err(e) => {
                return Ok(vec![format!(
                    "extensions/{}/extension.yaml is invalid: {e:#}",
                    p.name
                )])
            }
        };
        if want != p.langs {
            return Ok(vec![format!(
                "plug-in `{}` declares languages [{}] in extension.yaml but has [{}] (fix the declaration or the \
                 rust/ and cpp/ folders)",
                p.name,
                have(&want),
                have(&p.langs)
            )]);
        }
        return Ok(Vec::new());
    }
    let missing: Vec<Lang> = Lang::ALL.into_iter().filter(|l| !p.has(*l)).collect();
    Ok(missing
        .iter()
        .map(|l| {
            format!(
                "plug-in `{}` has no {l} version (add extensions/{}/{l}/, or declare `languages: [{}]` with a \
                 `reason` in extensions/{}/extension.yaml)",
                p.name,
                p.name,
                have(&p.langs),
                p.name
            )
        })
        .collect())
}

/// Named build contexts that `FROM` may use without a digest: `docker-bake.hcl` supplies them.
const NAMED_CONTEXTS: &[&str] = &["builder"];

/// Repository-wide tidy checks: every Dockerfile base is pinned by digest, generated files are fresh.
pub fn tidy_repo(root: &std::path::Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let docker = root.join("docker");
    let mut files: Vec<_> = std::fs::read_dir(&docker)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", docker.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "Dockerfile"))
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", f.display()))?;
        let rel = f.strip_prefix(root).unwrap_or(&f).display().to_string();
        out.extend(unpinned_bases(&text).into_iter().map(|b| {
            format!("{rel}: base `{b}` is not pinned by digest (use `image:tag@sha256:<digest>`)")
        }));
    }
    out.extend(crate::codegen::stale(root)?);
    Ok(out)
}

/// The `FROM` images of a Dockerfile that are neither `scratch`, an earlier stage, a named context, nor pinned
/// with `@sha256:<64 hex>` (after substituting `ARG` defaults).
fn unpinned_bases(text: &str) -> Vec<String> {
    let mut args: Vec<(String, String)> = Vec::new();
    let mut stages: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        match words.next().map(|w| w.to_ascii_uppercase()).as_deref() {
            Some("ARG") => {
                if let Some((k, v)) = words.next().and_then(|kv| kv.split_once('=')) {
                    args.push((k.to_string(), v.trim_matches('"').to_string()));
                }
            }
            Some("FROM") => {
                let rest: Vec<&str> = words.filter(|w| !w.starts_with("--")).collect();
                let Some(image) = rest.first() else { continue };
                let mut image = image.to_string();
                for (k, v) in &args {
                    image = image
                        .replace(&format!("${{{k}}}"), v)
                        .replace(&format!("${k}"), v);
                }
                let pinned = image.split_once("@sha256:").is_some_and(|(_, h)| {
                    h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit())
                });
                let exempt = image == "scratch"
                    || stages.contains(&image)
                    || NAMED_CONTEXTS.contains(&image.as_str());
                if !pinned && !exempt {
                    out.push(image);
                }
                if let [_, kw, name] = rest.as_slice() {
                    if kw.eq_ignore_ascii_case("as") {
                        stages.push(name.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tidy_tests {
    use super::*;

    /// `cargo test -p xtask` runs the tidy checks: plug-in folders, languages, Dockerfile pins, generated files.
    #[test]
    fn tidy() {
        let root = project::root();
        let mut problems = tidy_repo(&root).unwrap();
        for p in project::plugins(&root).unwrap() {
            problems.extend(super::tidy(&root, &p).unwrap());
        }
        assert!(problems.is_empty(), "tidy:\n{}", problems.join("\n"));
    }

    #[test]
    fn unpinned_bases_are_found() {
        let df = "ARG BASE=debian:bookworm\nFROM ${BASE}\nFROM alpine AS a\nFROM a\nFROM scratch\nFROM builder\n\
                  FROM --platform=$BUILDPLATFORM x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef AS y\n";
        assert_eq!(unpinned_bases(df), ["debian:bookworm", "alpine"]);
    }

    #[test]
    fn language_declarations() {
        let root = project::root();
        let rust_only = project::Plugin {
            name: "ai-data-masking".into(),
            langs: vec![Lang::Rust],
        };
        assert!(
            tidy_languages(&root, &rust_only).unwrap().is_empty(),
            "declared in extension.yaml"
        );
        let undeclared = project::Plugin {
            name: "say-hello".into(),
            langs: vec![Lang::Rust],
        };
        let p = tidy_languages(&root, &undeclared).unwrap();
        assert_eq!(p.len(), 1);
        assert!(
            p[0].contains("has no cpp version")
                && p[0].contains("extensions/say-hello/extension.yaml"),
            "{p:?}"
        );
        assert!(declared_languages_from("languages: [go]").is_err());
        assert!(declared_languages_from("langs: [rust]").is_err());
        assert_eq!(
            declared_languages_from("languages: [cpp, rust]").unwrap(),
            Lang::ALL
        );
    }
}
