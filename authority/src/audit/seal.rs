//! Seals: signed chain heads, so someone who can write the database cannot
//! cut the newest events off a chain, delete a whole chain, or rewrite a
//! chain with freshly computed hashes without `audit verify` saying so.
//!
//! A hash chain alone detects edits in the middle of a chain, but its hashes
//! are unkeyed: whoever can write the store can drop its tail, or recompute
//! every hash after an edit. A [`Seal`] closes that: at a fixed interval and
//! on shutdown, each process signs, for every chain it writes, `(org, writer,
//! seq, hash)` of the head plus the list of every writer of that org it has
//! ever seen, with an Ed25519 key derived from the pepper (so every server
//! of a deployment signs with the same key and no new secret has to be
//! distributed). Verification then checks, per chain: the seal's signature,
//! that the chain still reaches the sealed sequence number, that the event
//! there has the sealed hash, and that every writer named in any seal of the
//! org still has its chain.
//!
//! What stays possible for a database writer (see the README's threat
//! model): dropping events written after a chain's newest seal (at most one
//! seal interval, plus whatever a crashed process never sealed), and rolling
//! an org's whole trail back to an earlier signed state it copied before.

use std::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::Serialize;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::ids::OrgId;
use crate::keys::Pepper;
use crate::time::Timestamp;
use model::audit::ChainHash;
use model::hex;

const DOMAIN: &[u8] = b"acekeys-seal-v1";
const KEY_LABEL: &str = "acekeys-audit-seal-key-v1";

/// A signed statement: "chain (`org`, `writer`) reached `seq` with `hash`
/// at `sealed_at`, and these were all the writers of `org` I knew of".
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Seal {
    pub org: OrgId,
    pub writer: String,
    pub seq: u64,
    pub hash: ChainHash,
    /// Every writer of the org known to the sealer, sorted, without
    /// duplicates (this chain's own writer included).
    pub writers: Vec<String>,
    pub sealed_at: Timestamp,
    #[serde(serialize_with = "hex_signature")]
    pub signature: [u8; 64],
}

fn hex_signature<S: serde::Serializer>(sig: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(sig))
}

impl fmt::Debug for Seal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Seal")
            .field("org", &self.org)
            .field("writer", &self.writer)
            .field("seq", &self.seq)
            .field("writers", &self.writers.len())
            .field("sealed_at", &self.sealed_at)
            .finish_non_exhaustive()
    }
}

fn put(h: &mut Sha256, b: &[u8]) {
    h.update((b.len() as u64).to_be_bytes());
    h.update(b);
}

impl Seal {
    /// What is signed: a domain-separated, length-prefixed digest of every
    /// field but the signature.
    fn message(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(DOMAIN);
        put(&mut h, self.org.as_str().as_bytes());
        put(&mut h, self.writer.as_bytes());
        h.update(self.seq.to_be_bytes());
        h.update(self.hash.0);
        h.update(self.sealed_at.as_millis().to_be_bytes());
        h.update((self.writers.len() as u64).to_be_bytes());
        for w in &self.writers {
            put(&mut h, w.as_bytes());
        }
        h.finalize().into()
    }

    /// Whether `key` signed exactly these fields.
    pub fn is_signed_by(&self, key: &SealTrust) -> bool {
        let signature = Signature::from_bytes(&self.signature);
        key.0.verify_strict(&self.message(), &signature).is_ok()
    }
}

/// The private half: derived from the pepper, never stored.
#[derive(Clone)]
pub struct SealKey(SigningKey);

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealKey(public {})", self.trust().to_hex())
    }
}

impl SealKey {
    /// HMAC-SHA-256(pepper, a fixed label) as the Ed25519 seed: every
    /// process holding the deployment's pepper signs with the same key.
    pub fn from_pepper(pepper: &Pepper) -> Self {
        let seed = Zeroizing::new(*pepper.hash(KEY_LABEL).as_bytes());
        Self(SigningKey::from_bytes(&seed))
    }

    /// The public key that verifies this key's seals.
    pub fn trust(&self) -> SealTrust {
        SealTrust(self.0.verifying_key())
    }

