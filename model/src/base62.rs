//! Base62 (`0-9A-Za-z`) helpers shared by secrets, checksums and ids.
//!
//! Randomness (feature `random`) always comes from the OS CSPRNG; characters are drawn by
//! rejection sampling so every symbol is equally likely (a plain `byte % 62`
//! would bias the first eight symbols).

pub const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

pub fn is_base62(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

#[cfg(feature = "random")]
/// `len` uniformly random base62 characters from the OS CSPRNG.
///
/// # Panics
/// Panics if the operating system cannot provide randomness: continuing
/// without it would mint guessable keys.
pub fn random_string(len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        getrandom::fill(&mut buf).expect("the OS CSPRNG is unavailable");
        for &b in &buf {
            // 248 = 4 * 62: bytes at or above it would bias the result.
            if b < 248 && out.len() < len {
                out.push(ALPHABET[usize::from(b % 62)] as char);
            }
        }
    }
    out
}

/// Fixed-width (left zero-padded) base62 of a `u32`; 6 characters hold any
/// `u32` because 62^6 > 2^32.
pub fn encode_u32_fixed6(mut v: u32) -> [u8; 6] {
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(v % 62) as usize];
        v /= 62;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed6_extremes() {
        assert_eq!(&encode_u32_fixed6(0), b"000000");
        assert_eq!(&encode_u32_fixed6(61), b"00000z");
        assert_eq!(&encode_u32_fixed6(u32::MAX), b"4gfFC3");
    }

    #[cfg(feature = "random")]
    #[test]
    fn random_is_base62_and_varies() {
        let a = random_string(40);
        let b = random_string(40);
        assert_eq!(a.len(), 40);
        assert!(a.bytes().all(is_base62));
        assert_ne!(a, b);
    }
}
