//! Registry credentials: where they come from, in order, and how they are kept out of logs.
//!
//! Order for a registry host: explicit credentials given to the client; `PWOCI_USERNAME` + `PWOCI_PASSWORD`
//! (limited to `PWOCI_REGISTRY` when that is set); docker's `config.json` (`$DOCKER_CONFIG/config.json`, else
//! `~/.docker/config.json`): `credHelpers[host]`, then `credsStore`, then `auths[host].auth`; else anonymous.

use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use base64::Engine as _;

use crate::error::{Error, Result};

/// Environment variable names read by [`resolve`].
pub const ENV_USERNAME: &str = "PWOCI_USERNAME";
pub const ENV_PASSWORD: &str = "PWOCI_PASSWORD";
pub const ENV_REGISTRY: &str = "PWOCI_REGISTRY";

/// A secret string: `Debug`/`Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The secret itself; only for putting it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Registry credentials.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// User name and password (or personal access token): used for HTTP basic auth and to obtain bearer tokens.
    Basic { username: String, password: Secret },
    /// An OAuth2 refresh token (docker's `identitytoken`): exchanged for bearer tokens.
    IdentityToken(Secret),
}

impl Credentials {
    pub fn basic(username: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials::Basic {
            username: username.into(),
            password: Secret::new(password),
        }
    }

    pub(crate) fn basic_header(&self) -> Option<String> {
        match self {
            Credentials::Basic { username, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{}", password.expose()))
            )),
            Credentials::IdentityToken(_) => None,
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Basic { username, .. } => write!(
                f,
                "Basic {{ username: {username:?}, password: <redacted> }}"
            ),
            Credentials::IdentityToken(_) => f.write_str("IdentityToken(<redacted>)"),
        }
    }
}

/// Where credentials were found (printable: it holds no secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialSource {
    Explicit,
    Env,
    DockerConfig(PathBuf),
    Helper(String),
    Anonymous,
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Explicit => f.write_str("explicit credentials"),
            CredentialSource::Env => write!(f, "{ENV_USERNAME}/{ENV_PASSWORD}"),
            CredentialSource::DockerConfig(p) => write!(f, "{}", p.display()),
            CredentialSource::Helper(h) => write!(f, "docker-credential-{h}"),
            CredentialSource::Anonymous => f.write_str("anonymous"),
        }
    }
}

/// Finds credentials for `registry` (`host[:port]`, `docker.io` for Docker Hub) from the environment and
/// docker's configuration.
pub fn resolve(registry: &str) -> Result<(Option<Credentials>, CredentialSource)> {
    resolve_with(registry, |k| std::env::var_os(k))
}

/// [`resolve`] with the environment given as a function (for tests).
pub fn resolve_with(
    registry: &str,
    env: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<(Option<Credentials>, CredentialSource)> {
    let var = |k: &str| {
        env(k)
            .and_then(|v| v.into_string().ok())
            .filter(|s| !s.is_empty())
    };
    let user = var(ENV_USERNAME);
    let pass = var(ENV_PASSWORD);
    let scoped = var(ENV_REGISTRY);
    let applies = scoped
        .as_deref()
        .is_none_or(|r| normalize(r) == normalize(registry));
    match (user, pass) {
        (Some(u), Some(p)) if applies => {
            return Ok((Some(Credentials::basic(u, p)), CredentialSource::Env))
        }
        (Some(_), None) | (None, Some(_)) if applies => {
            return Err(Error::Auth {
                registry: registry.to_string(),
                reason: format!("set both {ENV_USERNAME} and {ENV_PASSWORD}, or neither"),
            })
        }
        _ => {}
    }
    let path = match (env("DOCKER_CONFIG"), env("HOME")) {
        (Some(d), _) => PathBuf::from(d).join("config.json"),
        (None, Some(h)) => PathBuf::from(h).join(".docker/config.json"),
        (None, None) => return Ok((None, CredentialSource::Anonymous)),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((None, CredentialSource::Anonymous))
        }
        Err(e) => {
            return Err(Error::Io {
                action: "reading",
                path,
                source: e,
            })
        }
    };
    from_docker_config(registry, &text, &path)
}

