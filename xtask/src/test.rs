//! `cargo xtask test`: the whole suite, the README's second command. It first sets up what its stages need
//! (`setup.rs`: packages, a container engine, the builder images), then runs:
//!
//! 1. native unit and integration tests of every native crate (`cargo test`);
//! 2. the plug-ins' own unit tests (`cargo test -p <plug-in>`, natively);
//! 3. the C++ SDK's native tests;
//! 4. conformance vectors (also re-chunked: `--rechunk`) and the generic battery for every plug-in in every
//!    language;
//! 5. the fixed-seed differential run of every two-language plug-in's rust and cpp builds;
//! 6. scaffolding: `new demo` in both languages passes its vectors, then is removed (Cargo.lock restored);
//! 7. the image stage: deterministic packaging, push to a loopback registry, pull-back verification;
//! 8. reproducibility: `verify-repro` across clean builds, checkouts and runners (container vs local).
//!
//! Every stage runs even when an earlier one failed, and the last line counts stages: `N passed, M failed`. Only
//! the user's opt-outs (`--no-container`, `--no-registry`, `--no-cpp`) skip anything, and the last line names them.
//! `--plugin NAME` runs the per-plug-in form instead (`plugintest.rs`).

use std::time::Instant;

use anyhow::{bail, Result};

use crate::flags::{self, Lang, LangSel};
use crate::plan::Cmd;
use crate::project;
use crate::ui::Ui;

/// pwdiff's differential test (difftest/tests/diff.rs), run by its own stage once the builds exist.
const DIFF_TEST: &str = "rust_and_cpp_builds_agree";
/// pwhost's tests of the standard C++ API example's build (host/tests/standard_cpp_api.rs), likewise.
const STANDARD_API_TEST: &str = "standard_api_";

/// Stage results, with the wall time of each, and what the user's opt-outs skipped (and why).
#[derive(Default)]
pub struct Stages {
    passed: Vec<String>,
    failed: Vec<String>,
    skipped: Vec<(String, String)>,
    started: Option<Instant>,
}

impl Stages {
    /// Announce a stage; stops the run (an error) once a signal arrived.
    pub fn begin(&mut self, ui: &Ui, title: &str) -> Result<()> {
        if crate::setup::interrupted() {
            bail!("interrupted");
        }
        ui.status(&format!("stage: {title}"));
        self.started = Some(Instant::now());
        Ok(())
    }

    fn took(&self) -> String {
        self.started
            .map(|t| format!(" {:.0}s", t.elapsed().as_secs_f64()))
            .unwrap_or_default()
    }

    pub fn record(&mut self, ui: &Ui, name: &str, r: Result<()>) {
        let took = self.took();
        match r {
            Ok(()) => self.passed.push(format!("{name}{took}")),
            Err(e) => {
                ui.warn(&format!("{name}: {e:#}"));
                self.failed.push(format!("{name}{took}"));
            }
        }
    }

    pub fn pass(&mut self, name: &str) {
        let took = self.took();
        self.passed.push(format!("{name}{took}"));
    }

    pub fn fail(&mut self, name: &str) {
        let took = self.took();
        self.failed.push(format!("{name}{took}"));
    }

    /// A stage the user opted out of: `what` was skipped because of `why` (the flag).
    pub fn skip(&mut self, what: &str, why: &str) {
        self.skipped.push((what.to_string(), why.to_string()));
    }

    /// Print the summary; the last line is `stages: N passed, M failed` (plus what was skipped, and why). Fails
    /// (exit 1) when a stage failed.
    pub fn finish(self, ui: &Ui) -> Result<()> {
        let mut summary = format!("stages passed: {}", self.passed.join(", "));
        if !self.failed.is_empty() {
            summary.push_str(&format!("; FAILED: {}", self.failed.join(", ")));
        }
        ui.result(&format!("{summary} ({:.0}s in all)", ui.elapsed_secs()));
        ui.result(&self.last_line());
        if self.failed.is_empty() {
            Ok(())
        } else {
            bail!(crate::Failure(format!(
                "test failures: {}",
                self.failed.join(", ")
            )))
        }
    }
}

impl Stages {
    /// The closing line counts stages, in the plain `N passed, M failed` form CI readers look for, followed
    /// (only after an opt-out) by what was skipped and why.
    fn last_line(&self) -> String {
        let mut last = format!(
            "stages: {} passed, {} failed",
            self.passed.len(),
            self.failed.len()
        );
        if !self.skipped.is_empty() {
            let why: Vec<String> = self
                .skipped
                .iter()
                .map(|(what, why)| format!("{what}: {why}"))
                .collect();
            last.push_str(&format!(
                ", {} skipped ({})",
                self.skipped.len(),
                why.join("; ")
            ));
        }
        last
    }
}

