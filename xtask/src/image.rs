//! `cargo xtask image | push | manifest`: package a plug-in as a deterministic OCI image (`pwoci`), push it
//! behind the layout gate and the conformance vectors, verify it after the push, and render WasmPlugin resources.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::build::{build_many, Built};
use crate::flags::{self, Lang};
use crate::plan::Cmd;
use crate::project::{self, Plugin};
use crate::ui::Ui;

/// A packaged image and where its layout went.
pub struct Packaged {
    pub plugin: String,
    pub lang: Lang,
    pub image: pwoci::Image,
    pub tag: String,
    pub layout: PathBuf,
    pub tar: PathBuf,
    pub built: Built,
}

impl flags::Image {
    pub fn run(self, ui: &Ui) -> Result<()> {
        let p = package(
            &self.plugin,
            self.lang,
            self.format,
            self.tag.as_deref(),
            ui,
        )?;
        ui.result(&format!(
            "{} ({}) {} image {}\n  wasm:   {} (sha256:{})\n  tag:    {}\n  layout: {}\n  tar:    {}",
            p.plugin,
            p.lang,
            self.format,
            p.image.digest(),
            p.built.path.display(),
            p.built.sha256,
            p.tag,
            p.layout.display(),
            p.tar.display()
        ));
        if self.load {
            if self.format != flags::ImageFormat::Compat {
                bail!("--load needs --format compat: docker cannot load the two-layer wasm (oci) variant");
            }
            // Only engine.rs makes container-engine commands (it picks the CLI and DOCKER_HOST).
            let engine = crate::engine::Engine::detect(None)?;
            crate::runner::run(
                &engine
                    .cmd(["load", "--input"])
                    .arg(p.tar.display().to_string()),
                ui,
            )
            .context("loading the image into the local docker engine")?;
        }
        Ok(())
    }
}

impl flags::Push {
    pub fn run(self, ui: &Ui) -> Result<()> {
        let root = project::root();
        let all = project::plugins(&root)?;
        let plugin = project::find(&all, &self.plugin)?.clone();
        let lang = single_lang(&plugin, self.lang)?;
        let host = crate::conformance::host_binary(ui)?;
        let (image, tag) = match &self.layout {
            // A ready-made layout: gate it first, then hold its module to the plug-in's vectors.
            Some(dir) => {
                let tag = self
                    .tag
                    .clone()
                    .context("--layout needs --tag (the tag to push it as)")?;
                let image = pwoci::read_layout(dir, None)
                    .with_context(|| format!("reading the OCI layout {}", dir.display()))?;
                let report = pwoci::gate(&image, &pwoci::GateOptions::default()).map_err(|e| {
                    anyhow::anyhow!(crate::Failure(format!(
                        "refusing to push {}: {e}",
                        dir.display()
                    )))
                })?;
                if !self.skip_conformance {
                    let wasm =
                        project::artifact(&root, &plugin.name, lang).with_file_name("layout.wasm");
                    crate::runner::write_atomic(&wasm, &report.wasm)?;
                    vectors_gate(&host, &plugin, lang, &wasm, ui)?;
                }
                (image, tag)
            }
            None => {
                let built = build_one(&plugin, lang, ui)?;
                if !self.skip_conformance {
                    vectors_gate(&host, &plugin, lang, &built.path, ui)?;
                }
                let p = package_built(&plugin, built, self.format, self.tag.as_deref())?;
                (p.image, p.tag)
            }
        };
        if self.skip_conformance {
            ui.warn(&format!(
                "pushing `{}` ({lang}) without running its conformance vectors",
                plugin.name
            ));
        }
        let reference = image_ref(
            &plugin.name,
            &tag,
            self.registry.as_deref(),
            self.image.as_deref(),
        )?;
        let mut client = pwoci::Client::new(pwoci::ClientOptions {
            insecure: self.insecure,
            ..Default::default()
        })?;
        if let Some(src) = client.credential_source(&reference.registry) {
            ui.status(&format!("credentials for {}: {src:?}", reference.registry));
        }
        ui.status(&format!("pushing {reference}"));
        let digest = client
            .push(&image, &reference)
            .with_context(|| format!("pushing {reference}"))?;
        if &digest != image.digest() {
            bail!(
                "registry returned digest {digest}, expected {}",
                image.digest()
            );
        }
        ui.status("verifying: pulling back by digest, comparing, re-running the gate");
        let verified = client
            .verify(&image, &reference, &pwoci::GateOptions::default())
            .with_context(|| format!("verifying {reference} after the push"))?;
        // Load the pulled module in the conformance host, as the gateway would.
        let pulled = project::artifact(&root, &plugin.name, lang).with_file_name("pulled.wasm");
        crate::runner::write_atomic(&pulled, &verified.report.wasm)?;
        crate::runner::run(
            &Cmd::new(host.display().to_string(), &root)
                .args(["check", "--wasm"])
                .arg(pulled.display().to_string()),
            ui,
        )
        .context("the pulled module does not load in the conformance host")?;
        ui.result(&format!(
            "pushed {reference}\n  digest: {digest}\n  pinned: {}",
            verified.reference
        ));
        Ok(())
    }
}

