//! `cargo xtask list`: plug-ins × languages.

use anyhow::Result;

use crate::flags::{self, Lang};
use crate::project;
use crate::ui::Ui;

impl flags::List {
    pub fn run(self, _ui: &Ui) -> Result<()> {
        let root = project::root();
        let all = project::plugins(&root)?;
        if self.json {
            let v: Vec<_> = all
                .iter()
                .map(|p| serde_json::json!({"name": p.name, "langs": p.langs.iter().map(|l| l.as_str()).collect::<Vec<_>>()}))
                .collect();
            println!("{}", serde_json::to_string_pretty(&v)?);
            return Ok(());
        }
        let width = all.iter().map(|p| p.name.len()).max().unwrap_or(6).max(6);
        println!("{:<width$}  rust  cpp   vectors", "plugin");
        for p in &all {
            let mark = |l: Lang| if p.has(l) { "yes" } else { "-" };
            let vectors = p.vectors(&root)?.len();
            println!(
                "{:<width$}  {:<4}  {:<4}  {vectors}",
                p.name,
                mark(Lang::Rust),
                mark(Lang::Cpp)
            );
        }
        Ok(())
    }
}
