//! Integration tests: packaging determinism, the layout gate, and push/pull against a real registry
//! (Debian's `docker-registry`, started per test on a free loopback port).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use pwoci::gate::AnnotationRule;
use pwoci::testing::{
    minimal_plugin_wasm, wasm_module, TestRegistry, ValType, TEST_PASSWORD, TEST_USER,
};
use pwoci::*;

const REV: &str = "0123456789abcdef0123456789abcdef01234567";
const T0: i64 = 1_700_000_000;

fn input(format: Format) -> PackageInput {
    PackageInput {
        wasm: minimal_plugin_wasm(),
        format,
        commit_time: T0,
        revision: REV.into(),
        version: "1.0.0".into(),
        source: "https://example.com/plugins".into(),
        title: "request-block".into(),
        annotations: Annotations::Standard,
    }
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pwoci-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn layout_opts(tag: &str) -> LayoutOptions {
    LayoutOptions {
        tag: tag.into(),
        repository: Some("plugins/request-block".into()),
        mtime: T0,
    }
}

// ---------------------------------------------------------------- packaging

#[test]
fn oci_format_matches_higress_release_shape() {
    let img = package(&input(Format::Oci)).unwrap();
    let v: serde_json::Value = serde_json::from_slice(img.manifest_bytes()).unwrap();
    assert_eq!(v["mediaType"], media::OCI_MANIFEST);
    assert_eq!(v["schemaVersion"], 2);
    assert_eq!(v["config"]["mediaType"], media::UNKNOWN_CONFIG);
    assert_eq!(
        v["config"]["digest"],
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
    assert_eq!(v["config"]["size"], 2);
    assert_eq!(v["layers"][0]["mediaType"], media::WASM_CONFIG_LAYER);
    assert_eq!(
        v["layers"][0]["annotations"][media::ANN_TITLE],
        "config.json"
    );
    assert_eq!(v["layers"][1]["mediaType"], media::WASM_CONTENT_LAYER);
    assert_eq!(
        v["layers"][1]["annotations"][media::ANN_TITLE],
        "plugin.wasm"
    );
    assert_eq!(
        v["layers"][1]["digest"],
        Digest::of(&minimal_plugin_wasm()).as_str()
    );
    let ann = v["annotations"].as_object().unwrap();
    assert_eq!(ann.len(), 5);
    assert_eq!(ann[media::ANN_CREATED], "2023-11-14T22:13:20Z");
    assert_eq!(ann[media::ANN_REVISION], REV);
    // Canonical: no whitespace, keys sorted.
    assert_eq!(img.manifest_bytes(), canonical_value(&v).as_slice());
    let report = gate(&img, &GateOptions::default()).unwrap();
    assert_eq!(report.format, Format::Oci);
    assert_eq!(report.wasm, minimal_plugin_wasm());
    assert_eq!(report.abi_export, "proxy_abi_version_0_2_1");
}

#[test]
fn higress_release_annotations_are_exactly_four() {
    let mut i = input(Format::Oci);
    i.annotations = Annotations::HigressRelease {
        input_hash: Digest::of(b"inputs").to_string(),
    };
    let img = package(&i).unwrap();
    let m = img.manifest().unwrap();
    let keys: Vec<&String> = m.annotations.as_ref().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            media::ANN_HIGRESS_INPUT_HASH,
            media::ANN_CREATED,
            media::ANN_REVISION,
            media::ANN_VERSION
        ]
    );
    gate(
        &img,
        &GateOptions {
            annotations: AnnotationRule::HigressRelease,
        },
    )
    .unwrap();
    // The standard set fails the Higress release gate (5 annotations, no input hash).
    let std_img = package(&input(Format::Oci)).unwrap();
    let e = gate(
        &std_img,
        &GateOptions {
            annotations: AnnotationRule::HigressRelease,
        },
    )
    .unwrap_err();
    assert_eq!(e.rule, "annotations.input-hash");
    i.version = "1.0.0-rc1".into();
    assert!(package(&i)
        .unwrap_err()
        .to_string()
        .contains("stable SemVer"));
}

