//! CSRF: the session cookie is `SameSite=Strict`, and on top every
//! state-changing request to the dashboard (server functions are POSTs)
//! must come from the dashboard's own origin: `Origin` (or, failing that,
//! `Referer`) must name the scheme and host the request was sent to.
//! Requests with neither header are refused: every browser sends `Origin`
//! on a POST, so only non-browser clients lack it, and they have the REST API.

use axum::http::{header, HeaderMap, Method};

/// Whether the method can change state (everything but GET, HEAD, OPTIONS).
pub fn state_changing(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The origin check. `secure` says the dashboard is served over TLS.
pub fn same_origin(headers: &HeaderMap, secure: bool) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let expected = format!("{}://{}", if secure { "https" } else { "http" }, host);
    if let Some(origin) = headers.get(header::ORIGIN) {
        return origin
            .to_str()
            .is_ok_and(|o| o.eq_ignore_ascii_case(&expected));
    }
    headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .is_some_and(|r| {
            r.get(..expected.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(&expected))
                && matches!(r.as_bytes().get(expected.len()), None | Some(b'/'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn own_origin_passes() {
        let h = headers(&[
            (header::HOST, "127.0.0.1:3000"),
            (header::ORIGIN, "http://127.0.0.1:3000"),
        ]);
        assert!(same_origin(&h, false));
        assert!(
            !same_origin(&h, true),
            "TLS dashboards expect https origins"
        );
    }

    #[test]
    fn foreign_or_missing_origins_fail() {
        for origin in [
            "https://evil.example",
            "http://127.0.0.1:3001",
            "null",
            "http://127.0.0.1:3000.evil.example",
        ] {
            let mut h = headers(&[(header::HOST, "127.0.0.1:3000")]);
            h.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
            assert!(!same_origin(&h, false), "{origin}");
        }
        assert!(!same_origin(
            &headers(&[(header::HOST, "127.0.0.1:3000")]),
            false
        ));
        assert!(!same_origin(
            &headers(&[(header::ORIGIN, "http://127.0.0.1:3000")]),
            false
        ));
    }

    #[test]
    fn referer_is_the_fallback() {
        let ok = headers(&[
            (header::HOST, "a.example"),
            (header::REFERER, "https://a.example/keys"),
        ]);
        assert!(same_origin(&ok, true));
        let prefix_trick = headers(&[
            (header::HOST, "a.example"),
            (header::REFERER, "https://a.example.evil/"),
        ]);
        assert!(!same_origin(&prefix_trick, true));
    }

    #[test]
    fn reads_are_not_state_changing() {
        assert!(!state_changing(&Method::GET));
        assert!(state_changing(&Method::POST));
        assert!(state_changing(&Method::DELETE));
    }
}
