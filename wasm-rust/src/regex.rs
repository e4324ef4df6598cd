//! The regex dialect shared with the C++ SDK (see `wasm-rust/README.md`, "Regex dialect").
//!
//! A pattern is first parsed by our own strict parser, which rejects everything outside the dialect and
//! enforces the size limits; the parsed tree is then re-emitted in `regex` crate syntax where every byte is an
//! explicit `\xHH` (so the `regex` crate's own syntax rules never decide anything) and compiled as a byte regex
//! without Unicode, anchored for a full match. Case-insensitive matching is done here too, by folding ASCII
//! letters into byte sets before negation, so the semantics are exactly those written in the README.

use std::fmt;

/// Longest accepted pattern, in bytes.
pub const MAX_PATTERN_LEN: usize = 4096;
/// Deepest accepted group nesting.
pub const MAX_NESTING: usize = 64;
/// Largest bound of a counted repetition `{n,m}`.
pub const MAX_REPEAT: u32 = 1000;
/// Largest accepted pattern cost (see the README for how the cost is counted).
pub const MAX_COST: u64 = 1_000;

/// Why a pattern was rejected; `offset` is the byte offset in the pattern where the problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegexError {
    pub offset: usize,
    pub reason: String,
}

impl fmt::Display for RegexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid regex: {} (at byte {})",
            self.reason, self.offset
        )
    }
}

impl std::error::Error for RegexError {}

/// A compiled dialect pattern that matches whole inputs only.
#[derive(Debug, Clone)]
pub struct Regex {
    inner: ::regex::bytes::Regex,
    pattern: String,
    case_insensitive: bool,
}

impl Regex {
    /// Parses `pattern` in the dialect; `case_insensitive` folds ASCII letters only.
    pub fn new(pattern: &str, case_insensitive: bool) -> Result<Regex, RegexError> {
        let node = parse(pattern.as_bytes())?;
        let mut out = String::with_capacity(pattern.len() * 4 + 8);
        out.push_str("\\A(?:");
        emit(&node, case_insensitive, &mut out);
        out.push_str(")\\z");
        let inner = ::regex::bytes::RegexBuilder::new(&out)
            .unicode(false)
            .nest_limit(4 * MAX_NESTING as u32 + 16)
            .size_limit(64 << 20)
            .dfa_size_limit(1 << 20)
            .build()
            .map_err(|e| RegexError {
                offset: 0,
                reason: format!("pattern too large to compile ({e})"),
            })?;
        Ok(Regex {
            inner,
            pattern: pattern.to_owned(),
            case_insensitive,
        })
    }

    /// True when the whole of `input` matches the pattern.
    pub fn is_full_match(&self, input: &[u8]) -> bool {
        self.inner.is_match(input)
    }

    /// The pattern as given.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    pub fn is_case_insensitive(&self) -> bool {
        self.case_insensitive
    }
}

/// Checks a pattern against the dialect and limits without compiling it.
pub fn validate(pattern: &str) -> Result<(), RegexError> {
    parse(pattern.as_bytes()).map(|_| ())
}

// ---------------------------------------------------------------------------------------------------------
// Parse tree

#[derive(Clone, Copy, PartialEq, Eq)]
struct ByteSet([u64; 4]);

