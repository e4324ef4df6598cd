//! OCI image layout on disk (`oci-layout`, `index.json`, `blobs/sha256/…`), written atomically, and a
//! deterministic tar of it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::canonical::to_canonical_json;
use crate::digest::Digest;
use crate::error::{io_err, Error, Result};
use crate::image::{append_dir, append_file, media, Image};

/// `{"imageLayoutVersion":"1.0.0"}`.
pub const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

/// Names the image inside a layout and its tar.
#[derive(Clone, Debug)]
pub struct LayoutOptions {
    /// Written as `org.opencontainers.image.ref.name` in `index.json`.
    pub tag: String,
    /// For compat images, `repository:tag` goes in `manifest.json`'s `RepoTags` so `docker load` tags it
    /// (e.g. `plugins/request-block`). `None`: docker loads it untagged.
    pub repository: Option<String>,
    /// Entry mtime in the tar (use the commit time).
    pub mtime: i64,
}

/// Checks an OCI tag: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub fn validate_tag(tag: &str) -> Result<()> {
    let b = tag.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::Input(format!(
            "tag `{tag}` is not a valid OCI tag ([A-Za-z0-9_][A-Za-z0-9._-]{{0,127}})"
        )))
    }
}

/// The files of the layout, path → bytes, in the order they are written.
fn layout_files(image: &Image, opts: &LayoutOptions) -> Result<BTreeMap<String, Vec<u8>>> {
    validate_tag(&opts.tag)?;
    let m = image.manifest()?;
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_INDEX,
        "manifests": [{
            "mediaType": media::OCI_MANIFEST,
            "digest": image.digest().as_str(),
            "size": image.manifest_bytes().len(),
            "annotations": { media::ANN_REF_NAME: opts.tag },
        }],
    });
    let mut files = BTreeMap::new();
    files.insert("oci-layout".to_string(), OCI_LAYOUT.to_vec());
    files.insert("index.json".to_string(), to_canonical_json(&index));
    files.insert(
        format!("blobs/sha256/{}", image.digest().hex()),
        image.manifest_bytes().to_vec(),
    );
    for (d, bytes) in &image.blobs {
        files.insert(format!("blobs/sha256/{}", d.hex()), bytes.clone());
    }
    // A compat image is also a docker archive: `docker load` (any version) reads manifest.json.
    let is_compat = m
        .layers
        .last()
        .is_some_and(|l| l.media_type == media::OCI_LAYER_TAR_GZIP);
    if is_compat {
        let mut entry = serde_json::json!({
            "Config": format!("blobs/sha256/{}", Digest::parse(&m.config.digest)?.hex()),
            "Layers": m.layers.iter().map(|l| Ok(format!("blobs/sha256/{}", Digest::parse(&l.digest)?.hex()))).collect::<Result<Vec<_>>>()?,
        });
        if let Some(repo) = &opts.repository {
            entry["RepoTags"] = serde_json::json!([format!("{repo}:{}", opts.tag)]);
        }
        files.insert(
            "manifest.json".to_string(),
            to_canonical_json(&serde_json::json!([entry])),
        );
    }
    Ok(files)
}

/// Writes the image as an OCI layout directory at `dir`, replacing whatever is there. The layout is built
/// in a sibling temporary directory and renamed into place, so readers never see a partial layout.
pub fn write_layout(image: &Image, dir: &Path, opts: &LayoutOptions) -> Result<()> {
    let files = layout_files(image, opts)?;
    let (parent, name) = split(dir)?;
    std::fs::create_dir_all(&parent).map_err(io_err("creating", &parent))?;
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(tmp.join("blobs/sha256")).map_err(io_err("creating", &tmp))?;
    for (path, bytes) in &files {
        let p = tmp.join(path);
        std::fs::write(&p, bytes).map_err(io_err("writing", &p))?;
    }
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    let had_old = dir.exists();
    if had_old {
        let _ = std::fs::remove_dir_all(&old);
        std::fs::rename(dir, &old).map_err(io_err("moving aside", dir))?;
    }
    std::fs::rename(&tmp, dir).map_err(io_err("renaming into place", dir))?;
    if had_old {
        std::fs::remove_dir_all(&old).map_err(io_err("removing", &old))?;
    }
    Ok(())
}