/// Refuse a module whose plug-in vectors fail.
fn vectors_gate(host: &Path, plugin: &Plugin, lang: Lang, wasm: &Path, ui: &Ui) -> Result<()> {
    ui.status(&format!(
        "conformance gate: {} ({lang}) on {}",
        plugin.name,
        wasm.display()
    ));
    let vectors = plugin.vectors(&project::root())?;
    let cmd = crate::conformance::host_cmd(host, "conformance", &plugin.name, lang, wasm, &vectors);
    crate::runner::run(&cmd, ui).map_err(|_| {
        anyhow::anyhow!(crate::Failure(format!(
            "refusing to push `{}` ({lang}): its conformance vectors fail; fix them or pass --skip-conformance",
            plugin.name
        )))
    })
}

impl flags::Manifest {
    pub fn run(self, ui: &Ui) -> Result<()> {
        let root = project::root();
        let all = project::plugins(&root)?;
        let plugin = project::find(&all, &self.plugin)?.clone();
        let meta = spec_meta(&plugin, &root)?;
        let config: serde_json::Value = match &self.config {
            Some(f) => {
                let text = std::fs::read_to_string(f)
                    .with_context(|| format!("reading {}", f.display()))?;
                serde_yaml_ng::from_str(&text)
                    .with_context(|| format!("{} is not valid JSON or YAML", f.display()))?
            }
            None => serde_json::json!({}),
        };
        if let Some(schema) = &meta.schema {
            pwoci::validate_config(&config, schema).with_context(|| {
                format!(
                    "configuration does not match {}'s spec.yaml schema",
                    plugin.name
                )
            })?;
        }
        let p = package(
            &plugin.name,
            self.lang,
            self.format,
            self.tag.as_deref(),
            ui,
        )?;
        let reference = image_ref(
            &plugin.name,
            &p.tag,
            self.registry.as_deref(),
            self.image.as_deref(),
        )?;
        let gateway = match self.gateway {
            flags::GatewayKind::Higress => pwoci::Gateway::Higress,
            flags::GatewayKind::Istio => pwoci::Gateway::Istio,
        };
        let namespace = self.namespace.clone().unwrap_or_else(|| match gateway {
            pwoci::Gateway::Higress => "higress-system".into(),
            pwoci::Gateway::Istio => "istio-system".into(),
        });
        let yaml = pwoci::render_wasm_plugin(&pwoci::WasmPluginInput {
            gateway,
            name: plugin.name.clone(),
            namespace,
            reference,
            digest: p.image.digest().clone(),
            config,
            meta,
        })?;
        print!("{yaml}");
        Ok(())
    }
}

