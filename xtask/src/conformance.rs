//! `cargo xtask conformance`: build every (plug-in, language) needed, then run the shared vectors and the
//! generic battery in our proxy-wasm host (`pwhost`, on wasmtime).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::build::build_many;
use crate::flags::{self, Lang};
use crate::plan::Cmd;
use crate::project;
use crate::ui::Ui;

/// Outcome of a conformance run, for `test` to summarise.
#[derive(Debug, Default)]
pub struct Outcome {
    pub runs: usize,
    pub failed_runs: Vec<String>,
}

impl flags::Conformance {
    pub fn run(self, ui: &Ui) -> Result<()> {
        let outcome = self.execute(ui)?;
        if !outcome.failed_runs.is_empty() {
            bail!(crate::Failure(format!(
                "conformance failed for: {}",
                outcome.failed_runs.join(", ")
            )));
        }
        Ok(())
    }

    pub fn execute(&self, ui: &Ui) -> Result<Outcome> {
        let root = project::root();
        let all = project::plugins(&root)?;
        if !self.vectors.is_empty() && self.plugins.len() != 1 {
            bail!(
                "--vectors runs extra vector files against one plug-in; name it with --plugin NAME"
            );
        }
        let langs = self.lang.langs();
        let every = self.plugins.is_empty();
        let targets = project::select(&all, &self.plugins, every, Some(&langs))?;
        if targets.is_empty() {
            bail!("nothing to run: no plug-in has a {:?} version", self.lang);
        }
        let needed: Vec<_> = crate::flags::Lang::ALL
            .into_iter()
            .filter(|l| targets.iter().any(|(_, t)| t == l))
            .collect();
        let (runner, why) = crate::container::select(self.local, false, None, &needed, true, ui)?;
        ui.status(&format!("runner: {} ({why})", runner.describe()));
        let built = build_many(&runner, &targets, ui)?;
        let host = host_binary(ui)?;
        let mut outcome = Outcome::default();
        for b in &built {
            let (plugin, _) = targets
                .iter()
                .find(|(p, l)| p.name == b.plugin && *l == b.lang)
                .unwrap();
            let own = plugin.vectors(&root)?;
            let mut vectors = own.clone();
            for v in &self.vectors {
                let v = std::fs::canonicalize(v)
                    .with_context(|| format!("vector file {} not found", v.display()))?;
                vectors.push(v);
            }
            let mut cmd = host_cmd(&host, "conformance", &b.plugin, b.lang, &b.path, &vectors);
            if self.rechunk {
                cmd = cmd.arg("--rechunk");
            }
            if self.real_clock {
                cmd = cmd.arg("--real-clock");
            }
            if let Some(j) = &self.junit {
                let file = junit_path(j, &b.plugin, b.lang.as_str(), built.len());
                cmd = cmd.arg("--junit").arg(file.display().to_string());
            }
            outcome.runs += 1;
            ui.status(&format!(
                "conformance {} ({}): {} vector file(s)",
                b.plugin,
                b.lang,
                vectors.len()
            ));
            if crate::runner::run(&cmd, ui).is_err() {
                outcome.failed_runs.push(format!("{}/{}", b.plugin, b.lang));
            }
            if !self.no_battery {
                // The battery's request checks need an accepted configuration: the first one the
                // plug-in's own vectors expect to be accepted.
                let cmd = host_cmd(&host, "battery", &b.plugin, b.lang, &b.path, &own);
                ui.status(&format!("battery {} ({})", b.plugin, b.lang));
                if crate::runner::run(&cmd, ui).is_err() {
                    outcome
                        .failed_runs
                        .push(format!("{}/{}/battery", b.plugin, b.lang));
                }
            }
        }
        Ok(outcome)
    }
}

/// `pwhost <sub> --plugin P --lang L --wasm W --vectors V...`: one (plug-in, language) build against vector
/// files, for `conformance` and `battery` here and for push's gate.
pub fn host_cmd(
    host: &Path,
    sub: &str,
    plugin: &str,
    lang: Lang,
    wasm: &Path,
    vectors: &[PathBuf],
) -> Cmd {
    let mut cmd = Cmd::new(host.display().to_string(), &project::root())
        .args([sub, "--plugin", plugin, "--lang", lang.as_str(), "--wasm"])
        .arg(wasm.display().to_string());
    for v in vectors {
        cmd = cmd.arg("--vectors").arg(v.display().to_string());
    }
    cmd
}

/// One JUnit file per run: `FILE` itself for a single run, else `FILE` with `-<plugin>-<lang>` before the
/// extension.
fn junit_path(base: &std::path::Path, plugin: &str, lang: &str, runs: usize) -> PathBuf {
    if runs == 1 {
        return base.to_path_buf();
    }
    let stem = base.file_stem().and_then(|s| s.to_str()).unwrap_or("junit");
    let ext = base.extension().and_then(|s| s.to_str()).unwrap_or("xml");
    base.with_file_name(format!("{stem}-{plugin}-{lang}.{ext}"))
}

/// Build the host binary and return its path. It is built the way `cargo test` builds it (the whole default
/// workspace, tests included), so the suite and this command share one build of wasmtime instead of two
/// feature-unification variants; the dev profile optimises cranelift and wasmtime (see Cargo.toml).
pub fn host_binary(ui: &Ui) -> Result<PathBuf> {
    workspace_binary("pwhost", ui)
}

/// Build every default-member test target (which builds each package's binaries too) and return the path of
/// binary `name` in the target folder.
pub fn workspace_binary(name: &str, ui: &Ui) -> Result<PathBuf> {
    let root = project::root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    ui.status(&format!(
        "building {name} (with the workspace's tests, so the build is shared)"
    ));
    crate::runner::run(
        &Cmd::new(cargo, &root).args(["test", "--locked", "--quiet", "--no-run"]),
        ui,
    )?;
    let bin = crate::container::target_base(&root)
        .join("debug")
        .join(name);
    if !bin.is_file() {
        bail!("{} was not built by `cargo test --no-run`", bin.display());
    }
    Ok(bin)
}
