//! Serving an axum [`Router`] over TCP with a time limit on request heads:
//! `axum::serve` builds hyper without a timer, so hyper's header-read
//! timeout never applies there and a client that sends only part of a
//! request head (slowloris), or nothing at all, holds its connection and a
//! task forever. [`serve`] is the one place the acekeys server and tool
//! servers (wiki-mcp) serve HTTP.
//!
//! - Every connection must deliver a complete request head within
//!   [`ServeLimits::header_timeout`] of opening, and each later head within
//!   that time of the previous response's end: past it, the connection is
//!   closed without an answer. An idle keep-alive connection is therefore
//!   closed after the same time. Once the head is in, the request is the
//!   service's to bound (its body and handler: the request time limit).
//! - HTTP/1 only (with upgrades). hyper-util's automatic HTTP/1-or-2
//!   connection reads the first bytes with no timer while it picks the
//!   protocol (a client that sends nothing is held forever), and hyper has
//!   no header-read timeout for HTTP/2.
//! - Each request carries axum's `ConnectInfo<SocketAddr>`, the peer's
//!   address, exactly as `into_make_service_with_connect_info::<SocketAddr>()`
//!   gave it; TCP_NODELAY is set on every connection (without it a streamed
//!   response's last chunk waits for the client's delayed ACK).
//! - Graceful shutdown: once `shutdown` completes, no connection is
//!   accepted, idle connections close, and in-flight requests finish, for at
//!   most [`ServeLimits::shutdown_grace`]; connections still open then (a
//!   Server-Sent Events stream never ends by itself) are closed and [`serve`]
//!   returns, so the caller's shutdown work (flushes, seals) always runs.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower_service::Service;

/// The default [`ServeLimits::header_timeout`]: 30 s, like the request
/// time limit.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest header timeout applied; a longer one is taken as this (the
/// deadline must stay representable).
const MAX_HEADER_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// The time limits of [`serve`].
#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    /// How long a connection may take to deliver a complete request head,
    /// from its opening or the end of its previous response; past it, the
    /// connection is closed (idle keep-alive connections too).
    pub header_timeout: Duration,
    /// At shutdown, how long in-flight requests get to finish before the
    /// connections still open are closed.
    pub shutdown_grace: Duration,
}

/// Serves `app` on `listener` until `shutdown` completes, then shuts down
/// gracefully within [`ServeLimits::shutdown_grace`] (see the module
/// docs). Accept errors are logged and retried, so this only returns after
/// `shutdown`. Pass `std::future::pending()` to serve for as long as the
/// process lives.
pub async fn serve<F>(listener: TcpListener, app: Router, shutdown: F, limits: ServeLimits)
where
    F: Future<Output = ()>,
{
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout.min(MAX_HEADER_TIMEOUT));
    // `stopping`: shut down gracefully; `closing`: close now (the grace is
    // over). Every connection task holds an `open` receiver, so
    // `open.closed()` completes once all of them have ended.
    let (stopping, _) = watch::channel(false);
    let (closing, _) = watch::channel(false);
    let (open, _) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                accept_failed(error).await;
                continue;
            }
        };
        tokio::spawn(connection(
            tcp,
            peer,
            app.clone(),
            http.clone(),
            Signals {
                stopping: stopping.subscribe(),
                closing: closing.subscribe(),
                _open: open.subscribe(),
            },
        ));
    }
    drop(listener);
    let _ = stopping.send(true);
    let in_flight = open.receiver_count();
    if in_flight == 0 {
        return;
    }
    tracing::info!(
        connections = in_flight,
        "waiting for open connections to finish"
    );
    if tokio::time::timeout(limits.shutdown_grace, open.closed())
        .await
        .is_err()
    {
        tracing::warn!(
            connections = open.receiver_count(),
            grace_ms = u64::try_from(limits.shutdown_grace.as_millis()).unwrap_or(u64::MAX),
            "closing connections still open after the shutdown grace"
        );
        let _ = closing.send(true);
        open.closed().await;
    }
}

/// What a connection task listens to, and the token that shows it is open.
struct Signals {
    stopping: watch::Receiver<bool>,
    closing: watch::Receiver<bool>,
    _open: watch::Receiver<()>,
}

async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    app: Router,
    http: http1::Builder,
    mut signals: Signals,
) {
    if let Err(error) = tcp.set_nodelay(true) {
        tracing::debug!(%error, "could not set TCP_NODELAY");
    }
    let service = hyper::service::service_fn(move |mut request: http::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let mut app = app.clone();
        async move {
            std::future::poll_fn(|cx| Service::<http::Request<Incoming>>::poll_ready(&mut app, cx))
                .await?;
            Service::<http::Request<Incoming>>::call(&mut app, request).await
        }
    });
    let conn = http
        .serve_connection(TokioIo::new(tcp), service)
        .with_upgrades();
    let mut conn = std::pin::pin!(conn);
    let mut stopping = false;
    loop {
        tokio::select! {
            served = conn.as_mut() => {
                if let Err(error) = served {
                    // A header timeout, a client gone mid-request, a
                    // malformed request: the client's doing, not an outage.
                    tracing::debug!(%peer, %error, "connection ended with an error");
                }
                break;
            }
            _ = signals.stopping.wait_for(|stop| *stop), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = signals.closing.wait_for(|close| *close) => break,
        }
    }
}

/// As hyper and axum do: errors of one connection (reset before it was
/// accepted) are skipped; others (out of file descriptors) are logged and
/// retried after a second, so the loop does not spin.
async fn accept_failed(error: io::Error) {
    if matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "could not accept a connection; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
