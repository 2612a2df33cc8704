//! Signing in and out, and who is signed in.
//!
//! The session itself (token, table, timeouts) is `authority::sessions`; the
//! server's dashboard middleware resolves the cookie on every request and
//! puts [`server::SignedIn`] into the request. Server functions here only
//! call `Authority::sign_in` / `sign_out` and set or clear the cookie.

#[cfg(feature = "ssr")]
pub mod cookie;
#[cfg(feature = "ssr")]
pub mod server;

use leptos::prelude::*;

use crate::error::DashError;
use crate::model::Me;

/// Where a person lands after signing in: the consent page they were sent
/// to sign in from (`next`), or the keys page. Only the consent page is a
/// valid `next`: an arbitrary one would make sign-in an open redirect.
pub fn landing_after_sign_in(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path == "/oauth/authorize"
                || (path.starts_with("/oauth/authorize?")
                    && !path.contains(['\\', '\n', '\r'])) =>
        {
            path
        }
        _ => "/keys",
    }
}

/// Signs in with an admin key; sets the session cookie and redirects to
/// the keys page (or to the consent page the person came from).
#[server]
pub async fn sign_in(key: String, next: Option<String>) -> Result<(), DashError> {
    use authority::AuthorityError;
    let dash = server::dashboard()?;
    let ip = server::client_ip();
    let ctx = match dash.authority.sign_in(key.trim(), ip.clone()).await {
        Ok(ctx) => ctx,
        Err(AuthorityError::Unauthenticated(why)) => {
            let client = ip.as_deref().and_then(|ip| ip.parse().ok());
            if let Some(wait) = client.and_then(|c| dash.throttle.failed(c)) {
                return Err(DashError::TooManyAttempts(
                    authority::throttle::retry_after_secs(wait),
                ));
            }
            // Unknown, expired and revoked keys read the same, as at the
            // REST API: a guesser learns nothing about which it holds.
            return Err(DashError::SignInRefused(if why.reveals_stored_state() {
                "That key cannot sign in: it is unknown, expired or revoked. Paste a valid admin key (ace_live_…).".to_owned()
            } else {
                format!("That key cannot sign in: {why}. Paste a valid admin key (ace_live_…).")
            }));
        }
        Err(AuthorityError::Forbidden { .. }) => return Err(DashError::SignInRefused(
            "That key is valid but is not an admin key: signing in needs the scope `admin:org`."
                .to_owned(),
        )),
        Err(other) => return Err(other.into()),
    };
    // A new session on every sign-in, the old one ended: a token planted
    // before sign-in (session fixation) never becomes a signed-in one.
    if let Some(old) = server::signed_in() {
        dash.authority.end_session(&old.token).await?;
    }
    let token = dash
        .authority
        .start_session(
            &ctx.org,
            authority::sessions::SessionActor::Key(ctx.key_id.clone()),
        )
        .await?;
    server::set_cookie(&cookie::session_cookie(
        &token,
        dash.secure_cookies,
        dash.authority.session_timeouts().absolute_secs,
    ));
    leptos_axum::redirect(landing_after_sign_in(next.as_deref()));
    Ok(())
}

/// Ends the session (audited) and clears the cookie.
#[server]
pub async fn sign_out() -> Result<(), DashError> {
    let dash = server::dashboard()?;
    if let Some(signed_in) = server::signed_in() {
        dash.authority.end_session(&signed_in.token).await?;
        dash.authority
            .sign_out(&signed_in.principal, server::client_ip())
            .await?;
    }
    server::set_cookie(&cookie::clear_cookie(dash.secure_cookies));
    leptos_axum::redirect("/sign-in");
    Ok(())
}

/// Who is signed in, for the header, and what the pages may offer them.
#[server]
pub async fn whoami() -> Result<Me, DashError> {
    use authority::Scope;
    let p = server::principal()?;
    Ok(Me {
        key_id: p.key_id.to_string(),
        key_name: p.name.clone(),
        org: p.org.to_string(),
        person: p.person.as_ref().map(ToString::to_string),
        may_write_keys: p.allows(&Scope::service("keys", "write")),
        may_manage_members: p.allows(&Scope::AdminOrg),
    })
}
