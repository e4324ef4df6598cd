//! request-block: answers requests whose URL, headers or body match a block rule with a fixed response.

use pwsdk::regex::Regex;
use pwsdk::{ConfigError, Flow, HostError, Http, HttpPlugin, PluginConfig};
use serde::Deserialize;

fn default_blocked_code() -> u32 {
    403
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Block when the URL (`:path` with query) contains one of these.
    #[serde(default)]
    pub block_urls: Vec<String>,
    /// Block when the URL equals one of these.
    #[serde(default)]
    pub block_exact_urls: Vec<String>,
    /// Block when the whole URL matches one of these (pwsdk regex dialect).
    #[serde(default)]
    pub block_regexp_urls: Vec<String>,
    /// Block when a request header line `name: value` contains one of these.
    #[serde(default)]
    pub block_headers: Vec<String>,
    /// Block when the request body contains one of these (`block_bodys` is accepted too).
    #[serde(default, alias = "block_bodys")]
    pub block_bodies: Vec<String>,
    #[serde(default = "default_blocked_code")]
    pub blocked_code: u32,
    #[serde(default)]
    pub blocked_message: String,
    #[serde(default = "default_true")]
    pub case_sensitive: bool,
    #[serde(skip)]
    regexes: Vec<Regex>,
}

fn check_list(field: &str, list: &mut [String], lower: bool) -> Result<(), ConfigError> {
    for (i, entry) in list.iter_mut().enumerate() {
        if entry.is_empty() {
            return Err(ConfigError::new(
                format!("{field}[{i}]"),
                "must not be empty",
            ));
        }
        if lower {
            entry.make_ascii_lowercase();
        }
    }
    Ok(())
}

