//! `cargo xtask build`: plan, run through the runner, report path, size and sha256.

use std::path::PathBuf;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::flags::{self, Lang};
use crate::plan::{plan, BuildEnv};
use crate::project::{self, Plugin};
use crate::runner::Runner;
use crate::ui::Ui;

/// What one build produced.
#[derive(Debug, Clone)]
pub struct Built {
    pub plugin: String,
    pub lang: Lang,
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
}

impl flags::Build {
    pub fn run(self, ui: &Ui) -> Result<()> {
        let root = project::root();
        let all = project::plugins(&root)?;
        let langs = self.lang.map(|l| l.langs());
        let targets = project::select(&all, &self.plugins, self.all, langs.as_deref())?;
        // Runner choice: --local forces the host, --container requires an engine, else a container when one
        // answers (see container::select). The choice is always printed.
        let needed: Vec<Lang> = Lang::ALL
            .into_iter()
            .filter(|l| targets.iter().any(|(_, t)| t == l))
            .collect();
        let (runner, why) = crate::container::select(
            self.local,
            self.container,
            self.engine.as_deref(),
            &needed,
            !self.dry_run,
            ui,
        )?;
        ui.status(&format!("runner: {} ({why})", runner.describe()));
        crate::repro::export_source_date_epoch(&root);
        if targets.iter().any(|(_, l)| *l == Lang::Rust) {
            // A plug-in crate added by hand is a new workspace member: cargo (or `ensure` in build_many) adds
            // it to Cargo.lock, and the lock file has to be committed with it.
            let new = crate::lockfile::uncommitted(&root);
            if !new.is_empty() {
                ui.status(&format!(
                    "Cargo.lock lists the workspace package(s) {}, which the last commit's Cargo.lock lacks: \
                     commit Cargo.lock with the plug-in",
                    new.join(", ")
                ));
            }
        }
        if self.dry_run {
            let env = env_for(&runner, &root, &targets, ui, false)?;
            let mut plans = Vec::new();
            for (p, l) in &targets {
                let runner = runner.for_lang(*l);
                let env = runner.env(&root, env.cpp.clone());
                let steps: Vec<String> = plan(p, *l, &env).iter().map(|s| s.to_string()).collect();
                if self.json {
                    plans.push(serde_json::json!({
                        "plugin": p.name, "lang": l.as_str(), "runner": runner.describe(), "steps": steps,
                    }));
                    continue;
                }
                println!("# {} ({l}) with {}", p.name, runner.describe());
                for step in steps {
                    println!("{step}");
                }
            }
            if self.json {
                println!("{}", serde_json::to_string_pretty(&plans)?);
            }
            return Ok(());
        }
        let built = build_many(&runner, &targets, ui)?;
        if self.json {
            // One JSON document on stdout; progress stays on stderr.
            let v: Vec<_> = built
                .iter()
                .map(|b| {
                    serde_json::json!({
                        "plugin": b.plugin, "lang": b.lang.as_str(), "path": b.path,
                        "size": b.size, "sha256": b.sha256,
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&v)?);
            return Ok(());
        }
        for b in built {
            ui.result(&format!(
                "{}  {} bytes  sha256:{}",
                b.path.display(),
                b.size,
                b.sha256
            ));
        }
        Ok(())
    }
}

/// Resolve the toolchains the targets need, installing what can be installed.
fn env_for(
    runner: &Runner,
    root: &std::path::Path,
    targets: &[(Plugin, Lang)],
    ui: &Ui,
    ensure: bool,
) -> Result<BuildEnv> {
    // A container runner brings its own toolchains.
    let needs_cpp = matches!(runner, Runner::Local) && targets.iter().any(|(_, l)| *l == Lang::Cpp);
    let cpp = if needs_cpp {
        if ensure {
            Some(crate::toolchain::ensure_cpp(ui)?)
        } else {
            crate::toolchain::ensure_cpp(ui).ok()
        }
    } else {
        None
    };
    Ok(runner.env(root, cpp))
}

/// Build each (plug-in, language); used by `build`, `conformance` and `test`.
pub fn build_many(runner: &Runner, targets: &[(Plugin, Lang)], ui: &Ui) -> Result<Vec<Built>> {
    let root = project::root();
    if targets.iter().any(|(_, l)| *l == Lang::Rust) {
        // Every build below is `--locked`: a plug-in crate Cargo.lock does not know yet is added first.
        crate::lockfile::ensure(&root, ui)?;
    }
    if matches!(runner, Runner::Local) && targets.iter().any(|(_, l)| *l == Lang::Rust) {
        crate::toolchain::ensure_rust_target(ui)?;
    }
    let env = env_for(runner, &root, targets, ui, true)?;
    let mut out = Vec::new();
    for (p, l) in targets {
        let runner = &runner.for_lang(*l);
        let env = runner.env(&root, env.cpp.clone());
        ui.status(&format!(
            "building {} ({l}) with {}",
            p.name,
            runner.describe()
        ));
        for step in plan(p, *l, &env) {
            runner
                .execute(&step, ui)
                .with_context(|| format!("building plug-in `{}` ({l}) failed", p.name))?;
        }
        let path = project::artifact(&root, &p.name, *l);
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        out.push(Built {
            plugin: p.name.clone(),
            lang: *l,
            size: bytes.len() as u64,
            sha256: hex(&Sha256::digest(&bytes)),
            path,
        });
    }
    Ok(out)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
