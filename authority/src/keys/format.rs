//! The `ace_[<kind>_]<env>_<secret><checksum>` format: generation and parsing.
//!
//! Three kinds of credential share it, so one secret-scanning pattern
//! (`ace_(at_|rt_)?(live|test)_[0-9A-Za-z]{38}`) finds them all and one
//! parser refuses typos in each: API keys (`ace_live_…`), OAuth access
//! tokens (`ace_at_live_…`) and OAuth refresh tokens (`ace_rt_live_…`).
//!
//! The parser checks cheap, local properties only (prefix, kind, env,
//! length, alphabet, checksum) in that order and never echoes the input in
//! its errors, so error messages and logs cannot leak a key.

use super::{base62, Env, KeyHint, RawKey};

pub const KEY_PREFIX: &str = "ace_";
/// Secret length in base62 characters (≈190.5 bits of entropy).
pub const SECRET_LEN: usize = 32;
pub const CHECKSUM_LEN: usize = 6;
/// Longer inputs are refused before any other work.
const MAX_INPUT: usize = 128;

/// Which credential a string is; the tag after `ace_` says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialKind {
    /// An API key (`ace_live_…`): no tag.
    Key,
    /// An OAuth access token (`ace_at_live_…`): a bearer credential like a
    /// key, bound to one resource and short-lived.
    AccessToken,
    /// An OAuth refresh token (`ace_rt_live_…`): only ever presented to the
    /// token endpoint, never a bearer credential.
    RefreshToken,
}

impl CredentialKind {
    /// The text between `ace_` and the env, `_` included.
    fn tag(self) -> &'static str {
        match self {
            CredentialKind::Key => "",
            CredentialKind::AccessToken => "at_",
            CredentialKind::RefreshToken => "rt_",
        }
    }

    /// Whether a tool server may accept it in `Authorization: Bearer`.
    pub fn is_bearer(self) -> bool {
        self != CredentialKind::RefreshToken
    }
}

/// Why a string is not an acekeys key. Carries no part of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not an acekeys key: expected the prefix `ace_`")]
    WrongPrefix,
    #[error("unknown key environment: expected `live` or `test`")]
    UnknownEnv,
    #[error("malformed key: wrong length")]
    BadLength,
    #[error("malformed key: characters outside base62")]
    BadAlphabet,
    #[error("malformed key: checksum mismatch (typo or truncated key?)")]
    BadChecksum,
    /// A well-formed OAuth refresh token where a bearer credential belongs.
    #[error("a refresh token is not a bearer credential: exchange it at the token endpoint")]
    NotBearer,
}

impl ParseError {
    pub fn code(self) -> &'static str {
        match self {
            ParseError::WrongPrefix => "wrong_prefix",
            ParseError::UnknownEnv => "unknown_env",
            ParseError::BadLength => "bad_length",
            ParseError::BadAlphabet => "bad_alphabet",
            ParseError::BadChecksum => "bad_checksum",
            ParseError::NotBearer => "not_bearer",
        }
    }
}

/// A syntactically valid credential, borrowed from its input.
#[derive(Clone, Copy)]
pub struct ParsedKey<'a> {
    raw: &'a str,
    kind: CredentialKind,
    env: Env,
}

impl std::fmt::Debug for ParsedKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedKey")
            .field("kind", &self.kind)
            .field("env", &self.env)
            .finish_non_exhaustive()
    }
}

impl<'a> ParsedKey<'a> {
    pub fn env(&self) -> Env {
        self.env
    }

    pub fn kind(&self) -> CredentialKind {
        self.kind
    }

    /// The whole key, for hashing.
    pub fn expose_secret(&self) -> &'a str {
        self.raw
    }

    pub fn hint(&self) -> KeyHint {
        hint_of(self.raw)
    }
}

/// A freshly generated key and its display hint.
#[derive(Debug)]
pub struct Generated {
    pub raw: RawKey,
    pub hint: KeyHint,
}

/// Generates a new API key for `env` from the OS CSPRNG.
pub fn generate(env: Env) -> Generated {
    generate_credential(CredentialKind::Key, env)
}

