//! Server-sent events: the per-event work on OpenAI chat-completion chunks (restore + deny words across
//! events). Pure logic. Splitting the body into events and events into lines is the SDK's (`pwsdk::sse`: lines
//! end with `\r\n`, `\n` or `\r`).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::jsonpath::every_string;
use crate::mask::{into_string, DenyWords, Restore};

/// What the event work needs from the configuration and the request.
pub struct Context<'a> {
    pub restore: &'a Restore,
    pub words: &'a DenyWords,
    pub deny_message: &'a str,
}

/// Per-stream state of the event work.
#[derive(Debug, Default)]
pub struct Events {
    /// Per choice index: content held back because it may be the start of a masked value.
    held: BTreeMap<u64, Vec<u8>>,
    /// Per choice index: the end of the content already sent, to find a deny word cut between events.
    tail: BTreeMap<u64, Vec<u8>>,
    /// A deny word was found: the answer was replaced by the deny message; later content is dropped.
    denied: bool,
}

/// One line of an event: content and terminator (the SDK's line ends).
fn lines(event: &[u8]) -> Vec<(&[u8], &[u8])> {
    pwsdk::sse::split_lines(event)
}

/// `data:` line → (prefix kept as written: `data:` or `data: `, payload).
fn data_payload(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = line.strip_prefix(b"data:")?;
    Some(if rest.first() == Some(&b' ') {
        (&line[..6], &rest[1..])
    } else {
        (&line[..5], rest)
    })
}

impl Events {
    /// Rewrites one whole event (its bytes, as `pwsdk::sse::Parser` returned it).
    pub fn event(&mut self, ctx: &Context<'_>, event: &[u8]) -> Vec<u8> {
        let lines = lines(event);
        let data: Vec<usize> = (0..lines.len())
            .filter(|&i| data_payload(lines[i].0).is_some())
            .collect();
        let mut out = Vec::with_capacity(event.len() + 16);
        if let [only] = data[..] {
            let (prefix, payload) = data_payload(lines[only].0).unwrap_or_default();
            if payload.trim_ascii() == b"[DONE]" {
                out.extend_from_slice(&self.flush(ctx));
                out.extend_from_slice(event);
                return out;
            }
            if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(payload) {
                let mut value = Value::Object(map);
                if self.chunk(ctx, &mut value) {
                    for (i, (line, term)) in lines.iter().enumerate() {
                        if i == only {
                            out.extend_from_slice(prefix);
                            out.extend_from_slice(value.to_string().as_bytes());
                        } else {
                            out.extend_from_slice(line);
                        }
                        out.extend_from_slice(term);
                    }
                    return out;
                }
                return event.to_vec();
            }
        }
        // not one JSON data line: restore the data lines as text
        for (line, term) in &lines {
            match data_payload(line) {
                Some((prefix, payload)) if !ctx.restore.is_empty() => {
                    out.extend_from_slice(prefix);
                    match ctx.restore.restore(payload) {
                        Some(r) => out.extend_from_slice(&r),
                        None => out.extend_from_slice(payload),
                    }
                }
                _ => out.extend_from_slice(line),
            }
            out.extend_from_slice(term);
        }
        out
    }

    /// Works on one chat-completion chunk; true when it changed.
    fn chunk(&mut self, ctx: &Context<'_>, value: &mut Value) -> bool {
        let mut changed = false;
        let mut contents: Vec<Option<String>> = Vec::new();
        // take the delta contents out, restore every other string as plain text
        if let Some(choices) = value.get_mut("choices").and_then(Value::as_array_mut) {
            for choice in choices.iter_mut() {
                contents.push(match choice.pointer_mut("/delta/content") {
                    Some(Value::String(s)) => Some(std::mem::take(s)),
                    _ => None,
                });
            }
        }
        if !ctx.restore.is_empty() {
            every_string(value, &mut |s| {
                if let Some(r) = ctx.restore.restore(s.as_bytes()) {
                    *s = into_string(r);
                    changed = true;
                }
            });
        }
        let Some(choices) = value.get_mut("choices").and_then(Value::as_array_mut) else {
            return changed;
        };
        for (pos, (choice, content)) in choices.iter_mut().zip(contents).enumerate() {
            let index = choice
                .get("index")
                .and_then(Value::as_u64)
                .unwrap_or(pos as u64);
            let finished = choice.get("finish_reason").is_some_and(|f| !f.is_null());
            let held = self.held.remove(&index);
            if content.is_none() && !(finished && held.is_some()) {
                continue;
            }
            let had_content = content.is_some();
            let original = content.unwrap_or_default();
            let mut text = held.unwrap_or_default();
            text.extend_from_slice(original.as_bytes());
            let restored = if finished {
                ctx.restore.restore(&text).unwrap_or(text)
            } else {
                let (restored, hold) = ctx.restore.restore_holding(&text);
                if !hold.is_empty() {
                    self.held.insert(index, hold);
                }
                restored
            };
            let emitted = into_string(self.deny_step(ctx, index, restored));
            if emitted != original || !had_content {
                changed = true;
            }
            if had_content || !emitted.is_empty() {
                set_delta_content(choice, emitted);
            }
        }
        changed
    }

