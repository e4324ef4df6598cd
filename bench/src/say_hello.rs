//! say-hello's decision, from `extensions/say-hello/README.md`: every request is answered with
//! `Hello, <name>!` (`World` where no name applies) and a `content-type` header.

use pwsdk::rules::{ConfigError, PluginConfig};
use serde::Deserialize;

use crate::Headers;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    name: Option<String>,
}

impl PluginConfig for Config {
    fn validate(&mut self) -> Result<(), ConfigError> {
        if self.name.as_deref() == Some("") {
            return Err(ConfigError::new("name", "must not be empty"));
        }
        Ok(())
    }
}

/// Builds the answer the plug-in would send (body and header), and answers locally.
pub fn decide(c: &Config, _headers: &Headers) -> bool {
    let name = c.name.as_deref().unwrap_or("World");
    let body = format!("Hello, {name}!");
    let reply = (
        200u32,
        [("content-type", "text/plain; charset=utf-8")],
        body,
    );
    std::hint::black_box(&reply);
    true
}
