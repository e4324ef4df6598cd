//! The container runner: the plan's `Step`s, unchanged, with each `Step::Run` inside a builder image.
//!
//! Paths: the plan sees container paths (`/src`, `/target`, `/cargo`). `Mkdir` and `Install` run on the host
//! after mapping those paths back through the mount table, so files in `out/` are written by the invoking user,
//! through the same atomic install as local builds. Only `Run` steps enter the container, one `run --rm` each.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::engine::Engine;
use crate::flags::Lang;
use crate::plan::{BuildEnv, Cmd, CppToolchain, Step};
use crate::ui::Ui;

/// Where the repository appears inside the builder.
pub const SRC: &str = "/src";
/// Where the per-language cargo target folder appears inside the builder.
pub const TARGET: &str = "/target";
/// CARGO_HOME inside the builder (the image's toolchain proxies live in /cargo/bin).
pub const CARGO_HOME: &str = "/cargo";
/// Where an extra CA bundle is mounted for steps that fetch over TLS (cargo's registry).
pub const CA_PATH: &str = "/etc/xtask/ca-bundle.pem";

/// Named volumes that keep cargo's downloads between builds (they outlive `run --rm`).
const VOLUMES: &[(&str, &str)] = &[
    ("pwbuild-cargo-registry", "/cargo/registry"),
    ("pwbuild-cargo-git", "/cargo/git"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    ReadWrite,
    /// Not mounted: only `Mkdir`/`Install`, which run on the host, use this mapping.
    HostOnly,
}

/// A host folder and the path the plan uses for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub host: PathBuf,
    pub container: PathBuf,
    pub access: Access,
}

/// Everything a container build needs, worked out once.
#[derive(Debug, Clone)]
pub struct Container {
    pub engine: Engine,
    /// builder image for each language (`pwbuild-rust:<hash>`)
    pub images: Vec<(Lang, String)>,
    /// the language whose image `Run` steps use
    pub lang: Lang,
    /// the checkout, on the host (canonical)
    pub host_root: PathBuf,
    /// the folder holding `container-<lang>` target folders, on the host
    pub host_target_base: PathBuf,
    /// `out/` on the host
    pub host_out: PathBuf,
    /// `--user uid:gid` (None on rootless engines)
    pub user: Option<(u32, u32)>,
    /// PEM bundle mounted for TLS (cargo's registry), when present
    pub ca_bundle: Option<PathBuf>,
    /// a token unique to this process, for scratch folders
    pub unique: String,
}

impl Container {
    /// A container runner for the checkout at `root`, with cargo's target under `target_base/container-<lang>`.
    pub fn new(
        engine: Engine,
        images: Vec<(Lang, String)>,
        root: &Path,
        target_base: &Path,
        out: &Path,
    ) -> Result<Self> {
        let user = if engine.kind.wants_user_flag(engine.rootless) {
            Some(caller_ids()?)
        } else {
            None
        };
        let lang = images.first().map(|(l, _)| *l).unwrap_or(Lang::Rust);
        Ok(Container {
            user,
            lang,
            images,
            host_root: canonical(root)?,
            host_target_base: target_base.to_path_buf(),
            host_out: out.to_path_buf(),
            ca_bundle: default_ca_bundle(),
            unique: std::process::id().to_string(),
            engine,
        })
    }

    /// The same runner, using `lang`'s builder image.
    pub fn for_lang(&self, lang: Lang) -> Container {
        Container {
            lang,
            ..self.clone()
        }
    }

    pub fn image(&self) -> Result<&str> {
        self.images
            .iter()
            .find(|(l, _)| *l == self.lang)
            .map(|(_, i)| i.as_str())
            .with_context(|| {
                format!(
                    "no {} builder image was prepared (run `cargo xtask builder --lang {}`)",
                    self.lang, self.lang
                )
            })
    }

    pub fn describe(&self) -> String {
        let image = self.image().unwrap_or("?");
        format!("container {image} on {}", self.engine.describe())
    }

    pub fn host_target(&self) -> PathBuf {
        self.host_target_base
            .join(format!("container-{}", self.lang))
    }

