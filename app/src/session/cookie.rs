//! The `acekeys_session` cookie: HttpOnly (no script can read it),
//! SameSite=Strict (never sent on cross-site requests), Path=/, and Secure
//! when the operator says the dashboard is served over TLS. The scheme is
//! configuration, never inferred from `X-Forwarded-Proto`, which any client
//! can send.

use authority::sessions::SessionToken;
use http::header::{HeaderMap, COOKIE};

pub const NAME: &str = "acekeys_session";

/// `Set-Cookie` value starting a session.
pub fn session_cookie(token: &SessionToken, secure: bool, max_age_secs: i64) -> String {
    format!(
        "{NAME}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{}",
        token.expose_secret(),
        if secure { "; Secure" } else { "" }
    )
}

/// `Set-Cookie` value deleting the cookie.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{NAME}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Whether the request carries the cookie at all (valid or not).
pub fn present(headers: &HeaderMap) -> bool {
    values(headers).next().is_some()
}

/// The session token from the `Cookie` headers, if one has the right shape.
pub fn read(headers: &HeaderMap) -> Option<SessionToken> {
    values(headers).find_map(SessionToken::parse)
}

fn values(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == NAME)
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
        assert!(session_cookie(&token, true, 1).ends_with("; Secure"));
        assert!(clear_cookie(true).contains("Max-Age=0"));
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
        assert_eq!(read(&headers), Some(token));
        assert!(present(&headers));
    }

    #[test]
    fn junk_cookies_are_ignored() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("acekeys_session=<script>"));
        assert_eq!(read(&headers), None);
        assert!(present(&headers));
        assert!(!present(&HeaderMap::new()));
    }
}
