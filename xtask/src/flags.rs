//! The whole `cargo xtask` command line, with a doc line per flag (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Build, test and ship proxy-wasm gateway plug-ins",
    version
)]
pub struct Xtask {
    /// Print every command before it runs (`+ cargo build ...`)
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Print only errors and final results
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Build plug-ins to `out/<plugin>/<lang>/plugin.wasm`
    Build(Build),
    /// List plug-ins and the languages each is written in
    List(List),
    /// Run the shared conformance vectors against every language's build
    Conformance(Conformance),
    /// Run the whole test suite, setting up what it needs; `--plugin NAME` tests one plug-in
    Test(Test),
    /// rustfmt, clippy (warnings denied), clang-format and tidy checks
    Lint(Lint),
    /// Compare the Rust and C++ builds of two-language plug-ins on generated configurations and requests
    FuzzDiff(FuzzDiff),
    /// Package a plug-in as an OCI image (layout folder + .tar under out/)
    Image(Image),
    /// Push a plug-in image to a registry, behind the layout gate and its conformance vectors
    Push(Push),
    /// Print a WasmPlugin resource (Higress or Istio) for a plug-in's image
    Manifest(Manifest),
    /// Build (or reuse) the pinned builder images container builds run in: `pwbuild-<lang>:<hash>`
    Builder(Builder),
    /// Build plug-ins twice from clean, in a second checkout and with both runners; compare the sha256s
    VerifyRepro(VerifyRepro),
    /// Scaffold a new plug-in that builds and passes its starter vectors in every language it has
    New(New),
    /// The plug-in × language CI matrix, as JSON GitHub's `fromJSON` takes
    Matrix(Matrix),
    /// Regenerate the committed generated files (.github/workflows/plugins.yml, docker-bake.hcl)
    Codegen(Codegen),
    /// Benchmarks: build times, plugin.wasm sizes, requests/s in the host vs native, image package/push
    Bench(Bench),
}

