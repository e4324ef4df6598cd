//! `cargo xtask matrix`: the plug-in × language entries CI builds, as `{"include":[{"plugin":..,"lang":..}]}`
//! (what GitHub's `strategy.matrix: ${{ fromJSON(...) }}` takes). The plug-ins found under `extensions/` are the
//! one data source; `--changed-since REF` keeps the entries a change can affect, `--tag` the one a release tag
//! names.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Serialize;

use crate::flags::{self, Lang};
use crate::project::{self, Plugin};
use crate::ui::Ui;

/// A change under any of these rebuilds everything: SDKs, build tooling, the host, builder images, the
/// workspace manifest and lock, the toolchain pin, CI itself.
pub const EVERYTHING: &[&str] = &[
    "wasm-rust/",
    "wasm-cpp/",
    "xtask/",
    "host/",
    "docker/",
    ".cargo/",
    ".github/",
    "Cargo.toml",
    "Cargo.lock",
    "rust-toolchain.toml",
    "docker-bake.hcl",
];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Entry {
    pub plugin: String,
    pub lang: &'static str,
    /// the release version, for `--tag`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[derive(Debug, Serialize)]
struct Doc<'a> {
    include: &'a [Entry],
}

impl flags::Matrix {
    pub fn run(self, ui: &Ui) -> Result<()> {
        let root = project::root();
        let plugins = project::plugins(&root)?;
        let entries = if let Some(tag) = &self.tag {
            vec![from_tag(&plugins, tag)?]
        } else if let Some(since) = &self.changed_since {
            let files = changed_files(&root, since)?;
            ui.status(&format!("{} file(s) changed since {since}", files.len()));
            select(&plugins, &files)
        } else {
            all(&plugins)
        };
        if self.json {
            // One line, so `echo "matrix=$(...)" >> "$GITHUB_OUTPUT"` works.
            println!("{}", to_json(&entries));
        } else if entries.is_empty() {
            ui.result("nothing to build");
        } else {
            for e in &entries {
                match &e.version {
                    Some(v) => ui.result(&format!("{} {} {v}", e.plugin, e.lang)),
                    None => ui.result(&format!("{} {}", e.plugin, e.lang)),
                }
            }
        }
        Ok(())
    }
}

pub fn to_json(entries: &[Entry]) -> String {
    serde_json::to_string(&Doc { include: entries }).expect("entries serialise")
}

fn entry(p: &Plugin, l: Lang) -> Entry {
    Entry {
        plugin: p.name.clone(),
        lang: l.as_str(),
        version: None,
    }
}

/// Every plug-in in every language it has.
pub fn all(plugins: &[Plugin]) -> Vec<Entry> {
    plugins
        .iter()
        .flat_map(|p| p.langs.iter().map(move |&l| entry(p, l)))
        .collect()
}

/// The entries a set of changed paths (relative to the root, `/`-separated) can affect.
pub fn select(plugins: &[Plugin], files: &[String]) -> Vec<Entry> {
    let touches_all = files.iter().any(|f| {
        EVERYTHING.iter().any(|e| {
            if e.ends_with('/') {
                f.starts_with(e)
            } else {
                f == e
            }
        })
    });
    if touches_all {
        return all(plugins);
    }
    let mut out = BTreeSet::new();
    for f in files {
        let Some(rest) = f.strip_prefix("extensions/") else {
            continue;
        };
        let mut parts = rest.splitn(3, '/');
        let (Some(name), Some(second)) = (parts.next(), parts.next()) else {
            continue;
        };
        // A deleted plug-in has nothing left to build.
        let Some(p) = plugins.iter().find(|p| p.name == name) else {
            continue;
        };
        let only = match (second, parts.next()) {
            ("rust", Some(_)) => Some(Lang::Rust),
            ("cpp", Some(_)) => Some(Lang::Cpp),
            // vectors, README, spec.yaml, extension.yaml: the contract of every language
            _ => None,
        };
        for &l in &p.langs {
            if only.is_none_or(|o| o == l) {
                out.insert(entry(p, l));
            }
        }
    }
    // Sorted like `all`: by plug-in, then language order.
    let mut v: Vec<Entry> = out.into_iter().collect();
    v.sort_by_key(|e| {
        (
            e.plugin.clone(),
            Lang::ALL.iter().position(|l| l.as_str() == e.lang),
        )
    });
    v
}

