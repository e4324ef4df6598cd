//! The container engine: worked out once (`Engine::detect`) and passed by reference.
//!
//! **Invariant:** this is the only module that creates engine commands (`Engine::cmd`, `Engine::command`); the
//! rest of xtask builds argument vectors and hands them here.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::plan::Cmd;

/// Which engine CLI we talk to. Capabilities are methods here, never scattered name checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    Docker,
    Podman,
}

impl EngineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EngineKind::Docker => "docker",
            EngineKind::Podman => "podman",
        }
    }

    /// `--user uid:gid` makes files on bind mounts belong to the caller. A rootless engine already maps the
    /// container's root to the caller, and a `--user` there would land on a sub-uid instead.
    pub fn wants_user_flag(self, rootless: bool) -> bool {
        !rootless
    }

    /// podman relabels bind mounts for SELinux with `:z`; docker accepts it too (and ignores it without SELinux).
    pub fn supports_selinux_relabel(self) -> bool {
        true
    }

    /// Guess the kind from the program's file name (`docker`, `/usr/bin/podman`, `podman-remote`).
    fn from_program(program: &Path) -> EngineKind {
        let name = program.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.contains("podman") {
            EngineKind::Podman
        } else {
            EngineKind::Docker
        }
    }
}

/// A reachable container engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engine {
    pub kind: EngineKind,
    /// the CLI to run (absolute when found on PATH)
    pub program: PathBuf,
    /// server version, for messages
    pub version: String,
    /// the engine maps container root to the caller (rootless podman or rootless docker)
    pub rootless: bool,
    /// `build --secret` works: BuildKit for docker (built into pre-23 CLIs with DOCKER_BUILDKIT=1, buildx after),
    /// always for podman
    pub buildkit: bool,
}

/// The message when nothing answers; shared by `build --container`, `builder` and `verify-repro`.
pub const NO_ENGINE: &str = "no container engine found; install docker or podman, or pass --local";

impl Engine {
    /// `--engine`, then `XTASK_ENGINE`, then docker, then podman. A value is `docker`, `podman` or a path to
    /// either CLI. `DOCKER_HOST` (and podman's `CONTAINER_HOST`) reach the CLI through the environment.
    pub fn detect(flag: Option<&str>) -> Result<Engine> {
        let env = std::env::var("XTASK_ENGINE").ok().filter(|s| !s.is_empty());
        let (explicit, source) = match (flag, env.as_deref()) {
            (Some(f), _) => (Some(f.to_string()), "--engine"),
            (None, Some(e)) => (Some(e.to_string()), "XTASK_ENGINE"),
            (None, None) => (None, ""),
        };
        if let Some(name) = explicit {
            let candidates = candidates(&name);
            if candidates.is_empty() {
                bail!("container engine `{name}` (from {source}) is not installed; install it or pass --local");
            }
            let mut last = None;
            for c in candidates {
                match probe(&c) {
                    Ok(e) if e.buildkit => return Ok(e),
                    Ok(e) => last = last.or(Some(Ok(e))),
                    Err(err) => last = last.or(Some(Err(err))),
                }
            }
            return last.expect("at least one candidate").with_context(|| {
                format!("container engine `{name}` (from {source}) is not reachable; start it or pass --local")
            });
        }
        // Several `docker` CLIs may be on PATH (a new client without buildx, Debian's with built-in BuildKit):
        // prefer one that can build with secrets, then any that answers.
        for name in ["docker", "podman"] {
            let mut fallback = None;
            for c in candidates(name) {
                if let Ok(e) = probe(&c) {
                    if e.buildkit {
                        return Ok(e);
                    }
                    fallback = fallback.or(Some(e));
                }
            }
            if let Some(e) = fallback {
                return Ok(e);
            }
        }
        bail!(NO_ENGINE)
    }

    /// `docker 20.10.24 (/usr/bin/docker)`
    pub fn describe(&self) -> String {
        format!(
            "{} {} ({}{})",
            self.kind.as_str(),
            self.version,
            self.program.display(),
            if self.rootless { ", rootless" } else { "" }
        )
    }

    /// An engine command as a printable, runnable [`Cmd`] (for `runner::run`).
    pub fn cmd<I, S>(&self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut c =
            Cmd::new(self.program.display().to_string(), &crate::project::root()).args(args);
        if self.kind == EngineKind::Docker && self.buildkit {
            c = c.env("DOCKER_BUILDKIT", "1");
        }
        c
    }

    /// An engine command as a `std::process::Command`, for probes whose output we read.
    pub fn command(&self) -> Command {
        let mut c = Command::new(&self.program);
        if self.kind == EngineKind::Docker && self.buildkit {
            c.env("DOCKER_BUILDKIT", "1");
        }
        c
    }

