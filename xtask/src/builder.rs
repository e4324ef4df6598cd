//! `cargo xtask builder`: the pinned builder images container builds run in.
//!
//! Each image is tagged by a hash of its inputs (Dockerfile bytes, toolchain versions, base image ref):
//! `pwbuild-rust:<hash12>`. A present tag is reused. The base is `BASE_IMAGE` from the Dockerfile (a digest ref)
//! when it is present or can be pulled; otherwise it is made from a Debian mirror with debootstrap and imported
//! as `pwbase-bookworm:<hash12>`, which is reused the same way.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::engine::Engine;
use crate::flags::{self, Bootstrap, Lang};
use crate::ui::Ui;

pub const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";
const SUITE: &str = "bookworm";
/// Bumped when the way images are made changes in a way the hashed inputs do not show.
const RECIPE: &str = "pwbuild-v1";

/// How to make the images.
#[derive(Debug, Clone)]
pub struct Options {
    pub bootstrap: Bootstrap,
    pub mirror: String,
    /// PEM bundle for TLS inside image builds; never stored in an image
    pub ca_bundle: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            bootstrap: Bootstrap::Auto,
            mirror: DEFAULT_MIRROR.into(),
            ca_bundle: crate::container::default_ca_bundle(),
        }
    }
}

impl flags::Builder {
    pub fn run(self, ui: &Ui) -> Result<()> {
        let engine = Engine::detect(self.engine.as_deref())?;
        ui.status(&format!("engine: {}", engine.describe()));
        let ca_bundle = match self.ca_bundle {
            Some(p) if !p.is_file() => bail!(
                "CA bundle {} does not exist; pass a PEM file to --ca-bundle",
                p.display()
            ),
            Some(p) => Some(p),
            None => crate::container::default_ca_bundle(),
        };
        let opts = Options {
            bootstrap: self.bootstrap,
            mirror: self.mirror,
            ca_bundle,
        };
        for (lang, tag, how) in ensure(&engine, &self.lang.langs(), &opts, true, ui)? {
            ui.result(&format!("{lang:<5} {tag}  {how}"));
        }
        Ok(())
    }
}

/// The builder image for each language, made when missing (`prepare`) or only named (dry runs).
pub fn images_for(
    engine: &Engine,
    langs: &[Lang],
    prepare: bool,
    ui: &Ui,
) -> Result<Vec<(Lang, String)>> {
    Ok(ensure(engine, langs, &Options::default(), prepare, ui)?
        .into_iter()
        .map(|(l, t, _)| (l, t))
        .collect())
}

/// The inputs of one builder image.
#[derive(Debug, Clone)]
pub struct Spec {
    pub lang: Lang,
    pub dockerfile: PathBuf,
    pub bytes: Vec<u8>,
    /// `--build-arg`s besides BASE_IMAGE (toolchain versions)
    pub build_args: Vec<(String, String)>,
}

impl Spec {
    pub fn load(root: &Path, lang: Lang) -> Result<Spec> {
        let dockerfile = root
            .join("docker")
            .join(format!("{lang}-builder.Dockerfile"));
        let bytes = std::fs::read(&dockerfile)
            .with_context(|| format!("reading {}", dockerfile.display()))?;
        let build_args = match lang {
            Lang::Rust => rust_toolchain_args(root)?,
            // The cpp Dockerfile pins its package versions itself.
            Lang::Cpp => Vec::new(),
        };
        Ok(Spec {
            lang,
            dockerfile,
            bytes,
            build_args,
        })
    }

    /// `ARG BASE_IMAGE=<ref>` in the Dockerfile.
    pub fn default_base(&self) -> Result<String> {
        String::from_utf8_lossy(&self.bytes)
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("ARG BASE_IMAGE=")
                    .map(|v| v.trim().to_string())
            })
            .with_context(|| {
                format!(
                    "{} has no `ARG BASE_IMAGE=<ref>` line; add one",
                    self.dockerfile.display()
                )
            })
    }

    /// `pwbuild-<lang>:<hash12>` over the Dockerfile, the toolchain arguments and the base ref.
    pub fn tag(&self, base: &str) -> String {
        let mut h = Sha256::new();
        for part in [
            RECIPE.as_bytes(),
            self.lang.as_str().as_bytes(),
            &self.bytes,
            base.as_bytes(),
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
        for (k, v) in &self.build_args {
            h.update(format!("{}={}\n", k.len(), k).as_bytes());
            h.update(format!("{}={}\n", v.len(), v).as_bytes());
        }
        format!(
            "pwbuild-{}:{}",
            self.lang,
            &crate::build::hex(&h.finalize())[..12]
        )
    }
}

