//! The JSONPath subset of `deny_jsonpath`: `$`, `.name`, `['name']` / `["name"]`, `[N]`, `[*]` and `.*`.
//! A path selects nodes; the plug-in then works on every string value at or under each selected node.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
    /// Every member of an object or element of an array.
    Wildcard,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    pub segments: Vec<Segment>,
}

impl JsonPath {
    pub fn parse(path: &str) -> Result<JsonPath, String> {
        let bytes = path.as_bytes();
        if bytes.first() != Some(&b'$') {
            return Err("a JSONPath must start with `$`".to_owned());
        }
        let mut segments = Vec::new();
        let mut i = 1;
        while i < bytes.len() {
            match bytes[i] {
                b'.' => {
                    i += 1;
                    if bytes.get(i) == Some(&b'.') {
                        return Err(format!(
                            "recursive descent `..` (at byte {}) is not supported",
                            i - 1
                        ));
                    }
                    let start = i;
                    while i < bytes.len() && bytes[i] != b'.' && bytes[i] != b'[' {
                        i += 1;
                    }
                    let name = &path[start..i];
                    if name.is_empty() {
                        return Err(format!("empty member name at byte {start}"));
                    }
                    segments.push(if name == "*" {
                        Segment::Wildcard
                    } else {
                        Segment::Key(name.to_owned())
                    });
                }
                b'[' => {
                    let start = i;
                    i += 1;
                    match bytes.get(i) {
                        Some(b'*') => {
                            i += 1;
                            segments.push(Segment::Wildcard);
                        }
                        Some(&q @ (b'\'' | b'"')) => {
                            let name_start = i + 1;
                            let Some(len) = path[name_start..].find(q as char) else {
                                return Err(format!("unterminated quoted name at byte {start}"));
                            };
                            segments
                                .push(Segment::Key(path[name_start..name_start + len].to_owned()));
                            i = name_start + len + 1;
                        }
                        Some(b'0'..=b'9') => {
                            let digits = i;
                            while i < bytes.len() && bytes[i].is_ascii_digit() {
                                i += 1;
                            }
                            let n = path[digits..i]
                                .parse::<usize>()
                                .map_err(|_| format!("index at byte {digits} is too large"))?;
                            segments.push(Segment::Index(n));
                        }
                        _ => {
                            return Err(format!(
                                "unsupported selector at byte {start}: use [N], [*] or ['name']"
                            ))
                        }
                    }
                    if bytes.get(i) != Some(&b']') {
                        return Err(format!("expected `]` at byte {i}"));
                    }
                    i += 1;
                }
                _ => {
                    return Err(format!(
                        "unexpected `{}` at byte {i}: use .name, [N], [*] or ['name']",
                        &path[i..].chars().next().unwrap_or('?')
                    ))
                }
            }
        }
        Ok(JsonPath { segments })
    }

    /// Calls `f` on every string at or under every node the path selects.
    pub fn for_each_string(&self, root: &mut Value, f: &mut dyn FnMut(&mut String)) {
        select(root, &self.segments, f);
    }
}

fn select(node: &mut Value, segments: &[Segment], f: &mut dyn FnMut(&mut String)) {
    let Some((first, rest)) = segments.split_first() else {
        every_string(node, f);
        return;
    };
    match (first, node) {
        (Segment::Key(k), Value::Object(map)) => {
            if let Some(child) = map.get_mut(k) {
                select(child, rest, f);
            }
        }
        (Segment::Index(n), Value::Array(items)) => {
            if let Some(child) = items.get_mut(*n) {
                select(child, rest, f);
            }
        }
        (Segment::Wildcard, Value::Array(items)) => {
            for child in items {
                select(child, rest, f);
            }
        }
        (Segment::Wildcard, Value::Object(map)) => {
            for (_, child) in map.iter_mut() {
                select(child, rest, f);
            }
        }
        _ => {}
    }
}

/// Calls `f` on every string value in `node` (object keys excluded), depth first, in document order.
pub fn every_string(node: &mut Value, f: &mut dyn FnMut(&mut String)) {
    match node {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter_mut().for_each(|c| every_string(c, f)),
        Value::Object(map) => map.iter_mut().for_each(|(_, c)| every_string(c, f)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn strings(path: &str, mut v: Value) -> Vec<String> {
        let p = JsonPath::parse(path).unwrap();
        let mut out = Vec::new();
        p.for_each_string(&mut v, &mut |s| out.push(s.clone()));
        out
    }

    #[test]
    fn parses_the_subset() {
        use Segment::*;
        assert_eq!(JsonPath::parse("$").unwrap().segments, vec![]);
        assert_eq!(
            JsonPath::parse("$.a[0].b[*]['c.d'][\"e\"].*")
                .unwrap()
                .segments,
            vec![
                Key("a".into()),
                Index(0),
                Key("b".into()),
                Wildcard,
                Key("c.d".into()),
                Key("e".into()),
                Wildcard
            ]
        );
        for bad in [
            "",
            "a.b",
            "$..a",
            "$.",
            "$.a[",
            "$.a[x]",
            "$.a[-1]",
            "$.a[0",
            "$a",
            "$.a['b]",
            "$[?(@.x)]",
        ] {
            assert!(JsonPath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn selects_strings() {
        let doc = json!({"a": {"b": "x", "n": 1}, "list": [{"q": "one", "r": "no"}, {"q": "two"}, {"q": 3}],
                         "deep": {"k": ["s1", {"t": "s2"}]}});
        assert_eq!(strings("$.a.b", doc.clone()), vec!["x"]);
        assert_eq!(strings("$.a.n", doc.clone()), Vec::<String>::new());
        assert_eq!(strings("$.list[1].q", doc.clone()), vec!["two"]);
        assert_eq!(strings("$.list[*].q", doc.clone()), vec!["one", "two"]);
        assert_eq!(strings("$.list[9].q", doc.clone()), Vec::<String>::new());
        assert_eq!(strings("$.deep", doc.clone()), vec!["s1", "s2"]);
        assert_eq!(strings("$.a.b.c", doc.clone()), Vec::<String>::new());
        assert_eq!(strings("$", json!("top")), vec!["top"]);
    }

    #[test]
    fn mutates_in_place() {
        let mut doc = json!({"list": [{"q": "one"}, {"q": "two"}]});
        JsonPath::parse("$.list[*].q")
            .unwrap()
            .for_each_string(&mut doc, &mut |s| s.make_ascii_uppercase());
        assert_eq!(doc, json!({"list": [{"q": "ONE"}, {"q": "TWO"}]}));
    }
}