/// One language for an image: the given one, else the plug-in's only one, else Rust (said on stderr).
fn single_lang(plugin: &Plugin, lang: Option<Lang>) -> Result<Lang> {
    match lang {
        Some(l) if plugin.has(l) => Ok(l),
        Some(l) => bail!(
            "plug-in `{}` has no {l} version (it has: {})",
            plugin.name,
            plugin
                .langs
                .iter()
                .map(|l| l.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None if plugin.langs.len() == 1 => Ok(plugin.langs[0]),
        None => {
            eprintln!(
                "note: `{}` has rust and cpp versions; packaging rust (choose with --lang)",
                plugin.name
            );
            Ok(Lang::Rust)
        }
    }
}

fn spec_meta(plugin: &Plugin, root: &Path) -> Result<pwoci::PluginMeta> {
    let spec = plugin.dir(root).join("spec.yaml");
    if !spec.is_file() {
        return Ok(pwoci::PluginMeta::default());
    }
    let text =
        std::fs::read_to_string(&spec).with_context(|| format!("reading {}", spec.display()))?;
    pwoci::parse_spec_yaml(&text).with_context(|| format!("parsing {}", spec.display()))
}

/// `IMG` (or --image) wins; else `REGISTRY` (or --registry) + `<plugin>:<tag>`, as in Higress's Makefile where
/// REGISTRY ends with `/`.
fn image_ref(
    plugin: &str,
    tag: &str,
    registry: Option<&str>,
    image: Option<&str>,
) -> Result<pwoci::Reference> {
    let image = image
        .map(str::to_string)
        .or_else(|| std::env::var("IMG").ok().filter(|s| !s.is_empty()));
    if let Some(img) = image {
        return pwoci::Reference::parse(&img)
            .with_context(|| format!("IMG `{img}` is not an image reference"));
    }
    let registry = registry
        .map(str::to_string)
        .or_else(|| std::env::var("REGISTRY").ok().filter(|s| !s.is_empty()))
        .context("no registry given; pass --registry HOST[:PORT][/PATH] or set REGISTRY (or IMG for the whole reference)")?;
    let registry = registry.trim_start_matches("oci://").trim_end_matches('/');
    let s = format!("{registry}/{plugin}:{tag}");
    pwoci::Reference::parse(&s).with_context(|| format!("`{s}` is not an image reference"))
}

/// Build (or reuse) plugin.wasm and package it; writes `out/<plugin>/<lang>/image-<format>/` and its `.tar`.
pub fn package(
    name: &str,
    lang: Option<Lang>,
    format: flags::ImageFormat,
    tag: Option<&str>,
    ui: &Ui,
) -> Result<Packaged> {
    let all = project::plugins(&project::root())?;
    let plugin = project::find(&all, name)?.clone();
    let lang = single_lang(&plugin, lang)?;
    let built = build_one(&plugin, lang, ui)?;
    package_built(&plugin, built, format, tag)
}

/// Build one plug-in in one language with the runner `build` would choose.
pub fn build_one(plugin: &Plugin, lang: Lang, ui: &Ui) -> Result<Built> {
    let (runner, _) = crate::container::select(false, false, None, &[lang], true, ui)?;
    Ok(build_many(&runner, &[(plugin.clone(), lang)], ui)?.remove(0))
}

/// Package an already built plugin.wasm; writes `out/<plugin>/<lang>/image-<format>/` and its `.tar`.
pub fn package_built(
    plugin: &Plugin,
    built: Built,
    format: flags::ImageFormat,
    tag: Option<&str>,
) -> Result<Packaged> {
    let root = project::root();
    let lang = built.lang;
    let commit = crate::git::head(&root)?;
    let wasm =
        std::fs::read(&built.path).with_context(|| format!("reading {}", built.path.display()))?;
    let meta = spec_meta(plugin, &root)?;
    let version_env = std::env::var("PLUGIN_VERSION")
        .ok()
        .filter(|s| !s.is_empty());
    let version = version_env
        .clone()
        .or(meta.version.clone())
        .unwrap_or_else(|| "0.0.0".into());
    let tag = match tag.map(str::to_string).or(version_env) {
        Some(t) => t,
        None => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            format!(
                "{}-{}{}",
                crate::git::stamp(now),
                commit.short(),
                if commit.dirty { "-dirty" } else { "" }
            )
        }
    };
    pwoci::validate_tag(&tag).with_context(|| format!("image tag `{tag}`"))?;
    let pwoci_format = match format {
        flags::ImageFormat::Oci => pwoci::Format::Oci,
        flags::ImageFormat::Compat => pwoci::Format::Compat,
    };
    let image = pwoci::package(&pwoci::PackageInput {
        wasm,
        format: pwoci_format,
        commit_time: commit.time,
        revision: commit.id.clone(),
        version,
        source: source_url(&root),
        title: plugin.name.clone(),
        annotations: pwoci::Annotations::Standard,
    })?;
    pwoci::gate(&image, &pwoci::GateOptions::default())
        .context("the packaged image fails the layout gate")?;
    let dir = built
        .path
        .parent()
        .context("plugin.wasm has no folder")?
        .to_path_buf();
    let layout = dir.join(format!("image-{format}"));
    let tar = dir.join(format!("image-{format}.tar"));
    let opts = pwoci::LayoutOptions {
        tag: tag.clone(),
        repository: Some(format!("plugins/{}", plugin.name)),
        mtime: commit.time,
    };
    pwoci::write_layout(&image, &layout, &opts)
        .with_context(|| format!("writing {}", layout.display()))?;
    pwoci::write_layout_tar(&image, &tar, &opts)
        .with_context(|| format!("writing {}", tar.display()))?;
    Ok(Packaged {
        plugin: plugin.name.clone(),
        lang,
        image,
        tag,
        layout,
        tar,
        built,
    })
}

/// The `source` annotation: PLUGIN_SOURCE, else the `origin` remote, else the plug-in's path in this repository.
fn source_url(root: &Path) -> String {
    if let Ok(s) = std::env::var("PLUGIN_SOURCE") {
        if !s.is_empty() {
            return s;
        }
    }
    let dir = root.display().to_string();
    crate::runner::output("git", &["-C", &dir, "remote", "get-url", "origin"])
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "local".to_string())
}
