//! `cargo xtask verify-repro`: the same sources must give the same bytes, whatever the build folder, the
//! checkout's path or the runner.
//!
//! For each plug-in and language: two clean builds (fresh target folders) with the primary runner (the container
//! when an engine answers, else local), one in a second checkout at another path, and one with the other runner
//! when both are available. Builds read snapshots of the working tree and write to a scratch folder; the
//! checkout and `out/` are left alone.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::container::Container;
use crate::engine::Engine;
use crate::flags::{self, Lang};
use crate::plan::{plan, CppToolchain};
use crate::project::{self, Plugin};
use crate::runner::Runner;
use crate::ui::Ui;
use crate::Failure;

/// Export SOURCE_DATE_EPOCH (the last commit's time) to builds, unless the caller set it. Without commits
/// nothing is exported: the builds embed no time anyway, and this only pins tools that would.
pub fn export_source_date_epoch(root: &Path) -> Option<String> {
    if let Ok(v) = std::env::var("SOURCE_DATE_EPOCH") {
        return Some(v);
    }
    let out = std::process::Command::new("git")
        .args(["log", "-1", "--format=%ct"])
        .current_dir(root)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Set before any thread or child starts; children inherit it, the container runner forwards it.
    std::env::set_var("SOURCE_DATE_EPOCH", &v);
    Some(v)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Local,
    Container,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Local => "local",
            Kind::Container => "container",
        }
    }
}

/// One build to compare.
struct Trial {
    name: String,
    kind: Kind,
    root: PathBuf,
}

impl flags::VerifyRepro {
    pub fn run(self, ui: &Ui) -> Result<()> {
        let root = project::root();
        let all = project::plugins(&root)?;
        let langs = self.lang.map(|l| l.langs());
        let targets = project::select(
            &all,
            &self.plugins,
            self.plugins.is_empty(),
            langs.as_deref(),
        )?;
        match export_source_date_epoch(&root) {
            Some(v) => ui.status(&format!("SOURCE_DATE_EPOCH={v}")),
            None => ui.status("SOURCE_DATE_EPOCH not set (no commit yet)"),
        }
        let needed: Vec<Lang> = Lang::ALL
            .into_iter()
            .filter(|l| targets.iter().any(|(_, t)| t == l))
            .collect();

        // The container side: an engine and its builder images, unless --local.
        let container = if self.local {
            None
        } else {
            match Engine::detect(self.engine.as_deref()) {
                Ok(e) => {
                    let images = crate::builder::images_for(&e, &needed, true, ui)?;
                    Some((e, images))
                }
                Err(e) if self.engine.is_none() => {
                    ui.status(&format!("container runs skipped: {e:#}"));
                    None
                }
                Err(e) => return Err(e),
            }
        };
        // The local side: every needed toolchain, or none.
        let local_cpp: Option<CppToolchain> = if needed.contains(&Lang::Cpp) {
            crate::toolchain::ensure_cpp(ui).ok()
        } else {
            None
        };
        let local_ok = |l: Lang| match l {
            Lang::Rust => crate::toolchain::ensure_rust_target(ui).is_ok(),
            Lang::Cpp => local_cpp.is_some(),
        };

        let scratch =
            crate::container::target_base(&root).join(format!("repro-{}", std::process::id()));
        let _cleanup = RemoveOnDrop(scratch.clone());
        // Two snapshots of the working tree, written from one read of each file, so edits made while this runs
        // cannot make the builds disagree. Most trials build snapshot A; one builds B, at another path.
        let (snap_a, snap_b) = (scratch.join("checkout-a"), scratch.join("second-checkout"));
        copy_checkout(&root, &[&snap_a, &snap_b])?;
        ui.status(&format!(
            "snapshots of the working tree at {} and {}",
            snap_a.display(),
            snap_b.display()
        ));

        let mut rows: Vec<(String, Lang, String, String)> = Vec::new();
        let mut mismatches = Vec::new();
        for (p, l) in &targets {
            let (primary, other) = match (container.is_some(), local_ok(*l)) {
                (true, true) => (Kind::Container, Some(Kind::Local)),
                (true, false) => (Kind::Container, None),
                (false, true) => (Kind::Local, None),
                (false, false) => bail!(
                    "no way to build {} ({l}): no container engine and no local toolchain",
                    p.name
                ),
            };
            // The second checkout tests path independence, which only the local runner can break (containers
            // always see /src); it uses local toolchains when there are any.
            let checkout_kind = if local_ok(*l) {
                Kind::Local
            } else {
                Kind::Container
            };
            let mut trials = vec![
                Trial {
                    name: format!("{} clean #1", primary.as_str()),
                    kind: primary,
                    root: snap_a.clone(),
                },
                Trial {
                    name: format!("{} clean #2", primary.as_str()),
                    kind: primary,
                    root: snap_a.clone(),
                },
                Trial {
                    name: format!("{} second checkout", checkout_kind.as_str()),
                    kind: checkout_kind,
                    root: snap_b.clone(),
                },
            ];
            if let Some(o) = other {
                trials.push(Trial {
                    name: o.as_str().to_string(),
                    kind: o,
                    root: snap_a.clone(),
                });
            }
            let mut first: Option<(String, String)> = None;
            for (i, t) in trials.iter().enumerate() {
                let dir = scratch.join(format!("{}-{l}-{i}", p.name));
                ui.status(&format!("{} ({l}): {}", p.name, t.name));
                let sha = build_once(t, p, *l, &dir, container.as_ref(), local_cpp.clone(), ui)
                    .with_context(|| format!("{} ({l}): build `{}` failed", p.name, t.name))?;
                match &first {
                    None => first = Some((t.name.clone(), sha.clone())),
                    Some((n, s)) if *s != sha => {
                        mismatches.push(format!("{} ({l}): `{n}` and `{}` differ", p.name, t.name))
                    }
                    Some(_) => {}
                }
                rows.push((p.name.clone(), *l, t.name.clone(), sha));
            }
        }
        let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(6).max(6);
        let wb = rows.iter().map(|r| r.2.len()).max().unwrap_or(5).max(5);
        ui.result(&format!(
            "{:<w$}  {:<4}  {:<wb$}  sha256",
            "plugin", "lang", "build"
        ));
        for (p, l, b, s) in &rows {
            ui.result(&format!("{p:<w$}  {:<4}  {b:<wb$}  {s}", l.as_str()));
        }
        if !mismatches.is_empty() {
            return Err(
                Failure(format!("not reproducible:\n  {}", mismatches.join("\n  "))).into(),
            );
        }
        ui.result(&format!(
            "reproducible: {} build(s) of {} target(s) agree",
            rows.len(),
            targets.len()
        ));
        Ok(())
    }
}