    /// The mount table, most specific container path first.
    ///
    /// Rules:
    /// - the checkout is read-only at /src: a build cannot change sources, and /src is the path the plan
    ///   remaps to, so bytes do not depend on where the checkout lives on the host;
    /// - cargo's target folder is the only writable bind mount, one per language (the images differ, so their
    ///   build caches must not mix); concurrent builds share it safely: cargo locks it, and C++ scratch is
    ///   per-process under it;
    /// - `out/` is host-only: the host installs artifacts, atomically and as the caller.
    pub fn mounts(&self) -> Vec<Mount> {
        vec![
            Mount {
                host: self.host_out.clone(),
                container: Path::new(SRC).join("out"),
                access: Access::HostOnly,
            },
            Mount {
                host: self.host_target(),
                container: TARGET.into(),
                access: Access::ReadWrite,
            },
            Mount {
                host: self.host_root.clone(),
                container: SRC.into(),
                access: Access::ReadOnly,
            },
        ]
    }

    /// The paths build tools see inside the builder.
    pub fn env(&self) -> BuildEnv {
        BuildEnv {
            root: SRC.into(),
            host_root: self.host_root.clone(),
            cargo_home: CARGO_HOME.into(),
            target_dir: TARGET.into(),
            out_dir: Path::new(SRC).join("out"),
            unique: self.unique.clone(),
            cargo: "cargo".into(),
            // The cpp builder image installs exactly this toolchain (docker/cpp-builder.Dockerfile); no wasm-opt,
            // as in `toolchain::find_cpp`, so container and local builds run the same steps.
            cpp: Some(CppToolchain {
                cxx: "clang++".into(),
                sysroot: "/usr".into(),
                wasm_opt: None,
            }),
        }
    }

    /// Map a plan path back to the host.
    pub fn to_host(&self, p: &Path) -> Result<PathBuf> {
        for m in self.mounts() {
            if let Ok(rest) = p.strip_prefix(&m.container) {
                return Ok(m.host.join(rest));
            }
        }
        bail!("path {} is outside the builder's mounts ({SRC}, {TARGET}); this is a bug in the build plan", p.display())
    }

    pub fn execute(&self, step: &Step, ui: &Ui) -> Result<()> {
        match step {
            Step::Mkdir(p) => {
                let h = self.to_host(p)?;
                std::fs::create_dir_all(&h).with_context(|| format!("creating {}", h.display()))
            }
            Step::Install { from, to } => {
                crate::runner::install(&self.to_host(from)?, &self.to_host(to)?)
            }
            Step::Run(cmd) => {
                let target = self.host_target();
                std::fs::create_dir_all(&target)
                    .with_context(|| format!("creating {}", target.display()))?;
                crate::runner::run(&self.engine.cmd(self.run_args(cmd)?), ui)
            }
        }
    }

    /// `run --rm ... IMAGE PROGRAM ARGS...` for one plan command. Pure: unit-tested below.
    pub fn run_args(&self, cmd: &Cmd) -> Result<Vec<String>> {
        let mut a: Vec<String> = vec!["run".into(), "--rm".into()];
        // An init process forwards Ctrl-C to the build and reaps its children.
        a.push("--init".into());
        a.extend(["--label".into(), "pwbuild=1".into()]);
        if let Some((uid, gid)) = self.user {
            // Files the build writes to bind mounts belong to the caller, not root.
            a.extend(["--user".into(), format!("{uid}:{gid}")]);
        }
        // SELinux: `z` (shared, not `Z`) so concurrent builds can use the same folders.
        let z = if self.engine.kind.supports_selinux_relabel() {
            ",z"
        } else {
            ""
        };
        for m in self.mounts() {
            let mode = match m.access {
                Access::HostOnly => continue,
                Access::ReadOnly => "ro",
                Access::ReadWrite => "rw",
            };
            a.extend([
                "-v".into(),
                format!(
                    "{}:{}:{mode}{z}",
                    volume_path(&m.host)?,
                    m.container.display()
                ),
            ]);
        }
        for (name, path) in VOLUMES {
            // Named volumes: cargo's registry and git checkouts survive `--rm`; the engine labels them itself.
            // One set per uid, so files one user's build downloaded never block another user's.
            let name = match self.user {
                Some((uid, _)) => format!("{name}-{uid}"),
                None => name.to_string(),
            };
            a.extend(["-v".into(), format!("{name}:{path}")]);
        }
        if let Some(ca) = &self.ca_bundle {
            // The CA bundle: a read-only file mount, never part of an image.
            a.extend(["-v".into(), format!("{}:{CA_PATH}:ro{z}", volume_path(ca)?)]);
            for k in ["CARGO_HTTP_CAINFO", "SSL_CERT_FILE", "CURL_CA_BUNDLE"] {
                a.extend(["-e".into(), format!("{k}={CA_PATH}")]);
            }
        }
        // The caller's uid has no account in the image: give tools a writable HOME.
        a.extend(["-e".into(), "HOME=/tmp".into()]);
        a.extend(["-e".into(), format!("CARGO_HOME={CARGO_HOME}")]);
        if let Ok(v) = std::env::var("SOURCE_DATE_EPOCH") {
            a.extend(["-e".into(), format!("SOURCE_DATE_EPOCH={v}")]);
        }
        for (k, v) in &cmd.env {
            a.extend(["-e".into(), format!("{k}={v}")]);
        }
        a.extend(["-w".into(), cmd.cwd.display().to_string()]);
        a.push(self.image()?.to_string());
        a.push(cmd.program.clone());
        a.extend(cmd.args.iter().cloned());
        Ok(a)
    }
}