impl ByteSet {
    const EMPTY: ByteSet = ByteSet([0; 4]);
    fn insert(&mut self, b: u8) {
        self.0[(b >> 6) as usize] |= 1u64 << (b & 63);
    }
    fn insert_range(&mut self, lo: u8, hi: u8) {
        for b in lo..=hi {
            self.insert(b);
        }
    }
    fn contains(&self, b: u8) -> bool {
        self.0[(b >> 6) as usize] & (1u64 << (b & 63)) != 0
    }
    fn union(&mut self, other: &ByteSet) {
        for i in 0..4 {
            self.0[i] |= other.0[i];
        }
    }
    fn negate(&mut self) {
        for w in &mut self.0 {
            *w = !*w;
        }
    }
    fn fold_ascii(&mut self) {
        for b in b'a'..=b'z' {
            let u = b.to_ascii_uppercase();
            if self.contains(b) || self.contains(u) {
                self.insert(b);
                self.insert(u);
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Shorthand {
    Digit,
    Word,
    Space,
}

impl Shorthand {
    fn set(self) -> ByteSet {
        let mut s = ByteSet::EMPTY;
        match self {
            Shorthand::Digit => s.insert_range(b'0', b'9'),
            Shorthand::Word => {
                s.insert_range(b'0', b'9');
                s.insert_range(b'A', b'Z');
                s.insert_range(b'a', b'z');
                s.insert(b'_');
            }
            // \t \n \v \f \r and space
            Shorthand::Space => {
                s.insert_range(0x09, 0x0D);
                s.insert(b' ');
            }
        }
        s
    }
}

enum Node {
    Empty,
    Byte(u8),
    /// A byte set; `negated` is applied after case folding.
    Set {
        set: ByteSet,
        negated: bool,
    },
    Start,
    End,
    Concat(Vec<Node>),
    Alt(Vec<Node>),
    Repeat {
        node: Box<Node>,
        min: u32,
        max: Option<u32>,
    },
}

// ---------------------------------------------------------------------------------------------------------
// Parser

struct Parser<'a> {
    p: &'a [u8],
    pos: usize,
    depth: usize,
}

fn err<T>(offset: usize, reason: impl Into<String>) -> Result<T, RegexError> {
    Err(RegexError {
        offset,
        reason: reason.into(),
    })
}

fn show(b: u8) -> String {
    if b.is_ascii_graphic() {
        (b as char).to_string()
    } else {
        format!("\\x{b:02X}")
    }
}

fn parse(p: &[u8]) -> Result<Node, RegexError> {
    if p.is_empty() {
        return err(0, "empty pattern");
    }
    if p.len() > MAX_PATTERN_LEN {
        return err(
            MAX_PATTERN_LEN,
            format!("pattern longer than {MAX_PATTERN_LEN} bytes"),
        );
    }
    let mut parser = Parser {
        p,
        pos: 0,
        depth: 0,
    };
    let node = parser.alternation()?;
    if parser.pos < p.len() {
        // only an unmatched `)` stops the top-level alternation early
        return err(parser.pos, "unmatched `)`");
    }
    let c = cost(&node);
    if c > MAX_COST {
        return err(
            0,
            format!("pattern too complex (cost {c} is over {MAX_COST})"),
        );
    }
    Ok(node)
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.p.get(self.pos).copied()
    }

    fn alternation(&mut self) -> Result<Node, RegexError> {
        let mut branches = vec![self.concat()?];
        while self.peek() == Some(b'|') {
            self.pos += 1;
            branches.push(self.concat()?);
        }
        Ok(if branches.len() == 1 {
            branches.pop().unwrap_or(Node::Empty)
        } else {
            Node::Alt(branches)
        })
    }

    fn concat(&mut self) -> Result<Node, RegexError> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            if c == b'|' || c == b')' {
                break;
            }
            let atom_at = self.pos;
            let atom = self.atom()?;
            let item = self.quantified(atom, atom_at)?;
            items.push(item);
        }
        Ok(match items.len() {
            0 => Node::Empty,
            1 => items.pop().unwrap_or(Node::Empty),
            _ => Node::Concat(items),
        })
    }

    fn atom(&mut self) -> Result<Node, RegexError> {
        let at = self.pos;
        let Some(c) = self.peek() else {
            return err(at, "unexpected end of pattern");
        };
        self.pos += 1;
        match c {
            b'(' => {
                if self.peek() == Some(b'?') {
                    if self.p.get(self.pos + 1) == Some(&b':') {
                        self.pos += 2;
                    } else {
                        return err(at, "unsupported group syntax `(?` (only `(?:` is allowed)");
                    }
                }
                self.depth += 1;
                if self.depth > MAX_NESTING {
                    return err(at, format!("groups nested deeper than {MAX_NESTING}"));
                }
                let inner = self.alternation()?;
                if self.peek() != Some(b')') {
                    return err(at, "unclosed group");
                }
                self.pos += 1;
                self.depth -= 1;
                Ok(inner)
            }
            b'[' => self.class(at),
            b'.' => {
                let mut set = ByteSet::EMPTY;
                set.insert(b'\n');
                Ok(Node::Set { set, negated: true })
            }
            b'^' => Ok(Node::Start),
            b'$' => Ok(Node::End),
            b'\\' => match self.escape(at, false)? {
                Escaped::Byte(b) => Ok(Node::Byte(b)),
                Escaped::Class(sh, negated) => Ok(Node::Set {
                    set: sh.set(),
                    negated,
                }),
            },
            b'*' | b'+' | b'?' | b'{' => err(
                at,
                format!("quantifier `{}` without a preceding item", c as char),
            ),
            b']' | b'}' => err(
                at,
                format!("unescaped `{}` (write `\\{}`)", c as char, c as char),
            ),
            _ => Ok(Node::Byte(c)),
        }
    }

