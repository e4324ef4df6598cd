//! The layout gate: a pure check of a manifest and its blobs against the rules Istio's and Higress's image
//! fetchers apply (plus Higress's release gate), run before push and again on what is pulled back.
//! Each violation names its rule; the full list is in README.md.

use std::io::Read;

use crate::canonical::parse_rfc3339;
use crate::digest::Digest;
use crate::image::{is_stable_semver, media, Descriptor, Format, Image, Manifest};
use crate::wasm::{self, ExportKind, FuncType, HeaderError, ValType};

/// Largest module extracted from a layer (Higress's fetcher caps reads at 256 MiB).
pub const MAX_WASM_SIZE: u64 = 256 << 20;

/// A rule the image breaks. Displays as `layout gate: rule <rule>: <detail>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("layout gate: rule {rule}: {detail}")]
pub struct GateError {
    /// The rule's name, e.g. `layers.count`.
    pub rule: &'static str,
    pub detail: String,
}

fn fail<T>(rule: &'static str, detail: impl Into<String>) -> Result<T, GateError> {
    Err(GateError {
        rule,
        detail: detail.into(),
    })
}

/// How strictly manifest annotations are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AnnotationRule {
    /// Not checked (gateways ignore annotations).
    Ignore,
    /// `created` (RFC 3339), `revision` (40 lowercase hex) and `version` (non-empty) must be present.
    #[default]
    Standard,
    /// Higress's release gate: exactly `created`, `revision`, `version` (stable SemVer) and
    /// `io.higress.plugin.input-hash`, and only the `oci` format.
    HigressRelease,
}

/// Gate settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GateOptions {
    pub annotations: AnnotationRule,
}

/// What the gate found in an image it accepted.
#[derive(Clone, PartialEq, Eq)]
pub struct GateReport {
    pub format: Format,
    /// The extracted module, exactly as a gateway would load it.
    pub wasm: Vec<u8>,
    /// The `proxy_abi_version_*` export, e.g. `proxy_abi_version_0_2_1`.
    pub abi_export: String,
    /// All export names of the module.
    pub exports: Vec<String>,
}

impl std::fmt::Debug for GateReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GateReport")
            .field("format", &self.format)
            .field("wasm_len", &self.wasm.len())
            .field("abi_export", &self.abi_export)
            .field("exports", &self.exports)
            .finish()
    }
}

