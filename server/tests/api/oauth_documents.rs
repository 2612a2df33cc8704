//! OAuth clients that describe themselves in a Client ID Metadata Document,
//! against the real binary and a real document host on loopback: the whole
//! flow in development mode, and every document the server must refuse to
//! fetch or to believe (private addresses, redirects, huge or slow answers,
//! a document naming another client).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::guarantees::sign_in;
use crate::harness::{spawn_app, spawn_app_with, TestApp};
use crate::oauth::{metadata, pkce, Flow};

const INSECURE: (&str, &str) = ("ACEKEYS_ALLOW_INSECURE_CLIENT_DOCUMENTS", "true");

/// A web server on loopback that serves client documents and counts every
/// request it receives.
struct DocumentHost {
    base: String,
    hits: Arc<AtomicUsize>,
}

impl DocumentHost {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let (served_base, counter) = (base.clone(), hits.clone());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let base = served_base.clone();
                tokio::spawn(async move {
                    let mut request = vec![0u8; 4096];
                    let n = socket.read(&mut request).await.unwrap_or(0);
                    let head = String::from_utf8_lossy(&request[..n]).into_owned();
                    let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
                    let response = answer(&base, &path).await;
                    let _ = socket.write_all(&response).await;
                });
            }
        });
        Self { base, hits }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn document(client_id: &str) -> String {
    json!({
        "client_id": client_id,
        "client_name": "Document assistant",
        "redirect_uris": ["http://127.0.0.1/callback"],
        "token_endpoint_auth_method": "none",
        "logo_uri": "https://example.com/logo.png",
    })
    .to_string()
}

fn ok(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn answer(base: &str, path: &str) -> Vec<u8> {
    match path {
        "/client.json" => ok(&document(&format!("{base}/client.json"))),
        "/impostor.json" => ok(&document(&format!("{base}/client.json"))),
        "/moved.json" => format!(
            "HTTP/1.1 302 Found\r\nlocation: {base}/client.json\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        )
        .into_bytes(),
        // A body far over the limit, sent without a declared length.
        "/huge.json" => {
            let mut body = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n".to_vec();
            body.extend(std::iter::repeat_n(b' ', 1 << 20));
            body
        }
        "/slow.json" => {
            tokio::time::sleep(Duration::from_secs(10)).await;
            ok(&document(&format!("{base}/slow.json")))
        }
        _ => b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec(),
    }
}

async fn flow_for(app: TestApp, client_id: &str) -> Flow {
    let cookie = sign_in(&app, &app.admin).await;
    Flow {
        app,
        cookie,
        client_id: client_id.to_owned(),
    }
}

/// What the consent page says for a document client that is refused.
async fn refusal(flow: &Flow) -> String {
    let (_, challenge) = pkce();
    let step = flow.consent(flow.params(&challenge)).await;
    step["Refused"]
        .as_str()
        .unwrap_or_else(|| panic!("refused, not {step}"))
        .to_owned()
}

#[tokio::test]
async fn a_document_client_connects_and_its_document_is_fetched_once() {
    let host = DocumentHost::start().await;
    let client_id = host.url("/client.json");
    let flow = flow_for(spawn_app_with(&[INSECURE]).await, &client_id).await;
    let meta = metadata(&flow.app).await;
    assert_eq!(meta["client_id_metadata_document_supported"], true);

    let (_, challenge) = pkce();
    let step = flow.consent(flow.params(&challenge)).await;
    let view = &step["Ask"];
    assert_eq!(view["client_name"], "Document assistant", "{step}");
    assert_eq!(
        view["verified_domain"], "127.0.0.1",
        "bound to the document's host"
    );

    let tokens = flow.granted().await;
    assert_eq!(tokens["scope"], "agent:assistant svc:wiki:read");
    let (status, refreshed) = flow
        .refresh(tokens["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(
        flow.active(tokens["access_token"].as_str().unwrap()).await["client_id"],
        client_id.as_str()
    );
    assert_eq!(
        host.hits(),
        1,
        "one fetch, then the cache: the token endpoint never fetches"
    );
}

#[tokio::test]
async fn documents_on_local_addresses_are_never_fetched_by_default() {
    let host = DocumentHost::start().await;
    let port = host.base.rsplit(':').next().unwrap().to_owned();
    let app = spawn_app().await;
    let mut flow = flow_for(app, &host.url("/client.json")).await;
    assert!(refusal(&flow).await.contains("must use https"));
    for (inward, why) in [
        (
            format!("https://127.0.0.1:{port}/client.json"),
            "not a public",
        ),
        (
            format!("https://localhost:{port}/client.json"),
            "not a public",
        ),
        (format!("https://[::1]:{port}/client.json"), "not a public"),
        (
            "https://169.254.169.254/latest/client.json".to_owned(),
            "not a public",
        ),
        ("https://10.0.0.1/client.json".to_owned(), "not a public"),
        (
            "https://[::ffff:7f00:1]/client.json".to_owned(),
            "not a public",
        ),
    ] {
        flow.client_id = inward.clone();
        let said = refusal(&flow).await;
        assert!(said.contains(why), "{inward}: {said}");
    }
    assert_eq!(host.hits(), 0, "nothing reached the loopback host");

    // The token endpoint names a document client without fetching it.
    flow.client_id = host.url("/client.json");
    let (verifier, _) = pkce();
    let (status, body) = flow.exchange("not-a-code", &verifier).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(host.hits(), 0);
}

#[tokio::test]
async fn documents_that_redirect_are_huge_slow_or_name_another_client_are_refused() {
    let host = DocumentHost::start().await;
    let mut flow = flow_for(spawn_app_with(&[INSECURE]).await, "").await;
    for (path, why) in [
        ("/moved.json", "redirect"),
        ("/huge.json", "larger than 5120 bytes"),
        ("/slow.json", "no complete answer within 3000 ms"),
        ("/impostor.json", "differs from the URL"),
        ("/missing.json", "HTTP 404"),
    ] {
        flow.client_id = host.url(path);
        let said = refusal(&flow).await;
        assert!(said.contains(why), "{path}: {said}");
    }
    assert_eq!(
        host.hits(),
        5,
        "one request each: the redirect was not followed"
    );
}
