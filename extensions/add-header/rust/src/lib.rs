//! add-header: sets one configured request header on the request sent upstream.

use pwsdk::{ConfigError, Flow, HostError, Http, HttpPlugin, PluginConfig};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// An HTTP token (RFC 9110 `tchar`s); stored lower-cased.
    pub header_name: String,
    /// Any string without CR, LF or NUL; may be empty.
    pub header_value: String,
}

/// RFC 9110 token characters.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

impl PluginConfig for Config {
    fn validate(&mut self) -> Result<(), ConfigError> {
        if self.header_name.is_empty() {
            return Err(ConfigError::new("header_name", "must not be empty"));
        }
        if self.header_name.starts_with(':') {
            return Err(ConfigError::new(
                "header_name",
                "must not be a pseudo-header (starting with `:`)",
            ));
        }
        if let Some(bad) = self.header_name.bytes().find(|b| !is_tchar(*b)) {
            return Err(ConfigError::new(
                "header_name",
                format!(
                    "must be an HTTP token; {:?} is not allowed",
                    char::from(bad)
                ),
            ));
        }
        if self
            .header_value
            .bytes()
            .any(|b| matches!(b, b'\r' | b'\n' | 0))
        {
            return Err(ConfigError::new(
                "header_value",
                "must not contain CR, LF or NUL",
            ));
        }
        self.header_name.make_ascii_lowercase();
        Ok(())
    }
}

#[derive(Default)]
pub struct AddHeader;

impl HttpPlugin for AddHeader {
    type Config = Config;

    fn on_request_headers(&mut self, http: &mut Http, config: &Config) -> Result<Flow, HostError> {
        // replace: the upstream sees exactly one value, ours
        http.set_request_header(&config.header_name, &config.header_value)?;
        Ok(Flow::Continue)
    }
}

pwsdk::plugin!(AddHeader);

#[cfg(test)]
mod tests {
    use super::*;
    use pwsdk::rules::RuleSet;

    fn err(json: &str) -> String {
        RuleSet::<Config>::parse(json.as_bytes())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn header_name_checks() {
        let set =
            RuleSet::<Config>::parse(br#"{"header_name": "X-A", "header_value": ""}"#).unwrap();
        assert_eq!(set.global.unwrap().header_name, "x-a");
        assert!(err(r#"{"header_name": "", "header_value": ""}"#)
            .starts_with("invalid configuration: header_name: "));
        assert!(err(r#"{"header_name": ":path", "header_value": ""}"#)
            .starts_with("invalid configuration: header_name: "));
        assert!(err(r#"{"header_name": "a b", "header_value": ""}"#)
            .starts_with("invalid configuration: header_name: "));
        assert!(err(r#"{"header_name": "a", "header_value": "x\ny"}"#)
            .starts_with("invalid configuration: header_value: "));
        assert!(err(r#"{"header_value": "v"}"#).contains("missing field `header_name`"));
        assert!(err("{}").starts_with("invalid configuration: "));
    }
}
