//! `cargo xtask fuzz-diff`: build both languages of every two-language plug-in and run the differential
//! generator (`pwdiff`) over them; a divergence prints a minimal case in the vector format.

use anyhow::{bail, Result};

use crate::build::build_many;
use crate::flags::{self, Lang};
use crate::plan::Cmd;
use crate::project;
use crate::ui::Ui;

impl flags::FuzzDiff {
    pub fn run(self, ui: &Ui) -> Result<()> {
        let root = project::root();
        let all = project::plugins(&root)?;
        let chosen: Vec<project::Plugin> = if self.plugins.is_empty() {
            all.iter()
                .filter(|p| p.has(Lang::Rust) && p.has(Lang::Cpp))
                .cloned()
                .collect()
        } else {
            self.plugins
                .iter()
                .map(|n| project::find(&all, n).cloned())
                .collect::<Result<_>>()?
        };
        for p in &chosen {
            if !(p.has(Lang::Rust) && p.has(Lang::Cpp)) {
                bail!("plug-in `{}` has only one language; fuzz-diff compares its rust and cpp builds", p.name);
            }
        }
        let targets: Vec<_> = chosen
            .iter()
            .flat_map(|p| Lang::ALL.map(|l| (p.clone(), l)))
            .collect();
        let (runner, why) =
            crate::container::select(self.local, false, None, &Lang::ALL, true, ui)?;
        ui.status(&format!("runner: {} ({why})", runner.describe()));
        build_many(&runner, &targets, ui)?;
        let bin = pwdiff_binary(ui)?;
        let mut failed = Vec::new();
        for p in &chosen {
            ui.status(&format!(
                "fuzz-diff {}: {} cases, seed {}",
                p.name, self.cases, self.seed
            ));
            let cmd = Cmd::new(bin.display().to_string(), &root)
                .args(["--plugin", &p.name, "--rust"])
                .arg(
                    project::artifact(&root, &p.name, Lang::Rust)
                        .display()
                        .to_string(),
                )
                .arg("--cpp")
                .arg(
                    project::artifact(&root, &p.name, Lang::Cpp)
                        .display()
                        .to_string(),
                )
                .args([
                    "--cases",
                    &self.cases.to_string(),
                    "--seed",
                    &self.seed.to_string(),
                ]);
            if crate::runner::run(&cmd, ui).is_err() {
                failed.push(p.name.clone());
            }
        }
        if failed.is_empty() {
            ui.result(&format!(
                "fuzz-diff: no divergence in {} plug-in(s)",
                chosen.len()
            ));
            Ok(())
        } else {
            bail!(crate::Failure(format!(
                "rust and cpp builds diverge for: {}",
                failed.join(", ")
            )))
        }
    }
}

fn pwdiff_binary(ui: &Ui) -> Result<std::path::PathBuf> {
    crate::conformance::workspace_binary("pwdiff", ui)
}