    fn quantified(&mut self, atom: Node, atom_at: usize) -> Result<Node, RegexError> {
        let (min, max) = match self.peek() {
            Some(b'*') => (0, None),
            Some(b'+') => (1, None),
            Some(b'?') => (0, Some(1)),
            Some(b'{') => {
                let (min, max, end) = self.counted()?;
                self.pos = end - 1; // the `+= 1` below moves past `}`
                (min, max)
            }
            _ => return Ok(atom),
        };
        self.pos += 1;
        if matches!(atom, Node::Start | Node::End) {
            return err(atom_at, "an anchor cannot be repeated");
        }
        if self.peek() == Some(b'?') {
            self.pos += 1; // lazy form: same result under a full match
        }
        if let Some(c @ (b'*' | b'+' | b'?' | b'{')) = self.peek() {
            return err(
                self.pos,
                format!("quantifier `{}` follows another quantifier", c as char),
            );
        }
        Ok(Node::Repeat {
            node: Box::new(atom),
            min,
            max,
        })
    }

    /// Parses `{n}`, `{n,}` or `{n,m}` at `self.pos`; returns (min, max, offset just after `}`).
    fn counted(&self) -> Result<(u32, Option<u32>, usize), RegexError> {
        let at = self.pos;
        let bad = || {
            err(
                at,
                "invalid counted repetition (expected `{n}`, `{n,}` or `{n,m}`)",
            )
        };
        let mut i = at + 1;
        let number = |i: &mut usize| -> Result<Option<u32>, RegexError> {
            let start = *i;
            let mut v: u64 = 0;
            while let Some(d) = self.p.get(*i).filter(|d| d.is_ascii_digit()) {
                v = (v * 10 + u64::from(d - b'0')).min(u64::from(u32::MAX));
                *i += 1;
            }
            if *i == start {
                return Ok(None);
            }
            if v > u64::from(MAX_REPEAT) {
                return err(start, format!("repetition bound {v} is over {MAX_REPEAT}"));
            }
            Ok(Some(v as u32))
        };
        let Some(min) = number(&mut i)? else {
            return bad();
        };
        let max = match self.p.get(i) {
            Some(b'}') => Some(min),
            Some(b',') => {
                i += 1;
                let max = number(&mut i)?;
                if self.p.get(i) != Some(&b'}') {
                    return bad();
                }
                max
            }
            _ => return bad(),
        };
        if let Some(max) = max {
            if max < min {
                return err(
                    at,
                    format!("invalid counted repetition {{{min},{max}}} (min is over max)"),
                );
            }
        }
        Ok((min, max, i + 1))
    }

    /// Parses the escape after a `\` (already consumed, `at` points to it).
    fn escape(&mut self, at: usize, in_class: bool) -> Result<Escaped, RegexError> {
        let Some(c) = self.peek() else {
            return err(at, "trailing backslash");
        };
        self.pos += 1;
        Ok(match c {
            b'\\' | b'.' | b'*' | b'+' | b'?' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'|'
            | b'^' | b'$' | b'/' | b'-' => Escaped::Byte(c),
            b'n' => Escaped::Byte(b'\n'),
            b't' => Escaped::Byte(b'\t'),
            b'r' => Escaped::Byte(b'\r'),
            b'd' => Escaped::Class(Shorthand::Digit, false),
            b'w' => Escaped::Class(Shorthand::Word, false),
            b's' => Escaped::Class(Shorthand::Space, false),
            b'D' | b'W' | b'S' if in_class => {
                return err(
                    at,
                    format!("`\\{}` is not allowed inside a class", c as char),
                );
            }
            b'D' => Escaped::Class(Shorthand::Digit, true),
            b'W' => Escaped::Class(Shorthand::Word, true),
            b'S' => Escaped::Class(Shorthand::Space, true),
            _ => return err(at, format!("unsupported escape `\\{}`", show(c))),
        })
    }

