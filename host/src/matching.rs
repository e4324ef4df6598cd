//! Body expectations: exact text, a substring, JSON compared structurally (some fields ignored), a regular
//! expression over the whole body, or the `data:` payloads of a server-sent-events body.

use serde_json::Value;

use crate::vectors::BodyExpect;

/// Checks `got` against `want`; one failure line per mismatch, prefixed with `what` (`downstream_response`).
pub(crate) fn check_body(what: &str, want: BodyExpect<'_>, got: &[u8], failures: &mut Vec<String>) {
    let text = String::from_utf8_lossy(got);
    match want {
        BodyExpect::Exact(b) => {
            if got != b.as_bytes() {
                failures.push(format!("{what}.body: expected {b:?}, got {text:?}"));
            }
        }
        BodyExpect::Contains(part) => {
            if !text.contains(part) {
                failures.push(format!(
                    "{what}.body: expected to contain {part:?}, got {text:?}"
                ));
            }
        }
        BodyExpect::Matches(pattern) => {
            // validated when the vector was parsed
            let full = format!("^(?s:{pattern})$");
            if !regex::Regex::new(&full).is_ok_and(|re| re.is_match(&text)) {
                failures.push(format!(
                    "{what}.body: expected to match /{pattern}/, got {text:?}"
                ));
            }
        }
        BodyExpect::Json(want, ignore) => match serde_json::from_slice::<Value>(got) {
            Err(e) => failures.push(format!(
                "{what}.body: expected JSON, got {text:?} (not JSON: {e})"
            )),
            Ok(got) => {
                if let Some(diff) = json_diff(want, &got, ignore) {
                    failures.push(format!("{what}.body_json: {diff}"));
                }
            }
        },
        BodyExpect::Events(want, ignore) => {
            let events = sse_data(&text);
            if events.len() != want.len() {
                failures.push(format!(
                    "{what}.body_events: expected {} events, got {} ({:?})",
                    want.len(),
                    events.len(),
                    events
                ));
                return;
            }
            for (i, (w, g)) in want.iter().zip(&events).enumerate() {
                match w {
                    Value::String(s) => {
                        if s != g {
                            failures.push(format!(
                                "{what}.body_events[{i}]: expected {s:?}, got {g:?}"
                            ));
                        }
                    }
                    structured => match serde_json::from_str::<Value>(g) {
                        Err(_) => failures
                            .push(format!("{what}.body_events[{i}]: expected JSON, got {g:?}")),
                        Ok(got) => {
                            if let Some(diff) = json_diff(structured, &got, ignore) {
                                failures.push(format!("{what}.body_events[{i}]: {diff}"));
                            }
                        }
                    },
                }
            }
        }
    }
}

/// The `data:` payloads of a server-sent-events stream, one per event (several `data:` lines of one event
/// are joined with a newline; events without data are skipped).
pub(crate) fn sse_data(text: &str) -> Vec<String> {
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
    normalized
        .split("\n\n")
        .filter_map(|event| {
            let data: Vec<&str> = event
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect();
            (!data.is_empty()).then(|| data.join("\n"))
        })
        .collect()
}

/// Compares two JSON values with the values at the `ignore` paths blanked in both (a blanked field must still
/// be present when the expectation has it); `None` when equal, else where they first differ.
pub(crate) fn json_diff(want: &Value, got: &Value, ignore: &[String]) -> Option<String> {
    let mut want = want.clone();
    let mut got = got.clone();
    for path in ignore {
        let segs: Vec<&str> = path.split('.').collect();
        blank_path(&mut want, &segs);
        blank_path(&mut got, &segs);
    }
    first_difference(&want, &got, "")
}

/// Replaces the value at a dotted path with a marker (`*` matches every key or index; a number indexes an
/// array).
fn blank_path(v: &mut Value, segs: &[&str]) {
    let Some((head, rest)) = segs.split_first() else {
        *v = Value::String("<ignored>".into());
        return;
    };
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                if *head == "*" || k == head {
                    blank_path(child, rest);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                if *head == "*" || head.parse::<usize>() == Ok(i) {
                    blank_path(child, rest);
                }
            }
        }
        _ => {}
    }
}

fn first_difference(want: &Value, got: &Value, at: &str) -> Option<String> {
    let here = if at.is_empty() { "(root)" } else { at };
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                let path = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                match g.get(k) {
                    None => return Some(format!("{path}: expected {wv}, got nothing")),
                    Some(gv) => {
                        if let Some(d) = first_difference(wv, gv, &path) {
                            return Some(d);
                        }
                    }
                }
            }
            let extra: Vec<&String> = g.keys().filter(|k| !w.contains_key(*k)).collect();
            if !extra.is_empty() {
                return Some(format!(
                    "{here}: unexpected field(s) {}",
                    extra
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            None
        }
        (Value::Array(w), Value::Array(g)) => {
            if w.len() != g.len() {
                return Some(format!(
                    "{here}: expected {} items, got {} ({got})",
                    w.len(),
                    g.len()
                ));
            }
            w.iter().zip(g).enumerate().find_map(|(i, (wv, gv))| {
                let path = if at.is_empty() {
                    i.to_string()
                } else {
                    format!("{at}.{i}")
                };
                first_difference(wv, gv, &path)
            })
        }
        (w, g) if w == g => None,
        (w, g) => Some(format!("{here}: expected {w}, got {g}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ignored_fields_do_not_count() {
        let want = json!({"id": "x", "created": 1, "choices": [{"n": 1, "t": 5}]});
        let got = json!({"choices": [{"n": 1, "t": 9}], "id": "x", "created": 1_800_000_000});
        assert!(json_diff(&want, &got, &[]).is_some());
        assert_eq!(
            json_diff(&want, &got, &["created".into(), "choices.*.t".into()]),
            None
        );
        assert_eq!(
            json_diff(
                &want,
                &json!({"id": "y", "created": 1, "choices": [{"n": 1, "t": 5}]}),
                &[]
            ),
            Some("id: expected \"x\", got \"y\"".into())
        );
        assert_eq!(
            json_diff(&json!({"a": 1}), &json!({"a": 1, "b": 2}), &[]),
            Some("(root): unexpected field(s) `b`".into())
        );
        // an ignored field the expectation has must still be there
        assert_eq!(
            json_diff(&json!({"a": 1, "t": 0}), &json!({"a": 1}), &["t".into()]),
            Some("t: expected \"<ignored>\", got nothing".into())
        );
    }

    #[test]
    fn sse_payloads_are_split_per_event() {
        let body =
            "data: {\"a\":1}\n\nevent: x\ndata: one\ndata: two\n\n: comment\n\ndata: [DONE]\n\n";
        assert_eq!(sse_data(body), ["{\"a\":1}", "one\ntwo", "[DONE]"]);
    }

    #[test]
    fn regex_matches_the_whole_body() {
        let mut f = Vec::new();
        check_body(
            "b",
            BodyExpect::Matches(r"created:\d+"),
            b"created:17",
            &mut f,
        );
        assert!(f.is_empty(), "{f:?}");
        check_body("b", BodyExpect::Matches(r"created"), b"created:17", &mut f);
        assert_eq!(f.len(), 1);
    }
}