/// `-v` splits on `:`, so a host path holding one cannot be mounted this way.
fn volume_path(p: &Path) -> Result<String> {
    let s = p.display().to_string();
    if s.contains(':') {
        bail!("cannot mount {s} into the builder: the path contains `:`; move the checkout or pass --local");
    }
    Ok(s)
}

/// Bind mounts need the real path: a symlinked checkout would otherwise mount the link. The plan still sees /src.
fn canonical(p: &Path) -> Result<PathBuf> {
    std::fs::canonicalize(p).with_context(|| format!("resolving {}", p.display()))
}

/// The caller's uid and gid (`XTASK_CONTAINER_UID`/`XTASK_CONTAINER_GID` override them).
pub fn caller_ids() -> Result<(u32, u32)> {
    let get = |var: &str, flag: &str| -> Result<u32> {
        if let Ok(v) = std::env::var(var) {
            return v
                .trim()
                .parse()
                .with_context(|| format!("{var}={v} is not a number"));
        }
        let out = crate::runner::output("id", &[flag])?;
        out.parse()
            .with_context(|| format!("`id {flag}` printed {out:?}, not a number"))
    };
    Ok((
        get("XTASK_CONTAINER_UID", "-u")?,
        get("XTASK_CONTAINER_GID", "-g")?,
    ))
}

/// The CA bundle given to TLS steps: `XTASK_CA_BUNDLE`, else the host's system bundle when it exists.
pub fn default_ca_bundle() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("XTASK_CA_BUNDLE").filter(|p| !p.is_empty()) {
        return Some(p.into());
    }
    let sys = Path::new("/etc/ssl/certs/ca-certificates.crt");
    sys.is_file().then(|| sys.to_path_buf())
}

/// How `build` picks its runner. `--local` forces the host; `--container` requires an engine; otherwise a
/// container when an engine answers and its builder images can be made, else the host (saying why).
pub fn select(
    local: bool,
    container: bool,
    engine_flag: Option<&str>,
    langs: &[Lang],
    prepare: bool,
    ui: &Ui,
) -> Result<(crate::runner::Runner, String)> {
    use crate::runner::Runner;
    if local {
        return Ok((Runner::Local, "--local".into()));
    }
    let engine = match Engine::detect(engine_flag) {
        Ok(e) => e,
        Err(_) if !container && engine_flag.is_none() => {
            return Ok((
                Runner::Local,
                "no container engine reachable; `--container` would require one".into(),
            ));
        }
        Err(e) => return Err(e),
    };
    let root = crate::project::root();
    let images = match crate::builder::images_for(&engine, langs, prepare, ui) {
        Ok(i) => i,
        Err(e) if !container => {
            ui.warn(&format!("{e:#}; building with local toolchains instead"));
            return Ok((
                Runner::Local,
                "the builder images could not be prepared".into(),
            ));
        }
        Err(e) => return Err(e),
    };
    let c = Container::new(
        engine,
        images,
        &root,
        &target_base(&root),
        &crate::project::out_dir(&root),
    )?;
    let why = if container {
        "--container".to_string()
    } else {
        "a container engine is reachable".to_string()
    };
    Ok((Runner::Container(Box::new(c)), why))
}

