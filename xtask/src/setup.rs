//! What `cargo xtask test` needs from the machine, and how it gets it: so a user's machine and CI run the same
//! set-up.
//!
//! - the C++ wasm toolchain (`toolchain::CPP_PACKAGES`) for the C++ stages;
//! - Debian's `docker-registry` and `skopeo` for the registry push stage;
//! - a container engine for container builds and verify-repro across runners: the one that answers, else a
//!   private Docker engine (`engine::PrivateEngine`, package `docker.io`) started for the run and stopped after it;
//! - the builder images in that engine (`cargo xtask builder`), made with `debootstrap` when no base image can be
//!   pulled.
//!
//! As root on Debian/Ubuntu the missing packages are installed with one `apt-get install` line, printed before it
//! runs. Elsewhere the exact commands are printed and the run stops, unless the user opts out of the stages that
//! need them (`--no-container`, `--no-registry`); the final line of the run then names what was skipped and why.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{bail, Result};

use crate::engine::{Engine, PrivateEngine, PrivatePaths};
use crate::flags::Lang;
use crate::ui::Ui;

/// What a run wants (the opt-outs turn parts off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Want {
    pub container: bool,
    pub registry: bool,
    pub cpp: bool,
}

/// What the machine has, observed once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Facts {
    pub root: bool,
    pub apt: bool,
    /// a container engine answers already
    pub engine: bool,
    /// that engine has the builder images, or a base to make them from without debootstrap
    pub images: bool,
    /// the C++ wasm toolchain is there
    pub cpp: bool,
    /// commands on PATH among those the packages below provide
    pub commands: Vec<&'static str>,
}

/// What has to happen before the stages run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// Debian packages to install, in one apt line
    pub packages: Vec<&'static str>,
    /// start (or join) the private Docker engine
    pub start_engine: bool,
    /// why each package or the engine is needed, for messages
    pub reasons: Vec<String>,
}

/// (Debian package, the command it provides) for the test suite's tools.
const TOOLS: &[(&str, &str)] = &[
    ("docker-registry", "docker-registry"),
    ("skopeo", "skopeo"),
    ("docker.io", "dockerd"),
    ("debootstrap", "debootstrap"),
];

/// The commands of [`TOOLS`] that are on PATH.
fn present_commands() -> Vec<&'static str> {
    TOOLS
        .iter()
        .map(|(_, c)| *c)
        .filter(|c| {
            crate::toolchain::which(c).is_some()
                || (*c == "docker-registry" && pwoci::testing::TestRegistry::binary().is_some())
        })
        .collect()
}

/// Pure: from what the machine has to what must be installed and started.
pub fn plan(f: &Facts, w: &Want) -> Plan {
    let mut p = Plan::default();
    let has = |c: &str| f.commands.contains(&c);
    if w.cpp && !f.cpp {
        p.packages.extend(crate::toolchain::CPP_PACKAGES);
        p.reasons
            .push("clang with a wasm32-wasi sysroot, binaryen: the C++ builds".into());
    }
    if w.registry {
        let missing: Vec<&str> = ["docker-registry", "skopeo"]
            .into_iter()
            .filter(|c| !has(c))
            .collect();
        if !missing.is_empty() {
            p.packages.extend(&missing);
            p.reasons.push(format!(
                "{}: the registry push stage (a real registry on loopback)",
                missing.join(", ")
            ));
        }
    }
    if w.container {
        if !f.engine {
            p.start_engine = true;
            if !has("dockerd") {
                p.packages.push("docker.io");
            }
            p.reasons.push(
                "a container engine (none answers; a private Docker engine from docker.io is started for the \
                 run): container builds and verify-repro container vs local"
                    .into(),
            );
        }
        let images_ready = f.engine && f.images;
        if !images_ready && !has("debootstrap") {
            p.packages.push("debootstrap");
            p.reasons.push(
                "debootstrap: the builder images' Debian base (no base image can be pulled)".into(),
            );
        }
    }
    p
}

