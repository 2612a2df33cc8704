//! Resolving the session cookie on every dashboard request.
//!
//! The session is read from the store (so any server sharing it accepts
//! the cookie, and a restart signs nobody out) and the key behind it is
//! re-checked through the authority (`session_principal`, which loads the
//! key record) on every request: the request after a revocation, on any
//! server, is signed out, and the key's sessions are deleted.

use std::sync::Arc;

use app::session::cookie;
use app::session::server::{ClientIp, DashboardState, SessionUnavailable, SignedIn};
use authority::{Authority, KeyContext};
use axum::extract::{Request, State};

use crate::client_addr::ClientAddr;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

/// Pages that need a session; anything else renders signed out.
const PROTECTED: [&str; 9] = [
    "/keys",
    "/incident",
    "/audit",
    "/members",
    "/apps",
    "/oauth/authorize",
    "/leaks",
    "/webhooks",
    "/settings",
];

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
    async fn resolve(&self, token: &authority::sessions::SessionToken) -> Resolved {
        let d = &self.dashboard;
        let session = match d.authority.resume_session(token).await {
            Ok(Some(session)) => session,
            Ok(None) => return Resolved::Gone,
            Err(error) => {
                // Fail closed, and keep the session: a store that blinks
                // must not sign everyone out.
                tracing::warn!(%error, "could not read a session");
                return Resolved::Unavailable;
            }
        };
        match d.authority.session_principal(&session).await {
            Ok(p) => Resolved::Signed(Arc::new(p)),
            Err(authority::AuthorityError::Unauthenticated(_)) => {
                if let Err(error) = d
                    .authority
                    .end_sessions_of(&session.org, &session.actor)
                    .await
                {
                    tracing::warn!(%error, "could not end a dead key's or member's sessions");
                }
                Resolved::Gone
            }
            Err(error) => {
                tracing::warn!(%error, "could not re-check a session's key");
                Resolved::Unavailable
            }
        }
    }
}

/// What a session cookie turned out to be.
enum Resolved {
    Signed(Arc<KeyContext>),
    /// Unknown, expired, or its key or member is gone: the cookie is cleared.
    Gone,
    /// The store could not be read: no principal this time, the cookie stays.
    Unavailable,
}

/// Where a signed-out visit to a protected page goes: the sign-in page,
/// which for the consent page remembers it (`next`), so an app's
/// authorization request survives the person signing in first.
fn sign_in_path(uri: &axum::http::Uri) -> String {
    if uri.path() != "/oauth/authorize" {
        return "/sign-in".to_owned();
    }
    let target = uri
        .path_and_query()
        .map_or("/oauth/authorize", |pq| pq.as_str());
    let next: String = form_urlencoded::byte_serialize(target.as_bytes()).collect();
    format!("/sign-in?next={next}")
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
    let (signed_in, unavailable) = match cookie::read(req.headers(), secure) {
        Some(token) => match state.resolve(&token).await {
            Resolved::Signed(principal) => (Some(SignedIn { principal, token }), false),
            Resolved::Gone => (None, false),
            Resolved::Unavailable => (None, true),
        },
        None => (None, false),
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
    if unavailable {
        req.extensions_mut().insert(SessionUnavailable);
        if is_page && protected {
            let mut response = (
                StatusCode::SERVICE_UNAVAILABLE,
                "The key authority is temporarily unavailable, so your session could not be \
                 checked. You are still signed in: reload in a moment.",
            )
                .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return response;
        }
    }
    let mut response = if is_page && protected && !signed {
        Redirect::to(&sign_in_path(req.uri())).into_response()
    } else if is_page && path == "/sign-in" && signed {
        Redirect::to("/keys").into_response()
    } else {
        next.run(req).await
    };
    // A dead session's cookie is cleared, so the browser stops sending it
    // (not one that could not be checked: it may be alive).
    if had_cookie && !signed && !unavailable && !response.headers().contains_key(header::SET_COOKIE)
    {
        if let Ok(v) = HeaderValue::from_str(&cookie::clear_cookie(secure)) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use authority::sessions::SessionActor;
    use authority::store::fault::FaultyStore;
    use authority::store::{SqliteStore, Store};
    use authority::{AuthorityConfig, BootstrapRequest, Env, Pepper};
    use axum::body::Body;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    /// A store that cannot be read (an outage a healthy SQLite file cannot
    /// have, hence the fault wrapper) signs nobody out: the protected page
    /// answers 503 and the cookie stays; once the store is back, the same
    /// cookie works. A cookie that names no session is still cleared.
    #[tokio::test]
    async fn a_store_outage_keeps_the_session_and_answers_503() {
        let dir = tempfile::tempdir().unwrap();
        let sqlite: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
        let faulty = Arc::new(FaultyStore::new(sqlite));
        let authority = Authority::new(
            faulty.clone(),
            Pepper::random(),
            Env::Live,
            AuthorityConfig::default(),
        );
        let admin = authority
            .bootstrap(BootstrapRequest::new("acme"))
            .await
            .unwrap();
        let token = authority
            .start_session(&admin.view.org, SessionActor::Key(admin.view.id.clone()))
            .await
            .unwrap();
        let set_cookie = cookie::session_cookie(&token, false, 3600);
        let session = set_cookie.split(';').next().unwrap().to_owned();
        let state = SessionLayerState::new(
            authority,
            false,
            Arc::new(authority::throttle::FailureThrottle::new(20)),
        );
        let app = Router::new()
            .route("/keys", get(|| async { "the keys page" }))
            .layer(axum::middleware::from_fn_with_state(state, layer));
        let get_keys = |cookie: String| {
            let app = app.clone();
            async move {
                let request = Request::builder()
                    .uri("/keys")
                    .header(header::COOKIE, cookie)
                    .body(Body::empty())
                    .unwrap();
                app.oneshot(request).await.unwrap()
            }
        };

        faulty.set_down(true);
        let during = get_keys(session.clone()).await;
        assert_eq!(during.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            !during.headers().contains_key(header::SET_COOKIE),
            "the cookie of a session that could not be checked is kept"
        );
        assert_eq!(during.headers()[header::RETRY_AFTER], "1");

        faulty.set_down(false);
        let after = get_keys(session).await;
        assert_eq!(after.status(), StatusCode::OK, "still signed in");

        let forged = get_keys(format!("{}=forged", cookie::NAME)).await;
        assert_eq!(forged.status(), StatusCode::SEE_OTHER);
        assert!(forged.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0"));
    }
}