impl PluginConfig for Config {
    fn validate(&mut self) -> Result<(), ConfigError> {
        let lower = !self.case_sensitive;
        if [
            &self.block_urls,
            &self.block_exact_urls,
            &self.block_regexp_urls,
            &self.block_headers,
            &self.block_bodies,
        ]
        .iter()
        .all(|l| l.is_empty())
        {
            return Err(ConfigError::whole(
                "no block rule: set at least one of block_urls, block_exact_urls, block_regexp_urls, \
                 block_headers, block_bodies",
            ));
        }
        if !(100..=599).contains(&self.blocked_code) {
            return Err(ConfigError::new(
                "blocked_code",
                "must be an HTTP status between 100 and 599",
            ));
        }
        check_list("block_urls", &mut self.block_urls, lower)?;
        check_list("block_exact_urls", &mut self.block_exact_urls, lower)?;
        check_list("block_headers", &mut self.block_headers, lower)?;
        check_list("block_bodies", &mut self.block_bodies, lower)?;
        self.regexes = self
            .block_regexp_urls
            .iter()
            .enumerate()
            .map(|(i, p)| {
                Regex::new(p, lower)
                    .map_err(|e| ConfigError::new(format!("block_regexp_urls[{i}]"), e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        Ok(())
    }
}

/// Byte substring search.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || memchr::memmem::find(haystack, needle).is_some()
}

impl Config {
    fn url_blocked(&self, url: &[u8]) -> bool {
        self.block_exact_urls.iter().any(|e| e.as_bytes() == url)
            || self.block_urls.iter().any(|e| contains(url, e.as_bytes()))
            || self.regexes.iter().any(|r| r.is_full_match(url))
    }

    fn fold(&self, mut bytes: Vec<u8>) -> Vec<u8> {
        if !self.case_sensitive {
            bytes.make_ascii_lowercase();
        }
        bytes
    }

    fn block(&self, http: &mut Http) -> Result<Flow, HostError> {
        http.send_response(self.blocked_code, &[], self.blocked_message.as_bytes())?;
        Ok(Flow::Stop)
    }
}

#[derive(Default)]
pub struct RequestBlock;

impl HttpPlugin for RequestBlock {
    type Config = Config;

    fn on_request_headers(&mut self, http: &mut Http, config: &Config) -> Result<Flow, HostError> {
        let has_url_rules = !(config.block_urls.is_empty()
            && config.block_exact_urls.is_empty()
            && config.regexes.is_empty());
        if has_url_rules {
            if let Some(path) = http.request_header(":path")? {
                if config.url_blocked(&config.fold(path)) {
                    return config.block(http);
                }
            }
        }
        if !config.block_headers.is_empty() {
            for (name, value) in http.request_headers()? {
                let mut line = name;
                line.extend_from_slice(b": ");
                line.extend_from_slice(&value);
                let line = config.fold(line);
                if config
                    .block_headers
                    .iter()
                    .any(|e| contains(&line, e.as_bytes()))
                {
                    return config.block(http);
                }
            }
        }
        if !config.block_bodies.is_empty() {
            http.inspect_request_body();
        }
        Ok(Flow::Continue)
    }

    fn on_request_body(
        &mut self,
        http: &mut Http,
        config: &Config,
        body: &[u8],
    ) -> Result<Flow, HostError> {
        let body = config.fold(body.to_vec());
        if config
            .block_bodies
            .iter()
            .any(|e| contains(&body, e.as_bytes()))
        {
            return config.block(http);
        }
        Ok(Flow::Continue)
    }
}

pwsdk::plugin!(RequestBlock);

#[cfg(test)]
mod tests {
    use super::*;
    use pwsdk::rules::RuleSet;

    fn parse(json: &str) -> Result<Config, String> {
        let set = RuleSet::<Config>::parse(json.as_bytes()).map_err(|e| e.to_string())?;
        let global = set.global.ok_or("no global")?;
        std::rc::Rc::try_unwrap(global).map_err(|_| "shared".to_owned())
    }

    #[test]
    fn defaults_and_alias() {
        let c = parse(r#"{"block_bodys": ["x"]}"#).unwrap();
        assert_eq!(c.block_bodies, vec!["x"]);
        assert_eq!(c.blocked_code, 403);
        assert!(c.case_sensitive);
        assert_eq!(c.blocked_message, "");
    }

    #[test]
    fn rejections_name_the_field() {
        let e = |j: &str| parse(j).unwrap_err();
        assert!(
            e("{}").starts_with("invalid configuration: no block rule"),
            "{}",
            e("{}")
        );
        assert!(e(r#"{"block_urls": []}"#).starts_with("invalid configuration: no block rule"));
        assert!(e(r#"{"block_exact_urls": ["a", ""]}"#)
            .starts_with("invalid configuration: block_exact_urls[1]: "));
        assert!(e(r#"{"block_regexp_urls": ["a", "\\b"]}"#)
            .starts_with("invalid configuration: block_regexp_urls[1]: invalid regex: "));
        assert!(e(r#"{"block_urls": ["a"], "blocked_code": 99}"#)
            .starts_with("invalid configuration: blocked_code: "));
        assert!(e(r#"{"block_urls": ["a"], "blocked_code": -1}"#)
            .starts_with("invalid configuration: blocked_code: "));
        assert!(e(r#"{"block_urls": ["a"], "blocked_code": 600}"#)
            .starts_with("invalid configuration: blocked_code: "));
        assert!(e(r#"{"block_bodies": ["a"], "block_bodys": ["b"]}"#).contains("duplicate field"));
        let rules = RuleSet::<Config>::parse(
            br#"{"_rules_": [{"_match_route_": ["r"], "block_regexp_urls": ["("]}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            rules.starts_with("invalid configuration: _rules_[0].block_regexp_urls[0]: "),
            "{rules}"
        );
    }

    #[test]
    fn url_checks_and_case_folding() {
        let c = parse(r#"{"block_urls": ["/Admin"], "block_exact_urls": ["/x"], "block_regexp_urls": ["/a/\\d+"]}"#)
            .unwrap();
        assert!(c.url_blocked(b"/v1/Admin/"));
        assert!(!c.url_blocked(b"/v1/admin/"));
        assert!(c.url_blocked(b"/x"));
        assert!(!c.url_blocked(b"/x?"));
        assert!(c.url_blocked(b"/a/12"));
        assert!(!c.url_blocked(b"/a/12/"));
        let c = parse(r#"{"block_urls": ["/Admin"], "block_regexp_urls": ["/A/\\d+"], "case_sensitive": false}"#)
            .unwrap();
        assert_eq!(c.block_urls, vec!["/admin"]);
        assert!(c.url_blocked(&c.fold(b"/ADMIN".to_vec())));
        assert!(c.url_blocked(&c.fold(b"/a/1".to_vec())));
    }
}
