//! The image stage of `cargo xtask test`, end to end against a real registry (Debian's `docker-registry` on
//! loopback): the same source packaged twice gives the same manifest digest whatever the tag; `push` gates,
//! pushes, pulls back by digest and loads the module in the conformance host; skopeo sees the same digest.

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::flags::{self, ImageFormat, Lang};
use crate::image::{build_one, package_built};
use crate::ui::Ui;

/// With `push` false (the user's `--no-registry`) only the packaging is checked. With it, a missing
/// `docker-registry` or `skopeo` is an error naming the package: the test suite's set-up installs both.
pub fn run(ui: &Ui, plugin: &str, lang: Lang, push: bool) -> Result<()> {
    ui.status(&format!(
        "image: deterministic packaging of {plugin} ({lang})"
    ));
    let root = crate::project::root();
    let all = crate::project::plugins(&root)?;
    let p = crate::project::find(&all, plugin)?;
    let built = build_one(p, lang, ui)?;
    for format in [ImageFormat::Oci, ImageFormat::Compat] {
        let a = package_built(p, built.clone(), format, Some("repro-a"))?;
        let b = package_built(p, built.clone(), format, Some("repro-b"))?;
        if a.image.digest() != b.image.digest() {
            bail!(crate::Failure(format!(
                "{plugin} ({lang}) {format} image is not deterministic: {} vs {}",
                a.image.digest(),
                b.image.digest()
            )));
        }
        ui.status(&format!(
            "image: {format} digest {} is stable across tags",
            a.image.digest()
        ));
    }

    if !push {
        return Ok(());
    }
    let Some(registry) =
        pwoci::testing::TestRegistry::start().context("starting docker-registry on loopback")?
    else {
        bail!(
            "docker-registry is not installed: `apt-get install docker-registry`, or pass --no-registry to skip \
             the push stage"
        );
    };
    let host = registry.host().to_string();
    ui.status(&format!(
        "image: pushing {plugin} ({lang}) to the loopback registry {host}"
    ));
    // The conformance stage has just run the vectors against this very build.
    let push = loopback_push(plugin, lang, &host, "e2e", None);
    push.run(ui)?;
    refuse_malformed(ui, plugin, lang, &host)?;
    let expected = package_built(p, built, ImageFormat::Oci, Some("e2e"))?
        .image
        .digest()
        .to_string();

    if crate::toolchain::which("skopeo").is_none() {
        bail!(
            "skopeo is not installed, so the pushed image cannot be checked with another client: \
             `apt-get install skopeo`, or pass --no-registry to skip the push stage"
        );
    }
    {
        let raw = std::process::Command::new("skopeo")
            .args(["inspect", "--tls-verify=false", "--raw"])
            .arg(format!("docker://{host}/plugins/{plugin}:e2e"))
            .output()
            .context("running skopeo inspect")?;
        if !raw.status.success() {
            bail!(
                "skopeo inspect failed: {}",
                String::from_utf8_lossy(&raw.stderr).trim()
            );
        }
        let got = format!("sha256:{}", crate::build::hex(&Sha256::digest(&raw.stdout)));
        if got != expected {
            bail!(crate::Failure(format!(
                "skopeo sees manifest {got}, we pushed {expected}"
            )));
        }
        ui.status(&format!("image: skopeo pulled the same manifest ({got})"));
    }
    Ok(())
}

/// A single raw-wasm layer (the layout that broke gateways at restart in Higress's release incident) must be
/// refused before anything is pushed, naming the rule.
fn refuse_malformed(ui: &Ui, plugin: &str, lang: Lang, host: &str) -> Result<()> {
    let root = crate::project::root();
    let wasm = std::fs::read(crate::project::artifact(&root, plugin, lang))?;
    let dir = root
        .join("out")
        .join(plugin)
        .join(lang.as_str())
        .join("malformed-layout");
    let _ = std::fs::remove_dir_all(&dir);
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs)?;
    let put = |bytes: &[u8]| -> Result<(String, usize)> {
        let hex = crate::build::hex(&Sha256::digest(bytes));
        std::fs::write(blobs.join(&hex), bytes)?;
        Ok((format!("sha256:{hex}"), bytes.len()))
    };
    let (cfg, cfg_len) = put(b"{}")?;
    let (layer, layer_len) = put(&wasm)?;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.unknown.config.v1+json", "digest": cfg, "size": cfg_len},
        "layers": [{"mediaType": "application/vnd.module.wasm.content.layer.v1+wasm", "digest": layer, "size": layer_len}],
    });
    let (m, m_len) = put(&serde_json::to_vec(&manifest)?)?;
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": m, "size": m_len,
        "annotations": {"org.opencontainers.image.ref.name": "bad"}}]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index)?)?;
    let push = loopback_push(plugin, lang, host, "malformed", Some(dir.clone()));
    let err = match push.run(ui) {
        Ok(()) => bail!(crate::Failure(
            "a single raw-wasm layer layout was pushed instead of refused".into()
        )),
        Err(e) => format!("{e:#}"),
    };
    let _ = std::fs::remove_dir_all(&dir);
    if !err.contains("rule layers.single-raw-wasm") {
        bail!(crate::Failure(format!(
            "the malformed layout was refused for the wrong reason: {err}"
        )));
    }
    ui.status(&format!(
        "image: a one-layer raw wasm layout is refused before the push: {err}"
    ));
    Ok(())
}

/// `push` of `plugin` to the loopback registry `host` under `plugins/`, without the vectors gate (the conformance
/// stage has run them on this build).
fn loopback_push(
    plugin: &str,
    lang: Lang,
    host: &str,
    tag: &str,
    layout: Option<std::path::PathBuf>,
) -> flags::Push {
    flags::Push {
        plugin: plugin.to_string(),
        lang: Some(lang),
        format: ImageFormat::Oci,
        registry: Some(format!("{host}/plugins")),
        image: None,
        tag: Some(tag.into()),
        insecure: false,
        skip_conformance: true,
        layout,
    }
}