/// One clean build into `dir/target` and `dir/out`; returns the artifact's sha256.
fn build_once(
    t: &Trial,
    p: &Plugin,
    l: Lang,
    dir: &Path,
    container: Option<&(Engine, Vec<(Lang, String)>)>,
    local_cpp: Option<CppToolchain>,
    ui: &Ui,
) -> Result<String> {
    let (target, out) = (dir.join("target"), dir.join("out"));
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let (runner, env) = match t.kind {
        Kind::Local => {
            let mut env = Runner::Local.env(&t.root, local_cpp);
            env.target_dir = target;
            env.out_dir = out.clone();
            (Runner::Local, env)
        }
        Kind::Container => {
            let (engine, images) = container.context("no container engine")?;
            let c =
                Container::new(engine.clone(), images.clone(), &t.root, &target, &out)?.for_lang(l);
            let env = c.env();
            (Runner::Container(Box::new(c)), env)
        }
    };
    for step in plan(p, l, &env) {
        runner.execute(&step, ui)?;
    }
    let wasm = out.join(&p.name).join(l.as_str()).join("plugin.wasm");
    let bytes = std::fs::read(&wasm).with_context(|| format!("reading {}", wasm.display()))?;
    Ok(crate::build::hex(&Sha256::digest(&bytes)))
}

/// Copy the files git knows of (tracked and untracked-but-not-ignored) to `to`: a second checkout of the working
/// tree as it is, committed or not, to each of `to` (every copy from the same read of a file).
fn copy_checkout(root: &Path, to: &[&Path]) -> Result<()> {
    let out = std::process::Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(root)
        .output()
        .context("starting `git` (verify-repro needs git to list the checkout's files)")?;
    if !out.status.success() {
        bail!(
            "`git ls-files` failed in {}: {}",
            root.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let mut files: Vec<&[u8]> = out
        .stdout
        .split(|b| *b == 0)
        .filter(|r| !r.is_empty())
        .collect();
    files.sort();
    for rel in files {
        let rel = Path::new(std::str::from_utf8(rel).context("a file name is not UTF-8")?);
        let src = root.join(rel);
        if !src.is_file() {
            continue; // deleted in the working tree
        }
        let bytes = std::fs::read(&src).with_context(|| format!("reading {}", src.display()))?;
        for to in to {
            let dst = to.join(rel);
            if let Some(d) = dst.parent() {
                std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            }
            std::fs::write(&dst, &bytes).with_context(|| format!("writing {}", dst.display()))?;
        }
    }
    Ok(())
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
