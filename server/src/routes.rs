//! The HTTP surface: dashboard pages, server functions, the REST API,
//! health and metrics, assembled into one axum router, and the serve loop.

use std::net::SocketAddr;
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
use crate::cli::{CliError, Config};
use crate::dashboard;

/// Builds the whole router.
pub fn router(
    authority: Authority,
    leptos_options: LeptosOptions,
    facts: ServerFacts,
    secure_cookies: bool,
) -> Router {
    let routes = generate_route_list(App);
    let sessions = dashboard::SessionLayerState::new(authority.clone(), secure_cookies);
    let context = {
        let state = sessions.dashboard.clone();
        move || {
            provide_context(facts.clone());
            provide_context(state.clone());
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
        .merge(dashboard::routes(sessions.clone()))
        .layer(axum::middleware::from_fn(
            dashboard::errors::status_from_error,
        ))
        .layer(axum::middleware::from_fn_with_state(
            sessions,
            dashboard::session::layer,
        ));
    let for_metrics = authority.clone();
    let api = api::router(ApiState {
        authority,
        gate: Arc::new(AuthGate::new()),
    });
    let mut router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/metrics",
            get(move || {
                let authority = for_metrics.clone();
                async move { crate::metrics::render(&authority) }
            }),
        )
        .merge(api)
        .merge(dashboard);
    for layer in crate::security::headers() {
        router = router.layer(layer);
    }
    router.layer(TraceLayer::new_for_http())
}

/// Opens the store, bootstraps an empty one, and serves until SIGINT or SIGTERM.
pub async fn serve(config: Config) -> Result<(), CliError> {
    crate::metrics::install();
    let store_kind = crate::startup::StoreChoice::parse(&config.store)?.kind();
    let authority = crate::startup::open_authority(&config).await?;

    let mut leptos_options = get_configuration(None)
        .map_err(|error| CliError::LeptosConfig(error.to_string()))?
        .leptos_options;
    leptos_options.site_addr = config.addr;
    let facts = ServerFacts {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        store_kind: store_kind.to_owned(),
    };

    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| CliError::Bind {
            addr: config.addr,
            source,
        })?;
    let local = listener.local_addr().map_err(CliError::Serve)?;

    if let Some(minted) = authority.ensure_default_org().await? {
        // The one place a raw key is printed: stdout, once, for the operator
        // who just started an empty server. Never to the log.
        println!(
            "First start: created org `default`.\n\
             Its admin key is shown once; store it now:\n\n    {}\n\n\
             Sign in at http://{local}/ or call the API with `Authorization: Bearer <key>`.",
            minted.key.expose_secret()
        );
        tracing::info!(key_id = %minted.view.id, "bootstrapped org `default` on first start");
    }

    tracing::info!(%local, data_dir = %config.data_dir.display(), store = store_kind, env = %authority.env(), "acekeys listening");
    // Tests start the server on port 0 and read the real address from here.
    println!("acekeys listening on http://{local}");

    let app = router(
        authority.clone(),
        leptos_options,
        facts,
        config.secure_cookies,
    );
    // Without TCP_NODELAY, a streamed page's last chunk waits for the
    // client's delayed ACK on keep-alive connections: ~40 ms per page.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
    });
    let result = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(CliError::Serve);
    // In-flight requests have finished (each was answered only once its
    // audit event was durable); write the coalesced last-used marks too.
    if let Err(error) = authority.flush_usage().await {
        tracing::warn!(%error, "could not flush last-used marks on shutdown");
    }
    tracing::info!("stopped");
    result
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
