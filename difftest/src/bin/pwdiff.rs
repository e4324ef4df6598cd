//! `pwdiff --plugin NAME --rust A.wasm --cpp B.wasm --cases N --seed S`: differential run of a plug-in's
//! Rust and C++ builds. Exit 0: no divergence; 1: divergences (each printed as a minimal vector case);
//! 2: usage or infrastructure errors.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "pwdiff",
    about = "Differential testing of a plug-in's Rust and C++ builds"
)]
struct Cli {
    /// Plug-in name (also the log prefix both builds use).
    #[arg(long)]
    plugin: String,
    /// The Rust build (.wasm).
    #[arg(long)]
    rust: PathBuf,
    /// The C++ build (.wasm).
    #[arg(long)]
    cpp: PathBuf,
    /// Number of generated cases.
    #[arg(long, default_value_t = 1000)]
    cases: usize,
    /// PRNG seed (same seed, same cases).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Vector files or directories whose cases seed the mutator (default: extensions/<plugin>/vectors when it
    /// exists under the current directory).
    #[arg(long)]
    vectors: Vec<PathBuf>,
    /// Most runs spent shrinking one divergence.
    #[arg(long, default_value_t = 1500)]
    shrink_budget: usize,
    /// Also print rejection-wording differences (allowed by the contract).
    #[arg(long)]
    show_wording: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut vectors = cli.vectors.clone();
    if vectors.is_empty() {
        let default = PathBuf::from("extensions")
            .join(&cli.plugin)
            .join("vectors");
        if default.is_dir() {
            vectors.push(default);
        }
    }
    let opts = pwdiff::Options {
        plugin: cli.plugin.clone(),
        rust: cli.rust,
        cpp: cli.cpp,
        cases: cli.cases,
        seed: cli.seed,
        vectors,
        shrink_budget: cli.shrink_budget,
    };
    let report = match pwdiff::run(&opts, |line| println!("{line}")) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("pwdiff: {e:#}");
            return ExitCode::from(2);
        }
    };
    for f in &report.findings {
        println!(
            "DIVERGENCE {} [{}]: {} of {} cases",
            report.plugin,
            f.signature.join(", "),
            f.hits,
            report.cases
        );
        for d in &f.divergences {
            println!("  - {}: rust {} | cpp {}", d.aspect, d.rust, d.cpp);
        }
    }
    if cli.show_wording || report.findings.is_empty() {
        for (key, (n, r, c)) in &report.wording {
            println!("wording ({n} cases) {key}\n  rust: {r}\n  cpp:  {c}");
        }
    }
    println!("{}", report.summary());
    if report.diverged() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
