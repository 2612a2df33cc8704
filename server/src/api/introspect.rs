//! `POST /api/v1/introspect`: RFC 7662-style key checks for tool servers
//! written in any language. The caller needs its own `svc:keys:introspect`
//! key; an inactive, unknown or other-org key answers `{"active": false}`
//! and nothing else. The token comes as JSON (`{"token": "…"}`) or, as
//! RFC 7662 §2.1 sends it, as a form (`token=…`; `token_type_hint` is
//! accepted and unneeded: the prefix says what a credential is).

use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use model::wire::IntrospectRequest;

use super::json::{parse, read_body};
use super::required::{Authed, KeysIntrospect};
use super::ApiState;
use crate::error::ApiError;

/// `POST /api/v1/introspect`
#[utoipa::path(
    post,
    path = "/introspect",
    summary = "Check a key for a tool server (RFC 7662 style)",
    description = "Requires `svc:keys:introspect` (or `admin:org`).",
    request_body(content(
        (model::wire::IntrospectRequest = "application/json"),
        (model::wire::IntrospectRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "active: true with the key's facts, or active: false", body = model::wire::IntrospectAnswer),
        super::openapi::AuthFailures,
        (status = 400, description = "Body is not JSON", body = model::wire::ErrorEnvelope), (status = 413, description = "Body too large", body = model::wire::ErrorEnvelope), (status = 422, description = "No token", body = model::wire::ErrorEnvelope),
    )
)]
pub async fn introspect(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<KeysIntrospect>,
    TokenBody(body): TokenBody,
) -> Result<Response, ApiError> {
    let answer = state
        .authority
        .introspect(&principal, body.token.expose_secret())
        .await?;
    let mut response = Json(answer).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The token to check, from a JSON or an RFC 7662 form body.
pub struct TokenBody(IntrospectRequest);

impl<S: Send + Sync> FromRequest<S> for TokenBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let form = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let bytes = read_body(request, state).await?;
        if !form {
            return parse(&bytes).map(TokenBody);
        }
        let mut token = None;
        for (name, value) in form_urlencoded::parse(&bytes) {
            match name.as_ref() {
                "token" if token.is_none() => token = Some(value.into_owned()),
                "token" => {
                    return Err(ApiError::invalid_field(
                        "token: send it once (RFC 7662 §2.1)",
                    ))
                }
                "token_type_hint" => {}
                // The name is not echoed: it could be a pasted credential.
                _ => {
                    return Err(ApiError::invalid_field(
                        "unknown form field: send only token (and optionally token_type_hint)",
                    ))
                }
            }
        }
        let token = token.ok_or_else(|| {
            ApiError::invalid_field("token is missing: send token=<the credential to check>")
        })?;
        Ok(TokenBody(IntrospectRequest {
            token: model::RawKey::new_unchecked(token),
        }))
    }
}