/// Generates a new credential of `kind` for `env` from the OS CSPRNG.
pub fn generate_credential(kind: CredentialKind, env: Env) -> Generated {
    let mut s = String::with_capacity(KEY_PREFIX.len() + 8 + SECRET_LEN + CHECKSUM_LEN);
    s.push_str(KEY_PREFIX);
    s.push_str(kind.tag());
    s.push_str(env.as_str());
    s.push('_');
    s.push_str(&base62::random_string(SECRET_LEN));
    let sum = base62::encode_u32_fixed6(crc32fast::hash(s.as_bytes()));
    s.extend(sum.iter().map(|&b| b as char));
    let hint = hint_of(&s);
    Generated {
        raw: RawKey::new_unchecked(s),
        hint,
    }
}

/// Checks the format of `input` without any lookup.
pub fn parse(input: &str) -> Result<ParsedKey<'_>, ParseError> {
    if input.len() > MAX_INPUT {
        return Err(ParseError::BadLength);
    }
    let rest = input
        .strip_prefix(KEY_PREFIX)
        .ok_or(ParseError::WrongPrefix)?;
    let (kind, rest) = [CredentialKind::AccessToken, CredentialKind::RefreshToken]
        .into_iter()
        .find_map(|kind| rest.strip_prefix(kind.tag()).map(|r| (kind, r)))
        .unwrap_or((CredentialKind::Key, rest));
    let (env_str, body) = rest.split_once('_').ok_or(ParseError::UnknownEnv)?;
    let env = Env::parse(env_str).ok_or(ParseError::UnknownEnv)?;
    if body.len() != SECRET_LEN + CHECKSUM_LEN {
        return Err(ParseError::BadLength);
    }
    if !body.bytes().all(base62::is_base62) {
        return Err(ParseError::BadAlphabet);
    }
    let split = input.len() - CHECKSUM_LEN;
    let expected = base62::encode_u32_fixed6(crc32fast::hash(&input.as_bytes()[..split]));
    if expected != input.as_bytes()[split..] {
        return Err(ParseError::BadChecksum);
    }
    Ok(ParsedKey {
        raw: input,
        kind,
        env,
    })
}

