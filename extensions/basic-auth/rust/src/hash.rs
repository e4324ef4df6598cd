//! Password checks for `encrypted: true` credentials: `{PLAIN}`, `{SHA}`, `{SSHA}`, `$apr1$`/`$1$`
//! (MD5-crypt) and bcrypt `$2a$`/`$2b$`/`$2y$`. Formats are parsed (and rejected) at configure time.

use blowfish::Blowfish;
use md5::{Digest as _, Md5};
use sha1::Sha1;

use pwsdk::auth::{base64_decode, constant_time_eq};

/// Highest accepted bcrypt cost: each step doubles the work, and the check runs on every request.
pub const MAX_BCRYPT_COST: u32 = 10;
const MIN_BCRYPT_COST: u32 = 4;

/// `./0-9A-Za-z`, the crypt(3) alphabet (MD5-crypt).
const CRYPT64: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// `./A-Za-z0-9`, bcrypt's alphabet.
const BCRYPT64: &[u8; 64] = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A stored password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Password {
    Plain(Vec<u8>),
    /// SHA-1 digest.
    Sha(Vec<u8>),
    /// SHA-1 digest of password + salt, and the salt.
    Ssha {
        digest: Vec<u8>,
        salt: Vec<u8>,
    },
    /// `$apr1$` or `$1$` with up to 8 salt characters; `hash` is the 22-character tail.
    Md5Crypt {
        magic: &'static str,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    /// bcrypt: cost, 16 salt bytes, the 31-character hash tail.
    Bcrypt {
        cost: u32,
        salt: [u8; 16],
        hash: Vec<u8>,
    },
}

impl Password {
    /// Parses a hashed password (`encrypted: true`).
    pub fn parse_hashed(s: &str) -> Result<Password, String> {
        if let Some(pw) = s.strip_prefix("{PLAIN}") {
            return Ok(Password::Plain(pw.as_bytes().to_vec()));
        }
        if let Some(b64) = s.strip_prefix("{SHA}") {
            return match base64_decode(b64.as_bytes()) {
                Some(d) if d.len() == 20 => Ok(Password::Sha(d)),
                _ => {
                    Err("{SHA} must be followed by the base64 of a 20-byte SHA-1 digest".to_owned())
                }
            };
        }
        if let Some(b64) = s.strip_prefix("{SSHA}") {
            return match base64_decode(b64.as_bytes()) {
                Some(d) if d.len() > 20 => Ok(Password::Ssha {
                    salt: d[20..].to_vec(),
                    digest: d[..20].to_vec(),
                }),
                _ => Err("{SSHA} must be followed by the base64 of a SHA-1 digest and a salt of at least one byte"
                    .to_owned()),
            };
        }
        for magic in ["$apr1$", "$1$"] {
            if let Some(rest) = s.strip_prefix(magic) {
                let (salt, hash) = rest
                    .split_once('$')
                    .ok_or_else(|| format!("{magic} hash must be {magic}<salt>$<22 characters>"))?;
                if salt.is_empty() || salt.len() > 8 || !salt.bytes().all(|b| CRYPT64.contains(&b))
                {
                    return Err(format!(
                        "{magic} salt must be 1 to 8 characters of ./0-9A-Za-z"
                    ));
                }
                if hash.len() != 22 || !hash.bytes().all(|b| CRYPT64.contains(&b)) {
                    return Err(format!(
                        "{magic} hash must end with 22 characters of ./0-9A-Za-z"
                    ));
                }
                return Ok(Password::Md5Crypt {
                    magic,
                    salt: salt.as_bytes().to_vec(),
                    hash: hash.as_bytes().to_vec(),
                });
            }
        }
        if s.starts_with("$2") {
            return parse_bcrypt(s);
        }
        Err("unsupported password hash: use {PLAIN}, {SHA}, {SSHA}, $apr1$, $1$ or bcrypt ($2a$, $2b$, $2y$)"
            .to_owned())
    }

    pub fn verify(&self, password: &[u8]) -> bool {
        match self {
            Password::Plain(p) => constant_time_eq(p, password),
            Password::Sha(d) => constant_time_eq(d, &Sha1::digest(password)),
            Password::Ssha { digest, salt } => {
                let mut h = Sha1::new();
                h.update(password);
                h.update(salt);
                constant_time_eq(digest, &h.finalize())
            }
            Password::Md5Crypt { magic, salt, hash } => {
                constant_time_eq(hash, &md5_crypt(password, magic.as_bytes(), salt))
            }
            Password::Bcrypt { cost, salt, hash } => {
                constant_time_eq(hash, &bcrypt(*cost, salt, password))
            }
        }
    }
}

fn parse_bcrypt(s: &str) -> Result<Password, String> {
    let b = s.as_bytes();
    let version_ok = matches!(b.get(..4), Some(b"$2a$" | b"$2b$" | b"$2y$"));
    if !version_ok || b.len() != 60 || b[6] != b'$' {
        return Err(
            "bcrypt hash must be $2a$, $2b$ or $2y$, a 2-digit cost, $ and 53 characters"
                .to_owned(),
        );
    }
    let cost = std::str::from_utf8(&b[4..6])
        .ok()
        .filter(|c| c.bytes().all(|d| d.is_ascii_digit()))
        .and_then(|c| c.parse::<u32>().ok())
        .ok_or("bcrypt cost must be two digits")?;
    if !(MIN_BCRYPT_COST..=MAX_BCRYPT_COST).contains(&cost) {
        return Err(format!(
            "bcrypt cost {cost} is outside {MIN_BCRYPT_COST}..={MAX_BCRYPT_COST} (every request pays for it)"
        ));
    }
    let tail = &b[7..];
    if !tail.iter().all(|c| BCRYPT64.contains(c)) {
        return Err("bcrypt salt and hash must be characters of ./A-Za-z0-9".to_owned());
    }
    let decoded = decode64(BCRYPT64, &tail[..22]);
    let mut salt = [0u8; 16];
    salt.copy_from_slice(&decoded[..16]);
    Ok(Password::Bcrypt {
        cost,
        salt,
        hash: tail[22..].to_vec(),
    })
}

/// bcrypt's decoding: 6 bits per character, most significant bits first, no padding (input pre-validated).
fn decode64(alphabet: &[u8; 64], s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in s {
        let v = alphabet.iter().position(|a| a == c).unwrap_or(0) as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// bcrypt's encoding: bytes most significant bits first, 6 bits per character, no padding.
fn encode64(alphabet: &[u8; 64], bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 6 {
            bits -= 6;
            out.push(alphabet[((acc >> bits) & 63) as usize]);
        }
    }
    if bits > 0 {
        out.push(alphabet[((acc << (6 - bits)) & 63) as usize]);
    }
    out
}

/// The 31-character bcrypt hash of `password` (bytes + NUL, cut to 72 bytes).
pub fn bcrypt(cost: u32, salt: &[u8; 16], password: &[u8]) -> Vec<u8> {
    let mut key: Vec<u8> = password.iter().copied().take(72).collect();
    if key.len() < 72 {
        key.push(0);
    }
    let mut state: Blowfish = Blowfish::bc_init_state();
    state.salted_expand_key(salt, &key);
    for _ in 0..(1u64 << cost) {
        state.bc_expand_key(&key);
        state.bc_expand_key(salt);
    }
    let magic = b"OrpheanBeholderScryDoubt";
    let mut words = [0u32; 6];
    for (i, w) in words.iter_mut().enumerate() {
        *w = u32::from_be_bytes([
            magic[4 * i],
            magic[4 * i + 1],
            magic[4 * i + 2],
            magic[4 * i + 3],
        ]);
    }
    for pair in words.chunks_mut(2) {
        for _ in 0..64 {
            let [l, r] = state.bc_encrypt([pair[0], pair[1]]);
            pair[0] = l;
            pair[1] = r;
        }
    }
    let mut out = Vec::with_capacity(24);
    for w in words {
        out.extend_from_slice(&w.to_be_bytes());
    }
    encode64(BCRYPT64, &out[..23])
}

/// The 22-character MD5-crypt hash (`$1$`, Apache's `$apr1$`: same algorithm, different magic).
pub fn md5_crypt(password: &[u8], magic: &[u8], salt: &[u8]) -> Vec<u8> {
    let alt = {
        let mut h = Md5::new();
        h.update(password);
        h.update(salt);
        h.update(password);
        h.finalize()
    };
    let mut h = Md5::new();
    h.update(password);
    h.update(magic);
    h.update(salt);
    let mut i = password.len();
    while i > 0 {
        h.update(&alt[..i.min(16)]);
        i = i.saturating_sub(16);
    }
    let mut i = password.len();
    while i != 0 {
        if i & 1 == 1 {
            h.update([0u8]);
        } else {
            h.update(&password[..1]);
        }
        i >>= 1;
    }
    let mut fin = h.finalize();
    for round in 0..1000 {
        let mut h = Md5::new();
        if round & 1 == 1 {
            h.update(password);
        } else {
            h.update(fin);
        }
        if round % 3 != 0 {
            h.update(salt);
        }
        if round % 7 != 0 {
            h.update(password);
        }
        if round & 1 == 1 {
            h.update(fin);
        } else {
            h.update(password);
        }
        fin = h.finalize();
    }
    let f = fin;
    let mut out = Vec::with_capacity(22);
    let mut put = |v: u32, n: usize| {
        let mut v = v;
        for _ in 0..n {
            out.push(CRYPT64[(v & 63) as usize]);
            v >>= 6;
        }
    };
    let g = |a: usize, b: usize, c: usize| {
        (u32::from(f[a]) << 16) | (u32::from(f[b]) << 8) | u32::from(f[c])
    };
    put(g(0, 6, 12), 4);
    put(g(1, 7, 13), 4);
    put(g(2, 8, 14), 4);
    put(g(3, 9, 15), 4);
    put(g(4, 10, 5), 4);
    put(u32::from(f[11]), 2);
    out
}
