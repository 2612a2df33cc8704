//! Key material: generation, the wire format, lookup hashes and display hints.
//!
//! Rules:
//! - Format: `ace_<env>_<secret><checksum>`; `env` is `live` or `test`, the
//!   secret is 32 base62 characters from the OS CSPRNG (≈190 bits, above the
//!   160-bit floor), the checksum is the CRC32 of everything before it as 6
//!   base62 characters (the GitHub token scheme). A typo or random string is
//!   rejected by [`parse`] before anything touches a store.
//! - The raw key ([`RawKey`]) exists only in memory: its `Debug` is redacted,
//!   it has no `Display`/`Serialize`, it is zeroized on drop and compared in
//!   constant time. Only the one-time mint/rotate response exposes it.
//! - What is stored is [`KeyHash`] = HMAC-SHA256(pepper, raw key) and a
//!   [`KeyHint`] (`ace_live_aBcD…wXyZ`).

pub(crate) mod base62;
mod format;
mod pepper;

use std::fmt;

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

pub use format::{
    generate, parse, Generated, ParseError, ParsedKey, CHECKSUM_LEN, KEY_PREFIX, SECRET_LEN,
};
pub use pepper::{Pepper, PepperError, PEPPER_FILE};

/// The environment a key belongs to. A server runs in exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Env {
    Live,
    Test,
}

impl Env {
    pub fn as_str(self) -> &'static str {
        match self {
            Env::Live => "live",
            Env::Test => "test",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "live" => Some(Env::Live),
            "test" => Some(Env::Test),
            _ => None,
        }
    }
}

impl fmt::Display for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A raw API key. Secret: never logged, never stored, never serialized.
pub struct RawKey(String);

impl RawKey {
    /// The key text, for the one-time response and for hashing only.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    pub(crate) fn new_unchecked(s: String) -> Self {
        Self(s)
    }
}

impl fmt::Debug for RawKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RawKey(<redacted>)")
    }
}

impl PartialEq for RawKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for RawKey {}

impl Drop for RawKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// HMAC-SHA256(pepper, raw key): the stored lookup index and the cache key.
///
/// Not secret on its own (it cannot be reversed without the pepper and a
/// 190-bit secret), but compared in constant time anyway and shown only as a
/// short prefix in `Debug`.
#[derive(Clone, Copy)]
pub struct KeyHash([u8; 32]);

impl std::hash::Hash for KeyHash {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // Consistent with the constant-time `PartialEq`: equal bytes, equal hash.
        self.0.hash(state);
    }
}

impl KeyHash {
    pub fn from_bytes(b: [u8; 32]) -> Self {
        Self(b)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    pub fn from_hex(s: &str) -> Option<Self> {
        let v = unhex(s)?;
        <[u8; 32]>::try_from(v.as_slice()).ok().map(Self)
    }
}

impl PartialEq for KeyHash {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for KeyHash {}

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyHash({}…)", &self.to_hex()[..8])
    }
}

/// `ace_live_aBcD…wXyZ`: enough for a human to recognise a key, far too
/// little to use it (8 of 32 secret characters).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyHint(String);

impl KeyHint {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn from_stored(s: String) -> Self {
        Self(s)
    }
}

impl fmt::Debug for KeyHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for KeyHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(H[usize::from(b >> 4)] as char);
        s.push(H[usize::from(b & 15)] as char);
    }
    s
}

pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let val = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    s.as_bytes()
        .chunks(2)
        .map(|p| Some(val(p[0])? << 4 | val(p[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_key_debug_is_redacted() {
        let k = generate(Env::Live);
        let dbg = format!("{:?}", k.raw);
        assert!(!dbg.contains(&k.raw.expose_secret()[9..]));
        assert_eq!(dbg, "RawKey(<redacted>)");
    }

    #[test]
    fn hex_round_trip() {
        let h = KeyHash::from_bytes([7u8; 32]);
        assert_eq!(KeyHash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(KeyHash::from_hex("zz"), None);
    }
}