/// `https://index.docker.io/v1/` → `docker.io`; `https://host:5000/x` → `host:5000`.
fn normalize(key: &str) -> String {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = k.split('/').next().unwrap_or(k).to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".to_string()
        }
        _ => host,
    }
}

/// The server URL docker's helpers and `auths` use for a registry.
fn server_url(registry: &str) -> String {
    if normalize(registry) == "docker.io" {
        "https://index.docker.io/v1/".to_string()
    } else {
        registry.to_string()
    }
}

pub(crate) fn from_docker_config(
    registry: &str,
    text: &str,
    path: &std::path::Path,
) -> Result<(Option<Credentials>, CredentialSource)> {
    let cfg: serde_json::Value = serde_json::from_str(text).map_err(|e| Error::Auth {
        registry: registry.to_string(),
        reason: format!("{} is not valid JSON: {e}", path.display()),
    })?;
    let want = normalize(registry);
    let find = |section: &str| {
        cfg.get(section)?
            .as_object()?
            .iter()
            .find(|(k, _)| normalize(k) == want)
            .map(|(_, v)| v.clone())
    };
    if let Some(helper) = find("credHelpers").and_then(|v| v.as_str().map(String::from)) {
        // A helper named for this very registry must work.
        let creds = run_helper(&helper, &server_url(registry))?.ok_or_else(|| Error::Auth {
            registry: registry.to_string(),
            reason: format!("docker-credential-{helper} has no credentials for it (run `docker login {registry}`)"),
        })?;
        return Ok((Some(creds), CredentialSource::Helper(helper)));
    }
    if let Some(store) = cfg
        .get("credsStore")
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
    {
        // A global store that is missing or has nothing for this host falls through to `auths`.
        if let Ok(Some(creds)) = run_helper(store, &server_url(registry)) {
            return Ok((Some(creds), CredentialSource::Helper(store.to_string())));
        }
    }
    if let Some(entry) = find("auths") {
        if let Some(tok) = entry
            .get("identitytoken")
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
        {
            return Ok((
                Some(Credentials::IdentityToken(Secret::new(tok))),
                CredentialSource::DockerConfig(path.into()),
            ));
        }
        if let Some(auth) = entry
            .get("auth")
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
        {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| s.split_once(':').map(|(u, p)| (u.to_string(), p.to_string())))
                .ok_or_else(|| Error::Auth {
                    registry: registry.to_string(),
                    reason: format!("auths entry in {} is not base64 of user:password (run `docker login` again)", path.display()),
                })?;
            return Ok((
                Some(Credentials::basic(decoded.0, decoded.1)),
                CredentialSource::DockerConfig(path.into()),
            ));
        }
    }
    Ok((None, CredentialSource::Anonymous))
}

