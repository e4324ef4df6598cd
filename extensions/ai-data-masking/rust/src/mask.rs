//! Masking (`replace_roles`), restoring masked values, and deny-word search. Pure logic.

use sha2::{Digest, Sha256};

use crate::pattern::Pattern;

/// What replaces a match.
#[derive(Debug, Clone)]
pub enum Replacement {
    /// A fixed text.
    Value(String),
    /// The lower-case hex SHA-256 of the matched bytes (64 characters).
    Hash,
}

/// One compiled `replace_roles` entry.
#[derive(Debug, Clone)]
pub struct Role {
    pub pattern: Pattern,
    pub replacement: Replacement,
    pub restore: bool,
}

/// Per-request memory of masked → original values (for `restore: true` roles).
#[derive(Debug, Default, Clone)]
pub struct Restore {
    /// (masked, original), longest masked value first; one entry per masked value (the last original wins).
    pairs: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Restore {
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    pub fn insert(&mut self, masked: Vec<u8>, original: Vec<u8>) {
        if masked.is_empty() {
            return;
        }
        if let Some(pair) = self.pairs.iter_mut().find(|(m, _)| *m == masked) {
            pair.1 = original;
            return;
        }
        self.pairs.push((masked, original));
        self.pairs.sort_by_key(|p| std::cmp::Reverse(p.0.len()));
    }

    fn max_len(&self) -> usize {
        self.pairs.first().map_or(0, |(m, _)| m.len())
    }

    /// Replaces every masked value in `text` by its original, scanning left to right and taking the longest
    /// masked value at each position. `None` when nothing changed.
    pub fn restore(&self, text: &[u8]) -> Option<Vec<u8>> {
        let (out, held) = self.scan(text, false);
        debug_assert!(held.is_empty());
        (out != text).then_some(out)
    }

    /// Like [`Restore::restore`], but a tail of `text` that is the beginning of a masked value (which the next
    /// piece of a stream may complete) is returned apart, not restored: `(restored, held back)`.
    pub fn restore_holding(&self, text: &[u8]) -> (Vec<u8>, Vec<u8>) {
        self.scan(text, true)
    }

    fn scan(&self, text: &[u8], hold: bool) -> (Vec<u8>, Vec<u8>) {
        if self.pairs.is_empty() {
            return (text.to_vec(), Vec::new());
        }
        let max = self.max_len();
        let mut out = Vec::with_capacity(text.len());
        let mut i = 0;
        'outer: while i < text.len() {
            let rest = &text[i..];
            for (masked, original) in &self.pairs {
                if rest.starts_with(masked) {
                    out.extend_from_slice(original);
                    i += masked.len();
                    continue 'outer;
                }
            }
            if hold
                && rest.len() < max
                && self
                    .pairs
                    .iter()
                    .any(|(m, _)| m.len() > rest.len() && m.starts_with(rest))
            {
                return (out, rest.to_vec());
            }
            out.push(text[i]);
            i += 1;
        }
        (out, Vec::new())
    }
}

/// Applies every role in order (each to the previous one's output). `None` when nothing matched.
pub fn mask(roles: &[Role], text: &[u8], restore: &mut Restore) -> Option<Vec<u8>> {
    let mut current: Option<Vec<u8>> = None;
    for role in roles {
        let input = current.as_deref().unwrap_or(text);
        let found = role.pattern.matches(input);
        if found.is_empty() {
            continue;
        }
        let mut out = Vec::with_capacity(input.len());
        let mut last = 0;
        for (s, e) in found {
            out.extend_from_slice(&input[last..s]);
            let original = &input[s..e];
            let masked = match &role.replacement {
                Replacement::Value(v) => v.as_bytes().to_vec(),
                Replacement::Hash => hex_sha256(original).into_bytes(),
            };
            if role.restore {
                restore.insert(masked.clone(), original.to_vec());
            }
            out.extend_from_slice(&masked);
            last = e;
        }
        out.extend_from_slice(&input[last..]);
        current = Some(out);
    }
    current
}

/// [`mask`] on a string; the result is UTF-8 (a match that cut a character in two is repaired lossily).
pub fn mask_str(roles: &[Role], text: &str, restore: &mut Restore) -> Option<String> {
    mask(roles, text.as_bytes(), restore).map(into_string)
}

pub fn into_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