/// Checks `image`; returns what it found or the first rule it breaks.
pub fn gate(image: &Image, opts: &GateOptions) -> Result<GateReport, GateError> {
    let raw: serde_json::Value = match serde_json::from_slice(image.manifest_bytes()) {
        Ok(v @ serde_json::Value::Object(_)) => v,
        Ok(_) => return fail("manifest.json", "the manifest is not a JSON object"),
        Err(e) => return fail("manifest.json", format!("the manifest is not JSON: {e}")),
    };
    let mt = raw.get("mediaType").and_then(|v| v.as_str());
    if raw.get("manifests").is_some()
        || matches!(mt, Some(media::OCI_INDEX | media::DOCKER_MANIFEST_LIST))
    {
        return fail(
            "manifest.index",
            "an image index is not accepted (gateways resolve it by platform); push a plain image manifest",
        );
    }
    match mt {
        Some(media::OCI_MANIFEST) => {}
        Some(other) => {
            return fail(
                "manifest.media-type",
                format!("mediaType is `{other}`, want `{}`", media::OCI_MANIFEST),
            )
        }
        None => {
            return fail(
                "manifest.media-type",
                format!("mediaType is missing, want `{}`", media::OCI_MANIFEST),
            )
        }
    }
    if raw.get("schemaVersion").and_then(|v| v.as_u64()) != Some(2) {
        return fail(
            "manifest.schema-version",
            format!(
                "schemaVersion is {}, want 2",
                raw.get("schemaVersion").unwrap_or(&serde_json::Value::Null)
            ),
        );
    }
    let m: Manifest = match serde_json::from_value(raw) {
        Ok(m) => m,
        Err(e) => {
            return fail(
                "manifest.json",
                format!("the manifest does not parse as an OCI image manifest: {e}"),
            )
        }
    };
    if let Some(at) = m.artifact_type.as_deref() {
        if at != media::UNKNOWN_ARTIFACT {
            return fail(
                "manifest.artifact-type",
                format!(
                    "artifactType is `{at}`, want none or `{}`",
                    media::UNKNOWN_ARTIFACT
                ),
            );
        }
    }
    for d in std::iter::once(&m.config).chain(&m.layers) {
        if matches!(
            d.media_type.as_str(),
            media::CNCF_WASM_LAYER
                | media::CNCF_WASM_CONFIG
                | media::COMPONENT_WASM
                | media::COMPONENT_CONFIG
        ) {
            return fail(
                "media-type.cncf",
                format!(
                    "`{}` is a CNCF/component wasm media type, which Istio and Higress reject; use `{}`",
                    d.media_type,
                    media::WASM_CONTENT_LAYER
                ),
            );
        }
    }
    check_blob(image, &m.config, "config")?;
    for (i, l) in m.layers.iter().enumerate() {
        check_blob(image, l, &format!("layers[{i}]"))?;
    }
    if m.layers.is_empty() {
        return fail("layers.count", "the manifest has no layers");
    }
    let is_oci_variant = m.layers.iter().any(|l| {
        l.media_type == media::WASM_CONTENT_LAYER || l.media_type == media::WASM_CONFIG_LAYER
    });
    let (format, wasm) = if m.layers.len() == 1
        && m.layers[0].media_type == media::WASM_CONTENT_LAYER
    {
        return fail(
            "layers.single-raw-wasm",
            "a single raw-wasm layer is rejected by gateways; the oci variant needs the wasm config layer first",
        );
    } else if is_oci_variant {
        (Format::Oci, check_oci_variant(image, &m)?)
    } else if m.layers.last().map(|l| l.media_type.as_str()) == Some(media::OCI_LAYER_TAR_GZIP) {
        (Format::Compat, check_compat(image, &m)?)
    } else {
        let last = m
            .layers
            .last()
            .map(|l| l.media_type.as_str())
            .unwrap_or_default();
        return fail(
            "layers.media-type",
            format!(
                "last layer is `{last}`; want `{}` holding plugin.wasm (compat) or the 2-layer oci variant",
                media::OCI_LAYER_TAR_GZIP
            ),
        );
    };
    check_annotations(&m, format, opts)?;
    let (abi_export, exports) = check_wasm(&wasm)?;
    Ok(GateReport {
        format,
        wasm,
        abi_export,
        exports,
    })
}

fn check_blob(image: &Image, d: &Descriptor, what: &str) -> Result<(), GateError> {
    let digest = match Digest::parse(&d.digest) {
        Ok(x) => x,
        Err(_) => {
            return fail(
                "blobs.digest",
                format!("{what} digest `{}` is not sha256:<64 hex>", d.digest),
            )
        }
    };
    let Some(bytes) = image.blobs.get(&digest) else {
        return fail("blobs.present", format!("{what} blob {digest} is missing"));
    };
    if bytes.len() as u64 != d.size {
        return fail(
            "blobs.size",
            format!(
                "{what} descriptor says {} bytes, blob {digest} has {}",
                d.size,
                bytes.len()
            ),
        );
    }
    let actual = Digest::of(bytes);
    if actual != digest {
        return fail(
            "blobs.digest",
            format!("{what} blob hashes to {actual}, descriptor says {digest}"),
        );
    }
    Ok(())
}

fn blob<'a>(image: &'a Image, d: &Descriptor) -> &'a [u8] {
    // check_blob ran first, so the blob is there.
    image.blob(d).unwrap_or_default()
}

fn check_oci_variant(image: &Image, m: &Manifest) -> Result<Vec<u8>, GateError> {
    if m.layers.len() != 2 {
        return fail(
            "layers.count",
            format!("oci variant needs exactly 2 layers, got {}", m.layers.len()),
        );
    }
    let (cfg, content) = (&m.layers[0], &m.layers[1]);
    if cfg.media_type != media::WASM_CONFIG_LAYER || content.media_type != media::WASM_CONTENT_LAYER
    {
        return fail(
            "layers.order",
            format!(
                "oci variant needs layers [`{}`, `{}`], got [`{}`, `{}`]",
                media::WASM_CONFIG_LAYER,
                media::WASM_CONTENT_LAYER,
                cfg.media_type,
                content.media_type
            ),
        );
    }
    for (d, want) in [(cfg, "config.json"), (content, "plugin.wasm")] {
        if d.annotation(media::ANN_TITLE) != Some(want) {
            return fail(
                "layers.title",
                format!(
                    "layer `{}` must have title `{want}`, has {:?}",
                    d.media_type,
                    d.annotation(media::ANN_TITLE)
                ),
            );
        }
    }
    if blob(image, cfg) != b"{}" {
        return fail(
            "layers.wasm-config",
            "the wasm config layer must be exactly `{}`",
        );
    }
    if m.config.media_type != media::UNKNOWN_CONFIG {
        return fail(
            "config.media-type",
            format!(
                "oci variant config is `{}`, want `{}`",
                m.config.media_type,
                media::UNKNOWN_CONFIG
            ),
        );
    }
    if blob(image, &m.config) != b"{}" || m.config.annotations.is_some() {
        return fail(
            "config.content",
            "oci variant config must be `{}` (2 bytes) without annotations",
        );
    }
    if content.size > MAX_WASM_SIZE {
        return fail(
            "wasm.size",
            format!(
                "module is {} bytes, above the 256 MiB gateways read",
                content.size
            ),
        );
    }
    Ok(blob(image, content).to_vec())
}