/// Languages a plug-in can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, ValueEnum)]
pub enum Lang {
    Rust,
    Cpp,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Rust, Lang::Cpp];

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::Cpp => "cpp",
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `--lang` accepts a language or `all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LangSel {
    Rust,
    Cpp,
    All,
}

impl LangSel {
    pub fn langs(self) -> Vec<Lang> {
        match self {
            LangSel::Rust => vec![Lang::Rust],
            LangSel::Cpp => vec![Lang::Cpp],
            LangSel::All => Lang::ALL.to_vec(),
        }
    }
}

#[derive(Debug, Args)]
pub struct Build {
    /// Plug-ins to build (kebab-case or snake_case names)
    #[arg(value_name = "PLUGIN", required_unless_present = "all")]
    pub plugins: Vec<String>,
    /// Build every plug-in
    #[arg(long, conflicts_with = "plugins")]
    pub all: bool,
    /// Language to build; default: every language the plug-in has
    #[arg(long, value_enum)]
    pub lang: Option<LangSel>,
    /// Print the build plan without running it
    #[arg(long)]
    pub dry_run: bool,
    /// Use the host's toolchains even when a container engine is reachable
    #[arg(long)]
    pub local: bool,
    /// Build in the builder containers; fail when no container engine is reachable
    #[arg(long, conflicts_with = "local")]
    pub container: bool,
    /// Container engine: `docker`, `podman` or a path to either CLI (default: XTASK_ENGINE, docker, podman)
    #[arg(long, value_name = "ENGINE", conflicts_with = "local")]
    pub engine: Option<String>,
    /// Print the results (or, with --dry-run, the plans) as one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

/// Where `builder` gets the base image from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Bootstrap {
    /// Use the pinned base when present or pullable, else make it with debootstrap
    Auto,
    /// Always make the base with debootstrap (reusing one made earlier)
    Always,
    /// Never debootstrap: the pinned base must be present or pullable
    Never,
}

#[derive(Debug, Args)]
pub struct Builder {
    /// Which builder images to make
    #[arg(long, value_enum, default_value = "all")]
    pub lang: LangSel,
    /// Where the Debian base comes from: pull the pinned digest, or debootstrap it from a mirror
    #[arg(long, value_enum, default_value = "auto")]
    pub bootstrap: Bootstrap,
    /// Debian mirror for debootstrap (also the image's apt source)
    #[arg(long, value_name = "URL", default_value = crate::builder::DEFAULT_MIRROR)]
    pub mirror: String,
    /// Extra PEM CA bundle for TLS during image builds (default: /etc/ssl/certs/ca-certificates.crt if present);
    /// passed as a build secret, never stored in an image
    #[arg(long, value_name = "FILE")]
    pub ca_bundle: Option<PathBuf>,
    /// Container engine: `docker`, `podman` or a path to either CLI (default: XTASK_ENGINE, docker, podman)
    #[arg(long, value_name = "ENGINE")]
    pub engine: Option<String>,
}

#[derive(Debug, Args)]
pub struct VerifyRepro {
    /// Plug-ins to check (default: all)
    #[arg(value_name = "PLUGIN")]
    pub plugins: Vec<String>,
    /// Language to check; default: every language the plug-in has
    #[arg(long, value_enum)]
    pub lang: Option<LangSel>,
    /// Container engine for the container runs (default: XTASK_ENGINE, docker, podman)
    #[arg(long, value_name = "ENGINE")]
    pub engine: Option<String>,
    /// Compare local builds only, even when a container engine is reachable
    #[arg(long)]
    pub local: bool,
}

#[derive(Debug, Args)]
pub struct List {
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct Conformance {
    /// Languages to run (default: all languages each plug-in has)
    #[arg(long, value_enum, default_value = "all")]
    pub lang: LangSel,
    /// Only this plug-in (repeatable)
    #[arg(long = "plugin", value_name = "NAME")]
    pub plugins: Vec<String>,
    /// Extra vector files to run against the named plug-in (needs exactly one --plugin)
    #[arg(long = "vectors", value_name = "FILE")]
    pub vectors: Vec<PathBuf>,
    /// Write a JUnit XML report to FILE
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Skip the generic battery (load check, malformed config, memory growth, odd input)
    #[arg(long)]
    pub no_battery: bool,
    /// Build with the host's toolchains even when a container engine is reachable
    #[arg(long)]
    pub local: bool,
    /// Also run every case with each body split in halves, thirds and single bytes (same outcome required)
    #[arg(long)]
    pub rechunk: bool,
    /// Run the vectors with the real clock and randomness instead of the fixed ones
    #[arg(long)]
    pub real_clock: bool,
}

#[derive(Debug, Args)]
pub struct Test {
    /// Skip the C++ language (for machines without the wasm32 clang toolchain)
    #[arg(long, conflicts_with = "lang")]
    pub no_cpp: bool,
    /// Neither use nor set up a container engine: builds use the host's toolchains, and the container stages
    /// (container builds, verify-repro container vs local) are skipped and named on the last line
    #[arg(long)]
    pub no_container: bool,
    /// Do not set up a registry: the push stage is skipped and named on the last line
    #[arg(long, conflicts_with = "plugin")]
    pub no_registry: bool,
    /// Test one plug-in only: its unit tests, conformance vectors and battery, and lint of its files
    #[arg(long, value_name = "NAME")]
    pub plugin: Option<String>,
    /// With --plugin: the language to test (default: every language the plug-in has)
    #[arg(long, value_enum, requires = "plugin")]
    pub lang: Option<LangSel>,
    /// With --plugin: write the conformance JUnit report to FILE
    #[arg(long, value_name = "FILE", requires = "plugin")]
    pub junit: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct Lint {}

/// OCI image layouts gateways accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImageFormat {
    /// two layers: wasm config `{}`, then the raw wasm (Istio and Higress)
    Oci,
    /// last layer a tar+gzip holding plugin.wasm (what `FROM scratch` + `COPY` gives; docker can load it)
    Compat,
}

impl std::fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ImageFormat::Oci => "oci",
            ImageFormat::Compat => "compat",
        })
    }
}

#[derive(Debug, Args)]
pub struct Image {
    /// The plug-in to package
    #[arg(value_name = "PLUGIN")]
    pub plugin: String,
    /// Language (needed when the plug-in has both)
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
    /// Image layout
    #[arg(long, value_enum, default_value = "oci")]
    pub format: ImageFormat,
    /// Tag (default: PLUGIN_VERSION, else `<YYYYMMDD-HHMMSS>-<short commit>[-dirty]`)
    #[arg(long)]
    pub tag: Option<String>,
    /// Load the image into the local docker engine (compat format only)
    #[arg(long)]
    pub load: bool,
}

#[derive(Debug, Args)]
pub struct Push {
    /// The plug-in to push
    #[arg(value_name = "PLUGIN")]
    pub plugin: String,
    /// Language (needed when the plug-in has both)
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
    /// Image layout
    #[arg(long, value_enum, default_value = "oci")]
    pub format: ImageFormat,
    /// Registry and path prefix, e.g. `127.0.0.1:5000/plugins` (default: $REGISTRY)
    #[arg(long)]
    pub registry: Option<String>,
    /// Whole image reference, overriding --registry and --tag (default: $IMG)
    #[arg(long)]
    pub image: Option<String>,
    /// Tag (default: PLUGIN_VERSION, else `<YYYYMMDD-HHMMSS>-<short commit>[-dirty]`)
    #[arg(long)]
    pub tag: Option<String>,
    /// Allow plain HTTP to a registry that is not on loopback
    #[arg(long)]
    pub insecure: bool,
    /// Push even if the plug-in's conformance vectors fail
    #[arg(long)]
    pub skip_conformance: bool,
    /// Push this OCI image layout folder instead of building one (gated and held to the vectors first)
    #[arg(long, value_name = "DIR")]
    pub layout: Option<PathBuf>,
}

/// Gateways whose WasmPlugin resource `manifest` renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GatewayKind {
    /// extensions.higress.io/v1alpha1
    Higress,
    /// extensions.istio.io/v1alpha1
    Istio,
}

#[derive(Debug, Args)]
pub struct Manifest {
    /// The plug-in
    #[arg(value_name = "PLUGIN")]
    pub plugin: String,
    /// Language (needed when the plug-in has both)
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
    /// Image layout the digest is computed for
    #[arg(long, value_enum, default_value = "oci")]
    pub format: ImageFormat,
    /// Gateway resource kind
    #[arg(long, value_enum, default_value = "higress")]
    pub gateway: GatewayKind,
    /// Plug-in configuration (JSON or YAML, with optional `_rules_`), validated against spec.yaml
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Registry and path prefix (default: $REGISTRY)
    #[arg(long)]
    pub registry: Option<String>,
    /// Whole image reference (default: $IMG)
    #[arg(long)]
    pub image: Option<String>,
    /// Tag (default: PLUGIN_VERSION, else a time-and-commit tag)
    #[arg(long)]
    pub tag: Option<String>,
    /// metadata.namespace (default: higress-system or istio-system)
    #[arg(long)]
    pub namespace: Option<String>,
}

/// Languages `new` scaffolds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NewLang {
    Rust,
    Cpp,
    Both,
}

#[derive(Debug, Args)]
pub struct New {
    /// Name of the plug-in: kebab-case `[a-z][a-z0-9-]*` (snake_case is accepted and normalised)
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Languages to scaffold
    #[arg(long, value_enum, default_value = "both")]
    pub lang: NewLang,
}

#[derive(Debug, Args)]
pub struct Matrix {
    /// Only entries touched since REF (`git diff REF...HEAD` plus uncommitted and untracked files)
    #[arg(long, value_name = "REF", conflicts_with = "tag")]
    pub changed_since: Option<String>,
    /// The one entry a release tag `<lang>-<plugin>-v<semver>` names, with its `version`
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
    /// Print `{"include":[...]}` on one line (for `$GITHUB_OUTPUT`) instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct Codegen {
    /// Fail (exit 1) when a generated file is stale instead of rewriting it
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Args)]
pub struct FuzzDiff {
    /// Only these plug-ins (default: every plug-in with both languages)
    #[arg(long = "plugin", value_name = "NAME")]
    pub plugins: Vec<String>,
    /// Generated cases per plug-in
    #[arg(long, default_value_t = 2000)]
    pub cases: u64,
    /// Generator seed (the same seed gives the same cases)
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Build with the host's toolchains even when a container engine is reachable
    #[arg(long)]
    pub local: bool,
}

/// Parts of `bench`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchSection {
    /// cold, no-change and warm-after-edit build times per language and runner, and `build --all`
    Build,
    /// plugin.wasm bytes of every plug-in and language
    Size,
    /// requests/s and p50/p99 in the conformance host, beside native baselines
    Host,
    /// OCI packaging and a push to a loopback registry
    Images,
}

impl BenchSection {
    pub const ALL: [BenchSection; 4] = [
        BenchSection::Build,
        BenchSection::Size,
        BenchSection::Host,
        BenchSection::Images,
    ];
}

#[derive(Debug, Args)]
pub struct Bench {
    /// Smoke run (about a minute on a warm tree): fewer iterations, no cold builds, no container runs
    #[arg(long)]
    pub quick: bool,
    /// Write the JSON results to FILE (default: out/bench/bench.json), atomically
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Run only these sections (repeatable; default: all)
    #[arg(long, value_enum, value_name = "SECTION")]
    pub only: Vec<BenchSection>,
}
