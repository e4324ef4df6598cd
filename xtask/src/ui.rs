//! All human-facing output goes through `Ui`: progress on stderr, results on stdout.

use std::time::Instant;

#[derive(Debug, Clone)]
pub struct Ui {
    pub verbose: bool,
    pub quiet: bool,
    start: Instant,
}

impl Ui {
    pub fn new(verbose: bool, quiet: bool) -> Self {
        Ui {
            verbose,
            quiet,
            start: Instant::now(),
        }
    }

    /// A step a person follows: `[  3.2s] building say-hello (rust) with local toolchains`.
    pub fn status(&self, msg: &str) {
        if !self.quiet {
            eprintln!("[{:>6.1}s] {msg}", self.start.elapsed().as_secs_f64());
        }
    }

    /// `+ cargo build ...` under --verbose.
    pub fn command(&self, cmd: &str) {
        if self.verbose {
            eprintln!("+ {cmd}");
        }
    }

    /// A warning is printed even when quiet.
    pub fn warn(&self, msg: &str) {
        eprintln!("warning: {msg}");
    }

    /// A final result, on stdout.
    pub fn result(&self, msg: &str) {
        println!("{msg}");
    }

    pub fn elapsed_secs(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }
}
