//! `GET /dashboard/export?format=csv|ndjson&<explorer filters>`: the audit
//! export for the signed-in session, same-origin so the session cookie
//! authenticates it. Filters parse exactly as the explorer's (so the file
//! holds what the page shows); the streaming is `crate::export`'s, shared
//! with the REST API.

use app::model::AuditFilters;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;

use super::SessionLayerState;

#[derive(Debug, Deserialize)]
pub struct ExportParams {
    format: Option<String>,
    #[serde(flatten)]
    filters: AuditFilters,
}

pub async fn export(
    State(state): State<SessionLayerState>,
    signed_in: Option<Extension<app::session::server::SignedIn>>,
    Query(params): Query<ExportParams>,
) -> Response {
    let Some(Extension(signed_in)) = signed_in else {
        return (
            StatusCode::UNAUTHORIZED,
            "You are signed out. Sign in to the dashboard, then export again.",
        )
            .into_response();
    };
    let authority = state.dashboard.authority.clone();
    let filter = match app::audit::filter_for_export(&params.filters, authority.now()) {
        Ok(filter) => filter,
        Err(error) => return (StatusCode::UNPROCESSABLE_ENTITY, error.to_string()).into_response(),
    };
    match crate::export::stream(
        authority,
        signed_in.principal,
        filter,
        params.format.as_deref(),
    )
    .await
    {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}
