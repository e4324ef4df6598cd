//! custom-response: answers requests with a configured status, headers and body, either always (at request
//! headers) or in place of upstream responses whose status is in `enable_on_status`.

use pwsdk::{ConfigError, Flow, HostError, Http, HttpPlugin, PluginConfig};
use serde::Deserialize;

fn default_status() -> u32 {
    200
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default = "default_status")]
    pub status_code: u32,
    /// `"name=value"` entries.
    #[serde(default)]
    pub headers: Vec<String>,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub enable_on_status: Vec<u32>,
    /// The response headers to send: parsed `headers`, lower-cased names, `content-length` dropped,
    /// `content-type` added when inferred.
    #[serde(skip)]
    response_headers: Vec<(String, String)>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            status_code: default_status(),
            headers: Vec::new(),
            body: String::new(),
            enable_on_status: Vec::new(),
            response_headers: Vec::new(),
        }
    }
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Parses one `"name=value"` entry: split at the first `=`; the name must be a non-empty token (it is
/// lower-cased); the value is trimmed of spaces and tabs and must not contain control bytes other than tab.
pub fn parse_header(entry: &str) -> Result<(String, String), String> {
    let Some((name, value)) = entry.split_once('=') else {
        return Err("must be `name=value`".to_owned());
    };
    if name.is_empty() || !name.bytes().all(is_tchar) {
        return Err(format!(
            "header name `{name}` is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~ only)"
        ));
    }
    let value = value.trim_matches(|c| c == ' ' || c == '\t');
    if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err("header value must not contain control characters".to_owned());
    }
    Ok((name.to_ascii_lowercase(), value.to_owned()))
}

impl PluginConfig for Config {
    fn validate(&mut self) -> Result<(), ConfigError> {
        if !(100..=599).contains(&self.status_code) {
            return Err(ConfigError::new(
                "status_code",
                "must be an HTTP status between 100 and 599",
            ));
        }
        for (i, code) in self.enable_on_status.iter().enumerate() {
            if !(100..=599).contains(code) {
                return Err(ConfigError::new(
                    format!("enable_on_status[{i}]"),
                    "must be an HTTP status between 100 and 599",
                ));
            }
        }
        let mut headers = Vec::new();
        for (i, entry) in self.headers.iter().enumerate() {
            let (name, value) =
                parse_header(entry).map_err(|r| ConfigError::new(format!("headers[{i}]"), r))?;
            if name != "content-length" {
                headers.push((name, value));
            }
        }
        if !self.body.is_empty() && !headers.iter().any(|(n, _)| n == "content-type") {
            let kind = if is_json(self.body.as_bytes()) {
                "application/json; charset=utf-8"
            } else {
                "text/plain; charset=utf-8"
            };
            headers.push(("content-type".to_owned(), kind.to_owned()));
        }
        self.response_headers = headers;
        Ok(())
    }
}

/// Whether `text` is one JSON value (RFC 8259; any value type, surrounded by optional whitespace). Syntax
/// only: numbers of any size, no nesting limit (an explicit stack), no check of `\u` surrogate pairing.
pub fn is_json(text: &[u8]) -> bool {
    let mut p = Parser { s: text, i: 0 };
    p.document().is_some()
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            Some(())
        } else {
            None
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Option<()> {
        self.eat(b'-');
        if self.eat(b'0') {
        } else if matches!(self.peek(), Some(b'1'..=b'9')) {
            self.digits();
        } else {
            return None;
        }
        if self.eat(b'.') && self.digits() == 0 {
            return None;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if self.digits() == 0 {
                return None;
            }
        }
        Some(())
    }

    fn string(&mut self) -> Option<()> {
        if !self.eat(b'"') {
            return None;
        }
        loop {
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    return Some(());
                }
                b'\\' => {
                    self.i += 1;
                    match self.peek()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 1,
                        b'u' => {
                            self.i += 1;
                            for _ in 0..4 {
                                if !self.peek()?.is_ascii_hexdigit() {
                                    return None;
                                }
                                self.i += 1;
                            }
                        }
                        _ => return None,
                    }
                }
                b if b < 0x20 => return None,
                _ => self.i += 1,
            }
        }
    }

    fn scalar(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string(),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number(),
        }
    }

    /// `"key" :` (with whitespace around the colon).
    fn member_key(&mut self) -> Option<()> {
        self.string()?;
        self.ws();
        if !self.eat(b':') {
            return None;
        }
        Some(())
    }

    /// Iterative: `stack` holds the closing bytes of the open containers.
    fn document(&mut self) -> Option<()> {
        let mut stack: Vec<u8> = Vec::new();
        loop {
            // a value is expected here
            self.ws();
            match self.peek()? {
                b'{' => {
                    self.i += 1;
                    self.ws();
                    if !self.eat(b'}') {
                        stack.push(b'}');
                        self.member_key()?;
                        continue;
                    }
                }
                b'[' => {
                    self.i += 1;
                    self.ws();
                    if !self.eat(b']') {
                        stack.push(b']');
                        continue;
                    }
                }
                _ => self.scalar()?,
            }
            // a value is complete: close containers until a `,` asks for the next value
            loop {
                self.ws();
                let Some(&close) = stack.last() else {
                    return (self.i == self.s.len()).then_some(());
                };
                if self.eat(close) {
                    stack.pop();
                    continue;
                }
                if !self.eat(b',') {
                    return None;
                }
                if close == b'}' {
                    self.ws();
                    self.member_key()?;
                }
                break;
            }
        }
    }
}

