//! `cargo xtask test --plugin NAME [--lang L]`: one plug-in's share of the test suite, what a CI matrix entry
//! runs (and `make test PLUGIN_NAME=x`):
//!
//! 1. its unit tests: the Rust crate's own tests natively (`cargo test -p <crate>`); for C++, the C++ SDK's native
//!    tests (the pure logic every C++ plug-in is built on; C++ plug-ins carry no tests of their own);
//! 2. its conformance vectors and the generic battery, in each language (built in the builder container when an
//!    engine answers, as `conformance` does; `--no-container` forces the host's toolchains);
//! 3. lint of its files: tidy, rustfmt and clippy for its crate, clang-format for its C++ files.
//!
//! The last line counts stages like the whole suite's: `stages: N passed, M failed`.

use anyhow::Result;

use crate::flags::{self, Lang, LangSel};
use crate::plan::Cmd;
use crate::project;
use crate::test::Stages;
use crate::ui::Ui;

pub fn run(t: &flags::Test, ui: &Ui) -> Result<()> {
    let root = project::root();
    let all = project::plugins(&root)?;
    let name = t.plugin.as_deref().unwrap_or_default();
    let p = project::find(&all, name)?.clone();
    let wanted: Option<Vec<Lang>> = match (t.lang, t.no_cpp) {
        (Some(l), _) => Some(l.langs()),
        (None, true) => Some(vec![Lang::Rust]),
        (None, false) => None,
    };
    // Validates the language against the plug-in (a plug-in without that language is an error, naming it).
    let langs: Vec<Lang> = project::select(
        &all,
        std::slice::from_ref(&p.name),
        false,
        wanted.as_deref(),
    )?
    .into_iter()
    .map(|(_, l)| l)
    .collect();
    let lang_sel = match langs.as_slice() {
        [Lang::Rust] => LangSel::Rust,
        [Lang::Cpp] => LangSel::Cpp,
        _ => LangSel::All,
    };
    let list: Vec<&str> = langs.iter().map(|l| l.as_str()).collect();
    ui.status(&format!("testing plug-in {} ({})", p.name, list.join(", ")));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut st = Stages::default();

    if langs.contains(&Lang::Rust) {
        let package = crate::lockfile::package_name(&p.dir(&root).join("rust").join("Cargo.toml"))?;
        st.begin(
            ui,
            &format!("{} (rust): unit tests (cargo test -p {package})", p.name),
        )?;
        let unit = Cmd::new(&cargo, &root).args(["test", "--locked", "--package", &package]);
        st.record(ui, "rust unit tests", crate::runner::run(&unit, ui));
    }
    if langs.contains(&Lang::Cpp) {
        st.begin(
            ui,
            &format!(
                "{} (cpp): C++ SDK native tests (the logic the plug-in is built on)",
                p.name
            ),
        )?;
        st.record(ui, "C++ SDK tests", crate::cpptest::run(ui));
    }

    st.begin(ui, &format!("{}: conformance vectors and battery", p.name))?;
    let conf = flags::Conformance {
        lang: lang_sel,
        plugins: vec![p.name.clone()],
        vectors: Vec::new(),
        junit: t.junit.clone(),
        no_battery: false,
        local: t.no_container,
        // as in the whole suite: every case also with its bodies re-chunked
        rechunk: true,
        real_clock: false,
    };
    match conf.execute(ui) {
        Ok(outcome) if outcome.failed_runs.is_empty() => {
            st.pass(&format!("conformance ({} build(s))", outcome.runs))
        }
        Ok(outcome) => {
            for f in &outcome.failed_runs {
                st.fail(&format!("conformance {f}"));
            }
        }
        Err(e) => st.record(ui, "conformance", Err(e)),
    }

    st.begin(ui, &format!("{}: lint of its files", p.name))?;
    let lint = (|| -> Result<()> {
        if langs.contains(&Lang::Cpp) && crate::lint::clang_format().is_none() {
            crate::setup::install_or_explain(ui, "the C++ formatting check", &["clang-format"])?;
        }
        let problems = crate::lint::plugin(&root, &p, &langs, ui)?;
        if problems.is_empty() {
            Ok(())
        } else {
            anyhow::bail!(problems.join("; "))
        }
    })();
    st.record(ui, "lint", lint);

    st.finish(ui)
}
