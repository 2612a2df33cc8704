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

mod format;
mod pepper;
pub mod record;
pub mod resource;

use std::fmt;

use subtle::ConstantTimeEq;

pub(crate) use model::base62;
pub use model::keys::{Env, KeyHint, KeyStatus, RawKey};

pub use format::{
    generate, generate_credential, parse, CredentialKind, Generated, ParseError, ParsedKey,
    CHECKSUM_LEN, KEY_PREFIX, SECRET_LEN,
};
pub use pepper::{Pepper, PepperError, PEPPER_FILE};

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
        model::hex::encode(&self.0)
    }

    pub fn from_hex(s: &str) -> Option<Self> {
        model::hex::decode32(s).map(Self)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_raw_key_debug_is_redacted() {
        let k = generate(Env::Live);
        let dbg = format!("{:?}", k.raw);
        assert!(!dbg.contains(&k.raw.expose_secret()[9..]));
        assert_eq!(dbg, "RawKey(<redacted>)");
    }

    #[test]
    fn key_hash_equality_is_byte_equality() {
        let a = KeyHash::from_bytes([7u8; 32]);
        let mut other = [7u8; 32];
        other[31] = 8;
        assert_eq!(a, KeyHash::from_bytes([7u8; 32]));
        assert_ne!(a, KeyHash::from_bytes(other));
        assert_eq!(a.as_bytes(), &[7u8; 32]);
        assert_eq!(KeyHash::from_bytes(other).as_bytes(), &other);
    }

    /// The validator's cache is keyed by `KeyHash`: distinct hashes must
    /// spread over the hasher (a constant `Hash` would put every key of the
    /// cache in one bucket), and equal hashes must hash equally.
    #[test]
    fn std_hash_follows_the_bytes() {
        use std::hash::BuildHasher;
        let state = std::collections::hash_map::RandomState::new();
        let a = KeyHash::from_bytes([1u8; 32]);
        let b = KeyHash::from_bytes([2u8; 32]);
        assert_eq!(
            state.hash_one(a),
            state.hash_one(KeyHash::from_bytes([1u8; 32]))
        );
        assert_ne!(state.hash_one(a), state.hash_one(b));
    }

    #[test]
    fn key_hash_debug_shows_a_short_prefix_only() {
        let h = KeyHash::from_bytes([0xab; 32]);
        assert_eq!(format!("{h:?}"), "KeyHash(abababab…)");
    }

    #[test]
    fn hex_round_trip() {
        let h = KeyHash::from_bytes([7u8; 32]);
        assert_eq!(KeyHash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(KeyHash::from_hex("zz"), None);
    }
}
