//! People in the dashboard: the members page (owners), the invitation page
//! an invitee opens to register a passkey, passkey sign-in, and one's own
//! passkeys. Every server function calls one authority method; the
//! authority checks the role.

mod enrol;
mod members;
#[cfg(feature = "hydrate")]
pub mod webauthn;

pub use enrol::InvitePage;
pub use members::MembersPage;

use leptos::prelude::*;

use crate::error::DashError;
use crate::model::{CeremonyStart, InvitationShown, MemberRow, PasskeyRow};

#[cfg(feature = "ssr")]
fn ceremony(c: authority::PasskeyChallenge) -> CeremonyStart {
    CeremonyStart {
        ceremony: c.ceremony.expose_secret().to_owned(),
        options: c.options.to_string(),
        email: None,
        role: None,
        org: None,
    }
}

/// Signs the person in on this browser: a new session, the old one ended
/// (a planted token never becomes a signed-in one).
#[cfg(feature = "ssr")]
async fn start_browser_session(
    dash: &crate::session::server::DashboardState,
    signed_in: authority::PersonSignedIn,
) -> Result<(), DashError> {
    use crate::session::{cookie, server};
    if let Some(old) = server::signed_in() {
        dash.authority.end_session(&old.token).await?;
    }
    server::set_cookie(&cookie::session_cookie(
        &signed_in.session,
        dash.secure_cookies,
        dash.authority.session_timeouts().absolute_secs,
    ));
    Ok(())
}

/// Counts a failed passkey sign-in or a refused invitation against the
/// client's address (the same throttle as failed key sign-ins).
#[cfg(feature = "ssr")]
fn throttled(
    dash: &crate::session::server::DashboardState,
    error: authority::AuthorityError,
) -> DashError {
    if matches!(error, authority::AuthorityError::Conflict(_)) {
        let client = crate::session::server::client_ip().and_then(|ip| ip.parse().ok());
        if let Some(wait) = client.and_then(|c| dash.throttle.failed(c)) {
            return DashError::TooManyAttempts(authority::throttle::retry_after_secs(wait));
        }
    }
    error.into()
}

/// The members of the signed-in person's org (owners only).
#[server]
pub async fn list_members() -> Result<Vec<MemberRow>, DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    let me = p.person.as_ref().map(|person| person.member_id.clone());
    Ok(dash
        .authority
        .list_members(&p)
        .await?
        .into_iter()
        .map(|m| MemberRow {
            is_me: me.as_ref() == Some(&m.id),
            id: m.id.to_string(),
            email: m.email,
            role: m.role,
            joined_ms: m.created_at.as_millis(),
            passkeys: m.passkeys.len(),
            credential_id: m.credential_id.to_string(),
        })
        .collect())
}

/// Invites a person; the answer carries the link's token, shown once.
#[server]
pub async fn invite_member(email: String, role: String) -> Result<InvitationShown, DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    let role = model::people::Role::parse(&role)
        .ok_or_else(|| DashError::Invalid("role must be owner, key_admin or auditor".into()))?;
    let invitation = dash.authority.invite_member(&p, &email, role).await?;
    Ok(InvitationShown {
        token: invitation.token.expose_secret().to_owned(),
        email: invitation.email,
        role: invitation.role,
        expires_ms: invitation.expires_at.as_millis(),
    })
}

#[server]
pub async fn change_member_role(member: String, role: String) -> Result<(), DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    let role = model::people::Role::parse(&role)
        .ok_or_else(|| DashError::Invalid("role must be owner, key_admin or auditor".into()))?;
    dash.authority.change_member_role(&p, &member, role).await?;
    Ok(())
}

#[server]
pub async fn remove_member(member: String) -> Result<(), DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    Ok(dash.authority.remove_member(&p, &member).await?)
}

/// The invitee starts registering their first passkey. A refused
/// invitation counts against the caller's address like a failed sign-in,
/// so nobody can probe invitation tokens (or load the store) for free; an
/// address over the limit is refused before any lookup.
#[server(endpoint = "start_enrolment")]
pub async fn start_enrolment(
    invitation: String,
    passkey_name: String,
) -> Result<CeremonyStart, DashError> {
    let dash = crate::session::server::dashboard()?;
    let client = crate::session::server::client_ip().and_then(|ip| ip.parse().ok());
    if let Some(wait) = client.and_then(|c| dash.throttle.blocked(c)) {
        return Err(DashError::TooManyAttempts(
            authority::throttle::retry_after_secs(wait),
        ));
    }
    let (challenge, org, email, role) = dash
        .authority
        .start_enrolment(invitation.trim(), &passkey_name)
        .await
        .map_err(|e| throttled(&dash, e))?;
    Ok(CeremonyStart {
        email: Some(email),
        role: Some(role),
        org: Some(org.to_string()),
        ..ceremony(challenge)
    })
}

