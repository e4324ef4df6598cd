//! Image model and deterministic packaging of a `plugin.wasm`.

use std::collections::BTreeMap;
use std::io::Write;

use serde::{Deserialize, Serialize};

use crate::canonical::{rfc3339, to_canonical_json};
use crate::digest::Digest;
use crate::error::{Error, Result};

/// Media types and annotation keys used by the wasm image formats.
pub mod media {
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    pub const DOCKER_MANIFEST_LIST: &str =
        "application/vnd.docker.distribution.manifest.list.v2+json";
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    pub const OCI_LAYER_TAR_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    pub const UNKNOWN_CONFIG: &str = "application/vnd.unknown.config.v1+json";
    pub const UNKNOWN_ARTIFACT: &str = "application/vnd.unknown.artifact.v1";
    /// solo-io "oci" variant: runtime config layer.
    pub const WASM_CONFIG_LAYER: &str = "application/vnd.module.wasm.config.v1+json";
    /// solo-io "oci" variant: raw wasm layer.
    pub const WASM_CONTENT_LAYER: &str = "application/vnd.module.wasm.content.layer.v1+wasm";
    /// CNCF / wasm-to-oci types: gateways do NOT accept them.
    pub const CNCF_WASM_LAYER: &str = "application/vnd.wasm.content.layer.v1+wasm";
    pub const CNCF_WASM_CONFIG: &str = "application/vnd.wasm.config.v1+json";
    pub const COMPONENT_WASM: &str = "application/wasm";
    pub const COMPONENT_CONFIG: &str = "application/vnd.wasm.config.v0+json";

    pub const ANN_CREATED: &str = "org.opencontainers.image.created";
    pub const ANN_REVISION: &str = "org.opencontainers.image.revision";
    pub const ANN_VERSION: &str = "org.opencontainers.image.version";
    pub const ANN_SOURCE: &str = "org.opencontainers.image.source";
    pub const ANN_TITLE: &str = "org.opencontainers.image.title";
    pub const ANN_REF_NAME: &str = "org.opencontainers.image.ref.name";
    pub const ANN_HIGRESS_INPUT_HASH: &str = "io.higress.plugin.input-hash";
    pub const ANN_VARIANT: &str = "module.wasm.image/variant";
}

