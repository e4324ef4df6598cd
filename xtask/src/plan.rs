//! Build plans: `plan(plugin, lang, env) -> Vec<Step>` runs nothing (its only I/O is listing the C++ sources);
//! `runner` is the only place steps run.
//!
//! A plan names paths through [`BuildEnv`], which the runner provides, so the same steps run on the host
//! or inside a builder container whose paths differ.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::flags::Lang;
use crate::project::Plugin;

/// Paths and identities the runner provides to a plan.
#[derive(Debug, Clone)]
pub struct BuildEnv {
    /// the repository root as the build tools see it
    pub root: PathBuf,
    /// the repository root on this machine, where the plan lists source files (same as `root` for local
    /// builds; the checkout that is mounted at `root` for container builds)
    pub host_root: PathBuf,
    /// cargo's home (registry sources), remapped out of the binary
    pub cargo_home: PathBuf,
    /// cargo's target folder
    pub target_dir: PathBuf,
    /// the output folder (`out/`)
    pub out_dir: PathBuf,
    /// a token unique to this build process, so parallel builds never share scratch files
    pub unique: String,
    /// `cargo` to run
    pub cargo: String,
    /// the C++ toolchain (absent when no C++ build is planned)
    pub cpp: Option<CppToolchain>,
}

/// The clang toolchain targeting wasm32-wasi, wasi-sdk style.
#[derive(Debug, Clone)]
pub struct CppToolchain {
    pub cxx: String,
    pub sysroot: PathBuf,
    /// `wasm-opt` when available: shrinks the module further
    pub wasm_opt: Option<String>,
}

/// A command with its own argument vector (never a shell string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd {
    pub program: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
}

impl Cmd {
    pub fn new(program: impl Into<String>, cwd: &Path) -> Self {
        Cmd {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            cwd: cwd.to_path_buf(),
        }
    }

    pub fn arg(mut self, a: impl Into<String>) -> Self {
        self.args.push(a.into());
        self
    }

    pub fn args<I, S>(mut self, it: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(it.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, v) in &self.env {
            write!(f, "{k}={} ", quote(v))?;
        }
        f.write_str(&quote(&self.program))?;
        for a in &self.args {
            write!(f, " {}", quote(a))?;
        }
        Ok(())
    }
}

fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// One unit of a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Make a folder (and its parents).
    Mkdir(PathBuf),
    /// Run a tool.
    Run(Cmd),
    /// Check `from` is a wasm module, then copy it to `to` atomically (temp file + rename), so a reader never
    /// sees a half-written file and a failed build never replaces the last good artifact.
    Install { from: PathBuf, to: PathBuf },
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Mkdir(p) => write!(f, "mkdir -p {}", p.display()),
            Step::Run(c) => write!(f, "{c}"),
            Step::Install { from, to } => {
                write!(f, "install {} -> {}", from.display(), to.display())
            }
        }
    }
}

pub const RUST_TARGET: &str = "wasm32-wasip1";
pub const CARGO_PROFILE: &str = "plugin";

/// The steps that build `plugin` in `lang` to `out/<plugin>/<lang>/plugin.wasm`.
pub fn plan(plugin: &Plugin, lang: Lang, env: &BuildEnv) -> Vec<Step> {
    let to = env
        .out_dir
        .join(&plugin.name)
        .join(lang.as_str())
        .join("plugin.wasm");
    match lang {
        Lang::Rust => plan_rust(plugin, env, to),
        Lang::Cpp => plan_cpp(plugin, env, to),
    }
}

fn plan_rust(plugin: &Plugin, env: &BuildEnv, to: PathBuf) -> Vec<Step> {
    // Remap absolute paths that could reach the binary (panic locations of registry crates) so the bytes do
    // not depend on where the checkout or cargo's home is. CARGO_ENCODED_RUSTFLAGS wins over a user's
    // RUSTFLAGS, which would otherwise change the output.
    let rustflags = [
        format!("--remap-path-prefix={}=/cargo", env.cargo_home.display()),
        format!("--remap-path-prefix={}=/src", env.root.display()),
    ]
    .join("\x1f");
    let cargo = Cmd::new(&env.cargo, &env.root)
        .args([
            "build",
            "--locked",
            "--package",
            &plugin.name,
            "--target",
            RUST_TARGET,
            "--profile",
            CARGO_PROFILE,
        ])
        .env("CARGO_TARGET_DIR", env.target_dir.display().to_string())
        .env("CARGO_ENCODED_RUSTFLAGS", rustflags);
    let built = env
        .target_dir
        .join(RUST_TARGET)
        .join(CARGO_PROFILE)
        .join(format!("{}.wasm", plugin.name.replace('-', "_")));
    vec![
        Step::Run(cargo),
        Step::Mkdir(to.parent().unwrap().to_path_buf()),
        Step::Install { from: built, to },
    ]
}

