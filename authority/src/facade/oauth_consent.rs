//! The authorization endpoint: checking a client's request, the consent
//! page's view of it, and the person's answer (a code, or an error sent
//! back to the client).

use serde::{Deserialize, Serialize};

use super::Authority;
use crate::error::AuthorityError;
use crate::ids::KeyId;
use crate::keys::Env;
use crate::oauth::{
    AuthorizationResponse, AuthorizeError, ClientId, CodeChallenge, DocumentError, OAuthClient,
    OAuthCode, ResourceId, CODE_SECS,
};
use crate::people::TicketPurpose;
use crate::policy::rules;
use crate::policy::{ExpiryChoice, KeyContext, MintRequest};
use crate::scopes::{Scope, ScopeSet};
use crate::time::Timestamp;
use model::wire::{AuthorizationParams, ConsentDecision, ConsentScope, ConsentView};

/// The grant lifetimes the consent page offers, in days.
pub const GRANT_DAYS: [u32; 4] = [1, 7, 30, 90];
pub const DEFAULT_GRANT_DAYS: u32 = 30;
/// The longest `state` a client may send (it comes back in the redirect).
const MAX_STATE: usize = 1024;

/// An authorization request that passed every check.
pub(super) struct CheckedRequest {
    pub(super) client: OAuthClient,
    pub(super) redirect_uri: String,
    pub(super) state: Option<String>,
    pub(super) challenge: CodeChallenge,
    pub(super) resource: ResourceId,
    pub(super) requested: ScopeSet,
}

/// What a code stands for until it is exchanged (a ticket's payload).
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct CodeGrant {
    pub(super) client_id: ClientId,
    pub(super) client_name: String,
    pub(super) redirect_uri: String,
    pub(super) resource: ResourceId,
    pub(super) challenge: String,
    pub(super) scopes: ScopeSet,
    pub(super) agent: Option<String>,
    pub(super) env: Env,
    pub(super) expires_at: Option<Timestamp>,
    pub(super) granted_by: KeyId,
    pub(super) granted_by_email: String,
}

impl Authority {
    /// Checks an authorization request in RFC 6749 §4.1.2.1's order: the
    /// client and its redirect URI first (a failure there is shown to the
    /// person and never redirected), then everything else (sent back to
    /// the client with `state`).
    pub(super) async fn check_authorization(
        &self,
        p: &KeyContext,
        params: &AuthorizationParams,
    ) -> Result<CheckedRequest, AuthorizeError> {
        let page = |m: &str| AuthorizeError::Page(m.to_owned());
        let client_id = params
            .client_id
            .as_deref()
            .and_then(ClientId::parse)
            .ok_or_else(|| {
                page("The request names no valid client_id. Start again from the app.")
            })?;
        let client = self.client_for_consent(&client_id).await?;
        let redirect_uri = params
            .redirect_uri
            .clone()
            .filter(|uri| client.allows_redirect(uri))
            .ok_or_else(|| {
                page("The app asked to send the answer to an address it did not register, so it is not sent anywhere.")
            })?;
        let state = params.state.clone();
        let refuse = |code: OAuthCode, why: &str| {
            AuthorizeError::Redirect(AuthorizationResponse::error(
                &redirect_uri,
                state.as_deref(),
                code,
                why,
            ))
        };
        if state.as_ref().is_some_and(|s| s.len() > MAX_STATE) {
            return Err(refuse(
                OAuthCode::InvalidRequest,
                "state is longer than 1024 bytes",
            ));
        }
        if params.response_type.as_deref() != Some("code") {
            return Err(refuse(
                OAuthCode::UnsupportedResponseType,
                "response_type must be code",
            ));
        }
        let challenge = CodeChallenge::parse(
            params.code_challenge.as_deref(),
            params.code_challenge_method.as_deref(),
        )
        .map_err(|e| refuse(OAuthCode::InvalidRequest, &e.to_string()))?;
        let resource = params
            .resource
            .as_deref()
            .ok_or_else(|| {
                refuse(
                    OAuthCode::InvalidTarget,
                    "resource is required: the URL of the MCP server the token is for (RFC 8707)",
                )
            })
            .and_then(|r| {
                ResourceId::parse(r).map_err(|e| refuse(OAuthCode::InvalidTarget, &e.to_string()))
            })?;
        let wanted: Vec<String> = params
            .scope
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if wanted.is_empty() {
            return Err(refuse(
                OAuthCode::InvalidScope,
                "scope is required: the scopes the tools need (see the resource's metadata)",
            ));
        }
        let requested = rules::parse_scopes(p, &wanted, &self.catalog_view(&p.org))
            .map_err(|e| refuse(OAuthCode::InvalidScope, &e.to_string()))?;
        Ok(CheckedRequest {
            client,
            redirect_uri,
            state,
            challenge,
            resource,
            requested,
        })
    }

