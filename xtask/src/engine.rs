//! The container engine: worked out once (`Engine::detect`) and passed by reference.
//!
//! **Invariant:** this is the only module that creates engine commands (`Engine::cmd`, `Engine::command`); the
//! rest of xtask builds argument vectors and hands them here.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::plan::Cmd;
use crate::ui::Ui;

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

/// A Docker engine of our own: Debian's `dockerd` (package docker.io) on a private socket, for machines where no
/// engine answers (`cargo xtask test` starts one; see `setup.rs`). Never the default socket: the socket, pid file,
/// exec root and log live in `/run/pwbuild/<hash of the data root>/`; the data root (images, build caches) lives
/// in a cache folder so builder images survive between runs: `$XTASK_DOCKER_DATA`, else
/// `$XDG_CACHE_HOME/pwbuild/docker`, else `~/.cache/pwbuild/docker`.
///
/// Debian's CLI (`/usr/bin/docker`, 20.10) talks to this daemon's built-in BuildKit; a newer CLI without buildx
/// cannot build with secrets, and `Engine::detect` already prefers the one that can.
///
/// Several xtask runs may share one engine: each holds a shared lock on `users` while it uses it, and whoever
/// leaves last stops it (`lock` serialises starting and stopping). dockerd runs in its own process group, so a
/// Ctrl-C in the terminal reaches xtask, which stops the engine in order, rather than the daemon directly.
#[derive(Debug)]
pub struct PrivateEngine {
    pub paths: PrivatePaths,
    users: Option<std::fs::File>,
    /// the daemon, when this run started it
    child: Option<std::process::Child>,
}

/// Where a private engine keeps its things.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivatePaths {
    pub data_root: PathBuf,
    pub run_dir: PathBuf,
}

impl PrivatePaths {
    /// The paths for this user's environment (see [`PrivateEngine`]).
    pub fn from_env() -> PrivatePaths {
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let data_root = var("XTASK_DOCKER_DATA").unwrap_or_else(|| {
            var("XDG_CACHE_HOME")
                .or_else(|| var("HOME").map(|h| h.join(".cache")))
                .unwrap_or_else(|| PathBuf::from("/var/cache"))
                .join("pwbuild/docker")
        });
        PrivatePaths::for_data_root(data_root)
    }

    pub fn for_data_root(data_root: PathBuf) -> PrivatePaths {
        use sha2::{Digest, Sha256};
        let hash = crate::build::hex(&Sha256::digest(data_root.as_os_str().as_encoded_bytes()));
        PrivatePaths {
            run_dir: PathBuf::from("/run/pwbuild").join(&hash[..12]),
            data_root,
        }
    }

    pub fn socket(&self) -> PathBuf {
        self.run_dir.join("docker.sock")
    }

    /// `DOCKER_HOST` for clients.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    pub fn pidfile(&self) -> PathBuf {
        self.run_dir.join("docker.pid")
    }

    pub fn log(&self) -> PathBuf {
        self.run_dir.join("dockerd.log")
    }

    /// The daemon's arguments (after `dockerd`). Pure: unit-tested.
    pub fn daemon_args(&self) -> Vec<String> {
        vec![
            "--data-root".into(),
            self.data_root.display().to_string(),
            "--exec-root".into(),
            self.run_dir.join("exec").display().to_string(),
            "--host".into(),
            self.host(),
            "--pidfile".into(),
            self.pidfile().display().to_string(),
            // Containers still running when the engine stops get this long to end before they are killed.
            "--shutdown-timeout".into(),
            "10".into(),
        ]
    }

    /// Whether a daemon answers on the socket (`GET /_ping`).
    pub fn answers(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut s) = std::os::unix::net::UnixStream::connect(self.socket()) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = s.set_write_timeout(Some(Duration::from_secs(5)));
        if s.write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            .is_err()
        {
            return false;
        }
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        answer.starts_with("HTTP/1.") && answer.contains(" 200 ")
    }
}

