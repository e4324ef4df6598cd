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
    /// Run the whole test suite: unit tests, C++ SDK tests, conformance, generic battery
    Test(Test),
    /// rustfmt, clippy (warnings denied), clang-format and tidy checks
    Lint(Lint),
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
}

#[derive(Debug, Args)]
pub struct Test {
    /// Skip the C++ language (for machines without the wasm32 clang toolchain)
    #[arg(long)]
    pub no_cpp: bool,
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