    /// Deny-word check of the next piece of choice `index`'s answer: what to send instead of `text`.
    fn deny_step(&mut self, ctx: &Context<'_>, index: u64, text: Vec<u8>) -> Vec<u8> {
        if self.denied {
            return Vec::new();
        }
        if ctx.words.is_empty() {
            return text;
        }
        let mut window = self.tail.remove(&index).unwrap_or_default();
        window.extend_from_slice(&text);
        if ctx.words.find(&window).is_some() {
            self.denied = true;
            self.held.clear();
            return ctx.deny_message.as_bytes().to_vec();
        }
        let keep = ctx.words.longest().saturating_sub(1);
        let cut = window.len().saturating_sub(keep);
        self.tail.insert(index, window[cut..].to_vec());
        text
    }

    /// Events carrying the content still held back (before `[DONE]` or at the end of the stream).
    pub fn flush(&mut self, ctx: &Context<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        for (index, held) in std::mem::take(&mut self.held) {
            let text = ctx.restore.restore(&held).unwrap_or(held);
            let text = into_string(self.deny_step(ctx, index, text));
            if text.is_empty() {
                continue;
            }
            let chunk = serde_json::json!({
                "object": "chat.completion.chunk",
                "choices": [{"index": index, "delta": {"content": text}, "finish_reason": null}]
            });
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(chunk.to_string().as_bytes());
            out.extend_from_slice(b"\n\n");
        }
        out
    }

    pub fn denied(&self) -> bool {
        self.denied
    }
}