/// `git diff --name-only REF...HEAD`, plus uncommitted changes and untracked files.
pub fn changed_files(root: &Path, since: &str) -> Result<Vec<String>> {
    let dir = root.display().to_string();
    let git = |args: &[&str]| -> Result<Vec<String>> {
        let mut a = vec!["-C", dir.as_str()];
        a.extend_from_slice(args);
        Ok(crate::runner::output("git", &a)?
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect())
    };
    let range = format!("{since}...HEAD");
    let mut files = git(&["diff", "--name-only", &range]).with_context(|| {
        format!(
            "cannot diff against `{since}`; fetch it first (CI: actions/checkout with `fetch-depth: 0`)"
        )
    })?;
    files.extend(git(&["diff", "--name-only", "HEAD"])?);
    files.extend(git(&["ls-files", "--others", "--exclude-standard"])?);
    files.sort();
    files.dedup();
    Ok(files)
}

/// `rust-request-block-v1.2.3` → request-block in Rust, version 1.2.3.
pub fn from_tag(plugins: &[Plugin], tag: &str) -> Result<Entry> {
    let usage = "release tags are `<lang>-<plugin>-v<semver>`, e.g. `rust-request-block-v1.2.0`";
    let (lang, rest) = tag
        .split_once('-')
        .with_context(|| format!("tag `{tag}` is not a release tag; {usage}"))?;
    let lang = Lang::ALL
        .into_iter()
        .find(|l| l.as_str() == lang)
        .with_context(|| format!("tag `{tag}` names no language (rust or cpp); {usage}"))?;
    let (name, version) = rest
        .rsplit_once("-v")
        .with_context(|| format!("tag `{tag}` has no `-v<semver>`; {usage}"))?;
    if !is_semver(version) {
        bail!(
            "tag `{tag}`: `{version}` is not a semantic version (MAJOR.MINOR.PATCH[-PRE]); {usage}"
        );
    }
    let p = project::find(plugins, name)?;
    if !p.has(lang) {
        bail!("tag `{tag}`: plug-in `{}` has no {lang} version", p.name);
    }
    Ok(Entry {
        version: Some(version.to_string()),
        ..entry(p, lang)
    })
}