#[test]
fn packaging_is_deterministic() {
    for format in [Format::Oci, Format::Compat] {
        let a = package(&input(format)).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100)); // a different wall-clock second
        let b = package(&input(format)).unwrap();
        assert_eq!(a.digest(), b.digest(), "{format}");
        assert_eq!(a, b);
        // The tag is not part of the image: different tags give the same manifest digest, and the layout tars
        // differ only in index.json.
        let ta = layout_tar(&a, &layout_opts("1.0.0")).unwrap();
        assert_eq!(
            ta,
            layout_tar(&b, &layout_opts("1.0.0")).unwrap(),
            "{format} layout tar"
        );
        assert_ne!(ta, layout_tar(&b, &layout_opts("latest")).unwrap());
        // The commit time is an input: it changes the digest.
        let mut later = input(format);
        later.commit_time += 1;
        assert_ne!(package(&later).unwrap().digest(), a.digest(), "{format}");
    }
}

#[test]
fn compat_format_is_a_valid_image() {
    let img = package(&input(Format::Compat)).unwrap();
    let m = img.manifest().unwrap();
    assert_eq!(m.layers.len(), 1);
    assert_eq!(m.layers[0].media_type, media::OCI_LAYER_TAR_GZIP);
    assert_eq!(m.annotation(media::ANN_VARIANT), Some("compat"));
    let cfg: serde_json::Value = serde_json::from_slice(img.blob(&m.config).unwrap()).unwrap();
    assert_eq!(
        (cfg["os"].as_str(), cfg["architecture"].as_str()),
        (Some("linux"), Some("amd64"))
    );
    let report = gate(&img, &GateOptions::default()).unwrap();
    assert_eq!(report.format, Format::Compat);
    assert_eq!(report.wasm, minimal_plugin_wasm());
}

#[test]
fn layout_written_atomically_and_read_back() {
    let dir = tmpdir("layout");
    let out = dir.join("image");
    for format in [Format::Oci, Format::Compat] {
        let img = package(&input(format)).unwrap();
        write_layout(&img, &out, &layout_opts("1.0.0")).unwrap(); // replaces the previous layout
        assert_eq!(read_layout(&out, Some("1.0.0")).unwrap(), img);
        assert_eq!(read_layout(&out, None).unwrap(), img);
        assert!(read_layout(&out, Some("nope"))
            .unwrap_err()
            .to_string()
            .contains("no image tagged `nope`"));
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("index.json")).unwrap()).unwrap();
        assert_eq!(
            index["manifests"][0]["annotations"][media::ANN_REF_NAME],
            "1.0.0"
        );
        assert_eq!(std::fs::read(out.join("oci-layout")).unwrap(), OCI_LAYOUT);
        assert_eq!(out.join("manifest.json").exists(), format == Format::Compat);
        let blobs = std::fs::read_dir(out.join("blobs/sha256")).unwrap().count();
        assert_eq!(blobs, 3, "{format}: manifest + config + layers");
        let tar_path = dir.join(format!("{format}.tar"));
        write_layout_tar(&img, &tar_path, &layout_opts("1.0.0")).unwrap();
        let names: Vec<String> = tar::Archive::new(std::fs::File::open(&tar_path).unwrap())
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names[..2], ["blobs/", "blobs/sha256/"]);
        assert!(
            names.contains(&"index.json".to_string()) && names.contains(&"oci-layout".to_string())
        );
    }
    // Nothing temporary is left beside the output.
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 3, "{leftovers:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------- the gate

/// Rebuilds an image from a manifest value and blobs.
fn image_from(manifest: &serde_json::Value, blobs: &[&[u8]]) -> Image {
    let mut map = BTreeMap::new();
    for b in blobs {
        map.insert(Digest::of(b), b.to_vec());
    }
    Image::from_parts(canonical_value(manifest), map)
}

fn desc(mt: &str, bytes: &[u8], title: Option<&str>) -> serde_json::Value {
    let mut d = serde_json::json!({"mediaType": mt, "digest": Digest::of(bytes).as_str(), "size": bytes.len()});
    if let Some(t) = title {
        d["annotations"] = serde_json::json!({ media::ANN_TITLE: t });
    }
    d
}