fn check_compat(image: &Image, m: &Manifest) -> Result<Vec<u8>, GateError> {
    if m.config.media_type != media::OCI_CONFIG {
        return fail(
            "config.media-type",
            format!(
                "compat config is `{}`, want `{}`",
                m.config.media_type,
                media::OCI_CONFIG
            ),
        );
    }
    let layer = m.layers.last().map(|l| blob(image, l)).unwrap_or_default();
    let mut tar = Vec::new();
    let mut gz = flate2::read::GzDecoder::new(layer).take(MAX_WASM_SIZE * 2);
    if let Err(e) = gz.read_to_end(&mut tar) {
        return fail("compat.tar", format!("last layer is not gzip: {e}"));
    }
    let wasm = match find_plugin(&tar) {
        Ok(Some(w)) => w,
        Ok(None) => return fail("compat.tar", "last layer holds no `plugin.wasm` entry"),
        Err(e) => return fail("compat.tar", format!("last layer is not a valid tar: {e}")),
    };
    let cfg: serde_json::Value = match serde_json::from_slice(blob(image, &m.config)) {
        Ok(v) => v,
        Err(e) => return fail("config.content", format!("image config is not JSON: {e}")),
    };
    if cfg.get("os").and_then(|v| v.as_str()).is_none()
        || cfg.get("architecture").and_then(|v| v.as_str()).is_none()
    {
        return fail(
            "config.content",
            "image config needs `os` and `architecture` strings (docker load refuses it)",
        );
    }
    let diff_ids: Vec<&str> = cfg
        .pointer("/rootfs/diff_ids")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
        .unwrap_or_default();
    if cfg.pointer("/rootfs/type").and_then(|v| v.as_str()) != Some("layers")
        || diff_ids.len() != m.layers.len()
    {
        return fail(
            "config.content",
            format!(
                "image config rootfs must be type `layers` with one diff_id per layer ({}), has {}",
                m.layers.len(),
                diff_ids.len()
            ),
        );
    }
    let tar_digest = Digest::of(&tar);
    if diff_ids.last() != Some(&tar_digest.as_str()) {
        return fail(
            "config.diff-ids",
            format!(
                "last rootfs diff_id is {:?}, the uncompressed layer is {tar_digest}",
                diff_ids.last()
            ),
        );
    }
    if m.annotation(media::ANN_VARIANT) != Some("compat") {
        return fail(
            "compat.variant-annotation",
            format!(
                "compat images must carry the annotation `{}=compat`",
                media::ANN_VARIANT
            ),
        );
    }
    Ok(wasm)
}

/// The first regular entry whose base name is `plugin.wasm` (what Istio's fetcher takes).
fn find_plugin(tar_bytes: &[u8]) -> std::io::Result<Option<Vec<u8>>> {
    let mut ar = tar::Archive::new(tar_bytes);
    for entry in ar.entries()? {
        let mut e = entry?;
        let is_plugin = e.path()?.file_name().is_some_and(|n| n == "plugin.wasm");
        if is_plugin && e.header().entry_type().is_file() {
            if e.size() > MAX_WASM_SIZE {
                return Err(std::io::Error::other("plugin.wasm is above 256 MiB"));
            }
            let mut out = Vec::new();
            e.read_to_end(&mut out)?;
            return Ok(Some(out));
        }
    }
    Ok(None)
}

