//! A small blocking client for the OCI distribution API: blob existence checks, monolithic and chunked
//! uploads, manifest PUT/GET, bearer-token and basic auth, retries with backoff. No async runtime.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use ureq::http;

use crate::auth::{self, CredentialSource, Credentials};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::gate::{gate, GateOptions, GateReport};
use crate::image::{media, Image, Manifest};
use crate::reference::Reference;

/// Largest manifest or blob read from a registry.
const MAX_READ: u64 = 512 << 20;
/// Largest manifest accepted (distribution's own limit is 4 MiB).
const MAX_MANIFEST: usize = 4 << 20;

const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

/// Client settings.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Use plain HTTP for every registry. Without it, plain HTTP is used only for loopback registries
    /// (127.0.0.0/8, `localhost`, `[::1]`) and HTTPS everywhere else.
    pub insecure: bool,
    /// Credentials to use for every registry, before the environment and docker's config (see [`auth`]).
    pub credentials: Option<Credentials>,
    /// Retries after a transient failure (connect error, timeout, 429, 5xx). Default 4.
    pub retries: u32,
    /// First backoff delay, doubled per retry (capped at 8 s); a `Retry-After` header wins (capped at 30 s).
    pub backoff: Duration,
    /// Blobs larger than this are uploaded in PATCH chunks of this size; smaller ones in one PUT.
    /// Default 16 MiB.
    pub chunk_size: usize,
    /// PEM bundle of trusted CAs replacing the built-in Mozilla roots (e.g. a corporate TLS-inspecting proxy's).
    /// Defaults to `$PWOCI_CA_FILE` when set.
    pub ca_file: Option<PathBuf>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            insecure: false,
            credentials: None,
            retries: 4,
            backoff: Duration::from_millis(500),
            chunk_size: 16 << 20,
            ca_file: std::env::var_os("PWOCI_CA_FILE").map(PathBuf::from),
        }
    }
}

/// Result of [`Client::verify`].
#[derive(Debug, Clone)]
pub struct Verified {
    /// `registry/repository@sha256:…`.
    pub reference: Reference,
    pub digest: Digest,
    /// The gate's findings on the pulled image; `report.wasm` is the pulled module.
    pub report: GateReport,
}

#[derive(Default)]
struct Session {
    resolved: bool,
    creds: Option<Credentials>,
    source: Option<CredentialSource>,
    /// Authorization header per scope (`repository:x:pull,push`), or `*` for basic auth.
    authz: HashMap<String, String>,
}

/// A blocking registry client. One client can talk to several registries; it caches tokens per scope.
pub struct Client {
    agent: ureq::Agent,
    opts: ClientOptions,
    sessions: HashMap<String, Session>,
    /// Where each request went, for tests and `-v` output: (method, url, status).
    pub trace: Vec<(String, String, u16)>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

struct Resp {
    status: u16,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

struct Req<'a> {
    method: &'static str,
    url: String,
    headers: Vec<(&'static str, String)>,
    body: Option<&'a [u8]>,
}

impl Client {
    pub fn new(opts: ClientOptions) -> Result<Client> {
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(ca) = &opts.ca_file {
            let pem = std::fs::read(ca).map_err(crate::error::io_err("reading CA bundle", ca))?;
            let certs: Vec<_> = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(Error::Input(format!(
                    "CA bundle {} holds no PEM certificate",
                    ca.display()
                )));
            }
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(concat!("pwoci/", env!("CARGO_PKG_VERSION")))
            .timeout_connect(Some(Duration::from_secs(15)))
            .timeout_recv_response(Some(Duration::from_secs(300)))
            .max_redirects(5)
            .tls_config(tls.build())
            .build()
            .new_agent();
        Ok(Client {
            agent,
            opts,
            sessions: HashMap::new(),
            trace: Vec::new(),
        })
    }

    /// Where the credentials for `registry` come from (after the first request to it).
    pub fn credential_source(&self, registry: &str) -> Option<&CredentialSource> {
        self.sessions.get(registry)?.source.as_ref()
    }

    fn base(&self, r: &Reference) -> String {
        let scheme = if self.opts.insecure || r.is_loopback() {
            "http"
        } else {
            "https"
        };
        format!("{scheme}://{}/v2/{}", r.api_host(), r.repository)
    }

