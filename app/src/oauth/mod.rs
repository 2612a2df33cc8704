//! OAuth in the dashboard: the consent page an app sends a person to
//! (`/oauth/authorize`), and Connected apps (`/apps`), where grants are
//! seen and ended. Every rule is the authority's; these server functions
//! pass the request through and map the answer.

mod apps;
mod consent;

pub use apps::ConnectedAppsPage;
pub use consent::ConsentPage;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::DashError;
use model::wire::{AuthorizationParams, ConsentView, GrantList};

/// The OAuth issuer (this server's public URL), provided as context by the
/// server: the consent page's answers carry it as `iss` (RFC 9207).
#[derive(Clone, Debug)]
pub struct OAuthIssuer(pub String);

/// What the consent page does next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsentStep {
    /// Ask the person.
    Ask(ConsentView),
    /// Tell the person why nothing is sent to the app (an unknown client,
    /// an unregistered redirect URI), or what to change.
    Refused(String),
    /// Send the browser back to the app with this URL (an error the app
    /// must hear about: its request was malformed).
    Return(String),
}

#[cfg(feature = "ssr")]
fn step_of(e: authority::oauth::AuthorizeError) -> Result<ConsentStep, DashError> {
    use authority::oauth::AuthorizeError as E;
    match e {
        E::Page(message) => Ok(ConsentStep::Refused(message)),
        E::Redirect(answer) => Ok(ConsentStep::Return(answer.url(&issuer()?))),
        E::Unavailable { cause } => {
            leptos::logging::warn!("consent: the store is unavailable: {cause}");
            Err(DashError::Unavailable)
        }
        E::Internal { cause } => {
            leptos::logging::error!("consent failed: {cause}");
            Err(DashError::Internal)
        }
    }
}

#[cfg(feature = "ssr")]
fn issuer() -> Result<String, DashError> {
    use_context::<OAuthIssuer>()
        .map(|i| i.0)
        .ok_or(DashError::Internal)
}

/// The consent page's view of an authorization request.
#[server(endpoint = "oauth_consent", input = server_fn::codec::Json)]
pub async fn load_consent(params: AuthorizationParams) -> Result<ConsentStep, DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    match dash.authority.consent_view(&p, &params).await {
        Ok(view) => Ok(ConsentStep::Ask(view)),
        Err(e) => step_of(e),
    }
}

#[server]
pub async fn list_grants() -> Result<GrantList, DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    Ok(dash.authority.list_grants(&p).await?)
}