fn oci_manifest(layers: Vec<serde_json::Value>) -> serde_json::Value {
    let good = package(&input(Format::Oci)).unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(good.manifest_bytes()).unwrap();
    v["layers"] = serde_json::Value::Array(layers);
    v
}

fn oci_with_wasm(wasm: &[u8]) -> Image {
    let m = oci_manifest(vec![
        desc(media::WASM_CONFIG_LAYER, b"{}", Some("config.json")),
        desc(media::WASM_CONTENT_LAYER, wasm, Some("plugin.wasm")),
    ]);
    image_from(&m, &[b"{}", wasm])
}

fn rule_of(img: &Image) -> &'static str {
    let e = gate(img, &GateOptions::default()).expect_err("the gate accepted a bad image");
    assert!(
        e.to_string()
            .starts_with(&format!("layout gate: rule {}: ", e.rule)),
        "{e}"
    );
    e.rule
}

#[test]
fn gate_refuses_single_raw_wasm_layer() {
    let w = minimal_plugin_wasm();
    let img = image_from(
        &oci_manifest(vec![desc(
            media::WASM_CONTENT_LAYER,
            &w,
            Some("plugin.wasm"),
        )]),
        &[b"{}", &w],
    );
    assert_eq!(rule_of(&img), "layers.single-raw-wasm");
}

#[test]
fn gate_refuses_cncf_media_types() {
    let w = minimal_plugin_wasm();
    for mt in [media::CNCF_WASM_LAYER, media::COMPONENT_WASM] {
        let img = image_from(
            &oci_manifest(vec![
                desc(media::WASM_CONFIG_LAYER, b"{}", Some("config.json")),
                desc(mt, &w, Some("plugin.wasm")),
            ]),
            &[b"{}", &w],
        );
        assert_eq!(rule_of(&img), "media-type.cncf", "{mt}");
    }
}

#[test]
fn gate_refuses_wrong_order_and_count() {
    let w = minimal_plugin_wasm();
    let swapped = image_from(
        &oci_manifest(vec![
            desc(media::WASM_CONTENT_LAYER, &w, Some("plugin.wasm")),
            desc(media::WASM_CONFIG_LAYER, b"{}", Some("config.json")),
        ]),
        &[b"{}", &w],
    );
    assert_eq!(rule_of(&swapped), "layers.order");
    let three = image_from(
        &oci_manifest(vec![
            desc(media::WASM_CONFIG_LAYER, b"{}", Some("config.json")),
            desc(media::WASM_CONTENT_LAYER, &w, Some("plugin.wasm")),
            desc(media::WASM_CONTENT_LAYER, &w, Some("plugin.wasm")),
        ]),
        &[b"{}", &w],
    );
    let e = gate(&three, &GateOptions::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "layout gate: rule layers.count: oci variant needs exactly 2 layers, got 3"
    );
    let untitled = image_from(
        &oci_manifest(vec![
            desc(media::WASM_CONFIG_LAYER, b"{}", None),
            desc(media::WASM_CONTENT_LAYER, &w, Some("plugin.wasm")),
        ]),
        &[b"{}", &w],
    );
    assert_eq!(rule_of(&untitled), "layers.title");
}