    /// The client an authorization request names: registered here, or
    /// described by the metadata document at its id (fetched under the
    /// outbound rules, or read from the cache). Only a signed-in person's
    /// request gets this far, so nobody anonymous makes the server fetch.
    async fn client_for_consent(&self, id: &ClientId) -> Result<OAuthClient, AuthorizeError> {
        if !id.is_document_url() {
            return self.inner.store.get_oauth_client(id).await?.ok_or_else(|| {
                AuthorizeError::Page(
                    "This app is not registered here. Start again from the app.".into(),
                )
            });
        }
        let client = match &self.inner.client_documents {
            Ok(documents) => documents.client(id, self.now()).await,
            Err(e) => Err(DocumentError::Fetch(e.clone())),
        };
        client.map_err(|e| {
            tracing::info!(client_id = %id, error = %e, "client metadata document refused");
            AuthorizeError::Page(format!(
                "This app cannot be connected: {e}. Nothing was sent to it; its developer must fix this."
            ))
        })
    }

    /// `GET /oauth/authorize` as the consent page shows it to a signed-in
    /// person: who asks, for which tool server, for which scopes, and which
    /// of those the person may grant.
    pub async fn consent_view(
        &self,
        p: &KeyContext,
        params: &AuthorizationParams,
    ) -> Result<ConsentView, AuthorizeError> {
        let req = self.check_authorization(p, params).await?;
        let catalog = self.catalog_view(&p.org);
        let description = |scope: &Scope| {
            let text = scope.to_string();
            catalog
                .services()
                .into_iter()
                .flat_map(|s| s.actions)
                .find(|a| a.scope == text)
                .map(|a| a.description)
        };
        Ok(ConsentView {
            client_id: req.client.id.to_string(),
            client_name: req.client.name.clone(),
            verified_domain: req.client.verified_domain().map(str::to_owned),
            redirect_host: crate::oauth::host_of(&req.redirect_uri).to_owned(),
            resource: req.resource.to_string(),
            scopes: req
                .requested
                .iter()
                .map(|s| ConsentScope {
                    scope: s.to_string(),
                    description: description(s),
                    grantable: p.allows(s),
                })
                .collect(),
            person: p
                .person
                .as_ref()
                .map_or_else(|| p.name.clone(), |person| person.email.clone()),
            org: p.org.clone(),
            expiry_days: GRANT_DAYS.to_vec(),
            default_days: DEFAULT_GRANT_DAYS,
        })
    }

