//! The scope each endpoint requires (DESIGN.md, "HTTP API"), as types, so
//! a handler's signature says what it needs and authentication runs before
//! its body is read.
//!
//! `admin:org` implies all of these inside the caller's org, so an org
//! admin key passes every check without being named here.

use std::marker::PhantomData;
use std::net::IpAddr;
use std::sync::Arc;

use authority::{KeyContext, Scope};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::ApiState;
use crate::client_addr::ClientAddr;
use crate::error::ApiError;

/// A scope an endpoint requires.
pub trait RequiredScope: Send + Sync + 'static {
    fn scope() -> Scope;
}

macro_rules! required_scope {
    ($(#[$doc:meta])* $name:ident = $service:literal : $action:literal) => {
        $(#[$doc])*
        pub struct $name;
        impl RequiredScope for $name {
            fn scope() -> Scope {
                Scope::service($service, $action)
            }
        }
    };
}

required_scope!(
    /// `svc:keys:read`: list and get keys, the scope catalog.
    KeysRead = "keys": "read"
);
required_scope!(
    /// `svc:keys:write`: mint, revoke, rotate, bulk revoke.
    KeysWrite = "keys": "write"
);
required_scope!(
    /// `svc:keys:admin`: the incident switch (bulk revoke).
    KeysAdmin = "keys": "admin"
);
required_scope!(
    /// `svc:keys:introspect`: tool servers checking keys, revocation stream.
    KeysIntrospect = "keys": "introspect"
);
required_scope!(
    /// `svc:catalog:write`: tool servers adding their tools' scopes.
    CatalogWrite = "catalog": "write"
);
required_scope!(
    /// `svc:audit:read`: query and export the audit trail.
    AuditRead = "audit": "read"
);
required_scope!(
    /// `svc:keys:quarantine`: guards whose guardrail rule tripped (and
    /// anyone with `svc:keys:admin`).
    KeysQuarantine = "keys": "quarantine"
);
required_scope!(
    /// `svc:audit:write`: remote tool servers ingesting events.
    AuditWrite = "audit": "write"
);

/// The authenticated caller of an endpoint that requires `S`.
pub struct Authed<S> {
    pub principal: Arc<KeyContext>,
    /// The key as presented, for long-lived streams that re-check it.
    pub raw_key: String,
    /// The caller's address ([`client_ip`]), for the same re-check.
    pub client: IpAddr,
    _scope: PhantomData<S>,
}

impl<S: RequiredScope> FromRequestParts<ApiState> for Authed<S> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let client = client_ip(parts);
        let started = std::time::Instant::now();
        let result = state
            .gate
            .authorize(&state.authority, &parts.headers, client, &S::scope())
            .await;
        crate::metrics::validation_latency(started.elapsed());
        let principal = result?;
        let raw_key = super::auth::bearer_key(&parts.headers)?.to_owned();
        Ok(Self {
            principal,
            raw_key,
            client,
            _scope: PhantomData,
        })
    }
}

/// The client address [`crate::client_addr`] resolved for this request.
pub fn client_ip(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ClientAddr>()
        .map_or(IpAddr::from([127, 0, 0, 1]), |ClientAddr(ip)| *ip)
}

/// `admin:org`: org-wide settings (webhook endpoints).
pub struct OrgAdmin;
impl RequiredScope for OrgAdmin {
    fn scope() -> Scope {
        Scope::AdminOrg
    }
}
