//! `pwdiff`: differential testing of the Rust and C++ builds of a plug-in (issue 4 item 5), and a native
//! comparison of the two SDKs' pure logic (issue 4 item 6, `tests/native.rs` over the `native` module).
//!
//! [`run`] generates seeded cases for a plug-in (fresh ones from its documented configuration schema and
//! mutations of its vector cases), runs each on both builds through `pwhost` and compares every observable
//! effect; each distinct divergence is shrunk to a minimal case printed in the vector YAML format.

pub mod case;
pub mod gen;
pub mod native;
pub mod observe;
pub mod prng;
pub mod regex_gen;
pub mod shrink;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use pwhost::Plugin;

use case::DiffCase;
use observe::{compare, observe, Divergence, Observation};
use prng::Rng;

/// What to run.
#[derive(Clone, Debug)]
pub struct Options {
    pub plugin: String,
    pub rust: PathBuf,
    pub cpp: PathBuf,
    pub cases: usize,
    pub seed: u64,
    /// Vector files or directories whose cases seed the mutator (none: fresh cases only).
    pub vectors: Vec<PathBuf>,
    /// Most candidate runs spent shrinking one divergence.
    pub shrink_budget: usize,
}

/// One distinct divergence (by the set of aspects that differ), shrunk.
#[derive(Clone, Debug)]
pub struct Finding {
    /// The contract aspects that differ, e.g. `["configure"]`.
    pub signature: Vec<String>,
    /// How many generated cases showed this signature.
    pub hits: usize,
    /// The first case that showed it, as generated.
    pub original: DiffCase,
    pub minimal: DiffCase,
    pub divergences: Vec<Divergence>,
    /// The minimal case as vector YAML, with the Rust build's behaviour as `expect` and the C++ build's in
    /// comments.
    pub yaml: String,
    pub shrink_runs: usize,
}

/// The result of a run.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub plugin: String,
    pub cases: usize,
    pub seeded_from_vectors: usize,
    /// Cases both builds rejected at configure time.
    pub rejected: usize,
    /// Cases both builds answered with a local response.
    pub local_responses: usize,
    /// Cases both builds forwarded upstream.
    pub forwarded: usize,
    /// Contract divergences, one per signature.
    pub findings: Vec<Finding>,
    /// Differences the contract allows (rejection reason wording): signature → (count, example rust, cpp).
    pub wording: BTreeMap<String, (usize, String, String)>,
    pub elapsed: Duration,
}

impl Report {
    pub fn diverged(&self) -> bool {
        !self.findings.is_empty()
    }

    /// A short summary line.
    pub fn summary(&self) -> String {
        format!(
            "pwdiff {}: {} cases ({} from vectors): {} rejected by both, {} local responses, {} forwarded; \
             {} divergences ({} cases), {} wording differences; {:.1}s",
            self.plugin,
            self.cases,
            self.seeded_from_vectors,
            self.rejected,
            self.local_responses,
            self.forwarded,
            self.findings.len(),
            self.findings.iter().map(|f| f.hits).sum::<usize>(),
            self.wording.values().map(|w| w.0).sum::<usize>(),
            self.elapsed.as_secs_f64()
        )
    }
}

/// Both builds of one plug-in.
pub struct Pair {
    pub rust: Plugin,
    pub cpp: Plugin,
}

impl Pair {
    pub fn load(plugin: &str, rust: &Path, cpp: &Path) -> anyhow::Result<Pair> {
        let load = |p: &Path, lang: &str| -> anyhow::Result<Plugin> {
            if !p.is_file() {
                bail!(
                    "{lang} build of {plugin} not found at {}: build it first (cargo xtask build)",
                    p.display()
                );
            }
            Ok(Plugin::load(p)
                .with_context(|| format!("loading the {lang} build of {plugin} ({})", p.display()))?
                .named(plugin))
        };
        Ok(Pair {
            rust: load(rust, "rust")?,
            cpp: load(cpp, "cpp")?,
        })
    }

    /// Runs a case on both builds.
    pub fn run(&self, case: &DiffCase) -> (Observation, Observation, Vec<Divergence>) {
        let c = case.to_case();
        let r = observe(&self.rust, &c);
        let p = observe(&self.cpp, &c);
        let d = compare(&r, &p);
        (r, p, d)
    }
}

fn signature(d: &[Divergence]) -> Vec<String> {
    let mut s: Vec<String> = d
        .iter()
        .filter(|d| d.contract)
        .map(|d| d.aspect.clone())
        .collect();
    s.sort();
    s.dedup();
    s
}

/// Reads the vector cases of `paths` (files or directories of `*.yaml`) as mutator seeds.
pub fn seeds(paths: &[PathBuf]) -> anyhow::Result<Vec<DiffCase>> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("reading vector directory {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
                .collect();
            entries.sort();
            files.extend(entries);
        } else {
            files.push(p.clone());
        }
    }
    let mut out = Vec::new();
    for f in files {
        let file = pwhost::vectors::load(&f).map_err(|e| anyhow::anyhow!("{e}"))?;
        out.extend(file.cases.iter().filter_map(DiffCase::from_case));
    }
    Ok(out)
}

