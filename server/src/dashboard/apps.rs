//! `POST /apps/revoke`: the Connected apps page's revoke button, a plain
//! form post (it works without the WASM bundle) behind the dashboard's
//! origin check and session. One authority call, then back to the page.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;

use super::consent::ConsentState;

pub async fn revoke(
    State(state): State<ConsentState>,
    signed_in: Option<Extension<app::session::server::SignedIn>>,
    body: Bytes,
) -> Response {
    let Some(Extension(signed_in)) = signed_in else {
        return Redirect::to("/sign-in").into_response();
    };
    let id = form_urlencoded::parse(&body)
        .find(|(k, _)| k == "grant")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    match state
        .authority
        .revoke_grant(&signed_in.principal, &id)
        .await
    {
        Ok(_) => Redirect::to("/apps").into_response(),
        Err(e) => {
            if let Some(cause) = e.internal_cause() {
                tracing::warn!(%cause, "revoking a grant failed");
            }
            (crate::error::status_of(&e), e.to_string()).into_response()
        }
    }
}