#[test]
fn gate_refuses_bad_wasm() {
    let mut bad_magic = minimal_plugin_wasm();
    bad_magic[1] = b'A';
    assert_eq!(rule_of(&oci_with_wasm(&bad_magic)), "wasm.magic");
    assert_eq!(rule_of(&oci_with_wasm(b"\0asm")), "wasm.size");
    let mut component = minimal_plugin_wasm();
    component[4..8].copy_from_slice(&[0x0d, 0, 1, 0]);
    assert_eq!(rule_of(&oci_with_wasm(&component)), "wasm.version");
    let mut truncated = minimal_plugin_wasm();
    truncated.truncate(20);
    assert_eq!(rule_of(&oci_with_wasm(&truncated)), "wasm.parse");
    use ValType::I32;
    let no_abi = wasm_module(
        true,
        &[
            ("proxy_on_vm_start", &[I32, I32], &[I32]),
            ("proxy_on_configure", &[I32, I32], &[I32]),
        ],
    );
    assert_eq!(rule_of(&oci_with_wasm(&no_abi)), "wasm.abi-version");
    let no_memory = wasm_module(
        false,
        &[
            ("proxy_abi_version_0_2_1", &[], &[]),
            ("proxy_on_vm_start", &[I32, I32], &[I32]),
            ("proxy_on_configure", &[I32, I32], &[I32]),
        ],
    );
    assert_eq!(rule_of(&oci_with_wasm(&no_memory)), "wasm.memory-export");
    let no_configure = wasm_module(
        true,
        &[
            ("proxy_abi_version_0_2_1", &[], &[]),
            ("proxy_on_vm_start", &[I32, I32], &[I32]),
        ],
    );
    assert_eq!(rule_of(&oci_with_wasm(&no_configure)), "wasm.on-configure");
    let bad_sig = wasm_module(
        true,
        &[
            ("proxy_abi_version_0_2_1", &[], &[]),
            ("proxy_on_vm_start", &[I32], &[I32]),
            ("proxy_on_configure", &[I32, I32], &[I32]),
        ],
    );
    let e = gate(&oci_with_wasm(&bad_sig), &GateOptions::default()).unwrap_err();
    assert_eq!(e.rule, "wasm.on-vm-start");
    assert!(
        e.detail.contains("(i32,i32)->(i32)") && e.detail.contains("is (i32)->(i32)"),
        "{e}"
    );
}

#[test]
fn gate_refuses_index_and_broken_blobs() {
    let idx =
        serde_json::json!({"schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": []});
    assert_eq!(rule_of(&image_from(&idx, &[])), "manifest.index");
    let good = package(&input(Format::Oci)).unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(good.manifest_bytes()).unwrap();
    v["mediaType"] = media::DOCKER_MANIFEST.into();
    assert_eq!(
        rule_of(&Image::from_parts(canonical_value(&v), good.blobs.clone())),
        "manifest.media-type"
    );
    // Missing blob, wrong size, wrong content.
    let w = minimal_plugin_wasm();
    let mut blobs = good.blobs.clone();
    blobs.remove(&Digest::of(&w));
    assert_eq!(
        rule_of(&Image::from_parts(good.manifest_bytes().to_vec(), blobs)),
        "blobs.present"
    );
    let mut v: serde_json::Value = serde_json::from_slice(good.manifest_bytes()).unwrap();
    v["layers"][1]["size"] = (w.len() + 1).into();
    assert_eq!(
        rule_of(&Image::from_parts(canonical_value(&v), good.blobs.clone())),
        "blobs.size"
    );
    let mut blobs = good.blobs.clone();
    let mut tampered = w.clone();
    *tampered.last_mut().unwrap() ^= 1;
    blobs.insert(Digest::of(&w), tampered);
    assert_eq!(
        rule_of(&Image::from_parts(good.manifest_bytes().to_vec(), blobs)),
        "blobs.digest"
    );
}

#[test]
fn gate_checks_compat_layers() {
    let good = package(&input(Format::Compat)).unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(good.manifest_bytes()).unwrap();
    v["annotations"]
        .as_object_mut()
        .unwrap()
        .remove(media::ANN_VARIANT);
    assert_eq!(
        rule_of(&Image::from_parts(canonical_value(&v), good.blobs.clone())),
        "compat.variant-annotation"
    );
    // A tar+gzip layer without plugin.wasm.
    let mut v: serde_json::Value = serde_json::from_slice(good.manifest_bytes()).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    {
        let mut b = tar::Builder::new(&mut gz);
        let mut h = tar::Header::new_ustar();
        h.set_path("other.wasm").unwrap();
        h.set_size(8);
        h.set_cksum();
        b.append(&h, &minimal_plugin_wasm()[..8]).unwrap();
        b.finish().unwrap();
    }
    let layer = gz.finish().unwrap();
    v["layers"][0] = desc(media::OCI_LAYER_TAR_GZIP, &layer, None);
    let mut blobs = good.blobs.clone();
    blobs.insert(Digest::of(&layer), layer);
    assert_eq!(
        rule_of(&Image::from_parts(canonical_value(&v), blobs)),
        "compat.tar"
    );
}

