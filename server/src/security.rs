//! Security headers on every response.
//!
//! The dashboard's Content-Security-Policy (with a nonce for Leptos's
//! scripts) belongs to the dashboard work; the headers here are the ones
//! every response needs regardless.

use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::set_header::SetResponseHeaderLayer;

/// Layers that add the headers (only where a handler did not set its own).
pub fn headers() -> Vec<SetResponseHeaderLayer<HeaderValue>> {
    let fixed: [(HeaderName, &'static str); 5] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        // Not `no-referrer`: under it browsers send `Origin: null` with a
        // plain form post, which the dashboard's origin check must refuse,
        // and the forms that work without the WASM bundle (sign-in,
        // consent, revoke) would fail. `same-origin` sends nothing to other
        // sites either.
        (header::REFERRER_POLICY, "same-origin"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=()",
        ),
    ];
    fixed
        .into_iter()
        .map(|(name, value)| {
            SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
        })
        .collect()
}

/// `Cache-Control: no-store` on every response that carries data (pages,
/// JSON, exports, event streams, errors): a page listing an org's keys or
/// its audit trail must not stay in a shared or back-button cache after
/// sign-out. Static assets (scripts, WASM, styles, images) keep their
/// caching; a handler that chose its own policy keeps it.
pub async fn no_store_for_data(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if headers.contains_key(header::CACHE_CONTROL) {
        return response;
    }
    let is_asset = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            [
                "application/javascript",
                "text/javascript",
                "application/wasm",
                "text/css",
                "image/",
                "font/",
            ]
            .iter()
            .any(|prefix| ct.starts_with(prefix))
        });
    if !is_asset {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
