//! `cargo xtask bench`: benchmarks anyone can rerun. Comparisons are measured side by side in one run (samples
//! of the things compared are interleaved), because machines are noisy and ratios hold better than times.
//!
//! Sections:
//! - **build**: wall time of `cargo xtask build` (this binary, run as a subprocess with its own
//!   `CARGO_TARGET_DIR`) per language and runner: cold (fresh target folder; cargo's registry cache stays warm),
//!   no change, and warm after an edit (a comment appended to the plug-in's source, restored byte for byte by a
//!   guard); and `build --all` cold and with no change.
//! - **size**: `plugin.wasm` bytes of every plug-in in every language.
//! - **host**: requests/s, p50 and p99 per request through `pwhost bench` for every plug-in and language, beside
//!   a native Rust baseline of the same decision logic (`pwbench`, see `bench/`) where one exists.
//! - **images**: `pwoci::package` + layout write, and push to a loopback registry (Debian's `docker-registry`).
//!
//! `--quick` is a smoke run: fewer iterations, no cold builds, no container runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::Serialize;

use crate::flags::{self, Lang};
use crate::project::{self, Plugin};
use crate::ui::Ui;

/// The plug-in whose builds are timed per language (it has a Rust and a C++ version).
const BUILD_PLUGIN: &str = "request-block";
/// The plug-ins packaged and pushed.
const IMAGE_PLUGIN: &str = "request-block";
/// Plug-ins `--quick` measures in the host.
const QUICK_HOST: &[&str] = &["request-block", "say-hello", "hello-world"];
/// Plug-ins `pwbench` has a native baseline for.
const NATIVE: &[&str] = &["request-block", "say-hello"];
/// The configuration example of `extensions/request-block/README.md`: every kind of rule, case-insensitive,
/// with a domain rule, so matching does real work.
const REQUEST_BLOCK_README_CONFIG: &str = r#"{"block_urls":["swagger.html"],"block_regexp_urls":[".*\\.(php|jsp)(\\?.*)?"],"block_headers":["user-agent: evilbot"],"block_bodies":["DROP TABLE"],"blocked_code":403,"blocked_message":"blocked","case_sensitive":false,"_rules_":[{"_match_domain_":["trusted.local"],"_disable_":true}]}"#;
/// The marker line the warm-after-edit probe appends (a comment in both Rust and C++).
const EDIT_MARKER: &str = "// xtask bench: warm-after-edit probe (removed after the build)";
/// The request path `pwhost bench` and `pwbench` use by default.
const DEFAULT_PATH: &str = "/api/items?id=1";

/// Iteration counts; `--quick` shrinks them.
#[derive(Debug, Clone, Copy, Serialize)]
struct Iterations {
    no_change: usize,
    edit: usize,
    host_rounds: usize,
    host_requests: usize,
    native_requests: usize,
    package: usize,
    push: usize,
}