fn check_annotations(m: &Manifest, format: Format, opts: &GateOptions) -> Result<(), GateError> {
    if opts.annotations == AnnotationRule::Ignore {
        return Ok(());
    }
    let created = m.annotation(media::ANN_CREATED);
    if created.and_then(parse_rfc3339).is_none() {
        return fail(
            "annotations.created",
            format!(
                "`{}` must be an RFC 3339 time, is {created:?}",
                media::ANN_CREATED
            ),
        );
    }
    let rev = m.annotation(media::ANN_REVISION).unwrap_or_default();
    if rev.len() != 40
        || !rev
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return fail(
            "annotations.revision",
            format!(
                "`{}` must be a 40-hex commit id, is `{rev}`",
                media::ANN_REVISION
            ),
        );
    }
    let version = m.annotation(media::ANN_VERSION).unwrap_or_default();
    if version.is_empty() {
        return fail(
            "annotations.version",
            format!("`{}` is missing", media::ANN_VERSION),
        );
    }
    if opts.annotations == AnnotationRule::HigressRelease {
        if format != Format::Oci {
            return fail(
                "higress.format",
                "Higress release images must use the oci format",
            );
        }
        if !is_stable_semver(version) {
            return fail(
                "annotations.version",
                format!("`{version}` is not a stable SemVer (MAJOR.MINOR.PATCH)"),
            );
        }
        let hash = m
            .annotation(media::ANN_HIGRESS_INPUT_HASH)
            .unwrap_or_default();
        if Digest::parse(hash).is_err() {
            return fail(
                "annotations.input-hash",
                format!(
                    "`{}` must be sha256:<64 hex>, is `{hash}`",
                    media::ANN_HIGRESS_INPUT_HASH
                ),
            );
        }
        let keys: Vec<&str> = m
            .annotations
            .iter()
            .flatten()
            .map(|(k, _)| k.as_str())
            .collect();
        if keys.len() != 4 {
            return fail(
                "annotations.exact-set",
                format!(
                    "Higress release images carry exactly 4 annotations, got {}: {keys:?}",
                    keys.len()
                ),
            );
        }
    }
    Ok(())
}

fn check_wasm(w: &[u8]) -> Result<(String, Vec<String>), GateError> {
    match wasm::check_header(w) {
        Ok(()) => {}
        Err(HeaderError::TooShort(n)) => {
            return fail(
                "wasm.size",
                format!("module is {n} bytes, a wasm module has at least 8"),
            )
        }
        Err(HeaderError::Magic(m)) => {
            return fail(
                "wasm.magic",
                format!("module starts with {m:02x?}, not `\\0asm`"),
            )
        }
        Err(HeaderError::Version(v)) => {
            return fail(
                "wasm.version",
                format!("module version is {v:02x?}, want 1 (a core module, not a component)"),
            )
        }
    }
    let exports = match wasm::exports(w) {
        Ok(e) => e,
        Err(e) => return fail("wasm.parse", format!("malformed module: {e}")),
    };
    if !exports.iter().any(|e| e.kind == ExportKind::Memory) {
        return fail(
            "wasm.memory-export",
            "the module exports no memory (the host needs it to exchange data)",
        );
    }
    let unit = FuncType::default();
    let handler = FuncType {
        params: vec![ValType::I32, ValType::I32],
        results: vec![ValType::I32],
    };
    let abi = exports
        .iter()
        .find(|e| e.name.starts_with("proxy_abi_version_0_2_"));
    let abi_export = match abi {
        None => {
            return fail(
                "wasm.abi-version",
                "no `proxy_abi_version_0_2_*` function export (not a proxy-wasm 0.2 module)",
            )
        }
        Some(e) if e.kind != ExportKind::Func(unit.clone()) => {
            return fail(
                "wasm.abi-version",
                format!("`{}` must be a function ()->(), is {:?}", e.name, e.kind),
            )
        }
        Some(e) => e.name.clone(),
    };
    for (name, rule) in [
        ("proxy_on_vm_start", "wasm.on-vm-start"),
        ("proxy_on_configure", "wasm.on-configure"),
    ] {
        match exports.iter().find(|e| e.name == name) {
            None => return fail(rule, format!("no `{name}` export")),
            Some(e) if e.kind != ExportKind::Func(handler.clone()) => {
                let got = match &e.kind {
                    ExportKind::Func(ft) => ft.to_string(),
                    k => format!("{k:?}"),
                };
                return fail(
                    rule,
                    format!("`{name}` must be a function {handler}, is {got}"),
                );
            }
            Some(_) => {}
        }
    }
    Ok((abi_export, exports.into_iter().map(|e| e.name).collect()))
}
