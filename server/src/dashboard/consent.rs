//! `POST /oauth/consent`: the consent page's form. A plain form post (it
//! works before, and without, the WASM bundle), behind the dashboard's
//! origin check and session like every dashboard change. It calls the
//! authority once and answers with a page that sends the browser on to the
//! app's redirect URI (a code, or `access_denied`), or with a page saying
//! why nothing was sent.
//!
//! Why a page and not a 303: the dashboard's Content-Security-Policy says
//! `form-action 'self'`, which browsers apply to a form post's redirects
//! too, so a 303 to the app would be blocked. A `meta` refresh (and a link,
//! for browsers that do not follow it) is a navigation CSP does not govern,
//! and the form-action rule stays as strict as it is.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Extension;
use model::wire::{AuthorizationParams, ConsentDecision};

use authority::oauth::AuthorizeError;

use crate::html::escape;

#[derive(Clone)]
pub struct ConsentState {
    pub authority: authority::Authority,
    pub issuer: std::sync::Arc<str>,
}

/// The form's fields: `request` (the authorization request's query string,
/// as the page received it), `scope` (repeated, one per box ticked),
/// `agent`, `expires_days`, and `decision` (`approve` or `deny`).
fn decision_of(form: &[u8]) -> Result<ConsentDecision, String> {
    let mut request = None;
    let (mut scopes, mut agent, mut days, mut approve) = (Vec::new(), None, None, None);
    for (k, v) in form_urlencoded::parse(form) {
        match &*k {
            "request" => request = Some(v.into_owned()),
            "scope" => scopes.push(v.into_owned()),
            "agent" => agent = Some(v.into_owned()).filter(|a| !a.trim().is_empty()),
            "expires_days" => {
                days = Some(
                    v.parse::<u32>()
                        .map_err(|_| "expires_days must be a number of days")?,
                )
            }
            "decision" => approve = Some(v == "approve"),
            _ => {}
        }
    }
    let request =
        request.ok_or("the form lost the authorization request; start again from the app")?;
    let params = params_of(&request);
    Ok(ConsentDecision {
        params,
        approve: approve.ok_or("choose Approve or Deny")?,
        scopes,
        agent,
        expires_days: days,
    })
}

/// The authorization request's parameters from its query string; the
/// first value of a repeated name, as the consent page reads it.
fn params_of(query: &str) -> AuthorizationParams {
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(query.trim_start_matches('?').as_bytes())
            .into_owned()
            .collect();
    AuthorizationParams::from_query(|name| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    })
}

/// Headers of both pages: nothing to run, nothing to frame, not cached.
fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, Html(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        axum::http::HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}

/// Sends the browser on to the app (the answer's URL, `iss` included).
fn return_to_app(url: &str) -> Response {
    let url = escape(url);
    html(
        StatusCode::OK,
        format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta http-equiv=\"refresh\" content=\"0; url={url}\"><title>acekeys: returning to the app</title></head>\
             <body><main><p>Returning to the app… <a id=\"return-to-app\" href=\"{url}\">Continue</a></p></main></body></html>"
        ),
    )
}

/// A page for the person, never the app: what went wrong, what to do.
fn page(status: StatusCode, message: &str) -> Response {
    let escaped = escape(message);
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>acekeys: connect an app</title></head>\
         <body><main><h1>This request cannot be answered</h1><p id=\"consent-refused\" role=\"alert\">{escaped}</p>\
         <p><a href=\"/apps\">Connected apps</a></p></main></body></html>"
    );
    html(status, body)
}

pub async fn decide(
    State(state): State<ConsentState>,
    signed_in: Option<Extension<app::session::server::SignedIn>>,
    body: Bytes,
) -> Response {
    let Some(Extension(signed_in)) = signed_in else {
        return Redirect::to("/sign-in").into_response();
    };
    let decision = match decision_of(&body) {
        Ok(d) => d,
        Err(message) => return page(StatusCode::BAD_REQUEST, &message),
    };
    let answer = match state
        .authority
        .decide_consent(&signed_in.principal, decision)
        .await
    {
        Ok(answer) | Err(AuthorizeError::Redirect(answer)) => answer,
        Err(AuthorizeError::Page(message)) => {
            return page(StatusCode::UNPROCESSABLE_ENTITY, &message)
        }
        Err(AuthorizeError::Unavailable { cause }) => {
            tracing::warn!(%cause, "consent: the store is unavailable");
            return page(
                StatusCode::SERVICE_UNAVAILABLE,
                "The key authority is temporarily unavailable. Go back and try again in a moment.",
            );
        }
        Err(AuthorizeError::Internal { cause }) => {
            tracing::error!(%cause, "consent failed");
            return page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on the server.",
            );
        }
    };
    return_to_app(&answer.url(&state.issuer))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The URL comes from a client (its redirect URI and `state`): it is
    /// escaped into the page, and the page runs nothing.
    #[tokio::test]
    async fn the_way_back_to_the_app_is_escaped() {
        let response = return_to_app("http://127.0.0.1/cb?code=a&state=\"><script>x</script>");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[header::CONTENT_SECURITY_POLICY],
            "default-src 'none'; frame-ancestors 'none'"
        );
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(!body.contains("<script>"), "{body}");
        assert!(body.contains("state=&quot;&gt;&lt;script&gt;"), "{body}");
        assert!(body.contains("code=a&amp;state"), "{body}");
    }

    #[test]
    fn the_form_becomes_a_decision() {
        let d = decision_of(
            b"request=%3Fclient_id%3Dcli_a%26state%3Dx%2By&scope=svc%3Awiki%3Aread&scope=svc%3Awiki%3Awrite&agent=&expires_days=7&decision=approve",
        )
        .unwrap();
        assert_eq!(d.params.client_id.as_deref(), Some("cli_a"));
        assert_eq!(d.params.state.as_deref(), Some("x y"));
        assert_eq!(d.scopes, ["svc:wiki:read", "svc:wiki:write"]);
        assert_eq!((d.agent, d.expires_days, d.approve), (None, Some(7), true));
        assert!(
            decision_of(b"scope=x&decision=approve").is_err(),
            "no request"
        );
        assert!(decision_of(b"request=&expires_days=soon&decision=deny").is_err());
    }
}
