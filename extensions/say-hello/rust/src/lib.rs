//! say-hello: answers every request itself with `200 Hello, <name>!`.

use pwsdk::{ConfigError, Flow, HostError, Http, HttpPlugin, PluginConfig};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Who to greet; `World` when absent.
    #[serde(default)]
    pub name: Option<String>,
}

impl PluginConfig for Config {
    fn validate(&mut self) -> Result<(), ConfigError> {
        if self.name.as_deref() == Some("") {
            return Err(ConfigError::new(
                "name",
                "must not be empty (omit it to greet `World`)",
            ));
        }
        Ok(())
    }
}

#[derive(Default)]
pub struct SayHello;

impl HttpPlugin for SayHello {
    type Config = Config;

    /// Requests that match no rule (and there is no global configuration) are greeted too.
    fn fallback_config() -> Option<Config> {
        Some(Config::default())
    }

    fn on_request_headers(&mut self, http: &mut Http, config: &Config) -> Result<Flow, HostError> {
        let name = config.name.as_deref().unwrap_or("World");
        let body = format!("Hello, {name}!");
        http.send_response(
            200,
            &[("content-type", "text/plain; charset=utf-8")],
            body.as_bytes(),
        )?;
        Ok(Flow::Stop)
    }
}

pwsdk::plugin!(SayHello);
