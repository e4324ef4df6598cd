//! `cargo xtask`: dispatch only. Each command lives in its own module as `impl flags::X { fn run }`.

mod bake;
mod bench;
mod build;
mod builder;
mod codegen;
mod conformance;
mod container;
mod cpptest;
mod engine;
mod flags;
mod fuzzdiff;
mod git;
mod image;
mod imagetest;
mod lint;
mod list;
mod lockfile;
mod matrix;
mod new;
mod plan;
mod plugintest;
mod project;
mod repro;
mod runner;
mod setup;
mod test;
mod toolchain;
mod ui;
mod workflow;

use clap::Parser;

/// A test or check failure (exit 1), as opposed to a usage or infrastructure error (exit 2).
#[derive(Debug)]
pub struct Failure(pub String);

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failure {}

fn main() {
    let args = flags::Xtask::parse();
    let ui = ui::Ui::new(args.verbose, args.quiet);
    let result = match args.cmd {
        flags::Cmd::Build(c) => c.run(&ui),
        flags::Cmd::List(c) => c.run(&ui),
        flags::Cmd::Conformance(c) => c.run(&ui),
        flags::Cmd::Test(c) => c.run(&ui),
        flags::Cmd::Lint(c) => c.run(&ui),
        flags::Cmd::FuzzDiff(c) => c.run(&ui),
        flags::Cmd::Image(c) => c.run(&ui),
        flags::Cmd::Push(c) => c.run(&ui),
        flags::Cmd::Manifest(c) => c.run(&ui),
        flags::Cmd::Builder(c) => c.run(&ui),
        flags::Cmd::VerifyRepro(c) => c.run(&ui),
        flags::Cmd::New(c) => c.run(&ui),
        flags::Cmd::Matrix(c) => c.run(&ui),
        flags::Cmd::Codegen(c) => c.run(&ui),
        flags::Cmd::Bench(c) => c.run(&ui),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        let code = if setup::interrupted() {
            130
        } else if e.downcast_ref::<Failure>().is_some() {
            1
        } else {
            2
        };
        std::process::exit(code);
    }
}
