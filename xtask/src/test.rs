//! `cargo xtask test`: the whole suite, the README's second command.
//!
//! 1. native unit and integration tests of every native crate (`cargo test`);
//! 2. the C++ SDK's native tests;
//! 3. conformance vectors and the generic battery for every plug-in in every language.

use anyhow::{bail, Result};

use crate::flags::{self, LangSel};
use crate::plan::Cmd;
use crate::project;
use crate::ui::Ui;

impl flags::Test {
    pub fn run(self, ui: &Ui) -> Result<()> {
        let root = project::root();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut failed = Vec::new();

        ui.status("unit and integration tests (cargo test)");
        if crate::runner::run(&Cmd::new(&cargo, &root).args(["test", "--locked"]), ui).is_err() {
            failed.push("cargo test".to_string());
        }

        if !self.no_cpp {
            ui.status("C++ SDK native tests");
            if let Err(e) = crate::cpptest::run(ui) {
                ui.warn(&format!("{e:#}"));
                failed.push("C++ SDK tests".to_string());
            }
        }

        let conf = flags::Conformance {
            lang: if self.no_cpp { LangSel::Rust } else { LangSel::All },
            plugins: Vec::new(),
            vectors: Vec::new(),
            junit: None,
            no_battery: false,
        };
        let outcome = conf.execute(ui)?;
        failed.extend(outcome.failed_runs);

        if failed.is_empty() {
            ui.result(&format!("all tests passed in {:.0}s", ui.elapsed_secs()));
            Ok(())
        } else {
            bail!(crate::Failure(format!("test failures: {}", failed.join(", "))))
        }
    }
}