/// The pwsdk sources a standard-API plug-in links besides `wasm-cpp/compat/src`: the ABI wrappers and header
/// serialiser (`hostcalls.cc`) and what they use; not `dispatch.cc`, whose exports the compat dispatcher replaces.
pub const STANDARD_API_PWSDK_SOURCES: &[&str] =
    &["wasm-cpp/src/hostcalls.cc", "wasm-cpp/src/strings.cc"];

/// Flags for clang++ → wasm32-wasi reactor modules. Reproducible: no timestamps are embedded by clang/wasm-ld,
/// and every path is remapped; sources are passed in sorted order.
pub fn cpp_flags(env: &BuildEnv, tc: &CppToolchain) -> Vec<String> {
    let mut f: Vec<String> = [
        "--target=wasm32-wasi",
        "-mexec-model=reactor",
        "-std=c++17",
        "-fno-exceptions",
        "-fno-rtti",
        "-Oz",
        "-flto",
        "-ffunction-sections",
        "-fdata-sections",
        "-DNDEBUG",
        "-Wall",
        "-Wextra",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    f.push(format!("--sysroot={}", tc.sysroot.display()));
    f.push(format!("-ffile-prefix-map={}=/src", env.root.display()));
    f.push(format!("-I{}", env.root.join("wasm-cpp/include").display()));
    f.extend(
        ["-Wl,--gc-sections", "-Wl,--strip-all"]
            .iter()
            .map(|s| s.to_string()),
    );
    f
}

fn plan_cpp(plugin: &Plugin, env: &BuildEnv, to: PathBuf) -> Vec<Step> {
    let Some(tc) = &env.cpp else {
        // The caller checks the toolchain first; a plan without one is a programming error made visible.
        return vec![Step::Run(
            Cmd::new("false", &env.root).arg("no C++ toolchain was resolved"),
        )];
    };
    let scratch = env
        .target_dir
        .join("cpp")
        .join(&plugin.name)
        .join(&env.unique);
    let linked = scratch.join("plugin.wasm");
    // Sources are listed on this machine (host_root) and named as the build tools see them (root).
    let list = |rel: PathBuf| -> Vec<PathBuf> {
        crate::project::cpp_sources(&env.host_root.join(&rel))
            .unwrap_or_default()
            .iter()
            .filter_map(|p| {
                p.strip_prefix(&env.host_root)
                    .ok()
                    .map(|r| env.root.join(r))
            })
            .collect()
    };
    let plugin_dir = Path::new("extensions").join(&plugin.name).join("cpp");
    // A plug-in written against the standard proxy-wasm C++ SDK API links the compat runtime (its own
    // dispatcher) over pwsdk's ABI layer; every other plug-in links pwsdk whole. Never both: two dispatchers
    // would define the same exports.
    let standard = crate::project::uses_standard_cpp_api(&env.host_root.join(&plugin_dir));
    let (mut sources, extra_include) = if standard {
        let mut s: Vec<PathBuf> = STANDARD_API_PWSDK_SOURCES
            .iter()
            .map(|p| env.root.join(p))
            .collect();
        s.extend(list(PathBuf::from("wasm-cpp/compat/src")));
        (
            s,
            Some(format!(
                "-I{}",
                env.root.join("wasm-cpp/compat/include").display()
            )),
        )
    } else {
        (list(PathBuf::from("wasm-cpp/src")), None)
    };
    sources.extend(list(plugin_dir));
    let mut steps = vec![Step::Mkdir(scratch.clone())];
    let compile = Cmd::new(&tc.cxx, &env.root)
        .args(cpp_flags(env, tc))
        .args(extra_include)
        .args(sources.iter().map(|s| s.display().to_string()))
        .arg("-o")
        .arg(linked.display().to_string());
    steps.push(Step::Run(compile));
    let last = if let Some(opt) = &tc.wasm_opt {
        let optimised = scratch.join("plugin.opt.wasm");
        steps.push(Step::Run(
            Cmd::new(opt, &env.root)
                .args([
                    "-Oz",
                    "--strip-debug",
                    "--strip-producers",
                    "--enable-bulk-memory",
                ])
                .arg(linked.display().to_string())
                .arg("-o")
                .arg(optimised.display().to_string()),
        ));
        optimised
    } else {
        linked
    };
    steps.push(Step::Mkdir(to.parent().unwrap().to_path_buf()));
    steps.push(Step::Install { from: last, to });
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> BuildEnv {
        BuildEnv {
            root: "/src".into(),
            host_root: "/src".into(),
            cargo_home: "/cargo".into(),
            target_dir: "/src/target".into(),
            out_dir: "/src/out".into(),
            unique: "u1".into(),
            cargo: "cargo".into(),
            cpp: Some(CppToolchain {
                cxx: "clang++".into(),
                sysroot: "/usr".into(),
                wasm_opt: None,
            }),
        }
    }

    #[test]
    fn rust_plan_builds_with_the_plugin_profile_and_installs_atomically() {
        let p = Plugin {
            name: "say-hello".into(),
            langs: vec![Lang::Rust],
        };
        let steps: Vec<String> = plan(&p, Lang::Rust, &env())
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(steps.len(), 3);
        assert!(steps[0].ends_with(
            "cargo build --locked --package say-hello --target wasm32-wasip1 --profile plugin"
        ));
        assert!(
            steps[0].contains("--remap-path-prefix=/src=/src"),
            "{}",
            steps[0]
        );
        assert_eq!(
            steps[2],
            "install /src/target/wasm32-wasip1/plugin/say_hello.wasm -> /src/out/say-hello/rust/plugin.wasm"
        );
    }

    #[test]
    fn cpp_plan_uses_a_scratch_folder_unique_to_the_build() {
        let p = Plugin {
            name: "request-block".into(),
            langs: vec![Lang::Cpp],
        };
        let steps = plan(&p, Lang::Cpp, &env());
        assert_eq!(
            steps[0],
            Step::Mkdir("/src/target/cpp/request-block/u1".into())
        );
        let Step::Run(c) = &steps[1] else {
            panic!("compile step expected")
        };
        assert!(c.args.contains(&"-ffile-prefix-map=/src=/src".to_string()));
        assert!(c.args.ends_with(&[
            "-o".into(),
            "/src/target/cpp/request-block/u1/plugin.wasm".into()
        ]));
        assert!(matches!(steps.last(), Some(Step::Install { .. })));
    }

    /// A throw-away checkout with pwsdk's and the compat runtime's sources and two plug-ins, one per API.
    fn checkout(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-plan-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (file, text) in [
            ("wasm-cpp/src/dispatch.cc", ""),
            ("wasm-cpp/src/hostcalls.cc", ""),
            ("wasm-cpp/src/json.cc", ""),
            ("wasm-cpp/src/strings.cc", ""),
            ("wasm-cpp/compat/src/api.cc", ""),
            ("wasm-cpp/compat/src/dispatch.cc", ""),
            (
                "extensions/own/cpp/plugin.cc",
                "#include \"pwsdk/pwsdk.h\"\n",
            ),
            (
                "extensions/standard/cpp/plugin.cc",
                "// a plug-in for the upstream SDK\n#include \"proxy_wasm_intrinsics.h\"\n",
            ),
        ] {
            let path = dir.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    fn compile_args(host_root: &Path, plugin: &str) -> Vec<String> {
        let env = BuildEnv {
            host_root: host_root.to_path_buf(),
            ..env()
        };
        let p = Plugin {
            name: plugin.into(),
            langs: vec![Lang::Cpp],
        };
        let Step::Run(c) = &plan(&p, Lang::Cpp, &env)[1] else {
            panic!("compile step expected")
        };
        c.args.clone()
    }

    #[test]
    fn cpp_plan_picks_the_runtime_by_the_api_a_plugin_includes() {
        let dir = checkout("runtime");
        let own = compile_args(&dir, "own");
        let sources: Vec<&str> = own
            .iter()
            .filter(|a| a.ends_with(".cc"))
            .map(|a| a.as_str())
            .collect();
        assert_eq!(
            sources,
            [
                "/src/wasm-cpp/src/dispatch.cc",
                "/src/wasm-cpp/src/hostcalls.cc",
                "/src/wasm-cpp/src/json.cc",
                "/src/wasm-cpp/src/strings.cc",
                "/src/extensions/own/cpp/plugin.cc"
            ]
        );
        assert!(!own.iter().any(|a| a.contains("compat")), "{own:?}");

        let standard = compile_args(&dir, "standard");
        let sources: Vec<&str> = standard
            .iter()
            .filter(|a| a.ends_with(".cc"))
            .map(|a| a.as_str())
            .collect();
        assert_eq!(
            sources,
            [
                "/src/wasm-cpp/src/hostcalls.cc",
                "/src/wasm-cpp/src/strings.cc",
                "/src/wasm-cpp/compat/src/api.cc",
                "/src/wasm-cpp/compat/src/dispatch.cc",
                "/src/extensions/standard/cpp/plugin.cc"
            ]
        );
        assert!(standard.contains(&"-I/src/wasm-cpp/compat/include".to_string()));
        assert!(standard.contains(&"-I/src/wasm-cpp/include".to_string()));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
