//! Container builds against a real engine: the builder images, then one Rust and one C++ plug-in built in a
//! container and on the host. Skipped (with the reason printed) only when no container engine answers.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn xtask(args: &[&str], target: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .expect("running xtask")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The builder images, or None when no engine answers.
fn engine_ready(target: &Path) -> Option<()> {
    let o = xtask(&["builder", "--lang", "all"], target);
    if !o.status.success() {
        let t = text(&o);
        if t.contains("no container engine found") {
            eprintln!("skipped: no container engine reachable ({})", t.trim());
            return None;
        }
        panic!("cargo xtask builder failed:\n{t}");
    }
    Some(())
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `<path>  <size> bytes  sha256:<hex>` lines of `build`'s stdout, by path.
fn built(o: &Output) -> Vec<(PathBuf, String)> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| {
            let (path, rest) = l.split_once("  ")?;
            Some((
                PathBuf::from(path),
                rest.rsplit_once("sha256:")?.1.trim().to_string(),
            ))
        })
        .collect()
}

fn caller_uid() -> u32 {
    let o = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
}

/// Every file under `dir` belongs to `uid` (the container ran as the caller, not root).
fn assert_owned_by(dir: &Path, uid: u32) {
    let mut stack = vec![dir.to_path_buf()];
    let mut n = 0;
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            assert_eq!(
                m.uid(),
                uid,
                "{} belongs to uid {}, not the caller {uid}",
                p.display(),
                m.uid()
            );
            n += 1;
            if m.is_dir() {
                stack.push(p);
            }
        }
    }
    assert!(n > 0, "{} is empty", dir.display());
}

fn first_plugin_with(lang: &str) -> Option<String> {
    let o = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["list", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("list --json prints JSON");
    v.as_array()?
        .iter()
        .find(|p| {
            p["langs"]
                .as_array()
                .is_some_and(|ls| ls.iter().any(|l| l == lang))
        })
        .and_then(|p| p["name"].as_str().map(String::from))
}

fn container_matches_local(lang: &str) {
    let target = std::env::temp_dir().join(format!(
        "xtask-container-test-{lang}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&target);
    if engine_ready(&target).is_none() {
        return;
    }
    let Some(plugin) = first_plugin_with(lang) else {
        eprintln!("skipped: no plug-in has a {lang} version yet");
        return;
    };
    let c = xtask(&["build", &plugin, "--lang", lang, "--container"], &target);
    assert!(c.status.success(), "container build failed:\n{}", text(&c));
    assert!(
        text(&c).contains("runner: container pwbuild-"),
        "the runner is printed:\n{}",
        text(&c)
    );
    let from_container = built(&c);
    assert_eq!(from_container.len(), 1, "{}", text(&c));
    let (path, sha_c) = &from_container[0];
    assert_eq!(
        path,
        &root()
            .join("out")
            .join(&plugin)
            .join(lang)
            .join("plugin.wasm")
    );
    let uid = caller_uid();
    assert_eq!(
        std::fs::metadata(path).unwrap().uid(),
        uid,
        "{} is not the caller's",
        path.display()
    );
    assert_owned_by(&target.join(format!("container-{lang}")), uid);

    let l = xtask(&["build", &plugin, "--lang", lang, "--local"], &target);
    assert!(l.status.success(), "local build failed:\n{}", text(&l));
    assert!(
        text(&l).contains("runner: local toolchains (--local)"),
        "{}",
        text(&l)
    );
    let (_, sha_l) = &built(&l)[0];
    assert_eq!(
        sha_c, sha_l,
        "{plugin} ({lang}): container and local builds differ"
    );
    let _ = std::fs::remove_dir_all(&target);
}

#[test]
fn issue_5_rust_container_build_is_the_callers_and_matches_local() {
    container_matches_local("rust");
}

#[test]
fn issue_5_cpp_container_build_is_the_callers_and_matches_local() {
    container_matches_local("cpp");
}

#[test]
fn issue_5_container_flag_without_an_engine_names_the_fix() {
    let target = std::env::temp_dir().join(format!("xtask-noengine-{}", std::process::id()));
    let o = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["build", "hello-world", "--container", "--dry-run"])
        .env("CARGO_TARGET_DIR", &target)
        .env("PATH", "/nonexistent")
        .env_remove("XTASK_ENGINE")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("no container engine found; install docker or podman, or pass --local"),
        "{}",
        text(&o)
    );
}
