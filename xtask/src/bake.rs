//! `docker-bake.hcl`, rendered by `cargo xtask codegen`: one target per plug-in × language, so
//! `docker buildx bake` builds the whole monorepo in parallel (on a remote BuildKit cluster too), with a registry
//! cache when `CACHE_REF` is set.
//!
//! Each target runs the very steps `plan()` gives a container build (paths `/src`, `/target`, `/cargo`),
//! rendered as a shell script in the `BUILD_STEPS` build argument of `docker/bake.Dockerfile`, inside the
//! language's builder image (a bake target of its own, from `docker/<lang>-builder.Dockerfile`). The output is
//! the `FROM scratch` stage holding `/plugin.wasm`.

use std::fmt::Write;
use std::path::Path;

use anyhow::Result;

use crate::flags::Lang;
use crate::plan::{plan, BuildEnv, CppToolchain, Step};
use crate::project::{self, Plugin};

pub const PATH: &str = "docker-bake.hcl";

/// The build environment inside a builder image, as `container::Container::env` gives it; `unique` is fixed so
/// the file does not change from one run to the next (each bake target has its own filesystem anyway).
fn env(root: &Path) -> BuildEnv {
    use crate::container::{CARGO_HOME, SRC, TARGET};
    BuildEnv {
        root: SRC.into(),
        host_root: root.to_path_buf(),
        cargo_home: CARGO_HOME.into(),
        target_dir: TARGET.into(),
        out_dir: Path::new(SRC).join("out"),
        unique: "bake".into(),
        cargo: "cargo".into(),
        cpp: Some(CppToolchain {
            cxx: "clang++".into(),
            sysroot: "/usr".into(),
            wasm_opt: None,
        }),
    }
}

/// One plan as a POSIX shell script, one command per line.
pub fn script(p: &Plugin, lang: Lang, env: &BuildEnv) -> String {
    let mut lines = Vec::new();
    for step in plan(p, lang, env) {
        lines.push(match step {
            Step::Mkdir(d) => format!("mkdir -p {}", d.display()),
            Step::Run(c) if c.cwd == env.root => c.to_string(),
            Step::Run(c) => format!("cd {} && {c} && cd {}", c.cwd.display(), env.root.display()),
            // The atomic install matters on a shared host; here the stage is private, a copy is enough. The
            // magic check keeps the install's promise that only wasm modules are shipped.
            Step::Install { from, to } => format!(
                "test \"$(head -c 4 {f} | od -An -c | tr -d ' ')\" = '\\0asm' && cp {f} {t}",
                f = from.display(),
                t = to.display()
            ),
        });
    }
    lines.join("\n")
}