/// Runs the differential check; `progress` receives one line per finding as it is found.
pub fn run(opts: &Options, mut progress: impl FnMut(&str)) -> anyhow::Result<Report> {
    let start = Instant::now();
    let pair = Pair::load(&opts.plugin, &opts.rust, &opts.cpp)?;
    let seeds = seeds(&opts.vectors)?;
    let mut rng = Rng::new(opts.seed);
    let mut report = Report {
        plugin: opts.plugin.clone(),
        ..Report::default()
    };
    let mut index_of: BTreeMap<Vec<String>, usize> = BTreeMap::new();
    for i in 0..opts.cases {
        let mut case_rng = rng.fork();
        let case = if !seeds.is_empty() && case_rng.chance(30) {
            report.seeded_from_vectors += 1;
            let seed = case_rng.pick(&seeds).clone();
            gen::mutate(&seed, &opts.plugin, &mut case_rng, i)
        } else {
            gen::fresh(&opts.plugin, &mut case_rng, i)
        };
        report.cases += 1;
        let (r, _c, diffs) = pair.run(&case);
        for d in diffs.iter().filter(|d| !d.contract) {
            let w = report
                .wording
                .entry(observe::rejection_key(&d.rust))
                .or_insert_with(|| (0, d.rust.clone(), d.cpp.clone()));
            w.0 += 1;
        }
        let sig = signature(&diffs);
        if sig.is_empty() {
            match (&r.outcome, r.configured) {
                (_, false) => report.rejected += 1,
                (Some(o), true) if o.local_response.is_some() => report.local_responses += 1,
                _ => report.forwarded += 1,
            }
            continue;
        }
        if let Some(&k) = index_of.get(&sig) {
            report.findings[k].hits += 1;
            continue;
        }
        let primary = sig[0].clone();
        let (minimal, shrink_runs) = shrink::shrink(case.clone(), opts.shrink_budget, |cand| {
            signature(&pair.run(cand).2).contains(&primary)
        });
        let (mr, mc, mdiffs) = pair.run(&minimal);
        let mut minimal = minimal;
        minimal.name = format!(
            "pwdiff {} seed {} case {i}: {}",
            opts.plugin,
            opts.seed,
            sig.join(", ")
        );
        let yaml = case::to_yaml(&minimal, &expect_yaml(&mr, &mc, &mdiffs));
        progress(&format!(
            "divergence [{}] at case {i}; minimal case:\n{yaml}",
            sig.join(", ")
        ));
        index_of.insert(sig.clone(), report.findings.len());
        report.findings.push(Finding {
            signature: sig,
            hits: 1,
            original: case,
            minimal,
            divergences: mdiffs,
            yaml,
            shrink_runs,
        });
    }
    report.elapsed = start.elapsed();
    Ok(report)
}

/// The `expect:` block: the Rust build's behaviour, then the C++ build's differences as comments.
fn expect_yaml(r: &Observation, c: &Observation, diffs: &[Divergence]) -> String {
    use case::{yaml_headers, yq};
    let hl = |h: &pwhost::Headers| -> case::HeaderList {
        let mut l = Vec::new();
        for (k, v) in &h.0 {
            case::add_header(&mut l, k, &String::from_utf8_lossy(v));
        }
        l
    };
    let mut y = String::from(
        "    # expect: as the Rust build behaves; check it against the contract before pasting\n",
    );
    for d in diffs {
        y += &format!(
            "    # {}: rust {} | cpp {}\n",
            d.aspect,
            one_line(&d.rust),
            one_line(&d.cpp)
        );
    }
    y += "    expect:\n";
    if let Some(crash) = &r.crash {
        y += &format!("      # rust crashed: {}\n", one_line(crash));
        return y;
    }
    if !r.configured {
        y += "      configure: rejected\n";
        if let Some(l) = r
            .start_logs
            .iter()
            .find(|l| l.level >= pwhost::LogLevel::Error)
        {
            y += &format!(
                "      logs: [{{level: error, contains: {}}}]\n",
                yq(&observe::rejection_key(&l.message))
            );
        }
        return y;
    }
    let Some(o) = &r.outcome else {
        return y;
    };
    if let Some(l) = &o.local_response {
        y += &format!(
            "      local_response: {{status: {}, headers: {}, body: {}}}\n",
            l.status,
            yaml_headers(&hl(&l.headers)),
            yq(&String::from_utf8_lossy(&l.body))
        );
    } else if let Some(u) = &o.upstream_request {
        y += &format!(
            "      upstream_request: {{headers: {}, body: {}}}\n",
            yaml_headers(&hl(&u.headers)),
            yq(&String::from_utf8_lossy(&u.body))
        );
    }
    if let Some(d) = &o.downstream_response {
        y += &format!(
            "      downstream_response: {{headers: {}, body: {}}}\n",
            yaml_headers(&hl(&d.headers)),
            yq(&String::from_utf8_lossy(&d.body))
        );
    }
    let logs: Vec<String> = o
        .logs
        .iter()
        .filter(|l| l.level >= pwhost::LogLevel::Info)
        .map(|l| format!("{{level: {}, contains: {}}}", l.level, yq(&l.message)))
        .collect();
    if !logs.is_empty() {
        y += &format!("      logs: [{}]\n", logs.join(", "));
    }
    let _ = c;
    y
}

fn one_line(s: &str) -> String {
    let s = s.replace('\n', "\\n");
    if s.len() > 300 {
        format!("{}...", &s[..s.floor_char_boundary(300)])
    } else {
        s
    }
}

/// The wasm files of an `out/`-style tree: `<dir>/<plugin>/<lang>/plugin.wasm`.
pub fn wasm_in(dir: &Path, plugin: &str, lang: &str) -> PathBuf {
    dir.join(plugin).join(lang).join("plugin.wasm")
}
