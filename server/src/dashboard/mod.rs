//! The dashboard's HTTP plumbing: sessions from the cookie, the CSRF origin
//! check, the Content-Security-Policy with a per-request nonce, and the
//! audit export download. The pages and server functions are `app`'s.
//!
//! Order of the middleware on every dashboard request (pages, server
//! functions, the export): origin check for state-changing methods → session
//! resolution (cookie → session table → the authority re-checks the key) →
//! sign-in redirects for pages.

mod apps;
mod consent;
pub mod csp;
pub mod csrf;
mod export;
pub mod session;

pub use session::SessionLayerState;

use axum::routing::{get, post};
use axum::Router;

/// The dashboard-only routes (merged beside the Leptos routes); `issuer`
/// is the OAuth issuer the consent answers carry.
pub fn routes(state: SessionLayerState, issuer: &str) -> Router {
    let consent = consent::ConsentState {
        authority: state.dashboard.authority.clone(),
        issuer: issuer.trim_end_matches('/').into(),
    };
    Router::new()
        .route("/dashboard/export", get(export::export))
        .with_state(state)
        .merge(
            Router::new()
                .route("/oauth/consent", post(consent::decide))
                .route("/apps/revoke", post(apps::revoke))
                .with_state(consent),
        )
}