impl Iterations {
    fn new(quick: bool) -> Self {
        if quick {
            Iterations {
                no_change: 1,
                edit: 1,
                host_rounds: 1,
                host_requests: 2_000,
                native_requests: 20_000,
                package: 5,
                push: 2,
            }
        } else {
            Iterations {
                no_change: 3,
                edit: 3,
                host_rounds: 3,
                host_requests: 20_000,
                native_requests: 200_000,
                package: 20,
                push: 5,
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// The JSON report

#[derive(Debug, Default, Serialize)]
struct Report {
    schema: u32,
    quick: bool,
    started_unix: u64,
    duration_s: f64,
    machine: Machine,
    iterations: Option<Iterations>,
    notes: Vec<String>,
    build: Vec<BuildRow>,
    skipped: Vec<Skipped>,
    size: Vec<SizeRow>,
    host: Option<HostSection>,
    images: Vec<ImageRow>,
    errors: Vec<String>,
}

#[derive(Debug, Default, Serialize)]
struct Machine {
    nproc: usize,
    loadavg_start: String,
    loadavg_end: String,
    os: String,
    rustc: String,
    commit: String,
    dirty: bool,
}

#[derive(Debug, Serialize)]
struct Skipped {
    section: String,
    what: String,
    reason: String,
}

#[derive(Debug, Clone, Serialize)]
struct BuildRow {
    runner: String,
    /// `request-block` or `--all`
    target: String,
    /// `rust`, `cpp`, or `all`
    lang: String,
    /// `cold`, `no-change` or `warm-after-edit`
    kind: String,
    samples_s: Vec<f64>,
    median_s: Option<f64>,
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct SizeRow {
    plugin: String,
    lang: String,
    bytes: Option<u64>,
    sha256: Option<String>,
}

#[derive(Debug, Serialize)]
struct HostSection {
    host_binary: String,
    /// `release` (full run) or `dev` (`--quick`: the conformance host, whose own code is unoptimised)
    host_profile: String,
    native_binary: String,
    results: Vec<HostRow>,
}

#[derive(Debug, Clone, Serialize)]
struct HostRow {
    plugin: String,
    scenario: String,
    /// `rust`, `cpp` or `native`
    implementation: String,
    config: String,
    path: String,
    requests: usize,
    /// medians over rounds
    rps: Option<f64>,
    p50_ns: Option<f64>,
    p99_ns: Option<f64>,
    /// local responses of the last round (the plug-in answered itself: blocked, greeted, refused)
    local_responses: Option<usize>,
    /// this row's p50 over the native baseline's p50 (same scenario, same run)
    p50_vs_native: Option<f64>,
    /// the native baseline's requests/s over this row's
    rps_native_over_this: Option<f64>,
    rounds: Vec<HostSample>,
    error: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize)]
struct HostSample {
    rps: f64,
    p50_ns: f64,
    p99_ns: f64,
    local_responses: usize,
}

#[derive(Debug, Serialize)]
struct ImageRow {
    plugin: String,
    lang: String,
    /// `package+layout oci`, `package+layout compat`, `push (new repository)`, `push (blobs present)`
    operation: String,
    wasm_bytes: u64,
    samples_s: Vec<f64>,
    median_s: Option<f64>,
    error: Option<String>,
}

// ---------------------------------------------------------------------------------------------------------

impl flags::Bench {
    pub fn run(self, ui: &Ui) -> Result<()> {
        let root = project::root();
        let started = Instant::now();
        let json_path = self
            .json
            .clone()
            .unwrap_or_else(|| project::out_dir(&root).join("bench").join("bench.json"));
        let sections: Vec<flags::BenchSection> = if self.only.is_empty() {
            flags::BenchSection::ALL.to_vec()
        } else {
            self.only.clone()
        };
        let it = Iterations::new(self.quick);
        let mut report = Report {
            schema: 1,
            quick: self.quick,
            started_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            iterations: Some(it),
            machine: machine(&root),
            ..Report::default()
        };
        report.notes.push(
            "build times are the wall time of the xtask binary running `build` (cargo's check that xtask is \
             up to date is not included); cold = fresh CARGO_TARGET_DIR, with cargo's registry cache (and the \
             container runner's cargo volumes) left warm"
                .into(),
        );
        report.notes.push(
            "C++ builds have no incremental cache: every C++ build compiles all its sources, so its cold, \
             no-change and warm-after-edit times are alike"
                .into(),
        );
        report.notes.push(format!(
            "this machine has {} CPU(s) and is shared: load average at start {}",
            report.machine.nproc, report.machine.loadavg_start
        ));
        let base = crate::container::target_base(&root).join("bench");
        let scratch = Scratch::new(&base.join(format!("run-{}", std::process::id())))?;
        let exe = scratch.copy_exe()?;
        recover_edits(&root, ui);

        // A full run measures current artifacts: `build --all` (timed in the build section, else untimed here).
        // --quick never builds everything: it uses out/ as it is and builds only what is missing.
        let mut fresh = false;
        if sections.contains(&flags::BenchSection::Build) {
            fresh = bench_build(&root, &exe, &scratch, &it, self.quick, ui, &mut report);
        }
        if !self.quick && !fresh && sections.iter().any(|s| *s != flags::BenchSection::Build) {
            ensure_built(&root, &exe, ui, &mut report);
        }
        if self.quick && sections.iter().any(|s| *s != flags::BenchSection::Build) {
            report.notes.push(
                "--quick measures out/ as it is (missing artifacts are built): a stale plugin.wasm is not rebuilt"
                    .into(),
            );
        }
        if sections.contains(&flags::BenchSection::Size) {
            bench_size(&root, &mut report);
        }
        if sections.contains(&flags::BenchSection::Host) {
            if let Err(e) = bench_host(&root, &exe, &it, self.quick, ui, &mut report) {
                report.errors.push(format!("host: {e:#}"));
            }
        }
        if sections.contains(&flags::BenchSection::Images) {
            ensure_present(&root, &exe, &[IMAGE_PLUGIN], ui, &mut report);
            bench_images(&root, &scratch, &it, ui, &mut report);
        }
        drop(scratch);

        report.machine.loadavg_end = loadavg();
        report.duration_s = started.elapsed().as_secs_f64();
        print_table(&report, ui);
        let text = serde_json::to_vec_pretty(&report).context("serialising the bench report")?;
        crate::runner::write_atomic(&json_path, &text)
            .with_context(|| format!("writing {}", json_path.display()))?;
        ui.result(&format!("JSON: {}", json_path.display()));
        if !report.errors.is_empty() {
            bail!(crate::Failure(format!(
                "{} measurement(s) failed:\n  {}",
                report.errors.len(),
                report.errors.join("\n  ")
            )));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------------------
// Scratch space, the xtask copy, edits

/// A folder for this run (fresh target folders, layouts, a copy of xtask), removed on drop.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(dir: &Path) -> Result<Self> {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Scratch {
            dir: dir.to_path_buf(),
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// A copy of this binary: a concurrent `cargo xtask` rebuild cannot swap it out from under the timings.
    fn copy_exe(&self) -> Result<PathBuf> {
        let me = std::env::current_exe().context("finding the xtask binary")?;
        let to = self.path("xtask");
        std::fs::copy(&me, &to)
            .with_context(|| format!("copying {} to {}", me.display(), to.display()))?;
        Ok(to)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            eprintln!(
                "warning: could not remove the bench scratch folder {}: {e}; delete it by hand",
                self.dir.display()
            );
        }
    }
}

/// Appends [`EDIT_MARKER`] to a source file; on drop puts the exact original bytes back. If someone else changed
/// the file meanwhile, only the marker line is taken out (their change is kept).
struct EditGuard {
    path: PathBuf,
    original: Vec<u8>,
    edited: Vec<u8>,
}

impl EditGuard {
    fn append(path: &Path, n: usize) -> Result<Self> {
        let original =
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let mut edited = original.clone();
        edited.extend_from_slice(format!("\n{EDIT_MARKER} {n}\n").as_bytes());
        std::fs::write(path, &edited).with_context(|| format!("editing {}", path.display()))?;
        Ok(EditGuard {
            path: path.to_path_buf(),
            original,
            edited,
        })
    }
}

impl Drop for EditGuard {
    fn drop(&mut self) {
        let now = std::fs::read(&self.path).unwrap_or_default();
        let restored = if now == self.edited {
            self.original.clone()
        } else {
            strip_marker(&now)
        };
        if let Err(e) = std::fs::write(&self.path, &restored) {
            eprintln!(
                "warning: could not restore {}: {e}; remove the line starting `{EDIT_MARKER}` by hand",
                self.path.display()
            );
        }
    }
}

/// The bytes without a trailing `\n<marker> N\n` (as [`EditGuard::append`] adds).
fn strip_marker(bytes: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    let needle = format!("\n{EDIT_MARKER}");
    match text.rfind(&needle) {
        Some(i) if !text[i + 1..].trim_end().contains('\n') => bytes[..i].to_vec(),
        _ => bytes.to_vec(),
    }
}

/// The source file the warm-after-edit probe touches.
fn edit_target(root: &Path, plugin: &Plugin, lang: Lang) -> Result<PathBuf> {
    let dir = plugin.dir(root);
    match lang {
        Lang::Rust => Ok(dir.join("rust").join("src").join("lib.rs")),
        Lang::Cpp => project::cpp_sources(&dir.join("cpp"))?
            .into_iter()
            .next()
            .with_context(|| format!("plug-in `{}` has no C++ source", plugin.name)),
    }
}

/// A run killed mid-edit (Ctrl-C skips destructors) leaves the marker behind: take it out first.
fn recover_edits(root: &Path, ui: &Ui) {
    let Ok(all) = project::plugins(root) else {
        return;
    };
    let Ok(p) = project::find(&all, BUILD_PLUGIN) else {
        return;
    };
    for &l in &p.langs {
        let Ok(f) = edit_target(root, p, l) else {
            continue;
        };
        let Ok(bytes) = std::fs::read(&f) else {
            continue;
        };
        let stripped = strip_marker(&bytes);
        if stripped != bytes {
            ui.warn(&format!(
                "removing a warm-after-edit probe line an interrupted bench left in {}",
                f.display()
            ));
            let _ = std::fs::write(&f, stripped);
        }
    }
}

/// Run `xtask -q build ARGS` with its own target folder; the wall time, or the end of its stderr.
fn time_build(root: &Path, exe: &Path, args: &[&str], target: &Path) -> Result<f64> {
    let mut c = Command::new(exe);
    c.arg("-q")
        .arg("build")
        .args(args)
        .current_dir(root)
        .env("CARGO_TARGET_DIR", target)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let t = Instant::now();
    let out = c
        .output()
        .with_context(|| format!("starting {}", exe.display()))?;
    let secs = t.elapsed().as_secs_f64();
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(8).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "`cargo xtask build {}` failed ({}): {}",
            args.join(" "),
            out.status,
            tail.join("\n")
        );
    }
    Ok(secs)
}

fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let n = s.len();
    Some(if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    })
}

// ---------------------------------------------------------------------------------------------------------
// build

/// One thing whose builds are timed: a runner flag, a target (one plug-in in one language, or `--all`) and the
/// target folder its builds use.
struct Cell {
    runner: &'static str,
    runner_flag: &'static str,
    lang: Option<Lang>,
    target_dir: PathBuf,
    rows: Vec<BuildRow>,
}

impl Cell {
    fn args(&self) -> Vec<&str> {
        let mut a = vec![self.runner_flag];
        match self.lang {
            Some(l) => a.extend([BUILD_PLUGIN, "--lang", l.as_str()]),
            None => a.push("--all"),
        }
        a
    }

