//! The OpenAPI 3.1 document of the REST API, generated from the handlers'
//! `#[utoipa::path]` annotations, and a readable reference page built from
//! the same document.
//!
//! The schema types below describe the wire shapes of authority types
//! (which stay free of HTTP documentation crates). The schemathesis run in
//! the test command checks real responses against them, so a drift between
//! the two fails the build.

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "acekeys API",
        description = "Scoped, auditable, revocable API keys for AI agents. Every endpoint takes `Authorization: Bearer ace_…` and answers errors as `{\"error\": {\"code\", \"message\"}}`.",
        version = "1"
    ),
    servers((url = "/api/v1")),
    paths(
        super::keys::mint,
        super::keys::list,
        super::keys::get,
        super::keys::revoke,
        super::keys::rotate,
        super::keys::bulk_revoke,
        super::introspect::introspect,
        super::revocations::stream,
        super::audit::query,
        super::audit::event,
        super::audit::timeline,
        super::audit::verify,
        super::audit::export,
        super::audit::ingest,
        super::scopes::catalog,
        super::scopes::register,
    ),
    components(schemas(
        ErrorEnvelope, ErrorBody, MintBody, KeyView, MintedKey, KeyList, RevokeBody, RotateBody,
        RotatedKey, BulkRevokeBody, BulkRevokeResult, IntrospectBody, IntrospectAnswer,
        AuditEvent, AuditPage, TimelineBucket, Timeline, IngestBody, ToolCall, IngestAnswer,
        ScopeCatalog, ServiceInfo, ActionInfo, RegisterScopesBody, ScopeRegistration,
        RegisteredScopes
    )),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

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

/// `GET /api/openapi.json`
pub async fn spec() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        ApiDoc::openapi().to_pretty_json().unwrap_or_default(),
    )
        .into_response()
}

/// `GET /api/docs`: the same document as a plain, script-free HTML page.
pub async fn reference_page() -> Html<String> {
    let doc = ApiDoc::openapi();
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
    Html(html)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

// ---- Wire shapes (documentation only; see the module docs) ----

/// Every error: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Serialize, ToSchema)]
pub struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `invalid_key`, `insufficient_scope`.
    code: String,
    /// What went wrong and how to fix it.
    message: String,
}

/// `POST /keys/mint`. `orgId` may also be spelled `org_id`, and
/// `expires_days` `expiresDays`; `expires_days: null` asks for a key that
/// never expires (only where the org allows it).
#[derive(Serialize, ToSchema)]
pub struct MintBody {
    #[serde(rename = "orgId")]
    org_id: Option<String>,
    name: String,
    /// Canonical or short forms: `svc:wiki:read`, `read:wiki`, `org:acme`, `agent:devops`, `admin:org`.
    scopes: Vec<String>,
    /// 1–366, default 90.
    #[schema(minimum = 1, maximum = 366)]
    expires_days: Option<u32>,
    /// `live` or `test`; default the caller's.
    env: Option<String>,
}

/// A key as the API shows it: never the secret.
#[derive(Serialize, ToSchema)]
pub struct KeyView {
    id: String,
    org: String,
    name: String,
    /// `live` or `test`.
    env: String,
    agent: Option<String>,
    scopes: Vec<String>,
    /// `ace_live_aBcD…wXyZ`
    hint: String,
    /// `active`, `expired` or `revoked`.
    status: String,
    created_at: String,
    created_by: Option<String>,
    expires_at: Option<String>,
    revoked_at: Option<String>,
    revoked_by: Option<String>,
    revoke_reason: Option<String>,
    /// Set while a rotation grace period runs.
    revokes_at: Option<String>,
    last_used_at: Option<String>,
    rotated_from: Option<String>,
    rotated_to: Option<String>,
}

/// A new key: the raw `key` is in this response only.
#[derive(Serialize, ToSchema)]
pub struct MintedKey {
    /// The raw key. Shown once; store it now.
    key: String,
    #[serde(flatten)]
    view: KeyView,
}

#[derive(Serialize, ToSchema)]
pub struct KeyList {
    keys: Vec<KeyView>,
}

#[derive(Serialize, ToSchema)]
pub struct RevokeBody {
    reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RotateBody {
    /// Seconds the old key keeps working; default 3600, 0 = revoke now.
    grace_secs: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct RotatedKey {
    successor: MintedKey,
    previous: KeyView,
}

/// Give `agent` for one agent's keys, or `all: true` for the whole org.
#[derive(Serialize, ToSchema)]
pub struct BulkRevokeBody {
    agent: Option<String>,
    all: Option<bool>,
    reason: Option<String>,
    /// Also revoke the calling key (spared by default).
    include_caller: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct BulkRevokeResult {
    revoked: u64,
    key_ids: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct IntrospectBody {
    /// The raw key to check.
    token: String,
}

/// RFC 7662-style; an inactive key has `active: false` and nothing else.
#[derive(Serialize, ToSchema)]
pub struct IntrospectAnswer {
    active: bool,
    key_id: Option<String>,
    org: Option<String>,
    env: Option<String>,
    agent: Option<String>,
    /// Space-separated scopes.
    scope: Option<String>,
    scopes: Option<Vec<String>>,
    /// Expiry, seconds since the epoch.
    exp: Option<i64>,
    token_type: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditEvent {
    id: String,
    ts: String,
    org: String,
    actor_key_id: Option<String>,
    agent: Option<String>,
    /// `tool_call` or `admin`.
    kind: String,
    /// Tool name or admin action.
    action: String,
    required_scope: Option<String>,
    /// `allowed` or `denied`.
    decision: String,
    reason: Option<String>,
    subject: Option<String>,
    server: Option<String>,
    request_id: Option<String>,
    client_ip: Option<String>,
    latency_us: Option<u64>,
    chain: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    events: Vec<AuditEvent>,
    /// Pass as `cursor` for the next (older) page.
    next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TimelineBucket {
    start: String,
    allowed: u64,
    denied: u64,
}

#[derive(Serialize, ToSchema)]
pub struct Timeline {
    buckets: Vec<TimelineBucket>,
}

#[derive(Serialize, ToSchema)]
pub struct ToolCall {
    tool: String,
    /// `allowed` or `denied`.
    decision: String,
    key_id: Option<String>,
    agent: Option<String>,
    required_scope: Option<String>,
    reason: Option<String>,
    server: Option<String>,
    request_id: Option<String>,
    client_ip: Option<String>,
    latency_us: Option<u64>,
    ts: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct IngestBody {
    /// At most 1000 per batch.
    events: Vec<ToolCall>,
}

#[derive(Serialize, ToSchema)]
pub struct IngestAnswer {
    accepted: u64,
    ids: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ActionInfo {
    action: String,
    scope: String,
    description: String,
}

#[derive(Serialize, ToSchema)]
pub struct ServiceInfo {
    service: String,
    description: String,
    actions: Vec<ActionInfo>,
}

#[derive(Serialize, ToSchema)]
pub struct ScopeCatalog {
    services: Vec<ServiceInfo>,
}

#[derive(Serialize, ToSchema)]
pub struct ScopeRegistration {
    /// `svc:<service>:<action>` or `<action>:<service>`.
    scope: String,
    /// One line, 1-200 characters.
    description: String,
}

#[derive(Serialize, ToSchema)]
pub struct RegisterScopesBody {
    /// 1-200 scopes.
    scopes: Vec<ScopeRegistration>,
}

#[derive(Serialize, ToSchema)]
pub struct RegisteredScopes {
    scopes: Vec<String>,
    added: u64,
}
