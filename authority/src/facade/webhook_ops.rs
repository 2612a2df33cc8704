//! Webhook endpoints: admins (`admin:org`) add, rotate and delete an org's
//! endpoints; admins and security staff (`svc:audit:read`) read them and
//! their delivery log. The dispatcher that sends messages is started by
//! the server ([`Authority::start_webhooks`]).

use model::wire::{DeliveryView, WebhookList, WebhookRequest, WebhookWithSecret};

use super::webhook_dispatch::{DispatchConfig, Dispatcher};
use super::Authority;
use crate::error::AuthorityError;
use crate::ids::WebhookId;
use crate::policy::rules::{audit_read, check_readable, require};
use crate::policy::KeyContext;
use crate::scopes::Scope;
use crate::webhooks::signing::WebhookSecret;
use crate::webhooks::{
    PreviousSecret, SecretSalt, WebhookEventType, WebhookRecord, MAX_DESCRIPTION_CHARS,
    MAX_URL_CHARS, MAX_WEBHOOKS_PER_ORG, PREVIOUS_SECRET_SECS,
};

/// The most deliveries one log page shows.
const MAX_LOG_PAGE: u32 = 200;

impl Authority {
    /// `POST /webhooks`: a new endpoint for the caller's org, with its
    /// secret (shown this once).
    pub async fn create_webhook(
        &self,
        p: &KeyContext,
        req: WebhookRequest,
    ) -> Result<WebhookWithSecret, AuthorityError> {
        self.require_org_admin(p)?;
        let url = self.check_endpoint_url(&req.url)?;
        let description = match req.description.map(|d| d.trim().to_owned()) {
            Some(d) if d.chars().count() > MAX_DESCRIPTION_CHARS => {
                return Err(AuthorityError::invalid(
                    "description",
                    format!("at most {MAX_DESCRIPTION_CHARS} characters"),
                ))
            }
            Some(d) if !d.is_empty() => {
                check_readable("description", &d)?;
                Some(d)
            }
            _ => None,
        };
        let mut events = if req.events.is_empty() {
            WebhookEventType::ALL.to_vec()
        } else {
            req.events
        };
        events.sort();
        events.dedup();
        let existing = self.inner.store.list_webhooks(&p.org).await?;
        if existing.len() >= MAX_WEBHOOKS_PER_ORG {
            return Err(AuthorityError::Conflict(format!(
                "this org has {MAX_WEBHOOKS_PER_ORG} webhook endpoints, the most allowed; delete one first"
            )));
        }
        let now = self.now();
        let hook = WebhookRecord {
            id: WebhookId::generate(),
            org: p.org.clone(),
            url,
            events,
            description,
            created_at: now,
            salt: SecretSalt::random(),
            secret_since: now,
            previous: None,
        };
        self.save_webhook(p, &hook, "webhook_create").await?;
        Ok(self.with_secret(&hook))
    }

    /// `GET /webhooks`
    pub async fn list_webhooks(&self, p: &KeyContext) -> Result<WebhookList, AuthorityError> {
        self.require_webhook_reader(p)?;
        let now = self.now();
        let hooks = self.inner.store.list_webhooks(&p.org).await?;
        Ok(WebhookList {
            webhooks: hooks.iter().map(|h| h.view(now)).collect(),
        })
    }

    /// `POST /webhooks/{id}/rotate`: a new secret, shown this once; the
    /// previous one keeps signing beside it for 24 hours.
    pub async fn rotate_webhook_secret(
        &self,
        p: &KeyContext,
        id: &str,
    ) -> Result<WebhookWithSecret, AuthorityError> {
        self.require_org_admin(p)?;
        let mut hook = self.webhook_of_org(p, id).await?;
        let now = self.now();
        hook.previous = Some(PreviousSecret {
            salt: hook.salt,
            until: now.plus_secs(PREVIOUS_SECRET_SECS),
        });
        hook.salt = SecretSalt::random();
        hook.secret_since = now;
        self.save_webhook(p, &hook, "webhook_rotate").await?;
        Ok(self.with_secret(&hook))
    }

    /// `DELETE /webhooks/{id}`
    pub async fn delete_webhook(&self, p: &KeyContext, id: &str) -> Result<(), AuthorityError> {
        self.require_org_admin(p)?;
        let hook = self.webhook_of_org(p, id).await?;
        let mut event = self.admin_event(Some(p), &p.org, "webhook_delete", self.now());
        event.subject = Some(hook.id.to_string());
        event.reason = Some(where_it_points(&hook.url));
        let (store, org, hook_id) = (&self.inner.store, &p.org, &hook.id);
        let deleted = self
            .with_admin_event(event, move |ev| async move {
                let deleted = store.delete_webhook(org, hook_id, &ev).await?;
                Ok((deleted, deleted))
            })
            .await?;
        if deleted {
            Ok(())
        } else {
            Err(AuthorityError::NotFound)
        }
    }

