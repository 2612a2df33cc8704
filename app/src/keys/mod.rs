//! Keys: the table with revoke and rotate, the new-key form with the scope
//! picker, and the copy-once dialog. Server functions are thin calls into
//! the authority; it enforces every rule.

#[cfg(feature = "ssr")]
pub(crate) mod convert;
mod copy_once;
mod dialogs;
mod hold;
mod life;
mod limits;
mod list;
mod new;
mod picker;
mod table;

pub use copy_once::CopyOnce;
pub use life::KeyLifePage;
pub(crate) use limits::LimitsEditor;
pub use list::KeysPage;
pub use new::NewKeyPage;

use leptos::prelude::*;

use crate::error::DashError;
use crate::model::{KeyRow, MintOptions, MintedKey, Rotated};

/// Every key of the signed-in org, newest first.
#[server]
pub async fn list_keys() -> Result<Vec<KeyRow>, DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    let views = dash.authority.list_keys(&p, Default::default()).await?;
    let now = dash.authority.now();
    Ok(views.iter().map(|v| convert::row(v, now)).collect())
}

/// Revokes one key now, with an optional reason.
#[server]
pub async fn revoke_key(id: String, reason: String) -> Result<KeyRow, DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    let reason = Some(reason).filter(|r| !r.trim().is_empty());
    let view = dash.authority.revoke(&p, &id, reason).await?;
    Ok(convert::row(&view, dash.authority.now()))
}

/// Rotates a key; the old one keeps working for `grace_secs`.
#[server]
pub async fn rotate_key(id: String, grace_secs: u64) -> Result<Rotated, DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    let rotated = dash
        .authority
        .rotate(
            &p,
            &id,
            authority::RotateRequest {
                grace_secs: Some(grace_secs),
            },
        )
        .await?;
    let now = dash.authority.now();
    Ok(Rotated {
        successor: convert::minted(&rotated.successor, now),
        previous: convert::row(&rotated.previous, now),
    })
}

/// The scope catalog as the signed-in key may grant it, and the expiry limits.
#[server]
pub async fn load_mint_options() -> Result<MintOptions, DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    let limits = dash.authority.mint_limits(&p).await?;
    Ok(convert::mint_options(
        &p,
        dash.authority.scope_catalog(&p.org).await?,
        limits,
    ))
}

/// Mints a key. `scopes` is comma-separated; `expiry` is a number of days,
/// `never`, or `date:YYYY-MM-DD` (the key expires at the end of that UTC day).
#[server]
pub async fn mint_key(
    name: String,
    env: String,
    agent: String,
    scopes: String,
    expiry: String,
    #[server(default)] resources: String,
    #[server(default)] terms: crate::model::TermsInput,
) -> Result<MintedKey, DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    let mut request = convert::mint_request(
        &name,
        &env,
        &agent,
        &scopes,
        &expiry,
        &resources,
        dash.authority.now(),
    )?;
    request.terms = convert::key_terms(&terms)?;
    let minted = dash.authority.mint(&p, request).await?;
    Ok(convert::minted(&minted, dash.authority.now()))
}
