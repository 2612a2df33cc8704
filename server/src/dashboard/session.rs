//! Resolving the session cookie on every dashboard request.
//!
//! The session is read from the store (so any server sharing it accepts
//! the cookie, and a restart signs nobody out) and the key behind it is
//! re-checked through the authority (`session_principal`, which loads the
//! key record) on every request: the request after a revocation, on any
//! server, is signed out, and the key's sessions are deleted.

use std::sync::Arc;

use app::session::cookie;
use app::session::server::{ClientIp, DashboardState, SignedIn};
use authority::{Authority, KeyContext};
use axum::extract::{Request, State};

use crate::client_addr::ClientAddr;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

/// Pages that need a session; anything else renders signed out.
const PROTECTED: [&str; 4] = ["/keys", "/incident", "/audit", "/members"];

#[derive(Clone)]
pub struct SessionLayerState {
    pub dashboard: DashboardState,
}

impl SessionLayerState {
    pub fn new(
        authority: Authority,
        secure_cookies: bool,
        throttle: Arc<authority::throttle::FailureThrottle>,
    ) -> Self {
        Self {
            dashboard: DashboardState {
                authority,
                secure_cookies,
                throttle,
            },
        }
    }

    /// The session's key or member, re-read from the store on every request: no cache
    /// in between, so the request after a revocation answers "signed out"
    /// on every server (one indexed read per dashboard request).
    async fn principal(
        &self,
        token: &authority::sessions::SessionToken,
    ) -> Option<Arc<KeyContext>> {
        let d = &self.dashboard;
        let session = match d.authority.resume_session(token).await {
            Ok(session) => session?,
            Err(error) => {
                // Fail closed: no principal this time, the session stays.
                tracing::warn!(%error, "could not read a session");
                return None;
            }
        };
        match d.authority.session_principal(&session).await {
            Ok(p) => Some(Arc::new(p)),
            Err(authority::AuthorityError::Unauthenticated(_)) => {
                if let Err(error) = d
                    .authority
                    .end_sessions_of(&session.org, &session.actor)
                    .await
                {
                    tracing::warn!(%error, "could not end a dead key's or member's sessions");
                }
                None
            }
            Err(error) => {
                // Fail closed: no principal this time, the session stays.
                tracing::warn!(%error, "could not re-check a session's key");
                None
            }
        }
    }
}

/// The middleware: CSRF check, session resolution, sign-in redirects.
pub async fn layer(
    State(state): State<SessionLayerState>,
    mut req: Request,
    next: Next,
) -> Response {
    let secure = state.dashboard.secure_cookies;
    if super::csrf::state_changing(req.method()) && !super::csrf::same_origin(req.headers(), secure)
    {
        return (
            StatusCode::FORBIDDEN,
            "cross-origin request refused: the dashboard accepts changes only from its own pages",
        )
            .into_response();
    }
    if let Some(ClientAddr(addr)) = req.extensions().get::<ClientAddr>().copied() {
        req.extensions_mut().insert(ClientIp(addr.to_string()));
    }
    let had_cookie = cookie::present(req.headers(), secure);
    let signed_in = match cookie::read(req.headers(), secure) {
        Some(token) => state
            .principal(&token)
            .await
            .map(|principal| SignedIn { principal, token }),
        None => None,
    };
    let path = req.uri().path().to_owned();
    let is_page = req.method() == axum::http::Method::GET;
    let protected = PROTECTED
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")));
    let signed = signed_in.is_some();
    if let Some(s) = signed_in {
        req.extensions_mut().insert(s);
    }
    let mut response = if is_page && protected && !signed {
        Redirect::to("/sign-in").into_response()
    } else if is_page && path == "/sign-in" && signed {
        Redirect::to("/keys").into_response()
    } else {
        next.run(req).await
    };
    // A dead session's cookie is cleared, so the browser stops sending it.
    if had_cookie && !signed && !response.headers().contains_key(header::SET_COOKIE) {
        if let Ok(v) = HeaderValue::from_str(&cookie::clear_cookie(secure)) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}
