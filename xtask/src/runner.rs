//! The one place build steps run. `Runner::Local` uses the host's toolchains; the container runner plugs in
//! here as another variant and runs the very same [`Step`]s.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use crate::plan::{BuildEnv, Cmd, CppToolchain, Step};
use crate::ui::Ui;

#[derive(Debug, Clone)]
pub enum Runner {
    /// Host toolchains.
    Local,
    /// A builder image per language, through a container engine (see `container.rs`).
    Container(Box<crate::container::Container>),
}

impl Runner {
    pub fn describe(&self) -> String {
        match self {
            Runner::Local => "local toolchains".into(),
            Runner::Container(c) => c.describe(),
        }
    }

    /// The runner for building `lang` (a container runner switches to that language's builder image).
    pub fn for_lang(&self, lang: crate::flags::Lang) -> Runner {
        match self {
            Runner::Local => Runner::Local,
            Runner::Container(c) => Runner::Container(Box::new(c.for_lang(lang))),
        }
    }

    /// The paths build tools see under this runner.
    pub fn env(&self, root: &Path, cpp: Option<CppToolchain>) -> BuildEnv {
        match self {
            Runner::Local => BuildEnv {
                root: root.to_path_buf(),
                host_root: root.to_path_buf(),
                cargo_home: cargo_home(),
                target_dir: std::env::var_os("CARGO_TARGET_DIR")
                    .map(Into::into)
                    .unwrap_or_else(|| root.join("target")),
                out_dir: crate::project::out_dir(root),
                unique: format!("{}", std::process::id()),
                cargo: std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()),
                cpp,
            },
            // The builder images fix the paths and the toolchain; `root` is already in the runner.
            Runner::Container(c) => c.env(),
        }
    }

    pub fn execute(&self, step: &Step, ui: &Ui) -> Result<()> {
        match self {
            Runner::Local => match step {
                Step::Mkdir(p) => {
                    std::fs::create_dir_all(p).with_context(|| format!("creating {}", p.display()))
                }
                Step::Run(cmd) => run(cmd, ui),
                Step::Install { from, to } => install(from, to),
            },
            Runner::Container(c) => c.execute(step, ui),
        }
    }
}

fn cargo_home() -> std::path::PathBuf {
    if let Some(h) = std::env::var_os("CARGO_HOME") {
        return h.into();
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
    Path::new(&home).join(".cargo")
}

/// Run a command; its output goes to the terminal unless quiet, in which case the tail of stderr is kept
/// for the error.
pub fn run(cmd: &Cmd, ui: &Ui) -> Result<()> {
    ui.command(&cmd.to_string());
    let mut c = Command::new(&cmd.program);
    c.args(&cmd.args).current_dir(&cmd.cwd);
    for (k, v) in &cmd.env {
        c.env(k, v);
    }
    if ui.quiet {
        c.stdout(Stdio::null()).stderr(Stdio::piped());
    }
    let mut child = c
        .spawn()
        .with_context(|| format!("starting `{}` (is it installed?)", cmd.program))?;
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    let status = child
        .wait()
        .with_context(|| format!("waiting for `{}`", cmd.program))?;
    if !status.success() {
        let tail: Vec<&str> = stderr.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "command failed ({status}): {cmd}{}",
            if tail.is_empty() {
                String::new()
            } else {
                format!("\n{}", tail.join("\n"))
            }
        );
    }
    Ok(())
}

/// Capture a command's stdout (for probes such as `rustc --print sysroot`).
pub fn output(program: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(program)
        .args(args)
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("starting `{program}`"))?;
    if !out.status.success() {
        bail!(
            "`{program} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Copy `from` to `to` through a temp file in `to`'s folder and a rename: readers see the old file or the new
/// one, never half of one. `from` must be a wasm module.
pub fn install(from: &Path, to: &Path) -> Result<()> {
    let bytes =
        std::fs::read(from).with_context(|| format!("reading build output {}", from.display()))?;
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        bail!(
            "build output {} is not a wasm module (bad magic); the previous artifact was kept",
            from.display()
        );
    }
    write_atomic(to, &bytes)
}

pub fn write_atomic(to: &Path, bytes: &[u8]) -> Result<()> {
    let dir = to.parent().context("output path has no folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = to.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| -> Result<()> {
        let mut f =
            std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        f.write_all(bytes)
            .with_context(|| format!("writing {}", tmp.display()))?;
        f.sync_all()
            .with_context(|| format!("syncing {}", tmp.display()))?;
        std::fs::rename(&tmp, to)
            .with_context(|| format!("renaming {} to {}", tmp.display(), to.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
