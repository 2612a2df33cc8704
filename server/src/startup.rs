//! Starting the server: open the authority from the configuration, bind,
//! serve until SIGTERM/SIGINT, then flush what is pending. Owns the errors
//! that can stop it ([`StartError`]).

use std::net::SocketAddr;

use app::server_info::ServerFacts;
use authority::{Authority, AuthorityConfig, AuthorityError, OpenError, OpenOptions};
use leptos::prelude::get_configuration;

use crate::config::{Config, ConfigError};

/// Why the server could not start or stopped with a failure. Messages say
/// what to do.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("{0}")]
    Authority(#[from] AuthorityError),
    #[error("could not read the Leptos site configuration: {0}")]
    LeptosConfig(String),
    #[error("could not listen on {addr}: {source}. Is another process using it? Set LEPTOS_SITE_ADDR or --addr to another address.")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("could not listen for metrics on {addr}: {source}. Set ACEKEYS_METRICS_ADDR or --metrics-addr to a free address.")]
    MetricsBind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the server stopped with an error: {0}")]
    Serve(std::io::Error),
}

/// Opens the configured store and pepper and builds the authority.
/// Must run inside the Tokio runtime (the authority starts its flushers).
pub async fn open_authority(config: &Config) -> Result<Authority, StartError> {
    let options = OpenOptions {
        store: config.store_location()?,
        data_dir: config.data_dir.clone(),
        env: config.env()?,
        config: AuthorityConfig {
            server_name: Some("acekeys".to_owned()),
            passkeys: config.passkeys()?.map(std::sync::Arc::new),
            outbound: authority::outbound::OutboundPolicy {
                allow_insecure: config.allow_insecure_client_documents,
            },
            leaks: config.leaks()?,
            webhook_outbound: webhook_outbound(config),
            ..AuthorityConfig::default()
        },
    };
    Ok(Authority::open(options).await?)
}

fn webhook_outbound(config: &Config) -> authority::outbound::OutboundPolicy {
    authority::outbound::OutboundPolicy {
        allow_insecure: config.allow_insecure_webhooks,
    }
}

/// Opens the store, bootstraps an empty one, and serves the dashboard, the
/// REST API and the authority until SIGINT or SIGTERM.
pub async fn serve(config: Config) -> Result<(), StartError> {
    crate::metrics::install();
    let store_kind = config.store_location()?.kind();
    let trusted_proxies = config.trusted_proxies()?;
    let authority = open_authority(&config).await?;

    let mut leptos_options = get_configuration(None)
        .map_err(|error| StartError::LeptosConfig(error.to_string()))?
        .leptos_options;
    leptos_options.site_addr = config.addr;
    let facts = ServerFacts {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        store_kind: store_kind.to_owned(),
    };

    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.addr,
            source,
        })?;
    let local = listener.local_addr().map_err(StartError::Serve)?;

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

    authority.start_webhooks(authority::WebhookDispatchConfig {
        outbound: webhook_outbound(&config),
        first_retry: std::time::Duration::from_millis(config.webhook_first_retry_ms),
        ..Default::default()
    })?;

    if let Some(addr) = config.metrics_addr {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::MetricsBind { addr, source })?;
        let local = listener.local_addr().map_err(StartError::Serve)?;
        println!("acekeys metrics on http://{local}/metrics");
        let metrics = crate::routes::metrics_router(authority.clone());
        // Served for as long as the process lives, with the same limit on
        // request heads as the main listener.
        tokio::spawn(guard::serve::serve(
            listener,
            metrics,
            std::future::pending(),
            serve_limits(&config),
        ));
    }

    tracing::info!(%local, data_dir = %config.data_dir.display(), store = store_kind, env = %authority.env(), "acekeys listening");
    // Tests start the server on port 0 and read the real address from here.
    println!("acekeys listening on http://{local}");

    // The OAuth issuer: the public URL people and clients use, or this
    // listener's own address on a developer's machine.
    let issuer = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{local}"));
    let app = crate::routes::router(
        authority.clone(),
        leptos_options,
        facts,
        config.secure_cookies,
        trusted_proxies,
        &issuer,
    );
    // Each request gets the peer's address (`ConnectInfo`) and every
    // connection TCP_NODELAY (else a streamed page's last chunk waits for
    // the client's delayed ACK: ~40 ms per page); a request head must
    // arrive within the header timeout. On SIGTERM, in-flight requests get
    // the request time limit to finish; streams still open then (a
    // revocation stream never ends by itself) are closed.
    guard::serve::serve(listener, app, shutdown_signal(), serve_limits(&config)).await;
    // In-flight requests have ended (each was answered only once its
    // audit event was durable); write the coalesced last-used marks too.
    if let Err(error) = authority.flush_usage().await {
        tracing::warn!(%error, "could not flush last-used marks on shutdown");
    }
    // Sign the newest heads, so nothing recorded before the stop can be
    // cut off the trail unseen.
    if let Err(error) = authority.seal_chains().await {
        tracing::warn!(%error, "could not seal the audit chains on shutdown");
    }
    tracing::info!("stopped");
    Ok(())
}

/// The listeners' time limits: a request head within the configured
/// header timeout; at shutdown, as long as a request may take anyway.
fn serve_limits(config: &Config) -> guard::serve::ServeLimits {
    guard::serve::ServeLimits {
        header_timeout: std::time::Duration::from_millis(config.header_timeout_ms),
        shutdown_grace: crate::limits::REQUEST_TIMEOUT,
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
