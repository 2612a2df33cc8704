//! The tower layer: one guard decision per HTTP request.
//!
//! POST bodies are buffered (up to a limit) so that a JSON-RPC
//! `tools/call` can be recognised and its tool's scope checked before the
//! MCP server sees it; the buffered bytes are then handed on unchanged.
//! Refusals are answered here, so a refused request never reaches the
//! server behind the layer:
//!
//! | refusal | answer |
//! |---|---|
//! | missing / malformed / unknown / expired / revoked / wrong-env key | 401, `WWW-Authenticate: Bearer …`, `{"error":{code,message}}` |
//! | key lacks the tool's scope | 403, `WWW-Authenticate: Bearer … error="insufficient_scope", scope="…"` (MCP authorization, step-up), and the JSON-RPC error naming the scope as the body |
//! | undeclared tool | 200, JSON-RPC error |
//! | authority or audit trail unavailable, remote spool full | 503, `Retry-After: 1` (a JSON-RPC error for tool calls) |
//! | too many audited requests without a valid key | 429, `Retry-After: <secs>`, a JSON-RPC error (not audited) |
//! | a rate limit or budget of the key is reached | 429, `Retry-After: <secs>` until the window or the budget's period ends (none for a budget that never refills), a JSON-RPC error `rate_limited` / `budget_exhausted` (audited) |
//!
//! Once the guard serves as a protected resource ([`Guard::serve_as`]),
//! every 401 and 403 challenge carries `resource_metadata`, the URL of its
//! RFC 9728 metadata document.
//!
//! The caller's address comes from axum's `ConnectInfo<SocketAddr>` when
//! the server provides it ([`crate::serve::serve`] does, as does
//! `into_make_service_with_connect_info`): the
//! limit on unauthenticated calls is then per address as well as global,
//! and events record it as `client_ip`.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::ConnectInfo;
use bytes::Bytes;
use http::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Either, Full, Limited};
use serde_json::{json, Value};
use tower_layer::Layer;
use tower_service::Service;

use model::wire::bearer::{self, BearerError, Challenge};
use model::wire::ErrorEnvelope;

use super::jsonrpc::{self, Peek};
use super::{Guard, GuardedCaller, Refusal};

/// Bodies larger than this are refused (413) before any decision: at once
/// when their `Content-Length` says so, else when reading passes it.
pub const DEFAULT_MAX_BODY: usize = 4 * 1024 * 1024;

/// JSON-RPC error code for a refused tool call (server-defined range).
pub const FORBIDDEN_CODE: i64 = -32003;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The response body: the inner service's, or the guard's own answer.
pub type GuardBody<B> = Either<B, Full<Bytes>>;

/// Wraps an HTTP service (an MCP endpoint) with a [`Guard`].
#[derive(Clone, Debug)]
pub struct GuardLayer {
    guard: Guard,
    max_body: usize,
}

impl GuardLayer {
    pub fn new(guard: Guard) -> Self {
        Self {
            guard,
            max_body: DEFAULT_MAX_BODY,
        }
    }

    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }
}

impl<S> Layer<S> for GuardLayer {
    type Service = GuardService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GuardService {
            guard: self.guard.clone(),
            inner,
            max_body: self.max_body,
        }
    }
}

/// See [`GuardLayer`].
#[derive(Clone, Debug)]
pub struct GuardService<S> {
    guard: Guard,
    inner: S,
    max_body: usize,
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for GuardService<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqB: Body<Data = Bytes> + From<Bytes> + Send + 'static,
    ReqB::Error: Into<BoxError>,
    ResB: Body<Data = Bytes> + Send + 'static,
{
    type Response = Response<GuardBody<ResB>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqB>) -> Self::Future {
        // The service that was polled ready handles this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let guard = self.guard.clone();
        let max_body = self.max_body;
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            let bearer = bearer(&parts.headers);
            let client = client_addr(&parts.extensions);
            let (body, peek) = if parts.method == Method::POST {
                // A body that says it is too large (its Content-Length) is
                // refused before any of it is read, as at the authority.
                if body.size_hint().lower() > max_body as u64 {
                    return Ok(too_large());
                }
                match Limited::new(body, max_body).collect().await {
                    Ok(collected) => {
                        let bytes = collected.to_bytes();
                        let peek = jsonrpc::peek(&bytes);
                        (ReqB::from(bytes), peek)
                    }
                    Err(e) => {
                        let over = e.downcast_ref::<http_body_util::LengthLimitError>();
                        return Ok(if over.is_some() {
                            too_large()
                        } else {
                            plain(
                                StatusCode::BAD_REQUEST,
                                "bad_body",
                                "could not read the request body",
                            )
                        });
                    }
                }
            } else {
                (body, Peek::Other)
            };
            let decision = match &peek {
                Peek::ToolCall {
                    tool,
                    arguments,
                    id,
                } => {
                    guard
                        .authorize_tool(
                            bearer.as_deref(),
                            tool,
                            arguments,
                            jsonrpc::id_text(id),
                            client,
                        )
                        .await
                }
                Peek::BatchWithToolCall => {
                    return Ok(plain(
                        StatusCode::BAD_REQUEST,
                        "batch_not_supported",
                        "send tools/call requests one at a time, not in a JSON-RPC batch",
                    ));
                }
                Peek::Request { method, id } => {
                    guard
                        .authenticate(bearer.as_deref(), method, jsonrpc::id_text(id), client)
                        .await
                }
                Peek::Other => {
                    // Not JSON-RPC (the event stream's GET, a session's
                    // DELETE): the HTTP method names the request.
                    let request = format!("HTTP {}", parts.method);
                    guard
                        .authenticate(bearer.as_deref(), &request, None, client)
                        .await
                }
            };
            drop(bearer);
            match decision {
                Ok(caller) => {
                    parts.extensions.insert(GuardedCaller(caller));
                    let response = inner.call(Request::from_parts(parts, body)).await?;
                    Ok(response.map(Either::Left))
                }
                Err(refusal) => Ok(refuse(
                    &refusal,
                    &peek,
                    guard.protected_resource().map(|r| r.metadata_url()),
                )),
            }
        })
    }
}