// ---------------------------------------------------------------- registry

fn client() -> Client {
    Client::new(ClientOptions {
        backoff: std::time::Duration::from_millis(50),
        ..Default::default()
    })
    .unwrap()
}

fn skopeo() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("skopeo"))
        .find(|p| p.is_file())
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn push_and_verify_both_formats() {
    let Some(reg) = TestRegistry::start().unwrap() else {
        return;
    };
    let mut c = client();
    for format in [Format::Oci, Format::Compat] {
        let img = package(&input(format)).unwrap();
        gate(&img, &GateOptions::default()).unwrap();
        let r = Reference::parse(&format!(
            "{}/plugins/request-block-{format}:1.0.0",
            reg.host()
        ))
        .unwrap();
        let digest = c.push(&img, &r).unwrap();
        assert_eq!(&digest, img.digest());
        let v = c.verify(&img, &r, &GateOptions::default()).unwrap();
        assert_eq!(v.digest, digest);
        assert_eq!(v.report.wasm, minimal_plugin_wasm());
        assert_eq!(v.report.format, format);
        assert_eq!(c.resolve_digest(&r).unwrap(), digest);
        // Plain HTTP to the loopback registry, pulled by digest.
        assert!(c
            .trace
            .iter()
            .all(|(_, url, _)| url.starts_with("http://127.0.0.1:")));
        assert!(c.trace.iter().any(|(m, url, s)| m == "GET"
            && url.ends_with(&format!("/manifests/{digest}"))
            && *s == 200));
        // A second push finds the blobs and uploads nothing.
        c.trace.clear();
        c.push(&img, &r).unwrap();
        assert!(
            !c.trace.iter().any(|(m, _, _)| m == "POST"),
            "{:?}",
            c.trace
        );

        if let Some(skopeo) = skopeo() {
            let raw = run(Command::new(&skopeo).args([
                "inspect",
                "--raw",
                "--tls-verify=false",
                &format!("docker://{r}"),
            ]));
            assert_eq!(
                raw.as_bytes(),
                img.manifest_bytes(),
                "skopeo sees the bytes we pushed"
            );
            let dir = tmpdir(&format!("skopeo-{format}"));
            let dest = dir.join("copy");
            run(Command::new(&skopeo).args([
                "copy",
                "--src-tls-verify=false",
                &format!("docker://{r}"),
                &format!("oci:{}:1.0.0", dest.display()),
            ]));
            let copied = read_layout(&dest, Some("1.0.0")).unwrap();
            assert_eq!(
                copied.digest(),
                img.digest(),
                "skopeo copy keeps the digest"
            );
            assert_eq!(copied, img);
            // And our layout tar is a valid oci-archive skopeo can push.
            let tar_path = dir.join("image.tar");
            write_layout_tar(&img, &tar_path, &layout_opts("1.0.0")).unwrap();
            let r2 = format!("{}/plugins/from-archive-{format}:1.0.0", reg.host());
            run(Command::new(&skopeo).args([
                "copy",
                "--dest-tls-verify=false",
                &format!("oci-archive:{}:1.0.0", tar_path.display()),
                &format!("docker://{r2}"),
            ]));
            assert_eq!(
                c.resolve_digest(&Reference::parse(&r2).unwrap()).unwrap(),
                digest
            );
            let _ = std::fs::remove_dir_all(&dir);
        } else {
            eprintln!("SKIP: skopeo not installed; skopeo cross-checks not run");
        }
    }
}