    /// Parses a class; `at` points to its `[` (already consumed).
    fn class(&mut self, at: usize) -> Result<Node, RegexError> {
        let negated = self.peek() == Some(b'^');
        if negated {
            self.pos += 1;
        }
        let mut set = ByteSet::EMPTY;
        let mut first = true;
        loop {
            let item_at = self.pos;
            let Some(c) = self.peek() else {
                return err(at, "unclosed class");
            };
            self.pos += 1;
            let lo = match c {
                b']' if first => return err(at, "empty class (write `\\]` for a literal `]`)"),
                b']' => break,
                b'[' => return err(item_at, "unescaped `[` inside a class (write `\\[`)"),
                b'-' if !first && self.peek() != Some(b']') => {
                    return err(
                        item_at,
                        "`-` must be first or last in a class, or escaped as `\\-`",
                    );
                }
                b'\\' => match self.escape(item_at, true)? {
                    Escaped::Byte(b) => b,
                    Escaped::Class(sh, _) => {
                        set.union(&sh.set());
                        if self.peek() == Some(b'-')
                            && self.p.get(self.pos + 1).is_some_and(|&n| n != b']')
                        {
                            return err(item_at, "a class shorthand cannot start a range");
                        }
                        first = false;
                        continue;
                    }
                },
                _ => c,
            };
            first = false;
            // a range `lo-hi`, unless the `-` is the last thing in the class
            if self.peek() == Some(b'-') && self.p.get(self.pos + 1).is_some_and(|&n| n != b']') {
                self.pos += 1;
                let hi_at = self.pos;
                let Some(h) = self.peek() else {
                    return err(at, "unclosed class");
                };
                self.pos += 1;
                let hi = match h {
                    b'[' => return err(hi_at, "unescaped `[` inside a class (write `\\[`)"),
                    b'\\' => match self.escape(hi_at, true)? {
                        Escaped::Byte(b) => b,
                        Escaped::Class(..) => {
                            return err(hi_at, "a class shorthand cannot end a range")
                        }
                    },
                    _ => h,
                };
                if hi < lo {
                    return err(
                        item_at,
                        format!("invalid class range `{}-{}`", show(lo), show(hi)),
                    );
                }
                set.insert_range(lo, hi);
            } else {
                set.insert(lo);
            }
        }
        Ok(Node::Set { set, negated })
    }
}

enum Escaped {
    Byte(u8),
    Class(Shorthand, bool),
}

