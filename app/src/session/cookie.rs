//! The session cookie: HttpOnly (no script can read it), SameSite=Strict
//! (never sent on cross-site requests), Path=/, and — when the operator says
//! the dashboard is served over TLS — Secure and named with the `__Host-`
//! prefix, which browsers accept only from a secure origin, for Path=/,
//! without a Domain: a sibling subdomain can then neither set nor shadow it.
//! In that mode the unprefixed name is ignored, so a cookie tossed in by a
//! sibling cannot be planted instead. The scheme is configuration, never
//! inferred from `X-Forwarded-Proto`, which any client can send.

use authority::sessions::SessionToken;
use http::header::{HeaderMap, COOKIE};

/// The cookie's name over plain HTTP (local use).
pub const NAME: &str = "acekeys_session";
/// The cookie's name when the dashboard is served over TLS.
pub const SECURE_NAME: &str = "__Host-acekeys_session";

fn name(secure: bool) -> &'static str {
    if secure {
        SECURE_NAME
    } else {
        NAME
    }
}

/// `Set-Cookie` value starting a session.
pub fn session_cookie(token: &SessionToken, secure: bool, max_age_secs: i64) -> String {
    format!(
        "{}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{}",
        name(secure),
        token.expose_secret(),
        if secure { "; Secure" } else { "" }
    )
}

/// `Set-Cookie` value deleting the cookie.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        name(secure),
        if secure { "; Secure" } else { "" }
    )
}

/// Whether the request carries the cookie at all (valid or not).
pub fn present(headers: &HeaderMap, secure: bool) -> bool {
    values(headers, secure).next().is_some()
}

/// The session token from the `Cookie` headers, if one has the right shape.
pub fn read(headers: &HeaderMap, secure: bool) -> Option<SessionToken> {
    values(headers, secure).find_map(SessionToken::parse)
}

fn values(headers: &HeaderMap, secure: bool) -> impl Iterator<Item = &str> {
    let wanted = name(secure);
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(move |(name, _)| *name == wanted)
        .map(|(_, value)| value.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn the_cookie_is_locked_down() {
        let token = SessionToken::generate();
        let c = session_cookie(&token, false, 43_200);
        assert!(c.starts_with(&format!("acekeys_session={}", token.expose_secret())));
        for part in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
            assert!(c.contains(part), "{c} lacks {part}");
        }
        assert!(!c.contains("Secure"));
        let secure = session_cookie(&token, true, 1);
        assert!(secure.starts_with("__Host-acekeys_session=") && secure.ends_with("; Secure"));
        assert!(!secure.contains("Domain"));
        assert!(clear_cookie(true).starts_with("__Host-acekeys_session=;"));
        assert!(clear_cookie(true).contains("Max-Age=0"));
    }

    #[test]
    fn over_tls_only_the_prefixed_cookie_counts() {
        let token = SessionToken::generate();
        let mut planted = HeaderMap::new();
        planted.append(
            COOKIE,
            HeaderValue::from_str(&format!("acekeys_session={}", token.expose_secret())).unwrap(),
        );
        assert_eq!(
            read(&planted, true),
            None,
            "a sibling-set cookie was accepted"
        );
        assert!(!present(&planted, true));
        assert_eq!(read(&planted, false), Some(token));
    }

    #[test]
    fn reads_the_token_among_other_cookies() {
        let token = SessionToken::generate();
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("theme=dark"));
        headers.append(
            COOKIE,
            HeaderValue::from_str(&format!(
                "a=b; acekeys_session={}; c=d",
                token.expose_secret()
            ))
            .unwrap(),
        );
        assert_eq!(read(&headers, false), Some(token));
        assert!(present(&headers, false));
    }

    #[test]
    fn junk_cookies_are_ignored() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("acekeys_session=<script>"));
        assert_eq!(read(&headers, false), None);
        assert!(present(&headers, false));
        assert!(!present(&HeaderMap::new(), false));
    }
}
