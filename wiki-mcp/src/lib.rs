//! wiki-mcp: a demo MCP tool server guarded by acekeys.
//!
//! - [`wiki`]: the tools (`read_page`, `search_pages`, `write_page`,
//!   `write_kb`, `org_report`) over in-memory pages. No auth code in them.
//! - [`tool_scopes`]: the one place that says which scope each tool needs.
//! - [`router`]: rmcp's Streamable HTTP service at `/mcp`, wrapped in the
//!   acekeys guard layer, and the resource's metadata document
//!   (`/.well-known/oauth-protected-resource/mcp`): the public listener.
//! - [`status_router`]: an unauthenticated `/status` (the guard's health
//!   and counters), served only on its own listener (`--status-addr`), so
//!   whoever can reach the MCP endpoint cannot read spool counts or the
//!   degraded state.
//! - [`startup`]: building the guard in local or remote mode.

pub mod startup;
pub mod wiki;

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use guard::{Guard, GuardError, ToolScopes};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tower::Layer as _;

pub use wiki::Wiki;

/// The scope each tool requires, declared once.
pub fn tool_scopes() -> Result<ToolScopes, GuardError> {
    ToolScopes::new()
        .tool("read_page", "svc:wiki:read", "read wiki pages")?
        .tool("search_pages", "svc:wiki:read", "search wiki pages")?
        .tool("write_page", "svc:wiki:write", "create and edit wiki pages")?
        .tool("write_kb", "svc:kb:write", "add knowledge-base entries")?
        .tool("org_report", "admin:org", "org usage report")
}

#[derive(Clone)]
struct StatusState {
    guard: Guard,
    wiki: Wiki,
}

/// `/mcp`, the guarded MCP endpoint, and its OAuth protected resource
/// metadata (RFC 9728) when the guard serves as one ([`Guard::serve_as`];
/// call that first). `allowed_hosts` are the Host headers rmcp accepts (it
/// refuses non-loopback hosts by default, a DNS-rebinding defence).
pub fn router(guard: Guard, wiki: Wiki, allowed_hosts: Vec<String>) -> Router {
    let factory = wiki.clone();
    let mcp = StreamableHttpService::new(
        move || Ok(factory.clone()),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default().with_allowed_hosts(allowed_hosts),
    );
    Router::new()
        .route_service("/mcp", guard.layer().layer(mcp))
        .merge(guard::metadata_router(guard))
}

/// `GET /status`, for a listener of its own: it needs no key, so it must not
/// be reachable where the MCP endpoint is.
pub fn status_router(guard: Guard, wiki: Wiki) -> Router {
    Router::new()
        .route("/status", get(status))
        .with_state(StatusState { guard, wiki })
}

async fn status(State(state): State<StatusState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "guard": state.guard.status(),
        "tool_bodies_run": state.wiki.bodies_run(),
        "pages": state.wiki.page_count(),
    }))
}