/// Container target folders sit next to the local one: `$CARGO_TARGET_DIR` or `<root>/target`.
pub fn target_base(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(Into::into)
        .unwrap_or_else(|| root.join("target"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineKind;

    fn engine(kind: EngineKind, rootless: bool) -> Engine {
        Engine {
            kind,
            program: "/usr/bin/docker".into(),
            version: "20.10".into(),
            rootless,
            buildkit: true,
        }
    }

    fn container(kind: EngineKind, rootless: bool) -> Container {
        Container {
            user: if kind.wants_user_flag(rootless) {
                Some((1000, 100))
            } else {
                None
            },
            lang: Lang::Cpp,
            images: vec![
                (Lang::Rust, "pwbuild-rust:aaa".into()),
                (Lang::Cpp, "pwbuild-cpp:bbb".into()),
            ],
            host_root: "/home/me/repo".into(),
            host_target_base: "/home/me/repo/target".into(),
            host_out: "/home/me/repo/out".into(),
            ca_bundle: Some("/etc/ssl/certs/ca-certificates.crt".into()),
            unique: "42".into(),
            engine: engine(kind, rootless),
        }
    }

    #[test]
    fn run_args_mount_the_checkout_read_only_and_run_as_the_caller() {
        let c = container(EngineKind::Docker, false);
        let cmd = Cmd::new("clang++", Path::new("/src"))
            .args(["-Oz", "a.cc"])
            .env("K", "v");
        let a = c.run_args(&cmd).unwrap().join(" ");
        assert!(
            a.starts_with("run --rm --init --label pwbuild=1 --user 1000:100 "),
            "{a}"
        );
        assert!(
            a.contains("-v /home/me/repo/target/container-cpp:/target:rw,z"),
            "{a}"
        );
        assert!(a.contains("-v /home/me/repo:/src:ro,z"), "{a}");
        assert!(
            a.contains("-v pwbuild-cargo-registry-1000:/cargo/registry"),
            "{a}"
        );
        assert!(
            a.contains("-v /etc/ssl/certs/ca-certificates.crt:/etc/xtask/ca-bundle.pem:ro,z"),
            "{a}"
        );
        assert!(
            a.contains("-e CARGO_HTTP_CAINFO=/etc/xtask/ca-bundle.pem"),
            "{a}"
        );
        assert!(a.contains("-e K=v"), "{a}");
        assert!(
            !a.contains(":/src/out"),
            "out/ is installed by the host, never mounted: {a}"
        );
        assert!(
            a.ends_with("-w /src pwbuild-cpp:bbb clang++ -Oz a.cc"),
            "{a}"
        );
    }

    #[test]
    fn rootless_podman_runs_without_a_user_flag() {
        let c = container(EngineKind::Podman, true);
        let a = c.run_args(&Cmd::new("cargo", Path::new("/src"))).unwrap();
        assert!(!a.contains(&"--user".to_string()), "{a:?}");
    }

    #[test]
    fn the_image_follows_the_language() {
        let c = container(EngineKind::Docker, false).for_lang(Lang::Rust);
        let a = c.run_args(&Cmd::new("cargo", Path::new("/src"))).unwrap();
        assert!(a.contains(&"pwbuild-rust:aaa".to_string()));
        assert!(a.contains(&"/home/me/repo/target/container-rust:/target:rw,z".to_string()));
    }

    #[test]
    fn plan_paths_map_back_to_the_host() {
        let c = container(EngineKind::Docker, false);
        assert_eq!(
            c.to_host(Path::new("/src/out/x/cpp/plugin.wasm")).unwrap(),
            Path::new("/home/me/repo/out/x/cpp/plugin.wasm")
        );
        assert_eq!(
            c.to_host(Path::new("/target/cpp/x/42")).unwrap(),
            Path::new("/home/me/repo/target/container-cpp/cpp/x/42")
        );
        assert_eq!(
            c.to_host(Path::new("/src/wasm-cpp")).unwrap(),
            Path::new("/home/me/repo/wasm-cpp")
        );
        assert!(c.to_host(Path::new("/etc/passwd")).is_err());
    }

    #[test]
    fn a_colon_in_a_host_path_is_refused() {
        let mut c = container(EngineKind::Docker, false);
        c.host_root = "/home/me/a:b".into();
        let err = c
            .run_args(&Cmd::new("cargo", Path::new("/src")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("contains `:`"), "{err}");
    }
}