    /// Seals the head `(seq, hash)` of (`org`, `writer`).
    pub fn seal(
        &self,
        org: OrgId,
        writer: String,
        seq: u64,
        hash: ChainHash,
        mut writers: Vec<String>,
        sealed_at: Timestamp,
    ) -> Seal {
        writers.push(writer.clone());
        writers.sort();
        writers.dedup();
        let mut seal = Seal {
            org,
            writer,
            seq,
            hash,
            writers,
            sealed_at,
            signature: [0; 64],
        };
        seal.signature = self.0.sign(&seal.message()).to_bytes();
        seal
    }
}

/// The public key verification trusts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SealTrust(VerifyingKey);

impl fmt::Debug for SealTrust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealTrust({})", self.to_hex())
    }
}

impl SealTrust {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.as_bytes())
    }

    /// 64 hex digits, as `to_hex` writes them (`acekeys audit seal-key`).
    pub fn from_hex(text: &str) -> Result<Self, String> {
        let bytes = hex::decode32(text.trim()).ok_or_else(|| {
            "a seal public key is 64 hex digits (print this deployment's with `acekeys audit seal-key`)"
                .to_owned()
        })?;
        VerifyingKey::from_bytes(&bytes)
            .map(Self)
            .map_err(|_| "those 64 hex digits are not an Ed25519 public key".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SealKey {
        SealKey::from_pepper(&Pepper::from_bytes(&[7u8; 32]).unwrap())
    }

    fn sample(k: &SealKey) -> Seal {
        k.seal(
            OrgId::parse("acme").unwrap(),
            "w1-t".into(),
            42,
            ChainHash([9; 32]),
            vec!["w2-a".into(), "w1-t".into()],
            Timestamp::from_millis(1_000),
        )
    }

    #[test]
    fn the_same_pepper_gives_the_same_key_and_another_does_not() {
        let again = SealKey::from_pepper(&Pepper::from_bytes(&[7u8; 32]).unwrap());
        assert_eq!(key().trust(), again.trust());
        let other = SealKey::from_pepper(&Pepper::from_bytes(&[8u8; 32]).unwrap());
        assert_ne!(key().trust(), other.trust());
    }

    #[test]
    fn a_seal_verifies_and_lists_its_own_writer_once() {
        let k = key();
        let s = sample(&k);
        assert!(s.is_signed_by(&k.trust()));
        assert_eq!(s.writers, ["w1-t", "w2-a"]);
    }

    #[test]
    fn every_field_is_covered_by_the_signature() {
        let k = key();
        let t = k.trust();
        type Edit = Box<dyn Fn(&mut Seal)>;
        let edits: Vec<Edit> = vec![
            Box::new(|s| s.org = OrgId::parse("beta").unwrap()),
            Box::new(|s| s.writer = "w9-t".into()),
            Box::new(|s| s.seq -= 1),
            Box::new(|s| s.hash = ChainHash([8; 32])),
            Box::new(|s| {
                s.writers.pop();
            }),
            Box::new(|s| s.writers[1] = "w3-a".into()),
            Box::new(|s| s.sealed_at = Timestamp::from_millis(2_000)),
            Box::new(|s| s.signature[0] ^= 1),
        ];
        for (i, edit) in edits.iter().enumerate() {
            let mut s = sample(&k);
            edit(&mut s);
            assert!(!s.is_signed_by(&t), "edit {i} went unnoticed");
        }
        let other = SealKey::from_pepper(&Pepper::from_bytes(&[8u8; 32]).unwrap());
        assert!(!sample(&k).is_signed_by(&other.trust()));
    }

    #[test]
    fn public_keys_round_trip_and_bad_text_is_explained() {
        let t = key().trust();
        assert_eq!(SealTrust::from_hex(&t.to_hex()).unwrap(), t);
        assert!(SealTrust::from_hex("abc").unwrap_err().contains("64 hex"));
        assert!(!format!("{:?}", key()).contains("SigningKey"));
    }
}
