//! Where things are: the project root, the plug-ins under `extensions/`, and their languages.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::flags::Lang;

/// The repository root: the folder holding xtask's workspace, whatever the caller's cwd.
pub fn root() -> PathBuf {
    // CARGO_MANIFEST_DIR is `<root>/xtask` at compile time; cargo runs xtask from the same checkout.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the root")
        .to_path_buf()
}

/// Build outputs live here, outside the sources (ignored by git).
pub fn out_dir(root: &Path) -> PathBuf {
    root.join("out")
}

/// The output file of one plug-in in one language.
pub fn artifact(root: &Path, plugin: &str, lang: Lang) -> PathBuf {
    out_dir(root)
        .join(plugin)
        .join(lang.as_str())
        .join("plugin.wasm")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plugin {
    /// kebab-case name, the folder under `extensions/`
    pub name: String,
    /// languages present, in `Lang` order
    pub langs: Vec<Lang>,
}

impl Plugin {
    pub fn dir(&self, root: &Path) -> PathBuf {
        root.join("extensions").join(&self.name)
    }

    pub fn has(&self, lang: Lang) -> bool {
        self.langs.contains(&lang)
    }

    /// Vector files shared by every language, sorted by name.
    pub fn vectors(&self, root: &Path) -> Result<Vec<PathBuf>> {
        let dir = self.dir(root).join("vectors");
        if !dir.is_dir() {
            return Ok(Vec::new());
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
            .collect();
        files.sort();
        Ok(files)
    }
}

/// Every plug-in under `extensions/`, sorted by name.
pub fn plugins(root: &Path) -> Result<Vec<Plugin>> {
    let dir = root.join("extensions");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let mut langs = Vec::new();
        if path.join("rust").join("Cargo.toml").is_file() {
            langs.push(Lang::Rust);
        }
        if has_cpp_sources(&path.join("cpp")) {
            langs.push(Lang::Cpp);
        }
        if !langs.is_empty() {
            out.push(Plugin {
                name: name.to_string(),
                langs,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn has_cpp_sources(dir: &Path) -> bool {
    cpp_sources(dir).map(|v| !v.is_empty()).unwrap_or(false)
}

/// The `.cc` files of a folder, sorted (sorted so the link order, and so the bytes, are stable).
pub fn cpp_sources(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("cc" | "cpp")))
        .collect();
    files.sort();
    Ok(files)
}

/// The headers of the standard proxy-wasm C++ SDK API (`wasm-cpp/compat/include`): a plug-in including one is
/// written against that API and links the compat runtime instead of pwsdk's dispatcher.
pub const STANDARD_CPP_API_HEADERS: &[&str] = &[
    "proxy_wasm_intrinsics.h",
    "proxy_wasm_intrinsics_lite.h",
    "proxy_wasm_intrinsics_full.h",
];

/// Whether a plug-in's C++ folder is written against the standard proxy-wasm C++ SDK API: one of its sources or
/// headers has an `#include` of [`STANDARD_CPP_API_HEADERS`] (with quotes or angle brackets, any directory).
pub fn uses_standard_cpp_api(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("cc" | "cpp" | "h" | "hpp")
            )
        })
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .any(|text| text.lines().any(includes_standard_api))
}

/// `#include "proxy_wasm_intrinsics.h"`, `# include <sdk/proxy_wasm_intrinsics.h>`, ...
fn includes_standard_api(line: &str) -> bool {
    let Some(rest) = line.trim_start().strip_prefix('#') else {
        return false;
    };
    let Some(target) = rest.trim_start().strip_prefix("include") else {
        return false;
    };
    let target = target.trim().trim_matches(|c| matches!(c, '"' | '<' | '>'));
    let file = target.rsplit('/').next().unwrap_or(target);
    STANDARD_CPP_API_HEADERS.contains(&file)
}

/// `request_block` and `Request-Block` name the plug-in `request-block`.
pub fn normalize(name: &str) -> String {
    name.trim().replace('_', "-").to_ascii_lowercase()
}

/// Look a plug-in up by any accepted spelling; an unknown name lists the known ones with a did-you-mean.
pub fn find<'a>(all: &'a [Plugin], name: &str) -> Result<&'a Plugin> {
    let wanted = normalize(name);
    if let Some(p) = all.iter().find(|p| p.name == wanted) {
        return Ok(p);
    }
    let known: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
    let best = known
        .iter()
        .map(|k| (levenshtein(&wanted, k), *k))
        .filter(|(d, k)| *d <= 3.max(k.len() / 3))
        .min();
    let hint = match best {
        Some((_, k)) => format!(" (did you mean `{k}`?)"),
        None => String::new(),
    };
    bail!(
        "unknown plug-in `{name}`{hint}; known plug-ins: {}",
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    )
}

/// Resolve the plug-ins × languages a command works on.
pub fn select(
    all: &[Plugin],
    names: &[String],
    every: bool,
    langs: Option<&[Lang]>,
) -> Result<Vec<(Plugin, Lang)>> {
    let chosen: Vec<&Plugin> = if every || names.is_empty() {
        all.iter().collect()
    } else {
        names.iter().map(|n| find(all, n)).collect::<Result<_>>()?
    };
    let mut out = Vec::new();
    for p in chosen {
        match langs {
            None => out.extend(p.langs.iter().map(|&l| (p.clone(), l))),
            Some(ls) => {
                for &l in ls {
                    if p.has(l) {
                        out.push((p.clone(), l));
                    } else if !every && ls.len() == 1 {
                        bail!(
                            "plug-in `{}` has no {l} version (it has: {}); build it with --lang {}",
                            p.name,
                            p.langs
                                .iter()
                                .map(|l| l.as_str())
                                .collect::<Vec<_>>()
                                .join(", "),
                            p.langs[0]
                        );
                    }
                }
            }
        }
    }
    Ok(out)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Plugin> {
        vec![
            Plugin {
                name: "request-block".into(),
                langs: vec![Lang::Rust, Lang::Cpp],
            },
            Plugin {
                name: "say-hello".into(),
                langs: vec![Lang::Rust],
            },
        ]
    }

    #[test]
    fn snake_case_names_are_accepted() {
        assert_eq!(
            find(&sample(), "request_block").unwrap().name,
            "request-block"
        );
    }

    #[test]
    fn unknown_name_suggests_the_closest() {
        let err = find(&sample(), "say-helo").unwrap_err().to_string();
        assert!(err.contains("did you mean `say-hello`"), "{err}");
        assert!(
            err.contains("known plug-ins: request-block, say-hello"),
            "{err}"
        );
    }

    #[test]
    fn standard_api_includes_are_recognised() {
        for yes in [
            "#include \"proxy_wasm_intrinsics.h\"",
            "  #  include <proxy_wasm_intrinsics.h>",
            "#include \"sdk/proxy_wasm_intrinsics_lite.h\"",
        ] {
            assert!(includes_standard_api(yes), "{yes}");
        }
        for no in [
            "// #include \"proxy_wasm_intrinsics.h\"",
            "#include \"pwsdk/pwsdk.h\"",
            "#include \"my_proxy_wasm_intrinsics.h\"",
            "#define X proxy_wasm_intrinsics.h",
        ] {
            assert!(!includes_standard_api(no), "{no}");
        }
    }

    #[test]
    fn missing_language_is_named() {
        let err = select(&sample(), &["say-hello".into()], false, Some(&[Lang::Cpp])).unwrap_err();
        assert!(err.to_string().contains("has no cpp version"), "{err}");
    }
}