    /// Pushes every blob (skipping those the registry has) and then the manifest, by tag (or by digest when the
    /// reference has no tag). Returns the manifest digest the registry stored.
    pub fn push(&mut self, image: &Image, r: &Reference) -> Result<Digest> {
        let m = image.manifest()?;
        let scope = format!("repository:{}:pull,push", r.repository);
        for d in std::iter::once(&m.config).chain(&m.layers) {
            let digest = Digest::parse(&d.digest)?;
            let bytes = image.blobs.get(&digest).ok_or_else(|| {
                Error::Image(format!(
                    "blob {digest} referenced by the manifest is missing"
                ))
            })?;
            self.push_blob(r, &scope, &digest, bytes)?;
        }
        let target = match (&r.tag, &r.digest) {
            (Some(t), _) => t.clone(),
            (None, Some(d)) if d == image.digest() => d.to_string(),
            (None, Some(d)) => {
                return Err(Error::Input(format!(
                    "cannot push image {} to {r}: the reference names digest {d}",
                    image.digest()
                )))
            }
            (None, None) => {
                return Err(Error::Input(format!(
                    "reference {r} has no tag to push to (add :TAG)"
                )))
            }
        };
        let content_type = m
            .media_type
            .clone()
            .unwrap_or_else(|| media::OCI_MANIFEST.to_string());
        let url = format!("{}/manifests/{target}", self.base(r));
        let req = Req {
            method: "PUT",
            url: url.clone(),
            headers: vec![("Content-Type", content_type)],
            body: Some(image.manifest_bytes()),
        };
        let resp = self.send(r, &scope, &req, true)?;
        expect(&req, &resp, &[201], self.hint(r))?;
        if let Some(got) = resp.header("Docker-Content-Digest") {
            if got != image.digest().as_str() {
                return Err(Error::Verify {
                    reference: r.to_string(),
                    reason: format!(
                        "registry stored the manifest as {got}, we pushed {}",
                        image.digest()
                    ),
                });
            }
        }
        Ok(image.digest().clone())
    }

    /// `true` if the repository already has the blob.
    pub fn blob_exists(&mut self, r: &Reference, digest: &Digest) -> Result<bool> {
        let scope = format!("repository:{}:pull", r.repository);
        self.blob_exists_scoped(r, &scope, digest)
    }

    fn blob_exists_scoped(&mut self, r: &Reference, scope: &str, digest: &Digest) -> Result<bool> {
        let req = Req {
            method: "HEAD",
            url: format!("{}/blobs/{digest}", self.base(r)),
            headers: vec![],
            body: None,
        };
        let resp = self.send(r, scope, &req, true)?;
        match resp.status {
            200 => Ok(true),
            404 => Ok(false),
            _ => expect(&req, &resp, &[200], self.hint(r)).map(|_| false),
        }
    }