    fn row(&mut self, kind: &str) -> &mut BuildRow {
        if let Some(i) = self.rows.iter().position(|r| r.kind == kind) {
            return &mut self.rows[i];
        }
        self.rows.push(BuildRow {
            runner: self.runner.into(),
            target: if self.lang.is_some() {
                BUILD_PLUGIN.into()
            } else {
                "--all".into()
            },
            lang: self
                .lang
                .map(|l| l.as_str().to_string())
                .unwrap_or_else(|| "all".into()),
            kind: kind.into(),
            samples_s: Vec::new(),
            median_s: None,
            error: None,
        });
        self.rows.last_mut().unwrap()
    }

    fn label(&self) -> String {
        format!(
            "{} {}",
            self.runner,
            self.lang
                .map(|l| format!("{BUILD_PLUGIN} ({l})"))
                .unwrap_or_else(|| "--all".into())
        )
    }

    /// Time one build and record it under `kind`; false when it failed.
    fn sample(&mut self, root: &Path, exe: &Path, kind: &str, ui: &Ui) -> bool {
        ui.status(&format!("bench build: {} {kind}", self.label()));
        let args = self.args();
        let target = self.target_dir.clone();
        let r = time_build(root, exe, &args, &target);
        let row = self.row(kind);
        match r {
            Ok(s) => {
                row.samples_s.push(s);
                true
            }
            Err(e) => {
                row.error = Some(format!("{e:#}"));
                false
            }
        }
    }
}

/// Whether the container runner can be timed, else why not.
fn container_available(ui: &Ui) -> std::result::Result<(), String> {
    let engine = crate::engine::Engine::detect(None).map_err(|e| format!("{e:#}"))?;
    let images = crate::builder::ensure(
        &engine,
        &Lang::ALL,
        &crate::builder::Options::default(),
        false,
        ui,
    )
    .map_err(|e| format!("{e:#}"))?;
    let missing: Vec<String> = images
        .iter()
        .filter(|(_, _, how)| how != "reused")
        .map(|(l, t, _)| format!("{l} ({t})"))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "builder images not built yet: {} (run `cargo xtask builder`; the bench does not time image builds)",
            missing.join(", ")
        ));
    }
    Ok(())
}