/// The prefix (kind and env), then the first and last four characters of
/// the secret.
fn hint_of(raw: &str) -> KeyHint {
    let secret_start = raw.len() - CHECKSUM_LEN - SECRET_LEN;
    let secret = &raw[secret_start..secret_start + SECRET_LEN];
    KeyHint::from_stored(format!(
        "{}{}…{}",
        &raw[..secret_start],
        &secret[..4],
        &secret[SECRET_LEN - 4..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_keys_parse() {
        for env in [Env::Live, Env::Test] {
            let g = generate(env);
            let raw = g.raw.expose_secret();
            assert_eq!(
                raw.len(),
                4 + env.as_str().len() + 1 + SECRET_LEN + CHECKSUM_LEN
            );
            let p = parse(raw).unwrap();
            assert_eq!(p.env(), env);
            assert_eq!(p.hint(), g.hint);
        }
    }

    #[test]
    fn hint_shape() {
        let g = generate(Env::Live);
        let raw = g.raw.expose_secret();
        let h = g.hint.as_str();
        assert!(h.starts_with("ace_live_"));
        assert!(h.starts_with(&raw[..13]));
        assert!(h.ends_with(&raw[raw.len() - 10..raw.len() - 6]));
        assert!(h.contains('…'));
    }

    #[test]
    fn typed_errors() {
        let g = generate(Env::Test);
        let raw = g.raw.expose_secret().to_owned();
        assert_eq!(parse("sk_live_abc").unwrap_err(), ParseError::WrongPrefix);
        assert_eq!(
            parse(&raw.replace("ace_test_", "ace_prod_")).unwrap_err(),
            ParseError::UnknownEnv
        );
        assert_eq!(parse("ace_live").unwrap_err(), ParseError::UnknownEnv);
        assert_eq!(
            parse(&raw[..raw.len() - 1]).unwrap_err(),
            ParseError::BadLength
        );
        assert_eq!(parse(&"a".repeat(4096)).unwrap_err(), ParseError::BadLength);
        let mut bad = raw.clone();
        bad.replace_range(12..13, "!");
        assert_eq!(parse(&bad).unwrap_err(), ParseError::BadAlphabet);
        // Flip the env: the checksum covers it.
        assert_eq!(
            parse(&raw.replace("ace_test_", "ace_live_")).unwrap_err(),
            ParseError::BadChecksum
        );
    }

    #[test]
    fn error_codes_are_stable() {
        let codes = [
            (ParseError::WrongPrefix, "wrong_prefix"),
            (ParseError::UnknownEnv, "unknown_env"),
            (ParseError::BadLength, "bad_length"),
            (ParseError::BadAlphabet, "bad_alphabet"),
            (ParseError::BadChecksum, "bad_checksum"),
            (ParseError::NotBearer, "not_bearer"),
        ];
        for (e, code) in codes {
            assert_eq!(e.code(), code);
        }
    }

    /// Inputs longer than 128 bytes are refused before any other check;
    /// 128 bytes exactly go on to the prefix check.
    #[test]
    fn input_length_cap_is_128_bytes() {
        assert_eq!(
            parse(&"x".repeat(128)).unwrap_err(),
            ParseError::WrongPrefix
        );
        assert_eq!(parse(&"x".repeat(129)).unwrap_err(), ParseError::BadLength);
    }

    #[test]
    fn parsed_key_debug_names_the_env_only() {
        let g = generate(Env::Test);
        let p = parse(g.raw.expose_secret()).unwrap();
        assert_eq!(format!("{p:?}"), "ParsedKey { kind: Key, env: Test, .. }");
        assert_eq!(p.expose_secret(), g.raw.expose_secret());
    }

    #[test]
    fn error_messages_never_echo_input() {
        let g = generate(Env::Live);
        let mut raw = g.raw.expose_secret().to_owned();
        raw.pop();
        raw.push('!');
        let e = parse(&raw).unwrap_err();
        assert!(!e.to_string().contains(&raw[9..20]));
        assert!(!format!("{e:?}").contains(&raw[9..20]));
    }

    #[test]
    fn each_kind_round_trips_and_says_what_it_is() {
        for (kind, prefix) in [
            (CredentialKind::Key, "ace_live_"),
            (CredentialKind::AccessToken, "ace_at_live_"),
            (CredentialKind::RefreshToken, "ace_rt_live_"),
        ] {
            let g = generate_credential(kind, Env::Live);
            let raw = g.raw.expose_secret();
            assert!(raw.starts_with(prefix), "{prefix}");
            assert_eq!(raw.len(), prefix.len() + SECRET_LEN + CHECKSUM_LEN);
            let p = parse(raw).unwrap();
            assert_eq!((p.kind(), p.env()), (kind, Env::Live));
            assert!(g.hint.as_str().starts_with(prefix), "{}", g.hint);
            assert_eq!(p.hint(), g.hint);
            assert_eq!(kind.is_bearer(), kind != CredentialKind::RefreshToken);
        }
    }

    /// The checksum covers the kind: an access token cannot be turned into
    /// a refresh token (or a key) by editing its tag.
    #[test]
    fn the_kind_tag_is_under_the_checksum() {
        let access = generate_credential(CredentialKind::AccessToken, Env::Test);
        let raw = access.raw.expose_secret();
        for forged in [
            raw.replacen("ace_at_", "ace_rt_", 1),
            raw.replacen("ace_at_", "ace_", 1),
        ] {
            assert_eq!(parse(&forged).unwrap_err(), ParseError::BadChecksum);
        }
        assert_eq!(
            parse(&raw.replacen("ace_at_", "ace_xx_", 1)).unwrap_err(),
            ParseError::UnknownEnv
        );
    }

    proptest! {
        /// Any single-character substitution in the secret or checksum is caught.
        #[test]
        fn one_char_change_is_rejected(pos in 9usize..47, c in "[0-9A-Za-z]") {
            let g = generate(Env::Live);
            let raw = g.raw.expose_secret();
            let c = c.chars().next().unwrap();
            prop_assume!(raw.as_bytes()[pos] as char != c);
            let mut changed = raw.to_owned();
            changed.replace_range(pos..pos + 1, &c.to_string());
            prop_assert_eq!(parse(&changed).unwrap_err(), ParseError::BadChecksum);
        }

        /// Random strings never panic and practically never pass.
        #[test]
        fn garbage_never_panics(s in "\\PC{0,80}") {
            let _ = parse(&s);
        }

        #[test]
        fn random_well_shaped_strings_fail_checksum(body in "[0-9A-Za-z]{38}") {
            let s = format!("ace_live_{body}");
            // 1 in 2^32 would pass; proptest will not find it.
            prop_assert!(parse(&s).is_err());
        }
    }
}
