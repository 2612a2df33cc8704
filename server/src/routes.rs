//! The HTTP surface: dashboard pages, server functions, health check, and
//! static assets, assembled into one axum router.

use std::sync::Arc;

use app::server_info::ServerFacts;
use app::{shell, App};
use axum::{routing::get, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};

use crate::cli::{CliError, Config};

/// Builds the router for the given site options and public facts.
pub fn router(leptos_options: LeptosOptions, facts: Arc<ServerFacts>) -> Router {
    let routes = generate_route_list(App);
    let context = {
        let facts = facts.clone();
        move || provide_context((*facts).clone())
    };
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .leptos_routes_with_context(&leptos_options, routes, context, {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(leptos_options)
}

/// Serves until SIGINT or SIGTERM.
pub async fn serve(config: Config) -> Result<(), CliError> {
    let store_kind = store_kind(&config.store)?;
    let mut leptos_options = get_configuration(None)
        .map_err(|error| CliError::LeptosConfig(error.to_string()))?
        .leptos_options;
    leptos_options.site_addr = config.addr;
    let facts = Arc::new(ServerFacts {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        store_kind: store_kind.to_owned(),
    });

    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| CliError::Bind {
            addr: config.addr,
            source,
        })?;
    let local = listener.local_addr().map_err(CliError::Serve)?;
    tracing::info!(%local, data_dir = %config.data_dir.display(), store = store_kind, "acekeys listening");
    // Tests start the server on port 0 and read the real address from here.
    println!("acekeys listening on http://{local}");

    axum::serve(listener, router(leptos_options, facts))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(CliError::Serve)
}

fn store_kind(store: &str) -> Result<&'static str, CliError> {
    if store == "sqlite" || store.starts_with("sqlite:") {
        Ok("sqlite")
    } else {
        Err(CliError::UnknownStore(store.to_owned()))
    }
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
