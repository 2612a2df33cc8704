//! The REST API v1 (`/api/v1`): JSON in, JSON out, errors in one envelope.
//!
//! Handlers are thin: authenticate for the endpoint's scope (the
//! [`required::Authed`] extractor), parse, call one authority method, map
//! the error. Nothing here decides who may do what.

pub mod audit;
pub mod auth;
pub mod introspect;
pub mod json;
pub mod keys;
pub mod leaks;
pub mod limits;
pub mod openapi;
pub mod org_settings;
pub mod query;
pub mod required;
pub mod revocations;
pub mod scopes;
pub mod webhooks;

use std::sync::Arc;

use authority::Authority;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::auth::AuthGate;
use crate::error::ApiError;

/// What every handler can reach.
#[derive(Clone)]
pub struct ApiState {
    pub authority: Authority,
    pub gate: Arc<AuthGate>,
    /// Open revocation streams per key.
    pub streams: Arc<revocations::StreamSlots>,
}

/// The `/api/v1` endpoints. Each route's path and method come from its
/// handler's `#[utoipa::path]`, so the router and the OpenAPI document
/// ([`openapi::document`]) are one list and cannot drift apart.
fn v1_routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(keys::mint))
        .routes(routes!(keys::bulk_revoke))
        .routes(routes!(keys::list))
        .routes(routes!(keys::get))
        .routes(routes!(keys::revoke))
        .routes(routes!(keys::rotate))
        .routes(routes!(keys::quarantine))
        .routes(routes!(keys::release))
        .routes(routes!(limits::set))
        .routes(routes!(limits::allowance))
        .routes(routes!(leaks::github))
        .routes(routes!(org_settings::get, org_settings::put))
        .routes(routes!(webhooks::create, webhooks::list))
        .routes(routes!(webhooks::rotate))
        .routes(routes!(webhooks::delete))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(introspect::introspect))
        .routes(routes!(revocations::stream))
        .routes(routes!(audit::query))
        .routes(routes!(audit::export))
        .routes(routes!(audit::timeline))
        .routes(routes!(audit::verify))
        .routes(routes!(audit::ingest))
        .routes(routes!(audit::event))
        .routes(routes!(scopes::catalog, scopes::register))
}

/// The `/api/v1` router (mounted by the caller), plus `/api/openapi.json`.
pub fn router(state: ApiState) -> Router {
    let v1 = Router::from(v1_routes())
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such endpoint; see /api/openapi.json",
            )
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not accept that method; see /api/openapi.json",
            )
        })
        .layer(DefaultBodyLimit::max(json::MAX_BODY_BYTES))
        .with_state(state);
    Router::new()
        .nest("/api/v1", v1)
        .route("/api/openapi.json", get(openapi::spec))
        .route("/api/docs", get(openapi::reference_page))
}