fn set_delta_content(choice: &mut Value, text: String) {
    let Value::Object(choice) = choice else {
        return;
    };
    let delta = choice
        .entry("delta")
        .or_insert_with(|| Value::Object(Default::default()));
    if let Value::Object(delta) = delta {
        delta.insert("content".to_owned(), Value::String(text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pwsdk::sse::Parser;
    use serde_json::json;

    fn split_all(chunks: &[&[u8]]) -> (Vec<Vec<u8>>, Vec<u8>) {
        let mut s = Parser::new();
        let mut events = Vec::new();
        for c in chunks {
            events.extend(
                s.push(c)
                    .iter()
                    .map(|e| e.raw().unwrap_or_default().to_vec()),
            );
        }
        let rest = s.finish().map(|e| e.raw().unwrap_or_default().to_vec());
        (events, rest.unwrap_or_default())
    }

    #[test]
    fn splits_on_blank_lines_across_chunks() {
        let (ev, rest) = split_all(&[
            b"data: a\n",
            b"\ndata: b\r",
            b"\n\r\n: comment\n",
            b"\nevent: x\ndata: c",
        ]);
        assert_eq!(
            ev,
            vec![
                b"data: a\n\n".to_vec(),
                b"data: b\r\n\r\n".to_vec(),
                b": comment\n\n".to_vec()
            ]
        );
        assert_eq!(rest, b"event: x\ndata: c".to_vec());
        // every split point of a two-event stream gives the same events
        let whole: &[u8] = b"data: {\"x\":1}\r\n\r\ndata: [DONE]\n\n";
        for cut in 0..=whole.len() {
            let (ev, rest) = split_all(&[&whole[..cut], &whole[cut..]]);
            assert_eq!(
                ev,
                vec![
                    b"data: {\"x\":1}\r\n\r\n".to_vec(),
                    b"data: [DONE]\n\n".to_vec()
                ],
                "cut {cut}"
            );
            assert!(rest.is_empty());
        }
        // byte by byte
        let bytes: Vec<&[u8]> = whole.chunks(1).collect();
        assert_eq!(split_all(&bytes).0.len(), 2);
    }

    fn chunk(content: &str) -> Vec<u8> {
        let v = json!({"id": "c1", "object": "chat.completion.chunk",
                       "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]});
        format!("data: {v}\n\n").into_bytes()
    }

    fn contents(out: &[u8]) -> String {
        let mut s = String::new();
        let mut sp = Parser::new();
        for ev in sp.push(out) {
            let text = String::from_utf8(ev.raw().unwrap().to_vec()).unwrap();
            let payload = text.trim_end().strip_prefix("data: ").unwrap();
            if payload == "[DONE]" {
                continue;
            }
            let v: Value = serde_json::from_str(payload).unwrap();
            for c in v["choices"].as_array().unwrap() {
                s.push_str(c["delta"]["content"].as_str().unwrap_or(""));
            }
        }
        s
    }

    fn run(restore: &Restore, words: &DenyWords, pieces: &[&str], cuts: usize) -> String {
        let ctx = Context {
            restore,
            words,
            deny_message: "DENIED",
        };
        let mut stream = Vec::new();
        for p in pieces {
            stream.extend(chunk(p));
        }
        let mut fin =
            json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}).to_string();
        fin = format!("data: {fin}\n\ndata: [DONE]\n\n");
        stream.extend_from_slice(fin.as_bytes());
        // deliver in `cuts`-byte chunks
        let mut sp = Parser::new();
        let mut ev = Events::default();
        let mut out = Vec::new();
        for c in stream.chunks(cuts) {
            for e in sp.push(c) {
                out.extend(ev.event(&ctx, e.raw().unwrap()));
            }
        }
        out.extend(ev.flush(&ctx));
        contents(&out)
    }

    #[test]
    fn restores_values_cut_between_deltas_and_chunks() {
        let mut r = Restore::default();
        r.insert(b"[EMAIL]".to_vec(), b"alice@example.com".to_vec());
        let h = crate::mask::hex_sha256(b"sk-secret");
        r.insert(h.clone().into_bytes(), b"sk-secret".to_vec());
        let none = DenyWords::default();
        let pieces = [
            "Write to [EM",
            "AIL] with key ",
            &h[..10],
            &h[10..40],
            &h[40..],
            " ok [",
        ];
        for cuts in [1, 7, 64, 100_000] {
            assert_eq!(
                run(&r, &none, &pieces, cuts),
                "Write to alice@example.com with key sk-secret ok [",
                "cuts {cuts}"
            );
        }
    }

    #[test]
    fn deny_word_cut_between_deltas() {
        let words = DenyWords::new(["password".to_owned()]);
        let r = Restore::default();
        assert_eq!(
            run(&r, &words, &["the pass", "WORD is", " x"], 5),
            "the passDENIED"
        );
        assert_eq!(
            run(&r, &words, &["the pass", "port is"], 5),
            "the passport is"
        );
    }

    #[test]
    fn held_text_is_flushed_before_done() {
        let mut r = Restore::default();
        r.insert(b"<K>".to_vec(), b"v".to_vec());
        let ctx = Context {
            restore: &r,
            words: &DenyWords::default(),
            deny_message: "",
        };
        let mut ev = Events::default();
        let first = ev.event(&ctx, &chunk("a <"));
        assert_eq!(contents(&first), "a ");
        let done = ev.event(&ctx, b"data: [DONE]\n\n");
        assert_eq!(contents(&done), "<");
        assert!(done.ends_with(b"data: [DONE]\n\n"));
    }

    #[test]
    fn untouched_events_are_kept_byte_for_byte() {
        let r = Restore::default();
        let ctx = Context {
            restore: &r,
            words: &DenyWords::new(["zzz".to_owned()]),
            deny_message: "",
        };
        let mut ev = Events::default();
        for e in [
            &b"data:{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\\u4f60 hi\"}}]}\r\n\r\n"[..],
            b": keep-alive\n\n",
            b"event: ping\ndata: not json\n\n",
            b"id: 1\ndata: {\"a\":\n",
        ] {
            assert_eq!(ev.event(&ctx, e), e.to_vec());
        }
        assert!(!ev.denied());
    }

    #[test]
    fn text_data_lines_are_restored() {
        let mut r = Restore::default();
        r.insert(b"***".to_vec(), b"1.2.3.4".to_vec());
        let ctx = Context {
            restore: &r,
            words: &DenyWords::default(),
            deny_message: "",
        };
        let mut ev = Events::default();
        assert_eq!(
            ev.event(&ctx, b"event: t\r\ndata: ip ***\r\n\r\n"),
            b"event: t\r\ndata: ip 1.2.3.4\r\n\r\n".to_vec()
        );
    }
}
