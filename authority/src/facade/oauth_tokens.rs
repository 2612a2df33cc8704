//! The token endpoint (code exchange, refresh rotation), token revocation
//! (RFC 7009), dynamic client registration (RFC 7591), and grants as
//! people see and end them.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::oauth_consent::CodeGrant;
use super::Authority;
use crate::ids::{GrantId, KeyId, OrgId};
use crate::keys::{self, CredentialKind, Generated, KeyHash, RawKey};
use crate::oauth::{
    check_client_name, check_redirect_uris, ApplicationType, AuthMethod, ClientId, CodeChallenge,
    GrantRecord, OAuthClient, OAuthCode, OAuthError, RefreshRecord, ResourceId, TokenOrigin,
    ACCESS_TOKEN_SECS,
};
use crate::people::TicketPurpose;
use crate::policy::rules::{self, keys_read, keys_write, require};
use crate::policy::KeyContext;
use crate::scopes::ScopeSet;
use crate::sessions::SessionToken;
use crate::store::{KeyRecord, Revocation, StoreError};
use crate::time::Timestamp;
use crate::AuthorityError;
use model::wire::{
    ClientRegistrationAnswer, ClientRegistrationRequest, GrantList, GrantView, TokenAnswer,
    TokenRequest,
};

/// How a client presented itself at the token or revocation endpoint.
#[derive(Default)]
pub struct ClientCredentials {
    pub client_id: Option<String>,
    /// From `Authorization: Basic` or the form; compared in constant time.
    pub secret: Option<RawKey>,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

fn refused(code: OAuthCode, why: &str) -> OAuthError {
    OAuthError::refused(code, why)
}

/// The grant a code names, also after it was spent: a one-way digest of
/// the code with its own label (unlike the ticket's hash).
fn grant_of_code(code: &str) -> GrantId {
    let mut h = Sha256::new();
    h.update(b"acekeys oauth grant\0");
    h.update(code.as_bytes());
    GrantId::of_code_digest(&h.finalize().into())
}

impl Authority {
    /// `POST /oauth/register` (RFC 7591). Open to anyone, as MCP clients
    /// expect; the server rate-limits it per address. Audited in the
    /// reserved `_unattributed` org (a registration belongs to no org).
    pub async fn register_client(
        &self,
        req: ClientRegistrationRequest,
    ) -> Result<ClientRegistrationAnswer, OAuthError> {
        let metadata = |why: String| refused(OAuthCode::InvalidClientMetadata, &why);
        let app = match req.application_type.as_deref() {
            None | Some("web") => ApplicationType::Web,
            Some("native") => ApplicationType::Native,
            Some(other) => {
                return Err(metadata(format!(
                    "application_type `{}` is not web or native",
                    other.chars().take(20).collect::<String>()
                )))
            }
        };
        let method = match req.token_endpoint_auth_method.as_deref() {
            None => AuthMethod::ClientSecretBasic,
            Some(m) => AuthMethod::parse(m).ok_or_else(|| {
                metadata("token_endpoint_auth_method must be none, client_secret_basic or client_secret_post".into())
            })?,
        };
        if let Some(types) = &req.grant_types {
            if types
                .iter()
                .any(|t| t != "authorization_code" && t != "refresh_token")
            {
                return Err(metadata(
                    "grant_types may only hold authorization_code and refresh_token".into(),
                ));
            }
        }
        if req
            .response_types
            .as_ref()
            .is_some_and(|t| t.iter().any(|t| t != "code"))
        {
            return Err(metadata("response_types may only hold code".into()));
        }
        check_redirect_uris(&req.redirect_uris, app).map_err(|e| {
            refused(
                match e.code() {
                    "invalid_redirect_uri" => OAuthCode::InvalidRedirectUri,
                    _ => OAuthCode::InvalidClientMetadata,
                },
                &e.to_string(),
            )
        })?;
        let name =
            check_client_name(req.client_name.as_deref()).map_err(|e| metadata(e.to_string()))?;
        let secret = (method != AuthMethod::None).then(SessionToken::generate);
        let now = self.now();
        let client = OAuthClient {
            id: ClientId::generate(),
            name,
            redirect_uris: req.redirect_uris,
            application_type: app,
            auth_method: method,
            secret_hash: secret
                .as_ref()
                .map(|s| self.inner.validator.pepper().hash(s.expose_secret())),
            created_at: now,
        };
        let mut body = self.admin_event(None, &OrgId::unattributed(), "oauth.register", now);
        body.subject = Some(client.id.to_string());
        body.reason = Some(format!(
            "{}; {}; redirects to {}",
            client.name,
            method.as_str(),
            client
                .redirect_uris
                .iter()
                .map(|u| crate::oauth::host_of(u))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        let (store, c) = (&self.inner.store, &client);
        self.with_admin_event(body, move |ev| async move {
            store.insert_oauth_client(c, &ev).await.map(|()| ((), true))
        })
        .await?;
        Ok(ClientRegistrationAnswer {
            client_id: client.id.to_string(),
            client_secret: secret.as_ref().map(|s| s.expose_secret().to_owned()),
            client_id_issued_at: now.as_secs(),
            client_secret_expires_at: secret.as_ref().map(|_| 0),
            client_name: client.name,
            redirect_uris: client.redirect_uris,
            token_endpoint_auth_method: method.as_str().to_owned(),
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            response_types: vec!["code".into()],
            application_type: match app {
                ApplicationType::Web => "web".into(),
                ApplicationType::Native => "native".into(),
            },
        })
    }

    /// The client's id, if the client proves itself: a public client by
    /// its id alone (PKCE and the bound redirect URI do the rest), a
    /// confidential one by its secret. A metadata document's client is
    /// public by definition and is not fetched here: the code or refresh
    /// token it presents is bound to its id, which is all this endpoint
    /// checks (and an unauthenticated caller cannot make the server fetch).
    async fn authenticate_client(&self, creds: &ClientCredentials) -> Result<ClientId, OAuthError> {
        let invalid = |why: &str| refused(OAuthCode::InvalidClient, why);
        let id = creds
            .client_id
            .as_deref()
            .and_then(ClientId::parse)
            .ok_or_else(|| invalid("client_id is missing or malformed"))?;
        let stored_secret = if id.is_document_url() {
            None
        } else {
            self.inner
                .store
                .get_oauth_client(&id)
                .await?
                .ok_or_else(|| invalid("unknown client"))?
                .secret_hash
        };
        match (stored_secret, &creds.secret) {
            (None, None) => Ok(id),
            (None, Some(_)) => Err(invalid("this public client has no secret; send none")),
            (Some(_), None) => Err(invalid("this client must authenticate with its secret")),
            (Some(stored), Some(given)) => {
                let hash = self.inner.validator.pepper().hash(given.expose_secret());
                if bool::from(hash.as_bytes().ct_eq(stored.as_bytes())) {
                    Ok(id)
                } else {
                    Err(invalid("wrong client secret"))
                }
            }
        }
    }

    /// `POST /oauth/token`.
    pub async fn token(
        &self,
        creds: ClientCredentials,
        req: TokenRequest,
    ) -> Result<TokenAnswer, OAuthError> {
        let client = self.authenticate_client(&creds).await?;
        match req.grant_type.as_deref() {
            Some("authorization_code") => self.exchange_code(&client, req).await,
            Some("refresh_token") => self.refresh(&client, req).await,
            None => Err(refused(OAuthCode::InvalidRequest, "grant_type is required")),
            Some(_) => Err(refused(
                OAuthCode::UnsupportedGrantType,
                "grant_type must be authorization_code or refresh_token",
            )),
        }
    }

    async fn exchange_code(
        &self,
        client: &ClientId,
        req: TokenRequest,
    ) -> Result<TokenAnswer, OAuthError> {
        let bad = |why: &str| refused(OAuthCode::InvalidGrant, why);
        let code = req
            .code
            .as_deref()
            .ok_or_else(|| refused(OAuthCode::InvalidRequest, "code is required"))?;
        let token = SessionToken::parse(code).ok_or_else(|| bad("unknown or expired code"))?;
        let now = self.now();
        let ticket = self
            .inner
            .store
            .take_ticket(&token.hash(), now)
            .await?
            .filter(|t| t.purpose == TicketPurpose::OAuthCode);
        let Some(ticket) = ticket else {
            // Spent already? Then whoever holds it now may be an attacker:
            // end what its first exchange started (RFC 6749 §4.1.2).
            self.end_grant_of_replayed_code(code).await?;
            return Err(bad("unknown, expired or already used code"));
        };
        let grant: CodeGrant =
            serde_json::from_str(&ticket.payload).map_err(|e| OAuthError::Internal {
                cause: format!("code payload: {e}"),
            })?;
        if grant.client_id != *client {
            return Err(bad("the code was issued to another client"));
        }
        if req.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
            return Err(bad("redirect_uri differs from the authorization request's"));
        }
        if let Some(resource) = req.resource.as_deref() {
            if ResourceId::parse(resource).ok().as_ref() != Some(&grant.resource) {
                return Err(refused(
                    OAuthCode::InvalidTarget,
                    "resource differs from the authorization request's",
                ));
            }
        }
        CodeChallenge::from_stored(grant.challenge.clone())
            .verify(req.code_verifier.as_deref())
            .map_err(|e| bad(&e.to_string()))?;
        let record = GrantRecord {
            id: grant_of_code(code),
            org: ticket.org.clone(),
            env: grant.env,
            client_id: grant.client_id,
            client_name: grant.client_name,
            resource: grant.resource,
            scopes: grant.scopes,
            agent: grant.agent,
            granted_by: grant.granted_by,
            granted_by_email: grant.granted_by_email,
            created_at: now,
            expires_at: grant.expires_at,
            revoked_at: None,
            revoked_by: None,
            revoke_reason: None,
            refresh_generation: 0,
            refreshed_at: now,
        };
        let (refresh_raw, refresh) = self.new_refresh(&record, 0);
        let (access_raw, access) = self.new_access(&record, &record.scopes, now);
        let mut body = self.admin_event(None, &record.org, "oauth.grant", now);
        body.actor_key_id = Some(record.granted_by.clone());
        body.subject = Some(format!("{} {}", record.id, access.id));
        body.subject_agent = record.agent.clone();
        body.reason = Some(format!(
            "client {} ({}); resource {}; scopes {}",
            record.client_name,
            record.client_id,
            record.resource,
            record.scopes.to_storage()
        ));
        let (store, g, r, a) = (&self.inner.store, &record, &refresh, &access);
        self.with_admin_event(body, move |ev| async move {
            store.start_grant(g, r, a, &ev).await.map(|()| ((), true))
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => bad("the code was already used"),
            other => other.into(),
        })?;
        self.inner.validator.forget_negative(&access.hash);
        Ok(answer(&access, access_raw, refresh_raw, now))
    }

    async fn end_grant_of_replayed_code(&self, code: &str) -> Result<(), OAuthError> {
        let id = grant_of_code(code);
        let Some(grant) = self.inner.store.get_grant(&id).await? else {
            return Ok(());
        };
        tracing::warn!(grant = %id, org = %grant.org, "authorization code replayed; revoking its grant");
        self.end_grant(&grant, None, "authorization code replayed")
            .await?;
        Ok(())
    }

    async fn refresh(
        &self,
        client: &ClientId,
        req: TokenRequest,
    ) -> Result<TokenAnswer, OAuthError> {
        let bad = |why: &str| refused(OAuthCode::InvalidGrant, why);
        let raw = req
            .refresh_token
            .as_deref()
            .ok_or_else(|| refused(OAuthCode::InvalidRequest, "refresh_token is required"))?;
        let parsed = keys::parse(raw)
            .ok()
            .filter(|p| p.kind() == CredentialKind::RefreshToken)
            .ok_or_else(|| bad("not a refresh token"))?;
        let hash = self.inner.validator.pepper().hash(parsed.expose_secret());
        let Some(presented) = self.inner.store.find_refresh(&hash).await? else {
            return Err(bad("unknown refresh token"));
        };
        let grant = self
            .inner
            .store
            .get_grant(&presented.grant)
            .await?
            .ok_or_else(|| bad("unknown refresh token"))?;
        if grant.client_id != *client {
            return Err(bad("the refresh token was issued to another client"));
        }
        let now = self.now();
        if presented.generation < grant.refresh_generation {
            self.end_reused_grant(&grant).await?;
            return Err(bad("refresh token already used; the grant is revoked"));
        }
        if !grant.is_active(now) {
            return Err(bad("the grant was revoked or has expired"));
        }
        if let Some(resource) = req.resource.as_deref() {
            if ResourceId::parse(resource).ok().as_ref() != Some(&grant.resource) {
                return Err(refused(
                    OAuthCode::InvalidTarget,
                    "resource differs from the grant's",
                ));
            }
        }
        let scopes = match req.scope.as_deref() {
            None => grant.scopes.clone(),
            Some(text) => narrowed(&grant, text)?,
        };
        let (refresh_raw, next) = self.new_refresh(&grant, presented.generation + 1);
        let (access_raw, access) = self.new_access(&grant, &scopes, now);
        let mut body = self.admin_event(None, &grant.org, "oauth.refresh", now);
        body.actor_key_id = Some(grant.granted_by.clone());
        body.subject = Some(format!("{} {}", grant.id, access.id));
        body.subject_agent = grant.agent.clone();
        body.reason = Some(format!(
            "client {} ({})",
            grant.client_name, grant.client_id
        ));
        let (store, n, a) = (&self.inner.store, &next, &access);
        let stored = self
            .with_admin_event(body, move |ev| async move {
                store.refresh_grant(n, a, &ev).await.map(|g| (g, true))
            })
            .await;
        match stored {
            Ok(_) => {}
            // Lost to a concurrent use of the same token: that is reuse too.
            Err(StoreError::Conflict(_)) => {
                if let Some(now_grant) = self.inner.store.get_grant(&grant.id).await? {
                    if now_grant.refresh_generation > presented.generation {
                        self.end_reused_grant(&now_grant).await?;
                        return Err(bad("refresh token already used; the grant is revoked"));
                    }
                }
                return Err(bad("the grant was revoked or has expired"));
            }
            Err(e) => return Err(e.into()),
        }
        self.inner.validator.forget_negative(&access.hash);
        Ok(answer(&access, access_raw, refresh_raw, now))
    }

    async fn end_reused_grant(&self, grant: &GrantRecord) -> Result<(), OAuthError> {
        tracing::warn!(grant = %grant.id, org = %grant.org, "refresh token reused; revoking its grant");
        self.end_grant(grant, None, "refresh token reused").await?;
        Ok(())
    }

    fn new_refresh(&self, grant: &GrantRecord, generation: u64) -> (RawKey, RefreshRecord) {
        let Generated { raw, .. } =
            keys::generate_credential(CredentialKind::RefreshToken, grant.env);
        let hash = self.inner.validator.pepper().hash(raw.expose_secret());
        let record = RefreshRecord {
            hash,
            grant: grant.id.clone(),
            org: grant.org.clone(),
            generation,
        };
        (raw, record)
    }

    /// An access token of `grant` for `scopes`: a key record bound to the
    /// grant's resource, living an hour and never beyond the grant.
    fn new_access(
        &self,
        grant: &GrantRecord,
        scopes: &ScopeSet,
        now: Timestamp,
    ) -> (RawKey, KeyRecord) {
        let Generated { raw, hint } =
            keys::generate_credential(CredentialKind::AccessToken, grant.env);
        let expiry = now.plus_secs(ACCESS_TOKEN_SECS);
        let record = KeyRecord {
            id: KeyId::generate(),
            org: grant.org.clone(),
            name: grant.client_name.clone(),
            env: grant.env,
            agent: grant.agent.clone(),
            scopes: scopes.clone(),
            hash: self.inner.validator.pepper().hash(raw.expose_secret()),
            hint,
            created_by: Some(grant.granted_by.clone()),
            created_at: now,
            expires_at: Some(grant.expires_at.map_or(expiry, |end| end.min(expiry))),
            revoked_at: None,
            revoked_by: None,
            revoke_reason: None,
            last_used_at: None,
            rotated_from: None,
            rotated_to: None,
            resources: vec![grant.resource.clone()],
            oauth: Some(TokenOrigin {
                grant: grant.id.clone(),
                client: grant.client_id.clone(),
            }),
            terms: Default::default(),
            parent: None,
            quarantine: None,
        };
        (raw, record)
    }

    /// Revokes a grant and its live access tokens, publishing each like a
    /// revoked key. `by`: who (a person or key); `None`: the authority
    /// itself (a replayed code, a reused refresh token).
    pub(super) async fn end_grant(
        &self,
        grant: &GrantRecord,
        by: Option<&KeyContext>,
        reason: &str,
    ) -> Result<Option<crate::store::GrantRevoked>, AuthorityError> {
        let now = self.now();
        let rev = Revocation {
            at: now,
            by: by.map_or_else(|| "acekeys".to_owned(), |p| p.key_id.to_string()),
            reason: Some(reason.to_owned()),
        };
        let mut body = self.admin_event(by, &grant.org, "oauth.revoke", now);
        body.subject = Some(grant.id.to_string());
        body.subject_agent = grant.agent.clone();
        body.reason = Some(reason.to_owned());
        let (store, org, id, r) = (&self.inner.store, &grant.org, &grant.id, &rev);
        let done = self
            .with_admin_event(body, move |ev| async move {
                let done = store.revoke_grant(org, id, r, &ev).await?;
                let wrote = done.as_ref().is_some_and(|d| d.changed);
                Ok((done, wrote))
            })
            .await?;
        if let Some(d) = &done {
            for k in &d.tokens {
                self.publish_revocation(k);
            }
        }
        Ok(done)
    }

    /// The incident switch's part for OAuth: ends every active grant of the
    /// org (of `agent`, when given) whose scopes the caller holds, as keys
    /// are caught only within the caller's own scopes.
    pub(super) async fn end_grants_of(
        &self,
        p: &KeyContext,
        agent: Option<&str>,
        rev: &Revocation,
    ) -> Result<(), AuthorityError> {
        let reason = match &rev.reason {
            Some(why) => format!("incident switch: {why}"),
            None => "incident switch".to_owned(),
        };
        for grant in self.inner.store.list_grants(&p.org).await? {
            let caught = grant.is_active(rev.at)
                && agent.is_none_or(|a| grant.agent.as_deref() == Some(a))
                && p.scopes.missing(p.org.as_str(), &grant.scopes).is_empty()
                && (p.env != crate::keys::Env::Test || grant.env == crate::keys::Env::Test);
            if caught {
                self.end_grant(&grant, Some(p), &reason).await?;
            }
        }
        Ok(())
    }

    /// `POST /oauth/revoke` (RFC 7009): a client ends one of its own
    /// tokens. An access token dies alone; a refresh token ends its whole
    /// grant. Unknown tokens, or another client's, change nothing and are
    /// answered the same (the RFC's 200), so nothing can be probed.
    pub async fn revoke_token(
        &self,
        creds: ClientCredentials,
        token: Option<&str>,
    ) -> Result<(), OAuthError> {
        let client = self.authenticate_client(&creds).await?;
        let token = token.ok_or_else(|| refused(OAuthCode::InvalidRequest, "token is required"))?;
        let Ok(parsed) = keys::parse(token) else {
            return Ok(());
        };
        let hash: KeyHash = self.inner.validator.pepper().hash(parsed.expose_secret());
        match parsed.kind() {
            CredentialKind::AccessToken => {
                let Some(k) = self.inner.store.find_key_by_hash(&hash).await? else {
                    return Ok(());
                };
                let Some(origin) = k.oauth.as_ref().filter(|o| o.client == client) else {
                    return Ok(());
                };
                let now = self.now();
                let rev = Revocation {
                    at: now,
                    by: client.to_string(),
                    reason: Some("revoked by its client".into()),
                };
                let mut body = self.admin_event(None, &k.org, "oauth.revoke_token", now);
                body.subject = Some(format!("{} {}", origin.grant, k.id));
                body.subject_agent = k.agent.clone();
                let (store, org, id, r) = (&self.inner.store, &k.org, &k.id, &rev);
                let result = self
                    .with_admin_event(body, move |ev| async move {
                        let r = store.revoke_key(org, id, r, &ev).await?;
                        let wrote = matches!(r, crate::store::RevokeResult::Revoked { .. });
                        Ok((r, wrote))
                    })
                    .await?;
                // An access token has no descendants: only keys mint keys.
                if let crate::store::RevokeResult::Revoked { key, .. } = result {
                    self.publish_revocation(&key);
                }
                Ok(())
            }
            CredentialKind::RefreshToken => {
                let Some(r) = self.inner.store.find_refresh(&hash).await? else {
                    return Ok(());
                };
                let Some(grant) = self.inner.store.get_grant(&r.grant).await? else {
                    return Ok(());
                };
                if grant.client_id == client {
                    self.end_grant(&grant, None, "revoked by its client")
                        .await?;
                }
                Ok(())
            }
            // A key is not the client's to revoke here.
            CredentialKind::Key => Ok(()),
        }
    }

    /// The Connected apps page: every grant of the org, with when one of
    /// its tokens was last used.
    pub async fn list_grants(&self, p: &KeyContext) -> Result<GrantList, AuthorityError> {
        require(p, &keys_read())?;
        let now = self.now();
        let (grants, keys) = tokio::try_join!(
            self.inner.store.list_grants(&p.org),
            self.inner.store.list_keys(&p.org)
        )?;
        let mut last_used: std::collections::HashMap<&GrantId, Timestamp> = Default::default();
        for k in &keys {
            if let (Some(origin), Some(used)) = (&k.oauth, k.last_used_at) {
                let slot = last_used.entry(&origin.grant).or_insert(used);
                *slot = (*slot).max(used);
            }
        }
        let grants = grants
            .iter()
            .map(|g| grant_view(g, last_used.get(&g.id).copied(), now))
            .collect();
        Ok(GrantList { grants })
    }

    /// Ends a grant from the dashboard or the API: its refresh token and
    /// every live access token stop working everywhere.
    pub async fn revoke_grant(
        &self,
        p: &KeyContext,
        grant_id: &str,
    ) -> Result<GrantView, AuthorityError> {
        require(p, &keys_write())?;
        let id = GrantId::parse(grant_id).ok_or(AuthorityError::NotFound)?;
        let grant = self
            .inner
            .store
            .get_grant(&id)
            .await?
            .filter(|g| g.org == p.org)
            .ok_or(AuthorityError::NotFound)?;
        rules::check_may_revoke(p, &grant.scopes)?;
        let done = self
            .end_grant(&grant, Some(p), "revoked in acekeys")
            .await?
            .ok_or(AuthorityError::NotFound)?;
        Ok(grant_view(&done.grant, None, self.now()))
    }
}

/// A refresh's `scope`: a subset of the grant's (RFC 6749 §6).
fn narrowed(grant: &GrantRecord, text: &str) -> Result<ScopeSet, OAuthError> {
    let mut set = Vec::new();
    for word in text.split_whitespace() {
        let scope = crate::scopes::Scope::parse(word)
            .map_err(|e| refused(OAuthCode::InvalidScope, &e.to_string()))?;
        if !grant.scopes.iter().any(|s| *s == scope) {
            return Err(refused(
                OAuthCode::InvalidScope,
                &format!("`{scope}` is not part of the grant"),
            ));
        }
        set.push(scope);
    }
    if set.is_empty() {
        return Err(refused(OAuthCode::InvalidScope, "scope is empty"));
    }
    // The agent binding is not the client's to drop.
    if let Some(agent) = &grant.agent {
        set.push(crate::scopes::Scope::Agent(agent.clone()));
    }
    Ok(set.into_iter().collect())
}

fn answer(
    access: &KeyRecord,
    access_raw: RawKey,
    refresh_raw: RawKey,
    now: Timestamp,
) -> TokenAnswer {
    TokenAnswer {
        access_token: access_raw.expose_secret().to_owned(),
        token_type: "Bearer".into(),
        expires_in: access.expires_at.map_or(ACCESS_TOKEN_SECS, |e| {
            (e.as_millis() - now.as_millis()) / 1000
        }),
        refresh_token: refresh_raw.expose_secret().to_owned(),
        scope: access
            .scopes
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn grant_view(g: &GrantRecord, last_used_at: Option<Timestamp>, now: Timestamp) -> GrantView {
    GrantView {
        id: g.id.clone(),
        client_id: g.client_id.to_string(),
        client_name: g.client_name.clone(),
        resource: g.resource.to_string(),
        scopes: g.scopes.clone(),
        agent: g.agent.clone(),
        granted_by: g.granted_by.clone(),
        granted_by_email: g.granted_by_email.clone(),
        created_at: g.created_at,
        expires_at: g.expires_at,
        revoked_at: g.revoked_at,
        revoked_by: g.revoked_by.clone(),
        last_used_at,
        active: g.is_active(now),
    }
}