/// A deterministic tar of the layout: sorted entries, directories first, mode 0644/0755, uid/gid 0, no
/// user names, mtime = `opts.mtime`. Loadable by `skopeo copy oci-archive:` and, for compat images,
/// `docker load`.
pub fn layout_tar(image: &Image, opts: &LayoutOptions) -> Result<Vec<u8>> {
    let files = layout_files(image, opts)?;
    let mut b = tar::Builder::new(Vec::new());
    append_dir(&mut b, "blobs/", opts.mtime)?;
    append_dir(&mut b, "blobs/sha256/", opts.mtime)?;
    for (path, bytes) in &files {
        append_file(&mut b, path, bytes, opts.mtime)?;
    }
    b.into_inner()
        .map_err(|e| Error::Image(format!("writing the layout tar: {e}")))
}

/// Writes [`layout_tar`] to `path` atomically (temporary file + rename).
pub fn write_layout_tar(image: &Image, path: &Path, opts: &LayoutOptions) -> Result<()> {
    let bytes = layout_tar(image, opts)?;
    let (parent, name) = split(path)?;
    std::fs::create_dir_all(&parent).map_err(io_err("creating", &parent))?;
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(io_err("writing", &tmp))?;
    std::fs::rename(&tmp, path).map_err(io_err("renaming into place", path))
}

fn split(p: &Path) -> Result<(PathBuf, String)> {
    let name = p
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::Input(format!("output path {} has no file name", p.display())))?
        .to_string();
    let parent = match p.parent() {
        Some(x) if !x.as_os_str().is_empty() => x.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name))
}

/// Reads an image from an OCI layout directory: the manifest whose `ref.name` is `tag`, or the only one when
/// `tag` is `None`. Blob digests are not checked here (the gate does that).
pub fn read_layout(dir: &Path, tag: Option<&str>) -> Result<Image> {
    let read = |rel: &str| {
        let p = dir.join(rel);
        std::fs::read(&p).map_err(io_err("reading", p))
    };
    let layout: serde_json::Value = serde_json::from_slice(&read("oci-layout")?)
        .map_err(|e| Error::Image(format!("{}/oci-layout is not JSON: {e}", dir.display())))?;
    if layout.get("imageLayoutVersion").and_then(|v| v.as_str()) != Some("1.0.0") {
        return Err(Error::Image(format!(
            "{}/oci-layout: imageLayoutVersion must be 1.0.0",
            dir.display()
        )));
    }
    let index: serde_json::Value = serde_json::from_slice(&read("index.json")?)
        .map_err(|e| Error::Image(format!("{}/index.json is not JSON: {e}", dir.display())))?;
    let manifests = index
        .get("manifests")
        .and_then(|m| m.as_array())
        .cloned()
        .unwrap_or_default();
    let chosen: Vec<&serde_json::Value> = manifests
        .iter()
        .filter(|m| {
            tag.is_none_or(|t| {
                m.pointer(&format!(
                    "/annotations/{}",
                    media::ANN_REF_NAME.replace('/', "~1")
                ))
                .and_then(|v| v.as_str())
                    == Some(t)
            })
        })
        .collect();
    let entry = match (chosen.as_slice(), tag) {
        ([one], _) => *one,
        ([], Some(t)) => {
            return Err(Error::Image(format!(
                "{}/index.json has no image tagged `{t}`",
                dir.display()
            )))
        }
        (_, _) => {
            return Err(Error::Image(format!(
                "{}/index.json lists {} images; name one with a tag",
                dir.display(),
                chosen.len()
            )))
        }
    };
    let digest = Digest::parse(
        entry
            .get("digest")
            .and_then(|v| v.as_str())
            .unwrap_or_default(),
    )?;
    let manifest_bytes = read(&format!("blobs/sha256/{}", digest.hex()))?;
    let probe = Image::from_parts(manifest_bytes.clone(), BTreeMap::new());
    let m = probe.manifest()?;
    let mut blobs = BTreeMap::new();
    for d in std::iter::once(&m.config).chain(&m.layers) {
        let dg = Digest::parse(&d.digest)?;
        let bytes = read(&format!("blobs/sha256/{}", dg.hex()))?;
        blobs.insert(dg, bytes);
    }
    Ok(Image::from_parts(manifest_bytes, blobs))
}