    /// `GET /webhooks/{id}/deliveries`: the newest `limit` deliveries.
    pub async fn webhook_deliveries(
        &self,
        p: &KeyContext,
        id: &str,
        limit: Option<u32>,
    ) -> Result<Vec<DeliveryView>, AuthorityError> {
        self.require_webhook_reader(p)?;
        let hook = self.webhook_of_org(p, id).await?;
        let limit = limit.unwrap_or(50).clamp(1, MAX_LOG_PAGE);
        let log = self
            .inner
            .store
            .list_deliveries(&p.org, &hook.id, limit)
            .await?;
        Ok(log.iter().map(|d| d.view()).collect())
    }

    /// Starts this server's dispatcher; it stops with the authority.
    pub fn start_webhooks(&self, config: DispatchConfig) -> Result<(), AuthorityError> {
        let dispatcher = Dispatcher::new(
            self.inner.store.clone(),
            self.inner.validator.pepper().clone(),
            self.inner.clock.clone(),
            config,
        )
        .map_err(|e| AuthorityError::Internal {
            cause: format!("the webhook HTTP client did not start: {e}"),
        })?;
        tokio::spawn(dispatcher.run(self.inner._stop.subscribe()));
        Ok(())
    }

    /// Org-wide settings (webhook endpoints, guardrail settings) take
    /// `admin:org` and a key of the deployment's own environment: a test
    /// key must neither be told about live keys nor loosen their rules.
    pub(super) fn require_org_admin(&self, p: &KeyContext) -> Result<(), AuthorityError> {
        require(p, &Scope::AdminOrg)?;
        if p.env != self.inner.validator.env() {
            return Err(AuthorityError::forbidden(
                "a test key cannot change this org's settings or webhooks; use a live admin key",
            ));
        }
        Ok(())
    }

    fn require_webhook_reader(&self, p: &KeyContext) -> Result<(), AuthorityError> {
        if p.allows(&Scope::AdminOrg) {
            Ok(())
        } else {
            require(p, &audit_read())
        }
    }

    async fn webhook_of_org(
        &self,
        p: &KeyContext,
        id: &str,
    ) -> Result<WebhookRecord, AuthorityError> {
        let id = WebhookId::parse(id).ok_or(AuthorityError::NotFound)?;
        self.inner
            .store
            .list_webhooks(&p.org)
            .await?
            .into_iter()
            .find(|h| h.id == id)
            .ok_or(AuthorityError::NotFound)
    }

    async fn save_webhook(
        &self,
        p: &KeyContext,
        hook: &WebhookRecord,
        action: &str,
    ) -> Result<(), AuthorityError> {
        let mut event = self.admin_event(Some(p), &p.org, action, self.now());
        event.subject = Some(hook.id.to_string());
        event.reason = Some(where_it_points(&hook.url));
        let store = &self.inner.store;
        self.with_admin_event(event, move |ev| async move {
            store.put_webhook(hook, &ev).await.map(|()| ((), true))
        })
        .await?;
        Ok(())
    }

    fn with_secret(&self, hook: &WebhookRecord) -> WebhookWithSecret {
        let secret = WebhookSecret::derive(self.inner.validator.pepper(), &hook.salt);
        WebhookWithSecret {
            webhook: hook.view(self.now()),
            secret: secret.to_whsec(),
        }
    }

    /// An endpoint URL people can rely on: absolute, `https` to a public
    /// host (unless this server allows insecure outbound requests, for
    /// development), no user name or password in it, not too long.
    fn check_endpoint_url(&self, text: &str) -> Result<String, AuthorityError> {
        let bad = |why: String| AuthorityError::invalid("url", why);
        let text = text.trim();
        if text.chars().count() > MAX_URL_CHARS {
            return Err(bad(format!("at most {MAX_URL_CHARS} characters")));
        }
        if model::text::holds_credential(text) {
            return Err(bad(
                "it holds what looks like an acekeys credential; never put keys in URLs".into(),
            ));
        }
        let url = url::Url::parse(text).map_err(|e| {
            bad(format!(
                "`{}` is not an absolute URL ({e}); write it like https://hooks.example.com/acekeys",
                model::text::quote_input(text, 100)
            ))
        })?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad(
                "a user name or password in the URL would be stored and shown; authenticate the messages by their signature instead".into(),
            ));
        }
        self.inner
            .webhook_outbound
            .check_url(&url)
            .map_err(|e| bad(e.to_string()))?;
        Ok(url.to_string())
    }
}

/// The endpoint as the trail records it: scheme and host only. Receivers
/// often carry their own secret in the path or query (a chat service's
/// incoming-webhook URL), and the trail is kept for years and read by
/// security staff.
fn where_it_points(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!("{}://{}/…", u.scheme(), u.host_str().unwrap_or("?")),
        Err(_) => "an unparsable URL".to_owned(),
    }
}