fn is_semver(v: &str) -> bool {
    let (core, pre) = match v.split_once(['-', '+']) {
        Some((c, p)) => (c, Some(p)),
        None => (v, None),
    };
    let nums: Vec<&str> = core.split('.').collect();
    nums.len() == 3
        && nums.iter().all(|n| {
            !n.is_empty()
                && n.chars().all(|c| c.is_ascii_digit())
                && (n.len() == 1 || !n.starts_with('0'))
        })
        && pre.is_none_or(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '+')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::process::Command;

    fn names(v: &[Entry]) -> Vec<String> {
        v.iter()
            .map(|e| format!("{}/{}", e.plugin, e.lang))
            .collect()
    }

    /// A throwaway git repository with two plug-ins, removed on drop.
    struct Repo(PathBuf);

    impl Drop for Repo {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    impl Repo {
        fn new(tag: &str) -> Repo {
            let dir =
                std::env::temp_dir().join(format!("xtask-matrix-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let repo = Repo(dir);
            for f in [
                "extensions/alpha/rust/Cargo.toml",
                "extensions/alpha/rust/src/lib.rs",
                "extensions/alpha/cpp/plugin.cc",
                "extensions/alpha/vectors/alpha.yaml",
                "extensions/beta/rust/Cargo.toml",
                "extensions/beta/README.md",
                "wasm-cpp/src/api.cc",
                "README.md",
            ] {
                repo.write(f, "v1\n");
            }
            repo.git(&["init", "-q", "-b", "main"]);
            repo.git(&["add", "-A"]);
            repo.git(&["commit", "-q", "-m", "base"]);
            repo.git(&["tag", "base"]);
            repo
        }

        fn write(&self, rel: &str, text: &str) {
            let p = self.0.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }

        fn git(&self, args: &[&str]) {
            let st = Command::new("git")
                .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
                .args(["-c", "commit.gpgsign=false"])
                .args(args)
                .current_dir(&self.0)
                .status()
                .unwrap();
            assert!(st.success(), "git {args:?}");
        }

        fn matrix(&self) -> Vec<String> {
            let plugins = project::plugins(&self.0).unwrap();
            names(&select(&plugins, &changed_files(&self.0, "base").unwrap()))
        }
    }

    #[test]
    fn changed_since_picks_the_touched_plugin_and_language() {
        let r = Repo::new("one");
        assert!(r.matrix().is_empty(), "nothing changed yet");
        // A committed change under rust/ selects only that language.
        r.write("extensions/alpha/rust/src/lib.rs", "v2\n");
        r.git(&["commit", "-q", "-am", "alpha rust"]);
        assert_eq!(r.matrix(), ["alpha/rust"]);
        // An uncommitted change to the vectors selects every language of the plug-in.
        r.write("extensions/alpha/vectors/alpha.yaml", "v2\n");
        assert_eq!(r.matrix(), ["alpha/rust", "alpha/cpp"]);
        // An untracked file in another plug-in counts too; the docs do not.
        r.write("extensions/beta/notes.md", "new\n");
        r.write("README.md", "v2\n");
        assert_eq!(r.matrix(), ["alpha/rust", "alpha/cpp", "beta/rust"]);
    }

    #[test]
    fn changed_since_an_sdk_change_selects_everything() {
        let r = Repo::new("sdk");
        r.write("wasm-cpp/src/api.cc", "v2\n");
        r.git(&["commit", "-q", "-am", "sdk"]);
        assert_eq!(r.matrix(), ["alpha/rust", "alpha/cpp", "beta/rust"]);
    }

    #[test]
    fn changed_since_an_unknown_ref_names_the_fix() {
        let r = Repo::new("badref");
        let e = changed_files(&r.0, "no-such-ref").unwrap_err();
        assert!(format!("{e:#}").contains("fetch-depth: 0"), "{e:#}");
    }

    fn sample() -> Vec<Plugin> {
        vec![
            Plugin {
                name: "ai-data-masking".into(),
                langs: vec![Lang::Rust],
            },
            Plugin {
                name: "request-block".into(),
                langs: vec![Lang::Rust, Lang::Cpp],
            },
        ]
    }

    #[test]
    fn rules_for_paths() {
        let s = |files: &[&str]| {
            names(&select(
                &sample(),
                &files.iter().map(|f| f.to_string()).collect::<Vec<_>>(),
            ))
        };
        assert_eq!(
            s(&["extensions/request-block/cpp/plugin.cc"]),
            ["request-block/cpp"]
        );
        assert_eq!(
            s(&["extensions/request-block/spec.yaml"]),
            ["request-block/rust", "request-block/cpp"]
        );
        assert_eq!(s(&["Cargo.lock"]).len(), 3);
        assert_eq!(s(&["rust-toolchain.toml"]).len(), 3);
        assert_eq!(s(&["host/src/lib.rs"]).len(), 3);
        assert!(s(&["Cargo.lock.orig", "docs/x.md", "extensions/gone/rust/x"]).is_empty());
        // a file literally named `rust` in a plug-in folder is not the rust/ tree
        assert_eq!(
            s(&["extensions/ai-data-masking/rust"]),
            ["ai-data-masking/rust"]
        );
    }

    #[test]
    fn json_is_what_fromjson_takes() {
        let j = to_json(&all(&sample()));
        assert_eq!(
            j,
            r#"{"include":[{"plugin":"ai-data-masking","lang":"rust"},{"plugin":"request-block","lang":"rust"},{"plugin":"request-block","lang":"cpp"}]}"#
        );
        assert_eq!(to_json(&[]), r#"{"include":[]}"#);
    }

    #[test]
    fn release_tags() {
        let e = from_tag(&sample(), "cpp-request-block-v1.2.3-rc.1").unwrap();
        assert_eq!(
            (e.plugin.as_str(), e.lang, e.version.as_deref()),
            ("request-block", "cpp", Some("1.2.3-rc.1"))
        );
        let err = |t: &str| format!("{:#}", from_tag(&sample(), t).unwrap_err());
        assert!(err("cpp-ai-data-masking-v1.0.0").contains("has no cpp version"));
        assert!(err("go-request-block-v1.0.0").contains("names no language"));
        assert!(err("rust-request-block-v1.2").contains("not a semantic version"));
        assert!(err("rust-request-block-v01.2.3").contains("not a semantic version"));
        assert!(err("rust-request-blok-v1.0.0").contains("did you mean `request-block`"));
        assert!(err("v1.0.0").contains("not a release tag"));
    }
}