    /// The person's answer: on approval, a code for the scopes they chose
    /// (never more than asked, never more than they could mint themselves);
    /// on denial, `access_denied`. Both go back to the client.
    pub async fn decide_consent(
        &self,
        p: &KeyContext,
        decision: ConsentDecision,
    ) -> Result<AuthorizationResponse, AuthorizeError> {
        let req = self.check_authorization(p, &decision.params).await?;
        let now = self.now();
        let mut body = self.admin_event(
            Some(p),
            &p.org,
            if decision.approve {
                "oauth.consent"
            } else {
                "oauth.deny"
            },
            now,
        );
        body.subject = Some(req.client.id.to_string());
        body.reason = Some(format!("resource {}", req.resource));
        if !decision.approve {
            self.append_admin_event(body).await?;
            return Err(AuthorizeError::Redirect(AuthorizationResponse::error(
                &req.redirect_uri,
                req.state.as_deref(),
                OAuthCode::AccessDenied,
                "the person denied the request",
            )));
        }
        let code = self.plan_code(p, &req, &decision, now).await?;
        body.subject_agent = code.agent.clone();
        body.reason = Some(format!(
            "resource {}; scopes {}",
            req.resource,
            code.scopes.to_storage()
        ));
        let payload = serde_json::to_string(&code).map_err(|e| AuthorizeError::Internal {
            cause: e.to_string(),
        })?;
        let (token, _) = self
            .put_ticket(&p.org, TicketPurpose::OAuthCode, CODE_SECS, payload)
            .await?;
        self.append_admin_event(body).await?;
        let mut params = vec![("code", token.expose_secret().to_owned())];
        if let Some(s) = req.state {
            params.push(("state", s));
        }
        Ok(AuthorizationResponse {
            redirect_uri: req.redirect_uri,
            params,
        })
    }

    /// The grant a code will start, planned by the mint rule with the
    /// person as the minter.
    async fn plan_code(
        &self,
        p: &KeyContext,
        req: &CheckedRequest,
        decision: &ConsentDecision,
        now: Timestamp,
    ) -> Result<CodeGrant, AuthorizeError> {
        let page = |m: String| AuthorizeError::Page(m);
        let chosen: Vec<String> = decision.scopes.clone();
        if chosen.is_empty() {
            return Err(page(
                "Choose at least one scope, or deny the request.".into(),
            ));
        }
        let catalog = self.catalog_view(&p.org);
        let chosen_set =
            rules::parse_scopes(p, &chosen, &catalog).map_err(|e| page(e.to_string()))?;
        if let Some(extra) = chosen_set
            .iter()
            .find(|s| !req.requested.iter().any(|r| r == *s))
        {
            return Err(page(format!(
                "`{extra}` was not asked for: a grant can only narrow the request"
            )));
        }
        let days = decision.expires_days.unwrap_or(DEFAULT_GRANT_DAYS);
        if !GRANT_DAYS.contains(&days) {
            return Err(page(format!(
                "Choose how long the grant lasts: {GRANT_DAYS:?} days"
            )));
        }
        let mut scopes = chosen;
        if let Some(agent) = decision
            .agent
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            scopes.push(format!("agent:{agent}"));
        }
        let org = self
            .inner
            .store
            .get_org(&p.org)
            .await?
            .ok_or_else(|| page("Your org no longer exists.".into()))?;
        let name = rules::check_name(&req.client.name).unwrap_or_else(|_| "OAuth client".into());
        let mint = MintRequest {
            org_id: None,
            name: name.clone(),
            scopes,
            expires_days: ExpiryChoice::Days(days),
            env: None,
            resources: Vec::new(),
            terms: Default::default(),
        };
        let plan = rules::plan_mint(p, &org, &mint, &catalog, now).map_err(|e| match e {
            AuthorityError::Unavailable { cause } => AuthorizeError::Unavailable { cause },
            other => page(other.to_string()),
        })?;
        Ok(CodeGrant {
            client_id: req.client.id.clone(),
            client_name: name,
            redirect_uri: req.redirect_uri.clone(),
            resource: req.resource.clone(),
            challenge: req.challenge.as_str().to_owned(),
            scopes: plan.scopes,
            agent: plan.agent,
            env: plan.env,
            expires_at: plan.expires_at,
            granted_by: p.key_id.clone(),
            granted_by_email: p
                .person
                .as_ref()
                .map_or_else(|| p.name.clone(), |person| person.email.clone()),
        })
    }
}
