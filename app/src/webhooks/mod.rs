//! Webhooks in the dashboard (`/webhooks`): the org's signed endpoints,
//! adding one, rotating its signing secret (shown once, like a new key),
//! deleting it, and each endpoint's delivery log. The server functions are
//! thin calls into the authority (`webhook_ops`): it checks the URL, the
//! caller's scopes and the org's limits.

mod deliveries;
mod form;
mod page;
mod secret;

pub use page::WebhooksPage;

use leptos::prelude::*;
use model::wire::{DeliveryView, WebhookEventType, WebhookList, WebhookView};
use serde::{Deserialize, Serialize};

use crate::error::DashError;

/// An endpoint with its signing secret: the one answer that carries it
/// (create and rotate, in their POST response; never a page's resources).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShownSecret {
    pub webhook: WebhookView,
    pub secret: String,
}

// Redacted like `MintedKey`: a logged value must not leak the secret.
impl std::fmt::Debug for ShownSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShownSecret")
            .field("webhook", &self.webhook)
            .field("secret", &"<redacted>")
            .finish()
    }
}

#[cfg(feature = "ssr")]
impl From<model::wire::WebhookWithSecret> for ShownSecret {
    fn from(w: model::wire::WebhookWithSecret) -> Self {
        Self {
            webhook: w.webhook,
            secret: w.secret,
        }
    }
}

/// Every endpoint of the signed-in org.
#[server]
pub async fn list_webhooks() -> Result<WebhookList, DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    Ok(dash.authority.list_webhooks(&p).await?)
}

/// Adds an endpoint. No `events` means every type (the API's rule); an
/// empty description means none.
#[server]
pub async fn create_webhook(
    url: String,
    #[server(default)] events: Vec<WebhookEventType>,
    #[server(default)] description: String,
) -> Result<ShownSecret, DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    let request = model::wire::WebhookRequest {
        url,
        events,
        // The authority trims it and treats a blank one as none.
        description: Some(description),
    };
    Ok(dash.authority.create_webhook(&p, request).await?.into())
}

/// A new signing secret; the previous one keeps signing beside it for a while.
#[server]
pub async fn rotate_webhook_secret(id: String) -> Result<ShownSecret, DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    Ok(dash.authority.rotate_webhook_secret(&p, &id).await?.into())
}

#[server]
pub async fn delete_webhook(id: String) -> Result<(), DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    Ok(dash.authority.delete_webhook(&p, &id).await?)
}

/// The endpoint's newest deliveries (the authority's default page size).
#[server]
pub async fn webhook_deliveries(id: String) -> Result<Vec<DeliveryView>, DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    Ok(dash.authority.webhook_deliveries(&p, &id, None).await?)
}
