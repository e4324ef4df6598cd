//! `pwhost`: run proxy-wasm plug-ins on the conformance host.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use pwhost::runner::{self, CaseResult, RunOptions};
use pwhost::{vectors, Limits, Plugin, Request, WasiSet};

/// Run proxy-wasm plug-ins (ABI 0.2.1) on a wasmtime host that behaves like Envoy.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run conformance vector files against one build of a plug-in.
    Conformance(Conformance),
    /// Run the generic battery (malformed configs, 10k requests, odd inputs) against a plug-in.
    Battery(Battery),
    /// Load-check a module the way the gateway does (ABI marker, imports, allocator, memory).
    Check(Check),
    /// Measure per-request time through one VM.
    Bench(Bench),
}

#[derive(Args)]
struct Target {
    /// Plug-in name used in results (`<plugin>/<case>/<lang>`).
    #[arg(long)]
    plugin: String,
    /// Language of this build (rust, cpp).
    #[arg(long)]
    lang: String,
    /// The plug-in's .wasm (or .wat) file.
    #[arg(long)]
    wasm: PathBuf,
    /// CPU limit per callback, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    cpu_limit_ms: u64,
    /// Memory limit, in MiB.
    #[arg(long, default_value_t = 256)]
    memory_limit_mib: usize,
    #[command(flatten)]
    host: HostGen,
}

#[derive(Args)]
struct HostGen {
    /// WASI functions of the Envoy host generation to link against: 15 (up to 2024-12, the default: every
    /// supported gateway has them), 18 (from 2024-12-19) or 45 (from 2026-04-06)
    #[arg(long, value_name = "15|18|45", default_value = "15", value_parser = parse_wasi)]
    wasi: WasiSet,
}

fn parse_wasi(s: &str) -> std::result::Result<WasiSet, String> {
    WasiSet::parse(s).ok_or_else(|| format!("unknown WASI set `{s}`; use 15, 18 or 45"))
}

#[derive(Args)]
struct Output {
    /// Also write JUnit XML here.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Print results as JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct Conformance {
    #[command(flatten)]
    target: Target,
    /// Vector files (or directories of *.yaml files).
    #[arg(long, num_args = 1.., required = true)]
    vectors: Vec<PathBuf>,
    /// Also run every case with each body split in halves, thirds and single bytes (same outcome required)
    #[arg(long)]
    rechunk: bool,
    /// Real clock and randomness instead of the fixed ones (2024-01-01T00:00:00Z, seeded random)
    #[arg(long)]
    real_clock: bool,
    #[command(flatten)]
    output: Output,
}

#[derive(Args)]
struct Battery {
    #[command(flatten)]
    target: Target,
    /// Configuration used for the request checks (must be accepted); default: the first accepted
    /// configuration of --vectors, else `{}`.
    #[arg(long)]
    config: Option<String>,
    /// Vector files or directories to take a working configuration from.
    #[arg(long, num_args = 1..)]
    vectors: Vec<PathBuf>,
    #[command(flatten)]
    output: Output,
}