/// Why the plan cannot be carried out here, with the exact commands to run instead; `None` when it can.
pub fn blocked(f: &Facts, p: &Plan, w: &Want) -> Option<String> {
    // With an engine that answers, debootstrap is needed only if the base image cannot be pulled: `builder`
    // finds that out, and says what to install then.
    let must_install = p
        .packages
        .iter()
        .any(|k| !(f.engine && *k == "debootstrap"));
    let installs = must_install && !(f.root && f.apt);
    let engine = p.start_engine && !f.root;
    if !installs && !engine {
        return None;
    }
    let mut m = String::from(
        "`cargo xtask test` needs what this machine lacks, and installs and starts it itself only as root on \
         Debian/Ubuntu:\n",
    );
    for r in &p.reasons {
        m.push_str(&format!("  - {r}\n"));
    }
    m.push_str("run these, then `cargo xtask test` again:\n");
    if !p.packages.is_empty() {
        if f.apt {
            m.push_str(&format!(
                "  sudo apt-get install -y --no-install-recommends {}\n",
                p.packages.join(" ")
            ));
        } else {
            m.push_str(&format!(
                "  install with your package manager what Debian calls: {}\n",
                p.packages.join(" ")
            ));
        }
    }
    if p.start_engine {
        m.push_str(
            "  sudo systemctl start docker && sudo usermod -aG docker \"$USER\"   # then log in again \
             (or use rootless podman)\n",
        );
    }
    let mut outs = Vec::new();
    if w.container && (p.start_engine || p.packages.contains(&"debootstrap")) {
        outs.push("--no-container");
    }
    if w.registry
        && p.packages
            .iter()
            .any(|k| *k == "docker-registry" || *k == "skopeo")
    {
        outs.push("--no-registry");
    }
    if w.cpp && !f.cpp {
        outs.push("--no-cpp");
    }
    if !outs.is_empty() {
        m.push_str(&format!(
            "or skip the stages that need them: cargo xtask test {} (the last line then says what was skipped)",
            outs.join(" ")
        ));
    }
    Some(m.trim_end().to_string())
}

pub fn is_root() -> bool {
    crate::runner::output("id", &["-u"])
        .map(|u| u == "0")
        .unwrap_or(false)
}

pub fn has_apt() -> bool {
    crate::toolchain::which("apt-get").is_some()
}

/// `apt-get update` then `apt-get install -y --no-install-recommends PACKAGES`, after one status line naming them
/// and what they are for. Callers check root and apt first (see [`install_or_explain`]).
pub fn apt_install(ui: &Ui, purpose: &str, packages: &[&str]) -> Result<()> {
    ui.status(&format!(
        "installing {purpose}: apt-get install -y --no-install-recommends {}",
        packages.join(" ")
    ));
    let root = crate::project::root();
    let apt = |args: &[&str]| {
        crate::runner::run(
            &crate::plan::Cmd::new("apt-get", &root)
                .args(["-o", "DPkg::Lock::Timeout=600", "-q"])
                .args(args.iter().copied())
                .env("DEBIAN_FRONTEND", "noninteractive"),
            ui,
        )
    };
    apt(&["update"])?;
    let mut install = vec!["install", "-y", "--no-install-recommends"];
    install.extend(packages);
    apt(&install)
}

/// Install `packages` when root on Debian/Ubuntu; otherwise fail with the command to run.
pub fn install_or_explain(ui: &Ui, purpose: &str, packages: &[&str]) -> Result<()> {
    if is_root() && has_apt() {
        return apt_install(ui, purpose, packages);
    }
    bail!(
        "{purpose} needs {}: install it with `sudo apt-get install -y --no-install-recommends {}` (Debian/Ubuntu), \
         then run the command again",
        packages.join(", "),
        packages.join(" ")
    )
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// The private engine of this run, reachable from the signal handler.
static ENGINE: Mutex<Option<PrivateEngine>> = Mutex::new(None);

/// A signal (Ctrl-C, SIGTERM, SIGHUP) arrived: stages stop at the next boundary.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// On the first signal: stop the private engine, let the main thread clean up (it stops at the next stage
/// boundary), and exit with 130 after 10 s at the latest; on a second signal, exit at once.
fn install_signal_handler() -> Result<()> {
    ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("interrupted: stopping the private Docker engine, then the run");
        if let Some(mut e) = ENGINE.lock().unwrap_or_else(|p| p.into_inner()).take() {
            if let Some(msg) = e.stop() {
                eprintln!("{msg}");
            }
        }
        std::thread::sleep(Duration::from_secs(10));
        std::process::exit(130);
    })
    .map_err(|e| anyhow::anyhow!("installing the signal handler: {e}"))
}

/// What the test suite's stages run with; stops the private engine (if this run started or joined one) on drop.
pub struct Suite {
    ui: Ui,
    /// the engine container stages use (None with --no-container)
    pub engine: Option<Engine>,
}

impl Suite {
    /// Install what is missing, start the engine if none answers, make the builder images; or fail with the
    /// commands to run.
    pub fn prepare(want: Want, ui: &Ui) -> Result<Suite> {
        let langs: Vec<Lang> = if want.cpp {
            Lang::ALL.to_vec()
        } else {
            vec![Lang::Rust]
        };
        let existing = if want.container {
            Engine::detect(None).ok()
        } else {
            None
        };
        let images = match &existing {
            Some(e) => crate::builder::ensure(e, &langs, &Default::default(), false, ui)
                .map(|v| v.iter().all(|(_, _, how)| how == "reused"))
                .unwrap_or(false),
            None => false,
        };
        let facts = Facts {
            root: is_root(),
            apt: has_apt(),
            engine: existing.is_some(),
            images,
            cpp: crate::toolchain::find_cpp().is_some(),
            commands: present_commands(),
        };
        let p = plan(&facts, &want);
        if let Some(msg) = blocked(&facts, &p, &want) {
            bail!(msg);
        }
        if !p.packages.is_empty() && facts.root && facts.apt {
            apt_install(ui, "what the test suite needs", &p.packages)?;
        }
        let mut suite = Suite {
            ui: ui.clone(),
            engine: existing,
        };
        if p.start_engine {
            install_signal_handler()?;
            let private = PrivateEngine::start(PrivatePaths::from_env(), ui)?;
            *ENGINE.lock().unwrap_or_else(|p| p.into_inner()) = Some(private);
            suite.engine = Some(Engine::detect(None).map_err(|e| {
                e.context("the private Docker engine answers, but no docker CLI can talk to it")
            })?);
        }
        if let Some(engine) = &suite.engine {
            ui.status(&format!("container engine: {}", engine.describe()));
            for (lang, tag, how) in
                crate::builder::ensure(engine, &langs, &Default::default(), true, ui)?
            {
                ui.status(&format!("{lang} builder image {tag}: {how}"));
            }
        }
        Ok(suite)
    }
}

