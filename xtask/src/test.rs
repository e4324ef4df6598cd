//! `cargo xtask test`: the whole suite, the README's second command. Stages:
//!
//! 1. native unit and integration tests of every native crate (`cargo test`);
//! 2. the C++ SDK's native tests;
//! 3. conformance vectors and the generic battery for every plug-in in every language;
//! 4. the fixed-seed differential run of every two-language plug-in's rust and cpp builds, and pwhost's
//!    library-API test of the standard C++ SDK API example's build (ticks, metrics: not expressible in vectors);
//! 5. scaffolding: `new demo` in both languages passes its vectors, then is removed (Cargo.lock restored);
//! 6. the image stage: deterministic packaging, push to a loopback registry, pull-back verification;
//! 7. reproducibility: `verify-repro` across clean builds, checkouts and runners (when an engine answers).
//!
//! Every stage runs even when an earlier one failed, and the last line counts stages: `N passed, M failed`.

use anyhow::Result;

use crate::flags::{self, Lang, LangSel};
use crate::plan::Cmd;
use crate::project;
use crate::ui::Ui;

#[derive(Default)]
struct Stages {
    passed: Vec<String>,
    failed: Vec<String>,
    skipped: Vec<String>,
}

impl Stages {
    fn record(&mut self, ui: &Ui, name: &str, r: Result<bool>) {
        match r {
            Ok(true) => self.passed.push(name.to_string()),
            Ok(false) => self.skipped.push(name.to_string()),
            Err(e) => {
                ui.warn(&format!("{name}: {e:#}"));
                self.failed.push(name.to_string());
            }
        }
    }
}

impl flags::Test {
    pub fn run(self, ui: &Ui) -> Result<()> {
        let root = project::root();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut st = Stages::default();

        ui.status("stage: unit and integration tests (cargo test)");
        let r = crate::runner::run(&Cmd::new(&cargo, &root).args(["test", "--locked"]), ui)
            .map(|_| true);
        st.record(ui, "cargo test", r);

        if !self.no_cpp {
            ui.status("stage: C++ SDK native tests");
            st.record(ui, "C++ SDK tests", crate::cpptest::run(ui).map(|_| true));
        }

        ui.status("stage: conformance vectors and battery");
        let conf = flags::Conformance {
            lang: if self.no_cpp {
                LangSel::Rust
            } else {
                LangSel::All
            },
            plugins: Vec::new(),
            vectors: Vec::new(),
            junit: None,
            no_battery: false,
            local: false,
        };
        match conf.execute(ui) {
            Ok(outcome) => {
                let total = outcome.runs;
                for f in &outcome.failed_runs {
                    st.failed.push(format!("conformance {f}"));
                }
                if outcome.failed_runs.is_empty() {
                    st.passed
                        .push(format!("conformance ({total} plug-in builds)"));
                }
            }
            Err(e) => st.record(ui, "conformance", Err(e)),
        }

        if !self.no_cpp {
            // The fixed-seed differential run over the builds the conformance stage just made.
            ui.status("stage: differential run, rust vs cpp builds (pwdiff, fixed seed)");
            let diff = Cmd::new(&cargo, &root)
                .args(["test", "--locked", "--test", "diff"])
                .env(
                    "PWDIFF_WASM_DIR",
                    project::out_dir(&root).display().to_string(),
                );
            st.record(
                ui,
                "differential",
                crate::runner::run(&diff, ui).map(|_| true),
            );

            ui.status("stage: standard C++ SDK API through pwhost's library (ticks, metrics)");
            let built = Cmd::new(&cargo, &root)
                .args([
                    "test",
                    "--locked",
                    "-p",
                    "pwhost",
                    "--test",
                    "standard_cpp_api",
                ])
                .env(
                    "PWHOST_BUILT_DIR",
                    project::out_dir(&root).display().to_string(),
                );
            st.record(
                ui,
                "standard C++ API library test",
                crate::runner::run(&built, ui).map(|_| true),
            );
        }

        // `cargo xtask new demo` must build and pass its vectors at once (then it is removed again).
        ui.status("stage: scaffolding (new demo, conformance, cleanup)");
        st.record(ui, "scaffolding", crate::new::selftest(ui, self.no_cpp));

        ui.status("stage: OCI image packaging and push");
        st.record(
            ui,
            "image",
            crate::imagetest::run(ui, "say-hello", Lang::Rust),
        );

        // Reproducibility (two clean builds, a second checkout at another path, container vs local) runs when a
        // container engine answers; without one it would only compare local builds, which the stage above
        // already exercises, so it is reported as skipped.
        if crate::engine::Engine::detect(None).is_ok() {
            ui.status("stage: reproducibility (verify-repro hello-world, both languages)");
            let repro = flags::VerifyRepro {
                plugins: vec!["hello-world".into()],
                lang: Some(if self.no_cpp {
                    LangSel::Rust
                } else {
                    LangSel::All
                }),
                engine: None,
                local: false,
            };
            st.record(ui, "verify-repro", repro.run(ui).map(|_| true));
        } else {
            ui.warn("no container engine reachable: reproducibility across runners not checked");
            st.skipped.push("verify-repro".into());
        }

        let summary = format!(
            "stages passed: {}{}{}",
            st.passed.join(", "),
            if st.failed.is_empty() {
                String::new()
            } else {
                format!("; FAILED: {}", st.failed.join(", "))
            },
            if st.skipped.is_empty() {
                String::new()
            } else {
                format!("; skipped: {}", st.skipped.join(", "))
            },
        );
        ui.result(&format!("{summary} ({:.0}s)", ui.elapsed_secs()));
        // The closing line counts stages, in the plain `N passed, M failed` form CI readers look for.
        ui.result(&format!(
            "stages: {} passed, {} failed",
            st.passed.len(),
            st.failed.len()
        ));
        if st.failed.is_empty() {
            Ok(())
        } else {
            anyhow::bail!(crate::Failure(format!(
                "test failures: {}",
                st.failed.join(", ")
            )))
        }
    }
}
