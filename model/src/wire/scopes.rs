//! Bodies of `/scopes`: the catalog, and tool servers adding their scopes.

use serde::{Deserialize, Serialize};

use crate::scopes::ServiceInfo;

/// One scope a tool requires, with its one-line description.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScopeRegistration {
    /// `svc:<service>:<action>` or `<action>:<service>`.
    pub scope: String,
    /// One line, 1-200 characters.
    pub description: String,
}

/// `POST /scopes`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegisterScopesBody {
    /// 1-200 scopes.
    pub scopes: Vec<ScopeRegistration>,
}

/// What a registration did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisteredScopes {
    /// Canonical forms of every scope in the request.
    pub scopes: Vec<String>,
    /// How many of them were new to the catalog.
    pub added: usize,
}

/// `GET /scopes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = ScopeCatalog))]
pub struct ScopeCatalogAnswer {
    pub services: Vec<ServiceInfo>,
}
