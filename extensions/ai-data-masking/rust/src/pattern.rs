//! `replace_roles[].regex`: grok names expanded to pwsdk dialect regexes, validated by the SDK's dialect parser,
//! then compiled for **searching** (every non-overlapping, leftmost-first, non-empty match).
//!
//! The SDK's `pwsdk::regex::Regex` only answers full matches, so the validated pattern is handed to the `regex`
//! crate (bytes, Unicode off). Every byte ≥ 0x80 is rewritten as `\xHH` first, so that, as in the dialect, a
//! multi-byte UTF-8 character is a sequence of literal bytes and a quantifier repeats its last byte only.

/// The grok names we know, as dialect regexes. `%{NAME}` inside a definition refers to another entry.
pub const GROK: &[(&str, &str)] = &[
    ("EMAILLOCALPART", r"[A-Za-z0-9._%+\-]+"),
    (
        "HOSTNAME",
        r"[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*",
    ),
    ("EMAILADDRESS", r"%{EMAILLOCALPART}@%{HOSTNAME}"),
    (
        "IPV4",
        r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}",
    ),
    (
        "IPV6",
        // full form first, then the compressed forms with the most groups after `::` first, so that the
        // leftmost-first search takes the longest address
        r"(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|[0-9A-Fa-f]{1,4}:(?::[0-9A-Fa-f]{1,4}){1,6}|(?:[0-9A-Fa-f]{1,4}:){1,2}(?::[0-9A-Fa-f]{1,4}){1,5}|(?:[0-9A-Fa-f]{1,4}:){1,3}(?::[0-9A-Fa-f]{1,4}){1,4}|(?:[0-9A-Fa-f]{1,4}:){1,4}(?::[0-9A-Fa-f]{1,4}){1,3}|(?:[0-9A-Fa-f]{1,4}:){1,5}(?::[0-9A-Fa-f]{1,4}){1,2}|(?:[0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}|::(?:[0-9A-Fa-f]{1,4}:){0,5}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){1,7}:|::",
    ),
    ("IP", r"%{IPV6}|%{IPV4}"),
    ("APIKEY", r"sk-[A-Za-z0-9_\-]{20,}"),
    ("MOBILE", r"1[3-9]\d{9}"),
    ("IDCARD", r"[1-9]\d{16}[0-9Xx]"),
    ("INT", r"[+\-]?\d+"),
    ("WORD", r"\w+"),
];

fn grok(name: &str) -> Option<&'static str> {
    GROK.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
}

/// Replaces every `%{NAME}` by `(?:definition)`, recursively. A `%` not followed by `{` is a literal.
pub fn expand(pattern: &str) -> Result<String, String> {
    expand_depth(pattern, 0)
}