pub fn hex_sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        s.push(char::from_digit(u32::from(b & 15), 16).unwrap_or('0'));
    }
    s
}

/// Deny words, lower-cased (ASCII) at configure time; a word matches as an ASCII case-insensitive substring.
#[derive(Debug, Clone, Default)]
pub struct DenyWords {
    words: Vec<Vec<u8>>,
    longest: usize,
}

impl DenyWords {
    pub fn new(words: impl IntoIterator<Item = String>) -> DenyWords {
        let mut list: Vec<Vec<u8>> = Vec::new();
        for w in words {
            let w = w.to_ascii_lowercase().into_bytes();
            if !w.is_empty() && !list.contains(&w) {
                list.push(w);
            }
        }
        let longest = list.iter().map(Vec::len).max().unwrap_or(0);
        DenyWords {
            words: list,
            longest,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Length in bytes of the longest word (what a stream must remember to see a word cut in two).
    pub fn longest(&self) -> usize {
        self.longest
    }

    /// The first configured word found in `text`.
    pub fn find(&self, text: &[u8]) -> Option<&[u8]> {
        if self.words.is_empty() {
            return None;
        }
        let folded = text.to_ascii_lowercase();
        self.words
            .iter()
            .find(|w| memchr::memmem::find(&folded, w).is_some())
            .map(Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(p: &str, r: Replacement, restore: bool) -> Role {
        Role {
            pattern: Pattern::new(p).unwrap(),
            replacement: r,
            restore,
        }
    }

    #[test]
    fn replace_hash_and_restore() {
        let roles = vec![
            role(
                "%{EMAILADDRESS}",
                Replacement::Value("[email]".into()),
                true,
            ),
            role("%{APIKEY}", Replacement::Hash, true),
            role("%{IPV4}", Replacement::Value("*.*.*.*".into()), false),
        ];
        let mut r = Restore::default();
        let text = "mail a@b.io key sk-0123456789abcdefghijXYZ from 10.1.2.3 and c@d.io";
        let out = mask_str(&roles, text, &mut r).unwrap();
        let h = hex_sha256(b"sk-0123456789abcdefghijXYZ");
        assert_eq!(h.len(), 64);
        assert_eq!(
            out,
            format!("mail [email] key {h} from *.*.*.* and [email]")
        );
        // the last original masked to the same value wins; the ip is not remembered
        let back = into_string(r.restore(out.as_bytes()).unwrap());
        assert_eq!(
            back,
            "mail c@d.io key sk-0123456789abcdefghijXYZ from *.*.*.* and c@d.io"
        );
        assert!(mask_str(&roles, "nothing here", &mut r).is_none());
        assert!(r.restore(b"nothing here").is_none());
    }

    #[test]
    fn known_sha256() {
        assert_eq!(
            hex_sha256(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn holding_back_a_cut_value() {
        let mut r = Restore::default();
        r.insert(b"<K1>".to_vec(), b"secret-one".to_vec());
        r.insert(b"<K22>".to_vec(), b"two".to_vec());
        assert_eq!(
            r.restore_holding(b"hello <K"),
            (b"hello ".to_vec(), b"<K".to_vec())
        );
        assert_eq!(
            r.restore_holding(b"<K1> and <K2"),
            (b"secret-one and ".to_vec(), b"<K2".to_vec())
        );
        assert_eq!(
            r.restore_holding(b"<K22> x"),
            (b"two x".to_vec(), Vec::new())
        );
        // `<` then something that can no longer become a value is emitted
        assert_eq!(r.restore_holding(b"a <b"), (b"a <b".to_vec(), Vec::new()));
        let empty = Restore::default();
        assert_eq!(empty.restore_holding(b"<K"), (b"<K".to_vec(), Vec::new()));
    }

    #[test]
    fn deny_words_fold_ascii_case() {
        let d = DenyWords::new(["Secret".to_owned(), "机密".to_owned(), "".to_owned()]);
        assert_eq!(d.longest(), 6);
        assert_eq!(d.find(b"a SECRET plan"), Some(&b"secret"[..]));
        assert_eq!(d.find("这是机密".as_bytes()), Some("机密".as_bytes()));
        assert_eq!(d.find(b"secre t"), None);
        assert!(DenyWords::new(Vec::new()).find(b"x").is_none());
    }
}