/// Returns true when a local `build --all` succeeded after the last edit (so `out/` is current).
fn bench_build(
    root: &Path,
    exe: &Path,
    scratch: &Scratch,
    it: &Iterations,
    quick: bool,
    ui: &Ui,
    report: &mut Report,
) -> bool {
    let all = match project::plugins(root) {
        Ok(a) => a,
        Err(e) => {
            report.errors.push(format!("build: {e:#}"));
            return false;
        }
    };
    let Ok(plugin) = project::find(&all, BUILD_PLUGIN).cloned() else {
        report
            .errors
            .push(format!("build: plug-in `{BUILD_PLUGIN}` not found"));
        return false;
    };
    let mut runners: Vec<(&'static str, &'static str)> = vec![("local", "--local")];
    if quick {
        report.skipped.push(Skipped {
            section: "build".into(),
            what: "container runner".into(),
            reason: "--quick".into(),
        });
    } else {
        match container_available(ui) {
            Ok(()) => runners.push(("container", "--container")),
            Err(why) => report.skipped.push(Skipped {
                section: "build".into(),
                what: "container runner".into(),
                reason: why,
            }),
        }
    }
    // --quick times the usual target folder (warm, as after `cargo xtask test`); a full run uses fresh ones.
    let usual = crate::container::target_base(root);
    let mut cells: Vec<Cell> = Vec::new();
    for (runner, flag) in &runners {
        let all_cell = if quick { None } else { Some(None) };
        for lang in plugin.langs.iter().copied().map(Some).chain(all_cell) {
            let name = format!("{runner}-{}", lang.map(|l| l.as_str()).unwrap_or("all"));
            cells.push(Cell {
                runner,
                runner_flag: flag,
                lang,
                target_dir: if quick {
                    usual.clone()
                } else {
                    scratch.path(&format!("target-{name}"))
                },
                rows: Vec::new(),
            });
        }
    }
    if quick {
        report.skipped.push(Skipped {
            section: "build".into(),
            what: "build --all".into(),
            reason: "--quick (every C++ build compiles from scratch: --all takes about a minute on 2 cores)"
                .into(),
        });
    }
    // Phase 1: cold (full) or an untimed first build (quick; C++ has no cache to warm).
    let mut ok: Vec<bool> = Vec::new();
    for c in &mut cells {
        let good = if quick && c.lang == Some(Lang::Cpp) {
            true
        } else if quick {
            ui.status(&format!(
                "bench build: {} (first build, not timed)",
                c.label()
            ));
            match time_build(root, exe, &c.args(), &c.target_dir.clone()) {
                Ok(_) => true,
                Err(e) => {
                    c.row("no-change").error = Some(format!("{e:#}"));
                    false
                }
            }
        } else {
            c.sample(root, exe, "cold", ui)
        };
        ok.push(good);
    }
    // Phase 2: no change, interleaved across cells so load drift hits every cell alike.
    for _ in 0..it.no_change {
        for (c, good) in cells.iter_mut().zip(ok.iter_mut()) {
            if *good {
                *good = c.sample(root, exe, "no-change", ui);
            }
        }
    }
    let all_fresh = cells
        .iter()
        .zip(&ok)
        .any(|(c, g)| *g && c.lang.is_none() && c.runner == "local");
    // Phase 3: warm after an edit, per language (not --all), interleaved.
    for n in 0..it.edit {
        for (c, good) in cells.iter_mut().zip(ok.iter_mut()) {
            let Some(lang) = c.lang else { continue };
            if !*good {
                continue;
            }
            let file = match edit_target(root, &plugin, lang) {
                Ok(f) => f,
                Err(e) => {
                    c.row("warm-after-edit").error = Some(format!("{e:#}"));
                    *good = false;
                    continue;
                }
            };
            let guard = match EditGuard::append(&file, n) {
                Ok(g) => g,
                Err(e) => {
                    c.row("warm-after-edit").error = Some(format!("{e:#}"));
                    *good = false;
                    continue;
                }
            };
            *good = c.sample(root, exe, "warm-after-edit", ui);
            drop(guard);
        }
    }
    for c in cells {
        for mut r in c.rows {
            r.median_s = median(&r.samples_s);
            if let Some(e) = &r.error {
                report.errors.push(format!(
                    "build {} {} {} {}: {e}",
                    r.runner, r.target, r.lang, r.kind
                ));
            }
            report.build.push(r);
        }
    }
    all_fresh
}

// ---------------------------------------------------------------------------------------------------------
// size

/// Build everything (untimed) so `out/` is current.
fn ensure_built(root: &Path, exe: &Path, ui: &Ui, report: &mut Report) {
    ui.status("bench: cargo xtask build --all --local (not timed)");
    let target = crate::container::target_base(root);
    if let Err(e) = time_build(root, exe, &["--local", "--all"], &target) {
        report.errors.push(format!("build --all: {e:#}"));
    }
}

/// Build (untimed, local) the named plug-ins when one of their artifacts is missing.
fn ensure_present(root: &Path, exe: &Path, names: &[&str], ui: &Ui, report: &mut Report) {
    let Ok(all) = project::plugins(root) else {
        return;
    };
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| {
            all.iter().find(|p| p.name == *n).is_some_and(|p| {
                p.langs
                    .iter()
                    .any(|&l| !project::artifact(root, n, l).is_file())
            })
        })
        .collect();
    if missing.is_empty() {
        return;
    }
    ui.status(&format!(
        "bench: cargo xtask build --local {} (missing artifacts; not timed)",
        missing.join(" ")
    ));
    let mut args = vec!["--local"];
    args.extend(missing.iter().copied());
    if let Err(e) = time_build(root, exe, &args, &crate::container::target_base(root)) {
        report
            .errors
            .push(format!("build {}: {e:#}", missing.join(" ")));
    }
}

