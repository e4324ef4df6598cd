//! Image references: `[oci://]registry[:port]/repository[:tag][@sha256:…]`.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::layout::validate_tag;

/// A parsed image reference. Docker Hub short names (`nginx`, `user/app`) are expanded to `docker.io/...`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Reference {
    /// `host[:port]` as written (`docker.io` for Docker Hub).
    pub registry: String,
    /// `plugins/request-block`.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

impl Reference {
    /// Parses a reference; an `oci://` prefix (as in `WasmPlugin.url`) is accepted.
    pub fn parse(s: &str) -> Result<Reference> {
        let bad = |reason: &str| Error::Reference {
            reference: s.to_string(),
            reason: reason.to_string(),
        };
        let rest = s.strip_prefix("oci://").unwrap_or(s);
        let (name_tag, digest) = match rest.split_once('@') {
            Some((n, d)) => (
                n,
                Some(
                    Digest::parse(d)
                        .map_err(|_| bad("the digest must be sha256:<64 lowercase hex>"))?,
                ),
            ),
            None => (rest, None),
        };
        let (registry, path) = match name_tag.split_once('/') {
            Some((first, path))
                if first.contains('.')
                    || first.contains(':')
                    || first == "localhost"
                    || first.starts_with('[') =>
            {
                (first.to_string(), path.to_string())
            }
            _ => ("docker.io".to_string(), name_tag.to_string()),
        };
        let (repo, tag) = match path.rfind(':') {
            Some(i) if !path[i..].contains('/') => {
                (path[..i].to_string(), Some(path[i + 1..].to_string()))
            }
            _ => (path, None),
        };
        let repo = if registry == "docker.io" && !repo.contains('/') {
            format!("library/{repo}")
        } else {
            repo
        };
        if registry.is_empty() {
            return Err(bad("the registry host is empty"));
        }
        let valid_component = |c: &str| {
            !c.is_empty()
                && c.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
                })
                && c.as_bytes()[0].is_ascii_alphanumeric()
                && c.as_bytes()[c.len() - 1].is_ascii_alphanumeric()
        };
        if !repo.split('/').all(valid_component) {
            return Err(bad("the repository must be lowercase path components of [a-z0-9._-], e.g. plugins/request-block"));
        }
        if let Some(t) = &tag {
            validate_tag(t)
                .map_err(|_| bad("the tag must match [A-Za-z0-9_][A-Za-z0-9._-]{0,127}"))?;
        }
        Ok(Reference {
            registry,
            repository: repo,
            tag,
            digest,
        })
    }

    /// The same repository, addressed by `digest`.
    pub fn with_digest(&self, digest: &Digest) -> Reference {
        Reference {
            tag: None,
            digest: Some(digest.clone()),
            ..self.clone()
        }
    }

    /// The host the distribution API is served from (`registry-1.docker.io` for Docker Hub).
    pub fn api_host(&self) -> &str {
        if self.registry == "docker.io" {
            "registry-1.docker.io"
        } else {
            &self.registry
        }
    }

    /// `true` for 127.0.0.0/8, `localhost` and `[::1]` (any port).
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(&self.registry)
    }

    /// The tag or digest to address the manifest by (digest wins).
    pub fn manifest_ref(&self) -> Option<String> {
        self.digest
            .as_ref()
            .map(|d| d.to_string())
            .or_else(|| self.tag.clone())
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// `host[:port]` is a loopback address: 127.0.0.0/8, `localhost`, `[::1]`.
pub fn is_loopback_host(host_port: &str) -> bool {
    let host = if let Some(rest) = host_port.strip_prefix('[') {
        match rest.split_once(']') {
            Some((h, _)) => h,
            None => return false,
        }
    } else {
        host_port.rsplit_once(':').map_or(host_port, |(h, _)| h)
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) => a.is_loopback(),
        Ok(IpAddr::V6(a)) => a == Ipv6Addr::LOCALHOST,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_forms() {
        let r = Reference::parse("oci://127.0.0.1:5000/plugins/request-block:1.0.0").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("127.0.0.1:5000", "plugins/request-block", Some("1.0.0"))
        );
        assert!(r.is_loopback());
        let r = Reference::parse("nginx").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.api_host()),
            ("docker.io", "library/nginx", "registry-1.docker.io")
        );
        let d = Digest::of(b"x");
        let r = Reference::parse(&format!("ghcr.io/o/p@{d}")).unwrap();
        assert_eq!(r.digest.as_ref(), Some(&d));
        assert_eq!(r.to_string(), format!("ghcr.io/o/p@{d}"));
        assert!(!r.is_loopback());
        let r = Reference::parse("localhost:5000/a/b").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.tag.as_deref()),
            ("localhost:5000", None)
        );
    }

    #[test]
    fn refuses_bad_references() {
        for s in [
            "reg.io/UPPER:1",
            "reg.io/a//b",
            "reg.io/a:bad/tag",
            "reg.io/a@sha256:xyz",
            "reg.io/-a",
        ] {
            let e = Reference::parse(s).unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("invalid image reference `{s}`")),
                "{e}"
            );
        }
    }

    #[test]
    fn loopback_hosts() {
        for h in [
            "127.0.0.1:5000",
            "127.1.2.3",
            "localhost",
            "LOCALHOST:80",
            "[::1]:5000",
            "[::1]",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "10.0.0.1:5000",
            "example.com",
            "128.0.0.1",
            "[::2]:1",
            "localhost.example.com",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }
}
