//! `cargo xtask new <name> --lang rust|cpp|both`: render a plug-in from `xtask/templates/` that builds and passes
//! its starter vectors at once in every language it has, then teach Cargo.lock the new package.
//!
//! `render` is pure (snapshot-tested below); `run` only checks the name, writes the files and runs cargo.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::flags::{self, Lang, NewLang};
use crate::project;
use crate::ui::Ui;

/// Names cargo, the workspace or the toolchain already use: a package by that name would collide.
const RESERVED: &[&str] = &[
    // the workspace's own packages and folders
    "xtask",
    "pwsdk",
    "pwhost",
    "pwoci",
    "pwdiff",
    "wasm-rust",
    "wasm-cpp",
    "host",
    "oci",
    "difftest",
    "extensions",
    // names cargo refuses or that shadow the standard library
    "test",
    "core",
    "std",
    "alloc",
    "proc-macro",
    "build",
    "deps",
    "examples",
    "incremental",
    // Rust keywords (the library name would be one)
    "as",
    "async",
    "await",
    "break",
    "const",
    "continue",
    "crate",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "fn",
    "for",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "match",
    "mod",
    "move",
    "mut",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "type",
    "unsafe",
    "use",
    "where",
    "while",
    "abstract",
    "become",
    "box",
    "do",
    "final",
    "macro",
    "override",
    "priv",
    "typeof",
    "unsized",
    "virtual",
    "yield",
    "try",
    "gen",
];

/// One file `new` writes, relative to `extensions/<name>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub path: PathBuf,
    pub contents: String,
}

impl flags::New {
    pub fn run(self, ui: &Ui) -> Result<()> {
        let root = project::root();
        let langs = match self.lang {
            NewLang::Rust => vec![Lang::Rust],
            NewLang::Cpp => vec![Lang::Cpp],
            NewLang::Both => Lang::ALL.to_vec(),
        };
        let name = check_name(&root, &self.name)?;
        let dir = root.join("extensions").join(&name);
        let files = render(&name, &langs);
        ui.status(&format!(
            "scaffolding extensions/{name}/ ({})",
            lang_list(&langs)
        ));
        write_all(&dir, &files)?;
        for f in &files {
            ui.result(&format!("created extensions/{name}/{}", f.path.display()));
        }
        if langs.contains(&Lang::Rust) {
            ui.status("updating Cargo.lock for the new package (cargo update --workspace)");
            crate::lockfile::update(&root, ui)?;
            ui.result(&format!(
                "updated Cargo.lock: added the workspace package `{name}` (commit it with the plug-in)"
            ));
        }
        ui.result(&format!(
            "next: cargo xtask conformance --plugin {name}   (then edit README.md, spec.yaml and vectors/ together)"
        ));
        Ok(())
    }
}

