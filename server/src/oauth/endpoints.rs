//! The handlers: parse the form or JSON, call one authority method, answer.

use authority::keys::RawKey;
use authority::oauth::{OAuthCode, OAuthError};
use authority::ClientCredentials;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form, Json};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use model::wire::{
    AuthorizationServerMetadata, ClientRegistrationRequest, TokenRequest, TokenRevocationRequest,
};

use super::{too_many, OAuthReply, OAuthState};
use crate::client_addr::ClientAddr;

pub(super) async fn metadata(State(s): State<OAuthState>) -> Response {
    let issuer = s.issuer.to_string();
    let at = |path: &str| format!("{issuer}{path}");
    let mut scopes = s.authority.oauth_scopes();
    scopes.sort();
    let body = AuthorizationServerMetadata {
        authorization_endpoint: at("/oauth/authorize"),
        token_endpoint: at("/oauth/token"),
        registration_endpoint: at("/oauth/register"),
        revocation_endpoint: at("/oauth/revoke"),
        introspection_endpoint: at("/api/v1/introspect"),
        issuer,
        response_types_supported: vec!["code".into()],
        response_modes_supported: vec!["query".into()],
        grant_types_supported: vec!["authorization_code".into(), "refresh_token".into()],
        token_endpoint_auth_methods_supported: vec![
            "none".into(),
            "client_secret_basic".into(),
            "client_secret_post".into(),
        ],
        revocation_endpoint_auth_methods_supported: vec![
            "none".into(),
            "client_secret_basic".into(),
            "client_secret_post".into(),
        ],
        code_challenge_methods_supported: vec!["S256".into()],
        scopes_supported: scopes,
        client_id_metadata_document_supported: true,
        authorization_response_iss_parameter_supported: true,
    };
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=300"),
    );
    response
}

pub(super) async fn register(
    State(s): State<OAuthState>,
    client: Option<Extension<ClientAddr>>,
    body: Result<Json<ClientRegistrationRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if let Some(Extension(ClientAddr(ip))) = client {
        if let Some(wait) = s.registrations.failed(ip) {
            return too_many(wait);
        }
    }
    let Json(req) = match body {
        Ok(b) => b,
        Err(e) => {
            return OAuthReply(OAuthError::refused(
                OAuthCode::InvalidClientMetadata,
                format!(
                    "the body must be a JSON client registration (RFC 7591): {}",
                    e.body_text()
                ),
            ))
            .into_response()
        }
    };
    match s.authority.register_client(req).await {
        Ok(answer) => {
            let mut response = (StatusCode::CREATED, Json(answer)).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => OAuthReply(e).into_response(),
    }
}

/// Client credentials from `Authorization: Basic` (RFC 6749 §2.3.1: both
/// parts form-urlencoded) or the form; both at once is refused.
fn credentials(
    headers: &HeaderMap,
    form_id: Option<String>,
    form_secret: Option<String>,
) -> Result<ClientCredentials, OAuthError> {
    let bad = |why: &str| OAuthError::refused(OAuthCode::InvalidClient, why);
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        });
    let Some(encoded) = basic else {
        return Ok(ClientCredentials {
            client_id: form_id,
            // An empty `client_secret` (some clients always send the field)
            // is no secret.
            secret: form_secret
                .filter(|s| !s.is_empty())
                .map(RawKey::new_unchecked),
        });
    };
    if form_secret.is_some() {
        return Err(bad(
            "send the client secret once: in the header or in the form",
        ));
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| bad("malformed Basic credentials"))?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or_else(|| bad("malformed Basic credentials"))?;
    let unescape = |s: &str| {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let id = unescape(id);
    if form_id.as_ref().is_some_and(|f| *f != id) {
        return Err(bad(
            "client_id in the form differs from the Basic credentials",
        ));
    }
    Ok(ClientCredentials {
        client_id: Some(id),
        secret: Some(RawKey::new_unchecked(unescape(secret))),
    })
}

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

pub(super) async fn token(
    State(s): State<OAuthState>,
    headers: HeaderMap,
    form: Result<Form<TokenRequest>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(mut req)) = form else {
        return OAuthReply(OAuthError::refused(
            OAuthCode::InvalidRequest,
            "the body must be application/x-www-form-urlencoded (RFC 6749 §4.1.3)",
        ))
        .into_response();
    };
    let creds = match credentials(&headers, req.client_id.take(), req.client_secret.take()) {
        Ok(c) => c,
        Err(e) => return OAuthReply(e).into_response(),
    };
    match s.authority.token(creds, req).await {
        Ok(answer) => no_store(Json(answer).into_response()),
        Err(e) => OAuthReply(e).into_response(),
    }
}

pub(super) async fn revoke(
    State(s): State<OAuthState>,
    headers: HeaderMap,
    form: Result<Form<TokenRevocationRequest>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(req)) = form else {
        return OAuthReply(OAuthError::refused(
            OAuthCode::InvalidRequest,
            "the body must be application/x-www-form-urlencoded (RFC 7009 §2.1)",
        ))
        .into_response();
    };
    let creds = match credentials(&headers, req.client_id, req.client_secret) {
        Ok(c) => c,
        Err(e) => return OAuthReply(e).into_response(),
    };
    match s.authority.revoke_token(creds, req.token.as_deref()).await {
        Ok(()) => no_store(StatusCode::OK.into_response()),
        Err(e) => OAuthReply(e).into_response(),
    }
}