/// The two layouts Istio and Higress accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Two layers: `{}` wasm config, then the raw wasm (Higress's own release layout).
    #[default]
    Oci,
    /// One `tar+gzip` layer holding `plugin.wasm`, with an OCI image config (loadable by `docker load`).
    Compat,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Oci => "oci",
            Format::Compat => "compat",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Format> {
        match s {
            "oci" => Ok(Format::Oci),
            "compat" => Ok(Format::Compat),
            _ => Err(Error::Input(format!(
                "unknown image format `{s}` (use `oci` or `compat`)"
            ))),
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which manifest annotations to write.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Annotations {
    /// `created`, `revision`, `version`, `source`, `title` (the five standard OCI keys).
    #[default]
    Standard,
    /// Exactly the four Higress's release gate demands: `created`, `revision`, `version` (stable SemVer) and
    /// `io.higress.plugin.input-hash` = the given `sha256:<hex>` hash of the build inputs.
    HigressRelease { input_hash: String },
}

/// An OCI content descriptor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Descriptor {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

impl Descriptor {
    pub fn of(media_type: &str, bytes: &[u8]) -> Descriptor {
        Descriptor {
            media_type: media_type.to_string(),
            digest: Digest::of(bytes).to_string(),
            size: bytes.len() as u64,
            annotations: None,
        }
    }

    fn titled(mut self, title: &str) -> Descriptor {
        self.annotations = Some(BTreeMap::from([(
            media::ANN_TITLE.to_string(),
            title.to_string(),
        )]));
        self
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.as_ref()?.get(key).map(String::as_str)
    }
}

/// An OCI image manifest (the subset this crate writes and checks).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

impl Manifest {
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.as_ref()?.get(key).map(String::as_str)
    }
}

/// A complete image: the exact manifest bytes plus every blob it references (config and layers).
#[derive(Clone, PartialEq, Eq)]
pub struct Image {
    manifest_bytes: Vec<u8>,
    digest: Digest,
    /// Blobs by digest.
    pub blobs: BTreeMap<Digest, Vec<u8>>,
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Image")
            .field("digest", &self.digest)
            .field("manifest", &String::from_utf8_lossy(&self.manifest_bytes))
            .field(
                "blobs",
                &self
                    .blobs
                    .iter()
                    .map(|(d, b)| (d.as_str(), b.len()))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Image {
    /// Wraps manifest bytes and blobs as they are (nothing is checked: run [`crate::gate`] for that).
    pub fn from_parts(manifest_bytes: Vec<u8>, blobs: BTreeMap<Digest, Vec<u8>>) -> Image {
        Image {
            digest: Digest::of(&manifest_bytes),
            manifest_bytes,
            blobs,
        }
    }

    /// The exact manifest bytes (what is pushed and hashed).
    pub fn manifest_bytes(&self) -> &[u8] {
        &self.manifest_bytes
    }

    /// The manifest digest: what `WasmPlugin.spec.sha256` must hold (as [`Digest::hex`]).
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// Parses the manifest.
    pub fn manifest(&self) -> Result<Manifest> {
        serde_json::from_slice(&self.manifest_bytes).map_err(|e| {
            Error::Image(format!(
                "manifest {} does not parse as an OCI image manifest: {e}",
                self.digest
            ))
        })
    }

    /// The blob a descriptor points at.
    pub fn blob(&self, d: &Descriptor) -> Option<&[u8]> {
        let digest = Digest::parse(&d.digest).ok()?;
        self.blobs.get(&digest).map(Vec::as_slice)
    }
}

/// Inputs of [`package`]. Nothing else (no clock, no environment) goes into the image.
#[derive(Clone, Debug)]
pub struct PackageInput {
    /// The plug-in module.
    pub wasm: Vec<u8>,
    pub format: Format,
    /// Commit time, seconds since the Unix epoch (`git log -1 --format=%ct`, or `SOURCE_DATE_EPOCH`). Written as
    /// the RFC 3339 `created` annotation and, for `compat`, as the tar entry mtime and config `created`.
    pub commit_time: i64,
    /// The 40-hex commit id.
    pub revision: String,
    /// The plug-in version (`1.2.0`).
    pub version: String,
    /// Source repository URL (the `source` annotation).
    pub source: String,
    /// The plug-in name (the `title` annotation).
    pub title: String,
    pub annotations: Annotations,
}

/// Packages `input.wasm` as an OCI image. Equal inputs give byte-identical manifests and blobs, so equal
/// digests; the tag is not an input (it lives only in the layout's `index.json` and the registry).
pub fn package(input: &PackageInput) -> Result<Image> {
    if input.wasm.is_empty() {
        return Err(Error::Input("the wasm module is empty".into()));
    }
    if input.revision.len() != 40 || !input.revision.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::Input(format!(
            "revision `{}` must be a full 40-hex commit id (`git rev-parse HEAD`)",
            input.revision
        )));
    }
    if input.version.trim().is_empty() {
        return Err(Error::Input(
            "version is empty (pass the plug-in version, e.g. 1.0.0)".into(),
        ));
    }
    if input.commit_time < 0 {
        return Err(Error::Input(format!(
            "commit time {} is before 1970",
            input.commit_time
        )));
    }
    let created = rfc3339(input.commit_time);
    let mut ann = BTreeMap::new();
    ann.insert(media::ANN_CREATED.to_string(), created.clone());
    ann.insert(
        media::ANN_REVISION.to_string(),
        input.revision.to_ascii_lowercase(),
    );
    ann.insert(media::ANN_VERSION.to_string(), input.version.clone());
    match &input.annotations {
        Annotations::Standard => {
            if input.source.is_empty() || input.title.is_empty() {
                return Err(Error::Input(
                    "source and title must be set for the standard annotations".into(),
                ));
            }
            ann.insert(media::ANN_SOURCE.to_string(), input.source.clone());
            ann.insert(media::ANN_TITLE.to_string(), input.title.clone());
        }
        Annotations::HigressRelease { input_hash } => {
            Digest::parse(input_hash).map_err(|_| {
                Error::Input(format!(
                    "input hash `{input_hash}` must be sha256:<64 lowercase hex>"
                ))
            })?;
            if !is_stable_semver(&input.version) {
                return Err(Error::Input(format!(
                    "version `{}` must be a stable SemVer (MAJOR.MINOR.PATCH) for a Higress release image",
                    input.version
                )));
            }
            ann.insert(
                media::ANN_HIGRESS_INPUT_HASH.to_string(),
                input_hash.clone(),
            );
        }
    }

    let mut blobs = BTreeMap::new();
    let (config, layers) = match input.format {
        Format::Oci => {
            let config = b"{}".to_vec();
            let wasm_config = b"{}".to_vec();
            let config_desc = Descriptor::of(media::UNKNOWN_CONFIG, &config);
            let layers = vec![
                Descriptor::of(media::WASM_CONFIG_LAYER, &wasm_config).titled("config.json"),
                Descriptor::of(media::WASM_CONTENT_LAYER, &input.wasm).titled("plugin.wasm"),
            ];
            blobs.insert(Digest::of(&config), config);
            blobs.insert(Digest::of(&input.wasm), input.wasm.clone());
            (config_desc, layers)
        }
        Format::Compat => {
            let tar = plugin_tar(&input.wasm, input.commit_time)?;
            let diff_id = Digest::of(&tar);
            let layer = gzip(&tar)?;
            let config = to_canonical_json(&serde_json::json!({
                "architecture": "amd64",
                "os": "linux",
                "created": created,
                "config": {},
                "rootfs": { "type": "layers", "diff_ids": [diff_id.as_str()] },
            }));
            let config_desc = Descriptor::of(media::OCI_CONFIG, &config);
            let layers =
                vec![Descriptor::of(media::OCI_LAYER_TAR_GZIP, &layer).titled("plugin.tar.gz")];
            ann.insert(media::ANN_VARIANT.to_string(), "compat".to_string());
            blobs.insert(Digest::of(&config), config);
            blobs.insert(Digest::of(&layer), layer);
            (config_desc, layers)
        }
    };
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.to_string()),
        artifact_type: None,
        config,
        layers,
        annotations: Some(ann),
    };
    Ok(Image::from_parts(to_canonical_json(&manifest), blobs))
}

