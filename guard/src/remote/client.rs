//! The authority's REST API as the remote guard uses it: introspection and
//! audit ingest. The service key travels only in the Authorization header.

use std::sync::Arc;

use authority::oauth::{ClientId, ResourceId, TokenOrigin};
use authority::time::Timestamp;
use authority::{KeyContext, RawKey};
use model::wire::{
    ErrorEnvelope, IntrospectAnswer, IntrospectRequest, RegisterScopesBody, ScopeRegistration,
};

/// Why a call to the authority failed. Never contains a key.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    #[error("cannot reach the authority: {0}")]
    Transport(String),
    #[error("the authority refused the guard's service key ({status}): {message}")]
    ServiceKey { status: u16, message: String },
    #[error("the authority rejected the request ({status}): {message}")]
    Rejected { status: u16, message: String },
    #[error("the authority answered {status}: {message}")]
    Server { status: u16, message: String },
    #[error("unexpected answer from the authority: {0}")]
    Protocol(String),
}

/// The REST API client.
pub(crate) struct AuthorityApi {
    http: reqwest::Client,
    base: String,
    service_key: Arc<RawKey>,
}

impl AuthorityApi {
    pub(crate) fn new(http: reqwest::Client, base: String, service_key: Arc<RawKey>) -> Self {
        Self {
            http,
            base,
            service_key,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub(crate) fn bearer(&self) -> String {
        format!("Bearer {}", self.service_key.expose_secret())
    }

    /// `Ok(None)`: the key is not active (unknown, expired, revoked,
    /// another org's).
    pub(crate) async fn introspect(&self, raw: &str) -> Result<Option<KeyContext>, ApiError> {
        let response = self
            .http
            .post(self.url("/api/v1/introspect"))
            .header(reqwest::header::AUTHORIZATION, self.bearer())
            .json(&IntrospectRequest {
                token: RawKey::new_unchecked(raw.to_owned()),
            })
            .send()
            .await
            .map_err(transport)?;
        let response = check(response).await?;
        let answer: IntrospectAnswer = response
            .json()
            .await
            .map_err(|e| ApiError::Protocol(e.without_url().to_string()))?;
        if !answer.active {
            return Ok(None);
        }
        context_of(answer).map(Some)
    }

    /// `POST /api/v1/keys/{id}/quarantine` with the rule that tripped; the
    /// service key needs `svc:keys:quarantine`.
    pub(crate) async fn quarantine(
        &self,
        key: &authority::KeyId,
        rule: authority::wire::QuarantineRule,
        evidence: &str,
    ) -> Result<(), ApiError> {
        let response = self
            .http
            .post(self.url(&format!("/api/v1/keys/{key}/quarantine")))
            .header(reqwest::header::AUTHORIZATION, self.bearer())
            .json(&serde_json::json!({ "rule": rule, "reason": evidence }))
            .send()
            .await
            .map_err(transport)?;
        check(response).await.map(drop)
    }

    /// `POST /api/v1/keys/{id}/allowance`: calls of one limit `key`
    /// counts against; the service key needs `svc:keys:introspect`.
    pub(crate) async fn allowance(
        &self,
        key: &authority::KeyId,
        request: &model::wire::AllowanceRequest,
    ) -> Result<model::wire::AllowanceGrant, ApiError> {
        let response = self
            .http
            .post(self.url(&format!("/api/v1/keys/{key}/allowance")))
            .header(reqwest::header::AUTHORIZATION, self.bearer())
            .json(request)
            .send()
            .await
            .map_err(transport)?;
        check(response)
            .await?
            .json()
            .await
            .map_err(|e| ApiError::Protocol(e.without_url().to_string()))
    }

    /// `GET /api/v1/org/settings`: the service key's org's guardrail
    /// settings (`svc:keys:introspect`).
    pub(crate) async fn org_settings(&self) -> Result<model::wire::OrgSettings, ApiError> {
        let response = self
            .http
            .get(self.url("/api/v1/org/settings"))
            .header(reqwest::header::AUTHORIZATION, self.bearer())
            .send()
            .await
            .map_err(transport)?;
        check(response)
            .await?
            .json()
            .await
            .map_err(|e| ApiError::Protocol(e.without_url().to_string()))
    }

    /// `POST /api/v1/scopes`: adds this server's tool scopes to the
    /// authority's catalog (add-only there, so repeating it is harmless).
    pub(crate) async fn register_scopes(
        &self,
        scopes: &[ScopeRegistration],
    ) -> Result<(), ApiError> {
        if scopes.is_empty() {
            return Ok(());
        }
        let response = self
            .http
            .post(self.url("/api/v1/scopes"))
            .header(reqwest::header::AUTHORIZATION, self.bearer())
            .json(&RegisterScopesBody {
                scopes: scopes.to_vec(),
            })
            .send()
            .await
            .map_err(transport)?;
        check(response).await.map(drop)
    }

    /// Registers, and says in the log when it cannot (the guard still
    /// works; keys just cannot be minted for scopes the authority lacks).
    pub(crate) async fn register_scopes_or_warn(&self, scopes: &[ScopeRegistration]) {
        if let Err(error) = self.register_scopes(scopes).await {
            tracing::warn!(%error, "could not add this server's tool scopes to the authority's catalog (does the service key have svc:catalog:write?)");
        }
    }

    /// `POST /api/v1/audit/events` with a body already encoded (an
    /// `IngestBody`: the shipper sizes it in bytes before sending); `Ok`
    /// once the authority says every event is durable (201).
    pub(crate) async fn ingest_json(&self, body: String) -> Result<(), ApiError> {
        let response = self
            .http
            .post(self.url("/api/v1/audit/events"))
            .header(reqwest::header::AUTHORIZATION, self.bearer())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(transport)?;
        check(response).await.map(drop)
    }
}

pub(crate) fn transport(e: reqwest::Error) -> ApiError {
    ApiError::Transport(e.without_url().to_string())
}

/// Maps non-success statuses to typed errors, with the server's message.
/// Only statuses that blame the request itself are [`ApiError::Rejected`]
/// (400, 409, 413, 422); a 404 means the endpoint is missing (a wrong URL,
/// an older authority), so it is retried like a server error rather than
/// held against the events sent.
pub(crate) async fn check(response: reqwest::Response) -> Result<reqwest::Response, ApiError> {
    let status = response.status().as_u16();
    if response.status().is_success() {
        return Ok(response);
    }
    let text = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<ErrorEnvelope>(&text)
        .map(|envelope| envelope.error.message)
        .unwrap_or_else(|_| text.chars().take(200).collect());
    Err(match status {
        401 | 403 => ApiError::ServiceKey { status, message },
        400 | 409 | 413 | 422 => ApiError::Rejected { status, message },
        _ => ApiError::Server { status, message },
    })
}

/// The principal an active introspection answer describes; every field an
/// active answer must carry is required.
fn context_of(answer: IntrospectAnswer) -> Result<KeyContext, ApiError> {
    let bad = |what: &str| ApiError::Protocol(format!("introspection answer has no valid {what}"));
    let key_id = answer.key_id.ok_or_else(|| bad("key_id"))?;
    Ok(KeyContext {
        name: key_id.to_string(),
        key_id,
        org: answer.org.ok_or_else(|| bad("org"))?,
        env: answer.env.ok_or_else(|| bad("env"))?,
        agent: answer.agent,
        scopes: answer.scopes.ok_or_else(|| bad("scopes"))?,
        // An authority that predates `expires_at` sends only RFC 7662's `exp`.
        expires_at: answer
            .expires_at
            .or_else(|| answer.exp.map(Timestamp::from_secs)),
        created_by: None,
        person: None,
        resources: answer
            .aud
            .iter()
            .map(|r| ResourceId::parse(r).map_err(|_| bad("aud")))
            .collect::<Result<_, _>>()?,
        oauth: match (answer.grant_id, answer.client_id) {
            (Some(grant), Some(client)) => Some(TokenOrigin {
                grant,
                client: ClientId::parse(&client).ok_or_else(|| bad("client_id"))?,
            }),
            _ => None,
        },
        networks: authority::guardrails::AddressRanges::parse(
            answer.allowed_networks.iter().map(String::as_str),
            usize::MAX,
        )
        .map_err(|_| bad("allowed_networks"))?,
        metadata: match answer.metadata {
            Some(map) => authority::guardrails::KeyMetadata::parse(serde_json::Value::Object(map))
                .map_err(|_| bad("metadata"))?,
            None => None,
        },
        limits: authority::guardrails::KeyLimits::from_views(&answer.limits)
            .map_err(|_| bad("limits"))?,
    })
}
