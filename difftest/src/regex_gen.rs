//! Generates patterns in the shared regex dialect (valid ones, near the limits, and invalid ones) together with
//! inputs that match them or nearly do. Used by the request-block generator and the native comparison.

use crate::prng::Rng;

#[derive(Clone, Debug)]
enum Node {
    /// One character, written raw (a multi-byte character is several literal bytes).
    Char(char),
    /// An escaped literal: the pattern text and the byte it stands for.
    Escaped(&'static str, u8),
    Dot,
    /// A class: its pattern text and bytes it matches.
    Class(String, Vec<u8>),
    /// `\d \D \w \W \s \S`.
    Short(char),
    Group(Box<Node>, bool),
    Alt(Vec<Node>),
    Cat(Vec<Node>),
    Rep(Box<Node>, u32, Option<u32>, String),
    Start,
    End,
}

const ESCAPES: &[(&str, u8)] = &[
    (r"\\", b'\\'),
    (r"\.", b'.'),
    (r"\*", b'*'),
    (r"\+", b'+'),
    (r"\?", b'?'),
    (r"\(", b'('),
    (r"\)", b')'),
    (r"\[", b'['),
    (r"\]", b']'),
    (r"\{", b'{'),
    (r"\}", b'}'),
    (r"\|", b'|'),
    (r"\^", b'^'),
    (r"\$", b'$'),
    (r"\/", b'/'),
    (r"\-", b'-'),
    (r"\n", b'\n'),
    (r"\t", b'\t'),
    (r"\r", b'\r'),
];

const CHARS: &[char] = &[
    'a', 'b', 'c', 'A', 'Z', '/', 'x', '0', '9', '_', '-', ' ', '%', '=', '&', ',', ':', '@', 'é',
    '日', '😀', '~', '\'', '"', '#', '<', '>', '!',
];

const CLASSES: &[(&str, &[u8])] = &[
    ("[abc]", b"abc"),
    ("[a-z]", b"amz"),
    ("[A-Z]", b"AMZ"),
    ("[a-z0-9_]", b"a0_"),
    ("[^/]", b"ax."),
    ("[^a]", b"bZ\n"),
    (r"[\d]", b"05"),
    (r"[\w-]", b"a-_"),
    (r"[-a]", b"-a"),
    (r"[a-]", b"a-"),
    (r"[\s,]", b" ,\t"),
    (r"[\]x]", b"]x"),
    (r"[\-]", b"-"),
    (r"[.?*]", b".?*"),
    ("[^^]", b"a"),
    ("[a^]", b"a^"),
    (r"[\n\t]", b"\n\t"),
    ("[é]", b"\xc3\xa9"),
    (r"[^\d\s]", b"a/"),
    ("[0-9a-fA-F]", b"0aF"),
    (r"[\.-\/]", b"./"),
];

/// Patterns outside the dialect or over its limits (each must be rejected by both SDKs).
pub const INVALID: &[&str] = &[
    r"\b",
    r"\B",
    r"\p{L}",
    r"\1",
    r"(?=a)",
    r"(?!a)",
    r"(?<=a)",
    r"(?i)a",
    r"(?P<n>a)",
    "(?<n>a)",
    "[]",
    "[^]",
    "[z-a]",
    "a**",
    "a+*",
    "a???",
    "a{2}{3}",
    "{,3}",
    "a{,3}",
    "a{1001}",
    "a{2,1}",
    "(",
    ")",
    "]",
    "}",
    "[",
    "[[:alpha:]]",
    "[a[b]",
    "^*",
    "$+",
    r"[\D]",
    r"[\W]",
    r"[\S]",
    r"[\d-z]",
    r"[a-\d]",
    "",
    "a{",
    "a{1",
    "a{1,",
    "a{x}",
    "a{ 1}",
    "*a",
    "+",
    "?",
    "|*",
    r"\",
    r"\x41",
    r"\u0041",
    r"\0",
    r"\a",
    r"\e",
    r"\f",
    r"\v",
    r"\Q",
    r"\z",
    r"\A",
    r"\G",
    "(?",
    "(?:",
    "(?#c)",
    "a{0,1001}",
    "(a{0,1000})",
    "(a{10}){101}",
    "a{1000}b{1000}",
];

fn depth_node(rng: &mut Rng, depth: u32) -> Node {
    let leaf = depth == 0 || rng.chance(45);
    if leaf {
        return match rng.below(12) {
            0..=4 => Node::Char(*rng.pick(CHARS)),
            5 => {
                let (t, b) = *rng.pick(ESCAPES);
                Node::Escaped(t, b)
            }
            6 => Node::Dot,
            7 | 8 => {
                let (t, s) = *rng.pick(CLASSES);
                Node::Class(t.to_string(), s.to_vec())
            }
            9 => Node::Short(*rng.pick(&['d', 'D', 'w', 'W', 's', 'S'])),
            10 => {
                // a word
                let w = *rng.pick(&["api", "admin", "php", "swagger.html", "v1", "Login", "日本"]);
                Node::Cat(w.chars().map(Node::Char).collect())
            }
            _ => {
                if rng.chance(50) {
                    Node::Start
                } else {
                    Node::End
                }
            }
        };
    }
    match rng.below(4) {
        0 => Node::Group(Box::new(depth_node(rng, depth - 1)), rng.chance(30)),
        1 => {
            let n = rng.range(2, 3);
            Node::Alt((0..n).map(|_| depth_node(rng, depth - 1)).collect())
        }
        2 => {
            let n = rng.range(2, 4);
            Node::Cat((0..n).map(|_| depth_node(rng, depth - 1)).collect())
        }
        _ => {
            let inner = depth_node(rng, depth - 1);
            let inner = match inner {
                // quantifiers need a single item; wrap the rest in a group
                Node::Cat(_) | Node::Alt(_) => Node::Group(Box::new(inner), rng.chance(50)),
                Node::Start | Node::End => Node::Char('a'),
                other => other,
            };
            let (min, max, text) = quantifier(rng);
            Node::Rep(Box::new(inner), min, max, text)
        }
    }
}

fn quantifier(rng: &mut Rng) -> (u32, Option<u32>, String) {
    let lazy = if rng.chance(15) { "?" } else { "" };
    let (min, max, t) = match rng.below(9) {
        0 => (0, None, "*".to_string()),
        1 => (1, None, "+".to_string()),
        2 => (0, Some(1), "?".to_string()),
        3 => {
            let n = rng.range(0, 4) as u32;
            (n, Some(n), format!("{{{n}}}"))
        }
        4 => {
            let n = rng.range(0, 3) as u32;
            (n, None, format!("{{{n},}}"))
        }
        5 => {
            let n = rng.range(0, 3) as u32;
            let m = n + rng.range(0, 4) as u32;
            (n, Some(m), format!("{{{n},{m}}}"))
        }
        6 => {
            // near the limits
            let n = *rng.pick(&[10u32, 100, 333, 499, 500, 999, 1000]);
            (n, Some(n), format!("{{{n}}}"))
        }
        7 => {
            let n = rng.range(0, 2) as u32;
            (n, Some(n), format!("{{00{n}}}"))
        }
        _ => {
            let m = *rng.pick(&[50u32, 200, 499, 500, 501, 998, 1000]);
            (1, Some(m), format!("{{1,{m}}}"))
        }
    };
    (min, max, format!("{t}{lazy}"))
}

fn render(node: &Node, out: &mut String) {
    match node {
        Node::Char(c) => out.push(*c),
        Node::Escaped(t, _) => out.push_str(t),
        Node::Dot => out.push('.'),
        Node::Class(t, _) => out.push_str(t),
        Node::Short(c) => {
            out.push('\\');
            out.push(*c);
        }
        Node::Group(inner, noncap) => {
            out.push_str(if *noncap { "(?:" } else { "(" });
            render(inner, out);
            out.push(')');
        }
        Node::Alt(items) => {
            for (i, n) in items.iter().enumerate() {
                if i > 0 {
                    out.push('|');
                }
                render(n, out);
            }
        }
        Node::Cat(items) => {
            for n in items {
                // an alternation inside a concatenation needs a group
                if matches!(n, Node::Alt(_)) {
                    out.push_str("(?:");
                    render(n, out);
                    out.push(')');
                } else {
                    render(n, out);
                }
            }
        }
        Node::Rep(inner, _, _, q) => {
            render(inner, out);
            out.push_str(q);
        }
        Node::Start => out.push('^'),
        Node::End => out.push('$'),
    }
}

fn sample(node: &Node, rng: &mut Rng, out: &mut Vec<u8>) {
    match node {
        Node::Char(c) => {
            let mut b = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
        }
        Node::Escaped(_, b) => out.push(*b),
        Node::Dot => out.push(*rng.pick(b"aZ0/.-_ %\t\x7f")),
        Node::Class(_, bytes) => out.push(*rng.pick(bytes)),
        Node::Short(c) => out.push(match c {
            'd' => *rng.pick(b"0123456789"),
            'D' => *rng.pick(b"aZ/-"),
            'w' => *rng.pick(b"aZ09_"),
            'W' => *rng.pick(b"-/ ."),
            's' => *rng.pick(b" \t\n\r\x0b\x0c"),
            _ => *rng.pick(b"ax/"),
        }),
        Node::Group(inner, _) => sample(inner, rng, out),
        Node::Alt(items) => sample(rng.pick(items), rng, out),
        Node::Cat(items) => items.iter().for_each(|n| sample(n, rng, out)),
        Node::Rep(inner, min, max, _) => {
            let hi = max.unwrap_or(min + 3).min(min + 4);
            let n = rng.range(*min as usize, hi as usize);
            if let Node::Char(c) = **inner {
                // a quantifier after a multi-byte character repeats its last byte only
                let mut b = [0u8; 4];
                let bytes = c.encode_utf8(&mut b).as_bytes().to_vec();
                out.extend_from_slice(&bytes[..bytes.len() - 1]);
                for _ in 0..n {
                    out.push(bytes[bytes.len() - 1]);
                }
            } else {
                for _ in 0..n {
                    sample(inner, rng, out);
                }
            }
        }
        Node::Start | Node::End => {}
    }
}

/// A generated pattern and inputs to try it on.
#[derive(Clone, Debug)]
pub struct Generated {
    pub pattern: String,
    /// Inputs that match or nearly match (bytes; not always UTF-8).
    pub inputs: Vec<Vec<u8>>,
}

/// One pattern: mostly valid, sometimes an invalid construct alone or spliced into a valid one.
pub fn pattern(rng: &mut Rng, allow_invalid: bool) -> Generated {
    let depth = rng.range(1, 4) as u32;
    let node = depth_node(rng, depth);
    let mut p = String::new();
    render(&node, &mut p);
    let mut inputs = Vec::new();
    for _ in 0..4 {
        let mut s = Vec::new();
        sample(&node, rng, &mut s);
        inputs.push(s);
    }
    if allow_invalid && rng.chance(25) {
        let bad = *rng.pick(INVALID);
        if rng.chance(40) || p.is_empty() {
            p = bad.to_string();
        } else {
            let cuts: Vec<usize> = (0..=p.len()).filter(|i| p.is_char_boundary(*i)).collect();
            let at = *rng.pick(&cuts);
            p.insert_str(at, bad);
        }
    }
    if p.is_empty() && rng.chance(50) {
        p.push('a');
    }
    let near: Vec<Vec<u8>> = inputs.iter().map(|s| mutate_input(s, rng)).collect();
    inputs.extend(near);
    inputs.push(Vec::new());
    Generated { pattern: p, inputs }
}

/// A near miss: one byte inserted, deleted, changed, or the ASCII case flipped.
pub fn mutate_input(s: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut v = s.to_vec();
    match rng.below(5) {
        0 if !v.is_empty() => {
            let i = rng.below(v.len());
            v.remove(i);
        }
        1 => {
            let i = rng.below(v.len() + 1);
            v.insert(i, *rng.pick(b"a/\n.-Z0\xc3\xff "));
        }
        2 if !v.is_empty() => {
            let i = rng.below(v.len());
            v[i] = *rng.pick(b"bA9\n/");
        }
        _ => {
            for b in v.iter_mut() {
                if b.is_ascii_alphabetic() && rng.chance(50) {
                    *b ^= 0x20;
                }
            }
        }
    }
    v
}
