//! The guarded tool server as an OAuth 2.0 protected resource, as the MCP
//! authorization specification asks of every HTTP MCP server: it publishes
//! its Protected Resource Metadata (RFC 9728) and points to it from every
//! 401 and 403 challenge, so a client that holds no credential yet can find
//! where to get one and which scopes the tools need.
//!
//! The metadata lives at the well-known URI formed from the resource
//! identifier (RFC 9728 §3.1): for `https://wiki.example.com/mcp` that is
//! `https://wiki.example.com/.well-known/oauth-protected-resource/mcp`.
//! [`metadata_router`] serves it there and, for clients that only try the
//! host's root, at `/.well-known/oauth-protected-resource` too.

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use reqwest::Url;
use serde::Serialize;

use super::{Guard, GuardError};
use authority::oauth::ResourceId;

const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// Where this guard's tools are served, and who issues credentials for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectedResource {
    resource: Url,
    /// The same identifier, as tokens are bound to it (kept, not rebuilt
    /// per call: every tool call compares it).
    id: ResourceId,
    authorization_servers: Vec<Url>,
}

/// RFC 9728 §2, the fields this resource publishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceMetadata {
    /// The resource identifier: the MCP endpoint's URL.
    pub resource: String,
    /// Issuers whose access tokens this resource accepts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub authorization_servers: Vec<String>,
    /// Every scope a tool of this server requires.
    pub scopes_supported: Vec<String>,
    /// Credentials are accepted in the `Authorization` header only.
    pub bearer_methods_supported: Vec<&'static str>,
    pub resource_name: String,
}

impl ProtectedResource {
    /// `resource` is the URL clients use for the MCP endpoint; it must be
    /// absolute, without fragment or query (RFC 9728 §1.2), and https unless
    /// its host is loopback (a developer's machine). `authorization_servers`
    /// are issuer URLs under the same rules.
    pub fn new(resource: &str, authorization_servers: &[String]) -> Result<Self, GuardError> {
        let resource = identifier("resource", resource)?;
        Ok(Self {
            id: ResourceId::from_stored(resource.as_str().to_owned()),
            resource,
            authorization_servers: authorization_servers
                .iter()
                .map(|issuer| identifier("authorization server", issuer))
                .collect::<Result<_, _>>()?,
        })
    }

    /// The resource identifier, as clients must name it.
    pub fn resource(&self) -> &str {
        self.resource.as_str()
    }

    /// The identifier access tokens must be bound to, to be accepted here.
    pub fn resource_id(&self) -> &ResourceId {
        &self.id
    }

    /// The path of the metadata document on this resource's host.
    pub fn metadata_path(&self) -> String {
        match self.resource.path() {
            "" | "/" => WELL_KNOWN.to_owned(),
            path => format!("{WELL_KNOWN}{}", path.trim_end_matches('/')),
        }
    }

    /// The metadata document's URL (the challenges' `resource_metadata`).
    pub fn metadata_url(&self) -> String {
        let mut url = self.resource.clone();
        url.set_path(&self.metadata_path());
        url.to_string()
    }

    pub fn metadata(&self, guard: &Guard) -> ResourceMetadata {
        let mut scopes: Vec<String> = guard
            .inner
            .tools
            .iter()
            .map(|(_, tool)| tool.scope.to_string())
            .collect();
        scopes.sort();
        scopes.dedup();
        ResourceMetadata {
            resource: self.resource().to_owned(),
            authorization_servers: self
                .authorization_servers
                .iter()
                .map(|u| u.as_str().trim_end_matches('/').to_owned())
                .collect(),
            scopes_supported: scopes,
            bearer_methods_supported: vec!["header"],
            resource_name: guard
                .inner
                .server
                .clone()
                .unwrap_or_else(|| "MCP tool server".to_owned()),
        }
    }
}

/// An absolute URL without query or fragment, https unless on loopback:
/// the rules of [`ResourceId`], shared with the authority that binds
/// tokens to resources.
fn identifier(what: &str, text: &str) -> Result<Url, GuardError> {
    let id =
        ResourceId::parse(text).map_err(|e| GuardError::Resource(format!("{what} URL: {e}")))?;
    Url::parse(id.as_str()).map_err(|e| GuardError::Resource(format!("{what} URL: {e}")))
}

/// `GET` the metadata document of `guard`'s resource at its well-known
/// paths; empty if the guard was not given one ([`Guard::serve_as`]).
pub fn metadata_router(guard: Guard) -> Router {
    let Some(resource) = guard.protected_resource() else {
        return Router::new();
    };
    let mut router = Router::new().route(WELL_KNOWN, get(metadata));
    let suffixed = resource.metadata_path();
    if suffixed != WELL_KNOWN {
        router = router.route(&suffixed, get(metadata));
    }
    router.with_state(guard)
}

async fn metadata(State(guard): State<Guard>) -> Response {
    let Some(resource) = guard.protected_resource() else {
        return axum::http::StatusCode::NOT_FOUND.into_response();
    };
    let body = serde_json::to_vec(&resource.metadata(&guard)).unwrap_or_default();
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=300"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metadata_uri_is_the_well_known_prefix_before_the_resource_path() {
        let r = ProtectedResource::new("https://wiki.example.com/mcp", &[]).unwrap();
        assert_eq!(
            r.metadata_path(),
            "/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            r.metadata_url(),
            "https://wiki.example.com/.well-known/oauth-protected-resource/mcp"
        );
        let root = ProtectedResource::new("https://wiki.example.com", &[]).unwrap();
        assert_eq!(root.metadata_path(), WELL_KNOWN);
    }

    #[test]
    fn identifiers_are_absolute_https_urls_without_query_or_fragment() {
        for ok in [
            "https://wiki.example.com/mcp",
            "http://127.0.0.1:8090/mcp",
            "http://localhost/mcp",
            "http://[::1]:9/mcp",
        ] {
            assert!(ProtectedResource::new(ok, &[]).is_ok(), "{ok}");
        }
        for bad in [
            "wiki.example.com/mcp",
            "http://wiki.example.com/mcp",
            "https://wiki.example.com/mcp?x=1",
            "https://wiki.example.com/mcp#frag",
            "ftp://wiki.example.com/mcp",
        ] {
            let err = ProtectedResource::new(bad, &[]).unwrap_err().to_string();
            assert!(err.contains(bad), "{bad}: {err}");
        }
        let err = ProtectedResource::new(
            "https://wiki.example.com/mcp",
            &["http://auth.example.com".to_owned()],
        )
        .unwrap_err();
        assert!(err.to_string().contains("authorization server"), "{err}");
    }
}