    fn push_blob(
        &mut self,
        r: &Reference,
        scope: &str,
        digest: &Digest,
        bytes: &[u8],
    ) -> Result<()> {
        if self.blob_exists_scoped(r, scope, digest)? {
            return Ok(());
        }
        let mut attempt = 0;
        loop {
            match self.upload_once(r, scope, digest, bytes) {
                Err(e) if attempt < self.opts.retries && is_transient(&e) => {
                    std::thread::sleep(self.backoff(attempt, None));
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    fn upload_once(
        &mut self,
        r: &Reference,
        scope: &str,
        digest: &Digest,
        bytes: &[u8],
    ) -> Result<()> {
        let start = Req {
            method: "POST",
            url: format!("{}/blobs/uploads/", self.base(r)),
            headers: vec![("Content-Length", "0".into())],
            body: None,
        };
        let resp = self.send(r, scope, &start, false)?;
        expect(&start, &resp, &[202], self.hint(r))?;
        let mut location = self.location(r, &start, &resp)?;
        let octet = ("Content-Type", "application/octet-stream".to_string());
        let final_body: &[u8] = if bytes.len() <= self.opts.chunk_size.max(1) {
            bytes
        } else {
            for (i, chunk) in bytes.chunks(self.opts.chunk_size.max(1)).enumerate() {
                let from = i * self.opts.chunk_size.max(1);
                let patch = Req {
                    method: "PATCH",
                    url: location.clone(),
                    headers: vec![
                        octet.clone(),
                        (
                            "Content-Range",
                            format!("{from}-{}", from + chunk.len() - 1),
                        ),
                    ],
                    body: Some(chunk),
                };
                let resp = self.send(r, scope, &patch, false)?;
                expect(&patch, &resp, &[202], self.hint(r))?;
                location = self.location(r, &patch, &resp)?;
            }
            &[]
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        let put = Req {
            method: "PUT",
            url: format!("{location}{sep}digest={digest}"),
            headers: vec![octet],
            body: Some(final_body),
        };
        let resp = self.send(r, scope, &put, false)?;
        expect(&put, &resp, &[201], self.hint(r))?;
        Ok(())
    }

    fn location(&self, r: &Reference, req: &Req, resp: &Resp) -> Result<String> {
        let loc = resp.header("Location").ok_or_else(|| Error::Status {
            method: req.method.into(),
            url: req.url.clone(),
            status: resp.status,
            body: "the registry sent no Location header for the upload".into(),
        })?;
        Ok(
            if loc.starts_with("http://") || loc.starts_with("https://") {
                loc.to_string()
            } else {
                let base = self.base(r);
                let origin = &base[..base.find("/v2/").unwrap_or(base.len())];
                if loc.starts_with('/') {
                    format!("{origin}{loc}")
                } else {
                    format!("{origin}/{loc}")
                }
            },
        )
    }

    /// Fetches a manifest and its blobs, checking every digest and size. Nothing else is checked (run the gate).
    pub fn pull(&mut self, r: &Reference) -> Result<Image> {
        let scope = format!("repository:{}:pull", r.repository);
        let target = r
            .manifest_ref()
            .ok_or_else(|| Error::Input(format!("reference {r} has no tag or digest to pull")))?;
        let req = Req {
            method: "GET",
            url: format!("{}/manifests/{target}", self.base(r)),
            headers: vec![("Accept", MANIFEST_ACCEPT.into())],
            body: None,
        };
        let resp = self.send(r, &scope, &req, true)?;
        expect(&req, &resp, &[200], self.hint(r))?;
        if resp.body.len() > MAX_MANIFEST {
            return Err(Error::Verify {
                reference: r.to_string(),
                reason: format!("manifest is {} bytes, above 4 MiB", resp.body.len()),
            });
        }
        let digest = Digest::of(&resp.body);
        let verr = |reason: String| Error::Verify {
            reference: r.to_string(),
            reason,
        };
        if let Some(want) = &r.digest {
            if &digest != want {
                return Err(verr(format!(
                    "the manifest served for {want} hashes to {digest}"
                )));
            }
        }
        let value: serde_json::Value = serde_json::from_slice(&resp.body)
            .map_err(|e| verr(format!("the manifest is not JSON: {e}")))?;
        if value.get("manifests").is_some() {
            return Err(verr("it is an image index, not an image manifest (gateways would resolve it by platform)".into()));
        }
        let m: Manifest = serde_json::from_value(value)
            .map_err(|e| verr(format!("the manifest does not parse: {e}")))?;
        let mut blobs = BTreeMap::new();
        for d in std::iter::once(&m.config).chain(&m.layers) {
            let dg = Digest::parse(&d.digest)?;
            if blobs.contains_key(&dg) {
                continue;
            }
            let req = Req {
                method: "GET",
                url: format!("{}/blobs/{dg}", self.base(r)),
                headers: vec![],
                body: None,
            };
            let resp = self.send(r, &scope, &req, true)?;
            expect(&req, &resp, &[200], self.hint(r))?;
            let got = Digest::of(&resp.body);
            if got != dg || resp.body.len() as u64 != d.size {
                return Err(verr(format!(
                    "blob {dg} came back as {got} ({} bytes, descriptor says {})",
                    resp.body.len(),
                    d.size
                )));
            }
            blobs.insert(dg, resp.body);
        }
        Ok(Image::from_parts(resp.body, blobs))
    }

    /// Pulls `image` back from `r`'s repository BY DIGEST, checks that manifest bytes, digest and blobs are
    /// exactly what was pushed, and re-runs the layout gate on what came back.
    pub fn verify(
        &mut self,
        image: &Image,
        r: &Reference,
        gate_opts: &GateOptions,
    ) -> Result<Verified> {
        let by_digest = r.with_digest(image.digest());
        let pulled = self.pull(&by_digest)?;
        let verr = |reason: String| Error::Verify {
            reference: by_digest.to_string(),
            reason,
        };
        if pulled.manifest_bytes() != image.manifest_bytes() {
            return Err(verr(
                "the pulled manifest bytes differ from the pushed ones".into(),
            ));
        }
        for (d, bytes) in &pulled.blobs {
            if image.blobs.get(d) != Some(bytes) {
                return Err(verr(format!("pulled blob {d} differs from the pushed one")));
            }
        }
        let report = gate(&pulled, gate_opts)?;
        Ok(Verified {
            reference: by_digest,
            digest: pulled.digest().clone(),
            report,
        })
    }

    /// The digest of the manifest a tag points at (HEAD, falling back to GET).
    pub fn resolve_digest(&mut self, r: &Reference) -> Result<Digest> {
        if let Some(d) = &r.digest {
            return Ok(d.clone());
        }
        let scope = format!("repository:{}:pull", r.repository);
        let target = r
            .manifest_ref()
            .ok_or_else(|| Error::Input(format!("reference {r} has no tag")))?;
        let url = format!("{}/manifests/{target}", self.base(r));
        let head = Req {
            method: "HEAD",
            url: url.clone(),
            headers: vec![("Accept", MANIFEST_ACCEPT.into())],
            body: None,
        };
        let resp = self.send(r, &scope, &head, true)?;
        if resp.status == 200 {
            if let Some(d) = resp
                .header("Docker-Content-Digest")
                .and_then(|d| Digest::parse(d).ok())
            {
                return Ok(d);
            }
        }
        let get = Req {
            method: "GET",
            url,
            headers: vec![("Accept", MANIFEST_ACCEPT.into())],
            body: None,
        };
        let resp = self.send(r, &scope, &get, true)?;
        expect(&get, &resp, &[200], self.hint(r))?;
        Ok(Digest::of(&resp.body))
    }

    fn hint(&self, r: &Reference) -> String {
        let src = self
            .credential_source(&r.registry)
            .map(|s| s.to_string())
            .unwrap_or_else(|| "anonymous".into());
        format!(
            "credentials: {src}; set {}/{} or run `docker login {}`",
            auth::ENV_USERNAME,
            auth::ENV_PASSWORD,
            r.registry
        )
    }

    fn session(&mut self, r: &Reference) -> Result<&mut Session> {
        let s = self.sessions.entry(r.registry.clone()).or_default();
        if !s.resolved {
            let (creds, source) = match &self.opts.credentials {
                Some(c) => (Some(c.clone()), CredentialSource::Explicit),
                None => auth::resolve(&r.registry)?,
            };
            s.creds = creds;
            s.source = Some(source);
            s.resolved = true;
        }
        Ok(s)
    }

    /// Sends a request with the cached authorization for `scope`; answers one 401 by authenticating and trying
    /// again; with `retry`, retries transient failures with backoff.
    fn send(&mut self, r: &Reference, scope: &str, req: &Req, retry: bool) -> Result<Resp> {
        let mut attempt = 0;
        let mut authenticated = false;
        loop {
            let authz = {
                let s = self.session(r)?;
                s.authz.get(scope).or_else(|| s.authz.get("*")).cloned()
            };
            let result = self.raw(req, authz.as_deref());
            match result {
                Err(e) if retry && attempt < self.opts.retries && is_transient(&e) => {
                    std::thread::sleep(self.backoff(attempt, None));
                    attempt += 1;
                }
                Err(e) => return Err(e),
                Ok(resp) if resp.status == 401 && !authenticated => {
                    authenticated = true;
                    self.authenticate(r, scope, &resp)?;
                }
                Ok(resp)
                    if retry
                        && attempt < self.opts.retries
                        && (resp.status == 429 || resp.status >= 500) =>
                {
                    let after = resp
                        .header("Retry-After")
                        .and_then(|v| v.trim().parse::<u64>().ok());
                    std::thread::sleep(self.backoff(attempt, after));
                    attempt += 1;
                }
                Ok(resp) => return Ok(resp),
            }
        }
    }

    fn backoff(&self, attempt: u32, retry_after: Option<u64>) -> Duration {
        match retry_after {
            Some(s) => Duration::from_secs(s.min(30)),
            None => (self.opts.backoff * 2u32.saturating_pow(attempt)).min(Duration::from_secs(8)),
        }
    }

    fn raw(&mut self, req: &Req, authz: Option<&str>) -> Result<Resp> {
        let terr = |reason: String| Error::Transport {
            method: req.method.into(),
            url: req.url.clone(),
            reason,
        };
        let mut b = http::Request::builder().method(req.method).uri(&req.url);
        for (k, v) in &req.headers {
            b = b.header(*k, v);
        }
        if let Some(a) = authz {
            b = b.header("Authorization", a);
        }
        let result = match req.body {
            Some(body) => b.body(body).map(|rq| self.agent.run(rq)),
            None => b.body(()).map(|rq| self.agent.run(rq)),
        };
        let resp = result
            .map_err(|e| terr(format!("bad request: {e}")))?
            .map_err(|e| terr(transport_reason(&e)))?;
        let (parts, body) = resp.into_parts();
        let body = if req.method == "HEAD" {
            Vec::new()
        } else {
            body.into_with_config()
                .limit(MAX_READ)
                .read_to_vec()
                .map_err(|e| terr(format!("reading the body: {}", transport_reason(&e))))?
        };
        self.trace.push((
            req.method.to_string(),
            req.url.clone(),
            parts.status.as_u16(),
        ));
        Ok(Resp {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        })
    }

    fn authenticate(&mut self, r: &Reference, scope: &str, resp: &Resp) -> Result<()> {
        let aerr = |reason: String| Error::Auth {
            registry: r.registry.clone(),
            reason,
        };
        let challenge = resp
            .header("WWW-Authenticate")
            .ok_or_else(|| {
                aerr("the registry answered 401 without a WWW-Authenticate challenge".into())
            })?
            .to_string();
        let (scheme, params) = parse_challenge(&challenge);
        let creds = self.session(r)?.creds.clone();
        if scheme.eq_ignore_ascii_case("basic") {
            let header = creds.as_ref().and_then(Credentials::basic_header).ok_or_else(|| {
                aerr(format!(
                    "the registry wants a user name and password; set {}/{} or run `docker login {}`",
                    auth::ENV_USERNAME,
                    auth::ENV_PASSWORD,
                    r.registry
                ))
            })?;
            self.session(r)?.authz.insert("*".into(), header);
            return Ok(());
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(aerr(format!("unsupported auth scheme `{scheme}`")));
        }
        let realm = params
            .get("realm")
            .ok_or_else(|| aerr("bearer challenge without realm".into()))?
            .clone();
        let mut scopes = vec![scope.to_string()];
        if let Some(s) = params.get("scope") {
            if s != scope {
                scopes.push(s.clone());
            }
        }
        let mut query: Vec<(String, String)> = Vec::new();
        if let Some(svc) = params.get("service") {
            query.push(("service".into(), svc.clone()));
        }
        for s in &scopes {
            query.push(("scope".into(), s.clone()));
        }
        let token_resp = match &creds {
            Some(Credentials::IdentityToken(tok)) => {
                let mut form = vec![
                    ("grant_type".to_string(), "refresh_token".to_string()),
                    ("client_id".to_string(), "pwoci".to_string()),
                    ("refresh_token".to_string(), tok.expose().to_string()),
                ];
                form.extend(query);
                let body = encode_query(&form);
                let req = Req {
                    method: "POST",
                    url: realm.clone(),
                    headers: vec![("Content-Type", "application/x-www-form-urlencoded".into())],
                    body: Some(body.as_bytes()),
                };
                self.token_request(&req, None)?
            }
            other => {
                let sep = if realm.contains('?') { '&' } else { '?' };
                let url = if query.is_empty() {
                    realm.clone()
                } else {
                    format!("{realm}{sep}{}", encode_query(&query))
                };
                let req = Req {
                    method: "GET",
                    url,
                    headers: vec![],
                    body: None,
                };
                let basic = other.as_ref().and_then(Credentials::basic_header);
                self.token_request(&req, basic.as_deref())?
            }
        };
        if token_resp.status == 401 || token_resp.status == 403 {
            return Err(aerr(format!(
                "the token service {realm} refused the credentials ({}) with {}",
                self.credential_source(&r.registry)
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
                token_resp.status
            )));
        }
        if token_resp.status != 200 {
            return Err(aerr(format!(
                "the token service {realm} answered {}",
                token_resp.status
            )));
        }
        let v: serde_json::Value = serde_json::from_slice(&token_resp.body)
            .map_err(|_| aerr(format!("the token service {realm} did not answer JSON")))?;
        let token = v
            .get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| aerr(format!("the token service {realm} sent no token")))?;
        self.session(r)?
            .authz
            .insert(scope.to_string(), format!("Bearer {token}"));
        Ok(())
    }

    fn token_request(&mut self, req: &Req, authz: Option<&str>) -> Result<Resp> {
        let mut attempt = 0;
        loop {
            match self.raw(req, authz) {
                Err(e) if attempt < self.opts.retries && is_transient(&e) => {}
                Ok(resp)
                    if attempt < self.opts.retries
                        && (resp.status == 429 || resp.status >= 500) => {}
                other => return other,
            }
            std::thread::sleep(self.backoff(attempt, None));
            attempt += 1;
        }
    }
}

fn transport_reason(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Io(io) => {
            format!("connection failed: {io} (is the registry running and reachable?)")
        }
        ureq::Error::ConnectionFailed => {
            "connection failed (is the registry running and reachable?)".into()
        }
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::Timeout(t) => format!("timed out ({t})"),
        ureq::Error::Tls(t) => format!(
            "TLS error: {t} (plain-HTTP registry? pass --insecure; private CA? set PWOCI_CA_FILE)"
        ),
        other => other.to_string(),
    }
}

fn is_transient(e: &Error) -> bool {
    match e {
        Error::Transport { reason, .. } => {
            reason.starts_with("connection failed")
                || reason.starts_with("timed out")
                || reason.starts_with("reading the body")
        }
        Error::Status { status, .. } => *status == 429 || *status >= 500,
        _ => false,
    }
}

fn expect(req: &Req, resp: &Resp, ok: &[u16], hint: String) -> Result<()> {
    if ok.contains(&resp.status) {
        return Ok(());
    }
    let mut body: String = String::from_utf8_lossy(&resp.body)
        .chars()
        .filter(|c| !c.is_control())
        .take(300)
        .collect();
    if resp.status == 401 || resp.status == 403 {
        body = format!("{body} ({hint})");
    }
    Err(Error::Status {
        method: req.method.into(),
        url: req.url.clone(),
        status: resp.status,
        body: body.trim().to_string(),
    })
}

/// Splits `Bearer realm="x",service="y",scope="a:b:c"` into the scheme and its parameters.
fn parse_challenge(h: &str) -> (String, HashMap<String, String>) {
    let h = h.trim();
    let (scheme, rest) = h.split_once(' ').unwrap_or((h, ""));
    let mut params = HashMap::new();
    let mut s = rest.trim();
    while !s.is_empty() {
        let Some((key, after)) = s.split_once('=') else {
            break;
        };
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (value, rest) = if let Some(q) = after.strip_prefix('"') {
            let mut val = String::new();
            let mut chars = q.char_indices();
            let mut end = q.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            val.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => val.push(c),
                }
            }
            (val, &q[end..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        params.insert(key, value);
        s = rest.trim_start().trim_start_matches(',').trim_start();
    }
    (scheme.to_string(), params)
}

fn encode_query(pairs: &[(String, String)]) -> String {
    let enc = |s: &str| {
        let mut out = String::new();
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_parsing() {
        let (s, p) = parse_challenge(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(s, "Bearer");
        assert_eq!(p["realm"], "https://auth.example.com/token");
        assert_eq!(p["service"], "registry.example.com");
        assert_eq!(p["scope"], "repository:a/b:pull,push");
        let (s, p) = parse_challenge(r#"Basic realm="pwoci-test""#);
        assert_eq!((s.as_str(), p["realm"].as_str()), ("Basic", "pwoci-test"));
    }

    #[test]
    fn https_unless_loopback_or_insecure() {
        let c = Client::new(ClientOptions::default()).unwrap();
        let remote = Reference::parse("registry.example.com/a/b:1").unwrap();
        assert_eq!(c.base(&remote), "https://registry.example.com/v2/a/b");
        assert_eq!(
            c.base(&Reference::parse("docker.io/a/b:1").unwrap()),
            "https://registry-1.docker.io/v2/a/b"
        );
        for local in ["127.0.0.1:5000/a:1", "localhost:5000/a:1", "[::1]:5000/a:1"] {
            assert!(
                c.base(&Reference::parse(local).unwrap())
                    .starts_with("http://"),
                "{local}"
            );
        }
        let insecure = Client::new(ClientOptions {
            insecure: true,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(insecure.base(&remote), "http://registry.example.com/v2/a/b");
    }

    #[test]
    fn query_encoding() {
        let q = encode_query(&[("scope".into(), "repository:a/b:pull,push".into())]);
        assert_eq!(q, "scope=repository%3Aa%2Fb%3Apull%2Cpush");
    }
}
