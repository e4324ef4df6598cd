//! hello-world: logs every request and marks every response with `x-hello: world`.

use pwsdk::{request, Flow, HostError, Http, HttpPlugin, PluginConfig};
use serde::Deserialize;

/// No settings: only `{}` (or an empty configuration) is accepted.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {}

impl PluginConfig for Config {}

#[derive(Default)]
pub struct HelloWorld;

impl HttpPlugin for HelloWorld {
    type Config = Config;

    fn on_request_headers(
        &mut self,
        _http: &mut Http,
        _config: &Config,
    ) -> Result<Flow, HostError> {
        let method = request::method()?.unwrap_or_else(|| "-".to_owned());
        let path = request::path()?.unwrap_or_else(|| "-".to_owned());
        pwsdk::info!("hello, world: {method} {path}");
        Ok(Flow::Continue)
    }

    fn on_response_headers(
        &mut self,
        http: &mut Http,
        _config: &Config,
    ) -> Result<Flow, HostError> {
        http.set_response_header("x-hello", "world")?;
        Ok(Flow::Continue)
    }
}

pwsdk::plugin!(HelloWorld);