impl PrivateEngine {
    /// Start the private engine (or join the one another xtask run started) and point this process and its
    /// children at it (`DOCKER_HOST`). Needs root and `dockerd`.
    pub fn start(paths: PrivatePaths, ui: &Ui) -> Result<PrivateEngine> {
        let dockerd = crate::toolchain::which("dockerd").context(
            "dockerd is not installed; install Debian's docker.io (`apt-get install docker.io`) or start a \
             container engine yourself",
        )?;
        for d in [&paths.run_dir, &paths.data_root] {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
        }
        let lock = open_lock(&paths.run_dir.join("lock"))?;
        lock.lock()
            .with_context(|| format!("locking {}", paths.run_dir.join("lock").display()))?;
        if std::env::var_os("DOCKER_HOST").is_some_and(|h| h != paths.host().as_str()) {
            ui.status(&format!(
                "DOCKER_HOST={} does not answer; using the private engine instead",
                std::env::var("DOCKER_HOST").unwrap_or_default()
            ));
        }
        // Set once, before any stage runs a child: every engine client from here on (ours, cargo test's) uses it.
        std::env::set_var("DOCKER_HOST", paths.host());
        let mut child = None;
        if paths.answers() {
            ui.status(&format!(
                "reusing the private Docker engine already running on {} (data root {})",
                paths.socket().display(),
                paths.data_root.display()
            ));
        } else {
            clear_stale_pidfile(&paths.pidfile());
            let _ = std::fs::remove_file(paths.socket());
            ui.status(&format!(
                "starting a private Docker engine: {} {} (stopped when this run ends; log {})",
                dockerd.display(),
                paths.daemon_args().join(" "),
                paths.log().display()
            ));
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(paths.log())
                .with_context(|| format!("opening {}", paths.log().display()))?;
            use std::os::unix::process::CommandExt;
            let mut c = Command::new(&dockerd)
                .args(paths.daemon_args())
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log)
                .process_group(0)
                .spawn()
                .with_context(|| format!("starting {}", dockerd.display()))?;
            let start = Instant::now();
            loop {
                if let Some(status) = c.try_wait()? {
                    bail!(
                        "the private Docker engine exited at start ({status}); its log ({}) ends:\n{}",
                        paths.log().display(),
                        tail(&std::fs::read_to_string(paths.log()).unwrap_or_default(), 15)
                    );
                }
                if paths.answers() {
                    break;
                }
                if start.elapsed() > Duration::from_secs(60) {
                    let mut e = PrivateEngine {
                        paths: paths.clone(),
                        users: None,
                        child: Some(c),
                    };
                    e.terminate();
                    bail!(
                        "the private Docker engine did not answer on {} within 60 s; its log ({}) ends:\n{}",
                        paths.socket().display(),
                        paths.log().display(),
                        tail(&std::fs::read_to_string(paths.log()).unwrap_or_default(), 15)
                    );
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            ui.status(&format!(
                "private Docker engine ready in {:.1}s (pid {})",
                start.elapsed().as_secs_f64(),
                c.id()
            ));
            child = Some(c);
        }
        let users = open_lock(&paths.run_dir.join("users"))?;
        users
            .lock_shared()
            .context("registering as a user of the private engine")?;
        drop(lock);
        Ok(PrivateEngine {
            paths,
            users: Some(users),
            child,
        })
    }

    /// Leave the engine; stop it when no other xtask run uses it. Returns what was done, for a status line.
    pub fn stop(&mut self) -> Option<String> {
        let users = self.users.take()?;
        drop(users);
        let lock = open_lock(&self.paths.run_dir.join("lock")).ok()?;
        let _ = lock.lock();
        let users = open_lock(&self.paths.run_dir.join("users")).ok()?;
        match users.try_lock() {
            Ok(()) => {}
            Err(_) => {
                self.child = None;
                return Some(format!(
                    "left the private Docker engine on {} running: another xtask run still uses it (it stops it)",
                    self.paths.socket().display()
                ));
            }
        }
        let pid = self.terminate();
        Some(match pid {
            Some(pid) => format!(
                "stopped the private Docker engine (pid {pid}); images stay in {}",
                self.paths.data_root.display()
            ),
            None => "the private Docker engine had already stopped".to_string(),
        })
    }

    /// SIGTERM the daemon and wait for it (SIGKILL after 30 s); the pid of what was stopped.
    fn terminate(&mut self) -> Option<u32> {
        let pid = match &self.child {
            Some(c) => c.id(),
            None => read_pid(&self.paths.pidfile())?,
        };
        if !alive(pid) && self.child.is_none() {
            return None;
        }
        signal(pid, libc::SIGTERM);
        let start = Instant::now();
        loop {
            let gone = match &mut self.child {
                Some(c) => c.try_wait().map(|s| s.is_some()).unwrap_or(true),
                None => !alive(pid),
            };
            if gone {
                break;
            }
            if start.elapsed() > Duration::from_secs(30) {
                signal(pid, libc::SIGKILL);
                if let Some(c) = &mut self.child {
                    let _ = c.wait();
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.child = None;
        Some(pid)
    }
}

impl Drop for PrivateEngine {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

fn open_lock(path: &Path) -> Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))
}

fn read_pid(pidfile: &Path) -> Option<u32> {
    std::fs::read_to_string(pidfile).ok()?.trim().parse().ok()
}

/// A process that exists and is not a zombie.
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // `pid (comm) S ...`: the state follows the last `)`.
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
            .unwrap_or(false),
        Err(_) => false,
    }
}

fn signal(pid: u32, sig: i32) {
    if let Ok(pid) = i32::try_from(pid) {
        // SAFETY: kill(2) has no memory effects; the pid is the daemon's, from its child handle or pid file.
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

/// dockerd refuses to start while its pid file names a live process; a file left by a killed daemon goes.
fn clear_stale_pidfile(pidfile: &Path) {
    if let Some(pid) = read_pid(pidfile) {
        if !alive(pid) {
            let _ = std::fs::remove_file(pidfile);
        }
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
    fn the_private_engine_never_uses_the_default_socket() {
        let p = PrivatePaths::for_data_root("/root/.cache/pwbuild/docker".into());
        let args = p.daemon_args().join(" ");
        assert!(
            args.starts_with("--data-root /root/.cache/pwbuild/docker --exec-root /run/pwbuild/"),
            "{args}"
        );
        assert!(p.host().starts_with("unix:///run/pwbuild/") && p.host().ends_with("/docker.sock"));
        assert!(
            !args.contains("/var/run/docker.sock") && !args.contains("/var/lib/docker"),
            "{args}"
        );
        assert!(args.contains(&format!("--host {}", p.host())), "{args}");
        // One data root, one runtime folder; another data root gets its own engine.
        assert_eq!(
            p,
            PrivatePaths::for_data_root("/root/.cache/pwbuild/docker".into())
        );
        assert_ne!(
            p.run_dir,
            PrivatePaths::for_data_root("/srv/docker".into()).run_dir
        );
        // Unix socket paths are limited to 107 bytes.
        assert!(p.socket().as_os_str().len() < 108);
    }

    #[test]
    fn a_process_is_alive_until_reaped() {
        assert!(alive(std::process::id()));
        let mut c = Command::new("true").spawn().unwrap();
        let pid = c.id();
        c.wait().unwrap();
        assert!(!alive(pid));
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
