//! request-block's decision at request headers, written from `extensions/request-block/README.md`
//! ("Behaviour"): URL = `:path` with its query; exact, then substring, then full-match regex; then every header
//! as a `name: value` line against `block_headers`; `case_sensitive: false` folds ASCII case on both sides.
//! Bodies are not modelled: `pwhost bench` sends GET requests without one.

use pwsdk::regex::Regex;
use pwsdk::rules::{ConfigError, PluginConfig};
use serde::Deserialize;

use crate::Headers;

fn default_blocked_code() -> u32 {
    403
}

fn default_true() -> bool {
    true
}

/// The configuration keys of the README's table, with the same validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    block_urls: Vec<String>,
    #[serde(default)]
    block_exact_urls: Vec<String>,
    #[serde(default)]
    block_regexp_urls: Vec<String>,
    #[serde(default)]
    block_headers: Vec<String>,
    #[serde(default, alias = "block_bodys")]
    block_bodies: Vec<String>,
    #[serde(default = "default_blocked_code")]
    blocked_code: u32,
    #[serde(default)]
    blocked_message: String,
    #[serde(default = "default_true")]
    case_sensitive: bool,
    #[serde(skip)]
    regexes: Vec<Regex>,
}

impl PluginConfig for Config {
    fn validate(&mut self) -> Result<(), ConfigError> {
        let lower = !self.case_sensitive;
        let lists = [
            &mut self.block_urls,
            &mut self.block_exact_urls,
            &mut self.block_headers,
            &mut self.block_bodies,
        ];
        if lists.iter().all(|l| l.is_empty()) && self.block_regexp_urls.is_empty() {
            return Err(ConfigError::whole("no block rule"));
        }
        if !(100..=599).contains(&self.blocked_code) {
            return Err(ConfigError::new("blocked_code", "must be 100..=599"));
        }
        for list in lists {
            for (i, e) in list.iter_mut().enumerate() {
                if e.is_empty() {
                    return Err(ConfigError::new(format!("[{i}]"), "must not be empty"));
                }
                if lower {
                    e.make_ascii_lowercase();
                }
            }
        }
        self.regexes = self
            .block_regexp_urls
            .iter()
            .enumerate()
            .map(|(i, p)| {
                Regex::new(p, lower)
                    .map_err(|e| ConfigError::new(format!("block_regexp_urls[{i}]"), e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        let _ = &self.blocked_message;
        Ok(())
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || memchr::memmem::find(haystack, needle).is_some()
}

impl Config {
    /// The plug-in receives header values as fresh byte vectors from the host; so does this.
    fn fold(&self, mut bytes: Vec<u8>) -> Vec<u8> {
        if !self.case_sensitive {
            bytes.make_ascii_lowercase();
        }
        bytes
    }
}

/// `true` when the request is blocked at request headers.
pub fn decide(c: &Config, headers: &Headers) -> bool {
    let url_rules =
        !(c.block_urls.is_empty() && c.block_exact_urls.is_empty() && c.regexes.is_empty());
    if url_rules {
        if let Some(path) = crate::header(headers, ":path") {
            let url = c.fold(path.as_bytes().to_vec());
            if c.block_exact_urls
                .iter()
                .any(|e| e.as_bytes() == url.as_slice())
                || c.block_urls.iter().any(|e| contains(&url, e.as_bytes()))
                || c.regexes.iter().any(|r| r.is_full_match(&url))
            {
                return true;
            }
        }
    }
    if !c.block_headers.is_empty() {
        for (name, value) in headers {
            let mut line = name.as_bytes().to_vec();
            line.extend_from_slice(b": ");
            line.extend_from_slice(value.as_bytes());
            let line = c.fold(line);
            if c.block_headers
                .iter()
                .any(|e| contains(&line, e.as_bytes()))
            {
                return true;
            }
        }
    }
    false
}