impl flags::Test {
    pub fn run(self, ui: &Ui) -> Result<()> {
        if self.plugin.is_some() {
            return crate::plugintest::run(&self, ui);
        }
        let root = project::root();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let langs = if self.no_cpp {
            LangSel::Rust
        } else {
            LangSel::All
        };
        let mut st = Stages::default();
        if self.no_container {
            st.skip(
                "container builds and verify-repro container vs local",
                "--no-container",
            );
        }
        if self.no_registry {
            st.skip("registry push", "--no-registry");
        }
        if self.no_cpp {
            st.skip("C++ stages", "--no-cpp");
        }

        let suite = crate::setup::Suite::prepare(
            crate::setup::Want {
                container: !self.no_container,
                registry: !self.no_registry,
                cpp: !self.no_cpp,
            },
            ui,
        )?;

        st.begin(ui, "unit and integration tests (cargo test)")?;
        // pwdiff's differential test needs the wasm builds: the differential stage runs it, after conformance.
        let r = crate::runner::run(
            &Cmd::new(&cargo, &root).args([
                "test",
                "--locked",
                "--",
                "--skip",
                DIFF_TEST,
                "--skip",
                STANDARD_API_TEST,
            ]),
            ui,
        );
        st.record(ui, "cargo test", r);

        st.begin(ui, "the plug-ins' own unit tests (cargo test -p <plug-in>)")?;
        let mut unit = Cmd::new(&cargo, &root).args(["test", "--locked"]);
        for (package, _) in crate::lockfile::plugin_packages(&root)? {
            unit = unit.arg("--package").arg(package);
        }
        let r = crate::runner::run(&unit, ui);
        st.record(ui, "plug-in unit tests", r);

        if !self.no_cpp {
            st.begin(ui, "C++ SDK native tests")?;
            st.record(ui, "C++ SDK tests", crate::cpptest::run(ui));
        }

        st.begin(ui, "conformance vectors and battery")?;
        let conf = flags::Conformance {
            lang: langs,
            plugins: Vec::new(),
            vectors: Vec::new(),
            junit: None,
            no_battery: false,
            local: self.no_container,
            // every case also with its bodies split in halves, thirds and single bytes
            rechunk: true,
            real_clock: false,
        };
        match conf.execute(ui) {
            Ok(outcome) => {
                for f in &outcome.failed_runs {
                    st.fail(&format!("conformance {f}"));
                }
                if outcome.failed_runs.is_empty() {
                    st.pass(&format!("conformance ({} plug-in builds)", outcome.runs));
                }
            }
            Err(e) => st.record(ui, "conformance", Err(e)),
        }

        if !self.no_cpp {
            // The fixed-seed differential run over the builds the conformance stage just made.
            st.begin(
                ui,
                "differential run, rust vs cpp builds (pwdiff, fixed seed)",
            )?;
            let diff = Cmd::new(&cargo, &root)
                .args(["test", "--locked", "--test", "diff"])
                .env(
                    "PWDIFF_WASM_DIR",
                    project::out_dir(&root).display().to_string(),
                );
            st.record(ui, "differential", crate::runner::run(&diff, ui));

            // The standard C++ SDK API example's ticks and metrics, through pwhost's library.
            st.begin(
                ui,
                "standard C++ SDK API through pwhost's library (ticks, metrics)",
            )?;
            let built = Cmd::new(&cargo, &root)
                // the whole workspace's test build (no `-p`): `-p pwhost` alone unifies features differently and
                // rebuilds wasmtime
                .args(["test", "--locked", "--test", "standard_cpp_api"])
                .env(
                    "PWHOST_BUILT_DIR",
                    project::out_dir(&root).display().to_string(),
                );
            st.record(
                ui,
                "standard C++ API library test",
                crate::runner::run(&built, ui),
            );
        }

        // `cargo xtask new demo` must build and pass its vectors at once (then it is removed again).
        st.begin(ui, "scaffolding (new demo, conformance, cleanup)")?;
        st.record(
            ui,
            "scaffolding",
            crate::new::selftest(ui, self.no_cpp, self.no_container),
        );

        st.begin(
            ui,
            if self.no_registry {
                "OCI image packaging (push skipped: --no-registry)"
            } else {
                "OCI image packaging and push to a loopback registry"
            },
        )?;
        st.record(
            ui,
            "image",
            crate::imagetest::run(ui, "say-hello", Lang::Rust, !self.no_registry),
        );

        // Reproducibility: two clean builds, a second checkout at another path, and container vs local.
        st.begin(
            ui,
            if self.no_container {
                "reproducibility (verify-repro hello-world, local builds only: --no-container)"
            } else {
                "reproducibility (verify-repro hello-world: clean builds, second checkout, container vs local)"
            },
        )?;
        let repro = flags::VerifyRepro {
            plugins: vec!["hello-world".into()],
            lang: Some(langs),
            engine: None,
            local: self.no_container,
        };
        st.record(ui, "verify-repro", repro.run(ui));

        // Stop the engine this run started before the closing lines, so they are the last thing printed.
        drop(suite);
        st.finish(ui)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_line_names_skips_only_after_an_opt_out() {
        let ui = Ui::new(false, true);
        let mut st = Stages::default();
        st.record(&ui, "cargo test", Ok(()));
        st.record(&ui, "image", Err(anyhow::anyhow!("boom")));
        assert_eq!(st.last_line(), "stages: 1 passed, 1 failed");
        st.skip("registry push", "--no-registry");
        st.skip("verify-repro container vs local", "--no-container");
        assert_eq!(
            st.last_line(),
            "stages: 1 passed, 1 failed, 2 skipped (registry push: --no-registry; verify-repro container vs \
             local: --no-container)"
        );
    }

    #[test]
    fn opt_outs_parse_and_per_plugin_flags_need_a_plugin() {
        use clap::Parser;
        let parse = |args: &[&str]| {
            crate::flags::Xtask::try_parse_from(["cargo xtask", "test"].iter().chain(args).copied())
        };
        assert!(parse(&["--no-container", "--no-registry"]).is_ok());
        assert!(parse(&["--lang", "rust"]).is_err(), "--lang needs --plugin");
        assert!(parse(&["--plugin", "x", "--no-registry"]).is_err());
        assert!(parse(&["--plugin", "x", "--lang", "cpp", "--no-container"]).is_ok());
    }
}