fn lang_list(langs: &[Lang]) -> String {
    langs
        .iter()
        .map(|l| l.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Normalise and check a plug-in name: kebab-case, not an existing plug-in, not a package in Cargo.lock, not
/// reserved.
pub fn check_name(root: &Path, raw: &str) -> Result<String> {
    let name = raw.trim().replace('_', "-");
    let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
        && !name.contains("--");
    if !valid {
        bail!(
            "plug-in name `{raw}` is not kebab-case: use lower-case letters, digits and single dashes, starting \
             with a letter (e.g. `{}`)",
            suggest(&name)
        );
    }
    if RESERVED.contains(&name.as_str()) {
        bail!(
            "plug-in name `{name}` is reserved (a workspace package, a cargo folder or a Rust keyword); \
             pick another, e.g. `{name}-plugin`"
        );
    }
    let dir = root.join("extensions").join(&name);
    if dir.exists() {
        bail!(
            "plug-in `{name}` already exists at extensions/{name}/; pick another name or remove that folder"
        );
    }
    let lock = root.join("Cargo.lock");
    let text =
        std::fs::read_to_string(&lock).with_context(|| format!("reading {}", lock.display()))?;
    if let Some(pkg) = lock_packages(&text)
        .into_iter()
        .find(|p| p.replace('_', "-") == name)
    {
        bail!(
            "plug-in name `{name}` collides with the package `{pkg}` in Cargo.lock (cargo cannot have two \
             packages of one name); pick another, e.g. `{name}-plugin`"
        );
    }
    Ok(name)
}

/// A kebab-case spelling of an invalid name, for the error message.
fn suggest(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().map(|c| c.to_ascii_lowercase()) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    match out.chars().next() {
        None => "my-plugin".into(),
        Some(c) if c.is_ascii_digit() => format!("plugin-{out}"),
        Some(_) => out.into(),
    }
}

/// The package names in a Cargo.lock.
fn lock_packages(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .map(str::to_string)
        .collect()
}

/// `rate-limit` → `RateLimit`.
fn camel(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// `rate-limit` → `Rate Limit`.
fn title(name: &str) -> String {
    name.split('-').map(camel).collect::<Vec<_>>().join(" ")
}

fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut s = template.to_string();
    for (k, v) in vars {
        s = s.replace(&format!("{{{{{k}}}}}"), v);
    }
    s
}

/// The files of a new plug-in, relative to `extensions/<name>/`, sorted by path. Pure.
pub fn render(name: &str, langs: &[Lang]) -> Vec<File> {
    let ty = camel(name);
    // A C++ class and a Rust type starting with a digit cannot happen: names start with a letter.
    let title = title(name);
    let languages = match langs {
        [l] => format!(
            "{l} only, declared in `extension.yaml` (`cargo xtask lint` checks the declaration matches the \
             folders)."
        ),
        _ => "rust (`rust/`) and cpp (`cpp/`); both pass the same vectors.".to_string(),
    };
    let vars: [(&str, &str); 4] = [
        ("name", name),
        ("Type", &ty),
        ("Title", &title),
        ("languages", &languages),
    ];
    let mut files = vec![
        File {
            path: "README.md".into(),
            contents: fill(include_str!("../templates/README.md.tmpl"), &vars),
        },
        File {
            path: "spec.yaml".into(),
            contents: fill(include_str!("../templates/spec.yaml.tmpl"), &vars),
        },
        File {
            path: Path::new("vectors").join(format!("{name}.yaml")),
            contents: fill(include_str!("../templates/vectors.yaml.tmpl"), &vars),
        },
    ];
    if langs.contains(&Lang::Rust) {
        files.push(File {
            path: "rust/Cargo.toml".into(),
            contents: fill(include_str!("../templates/Cargo.toml.tmpl"), &vars),
        });
        files.push(File {
            path: "rust/src/lib.rs".into(),
            contents: fill(include_str!("../templates/lib.rs.tmpl"), &vars),
        });
    }
    if langs.contains(&Lang::Cpp) {
        files.push(File {
            path: "cpp/plugin.cc".into(),
            contents: fill(include_str!("../templates/plugin.cc.tmpl"), &vars),
        });
    }
    if let [only] = langs {
        files.push(File {
            path: "extension.yaml".into(),
            contents: fill(
                include_str!("../templates/extension.yaml.tmpl"),
                &[("lang", only.as_str())],
            ),
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// Write the files under `dir`; on failure, remove what was written so a retry starts clean.
fn write_all(dir: &Path, files: &[File]) -> Result<()> {
    let result = (|| -> Result<()> {
        for f in files {
            let p = dir.join(&f.path);
            let parent = p.parent().context("file without a folder")?;
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
            std::fs::write(&p, &f.contents).with_context(|| format!("writing {}", p.display()))?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

/// A stage of `cargo xtask test`: scaffold a plug-in (`demo`, or `demo-<n>` when that folder is taken) in both
/// languages, run its conformance vectors (with the host's toolchains when `local`), then remove it and restore
/// Cargo.lock byte for byte, whatever happened.
pub fn selftest(ui: &Ui, no_cpp: bool, local: bool) -> Result<()> {
    let root = project::root();
    let name = (0..)
        .map(|n| match n {
            0 => "demo".to_string(),
            n => format!("demo-{n}"),
        })
        .find(|n| !root.join("extensions").join(n).exists())
        .expect("a free name");
    let name = name.as_str();
    let dir = root.join("extensions").join(name);
    let lock = root.join("Cargo.lock");
    let saved = std::fs::read(&lock).with_context(|| format!("reading {}", lock.display()))?;
    struct Cleanup {
        dirs: Vec<PathBuf>,
        lock: PathBuf,
        saved: Vec<u8>,
    }
    impl Drop for Cleanup {
        fn drop(&mut self) {
            for d in &self.dirs {
                let _ = std::fs::remove_dir_all(d);
            }
            let _ = std::fs::write(&self.lock, &self.saved);
        }
    }
    let _cleanup = Cleanup {
        dirs: vec![dir, project::out_dir(&root).join(name)],
        lock,
        saved,
    };
    flags::New {
        name: name.into(),
        lang: if no_cpp { NewLang::Rust } else { NewLang::Both },
    }
    .run(ui)?;
    let conf = flags::Conformance {
        lang: if no_cpp {
            flags::LangSel::Rust
        } else {
            flags::LangSel::All
        },
        plugins: vec![name.into()],
        vectors: Vec::new(),
        junit: None,
        no_battery: false,
        local,
        rechunk: false,
        real_clock: false,
    };
    let outcome = conf.execute(ui)?;
    if !outcome.failed_runs.is_empty() {
        bail!(
            "the scaffolded plug-in failed conformance: {}",
            outcome.failed_runs.join(", ")
        );
    }
    // Tidy must accept what `new` makes.
    let plugins = project::plugins(&root)?;
    let demo = project::find(&plugins, name)?;
    let problems = crate::lint::tidy(&root, demo)?;
    if !problems.is_empty() {
        bail!(
            "tidy rejects the scaffolded plug-in: {}",
            problems.join("; ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_tree_for_both_languages() {
        let files = render("rate-limit", &Lang::ALL);
        let paths: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
        assert_eq!(
            paths,
            [
                "README.md",
                "cpp/plugin.cc",
                "rust/Cargo.toml",
                "rust/src/lib.rs",
                "spec.yaml",
                "vectors/rate-limit.yaml"
            ]
        );
        let get = |p: &str| {
            &files
                .iter()
                .find(|f| f.path == Path::new(p))
                .unwrap()
                .contents
        };
        for f in &files {
            assert!(
                !f.contents.contains("{{"),
                "unfilled placeholder in {}",
                f.path.display()
            );
        }
        assert!(get("rust/Cargo.toml").contains("name = \"rate-limit\"\n"));
        assert!(get("rust/Cargo.toml").contains("crate-type = [\"cdylib\"]"));
        assert!(get("rust/src/lib.rs").contains("pub struct RateLimit;"));
        assert!(get("rust/src/lib.rs").contains("pwsdk::plugin!(RateLimit);"));
        assert!(get("rust/src/lib.rs").contains("set_response_header(\"x-rate-limit\", value)"));
        assert!(get("cpp/plugin.cc").contains("#include \"pwsdk/pwsdk.h\""));
        assert!(get("cpp/plugin.cc")
            .contains("pwsdk::Register<RateLimitRoot, RateLimit> registration(\"rate-limit\");"));
        assert!(get("README.md").starts_with("# rate-limit\n"));
        assert!(get("README.md").contains("| `value` | string, non-empty | no | `hello` |"));
        assert!(get("README.md").contains("kind: WasmPlugin"));
        assert!(get("spec.yaml").contains("  name: rate-limit\n  title: Rate Limit\n"));
        assert!(get("vectors/rate-limit.yaml").contains("headers: {x-rate-limit: hello}"));
        // Both languages pass the same vectors: no per-language file, no extension.yaml.
        assert!(!paths.contains(&"extension.yaml".to_string()));
    }

    #[test]
    fn the_generated_spec_and_vectors_are_valid_yaml() {
        for f in render("demo", &Lang::ALL) {
            if f.path.extension().is_some_and(|e| e == "yaml") {
                let v: serde_yaml_ng::Value = serde_yaml_ng::from_str(&f.contents)
                    .unwrap_or_else(|e| panic!("{}: {e}", f.path.display()));
                assert!(v.is_mapping(), "{}", f.path.display());
            }
        }
        let spec = &render("demo", &Lang::ALL)
            .into_iter()
            .find(|f| f.path == Path::new("spec.yaml"))
            .unwrap()
            .contents;
        pwoci::parse_spec_yaml(spec).expect("pwoci accepts the spec");
    }

    #[test]
    fn a_single_language_is_declared() {
        let files = render("only-rust", &[Lang::Rust]);
        let paths: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
        assert_eq!(
            paths,
            [
                "README.md",
                "extension.yaml",
                "rust/Cargo.toml",
                "rust/src/lib.rs",
                "spec.yaml",
                "vectors/only-rust.yaml"
            ]
        );
        let decl = &files[1].contents;
        assert_eq!(
            crate::lint::declared_languages_from(decl).unwrap(),
            vec![Lang::Rust]
        );
    }

    #[test]
    fn names_are_checked_with_the_fix_named() {
        let root = project::root();
        assert_eq!(check_name(&root, "rate_limit").unwrap(), "rate-limit");
        let e = |n: &str| check_name(&root, n).unwrap_err().to_string();
        assert!(
            e("Rate Limit").contains("not kebab-case"),
            "{}",
            e("Rate Limit")
        );
        assert!(
            e("9lives").contains("e.g. `plugin-9lives`"),
            "{}",
            e("9lives")
        );
        assert!(
            e("My Plugin!").contains("e.g. `my-plugin`"),
            "{}",
            e("My Plugin!")
        );
        assert!(e("a--b").contains("not kebab-case"));
        assert!(e("x-").contains("not kebab-case"));
        assert!(e("say-hello").contains("already exists at extensions/say-hello/"));
        assert!(e("say_hello").contains("already exists"));
        let regex = e("regex");
        assert!(
            regex.contains("collides with the package `regex` in Cargo.lock"),
            "{regex}"
        );
        assert!(regex.contains("e.g. `regex-plugin`"), "{regex}");
        assert!(e("serde").contains("collides"));
        assert!(e("xtask").contains("reserved"));
        assert!(e("pwsdk").contains("reserved"));
        assert!(e("type").contains("reserved"));
    }
}
