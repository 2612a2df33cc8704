//! The server pepper: the HMAC key that turns raw keys into lookup hashes.
//!
//! Rules:
//! - At least 32 bytes. A stolen database without the pepper cannot be used
//!   to test guesses offline.
//! - The embedded default keeps it in `<data dir>/pepper` (hex), created on
//!   first run with mode 0600 via `create_new`, so two processes starting at
//!   once cannot both write one. An existing file with group/other access is
//!   refused rather than silently used.
//! - Losing or changing the pepper invalidates every key: it is loaded, never
//!   regenerated, once the file exists.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::KeyHash;
use model::hex::{decode as unhex, encode as hex};

pub const PEPPER_FILE: &str = "pepper";
const PEPPER_BYTES: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum PepperError {
    #[error("pepper must be at least {PEPPER_BYTES} bytes")]
    TooShort,
    #[error("pepper file {0} is not valid hex")]
    BadEncoding(PathBuf),
    #[error("pepper file {0} is readable by group or others (mode {1:o}); chmod 600 it")]
    Permissions(PathBuf, u32),
    #[error("pepper file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The HMAC key, pre-initialised so each hash costs two compression rounds
/// less than keying from scratch.
#[derive(Clone)]
pub struct Pepper {
    mac: Hmac<Sha256>,
}

impl fmt::Debug for Pepper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pepper(<redacted>)")
    }
}

impl Pepper {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PepperError> {
        if bytes.len() < PEPPER_BYTES {
            return Err(PepperError::TooShort);
        }
        let mac = Hmac::<Sha256>::new_from_slice(bytes).map_err(|_| PepperError::TooShort)?;
        Ok(Self { mac })
    }

    /// A fresh random pepper (tests, benches, ephemeral servers).
    pub fn random() -> Self {
        let mut b = Zeroizing::new([0u8; PEPPER_BYTES]);
        getrandom::fill(b.as_mut()).expect("the OS CSPRNG is unavailable");
        Self::from_bytes(b.as_ref()).expect("32 bytes is long enough")
    }

    /// HMAC-SHA256(pepper, a fixed label): tells whether two processes hold
    /// the same pepper without revealing it.
    pub fn fingerprint(&self) -> [u8; 32] {
        *self.hash("acekeys-pepper-fingerprint-v1").as_bytes()
    }

    /// HMAC-SHA256(pepper, key).
    pub fn hash(&self, raw_key: &str) -> KeyHash {
        let mut m = self.mac.clone();
        m.update(raw_key.as_bytes());
        let out = m.finalize().into_bytes();
        let mut b = [0u8; 32];
        b.copy_from_slice(&out);
        KeyHash::from_bytes(b)
    }

    /// HMAC-SHA256(pepper, label ‖ input): a secret of this deployment's
    /// that is stored nowhere (a webhook endpoint's signing secret from its
    /// salt), so a copy of the database alone does not hold it.
    pub fn derive(&self, label: &str, input: &[u8]) -> Zeroizing<[u8; 32]> {
        let mut m = self.mac.clone();
        m.update(label.as_bytes());
        m.update(&[0]);
        m.update(input);
        let mut b = Zeroizing::new([0u8; 32]);
        b.copy_from_slice(&m.finalize().into_bytes());
        b
    }

    /// Loads `<dir>/pepper`, creating it (0600) on first run.
    pub fn load_or_create(dir: &Path) -> Result<Self, PepperError> {
        let path = dir.join(PEPPER_FILE);
        let io = |source| PepperError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        match create_new_private(&path) {
            Ok(mut f) => {
                let mut b = Zeroizing::new([0u8; PEPPER_BYTES]);
                getrandom::fill(b.as_mut()).expect("the OS CSPRNG is unavailable");
                let text = Zeroizing::new(hex(b.as_ref()));
                f.write_all(text.as_bytes()).map_err(io)?;
                f.write_all(b"\n").map_err(io)?;
                f.sync_all().map_err(io)?;
                tracing::info!(path = %path.display(), "generated a new pepper");
                Self::from_bytes(b.as_ref())
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                check_private(&path)?;
                let text = Zeroizing::new(std::fs::read_to_string(&path).map_err(io)?);
                let bytes = Zeroizing::new(
                    unhex(text.trim()).ok_or_else(|| PepperError::BadEncoding(path.clone()))?,
                );
                Self::from_bytes(&bytes)
            }
            Err(e) => Err(io(e)),
        }
    }
}

#[cfg(unix)]
fn create_new_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_new_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), PepperError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|source| PepperError::Io {
            path: path.to_owned(),
            source,
        })?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(PepperError::Permissions(path.to_owned(), mode & 0o777));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_: &Path) -> Result<(), PepperError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_is_deterministic_and_pepper_dependent() {
        let p = Pepper::from_bytes(&[1u8; 32]).unwrap();
        let q = Pepper::from_bytes(&[2u8; 32]).unwrap();
        assert_eq!(p.hash("abc"), p.hash("abc"));
        assert_ne!(p.hash("abc"), p.hash("abd"));
        assert_ne!(p.hash("abc"), q.hash("abc"));
        assert!(Pepper::from_bytes(&[0u8; 16]).is_err());
        assert_eq!(format!("{p:?}"), "Pepper(<redacted>)");
    }

    #[test]
    fn rfc4231_vector() {
        // RFC 4231 vectors use keys shorter than our 32-byte floor; this
        // expected value was computed independently with Python's `hmac`.
        let p = Pepper::from_bytes(&[0x0b; 32]).unwrap();
        let h = p.hash("Hi There");
        assert_eq!(
            h.to_hex(),
            "198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7"
        );
    }

    #[cfg(unix)]
    #[test]
    fn loader_creates_private_file_and_reloads_same_pepper() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let a = Pepper::load_or_create(dir.path()).unwrap();
        let mode = std::fs::metadata(dir.path().join(PEPPER_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let b = Pepper::load_or_create(dir.path()).unwrap();
        assert_eq!(a.hash("x"), b.hash("x"));
        std::fs::set_permissions(
            dir.path().join(PEPPER_FILE),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        assert!(matches!(
            Pepper::load_or_create(dir.path()),
            Err(PepperError::Permissions(_, 0o644))
        ));
    }

    /// Two processes with the same pepper have the same fingerprint, two
    /// different peppers do not, and the fingerprint is not the pepper's
    /// hash of an empty key (it is a labelled HMAC).
    #[test]
    fn fingerprint_identifies_the_pepper() {
        let p = Pepper::from_bytes(&[1u8; 32]).unwrap();
        let same = Pepper::from_bytes(&[1u8; 32]).unwrap();
        let other = Pepper::from_bytes(&[2u8; 32]).unwrap();
        assert_eq!(p.fingerprint(), same.fingerprint());
        assert_ne!(p.fingerprint(), other.fingerprint());
        assert_eq!(
            p.fingerprint(),
            *p.hash("acekeys-pepper-fingerprint-v1").as_bytes()
        );
    }

    #[test]
    fn pepper_floor_is_32_bytes() {
        assert!(matches!(
            Pepper::from_bytes(&[9u8; 31]),
            Err(PepperError::TooShort)
        ));
        assert!(Pepper::from_bytes(&[9u8; 32]).is_ok());
        assert!(Pepper::from_bytes(&[9u8; 64]).is_ok());
    }
}