/// An HCL string literal: escapes quotes, backslashes, control characters and template sequences.
fn hcl_str(s: &str) -> String {
    let mut o = String::from("\"");
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                o.push(c);
                o.push(c);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

pub fn target_name(p: &Plugin, l: Lang) -> String {
    format!("{}-{l}", p.name)
}

pub fn render(root: &Path) -> Result<String> {
    let plugins = project::plugins(root)?;
    let env = env(root);
    let mut s = crate::codegen::header("#", "cargo xtask codegen");
    s.push_str(
        r#"#
# Build every plug-in × language in parallel with BuildKit:
#   docker buildx bake                      # everything
#   docker buildx bake rust                 # one language (group), or one target: say-hello-cpp
#   docker buildx bake --set '*.output=type=local,dest=out/bake' say-hello-rust   # plugin.wasm on disk
# With a registry cache shared by every builder of a remote cluster:
#   CACHE_REF=registry.example.com/plugins/cache REGISTRY=registry.example.com/plugins/ TAG=1.0.0 \
#     docker buildx bake --push
# Each plug-in target runs `plan()`'s container steps (BUILD_STEPS) in its language's builder image, then keeps
# only /plugin.wasm (a FROM scratch stage, the compat image gateways accept). Needs the buildx plug-in.

variable "REGISTRY" {
  default = ""
}

variable "TAG" {
  default = "latest"
}

# Registry cache reference (e.g. registry.example.com/plugins/cache); empty: no registry cache.
variable "CACHE_REF" {
  default = ""
}

function "cache_from" {
  params = [name]
  result = CACHE_REF == "" ? [] : ["type=registry,ref=${CACHE_REF}:${name}"]
}

function "cache_to" {
  params = [name]
  result = CACHE_REF == "" ? [] : ["type=registry,ref=${CACHE_REF}:${name},mode=max"]
}

"#,
    );
    let names = |l: Option<Lang>| -> Vec<String> {
        plugins
            .iter()
            .flat_map(|p| p.langs.iter().map(move |&pl| (p, pl)))
            .filter(|(_, pl)| l.is_none_or(|l| l == *pl))
            .map(|(p, pl)| hcl_str(&target_name(p, pl)))
            .collect()
    };
    let list = |v: Vec<String>| {
        if v.is_empty() {
            "[]".to_string()
        } else {
            format!("[\n    {},\n  ]", v.join(",\n    "))
        }
    };
    let _ = writeln!(
        s,
        "group \"default\" {{\n  targets = {}\n}}\n",
        list(Lang::ALL.iter().map(|l| hcl_str(l.as_str())).collect())
    );
    for l in Lang::ALL {
        let _ = writeln!(
            s,
            "group \"{l}\" {{\n  targets = {}\n}}\n",
            list(names(Some(l)))
        );
    }
    for l in Lang::ALL {
        let spec = crate::builder::Spec::load(root, l)?;
        let _ = writeln!(
            s,
            "# The {l} builder image (`cargo xtask builder --lang {l}` makes the same one)."
        );
        let _ = writeln!(s, "target \"builder-{l}\" {{");
        let _ = writeln!(s, "  context    = \"docker\"");
        let _ = writeln!(s, "  dockerfile = \"{l}-builder.Dockerfile\"");
        if !spec.build_args.is_empty() {
            let _ = writeln!(s, "  args = {{");
            for (k, v) in &spec.build_args {
                let _ = writeln!(s, "    {k} = {}", hcl_str(v));
            }
            let _ = writeln!(s, "  }}");
        }
        let _ = writeln!(s, "  cache-from = cache_from(\"builder-{l}\")");
        let _ = writeln!(s, "  cache-to   = cache_to(\"builder-{l}\")");
        let _ = writeln!(s, "}}\n");
    }
    for p in &plugins {
        for &l in &p.langs {
            let t = target_name(p, l);
            let _ = writeln!(s, "target {} {{", hcl_str(&t));
            let _ = writeln!(s, "  context    = \".\"");
            let _ = writeln!(s, "  dockerfile = \"docker/bake.Dockerfile\"");
            let _ = writeln!(s, "  target     = \"plugin\"");
            let _ = writeln!(
                s,
                "  contexts = {{\n    builder = \"target:builder-{l}\"\n  }}"
            );
            let _ = writeln!(s, "  args = {{");
            let _ = writeln!(s, "    PLUGIN      = {}", hcl_str(&p.name));
            let _ = writeln!(s, "    PLUGIN_LANG = \"{l}\"");
            let _ = writeln!(s, "    BUILD_STEPS = {}", hcl_str(&script(p, l, &env)));
            let _ = writeln!(s, "  }}");
            let _ = writeln!(
                s,
                "  tags       = [\"${{REGISTRY}}{}:${{TAG}}-{l}\"]",
                p.name
            );
            let _ = writeln!(s, "  cache-from = cache_from({})", hcl_str(&t));
            let _ = writeln!(s, "  cache-to   = cache_to({})", hcl_str(&t));
            let _ = writeln!(s, "}}\n");
        }
    }
    Ok(s.trim_end().to_string() + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Minimal HCL reading for the invariants: top-level blocks and balanced braces, brackets and strings.
    fn blocks(text: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for line in text.lines() {
            if line.starts_with(' ')
                || line.starts_with('#')
                || line.starts_with('}')
                || line.is_empty()
            {
                continue;
            }
            let mut it = line.split_whitespace();
            let kind = it.next().unwrap().to_string();
            let label = it.next().unwrap_or("").trim_matches('"').to_string();
            out.push((kind, label));
        }
        out
    }

    fn balanced(text: &str) {
        let (mut depth, mut in_str, mut esc) = (0i32, false, false);
        for c in text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .flat_map(|l| l.chars().chain(['\n']))
        {
            if in_str {
                match (esc, c) {
                    (true, _) => esc = false,
                    (false, '\\') => esc = true,
                    (false, '"') => in_str = false,
                    (false, '\n') => panic!("newline inside a string"),
                    _ => {}
                }
                continue;
            }
            match c {
                '"' => in_str = true,
                '{' | '[' | '(' => depth += 1,
                '}' | ']' | ')' => depth -= 1,
                _ => {}
            }
            assert!(depth >= 0, "unbalanced close");
        }
        assert_eq!(depth, 0, "unbalanced");
        assert!(!in_str, "unterminated string");
    }

    #[test]
    fn a_target_per_plugin_and_language_with_registry_cache() {
        let root = project::root();
        let text = render(&root).unwrap();
        balanced(&text);
        let b = blocks(&text);
        let targets: Vec<&str> = b
            .iter()
            .filter(|(k, _)| k == "target")
            .map(|(_, l)| l.as_str())
            .collect();
        let plugins = project::plugins(&root).unwrap();
        for p in &plugins {
            for l in Lang::ALL {
                assert_eq!(
                    targets.contains(&target_name(p, l).as_str()),
                    p.has(l),
                    "{} {l}",
                    p.name
                );
            }
        }
        assert!(targets.contains(&"builder-rust") && targets.contains(&"builder-cpp"));
        let groups: Vec<&str> = b
            .iter()
            .filter(|(k, _)| k == "group")
            .map(|(_, l)| l.as_str())
            .collect();
        assert_eq!(groups, ["default", "rust", "cpp"]);
        for v in ["REGISTRY", "TAG", "CACHE_REF"] {
            assert!(b.contains(&("variable".into(), v.into())), "{v}");
        }
        // Every target caches to and from the registry (through the functions guarding an empty CACHE_REF).
        assert_eq!(
            text.matches("  cache-from = cache_from(").count(),
            targets.len()
        );
        assert_eq!(
            text.matches("  cache-to   = cache_to(").count(),
            targets.len()
        );
        assert!(text.contains("\"type=registry,ref=${CACHE_REF}:${name},mode=max\""));
        // The builder's toolchain follows rust-toolchain.toml.
        assert!(text.contains("RUST_VERSION = \"1.95.0\""), "{text}");
    }

    #[test]
    fn build_steps_are_the_container_plan() {
        let root = project::root();
        let p = Plugin {
            name: "say-hello".into(),
            langs: vec![Lang::Rust, Lang::Cpp],
        };
        let rust = script(&p, Lang::Rust, &env(&root));
        assert!(rust.starts_with("CARGO_TARGET_DIR=/target "), "{rust}");
        assert!(rust.contains(
            "cargo build --locked --package say-hello --target wasm32-wasip1 --profile plugin"
        ));
        assert!(rust.contains(
            "cp /target/wasm32-wasip1/plugin/say_hello.wasm /src/out/say-hello/rust/plugin.wasm"
        ));
        let cpp = script(&p, Lang::Cpp, &env(&root));
        assert!(cpp.contains("clang++ --target=wasm32-wasi"), "{cpp}");
        assert!(
            cpp.contains("/src/extensions/say-hello/cpp/plugin.cc"),
            "{cpp}"
        );
        assert!(cpp.contains("/src/out/say-hello/cpp/plugin.wasm"), "{cpp}");
        // Only container paths: nothing from this machine leaks into the file.
        assert!(!cpp.contains(&root.display().to_string()));
        // The unit separator of CARGO_ENCODED_RUSTFLAGS survives as an HCL escape.
        assert!(hcl_str(&rust).contains("\\u001f"));
        assert_eq!(hcl_str("a${b}%{c}$d\"\\"), "\"a$${b}%%{c}$d\\\"\\\\\"");
    }

    /// `docker/bake.Dockerfile` takes exactly the arguments the targets give.
    #[test]
    fn the_dockerfile_matches_the_targets() {
        let root = project::root();
        let df = std::fs::read_to_string(root.join("docker/bake.Dockerfile")).unwrap();
        for needle in [
            "FROM builder AS build",
            "ARG BUILD_STEPS",
            "FROM scratch AS plugin",
            "ARG PLUGIN",
            "ARG PLUGIN_LANG",
            "/plugin.wasm",
        ] {
            assert!(
                df.contains(needle),
                "docker/bake.Dockerfile lacks `{needle}`"
            );
        }
    }
}