/// The pattern cost bounded by [`MAX_COST`] (README: "Limits").
fn cost(node: &Node) -> u64 {
    match node {
        Node::Empty => 0,
        Node::Byte(_) | Node::Set { .. } | Node::Start | Node::End => 1,
        Node::Concat(items) => items.iter().map(cost).fold(0u64, u64::saturating_add),
        Node::Alt(items) => items
            .iter()
            .map(cost)
            .fold(0u64, u64::saturating_add)
            .saturating_add(items.len() as u64 - 1),
        Node::Repeat { node, min, max } => {
            let c = cost(node);
            let n = u64::from(*min);
            match max {
                // `e*`, `e+`, `e?`
                None if n <= 1 => c.saturating_add(1),
                Some(1) if n == 0 => c.saturating_add(1),
                // `e{n,}`: n copies and a star
                None => n.saturating_mul(c).saturating_add(c).saturating_add(1),
                // `e{n,m}` (and `e{n}` with m = n): m copies, m - n of them optional
                Some(m) => {
                    let m = u64::from(*m);
                    m.saturating_mul(c).saturating_add(m - n)
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Emission in `regex` crate syntax

fn emit_set(mut set: ByteSet, negated: bool, fold: bool, out: &mut String) {
    if fold {
        set.fold_ascii();
    }
    if negated {
        set.negate();
    }
    if set == ByteSet::EMPTY {
        out.push_str("[^\\x00-\\xFF]");
        return;
    }
    out.push('[');
    let mut b: u32 = 0;
    while b < 256 {
        if set.contains(b as u8) {
            let lo = b;
            while b + 1 < 256 && set.contains((b + 1) as u8) {
                b += 1;
            }
            if lo == b {
                out.push_str(&format!("\\x{lo:02X}"));
            } else {
                out.push_str(&format!("\\x{lo:02X}-\\x{b:02X}"));
            }
        }
        b += 1;
    }
    out.push(']');
}

fn emit(node: &Node, fold: bool, out: &mut String) {
    match node {
        Node::Empty => {}
        Node::Byte(b) => {
            if fold && b.is_ascii_alphabetic() {
                let mut set = ByteSet::EMPTY;
                set.insert(*b);
                emit_set(set, false, true, out);
            } else {
                out.push_str(&format!("\\x{b:02X}"));
            }
        }
        Node::Set { set, negated } => emit_set(*set, *negated, fold, out),
        Node::Start => out.push_str("\\A"),
        Node::End => out.push_str("\\z"),
        Node::Concat(items) => {
            for item in items {
                emit(item, fold, out);
            }
        }
        Node::Alt(items) => {
            out.push_str("(?:");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push('|');
                }
                emit(item, fold, out);
            }
            out.push(')');
        }
        Node::Repeat { node, min, max } => {
            out.push_str("(?:");
            emit(node, fold, out);
            out.push(')');
            match (min, max) {
                (0, None) => out.push('*'),
                (1, None) => out.push('+'),
                (n, None) => out.push_str(&format!("{{{n},}}")),
                (n, Some(m)) => out.push_str(&format!("{{{n},{m}}}")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_match_only() {
        let re = Regex::new("/api/.*", false).unwrap();
        assert!(re.is_full_match(b"/api/x"));
        assert!(!re.is_full_match(b"/v1/api/x"));
        assert!(!Regex::new("api", false).unwrap().is_full_match(b"/api/"));
    }

    #[test]
    fn error_offsets_point_at_the_problem() {
        let e = Regex::new("ab\\bc", false).unwrap_err();
        assert_eq!(e.offset, 2);
        assert!(e.to_string().contains("unsupported escape `\\b`"), "{e}");
        let e = Regex::new("a(?=b)", false).unwrap_err();
        assert_eq!(e.offset, 1);
    }

    #[test]
    fn cost_limit_is_a_config_error_not_a_trap() {
        let e = Regex::new("(?:a{1000}){2}", false).unwrap_err();
        assert!(
            e.reason.contains("too complex (cost 2000 is over 1000)"),
            "{e}"
        );
        // at the limit: compiles and runs
        let re = Regex::new("(?:(?:[^a]|b){333}){1,1}", false).unwrap();
        assert_eq!(cost(&parse(b"(?:(?:[^a]|b){333}){1,1}").unwrap()), 999);
        assert!(re.is_full_match(&[b'x'; 333]));
        assert!(!re.is_full_match(&[b'x'; 332]));
        let costs = [
            ("abc", 3),
            ("a|bc", 4),
            ("(a|b|c)", 5),
            ("a*", 2),
            ("a+?", 2),
            ("(ab)?", 3),
            ("a{5}", 5),
            ("(ab){0,3}", 9),
            ("a{2,}", 4),
            ("a{0,}", 2),
            ("(ab){1,}", 3),
            ("a?", 2),
            ("a{0}", 0),
            ("a{3,3}", 3),
            ("(ab){2,}", 7),
            ("^$", 2),
            ("()", 0),
            ("[a-z]{1000}", 1000),
        ];
        for (p, c) in costs {
            assert_eq!(cost(&parse(p.as_bytes()).unwrap()), c, "{p}");
        }
    }

    #[test]
    fn too_long_and_too_deep() {
        assert!(Regex::new(&"a".repeat(MAX_PATTERN_LEN + 1), false).is_err());
        assert!(Regex::new(&"()".repeat(MAX_PATTERN_LEN / 2), false).is_ok());
        let e = Regex::new(&"()".repeat(MAX_PATTERN_LEN / 2 + 1), false).unwrap_err();
        assert!(e.reason.contains("longer than 4096"), "{e}");
        let deep = format!("{}a{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        assert!(Regex::new(&deep, false).is_ok());
        let deeper = format!(
            "{}a{}",
            "(".repeat(MAX_NESTING + 1),
            ")".repeat(MAX_NESTING + 1)
        );
        assert!(Regex::new(&deeper, false)
            .unwrap_err()
            .reason
            .contains("nested deeper"));
    }
}
