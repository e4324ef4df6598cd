//! Greedy shrinking of a diverging case: drop rules, keys, headers and properties, shorten strings and
//! bodies, while the same divergence persists.

use serde_json::Value;

use crate::case::{ConfigSpec, DiffCase, HeaderList};

/// Shorter versions of `s` (empty, halves, without the first or last character).
fn shorter(s: &str) -> Vec<String> {
    if s.is_empty() {
        return Vec::new();
    }
    let mut out = vec![String::new()];
    let half = s.floor_char_boundary(s.len() / 2);
    if half > 0 {
        out.push(s[..half].to_string());
        out.push(s[half..].to_string());
    }
    let mut chars = s.chars();
    chars.next();
    out.push(chars.as_str().to_string());
    let mut chars = s.chars();
    chars.next_back();
    out.push(chars.as_str().to_string());
    out.dedup();
    out.retain(|c| c.len() < s.len());
    out
}

/// Every simplification of a JSON value, one edit each.
fn json_edits(v: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    match v {
        Value::Object(m) => {
            // remove `_rules_` entries first, then keys
            for k in m.keys() {
                let mut c = m.clone();
                c.remove(k);
                out.push(Value::Object(c));
            }
            for (k, child) in m {
                for e in json_edits(child) {
                    let mut c = m.clone();
                    c.insert(k.clone(), e);
                    out.push(Value::Object(c));
                }
            }
        }
        Value::Array(items) => {
            for i in 0..items.len() {
                let mut c = items.clone();
                c.remove(i);
                out.push(Value::Array(c));
            }
            for (i, child) in items.iter().enumerate() {
                for e in json_edits(child) {
                    let mut c = items.clone();
                    c[i] = e;
                    out.push(Value::Array(c));
                }
            }
        }
        Value::String(s) => out.extend(shorter(s).into_iter().map(Value::String)),
        _ => {}
    }
    out
}

fn header_edits(list: &HeaderList, keep_pseudo: bool) -> Vec<HeaderList> {
    let mut out = Vec::new();
    for i in 0..list.len() {
        if keep_pseudo && list[i].0 == ":status" {
            continue;
        }
        let mut c = list.clone();
        c.remove(i);
        out.push(c);
    }
    for (i, (_, vs)) in list.iter().enumerate() {
        if vs.len() > 1 {
            for j in 0..vs.len() {
                let mut c = list.clone();
                c[i].1.remove(j);
                out.push(c);
            }
        }
        for (j, v) in vs.iter().enumerate() {
            for s in shorter(v) {
                let mut c = list.clone();
                c[i].1[j] = s;
                out.push(c);
            }
        }
    }
    out
}

/// Candidate simplifications of `case`, roughly biggest first.
pub fn candidates(case: &DiffCase) -> Vec<DiffCase> {
    let mut out = Vec::new();
    let with = |f: &dyn Fn(&mut DiffCase)| {
        let mut c = case.clone();
        f(&mut c);
        c
    };
    if case.body.is_some() {
        out.push(with(&|c| c.body = None));
    }
    if let Some(b) = &case.body {
        for s in shorter(b) {
            out.push(with(&|c| c.body = Some(s.clone())));
        }
    }
    if case.trailers.is_some() {
        out.push(with(&|c| c.trailers = None));
    }
    if case.upstream_headers.is_some() || case.upstream_body.is_some() {
        out.push(with(&|c| {
            c.upstream_headers = None;
            c.upstream_body = None;
        }));
    }
    if let Some(b) = &case.upstream_body {
        for s in shorter(b) {
            out.push(with(&|c| c.upstream_body = Some(s.clone())));
        }
    }
    if let Some(h) = &case.upstream_headers {
        for e in header_edits(h, true) {
            out.push(with(&|c| c.upstream_headers = Some(e.clone())));
        }
    }
    for i in 0..case.properties.len() {
        out.push(with(&|c| {
            c.properties.remove(i);
        }));
    }
    match &case.config {
        ConfigSpec::Json(v) => {
            for e in json_edits(v) {
                out.push(with(&|c| c.config = ConfigSpec::Json(e.clone())));
            }
        }
        ConfigSpec::Raw(s) => {
            for e in shorter(s) {
                out.push(with(&|c| c.config = ConfigSpec::Raw(e.clone())));
            }
            if let Ok(v) = serde_json::from_str::<Value>(s) {
                if !s.is_empty() {
                    out.push(with(&|c| c.config = ConfigSpec::Json(v.clone())));
                }
            }
        }
    }
    for (i, (_, v)) in case.properties.iter().enumerate() {
        for s in shorter(v) {
            out.push(with(&|c| c.properties[i].1 = s.clone()));
        }
    }
    for e in header_edits(&case.headers, false) {
        out.push(with(&|c| c.headers = e.clone()));
    }
    out.retain(|c| c.weight() < case.weight() || c.config != case.config);
    out
}

/// Shrinks `case` while `still_fails` holds, trying at most `budget` candidates.
pub fn shrink(
    case: DiffCase,
    budget: usize,
    mut still_fails: impl FnMut(&DiffCase) -> bool,
) -> (DiffCase, usize) {
    let mut current = case;
    let mut tried = 0;
    'outer: loop {
        for cand in candidates(&current) {
            if tried >= budget {
                break 'outer;
            }
            tried += 1;
            if still_fails(&cand) {
                current = cand;
                continue 'outer;
            }
        }
        break;
    }
    (current, tried)
}
