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
    /// Use the host's toolchains (the only runner until container builds land)
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
}

#[derive(Debug, Args)]
pub struct Test {
    /// Skip the C++ language (for machines without the wasm32 clang toolchain)
    #[arg(long)]
    pub no_cpp: bool,
}

#[derive(Debug, Args)]
pub struct Lint {}