/// The Bearer credential: `None` when no Authorization header was sent. A
/// header that holds no usable Bearer credential (another scheme, not
/// text, nothing after `Bearer`) is a credential that cannot be valid: it
/// is checked, refused as malformed and audited like any bad key.
fn bearer(headers: &http::HeaderMap) -> Option<String> {
    match bearer::credential(headers.get(AUTHORIZATION).map(HeaderValue::as_bytes)) {
        Ok(token) => Some(token.to_owned()),
        Err(BearerError::Missing) => None,
        Err(BearerError::Malformed(_)) => Some(String::new()),
    }
}

/// The peer's address, if the server put it in the request (axum does with
/// `into_make_service_with_connect_info::<SocketAddr>()`).
fn client_addr(extensions: &http::Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

fn refuse<B>(
    refusal: &Refusal,
    peek: &Peek,
    resource_metadata: Option<String>,
) -> Response<GuardBody<B>> {
    let message = refusal.message();
    let challenge = |response: &mut Response<GuardBody<B>>, challenge: Challenge<'_>| {
        let value = bearer::challenge_for_resource(challenge, resource_metadata.as_deref());
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(WWW_AUTHENTICATE, value);
        }
    };
    match refusal {
        Refusal::MissingKey | Refusal::InvalidKey(_) => {
            let mut response = plain(StatusCode::UNAUTHORIZED, refusal.public_code(), &message);
            let why = match refusal {
                Refusal::MissingKey => Challenge::NoCredential,
                _ => Challenge::InvalidToken {
                    description: &message,
                },
            };
            challenge(&mut response, why);
            response
        }
        Refusal::InsufficientScope { tool, scope } => {
            // 403 and the scope, so an MCP client can step up; the body
            // keeps the JSON-RPC error for clients that read only that.
            let scope = scope.to_string();
            let mut response = rpc_error(
                StatusCode::FORBIDDEN,
                peek,
                &message,
                json!({ "code": refusal.code(), "tool": tool, "required_scope": scope }),
            );
            challenge(
                &mut response,
                Challenge::InsufficientScope {
                    scope: Some(&scope),
                },
            );
            response
        }
        Refusal::UnknownTool { tool } => rpc_error(
            StatusCode::OK,
            peek,
            &message,
            json!({ "code": refusal.code(), "tool": tool }),
        ),
        Refusal::Unavailable | Refusal::AuditUnavailable => {
            let mut response = match peek {
                Peek::ToolCall { .. } => rpc_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    peek,
                    &message,
                    json!({ "code": refusal.code() }),
                ),
                _ => plain(StatusCode::SERVICE_UNAVAILABLE, refusal.code(), &message),
            };
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        Refusal::Limited(reached) => {
            let mut response = rpc_error(
                StatusCode::TOO_MANY_REQUESTS,
                peek,
                &message,
                json!({ "code": refusal.code(), "retry_after": reached.retry_after_secs }),
            );
            if let Some(secs) = reached.retry_after_secs {
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(secs));
            }
            response
        }
        Refusal::Throttled { retry_after_secs } => {
            let mut response = rpc_error(
                StatusCode::TOO_MANY_REQUESTS,
                peek,
                &message,
                json!({ "code": refusal.code() }),
            );
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            response
        }
    }
}

fn rpc_error<B>(
    status: StatusCode,
    peek: &Peek,
    message: &str,
    data: Value,
) -> Response<GuardBody<B>> {
    let id = match peek {
        Peek::ToolCall { id, .. } | Peek::Request { id, .. } => id.clone(),
        _ => Value::Null,
    };
    respond(status, jsonrpc::error(&id, FORBIDDEN_CODE, message, data))
}

/// 413 in the error envelope.
fn too_large<B>() -> Response<GuardBody<B>> {
    plain(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        "request body too large",
    )
}

/// The acekeys REST error envelope.
fn plain<B>(status: StatusCode, code: &str, message: &str) -> Response<GuardBody<B>> {
    respond(
        status,
        Bytes::from(ErrorEnvelope::new(code, message).to_json()),
    )
}

fn respond<B>(status: StatusCode, body: Bytes) -> Response<GuardBody<B>> {
    let mut response = Response::new(Either::Right(Full::new(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