#[derive(Args)]
struct Check {
    /// The .wasm file.
    #[arg(long)]
    wasm: PathBuf,
    #[command(flatten)]
    host: HostGen,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct Bench {
    /// The .wasm file.
    #[arg(long)]
    wasm: PathBuf,
    /// Plug-in configuration (JSON text).
    #[arg(long, default_value = "{}")]
    config: String,
    /// Number of measured requests.
    #[arg(long, default_value_t = 10_000)]
    requests: usize,
    /// Request path.
    #[arg(long, default_value = "/api/items?id=1")]
    path: String,
    /// Extra request headers, `name:value`.
    #[arg(long = "header")]
    headers: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Conformance(c) => c.run(),
        Command::Battery(b) => b.run(),
        Command::Check(c) => c.run(),
        Command::Bench(b) => b.run(),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

impl Target {
    fn load(&self) -> Result<std::result::Result<Plugin, pwhost::Error>> {
        if !self.wasm.exists() {
            bail!(
                "plug-in file {} does not exist (build it first, e.g. `cargo xtask build`)",
                self.wasm.display()
            );
        }
        let limits = Limits {
            cpu: Duration::from_millis(self.cpu_limit_ms),
            memory: self.memory_limit_mib << 20,
        };
        let wasi = self.host.wasi;
        Ok(Plugin::load_as(&self.plugin, &self.wasm)
            .and_then(|p| {
                if wasi == WasiSet::default() {
                    Ok(p)
                } else {
                    p.with_wasi(wasi)
                }
            })
            .map(|p| p.with_limits(limits)))
    }
}

fn vector_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("reading {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            files.sort();
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    if out.is_empty() {
        bail!("no vector files found in {paths:?}");
    }
    Ok(out)
}

fn report(results: &[CaseResult], output: &Output) -> Result<bool> {
    let failed = results.iter().filter(|r| !r.passed).count();
    let passed = results.len() - failed;
    if output.json {
        let doc = serde_json::json!({ "results": results, "passed": passed, "failed": failed });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        for r in results {
            println!("{}", r.render());
        }
        println!("{passed} passed, {failed} failed");
    }
    if let Some(path) = &output.junit {
        write_file(path, &runner::junit(results))?;
    }
    Ok(failed == 0)
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Every case fails with the load error (a module the gateway refuses fails its vectors).
fn load_failures(t: &Target, names: Vec<(String, String)>, err: &pwhost::Error) -> Vec<CaseResult> {
    names
        .into_iter()
        .map(|(file, case)| CaseResult {
            plugin: t.plugin.clone(),
            case,
            lang: t.lang.clone(),
            file,
            passed: false,
            failures: vec![err.to_string()],
            got: String::new(),
            duration: Duration::ZERO,
        })
        .collect()
}

impl Conformance {
    fn run(self) -> Result<bool> {
        let mut files = Vec::new();
        for f in vector_files(&self.vectors)? {
            files.push(vectors::load(&f)?);
        }
        let results = match self.target.load()? {
            Ok(plugin) => {
                let opts = RunOptions {
                    rechunk: self.rechunk,
                    realtime: self.real_clock,
                };
                runner::run_files_with(&plugin, &self.target.lang, &files, opts)
            }
            Err(e) => {
                let names = files
                    .iter()
                    .flat_map(|f| f.cases.iter().map(|c| (f.path.clone(), c.name.clone())))
                    .collect();
                load_failures(&self.target, names, &e)
            }
        };
        report(&results, &self.output)
    }
}

impl Battery {
    fn run(self) -> Result<bool> {
        let config = match (&self.config, self.vectors.is_empty()) {
            (Some(c), _) => c.clone().into_bytes(),
            (None, true) => b"{}".to_vec(),
            (None, false) => {
                let mut found = None;
                for f in vector_files(&self.vectors)? {
                    let file = vectors::load(&f)?;
                    found = file
                        .cases
                        .iter()
                        .find(|c| c.expect.configure == vectors::ConfigureExpect::Ok)
                        .map(|c| c.config.clone());
                    if found.is_some() {
                        break;
                    }
                }
                found.unwrap_or_else(|| b"{}".to_vec())
            }
        };
        let results = match self.target.load()? {
            Ok(plugin) => pwhost::battery::run(&plugin, &self.target.lang, &config),
            Err(e) => load_failures(
                &self.target,
                vec![("(battery)".into(), "battery: load check".into())],
                &e,
            ),
        };
        report(&results, &self.output)
    }
}

impl Check {
    fn run(self) -> Result<bool> {
        let bytes = std::fs::read(&self.wasm).with_context(|| {
            format!(
                "reading plug-in file {} (build it first, e.g. `cargo xtask build`)",
                self.wasm.display()
            )
        })?;
        match pwhost::plugin::check(&bytes, self.host.wasi) {
            Ok(i) => {
                if self.json {
                    let doc = serde_json::json!({
                        "ok": true, "abi": i.abi, "allocator": i.allocator, "imports": i.imports,
                        "exports": i.exports, "wasi": i.wasi.size(),
                        "memory_pages": {"initial": i.memory_pages.0, "maximum": i.memory_pages.1}, "size": i.size,
                    });
                    println!("{}", serde_json::to_string_pretty(&doc)?);
                } else {
                    println!("ok: {} loads", self.wasm.display());
                    println!("  abi:       {}", i.abi);
                    println!("  wasi:      {}", i.wasi);
                    println!("  allocator: {}", i.allocator);
                    println!("  size:      {} bytes", i.size);
                    let max = i
                        .memory_pages
                        .1
                        .map_or("none".to_string(), |m| m.to_string());
                    println!(
                        "  memory:    {} pages initial, maximum {max}",
                        i.memory_pages.0
                    );
                    println!("  imports:   {}", i.imports.join(" "));
                    let callbacks: Vec<&str> = i
                        .exports
                        .iter()
                        .map(String::as_str)
                        .filter(|e| e.starts_with("proxy_on_"))
                        .collect();
                    println!("  callbacks: {}", callbacks.join(" "));
                }
                Ok(true)
            }
            Err(refusals) => {
                if self.json {
                    println!(
                        "{}",
                        serde_json::json!({"ok": false, "refusals": refusals, "wasi": self.host.wasi.size()})
                    );
                } else {
                    println!(
                        "FAIL {}: the gateway ({}) would refuse it; Envoy logs:",
                        self.wasm.display(),
                        self.host.wasi
                    );
                    for r in &refusals {
                        println!("  {r}");
                    }
                }
                Ok(false)
            }
        }
    }
}

impl Bench {
    fn run(self) -> Result<bool> {
        let plugin = Plugin::load(&self.wasm)?;
        let mut vm = plugin.start(self.config.as_bytes())?;
        let make = || {
            let mut r = Request::get(&self.path).header("user-agent", "pwhost-bench");
            for h in &self.headers {
                let (k, v) = h.split_once(':').unwrap_or((h.as_str(), ""));
                r = r.header(k.trim(), v.trim());
            }
            r
        };
        for _ in 0..100.min(self.requests) {
            vm.request(make()).run()?;
        }
        let mut times = Vec::with_capacity(self.requests);
        let start = Instant::now();
        let mut local = 0;
        for _ in 0..self.requests {
            let t = Instant::now();
            let out = vm.request(make()).run()?;
            times.push(t.elapsed());
            local += usize::from(out.local_response.is_some());
        }
        let total = start.elapsed();
        times.sort();
        let pct = |p: f64| {
            times
                .get(((times.len() as f64 * p) as usize).min(times.len().saturating_sub(1)))
                .copied()
        };
        println!(
            "{} requests in {:.3}s: {:.0} requests/s, p50 {:?}, p99 {:?}, max {:?} ({} local responses, memory {} KiB)",
            self.requests,
            total.as_secs_f64(),
            self.requests as f64 / total.as_secs_f64(),
            pct(0.50).unwrap_or_default(),
            pct(0.99).unwrap_or_default(),
            times.last().copied().unwrap_or_default(),
            local,
            vm.memory_size() >> 10,
        );
        Ok(true)
    }
}
