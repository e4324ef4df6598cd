//! What the plug-in does to a whole request body and a whole (non-streamed) response body. Pure logic.

use serde_json::{json, Value};

use crate::config::Config;
use crate::jsonpath::every_string;
use crate::mask::{into_string, mask, mask_str, Restore};

/// The local answer to a denied request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deny {
    pub status: u32,
    pub content_type: String,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestOutcome {
    /// Forward the body as it is.
    Pass,
    /// Forward this body instead.
    Replace(Vec<u8>),
    /// Answer locally.
    Deny(Deny),
}

/// Which part of the request body was looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    OpenAi,
    JsonPath,
    Raw,
}

/// The texts of an OpenAI chat request: `messages[].content` as a string, or its `{type: text, text}` parts.
fn for_each_message_text(body: &mut Value, f: &mut dyn FnMut(&mut String)) {
    let Some(messages) = body.get_mut("messages").and_then(Value::as_array_mut) else {
        return;
    };
    for message in messages {
        match message.get_mut("content") {
            Some(Value::String(s)) => f(s),
            Some(Value::Array(parts)) => {
                for part in parts {
                    if part.get("type").and_then(Value::as_str) == Some("text") {
                        if let Some(Value::String(s)) = part.get_mut("text") {
                            f(s);
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// Looks at a whole request body: deny words first (on the text as received), then masking.
/// `now` is the Unix time for the `created` field of an OpenAI deny answer.
pub fn request(config: &Config, body: &[u8], restore: &mut Restore, now: u64) -> RequestOutcome {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let mode = match &parsed {
        Some(v) if config.deny_openai && v.get("messages").is_some_and(Value::is_array) => {
            Mode::OpenAi
        }
        Some(_) if !config.paths.is_empty() => Mode::JsonPath,
        _ if config.deny_raw => Mode::Raw,
        _ => return RequestOutcome::Pass,
    };
    if mode == Mode::Raw {
        if config.words.find(body).is_some() {
            return RequestOutcome::Deny(raw_deny(config));
        }
        return match mask(&config.roles, body, restore) {
            Some(b) => RequestOutcome::Replace(b),
            None => RequestOutcome::Pass,
        };
    }
    let Some(mut value) = parsed else {
        return RequestOutcome::Pass;
    };
    let visit = |value: &mut Value, f: &mut dyn FnMut(&mut String)| {
        if mode == Mode::OpenAi {
            for_each_message_text(value, f);
        } else {
            for path in &config.paths {
                path.for_each_string(value, f);
            }
        }
    };
    let mut denied = false;
    visit(&mut value, &mut |s| {
        denied = denied || config.words.find(s.as_bytes()).is_some();
    });
    if denied {
        return RequestOutcome::Deny(if mode == Mode::OpenAi {
            openai_deny(config, &value, now)
        } else {
            raw_deny(config)
        });
    }
    if config.roles.is_empty() {
        return RequestOutcome::Pass;
    }
    let mut changed = false;
    visit(&mut value, &mut |s| {
        if let Some(m) = mask_str(&config.roles, s, restore) {
            *s = m;
            changed = true;
        }
    });
    if changed {
        RequestOutcome::Replace(value.to_string().into_bytes())
    } else {
        RequestOutcome::Pass
    }
}

fn raw_deny(config: &Config) -> Deny {
    Deny {
        status: config.deny_code,
        content_type: config.deny_content_type.clone(),
        body: config.deny_raw_message.clone().into_bytes(),
    }
}

/// The deny answer for an OpenAI chat request: a chat completion whose answer is `deny_message`, or, for a
/// `"stream": true` request, the same as one `chat.completion.chunk` event followed by `data: [DONE]`.
fn openai_deny(config: &Config, request: &Value, now: u64) -> Deny {
    let model = request.get("model").and_then(Value::as_str).unwrap_or("");
    let stream = request.get("stream").and_then(Value::as_bool) == Some(true);
    if stream {
        let chunk = json!({
            "id": "chatcmpl-ai-data-masking",
            "object": "chat.completion.chunk",
            "created": now,
            "model": model,
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": config.deny_message},
                         "logprobs": null, "finish_reason": "stop"}]
        });
        return Deny {
            status: config.deny_code,
            content_type: "text/event-stream".to_owned(),
            body: format!("data: {chunk}\n\ndata: [DONE]\n\n").into_bytes(),
        };
    }
    let completion = json!({
        "id": "chatcmpl-ai-data-masking",
        "object": "chat.completion",
        "created": now,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": config.deny_message},
                     "logprobs": null, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    });
    Deny {
        status: config.deny_code,
        content_type: "application/json".to_owned(),
        body: completion.to_string().into_bytes(),
    }
}

/// Looks at a whole response body that is not an event stream. JSON: every string value is restored, then
/// (with `deny_openai`) an answer `choices[].message.content` containing a deny word is replaced by
/// `deny_message`. Anything else: restored as text. `None` when nothing changed.
pub fn response(config: &Config, body: &[u8], restore: &Restore) -> Option<Vec<u8>> {
    let Ok(mut value) = serde_json::from_slice::<Value>(body) else {
        return restore.restore(body);
    };
    let mut changed = false;
    if !restore.is_empty() {
        every_string(&mut value, &mut |s| {
            if let Some(r) = restore.restore(s.as_bytes()) {
                *s = into_string(r);
                changed = true;
            }
        });
    }
    if config.deny_openai && !config.words.is_empty() {
        if let Some(choices) = value.get_mut("choices").and_then(Value::as_array_mut) {
            for choice in choices {
                if let Some(Value::String(s)) = choice.pointer_mut("/message/content") {
                    if config.words.find(s.as_bytes()).is_some() {
                        *s = config.deny_message.clone();
                        changed = true;
                    }
                }
            }
        }
    }
    changed.then(|| value.to_string().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::parse;

    fn text(o: &RequestOutcome) -> String {
        match o {
            RequestOutcome::Replace(b) => String::from_utf8(b.clone()).unwrap(),
            RequestOutcome::Deny(d) => String::from_utf8(d.body.clone()).unwrap(),
            RequestOutcome::Pass => "PASS".to_owned(),
        }
    }

    #[test]
    fn openai_deny_and_masking() {
        let c = parse(
            r#"{"deny_words": ["Secret Plan"], "deny_message": "no",
                "replace_roles": [{"regex": "%{EMAILADDRESS}", "value": "[E]", "restore": true}]}"#,
        )
        .unwrap();
        let mut r = Restore::default();
        let body = br#"{"model":"m1","messages":[{"role":"user","content":"the SECRET plan"}]}"#;
        let RequestOutcome::Deny(d) = request(&c, body, &mut r, 7) else {
            panic!()
        };
        assert_eq!(d.status, 200);
        assert_eq!(d.content_type, "application/json");
        let v: Value = serde_json::from_slice(&d.body).unwrap();
        assert_eq!(v["choices"][0]["message"]["content"], "no");
        assert_eq!(v["model"], "m1");
        assert_eq!(v["created"], 7);
        let stream = br#"{"stream":true,"messages":[{"role":"user","content":[{"type":"text","text":"secret plan"}]}]}"#;
        let RequestOutcome::Deny(d) = request(&c, stream, &mut r, 7) else {
            panic!()
        };
        assert_eq!(d.content_type, "text/event-stream");
        assert!(text(&RequestOutcome::Deny(d.clone())).ends_with("\n\ndata: [DONE]\n\n"));
        let body = br#"{"messages":[{"role":"user","content":[{"type":"text","text":"mail a@b.io"},{"type":"image_url","image_url":{"url":"x@y.io"}}]},{"role":"system","content":"c@d.io"}]}"#;
        let out = request(&c, body, &mut r, 7);
        assert_eq!(
            text(&out),
            r#"{"messages":[{"role":"user","content":[{"type":"text","text":"mail [E]"},{"type":"image_url","image_url":{"url":"x@y.io"}}]},{"role":"system","content":"[E]"}]}"#
        );
        assert_eq!(r.restore(b"[E]").unwrap(), b"c@d.io");
        // not an openai body, no jsonpath, no raw: untouched
        assert_eq!(
            request(&c, b"secret plan a@b.io", &mut r, 0),
            RequestOutcome::Pass
        );
        assert_eq!(
            request(&c, br#"{"prompt":"secret plan"}"#, &mut r, 0),
            RequestOutcome::Pass
        );
    }

    #[test]
    fn jsonpath_and_raw_modes() {
        let c = parse(
            r#"{"deny_jsonpath": ["$.input[*].text"], "deny_words": ["bomb"], "deny_raw": true, "deny_code": 403,
                "replace_roles": [{"regex": "%{IPV4}", "type": "hash"}]}"#,
        )
        .unwrap();
        let mut r = Restore::default();
        let RequestOutcome::Deny(d) = request(&c, br#"{"input":[{"text":"a BOMB"}]}"#, &mut r, 0)
        else {
            panic!()
        };
        assert_eq!(
            (d.status, d.content_type.as_str()),
            (403, "application/json")
        );
        assert_eq!(d.body, c.deny_raw_message.as_bytes());
        // outside the path: not checked, but masking applies only under the path too
        let out = request(
            &c,
            br#"{"other":"bomb 1.2.3.4","input":[{"text":"ip 1.2.3.4"}]}"#,
            &mut r,
            0,
        );
        let h = crate::mask::hex_sha256(b"1.2.3.4");
        assert_eq!(
            text(&out),
            format!(r#"{{"other":"bomb 1.2.3.4","input":[{{"text":"ip {h}"}}]}}"#)
        );
        assert!(r.is_empty());
        // not JSON: raw mode
        assert!(matches!(
            request(&c, b"make a bomb", &mut r, 0),
            RequestOutcome::Deny(_)
        ));
        assert_eq!(
            text(&request(&c, b"host 1.2.3.4\n", &mut r, 0)),
            format!("host {h}\n")
        );
    }

    #[test]
    fn json_responses() {
        let c = parse(r#"{"deny_words": ["forbidden"], "deny_message": "X"}"#).unwrap();
        let mut r = Restore::default();
        r.insert(b"[E]".to_vec(), b"a\"b@c.io".to_vec());
        let body = br#"{"id":"1","choices":[{"index":0,"message":{"role":"assistant","content":"hi [E]"}},{"index":1,"message":{"content":"a Forbidden word"}}]}"#;
        let out = String::from_utf8(response(&c, body, &r).unwrap()).unwrap();
        assert_eq!(
            out,
            r#"{"id":"1","choices":[{"index":0,"message":{"role":"assistant","content":"hi a\"b@c.io"}},{"index":1,"message":{"content":"X"}}]}"#
        );
        assert_eq!(response(&c, br#"{"choices":[]}"#, &r), None);
        assert_eq!(response(&c, b"plain [E]", &r).unwrap(), b"plain a\"b@c.io");
    }
}