/// RUST_VERSION, RUST_TARGETS and RUST_COMPONENTS from rust-toolchain.toml (the one place the toolchain is
/// pinned; the image follows it).
fn rust_toolchain_args(root: &Path) -> Result<Vec<(String, String)>> {
    let path = root.join("rust-toolchain.toml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let t = parse_toolchain(&text);
    let channel = t.channel.with_context(|| {
        format!(
            "{} has no `channel = \"...\"`; pin a Rust version",
            path.display()
        )
    })?;
    Ok(vec![
        ("RUST_VERSION".into(), channel),
        ("RUST_TARGETS".into(), t.targets.join(" ")),
        ("RUST_COMPONENTS".into(), t.components.join(" ")),
    ])
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Toolchain {
    channel: Option<String>,
    targets: Vec<String>,
    components: Vec<String>,
}

/// Enough TOML for rust-toolchain.toml's one-line `key = "v"` and `key = ["a", "b"]` entries.
fn parse_toolchain(text: &str) -> Toolchain {
    let mut t = Toolchain::default();
    for line in text.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.split('#').next().unwrap_or("").trim();
        let strings: Vec<String> = v
            .trim_matches(|c| c == '[' || c == ']')
            .split(',')
            .map(|s| s.trim().trim_matches('"').to_string())
            .filter(|s| !s.is_empty())
            .collect();
        match k.trim() {
            "channel" => t.channel = strings.into_iter().next(),
            "targets" => t.targets = strings,
            "components" => t.components = strings,
            _ => {}
        }
    }
    t
}

/// Make (or reuse) the images for `langs`; returns (lang, tag, what was done).
pub fn ensure(
    engine: &Engine,
    langs: &[Lang],
    opts: &Options,
    prepare: bool,
    ui: &Ui,
) -> Result<Vec<(Lang, String, String)>> {
    let root = crate::project::root();
    let mut bases: Vec<(String, String, String)> = Vec::new(); // (default ref, resolved ref, how)
    let mut out = Vec::new();
    for &lang in langs {
        let spec = Spec::load(&root, lang)?;
        let default = spec.default_base()?;
        let (base, base_how) = match bases.iter().find(|(d, _, _)| *d == default) {
            Some((_, r, h)) => (r.clone(), h.clone()),
            None => {
                let (r, h) = resolve_base(engine, &default, opts, prepare, ui)?;
                bases.push((default.clone(), r.clone(), h.clone()));
                (r, h)
            }
        };
        let tag = spec.tag(&base);
        if engine.has_image(&tag) {
            out.push((lang, tag, "reused".to_string()));
            continue;
        }
        if !prepare {
            out.push((lang, tag, "not built yet".to_string()));
            continue;
        }
        ui.status(&format!(
            "building builder image {tag} from {} (base {base}: {base_how})",
            spec.dockerfile.display()
        ));
        let t = Instant::now();
        build_image(
            engine,
            &root,
            &spec,
            &base,
            &tag,
            opts.ca_bundle.as_deref(),
            ui,
        )?;
        out.push((
            lang,
            tag,
            format!(
                "built in {:.1}s (base {base}: {base_how})",
                t.elapsed().as_secs_f64()
            ),
        ));
    }
    Ok(out)
}

/// Decide the base image: present, pulled, or bootstrapped (made or reused).
fn resolve_base(
    engine: &Engine,
    default: &str,
    opts: &Options,
    prepare: bool,
    ui: &Ui,
) -> Result<(String, String)> {
    let boot = bootstrap_tag(&opts.mirror);
    if opts.bootstrap != Bootstrap::Always && engine.has_image(default) {
        return Ok((default.to_string(), "present".into()));
    }
    if opts.bootstrap != Bootstrap::Never && engine.has_image(&boot) {
        return Ok((boot, "bootstrapped earlier, reused".into()));
    }
    if !prepare {
        // A dry run names what a real run would most likely use here, without pulling or bootstrapping.
        return Ok(if opts.bootstrap == Bootstrap::Never {
            (default.to_string(), "to pull".into())
        } else {
            (boot, "to bootstrap".into())
        });
    }
    if opts.bootstrap != Bootstrap::Always {
        ui.status(&format!("pulling base image {default}"));
        match crate::runner::run(&engine.cmd(["pull", default]), &Ui::new(ui.verbose, true)) {
            Ok(()) => return Ok((default.to_string(), "pulled".into())),
            Err(e) if opts.bootstrap == Bootstrap::Auto => {
                ui.status(&format!("could not pull {default} ({}); making the base with debootstrap instead", first_line(&e)));
            }
            Err(e) => {
                return Err(e.context(format!(
                    "could not pull base image {default}; pass --bootstrap auto to make it from a Debian mirror"
                )))
            }
        }
    }
    let t = Instant::now();
    make_base(engine, &opts.mirror, &boot, ui)?;
    Ok((
        boot,
        format!(
            "bootstrapped from {} in {:.1}s",
            opts.mirror,
            t.elapsed().as_secs_f64()
        ),
    ))
}

fn first_line(e: &anyhow::Error) -> String {
    format!("{e:#}")
        .lines()
        .last()
        .unwrap_or("")
        .trim()
        .to_string()
}

/// `pwbase-bookworm:<hash12>` over the recipe: suite, variant, mirror and architecture.
pub fn bootstrap_tag(mirror: &str) -> String {
    let mut h = Sha256::new();
    h.update(
        format!(
            "{RECIPE}\0debootstrap\0minbase\0{SUITE}\0{mirror}\0{}",
            std::env::consts::ARCH
        )
        .as_bytes(),
    );
    format!("pwbase-{SUITE}:{}", &crate::build::hex(&h.finalize())[..12])
}

/// `debootstrap --variant=minbase bookworm ROOTFS MIRROR`, then `tar -C ROOTFS -c . | <engine> import - TAG`.
fn make_base(engine: &Engine, mirror: &str, tag: &str, ui: &Ui) -> Result<()> {
    if crate::toolchain::which("debootstrap").is_none() {
        // As root on Debian/Ubuntu this installs it (one apt line); elsewhere it fails with the command to run.
        crate::setup::install_or_explain(
            ui,
            "making the builder images' Debian base (no base image can be pulled)",
            &["debootstrap"],
        )?;
    }
    if !crate::setup::is_root() {
        bail!("debootstrap needs root to make the base image; run `sudo cargo xtask builder` once (the image is reused)");
    }
    let rootfs = std::env::temp_dir().join(format!("pwbase-rootfs-{}", std::process::id()));
    let _cleanup = RemoveOnDrop(rootfs.clone());
    ui.status(&format!(
        "making base {tag}: debootstrap --variant=minbase {SUITE} from {mirror} (about a minute)"
    ));
    let root = crate::project::root();
    crate::runner::run(
        &crate::plan::Cmd::new("debootstrap", &root).args([
            "--variant=minbase",
            SUITE,
            &rootfs.display().to_string(),
            mirror,
        ]),
        &Ui::new(ui.verbose, !ui.verbose),
    )
    .context("debootstrap failed; check that the mirror answers (`--mirror URL`)")?;
    // Package caches are not part of the base: drop them so the image is smaller.
    for d in ["var/cache/apt/archives", "var/lib/apt/lists"] {
        let dir = rootfs.join(d);
        if let Ok(rd) = std::fs::read_dir(&dir) {
            for e in rd.flatten() {
                if e.path().is_file() {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }
    ui.command(&format!(
        "tar -C {} -c . | {} import - {tag}",
        rootfs.display(),
        engine.program.display()
    ));
    let mut tar = Command::new("tar")
        .args(["--numeric-owner", "-C"])
        .arg(&rootfs)
        .args(["-c", "."])
        .stdout(Stdio::piped())
        .spawn()
        .context("starting `tar`")?;
    let tar_out = tar.stdout.take().context("tar has no stdout")?;
    let import = engine
        .command()
        .args([
            "import",
            "--change",
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "--change",
            "CMD [\"/bin/bash\"]",
            "-",
            tag,
        ])
        .stdin(tar_out)
        .stdout(Stdio::null())
        .output()
        .context("starting the engine's `import`")?;
    let tar_status = tar.wait().context("waiting for tar")?;
    if !tar_status.success() || !import.status.success() {
        bail!(
            "importing the debootstrap root as {tag} failed (tar: {tar_status}, import: {}): {}",
            import.status,
            String::from_utf8_lossy(&import.stderr).trim()
        );
    }
    Ok(())
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if self.0.is_dir() {
            let _ = std::fs::remove_dir_all(&self.0);
        } else {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

/// `build -f DOCKERFILE --build-arg ... --secret id=ca,src=BUNDLE -t TAG docker/`, then check the secret left
/// nothing behind.
fn build_image(
    engine: &Engine,
    root: &Path,
    spec: &Spec,
    base: &str,
    tag: &str,
    ca: Option<&Path>,
    ui: &Ui,
) -> Result<()> {
    // An empty secret file when no bundle is given: the Dockerfile skips an empty one.
    let empty = std::env::temp_dir().join(format!("pwbuild-empty-ca-{}", std::process::id()));
    let _cleanup = RemoveOnDrop(empty.clone());
    let ca = match ca {
        Some(p) => Some(p),
        None if engine.buildkit => {
            std::fs::File::create(&empty)
                .and_then(|mut f| f.write_all(b""))
                .with_context(|| format!("creating {}", empty.display()))?;
            Some(empty.as_path())
        }
        None => None,
    };
    let args = build_args(engine, root, spec, base, tag, ca)?;
    crate::runner::run(&engine.cmd(args), ui)
        .with_context(|| format!("building the {} builder image {tag} failed", spec.lang))?;
    // The secret is mounted only during its RUN; make sure the image kept no copy where it was mounted.
    let leaked = engine.output(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--entrypoint",
        "/bin/sh",
        tag,
        "-c",
        "test -s /run/secrets/ca && echo leaked || true",
    ])?;
    if leaked.contains("leaked") {
        bail!("builder image {tag} holds /run/secrets/ca: the CA bundle leaked into a layer; remove the image");
    }
    Ok(())
}

/// The engine arguments for one image build. Pure, so it is unit-tested.
pub fn build_args(
    engine: &Engine,
    root: &Path,
    spec: &Spec,
    base: &str,
    tag: &str,
    ca: Option<&Path>,
) -> Result<Vec<String>> {
    let mut a: Vec<String> = vec![
        "build".into(),
        "-f".into(),
        spec.dockerfile.display().to_string(),
    ];
    a.extend(["--build-arg".into(), format!("BASE_IMAGE={base}")]);
    for (k, v) in &spec.build_args {
        a.extend(["--build-arg".into(), format!("{k}={v}")]);
    }
    if engine.buildkit {
        // BuildKit secret: readable in the one RUN that mounts it, never written to a layer.
        a.extend([
            "--secret".into(),
            format!(
                "id=ca,src={}",
                ca.map(|p| p.display().to_string()).unwrap_or_default()
            ),
        ]);
    } else if spec.lang == Lang::Rust {
        bail!(
            "building the rust builder needs BuildKit (for the CA bundle secret) and `{}` has none; \
             install docker-buildx, use Debian's docker.io CLI with DOCKER_BUILDKIT=1, or use podman",
            engine.program.display()
        );
    }
    a.extend([
        "--label".into(),
        format!("org.opencontainers.image.base.name={base}"),
    ]);
    a.extend([
        "-t".into(),
        tag.to_string(),
        root.join("docker").display().to_string(),
    ]);
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineKind;

    fn spec(bytes: &str) -> Spec {
        Spec {
            lang: Lang::Rust,
            dockerfile: "/r/docker/rust-builder.Dockerfile".into(),
            bytes: bytes.as_bytes().to_vec(),
            build_args: vec![("RUST_VERSION".into(), "1.95.0".into())],
        }
    }

    #[test]
    fn a_changed_dockerfile_gets_a_new_tag() {
        let a = spec("FROM x\nRUN a\n").tag("base:1");
        assert!(
            a.starts_with("pwbuild-rust:") && a.len() == "pwbuild-rust:".len() + 12,
            "{a}"
        );
        assert_eq!(
            a,
            spec("FROM x\nRUN a\n").tag("base:1"),
            "same inputs, same tag"
        );
        assert_ne!(
            a,
            spec("FROM x\nRUN b\n").tag("base:1"),
            "changed Dockerfile"
        );
        assert_ne!(a, spec("FROM x\nRUN a\n").tag("base:2"), "changed base");
        let mut s = spec("FROM x\nRUN a\n");
        s.build_args[0].1 = "1.96.0".into();
        assert_ne!(a, s.tag("base:1"), "changed toolchain");
    }

    #[test]
    fn the_bootstrap_tag_follows_the_mirror() {
        assert_eq!(bootstrap_tag(DEFAULT_MIRROR), bootstrap_tag(DEFAULT_MIRROR));
        assert_ne!(
            bootstrap_tag(DEFAULT_MIRROR),
            bootstrap_tag("http://mirror.example/debian")
        );
        assert!(bootstrap_tag(DEFAULT_MIRROR).starts_with("pwbase-bookworm:"));
    }

    #[test]
    fn the_toolchain_file_gives_the_build_args() {
        let t = parse_toolchain(
            "[toolchain]\nchannel = \"1.95.0\"\ntargets = [\"wasm32-wasip1\"]\ncomponents = [\"rustfmt\", \"clippy\"] # x\nprofile = \"minimal\"\n",
        );
        assert_eq!(t.channel.as_deref(), Some("1.95.0"));
        assert_eq!(t.targets, ["wasm32-wasip1"]);
        assert_eq!(t.components, ["rustfmt", "clippy"]);
    }

    #[test]
    fn the_real_dockerfiles_pin_their_base_and_the_rust_one_follows_the_toolchain_file() {
        let root = crate::project::root();
        for lang in Lang::ALL {
            let s = Spec::load(&root, lang).unwrap();
            let base = s.default_base().unwrap();
            assert!(
                base.contains("@sha256:") && base.len() > 64,
                "{lang}: base `{base}` is not pinned by digest"
            );
        }
        let rust = Spec::load(&root, Lang::Rust).unwrap();
        assert!(
            rust.build_args
                .iter()
                .any(|(k, v)| k == "RUST_VERSION" && v == "1.95.0"),
            "{:?}",
            rust.build_args
        );
    }

    #[test]
    fn build_args_pass_the_ca_as_a_secret_never_as_a_build_arg() {
        let e = Engine {
            kind: EngineKind::Docker,
            program: "docker".into(),
            version: "20.10".into(),
            rootless: false,
            buildkit: true,
        };
        let a = build_args(
            &e,
            Path::new("/r"),
            &spec("FROM x"),
            "b@sha256:1",
            "pwbuild-rust:x",
            Some(Path::new("/ca.pem")),
        )
        .unwrap();
        let joined = a.join(" ");
        assert!(joined.contains("--secret id=ca,src=/ca.pem"), "{joined}");
        assert!(!joined.contains("--build-arg CA"), "{joined}");
        assert!(
            joined.contains("--build-arg BASE_IMAGE=b@sha256:1 --build-arg RUST_VERSION=1.95.0"),
            "{joined}"
        );
        assert!(joined.ends_with("-t pwbuild-rust:x /r/docker"), "{joined}");
        let legacy = Engine {
            buildkit: false,
            ..e
        };
        let err = build_args(&legacy, Path::new("/r"), &spec("FROM x"), "b", "t", None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs BuildKit"), "{err}");
    }
}