/// A one-entry ustar archive holding `plugin.wasm`: mode 0644, uid/gid 0, no user or group names,
/// mtime = `mtime`.
pub(crate) fn plugin_tar(wasm: &[u8], mtime: i64) -> Result<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    append_file(&mut b, "plugin.wasm", wasm, mtime)?;
    b.into_inner()
        .map_err(|e| Error::Image(format!("writing the layer tar: {e}")))
}

pub(crate) fn append_file(
    b: &mut tar::Builder<Vec<u8>>,
    path: &str,
    data: &[u8],
    mtime: i64,
) -> Result<()> {
    let mut h = tar::Header::new_ustar();
    h.set_path(path)
        .map_err(|e| Error::Image(format!("tar path `{path}`: {e}")))?;
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime.max(0) as u64);
    h.set_cksum();
    b.append(&h, data)
        .map_err(|e| Error::Image(format!("writing tar entry `{path}`: {e}")))
}

pub(crate) fn append_dir(b: &mut tar::Builder<Vec<u8>>, path: &str, mtime: i64) -> Result<()> {
    let mut h = tar::Header::new_ustar();
    h.set_path(path)
        .map_err(|e| Error::Image(format!("tar path `{path}`: {e}")))?;
    h.set_entry_type(tar::EntryType::Directory);
    h.set_size(0);
    h.set_mode(0o755);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime.max(0) as u64);
    h.set_cksum();
    b.append(&h, std::io::empty())
        .map_err(|e| Error::Image(format!("writing tar entry `{path}`: {e}")))
}

/// gzip with a fixed level (9), no file name, mtime 0 and OS byte 255. The bytes also depend on the
/// deflate backend: flate2's `rust_backend` (miniz_oxide) is pinned in Cargo.toml, and a miniz_oxide upgrade
/// may change compat layer digests.
fn gzip(data: &[u8]) -> Result<Vec<u8>> {
    let mut enc = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::new(9));
    enc.write_all(data)
        .map_err(|e| Error::Image(format!("gzip: {e}")))?;
    enc.finish().map_err(|e| Error::Image(format!("gzip: {e}")))
}

/// `MAJOR.MINOR.PATCH` with no pre-release or build suffix and no leading zeros.
pub fn is_stable_semver(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semver() {
        assert!(is_stable_semver("1.0.0"));
        assert!(is_stable_semver("10.20.30"));
        assert!(!is_stable_semver("1.0"));
        assert!(!is_stable_semver("1.0.0-rc1"));
        assert!(!is_stable_semver("01.0.0"));
    }

    #[test]
    fn tar_is_deterministic_and_minimal() {
        let a = plugin_tar(b"\0asm\x01\0\0\0", 1_700_000_000).unwrap();
        assert_eq!(a, plugin_tar(b"\0asm\x01\0\0\0", 1_700_000_000).unwrap());
        assert_eq!(a.len(), 512 + 512 + 1024);
        let mut ar = tar::Archive::new(a.as_slice());
        let e = ar.entries().unwrap().next().unwrap().unwrap();
        let h = e.header();
        assert_eq!(h.path().unwrap().to_str(), Some("plugin.wasm"));
        assert_eq!(h.mode().unwrap(), 0o644);
        assert_eq!(h.mtime().unwrap(), 1_700_000_000);
        assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (0, 0));
        assert_eq!(h.username().unwrap(), Some(""));
    }

    #[test]
    fn gzip_has_no_timestamp() {
        let g = gzip(b"hello").unwrap();
        assert_eq!(&g[4..8], &[0, 0, 0, 0], "mtime");
        assert_eq!(g[9], 255, "os");
        assert_eq!(g[3] & 0x08, 0, "no FNAME");
    }
}