    /// Run an engine command and return its trimmed stdout; failures carry the command and stderr.
    pub fn output(&self, args: &[&str]) -> Result<String> {
        let out = self
            .command()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("starting `{}`", self.program.display()))?;
        if !out.status.success() {
            bail!(
                "`{} {}` failed ({}): {}",
                self.program.display(),
                args.join(" "),
                out.status,
                tail(&String::from_utf8_lossy(&out.stderr), 10)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Whether an image (by tag or id) is present locally.
    pub fn has_image(&self, reference: &str) -> bool {
        self.command()
            .args(["image", "inspect", "--format", "{{.Id}}", reference])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }
}

/// The programs `name` may mean: a path as given, or every match on PATH (in PATH order, deduplicated).
fn candidates(name: &str) -> Vec<PathBuf> {
    if name.contains('/') {
        let p = PathBuf::from(name);
        return if p.is_file() { vec![p] } else { Vec::new() };
    }
    let Some(path) = std::env::var_os("PATH") else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = Vec::new();
    for dir in std::env::split_paths(&path) {
        let p = dir.join(name);
        if p.is_file() {
            let real = std::fs::canonicalize(&p).unwrap_or_else(|_| p.clone());
            if !out
                .iter()
                .any(|o| std::fs::canonicalize(o).unwrap_or_else(|_| o.clone()) == real)
            {
                out.push(p);
            }
        }
    }
    out
}

/// Ask one CLI whether its engine answers, and what it can do.
fn probe(program: &Path) -> Result<Engine> {
    let kind = EngineKind::from_program(program);
    match kind {
        EngineKind::Docker => {
            let v = run_with_timeout(
                program,
                &[
                    "version",
                    "--format",
                    "{{.Client.Version}}|{{.Server.Version}}",
                ],
                &[],
            )?;
            let (client, server) = v.split_once('|').unwrap_or((v.as_str(), ""));
            if server.is_empty() {
                bail!("`{}` answered without a server version", program.display());
            }
            let major: u32 = client
                .split('.')
                .next()
                .and_then(|m| m.parse().ok())
                .unwrap_or(0);
            // Before 23 the CLI has BuildKit built in (DOCKER_BUILDKIT=1); from 23 on it needs the buildx plugin,
            // and DOCKER_BUILDKIT=1 without buildx is an error, so `cmd` sets it only when this holds.
            let buildkit =
                major < 23 || run_with_timeout(program, &["buildx", "version"], &[]).is_ok();
            let sec = run_with_timeout(
                program,
                &["info", "--format", "{{json .SecurityOptions}}"],
                &[],
            )
            .unwrap_or_default();
            Ok(Engine {
                kind,
                program: program.to_path_buf(),
                version: server.to_string(),
                rootless: rootless_override().unwrap_or_else(|| sec.contains("rootless")),
                buildkit,
            })
        }
        EngineKind::Podman => {
            let info = run_with_timeout(
                program,
                &[
                    "info",
                    "--format",
                    "{{.Version.Version}}|{{.Host.Security.Rootless}}",
                ],
                &[],
            )?;
            let (version, rootless) = info.split_once('|').unwrap_or((info.as_str(), "false"));
            Ok(Engine {
                kind,
                program: program.to_path_buf(),
                version: version.to_string(),
                rootless: rootless_override().unwrap_or(rootless == "true"),
                buildkit: true,
            })
        }
    }
}

/// `XTASK_ROOTLESS=0|1` overrides detection (`auto` or unset: detect).
fn rootless_override() -> Option<bool> {
    parse_rootless(std::env::var("XTASK_ROOTLESS").ok().as_deref())
}

fn parse_rootless(v: Option<&str>) -> Option<bool> {
    match v.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        Some("1" | "true" | "yes") => Some(true),
        Some("0" | "false" | "no") => Some(false),
        _ => None,
    }
}

/// Run a probe, giving up after 20 s (a CLI pointed at a dead remote host can hang).
fn run_with_timeout(program: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<String> {
    let mut c = Command::new(program);
    c.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c
        .spawn()
        .with_context(|| format!("starting `{}`", program.display()))?;
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            let out = child.wait_with_output()?;
            if !status.success() {
                bail!(
                    "`{} {}` failed: {}",
                    program.display(),
                    args.join(" "),
                    tail(&String::from_utf8_lossy(&out.stderr), 5)
                );
            }
            return Ok(String::from_utf8_lossy(&out.stdout).trim().to_string());
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "`{} {}` did not answer within 20 s",
                program.display(),
                args.join(" ")
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.trim().lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_is_taken_from_the_program_name() {
        assert_eq!(
            EngineKind::from_program(Path::new("/usr/bin/podman")),
            EngineKind::Podman
        );
        assert_eq!(
            EngineKind::from_program(Path::new("podman-remote")),
            EngineKind::Podman
        );
        assert_eq!(
            EngineKind::from_program(Path::new("/usr/local/bin/docker")),
            EngineKind::Docker
        );
    }

    #[test]
    fn rootless_engines_get_no_user_flag() {
        assert!(EngineKind::Docker.wants_user_flag(false));
        assert!(!EngineKind::Podman.wants_user_flag(true));
        assert!(!EngineKind::Docker.wants_user_flag(true));
    }

    #[test]
    fn various_rootless_configs() {
        for (v, want) in [
            (None, None),
            (Some("auto"), None),
            (Some("1"), Some(true)),
            (Some("TRUE"), Some(true)),
            (Some("0"), Some(false)),
            (Some("no"), Some(false)),
        ] {
            assert_eq!(parse_rootless(v), want, "{v:?}");
        }
    }

    #[test]
    fn an_explicit_missing_engine_is_named() {
        let err = Engine::detect(Some("/nonexistent/podman"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`/nonexistent/podman` (from --engine) is not installed"),
            "{err}"
        );
    }
}
