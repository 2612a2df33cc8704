//! `guard::serve`, in process over real sockets: a request head that does
//! not arrive within the header timeout loses its connection, requests
//! carry the peer's address, and a shutdown lets in-flight requests finish
//! but closes an endless stream once the grace is over.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use guard::serve::{serve, ServeLimits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn app() -> Router {
    Router::new()
        .route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                "done"
            }),
        )
        .route(
            "/stream",
            get(|| async {
                Body::from_stream(futures_util::stream::pending::<Result<Bytes, std::io::Error>>())
            }),
        )
}

/// Starts `serve` on a free port; shutdown when `stop` is sent (or dropped).
async fn start(
    limits: ServeLimits,
) -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(serve(
        listener,
        app(),
        async {
            let _ = stopped.await;
        },
        limits,
    ));
    (addr, stop, served)
}

/// Reads until the server closes the connection (or resets it); fails
/// after `limit`.
async fn read_until_closed(what: &str, socket: &mut TcpStream, limit: Duration) -> String {
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(limit, socket.read_to_end(&mut answer))
        .await
        .unwrap_or_else(|_| panic!("{what}: the connection is still open after {limit:?}"));
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_head_past_the_timeout_loses_its_connection_and_requests_carry_the_peer() {
    let (addr, _stop, _served) = start(ServeLimits {
        header_timeout: Duration::from_millis(300),
        shutdown_grace: Duration::from_secs(1),
    })
    .await;
    let started = Instant::now();
    let mut partial = TcpStream::connect(addr).await.unwrap();
    partial
        .write_all(b"GET /peer HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut silent = TcpStream::connect(addr).await.unwrap();

    let mut normal = TcpStream::connect(addr).await.unwrap();
    let me = normal.local_addr().unwrap();
    normal
        .write_all(b"GET /peer HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed("normal", &mut normal, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.ends_with(&me.to_string()),
        "not the peer {me}: {answer}"
    );

    for (what, socket) in [("partial", &mut partial), ("silent", &mut silent)] {
        let answer = read_until_closed(what, socket, Duration::from_secs(5)).await;
        assert!(answer.is_empty(), "{what}: answered {answer:?}");
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_millis(250),
            "{what}: closed after {elapsed:?}"
        );
    }
}

#[tokio::test]
async fn a_shutdown_finishes_in_flight_requests_and_closes_streams_after_the_grace() {
    let (addr, stop, served) = start(ServeLimits {
        header_timeout: Duration::from_secs(30),
        shutdown_grace: Duration::from_secs(1),
    })
    .await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut head = [0_u8; 12];
    stream.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let stopping = Instant::now();
    stop.send(()).unwrap();
    // The slow request is answered, then its keep-alive connection closed.
    let answer = read_until_closed("in flight", &mut slow, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("done"), "{answer}");
    // No new connection is served.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(TcpStream::connect(addr).await.is_err(), "still accepting");
    // The endless stream holds the shutdown for the grace only.
    read_until_closed("stream", &mut stream, Duration::from_secs(5)).await;
    tokio::time::timeout(Duration::from_secs(5), served)
        .await
        .expect("serve did not return")
        .unwrap();
    let took = stopping.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(3),
        "stopped after {took:?}"
    );
}