#[test]
fn chunked_upload() {
    let Some(reg) = TestRegistry::start().unwrap() else {
        return;
    };
    let mut c = Client::new(ClientOptions {
        chunk_size: 7,
        ..Default::default()
    })
    .unwrap();
    let img = package(&input(Format::Oci)).unwrap();
    let r = Reference::parse(&format!("{}/chunked/p:v1", reg.host())).unwrap();
    c.push(&img, &r).unwrap();
    let patches = c.trace.iter().filter(|(m, _, _)| m == "PATCH").count();
    assert_eq!(
        patches,
        minimal_plugin_wasm().len().div_ceil(7),
        "{:?}",
        c.trace
    );
    c.verify(&img, &r, &GateOptions::default()).unwrap();
}

#[test]
fn basic_auth_registry() {
    let Some(reg) = TestRegistry::start_with_basic_auth().unwrap() else {
        return;
    };
    let img = package(&input(Format::Oci)).unwrap();
    let r = Reference::parse(&format!("{}/auth/p:v1", reg.host())).unwrap();
    let mut good = Client::new(ClientOptions {
        credentials: Some(Credentials::basic(TEST_USER, TEST_PASSWORD)),
        ..Default::default()
    })
    .unwrap();
    good.push(&img, &r).unwrap();
    good.verify(&img, &r, &GateOptions::default()).unwrap();
    assert_eq!(
        good.credential_source(&r.registry),
        Some(&CredentialSource::Explicit)
    );

    let mut wrong = Client::new(ClientOptions {
        credentials: Some(Credentials::basic(TEST_USER, "not-the-password")),
        retries: 0,
        ..Default::default()
    })
    .unwrap();
    let e = wrong.push(&img, &r).unwrap_err().to_string();
    assert!(e.contains("401") && !e.contains("not-the-password"), "{e}");
    assert!(!format!("{wrong:?}").contains("not-the-password"));
}

#[test]
fn unreachable_registry_fails_after_retries() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut c = Client::new(ClientOptions {
        retries: 2,
        backoff: std::time::Duration::from_millis(20),
        ..Default::default()
    })
    .unwrap();
    let r = Reference::parse(&format!("127.0.0.1:{port}/x/y:1")).unwrap();
    let start = std::time::Instant::now();
    let e = c
        .push(&package(&input(Format::Oci)).unwrap(), &r)
        .unwrap_err()
        .to_string();
    assert!(e.contains("connection failed"), "{e}");
    assert!(
        start.elapsed() >= std::time::Duration::from_millis(60),
        "two backoffs (20 + 40 ms) were waited"
    );
}

/// `docker load` of the compat layout tar. Needs a running docker daemon (`DOCKER_HOST`); skipped with a
/// printed reason otherwise.
#[test]
fn docker_loads_compat_tar() {
    let docker = match std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("docker"))
            .find(|p| p.is_file())
    }) {
        Some(d) => d,
        None => return eprintln!("SKIP: no docker CLI; docker load not tested"),
    };
    if !Command::new(&docker)
        .arg("info")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return eprintln!(
            "SKIP: no docker daemon answers (set DOCKER_HOST); docker load not tested"
        );
    }
    let img = package(&input(Format::Compat)).unwrap();
    let dir = tmpdir("docker-load");
    let tar_path = dir.join("compat.tar");
    let repo = format!("pwoci-test-{}/request-block", std::process::id());
    let opts = LayoutOptions {
        tag: "1.0.0".into(),
        repository: Some(repo.clone()),
        mtime: T0,
    };
    write_layout_tar(&img, &tar_path, &opts).unwrap();
    let out = run(Command::new(&docker).args(["load", "-i"]).arg(&tar_path));
    assert!(
        out.contains(&format!("Loaded image: {repo}:1.0.0")),
        "{out}"
    );
    let id = run(Command::new(&docker).args([
        "image",
        "inspect",
        "--format",
        "{{.Id}} {{.Os}}",
        &format!("{repo}:1.0.0"),
    ]));
    let m = img.manifest().unwrap();
    assert_eq!(
        id.trim(),
        format!("{} linux", m.config.digest),
        "the image id is the config digest"
    );
    let _ = Command::new(&docker)
        .args(["rmi", &format!("{repo}:1.0.0")])
        .output();
    let _ = std::fs::remove_dir_all(&dir);
}