/// Runs `docker-credential-<helper> get`. `Ok(None)`: the helper knows nothing for this server.
fn run_helper(helper: &str, server: &str) -> Result<Option<Credentials>> {
    let err = |reason: String| Error::Auth {
        registry: server.to_string(),
        reason,
    };
    let prog = format!("docker-credential-{helper}");
    let mut child = Command::new(&prog)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            err(format!(
                "cannot run {prog} ({e}); install it or remove it from docker's config.json"
            ))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| err(format!("{prog} failed: {e}")))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        if stdout.contains("credentials not found")
            || String::from_utf8_lossy(&out.stderr).contains("credentials not found")
        {
            return Ok(None);
        }
        // Never echo the helper's output: it may hold secrets.
        return Err(err(format!("{prog} get exited with {}", out.status)));
    }
    let v: serde_json::Value = serde_json::from_str(&stdout)
        .map_err(|_| err(format!("{prog} get printed something that is not JSON")))?;
    let user = v
        .get("Username")
        .and_then(|x| x.as_str())
        .unwrap_or_default();
    let secret = v.get("Secret").and_then(|x| x.as_str()).unwrap_or_default();
    if secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(if user == "<token>" {
        Credentials::IdentityToken(Secret::new(secret))
    } else {
        Credentials::basic(user, secret)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts() {
        let c = Credentials::basic("me", "hunter2");
        let s = format!("{c:?}");
        assert!(!s.contains("hunter2") && s.contains("me"), "{s}");
        assert!(
            !format!("{:?}", Credentials::IdentityToken(Secret::new("tok123"))).contains("tok123")
        );
    }

    #[test]
    fn docker_config_auths() {
        let auth = base64::engine::general_purpose::STANDARD.encode("u:p:w");
        let cfg = format!(
            r#"{{"auths":{{"https://reg.example.com:5000/v1/":{{"auth":"{auth}"}},"https://index.docker.io/v1/":{{"auth":"{auth}"}}}}}}"#
        );
        let p = std::path::Path::new("/x/config.json");
        let (c, src) = from_docker_config("reg.example.com:5000", &cfg, p).unwrap();
        assert_eq!(c, Some(Credentials::basic("u", "p:w")));
        assert_eq!(src, CredentialSource::DockerConfig(p.into()));
        assert!(from_docker_config("docker.io", &cfg, p)
            .unwrap()
            .0
            .is_some());
        assert_eq!(
            from_docker_config("other.io", &cfg, p).unwrap(),
            (None, CredentialSource::Anonymous)
        );
    }

    #[test]
    fn environment_first_then_docker_config() {
        let dir = std::env::temp_dir().join(format!("pwoci-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let auth = base64::engine::general_purpose::STANDARD.encode("cfguser:cfgpass");
        std::fs::write(
            dir.join("config.json"),
            format!(r#"{{"auths":{{"reg.io":{{"auth":"{auth}"}}}}}}"#),
        )
        .unwrap();
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            let dir = dir.clone();
            move |k: &str| {
                if k == "DOCKER_CONFIG" {
                    return Some(dir.clone().into_os_string());
                }
                pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.into())
            }
        };
        let both = &[(ENV_USERNAME, "envuser"), (ENV_PASSWORD, "envpass")];
        assert_eq!(
            resolve_with("reg.io", env(both)).unwrap(),
            (
                Some(Credentials::basic("envuser", "envpass")),
                CredentialSource::Env
            )
        );
        // PWOCI_REGISTRY limits the environment credentials to one registry.
        let scoped = &[
            (ENV_USERNAME, "envuser"),
            (ENV_PASSWORD, "envpass"),
            (ENV_REGISTRY, "other.io"),
        ];
        let (c, src) = resolve_with("reg.io", env(scoped)).unwrap();
        assert_eq!(
            (c, src),
            (
                Some(Credentials::basic("cfguser", "cfgpass")),
                CredentialSource::DockerConfig(dir.join("config.json"))
            )
        );
        let half = &[(ENV_USERNAME, "envuser")];
        assert!(resolve_with("reg.io", env(half))
            .unwrap_err()
            .to_string()
            .contains("set both PWOCI_USERNAME and PWOCI_PASSWORD"));
        assert_eq!(
            resolve_with("none.io", env(&[])).unwrap(),
            (None, CredentialSource::Anonymous)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn missing_cred_helper_is_an_error_naming_it() {
        let cfg = r#"{"credHelpers":{"reg.example.com":"pwoci-does-not-exist"}}"#;
        let e = from_docker_config("reg.example.com", cfg, std::path::Path::new("c.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("docker-credential-pwoci-does-not-exist"), "{e}");
        // A global credsStore that cannot run falls through to anonymous.
        let cfg = r#"{"credsStore":"pwoci-does-not-exist"}"#;
        assert_eq!(
            from_docker_config("r.io", cfg, std::path::Path::new("c.json"))
                .unwrap()
                .0,
            None
        );
    }
}