impl Drop for Suite {
    fn drop(&mut self) {
        let engine = ENGINE.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(mut e) = engine {
            if let Some(msg) = e.stop() {
                self.ui.status(&msg);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: Want = Want {
        container: true,
        registry: true,
        cpp: true,
    };

    fn fresh_root() -> Facts {
        Facts {
            root: true,
            apt: true,
            cpp: true,
            ..Facts::default()
        }
    }

    #[test]
    fn a_fresh_debian_machine_gets_one_apt_line_and_a_private_engine() {
        let p = plan(&fresh_root(), &ALL);
        assert_eq!(
            p.packages,
            ["docker-registry", "skopeo", "docker.io", "debootstrap"]
        );
        assert!(p.start_engine);
        assert_eq!(blocked(&fresh_root(), &p, &ALL), None);
        let no_cpp = Facts {
            cpp: false,
            ..fresh_root()
        };
        let p = plan(&no_cpp, &ALL);
        assert_eq!(p.packages[..2], ["clang", "lld"]);
        assert!(p.packages.contains(&"docker.io"));
    }

    #[test]
    fn nothing_is_installed_when_everything_is_there() {
        let f = Facts {
            engine: true,
            images: true,
            commands: vec!["docker-registry", "skopeo"],
            ..fresh_root()
        };
        assert_eq!(plan(&f, &ALL), Plan::default());
        // An engine that answers without builder images needs debootstrap, not docker.io.
        let f = Facts { images: false, ..f };
        let p = plan(&f, &ALL);
        assert_eq!(p.packages, ["debootstrap"]);
        assert!(!p.start_engine);
        // dockerd installed but not running: started, not installed.
        let f = Facts {
            engine: false,
            commands: vec!["docker-registry", "skopeo", "dockerd", "debootstrap"],
            ..fresh_root()
        };
        let p = plan(&f, &ALL);
        assert!(p.packages.is_empty() && p.start_engine, "{p:?}");
    }

    #[test]
    fn opt_outs_need_nothing() {
        let w = Want {
            container: false,
            registry: false,
            cpp: true,
        };
        let f = Facts {
            root: false,
            apt: true,
            cpp: true,
            ..Facts::default()
        };
        let p = plan(&f, &w);
        assert_eq!(p, Plan::default());
        assert_eq!(blocked(&f, &p, &w), None);
    }

    #[test]
    fn not_root_prints_the_exact_commands_and_the_opt_outs() {
        let f = Facts {
            root: false,
            ..fresh_root()
        };
        let p = plan(&f, &ALL);
        let m = blocked(&f, &p, &ALL).expect("blocked");
        assert!(
            m.contains(
                "sudo apt-get install -y --no-install-recommends docker-registry skopeo docker.io debootstrap"
            ),
            "{m}"
        );
        assert!(m.contains("sudo systemctl start docker"), "{m}");
        assert!(
            m.contains("cargo xtask test --no-container --no-registry"),
            "{m}"
        );
        // Not Debian: the packages are named, no apt line.
        let f = Facts { apt: false, ..f };
        let m = blocked(&f, &plan(&f, &ALL), &ALL).expect("blocked");
        assert!(
            m.contains("what Debian calls: docker-registry skopeo"),
            "{m}"
        );
        assert!(!m.contains("apt-get"), "{m}");
        // Root without apt can still start an engine it has, but cannot install.
        let f = Facts {
            root: true,
            apt: false,
            commands: vec!["dockerd", "debootstrap"],
            ..Facts::default()
        };
        let w = Want {
            registry: false,
            cpp: false,
            ..ALL
        };
        assert_eq!(blocked(&f, &plan(&f, &w), &w), None);
        // Not root, an engine without builder images: `builder` may still pull the base; not blocked here.
        let f = Facts {
            root: false,
            engine: true,
            commands: vec!["docker-registry", "skopeo"],
            ..fresh_root()
        };
        assert_eq!(plan(&f, &ALL).packages, ["debootstrap"]);
        assert_eq!(blocked(&f, &plan(&f, &ALL), &ALL), None);
    }
}
