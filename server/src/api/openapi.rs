//! The OpenAPI 3.1 document of the REST API, generated from the router
//! itself (`utoipa-axum`: every route is added from its handler's
//! `#[utoipa::path]`), and the very types the handlers parse and render (the
//! model crate's wire types, with its `openapi` feature), and a readable
//! reference page built from the same document. Both are built once, at
//! first use.
//!
//! The schemathesis run in the test command checks real responses against
//! the document.

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use std::sync::LazyLock;

use model::wire;

use crate::html::escape;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "acekeys API",
        description = "Scoped, auditable, revocable API keys for AI agents. Every endpoint takes `Authorization: Bearer ace_…` and answers errors as `{\"error\": {\"code\", \"message\"}}`.",
        version = "1"
    ),
    servers((url = "/api/v1")),
    components(schemas(
        wire::ErrorEnvelope, wire::ErrorBody, wire::MintRequest, wire::KeyView, wire::MintedKey,
        wire::KeyList, wire::RevokeBody, wire::RotateRequest, wire::RotatedKey,
        wire::BulkRevokeBody, wire::BulkRevokeResult, wire::IntrospectRequest,
        wire::IntrospectAnswer, model::audit::AuditEvent, wire::AuditPage, wire::TimelineBucket,
        wire::TimelineAnswer, wire::IngestBody, wire::ToolCall, wire::IngestAnswer,
        wire::ScopeCatalogAnswer, model::scopes::ServiceInfo, model::scopes::ActionInfo,
        wire::RegisterScopesBody, wire::ScopeRegistration, wire::RegisteredScopes,
        wire::WebhookRequest, wire::WebhookView, wire::WebhookWithSecret, wire::WebhookList,
        wire::WebhookEventType, wire::DeliveryLog, wire::DeliveryView, wire::DeliveryState,
        wire::OrgSettings, wire::RuleSettings, wire::LeakResponseSetting
    )),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

/// The answers every authenticated endpoint can give before its own logic
/// runs; declared once, listed in each operation.
#[derive(utoipa::IntoResponses)]
pub enum AuthFailures {
    /// Missing, malformed, unknown, expired or revoked key.
    #[response(
        status = 401,
        description = "Missing, malformed, unknown, expired or revoked key"
    )]
    Unauthorized(wire::ErrorEnvelope),
    /// The key lacks the endpoint's scope.
    #[response(
        status = 403,
        description = "The key lacks the required scope (named in the message)"
    )]
    Forbidden(wire::ErrorEnvelope),
    /// Too many failed authentications from the caller's address.
    #[response(
        status = 429,
        description = "Too many failed authentications from this address"
    )]
    RateLimited(wire::ErrorEnvelope),
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An acekeys key: `ace_live_…` or `ace_test_…`"))
                    .build(),
            ),
        );
    }
}

/// The whole document: the info and schemas above plus every route of the
/// v1 router.
pub fn document() -> utoipa::openapi::OpenApi {
    super::v1_routes().into_openapi()
}

/// The document as JSON, built once.
static SPEC_JSON: LazyLock<Result<String, String>> =
    LazyLock::new(|| document().to_pretty_json().map_err(|e| e.to_string()));

/// The reference page, built once.
static REFERENCE_PAGE: LazyLock<String> = LazyLock::new(|| render_reference(&document()));

/// `GET /api/openapi.json`
pub async fn spec() -> Response {
    match &*SPEC_JSON {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json.as_str()).into_response(),
        Err(cause) => {
            tracing::error!(cause, "cannot serialize the OpenAPI document");
            crate::error::ApiError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the API description could not be built; see the server log",
            )
            .into_response()
        }
    }
}

/// `GET /api/docs`: the same document as a plain, script-free HTML page.
pub async fn reference_page() -> Html<&'static str> {
    Html(REFERENCE_PAGE.as_str())
}

fn render_reference(doc: &utoipa::openapi::OpenApi) -> String {
    let mut html = String::from(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>acekeys API reference</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#0f172a}\
         code{background:#f1f5f9;padding:0 .25rem;border-radius:.25rem}h2{margin-top:2rem;border-top:1px solid #e2e8f0;padding-top:1rem}\
         .m{display:inline-block;min-width:4rem;font-weight:700}td,th{text-align:left;padding:.15rem .75rem .15rem 0;vertical-align:top}</style>\
         </head><body><h1>acekeys API reference</h1>",
    );
    html.push_str(&format!(
        "<p>{}</p><p>Base path <code>/api/v1</code>. Machine-readable: <a href=\"/api/openapi.json\">/api/openapi.json</a>.</p>",
        escape(doc.info.description.as_deref().unwrap_or_default())
    ));
    for (path, item) in &doc.paths.paths {
        for (method, operation) in [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("DELETE", &item.delete),
        ] {
            let Some(operation) = operation else { continue };
            html.push_str(&format!(
                "<h2><span class=\"m\">{method}</span> <code>/api/v1{}</code></h2>",
                escape(path)
            ));
            if let Some(summary) = &operation.summary {
                html.push_str(&format!("<p><strong>{}</strong></p>", escape(summary)));
            }
            if let Some(description) = &operation.description {
                html.push_str(&format!("<p>{}</p>", escape(description)));
            }
            html.push_str("<table><tr><th>status</th><th>meaning</th></tr>");
            for (status, response) in &operation.responses.responses {
                let text = match response {
                    utoipa::openapi::RefOr::T(response) => response.description.clone(),
                    utoipa::openapi::RefOr::Ref(reference) => reference.ref_location.clone(),
                };
                html.push_str(&format!(
                    "<tr><td><code>{}</code></td><td>{}</td></tr>",
                    escape(status),
                    escape(&text)
                ));
            }
            html.push_str("</table>");
        }
    }
    html.push_str("</body></html>");
    html
}
