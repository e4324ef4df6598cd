//! Cargo.lock and the workspace's plug-in crates.
//!
//! A plug-in crate new to the workspace (made by `cargo xtask new`, or a folder added by hand) needs its entry in
//! Cargo.lock before any `--locked` build. `cargo update --workspace` adds it from a resolve that needs only the
//! crates.io index (every other package keeps its locked version); `cargo metadata` would instead download the
//! sources of every package for every platform, which a fresh `CARGO_HOME` does not have. The resolve runs offline
//! first (instant with a warm index cache), then online, saying so.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use crate::flags::Lang;
use crate::project;
use crate::ui::Ui;

/// One `[[package]]` of a Cargo.lock: its name and whether it comes from a registry or git (`source = ...`);
/// workspace members and path dependencies have no source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locked {
    pub name: String,
    pub local: bool,
}

/// The packages of a Cargo.lock, in file order.
pub fn parse(text: &str) -> Vec<Locked> {
    let mut out: Vec<Locked> = Vec::new();
    let mut in_package = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[[package]]";
            continue;
        }
        if !in_package {
            continue;
        }
        if let Some(name) = string_value(line, "name") {
            out.push(Locked {
                name: name.to_string(),
                local: true,
            });
        } else if line.starts_with("source =") {
            if let Some(last) = out.last_mut() {
                last.local = false;
            }
        }
    }
    out
}

/// `key = "value"` → `value`.
fn string_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line
        .strip_prefix(key)?
        .trim_start()
        .strip_prefix('=')?
        .trim();
    rest.strip_prefix('"')?.strip_suffix('"')
}

/// The `[package] name` of a Cargo.toml (enough TOML for the one line it needs).
pub fn package_name(manifest: &Path) -> Result<String> {
    let text = std::fs::read_to_string(manifest)
        .with_context(|| format!("reading {}", manifest.display()))?;
    let mut in_package = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package {
            if let Some(name) = string_value(line, "name") {
                return Ok(name.to_string());
            }
        }
    }
    bail!(
        "{} has no `name = \"...\"` under [package]; give the crate a name",
        manifest.display()
    )
}

/// The Rust package of every plug-in that has one: (package name, its Cargo.toml).
pub fn plugin_packages(root: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for p in project::plugins(root)? {
        if p.has(Lang::Rust) {
            let manifest = p.dir(root).join("rust").join("Cargo.toml");
            out.push((package_name(&manifest)?, manifest));
        }
    }
    Ok(out)
}

/// Plug-in packages that Cargo.lock does not list yet.
pub fn missing(root: &Path) -> Result<Vec<(String, PathBuf)>> {
    let lock = root.join("Cargo.lock");
    let text =
        std::fs::read_to_string(&lock).with_context(|| format!("reading {}", lock.display()))?;
    let locked = parse(&text);
    Ok(plugin_packages(root)?
        .into_iter()
        .filter(|(name, _)| !locked.iter().any(|l| l.local && l.name == *name))
        .collect())
}

/// Before a `--locked` build: add any plug-in package Cargo.lock lacks, with one status line saying so.
pub fn ensure(root: &Path, ui: &Ui) -> Result<()> {
    let missing = missing(root)?;
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = missing
        .iter()
        .map(|(n, m)| format!("`{n}` ({})", rel(root, m.parent().unwrap_or(m))))
        .collect();
    ui.status(&format!(
        "Cargo.lock has no entry for the plug-in package {}: adding it (cargo update --workspace)",
        names.join(", ")
    ));
    update(root, ui)
}

/// Workspace packages in Cargo.lock that the last commit's Cargo.lock lacks (empty outside git or before the
/// first commit): `build` names them so the lock file is committed with the plug-in.
pub fn uncommitted(root: &Path) -> Vec<String> {
    let Ok(out) = Command::new("git")
        .args(["show", "HEAD:Cargo.lock"])
        .current_dir(root)
        .stderr(Stdio::null())
        .output()
    else {
        return Vec::new();
    };
    if !out.status.success() {
        return Vec::new();
    }
    let committed = parse(&String::from_utf8_lossy(&out.stdout));
    let now = std::fs::read_to_string(root.join("Cargo.lock")).unwrap_or_default();
    parse(&now)
        .into_iter()
        .filter(|l| l.local && !committed.iter().any(|c| c.local && c.name == l.name))
        .map(|l| l.name)
        .collect()
}

/// `cargo update --workspace`: offline first, then online (saying so). Only workspace packages are added or
/// changed; every other package keeps its locked version. cargo's own output is shown only on failure (or -v).
pub fn update(root: &Path, ui: &Ui) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let attempt = |offline: bool| -> Result<std::process::Output> {
        let mut args = vec!["update", "--workspace"];
        if offline {
            args.push("--offline");
        }
        ui.command(&format!("{cargo} {}", args.join(" ")));
        Command::new(&cargo)
            .args(&args)
            .current_dir(root)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("starting `{cargo} update`"))
    };
    let offline = attempt(true)?;
    if offline.status.success() {
        return Ok(());
    }
    ui.status(
        "Cargo.lock: the local crates.io index cache cannot resolve it (a fresh CARGO_HOME); \
         resolving online (cargo update --workspace)",
    );
    let online = attempt(false)?;
    if !online.status.success() {
        bail!(
            "`cargo update --workspace` failed, so Cargo.lock lacks the new package and `--locked` builds fail; \
             fix the error below (is crates.io reachable?), then run `cargo update --workspace`:\n{}",
            String::from_utf8_lossy(&online.stderr).trim()
        );
    }
    Ok(())
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"# This file is automatically @generated by Cargo.
version = 4

[[package]]
name = "add-header"
version = "0.1.0"
dependencies = [
 "proxy-wasm",
]

[[package]]
name = "proxy-wasm"
version = "0.2.5"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "00"
"#;

    #[test]
    fn lock_packages_know_whether_they_are_local() {
        assert_eq!(
            parse(LOCK),
            [
                Locked {
                    name: "add-header".into(),
                    local: true
                },
                Locked {
                    name: "proxy-wasm".into(),
                    local: false
                }
            ]
        );
    }

    #[test]
    fn the_package_name_is_read_from_the_package_table() {
        let dir = std::env::temp_dir().join(format!("xtask-lockfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let m = dir.join("Cargo.toml");
        std::fs::write(
            &m,
            "[lib]\nname = \"not_this\"\n\n[package]\nversion = \"0.1.0\"\nname = \"my-plugin\"\n",
        )
        .unwrap();
        assert_eq!(package_name(&m).unwrap(), "my-plugin");
        std::fs::write(&m, "[package]\nversion = \"0.1.0\"\n").unwrap();
        let err = package_name(&m).unwrap_err().to_string();
        assert!(err.contains("has no `name"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn every_plugin_of_this_checkout_is_locked() {
        let root = project::root();
        assert!(missing(&root).unwrap().is_empty());
    }
}
