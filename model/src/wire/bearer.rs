//! RFC 6750 Bearer credentials: reading `Authorization: Bearer …` and
//! writing the `WWW-Authenticate` challenge, for the REST API and the guard
//! alike.
//!
//! RFC 6750 §3.1: a request that carried no credentials gets a challenge
//! *without* an error code; an invalid, expired or revoked credential gets
//! `error="invalid_token"`; a valid one without the needed scope gets
//! `error="insufficient_scope"` (with the scope).

/// Why the Authorization header holds no usable Bearer credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerError {
    /// No Authorization header at all.
    Missing,
    /// A header that is not text, has no credential, or another scheme.
    Malformed(&'static str),
}

impl BearerError {
    pub fn code(self) -> &'static str {
        match self {
            BearerError::Missing => "missing_key",
            BearerError::Malformed(_) => "malformed_key",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            BearerError::Missing => "send your API key as `Authorization: Bearer ace_live_…`",
            BearerError::Malformed(why) => why,
        }
    }
}

/// The credential of an `Authorization` header value (`None`: no header).
pub fn credential(header: Option<&[u8]>) -> Result<&str, BearerError> {
    let raw = header.ok_or(BearerError::Missing)?;
    let text = std::str::from_utf8(raw)
        .map_err(|_| BearerError::Malformed("the Authorization header is not valid text"))?;
    let (scheme, token) = text.trim().split_once(' ').ok_or(BearerError::Malformed(
        "the Authorization header must be `Bearer <key>`",
    ))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(BearerError::Malformed(
            "only the Bearer scheme is supported: `Authorization: Bearer ace_live_…`",
        ));
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(BearerError::Malformed(
            "the Authorization header must be `Bearer <key>`",
        ));
    }
    Ok(token)
}

/// What a challenge says about the request's credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge<'a> {
    /// No credential was sent: no error code (RFC 6750 §3.1).
    NoCredential,
    /// The credential is not valid; `description` says why.
    InvalidToken { description: &'a str },
    /// The credential lacks privileges: `scope`, when one scope would do.
    InsufficientScope { scope: Option<&'a str> },
}

/// The `WWW-Authenticate` value for `challenge`, realm `acekeys`.
pub fn challenge(challenge: Challenge<'_>) -> String {
    challenge_for_resource(challenge, None)
}

/// [`challenge`], naming the protected resource's metadata document (RFC
/// 9728 §5.1) when there is one, so a client can discover where to get a
/// credential and which scopes exist.
pub fn challenge_for_resource(challenge: Challenge<'_>, resource_metadata: Option<&str>) -> String {
    let mut value = String::from(r#"Bearer realm="acekeys""#);
    if let Some(url) = resource_metadata {
        value.push_str(&format!(
            r#", resource_metadata="{}""#,
            quoted_string_safe(url)
        ));
    }
    match challenge {
        Challenge::NoCredential => {}
        Challenge::InvalidToken { description } => value.push_str(&format!(
            r#", error="invalid_token", error_description="{}""#,
            quoted_string_safe(description)
        )),
        Challenge::InsufficientScope { scope: None } => {
            value.push_str(r#", error="insufficient_scope""#);
        }
        Challenge::InsufficientScope { scope: Some(scope) } => value.push_str(&format!(
            r#", error="insufficient_scope", scope="{}""#,
            quoted_string_safe(scope)
        )),
    }
    value
}

/// RFC 6750 limits these values to printable ASCII without `"` and `\`.
fn quoted_string_safe(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials() {
        assert_eq!(credential(None), Err(BearerError::Missing));
        assert_eq!(credential(Some(b"Bearer abc")), Ok("abc"));
        assert_eq!(credential(Some(b"bearer  abc ")), Ok("abc"));
        assert!(matches!(
            credential(Some(b"Basic abc")),
            Err(BearerError::Malformed(_))
        ));
        assert!(matches!(
            credential(Some(b"Bearer")),
            Err(BearerError::Malformed(_))
        ));
        assert!(matches!(
            credential(Some(b"Bearer ")),
            Err(BearerError::Malformed(_))
        ));
        assert!(matches!(
            credential(Some(b"Bearer \xff")),
            Err(BearerError::Malformed(_))
        ));
    }

    #[test]
    fn challenges_follow_rfc6750() {
        assert_eq!(
            challenge(Challenge::NoCredential),
            r#"Bearer realm="acekeys""#
        );
        assert_eq!(
            challenge(Challenge::InvalidToken {
                description: "say \"no\"\n"
            }),
            r#"Bearer realm="acekeys", error="invalid_token", error_description="say 'no'?""#
        );
        assert_eq!(
            challenge(Challenge::InsufficientScope {
                scope: Some("svc:wiki:write")
            }),
            r#"Bearer realm="acekeys", error="insufficient_scope", scope="svc:wiki:write""#
        );
    }

    #[test]
    fn challenges_name_the_resource_metadata_before_the_error() {
        let url = "https://wiki.example.com/.well-known/oauth-protected-resource/mcp";
        assert_eq!(
            challenge_for_resource(Challenge::NoCredential, Some(url)),
            format!(r#"Bearer realm="acekeys", resource_metadata="{url}""#)
        );
        assert_eq!(
            challenge_for_resource(
                Challenge::InsufficientScope {
                    scope: Some("svc:wiki:write")
                },
                Some(url)
            ),
            format!(
                r#"Bearer realm="acekeys", resource_metadata="{url}", error="insufficient_scope", scope="svc:wiki:write""#
            )
        );
        assert!(
            challenge_for_resource(Challenge::NoCredential, Some("x\"y"))
                .ends_with(r#"resource_metadata="x'y""#)
        );
    }
}