fn expand_depth(pattern: &str, depth: usize) -> Result<String, String> {
    if depth > 4 {
        return Err("grok definitions nest too deeply".to_owned());
    }
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(at) = rest.find("%{") {
        // `\%{` stays literal text for the regex parser to judge
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let Some(end) = after.find('}') else {
            return Err("unterminated grok reference `%{`".to_owned());
        };
        let name = &after[..end];
        if let Some((base, _alias)) = name.split_once(':') {
            return Err(format!(
                "grok captures are not supported (`%{{{name}}}`): write `%{{{base}}}`"
            ));
        }
        let Some(definition) = grok(name) else {
            let known: Vec<&str> = GROK.iter().map(|(n, _)| *n).collect();
            return Err(format!(
                "unknown grok pattern `%{{{name}}}`: use one of {}",
                known.join(", ")
            ));
        };
        out.push_str("(?:");
        out.push_str(&expand_depth(definition, depth + 1)?);
        out.push(')');
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A compiled search pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    re: regex::bytes::Regex,
    /// The pattern is exactly one grok reference: matches must be whole tokens (see [`Pattern::matches`]).
    token: bool,
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `%{NAME}` and nothing else.
fn is_single_grok(pattern: &str) -> bool {
    pattern
        .strip_prefix("%{")
        .and_then(|r| r.strip_suffix('}'))
        .is_some_and(|name| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        })
}

impl Pattern {
    /// Expands grok names, checks the dialect (and its limits) and compiles for searching.
    pub fn new(pattern: &str) -> Result<Pattern, String> {
        let expanded = expand(pattern)?;
        pwsdk::regex::validate(&expanded).map_err(|e| e.to_string())?;
        let mut ascii = String::with_capacity(expanded.len());
        for b in expanded.bytes() {
            if b >= 0x80 {
                ascii.push_str(&format!("\\x{b:02X}"));
            } else {
                ascii.push(b as char);
            }
        }
        let re = regex::bytes::RegexBuilder::new(&ascii)
            .unicode(false)
            .size_limit(16 << 20)
            .dfa_size_limit(1 << 20)
            .build()
            .map_err(|e| format!("pattern too large to compile ({e})"))?;
        Ok(Pattern {
            re,
            token: is_single_grok(pattern),
        })
    }

    /// Every non-empty, non-overlapping match, leftmost-first, as byte ranges. For a pattern that is one grok
    /// reference, a match directly preceded or followed by an ASCII letter, digit or `_` is skipped and the
    /// search goes on from the byte after its start (so `%{IPV6}` does not take `::b` out of `std::borrow`).
    pub fn matches(&self, text: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut pos = 0;
        while pos <= text.len() {
            let Some(m) = self.re.find_at(text, pos) else {
                break;
            };
            let (s, e) = (m.start(), m.end());
            if e == s {
                pos = e + 1;
                continue;
            }
            let glued = self.token
                && ((s > 0 && is_token_byte(text[s - 1]))
                    || text.get(e).is_some_and(|b| is_token_byte(*b)));
            if glued {
                pos = s + 1;
                continue;
            }
            out.push((s, e));
            pos = e;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(pattern: &str, text: &str) -> Vec<String> {
        let p = Pattern::new(pattern).unwrap();
        p.matches(text.as_bytes())
            .into_iter()
            .map(|(s, e)| text[s..e].to_owned())
            .collect()
    }

    #[test]
    fn every_grok_name_is_in_the_dialect() {
        for (name, _) in GROK {
            Pattern::new(&format!("%{{{name}}}")).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn emails_and_ips() {
        assert_eq!(
            found(
                "%{EMAILADDRESS}",
                "mail alice.b+x@mail.example.com. or bob@h"
            ),
            vec!["alice.b+x@mail.example.com", "bob@h"]
        );
        assert_eq!(
            found("%{IPV4}", "from 192.168.1.100 and 10.0.0.1, not 1.2.3"),
            vec!["192.168.1.100", "10.0.0.1"]
        );
        // single grok references match whole tokens only
        assert_eq!(
            found("%{IPV4}", "256.1.1.1 1.2.3.4567"),
            Vec::<String>::new()
        );
        assert_eq!(found("(?:%{IPV4})", "256.1.1.1"), vec!["56.1.1.1"]);
        assert_eq!(
            found("%{IPV6}", "use std::borrow; Foo::bar"),
            Vec::<String>::new()
        );
        assert_eq!(
            found("%{MOBILE}", "813812345678 13812345678"),
            vec!["13812345678"]
        );
        assert_eq!(
            found(
                "%{IPV6}",
                "a 2001:db8::8a2e:370:7334 b fe80::1 c ::1 d 1:2:3:4:5:6:7:8"
            ),
            vec![
                "2001:db8::8a2e:370:7334",
                "fe80::1",
                "::1",
                "1:2:3:4:5:6:7:8"
            ]
        );
        assert_eq!(found("%{IPV6}", "at 12:30:45 ok"), Vec::<String>::new());
        assert_eq!(
            found("%{IP}", "v4 8.8.8.8 v6 ::ffff"),
            vec!["8.8.8.8", "::ffff"]
        );
        assert_eq!(
            found("%{APIKEY}", "key sk-abcdefghijklmnopqrstu1 short sk-abc"),
            vec!["sk-abcdefghijklmnopqrstu1"]
        );
    }

    #[test]
    fn plain_regexes_and_dialect_escapes() {
        assert_eq!(
            found(r"\d{3}\-\d{4}", "call 555-1234 now"),
            vec!["555-1234"]
        );
        assert_eq!(found(r"a\/b", "x a/b y"), vec!["a/b"]);
        // empty matches are ignored
        assert_eq!(found("x*", "axxb"), vec!["xx"]);
        // a multi-byte character is a byte sequence: the quantifier repeats its last byte only
        assert_eq!(found("é+", "ééé"), vec!["é", "é", "é"]);
        assert_eq!(found("(?:é)+", "ééé"), vec!["ééé"]);
        assert_eq!(found("秘密", "这是秘密文件"), vec!["秘密"]);
    }

    #[test]
    fn rejections() {
        assert!(Pattern::new("%{NOPE}")
            .unwrap_err()
            .contains("unknown grok pattern `%{NOPE}`"));
        assert!(Pattern::new("%{IP:addr}")
            .unwrap_err()
            .contains("captures are not supported"));
        assert!(Pattern::new("%{IP").unwrap_err().contains("unterminated"));
        assert!(Pattern::new(r"\bword")
            .unwrap_err()
            .starts_with("invalid regex"));
        assert!(Pattern::new("(?i)x")
            .unwrap_err()
            .starts_with("invalid regex"));
        assert!(Pattern::new("").unwrap_err().starts_with("invalid regex"));
        assert!(Pattern::new("a{0,1000}")
            .unwrap_err()
            .starts_with("invalid regex"));
    }
}