fn bench_size(root: &Path, report: &mut Report) {
    let all = match project::plugins(root) {
        Ok(a) => a,
        Err(e) => {
            report.errors.push(format!("size: {e:#}"));
            return;
        }
    };
    for p in &all {
        for &l in &p.langs {
            let bytes = std::fs::read(project::artifact(root, &p.name, l)).ok();
            report.size.push(SizeRow {
                plugin: p.name.clone(),
                lang: l.as_str().into(),
                bytes: bytes.as_ref().map(|b| b.len() as u64),
                sha256: bytes.as_ref().map(|b| {
                    use sha2::Digest;
                    crate::build::hex(&sha2::Sha256::digest(b))
                }),
            });
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// host

/// What one host measurement sends: a plug-in, a configuration and a request.
#[derive(Debug, Clone)]
struct Scenario {
    plugin: String,
    name: String,
    config: String,
    path: String,
}

/// The first configuration a plug-in's vectors expect to be accepted (what the battery uses), as JSON text.
fn first_accepted_config(root: &Path, plugin: &Plugin) -> Result<String> {
    for file in plugin.vectors(root)? {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        let doc: serde_json::Value = serde_yaml_ng::from_str(&text)
            .with_context(|| format!("parsing {}", file.display()))?;
        let file_config = doc.get("config").cloned();
        let cases = doc
            .get("cases")
            .and_then(|c| c.as_array())
            .cloned()
            .unwrap_or_default();
        for case in cases {
            let rejected = case
                .pointer("/expect/configure")
                .and_then(|v| v.as_str())
                .is_some_and(|s| s == "rejected");
            if rejected {
                continue;
            }
            if let Some(raw) = case.get("config_raw").and_then(|v| v.as_str()) {
                return Ok(raw.to_string());
            }
            let config = case
                .get("config")
                .cloned()
                .or_else(|| file_config.clone())
                .unwrap_or_else(|| serde_json::json!({}));
            return Ok(config.to_string());
        }
    }
    Ok("{}".into())
}

fn scenarios(root: &Path, plugins: &[Plugin]) -> Result<Vec<Scenario>> {
    let mut out = Vec::new();
    for p in plugins {
        out.push(Scenario {
            plugin: p.name.clone(),
            name: "first vector config".into(),
            config: first_accepted_config(root, p)?,
            path: DEFAULT_PATH.into(),
        });
        if p.name == "request-block" {
            for (name, path) in [
                ("README config, passes", DEFAULT_PATH),
                ("README config, blocked by regex", "/index.php?id=1"),
            ] {
                out.push(Scenario {
                    plugin: p.name.clone(),
                    name: name.into(),
                    config: REQUEST_BLOCK_README_CONFIG.into(),
                    path: path.into(),
                });
            }
        }
    }
    Ok(out)
}

/// Build a tool with cargo (untimed) and return its path under the target folder.
fn cargo_build_tool(
    root: &Path,
    package: &str,
    bin: &str,
    release: bool,
    ui: &Ui,
) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = crate::plan::Cmd::new(cargo, root).args([
        "build",
        "--locked",
        "--quiet",
        "--package",
        package,
        "--bin",
        bin,
    ]);
    if release {
        cmd = cmd.arg("--release");
    }
    ui.status(&format!(
        "bench: building {bin} ({}; not timed)",
        if release { "release" } else { "dev" }
    ));
    crate::runner::run(&cmd, ui)?;
    Ok(crate::container::target_base(root)
        .join(if release { "release" } else { "debug" })
        .join(bin))
}

/// Parse `pwhost bench`'s line: `N requests in 0.1s: 81234 requests/s, p50 12.3µs, p99 45.6µs, max 1ms (0 local
/// responses, memory 1088 KiB)`.
fn parse_pwhost_bench(line: &str) -> Result<HostSample> {
    let field = |key: &str| -> Result<&str> {
        let i = line
            .find(key)
            .with_context(|| format!("`{key}` missing from pwhost bench output `{line}`"))?;
        let rest = &line[i + key.len()..];
        Ok(rest
            .split([',', ' ', '('])
            .find(|s| !s.is_empty())
            .unwrap_or(""))
    };
    let rps_text = line
        .split(": ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .with_context(|| format!("no requests/s in pwhost bench output `{line}`"))?;
    let local_text = line
        .split('(')
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .with_context(|| format!("no local response count in pwhost bench output `{line}`"))?;
    Ok(HostSample {
        rps: rps_text
            .parse()
            .with_context(|| format!("requests/s `{rps_text}` in `{line}`"))?,
        p50_ns: parse_duration_ns(field("p50 ")?)?,
        p99_ns: parse_duration_ns(field("p99 ")?)?,
        local_responses: local_text
            .parse()
            .with_context(|| format!("local responses `{local_text}` in `{line}`"))?,
    })
}

/// Rust's `Debug` of a `Duration`: `850ns`, `12.345µs`, `1.2ms`, `1.000000001s`.
fn parse_duration_ns(s: &str) -> Result<f64> {
    let units = [
        ("ns", 1.0),
        ("µs", 1e3),
        ("us", 1e3),
        ("ms", 1e6),
        ("s", 1e9),
    ];
    for (u, mult) in units {
        if let Some(n) = s.strip_suffix(u) {
            let v: f64 = n
                .parse()
                .with_context(|| format!("duration `{s}` is not a number of {u}"))?;
            return Ok(v * mult);
        }
    }
    bail!("duration `{s}` has no unit")
}

fn run_capture(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .output()
        .context("starting a bench tool")?;
    if !out.status.success() {
        bail!(
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn bench_host(
    root: &Path,
    exe: &Path,
    it: &Iterations,
    quick: bool,
    ui: &Ui,
    report: &mut Report,
) -> Result<()> {
    let mut plugins = project::plugins(root)?;
    if quick {
        plugins.retain(|p| QUICK_HOST.contains(&p.name.as_str()));
        ensure_present(root, exe, QUICK_HOST, ui, report);
    }
    // Full runs use an optimised host: the dev-profile conformance host optimises wasmtime and cranelift but not
    // pwhost's own glue, which would then dominate the per-request time.
    let (host, profile) = if quick {
        (crate::conformance::host_binary(ui)?, "dev")
    } else {
        (
            cargo_build_tool(root, "pwhost", "pwhost", true, ui)?,
            "release",
        )
    };
    let native = cargo_build_tool(root, "pwbench", "pwbench", true, ui)?;
    if profile == "dev" {
        report.notes.push(
            "--quick uses the dev-profile conformance host (wasmtime and cranelift optimised, pwhost's own code \
             not): host times and ratios are higher than with the release host of a full run"
                .into(),
        );
    }
    report.notes.push(
        "native baselines (pwbench, release) re-implement each plug-in's decision from its README with \
         pwsdk::rules, pwsdk::regex and memchr, because the plug-ins are cdylib crates whose matching is \
         private; they include the per-request copies the plug-in makes (path, header lines) but no ABI \
         marshalling"
            .into(),
    );
    report.notes.push(
        "each request is timed on its own (Instant::now around it), in the host and natively alike; a native \
         p50 under ~100 ns is near the clock's resolution, so ratios against such a baseline are lower bounds"
            .into(),
    );
    let scen = scenarios(root, &plugins)?;
    let mut rows: Vec<HostRow> = Vec::new();
    for s in &scen {
        let p = plugins.iter().find(|p| p.name == s.plugin).unwrap();
        let mut impls: Vec<String> = p.langs.iter().map(|l| l.as_str().to_string()).collect();
        if NATIVE.contains(&s.plugin.as_str()) {
            impls.push("native".into());
        }
        for i in impls {
            rows.push(HostRow {
                plugin: s.plugin.clone(),
                scenario: s.name.clone(),
                implementation: i.clone(),
                config: s.config.clone(),
                path: s.path.clone(),
                requests: if i == "native" {
                    it.native_requests
                } else {
                    it.host_requests
                },
                rps: None,
                p50_ns: None,
                p99_ns: None,
                local_responses: None,
                p50_vs_native: None,
                rps_native_over_this: None,
                rounds: Vec::new(),
                error: None,
            });
        }
    }
    // Rounds outermost: each round measures every row once, so the rows of one scenario run back to back.
    for round in 0..it.host_rounds {
        ui.status(&format!(
            "bench host: round {}/{} ({} measurements)",
            round + 1,
            it.host_rounds,
            rows.len()
        ));
        for r in rows.iter_mut().filter(|r| r.error.is_none()) {
            let result = if r.implementation == "native" {
                let mut c = Command::new(&native);
                c.args(["native", "--plugin", &r.plugin, "--config", &r.config])
                    .args(["--requests", &r.requests.to_string(), "--path", &r.path]);
                run_capture(&mut c).and_then(|out| {
                    let v: serde_json::Value = serde_json::from_str(&out)
                        .with_context(|| format!("pwbench printed `{out}`, not JSON"))?;
                    let num = |k: &str| v.get(k).and_then(|x| x.as_f64()).unwrap_or(f64::NAN);
                    Ok(HostSample {
                        rps: num("rps"),
                        p50_ns: num("p50_ns"),
                        p99_ns: num("p99_ns"),
                        local_responses: num("local_responses") as usize,
                    })
                })
            } else {
                let lang = if r.implementation == "rust" {
                    Lang::Rust
                } else {
                    Lang::Cpp
                };
                let wasm = project::artifact(root, &r.plugin, lang);
                let mut c = Command::new(&host);
                c.arg("bench")
                    .arg("--wasm")
                    .arg(&wasm)
                    .args(["--config", &r.config])
                    .args(["--requests", &r.requests.to_string(), "--path", &r.path]);
                run_capture(&mut c).and_then(|out| {
                    let line = out.lines().last().unwrap_or("");
                    parse_pwhost_bench(line)
                })
            };
            match result {
                Ok(s) => r.rounds.push(s),
                Err(e) => {
                    r.error = Some(format!(
                        "{} {} ({}): {e:#}",
                        r.plugin, r.scenario, r.implementation
                    ))
                }
            }
        }
    }
    for r in &mut rows {
        let col = |f: fn(&HostSample) -> f64| median(&r.rounds.iter().map(f).collect::<Vec<_>>());
        r.rps = col(|s| s.rps);
        r.p50_ns = col(|s| s.p50_ns);
        r.p99_ns = col(|s| s.p99_ns);
        r.local_responses = r.rounds.last().map(|s| s.local_responses);
        if let Some(e) = &r.error {
            report.errors.push(format!("host: {e}"));
        }
    }
    let snapshot = rows.clone();
    for r in &mut rows {
        let Some(n) = snapshot.iter().find(|n| {
            n.implementation == "native" && n.plugin == r.plugin && n.scenario == r.scenario
        }) else {
            continue;
        };
        if let (Some(a), Some(b)) = (r.p50_ns, n.p50_ns) {
            r.p50_vs_native = Some(a / b.max(1.0));
        }
        if let (Some(a), Some(b)) = (r.rps, n.rps) {
            r.rps_native_over_this = Some(b / a.max(1e-9));
        }
        // The wasm builds and the baseline must take the same decision, else the comparison is meaningless.
        if let (true, Some(mine), Some(theirs)) = (
            r.implementation != "native",
            r.local_responses,
            n.local_responses,
        ) {
            let share = |l: usize, of: usize| l as f64 / of.max(1) as f64;
            if (share(mine, r.requests) - share(theirs, n.requests)).abs() > 1e-9 {
                report.errors.push(format!(
                    "host: {} {} ({}) answered {mine} of {} requests locally, the native baseline {theirs} of {}",
                    r.plugin, r.scenario, r.implementation, r.requests, n.requests
                ));
            }
        }
    }
    report.host = Some(HostSection {
        host_binary: host.display().to_string(),
        host_profile: profile.into(),
        native_binary: native.display().to_string(),
        results: rows,
    });
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------
// images

fn bench_images(root: &Path, scratch: &Scratch, it: &Iterations, ui: &Ui, report: &mut Report) {
    let commit = match crate::git::head(root) {
        Ok(c) => c,
        Err(e) => {
            report.skipped.push(Skipped {
                section: "images".into(),
                what: "all".into(),
                reason: format!("{e:#}"),
            });
            return;
        }
    };
    let all = project::plugins(root).unwrap_or_default();
    let Some(plugin) = all.iter().find(|p| p.name == IMAGE_PLUGIN) else {
        report
            .errors
            .push(format!("images: plug-in `{IMAGE_PLUGIN}` not found"));
        return;
    };
    let mut images: Vec<(Lang, pwoci::Image, u64)> = Vec::new();
    for &lang in &plugin.langs {
        let path = project::artifact(root, &plugin.name, lang);
        let wasm = match std::fs::read(&path) {
            Ok(w) => w,
            Err(e) => {
                report
                    .errors
                    .push(format!("images: reading {}: {e}", path.display()));
                continue;
            }
        };
        let size = wasm.len() as u64;
        for (fname, format) in [
            ("oci", pwoci::Format::Oci),
            ("compat", pwoci::Format::Compat),
        ] {
            ui.status(&format!(
                "bench images: package+layout {} ({lang}) {fname} x{}",
                plugin.name, it.package
            ));
            let input = pwoci::PackageInput {
                wasm: wasm.clone(),
                format,
                commit_time: commit.time,
                revision: commit.id.clone(),
                version: "0.0.0-bench".into(),
                source: "local".into(),
                title: plugin.name.clone(),
                annotations: pwoci::Annotations::Standard,
            };
            let opts = pwoci::LayoutOptions {
                tag: "bench".into(),
                repository: Some(format!("plugins/{}", plugin.name)),
                mtime: commit.time,
            };
            let mut row = ImageRow {
                plugin: plugin.name.clone(),
                lang: lang.as_str().into(),
                operation: format!("package+layout {fname}"),
                wasm_bytes: size,
                samples_s: Vec::new(),
                median_s: None,
                error: None,
            };
            for i in 0..it.package {
                let dir = scratch.path(&format!("layout-{lang}-{fname}-{i}"));
                let t = Instant::now();
                let r = pwoci::package(&input)
                    .map_err(anyhow::Error::from)
                    .and_then(|img| {
                        pwoci::write_layout(&img, &dir, &opts)?;
                        Ok(img)
                    });
                let secs = t.elapsed().as_secs_f64();
                let _ = std::fs::remove_dir_all(&dir);
                match r {
                    Ok(img) => {
                        row.samples_s.push(secs);
                        if i == 0 && format == pwoci::Format::Oci {
                            images.push((lang, img, size));
                        }
                    }
                    Err(e) => {
                        row.error = Some(format!("{e:#}"));
                        report.errors.push(format!(
                            "images: package {} ({lang}) {fname}: {e:#}",
                            plugin.name
                        ));
                        break;
                    }
                }
            }
            row.median_s = median(&row.samples_s);
            report.images.push(row);
        }
    }
    // Push to a registry on loopback.
    let registry = match pwoci::testing::TestRegistry::start() {
        Ok(Some(r)) => r,
        Ok(None) => {
            report.skipped.push(Skipped {
                section: "images".into(),
                what: "push".into(),
                reason:
                    "`docker-registry` is not installed (apt-get install docker-registry, or set \
                         PWOCI_TEST_REGISTRY_BIN)"
                        .into(),
            });
            return;
        }
        Err(e) => {
            report.skipped.push(Skipped {
                section: "images".into(),
                what: "push".into(),
                reason: format!("the loopback registry did not start: {e}"),
            });
            return;
        }
    };
    let mut client = match pwoci::Client::new(pwoci::ClientOptions::default()) {
        Ok(c) => c,
        Err(e) => {
            report.errors.push(format!("images: registry client: {e}"));
            return;
        }
    };
    for (lang, image, size) in &images {
        let mut fresh = ImageRow {
            plugin: plugin.name.clone(),
            lang: lang.as_str().into(),
            operation: "push oci (new repository)".into(),
            wasm_bytes: *size,
            samples_s: Vec::new(),
            median_s: None,
            error: None,
        };
        let mut again = ImageRow {
            operation: "push oci (blobs present)".into(),
            samples_s: Vec::new(),
            error: None,
            plugin: fresh.plugin.clone(),
            lang: fresh.lang.clone(),
            median_s: None,
            wasm_bytes: *size,
        };
        ui.status(&format!(
            "bench images: push {} ({lang}) to {} x{}",
            plugin.name,
            registry.host(),
            it.push
        ));
        // Interleaved: a push to a new repository (every blob uploaded), then the same push again (blobs found
        // by HEAD, only the manifest is put).
        for i in 0..it.push {
            let reference = format!("{}/bench/{}-{lang}-{i}:bench", registry.host(), plugin.name);
            let reference = match pwoci::Reference::parse(&reference) {
                Ok(r) => r,
                Err(e) => {
                    fresh.error = Some(format!("{e}"));
                    break;
                }
            };
            for row in [&mut fresh, &mut again] {
                let t = Instant::now();
                match client.push(image, &reference) {
                    Ok(_) => row.samples_s.push(t.elapsed().as_secs_f64()),
                    Err(e) => {
                        row.error = Some(format!("pushing {reference}: {e}"));
                    }
                }
            }
            if fresh.error.is_some() || again.error.is_some() {
                break;
            }
        }
        for mut row in [fresh, again] {
            row.median_s = median(&row.samples_s);
            if let Some(e) = &row.error {
                report.errors.push(format!("images: {e}"));
            }
            report.images.push(row);
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// machine facts and the table

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn machine(root: &Path) -> Machine {
    let commit = crate::git::head(root).ok();
    Machine {
        nproc: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        loadavg_start: loadavg(),
        loadavg_end: String::new(),
        os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
        rustc: crate::runner::output("rustc", &["--version"]).unwrap_or_default(),
        commit: commit.as_ref().map(|c| c.id.clone()).unwrap_or_default(),
        dirty: commit.map(|c| c.dirty).unwrap_or(false),
    }
}

fn secs(v: Option<f64>) -> String {
    match v {
        Some(s) if s >= 10.0 => format!("{s:.1}s"),
        Some(s) => format!("{s:.2}s"),
        None => "-".into(),
    }
}

fn dur_ns(v: Option<f64>) -> String {
    match v {
        Some(n) if n >= 1e6 => format!("{:.2}ms", n / 1e6),
        Some(n) if n >= 1e3 => format!("{:.1}µs", n / 1e3),
        Some(n) => format!("{n:.0}ns"),
        None => "-".into(),
    }
}

fn print_table(r: &Report, ui: &Ui) {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(format!(
        "bench ({}; {} CPU(s); load {} -> {}; {:.0}s)",
        if r.quick { "quick" } else { "full" },
        r.machine.nproc,
        r.machine.loadavg_start,
        r.machine.loadavg_end,
        r.duration_s
    ));
    if !r.build.is_empty() {
        line(String::new());
        line("build: wall time of `cargo xtask build` (median of samples)".into());
        line(format!(
            "  {:<10} {:<15} {:<5} {:>9} {:>10} {:>16}",
            "runner", "target", "lang", "cold", "no-change", "warm-after-edit"
        ));
        let mut keys: Vec<(String, String, String)> = Vec::new();
        for b in &r.build {
            let k = (b.runner.clone(), b.target.clone(), b.lang.clone());
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        for (runner, target, lang) in keys {
            let get = |kind: &str| {
                r.build
                    .iter()
                    .find(|b| {
                        b.runner == runner && b.target == target && b.lang == lang && b.kind == kind
                    })
                    .map(|b| {
                        if b.error.is_some() {
                            "FAILED".to_string()
                        } else {
                            secs(b.median_s)
                        }
                    })
                    .unwrap_or_else(|| "-".into())
            };
            line(format!(
                "  {:<10} {:<15} {:<5} {:>9} {:>10} {:>16}",
                runner,
                target,
                lang,
                get("cold"),
                get("no-change"),
                get("warm-after-edit")
            ));
        }
    }
    if !r.size.is_empty() {
        line(String::new());
        line("size: plugin.wasm bytes".into());
        line(format!(
            "  {:<17} {:>9} {:>9} {:>9}",
            "plug-in", "rust", "cpp", "cpp/rust"
        ));
        let mut names: Vec<&str> = r.size.iter().map(|s| s.plugin.as_str()).collect();
        names.dedup();
        for n in names {
            let get = |l: &str| {
                r.size
                    .iter()
                    .find(|s| s.plugin == n && s.lang == l)
                    .and_then(|s| s.bytes)
            };
            let (rs, cs) = (get("rust"), get("cpp"));
            let show = |v: Option<u64>| v.map(|b| b.to_string()).unwrap_or_else(|| "-".into());
            let ratio = match (rs, cs) {
                (Some(a), Some(b)) if a > 0 => format!("{:.2}", b as f64 / a as f64),
                _ => "-".into(),
            };
            line(format!(
                "  {:<17} {:>9} {:>9} {:>9}",
                n,
                show(rs),
                show(cs),
                ratio
            ));
        }
    }
    if let Some(h) = &r.host {
        line(String::new());
        line(format!(
            "host: GET requests through `pwhost bench` ({} build) vs a native baseline (median of rounds)",
            h.host_profile
        ));
        line(format!(
            "  {:<16} {:<32} {:<6} {:>10} {:>9} {:>9} {:>6} {:>10}",
            "plug-in", "scenario", "impl", "req/s", "p50", "p99", "local", "p50/native"
        ));
        for x in &h.results {
            line(format!(
                "  {:<16} {:<32} {:<6} {:>10} {:>9} {:>9} {:>6} {:>10}",
                x.plugin,
                x.scenario,
                x.implementation,
                if x.error.is_some() {
                    "FAILED".into()
                } else {
                    x.rps
                        .map(|v| format!("{v:.0}"))
                        .unwrap_or_else(|| "-".into())
                },
                dur_ns(x.p50_ns),
                dur_ns(x.p99_ns),
                x.local_responses
                    .map(|l| format!("{:.0}%", 100.0 * l as f64 / x.requests.max(1) as f64))
                    .unwrap_or_else(|| "-".into()),
                x.p50_vs_native
                    .map(|v| format!("{v:.0}x"))
                    .unwrap_or_else(|| "-".into())
            ));
        }
    }
    if !r.images.is_empty() {
        line(String::new());
        line("images: median wall time".into());
        line(format!(
            "  {:<15} {:<5} {:<28} {:>9} {:>10}",
            "plug-in", "lang", "operation", "wasm", "time"
        ));
        for x in &r.images {
            line(format!(
                "  {:<15} {:<5} {:<28} {:>9} {:>10}",
                x.plugin,
                x.lang,
                x.operation,
                x.wasm_bytes,
                if x.error.is_some() {
                    "FAILED".into()
                } else {
                    x.median_s
                        .map(|s| format!("{:.1}ms", s * 1e3))
                        .unwrap_or_else(|| "-".into())
                }
            ));
        }
    }
    if !r.skipped.is_empty() {
        line(String::new());
        for s in &r.skipped {
            line(format!("skipped {} {}: {}", s.section, s.what, s.reason));
        }
    }
    if !r.notes.is_empty() {
        line(String::new());
        for n in &r.notes {
            line(format!("note: {n}"));
        }
    }
    ui.result(out.trim_end());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pwhost_bench_output_is_parsed() {
        let s = parse_pwhost_bench(
            "2000 requests in 0.123s: 16260 requests/s, p50 48.1µs, p99 1.2ms, max 3.000000001s (2000 local responses, memory 1088 KiB)",
        )
        .unwrap();
        assert_eq!(s.rps, 16260.0);
        assert!((s.p50_ns - 48_100.0).abs() < 1e-6, "{}", s.p50_ns);
        assert!((s.p99_ns - 1_200_000.0).abs() < 1e-3, "{}", s.p99_ns);
        assert_eq!(s.local_responses, 2000);
        assert!(parse_pwhost_bench("garbage").is_err());
        assert!((parse_duration_ns("850ns").unwrap() - 850.0).abs() < 1e-9);
        assert!(parse_duration_ns("12").is_err());
    }

    #[test]
    fn edit_guard_restores_the_exact_bytes() {
        let dir = std::env::temp_dir().join(format!("xtask-bench-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("lib.rs");
        let original = b"fn main() {}".to_vec(); // no final newline on purpose
        std::fs::write(&f, &original).unwrap();
        {
            let _g = EditGuard::append(&f, 0).unwrap();
            let edited = std::fs::read_to_string(&f).unwrap();
            assert!(
                edited.starts_with("fn main() {}\n// xtask bench"),
                "{edited}"
            );
        }
        assert_eq!(std::fs::read(&f).unwrap(), original);
        // Someone else edits meanwhile: their change stays, the marker goes.
        {
            let _g = EditGuard::append(&f, 1).unwrap();
            let mut now = b"// theirs\n".to_vec();
            now.extend(std::fs::read(&f).unwrap());
            std::fs::write(&f, &now).unwrap();
        }
        assert_eq!(
            std::fs::read(&f).unwrap(),
            b"// theirs\nfn main() {}".to_vec()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn median_of_even_and_odd_samples() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }
}
