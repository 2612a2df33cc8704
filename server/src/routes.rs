//! The HTTP surface: dashboard pages, server functions, the REST API,
//! health and metrics, assembled into one axum router, and the serve loop.

use std::sync::Arc;

use app::server_info::ServerFacts;
use app::{shell, App};
use authority::Authority;
use axum::http::{header, HeaderValue};
use axum::{routing::get, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::trace::TraceLayer;

use crate::api::{self, auth::AuthGate, ApiState};
use crate::client_addr::{self, TrustedProxies};
use crate::dashboard;

/// Builds the whole router.
pub fn router(
    authority: Authority,
    leptos_options: LeptosOptions,
    facts: ServerFacts,
    secure_cookies: bool,
    trusted_proxies: TrustedProxies,
    issuer: &str,
) -> Router {
    let routes = generate_route_list(App);
    // One failure budget per client address for every way in.
    let throttle = authority::throttle::FailureThrottle::shared();
    let sessions =
        dashboard::SessionLayerState::new(authority.clone(), secure_cookies, throttle.clone());
    let context = {
        let state = sessions.dashboard.clone();
        let issuer = app::oauth::OAuthIssuer(issuer.trim_end_matches('/').to_owned());
        move || {
            provide_context(facts.clone());
            provide_context(state.clone());
            provide_context(issuer.clone());
            // leptos_axum has put a fresh nonce in context for this request
            // (its hydration scripts carry it); the policy names the same one.
            if let (Some(nonce), Some(response)) = (
                leptos::nonce::use_nonce(),
                use_context::<leptos_axum::ResponseOptions>(),
            ) {
                if let Ok(value) = HeaderValue::from_str(&dashboard::csp::policy(&nonce)) {
                    response.insert_header(header::CONTENT_SECURITY_POLICY, value);
                }
            }
        }
    };
    let dashboard = Router::new()
        .leptos_routes_with_context(&leptos_options, routes, context.clone(), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(
            context, shell,
        ))
        .with_state(leptos_options)
        .merge(dashboard::routes(sessions.clone(), issuer))
        .layer(axum::middleware::from_fn_with_state(
            sessions,
            dashboard::session::layer,
        ));
    let oauth = crate::oauth::router(authority.clone(), issuer);
    let api = api::router(ApiState {
        authority,
        gate: Arc::new(AuthGate::new(throttle)),
        streams: Default::default(),
    });
    let mut router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(api)
        .merge(oauth)
        .merge(dashboard);
    for layer in crate::security::headers() {
        router = router.layer(layer);
    }
    router = router
        .layer(axum::middleware::from_fn(
            crate::security::no_store_for_data,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            crate::limits::REQUEST_TIMEOUT,
        ))
        .layer(axum::middleware::from_fn(crate::limits::limit_body));
    router
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(trusted_proxies),
            client_addr::resolve,
        ))
        .layer(TraceLayer::new_for_http())
}

/// The operator's listener: `/metrics` only (see `--metrics-addr`).
pub fn metrics_router(authority: Authority) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let authority = authority.clone();
            async move { crate::metrics::render(&authority) }
        }),
    )
}
