//! Server-function failures with the right status.
//!
//! Leptos answers every `Err` from a server function with 500; a refused
//! sign-in or a revoked session is not a server fault. This layer reads the
//! (small) error body of such a 500, and when it is a [`DashError`] sets the
//! status that error means. Genuine internal errors stay 500.

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

use app::error::DashError;

/// Error bodies are a short JSON message; anything larger is passed on.
const MAX_ERROR_BODY: usize = 64 * 1024;

pub async fn status_from_error(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ERROR_BODY).await else {
        parts.status = StatusCode::INTERNAL_SERVER_ERROR;
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(error) = serde_json::from_slice::<DashError>(&bytes) {
        parts.status = status_of(&error);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The HTTP status each dashboard error means.
pub fn status_of(error: &DashError) -> StatusCode {
    match error {
        DashError::SignedOut | DashError::SignInRefused(_) => StatusCode::UNAUTHORIZED,
        DashError::Forbidden(_) => StatusCode::FORBIDDEN,
        DashError::NotFound => StatusCode::NOT_FOUND,
        DashError::Conflict(_) => StatusCode::CONFLICT,
        DashError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        DashError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        DashError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        DashError::Transport(_) => StatusCode::BAD_REQUEST,
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::post;
    use axum::Router;
    use tower::ServiceExt;

    use super::*;

    async fn status_for(error: DashError) -> StatusCode {
        let body = serde_json::to_string(&error).unwrap();
        let app = Router::new()
            .route(
                "/fn",
                post(move || {
                    let body = body.clone();
                    async move { (StatusCode::INTERNAL_SERVER_ERROR, body) }
                }),
            )
            .layer(axum::middleware::from_fn(status_from_error));
        let request = Request::post("/fn").body(Body::empty()).unwrap();
        app.oneshot(request).await.unwrap().status()
    }

    #[tokio::test]
    async fn dashboard_errors_get_their_own_status() {
        assert_eq!(status_for(DashError::SignInRefused("no".into())).await, 401);
        assert_eq!(status_for(DashError::SignedOut).await, 401);
        assert_eq!(status_for(DashError::Forbidden("no".into())).await, 403);
        assert_eq!(status_for(DashError::Invalid("name".into())).await, 422);
        assert_eq!(status_for(DashError::Internal).await, 500);
    }
}