/// The invitee's passkey answered: they become a member and are signed in.
#[server]
pub async fn finish_enrolment(ceremony: String, answer: String) -> Result<(), DashError> {
    use crate::session::server::{client_ip, dashboard};
    let dash = dashboard()?;
    let signed_in = dash
        .authority
        .finish_enrolment(&ceremony, &answer, client_ip())
        .await?;
    start_browser_session(&dash, signed_in).await
}

/// Starts a passkey sign-in for a person of an org. Anyone may call it, and
/// each call stores a ceremony (5 minutes), so every start counts against
/// the caller's address like a failed sign-in (20 a minute): one address
/// cannot fill the store with ceremonies. The endpoint is fixed so tests
/// and operators can name it.
#[server(endpoint = "start_passkey_sign_in")]
pub async fn start_passkey_sign_in(org: String, email: String) -> Result<CeremonyStart, DashError> {
    let dash = crate::session::server::dashboard()?;
    let client = crate::session::server::client_ip().and_then(|ip| ip.parse().ok());
    if let Some(wait) = client.and_then(|c| dash.throttle.failed(c)) {
        return Err(DashError::TooManyAttempts(
            authority::throttle::retry_after_secs(wait),
        ));
    }
    Ok(ceremony(
        dash.authority
            .start_passkey_sign_in(org.trim(), &email)
            .await?,
    ))
}

/// The passkey answered: checks it and signs the person in.
#[server]
pub async fn finish_passkey_sign_in(ceremony: String, answer: String) -> Result<(), DashError> {
    use crate::session::server::{client_ip, dashboard};
    let dash = dashboard()?;
    let signed_in = dash
        .authority
        .finish_passkey_sign_in(&ceremony, &answer, client_ip())
        .await
        .map_err(|e| throttled(&dash, e))?;
    start_browser_session(&dash, signed_in).await
}

/// The signed-in person's passkeys.
#[server]
pub async fn my_passkeys() -> Result<Vec<PasskeyRow>, DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    Ok(passkey_rows(dash.authority.own_member(&p).await?))
}

#[cfg(feature = "ssr")]
fn passkey_rows(m: authority::people::MemberRecord) -> Vec<PasskeyRow> {
    m.passkeys
        .into_iter()
        .map(|pk| PasskeyRow {
            id: pk.id,
            name: pk.name,
            created_ms: pk.created_at.as_millis(),
            last_used_ms: pk.last_used_at.map(|t| t.as_millis()),
        })
        .collect()
}

#[server]
pub async fn start_adding_passkey(passkey_name: String) -> Result<CeremonyStart, DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    Ok(ceremony(
        dash.authority
            .start_adding_passkey(&p, &passkey_name)
            .await?,
    ))
}

#[server]
pub async fn finish_adding_passkey(ceremony: String, answer: String) -> Result<(), DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    dash.authority
        .finish_adding_passkey(&p, &ceremony, &answer)
        .await?;
    Ok(())
}

#[server]
pub async fn remove_passkey(passkey: String) -> Result<(), DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    dash.authority.remove_own_passkey(&p, &passkey).await?;
    Ok(())
}

/// The invitation token from the URL's fragment (`/invite#TOKEN`).
fn fragment_token() -> String {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()
            .and_then(|w| w.location().hash().ok())
            .map(|h| h.trim_start_matches('#').to_owned())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    String::new()
}

/// Registers a passkey in the browser; answers the credential as JSON.
async fn browser_create(options: &str) -> Result<String, String> {
    #[cfg(feature = "hydrate")]
    {
        webauthn::create(options).await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = options;
        Err("passkeys need JavaScript".into())
    }
}

/// Signs in with a passkey in the browser; answers the assertion as JSON.
async fn browser_get(options: &str) -> Result<String, String> {
    #[cfg(feature = "hydrate")]
    {
        webauthn::get_assertion(options).await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = options;
        Err("passkeys need JavaScript".into())
    }
}

/// A full page load of `path`: the new session cookie is then in effect
/// for every resource of the page.
pub(crate) fn go(path: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.location().set_href(path);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

/// Passkey sign-in: start, browser ceremony, finish, then the keys page
/// (or the consent page named by `next`).
pub async fn sign_in_with_passkey(
    org: String,
    email: String,
    next: Option<String>,
) -> Result<(), String> {
    let start = start_passkey_sign_in(org, email)
        .await
        .map_err(|e| e.to_string())?;
    let answer = browser_get(&start.options).await?;
    finish_passkey_sign_in(start.ceremony, answer)
        .await
        .map_err(|e| e.to_string())?;
    go(crate::session::landing_after_sign_in(next.as_deref()));
    Ok(())
}

/// Adds a passkey for the signed-in person.
pub async fn add_passkey(name: String) -> Result<(), String> {
    let start = start_adding_passkey(name)
        .await
        .map_err(|e| e.to_string())?;
    let answer = browser_create(&start.options).await?;
    finish_adding_passkey(start.ceremony, answer)
        .await
        .map_err(|e| e.to_string())
}