#[derive(Default)]
pub struct CustomResponse;

impl CustomResponse {
    fn respond(http: &mut Http, config: &Config) -> Result<Flow, HostError> {
        let headers: Vec<(&str, &str)> = config
            .response_headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        http.send_response(config.status_code, &headers, config.body.as_bytes())?;
        Ok(Flow::Stop)
    }
}

impl HttpPlugin for CustomResponse {
    type Config = Config;

    fn on_request_headers(&mut self, http: &mut Http, config: &Config) -> Result<Flow, HostError> {
        if config.enable_on_status.is_empty() {
            return Self::respond(http, config);
        }
        Ok(Flow::Continue)
    }

    fn on_response_headers(&mut self, http: &mut Http, config: &Config) -> Result<Flow, HostError> {
        if config.enable_on_status.is_empty() || http.responded() {
            return Ok(Flow::Continue);
        }
        let status = http
            .response_header(":status")?
            .and_then(|s| std::str::from_utf8(&s).ok()?.parse::<u32>().ok());
        match status {
            Some(code) if config.enable_on_status.contains(&code) => Self::respond(http, config),
            _ => Ok(Flow::Continue),
        }
    }
}

pwsdk::plugin!(CustomResponse);

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
    fn json_detection() {
        for ok in [
            "{}",
            "[]",
            " {\"a\": [1, -2.5e+3, true, false, null, \"x\\u00e9\\n\"]} ",
            "0",
            "\"s\"",
            "1e400",
            "[[[[[]]]]]",
            "{\"a\":{\"b\":{}}}",
            "[1,{\"k\":[2]}]",
            "-0.0E-1",
        ] {
            assert!(is_json(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "",
            " ",
            "{",
            "}",
            "[1,]",
            "{\"a\":1,}",
            "01",
            "1.",
            ".5",
            "+1",
            "tru",
            "nul",
            "\"a",
            "'a'",
            "{a:1}",
            "[1 2]",
            "{\"a\" 1}",
            "\"\\x\"",
            "\"\\u12\"",
            "\"a\u{1}\"",
            "{} {}",
            "hello",
            "[",
            "{\"a\":}",
            "-",
            "1e",
            "NaN",
        ] {
            assert!(!is_json(bad.as_bytes()), "{bad}");
        }
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        assert!(is_json(deep.as_bytes()));
    }

    #[test]
    fn headers_and_content_type() {
        let c = parse(r#"{"headers": ["X-A=1=2", "Content-Length=5", "x-b= v ", "x-e="], "body": "{\"a\":1}"}"#)
            .unwrap();
        let h: Vec<String> = c
            .response_headers
            .iter()
            .map(|(n, v)| format!("{n}:{v}"))
            .collect();
        assert_eq!(
            h,
            [
                "x-a:1=2",
                "x-b:v",
                "x-e:",
                "content-type:application/json; charset=utf-8"
            ]
        );
        let c = parse(r#"{"body": "hi"}"#).unwrap();
        assert_eq!(c.response_headers[0].1, "text/plain; charset=utf-8");
        let c = parse(r#"{"body": "hi", "headers": ["Content-Type=text/html"]}"#).unwrap();
        assert_eq!(
            c.response_headers,
            [("content-type".to_owned(), "text/html".to_owned())]
        );
        assert!(parse("{}").unwrap().response_headers.is_empty());
        let e = |j: &str| parse(j).unwrap_err();
        assert!(e(r#"{"headers": ["ok=1", "novalue"]}"#)
            .starts_with("invalid configuration: headers[1]: "));
        assert!(
            e(r#"{"headers": ["bad name=1"]}"#).starts_with("invalid configuration: headers[0]: ")
        );
        assert!(
            e(r#"{"headers": [":status=1"]}"#).starts_with("invalid configuration: headers[0]: ")
        );
        assert!(e(r#"{"headers": ["a=b\nc"]}"#).starts_with("invalid configuration: headers[0]: "));
        assert!(e(r#"{"status_code": 99}"#).starts_with("invalid configuration: status_code: "));
        assert!(e(r#"{"enable_on_status": [429, 600]}"#)
            .starts_with("invalid configuration: enable_on_status[1]: "));
        assert!(e(r#"{"headers": "a=b"}"#).starts_with("invalid configuration: headers: "));
    }
}
