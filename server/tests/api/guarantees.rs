//! README guarantees with exactly one right answer, each checked for that
//! answer (not "403 or 404", not "some error"): bad keys are
//! indistinguishable, minting into another org is a 403, escalation of
//! expiry is refused naming the latest allowed instant, and a dashboard
//! session dies with its key.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::harness::{
    firestore_project, shareable_store, spawn_app, spawn_app_on, spawn_second_server, TestApp,
};

/// What a client can observe of a refusal.
#[derive(Debug, PartialEq, Eq)]
struct Refusal {
    status: u16,
    challenge: String,
    body: String,
}

async fn refusal(app: &TestApp, key: &str) -> Refusal {
    let response = app.get(key, "/api/v1/keys").await;
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    Refusal {
        status,
        challenge,
        body: response.text().await.unwrap(),
    }
}

/// Moves a key's expiry into the past behind the server's back, as time
/// would; the key must not have been presented yet (nothing cached).
pub(crate) async fn expire_behind_the_servers_back(app: &TestApp, org: &str, key_id: &str) {
    match firestore_project(app.data_dir.path()) {
        Some(project) => {
            let host = std::env::var("FIRESTORE_EMULATOR_HOST").unwrap();
            let url = format!(
                "http://{host}/v1/projects/{project}/databases/(default)/documents/orgs/{org}/keys/{key_id}?updateMask.fieldPaths=expires_at"
            );
            let status = reqwest::Client::new()
                .patch(url)
                .bearer_auth("owner")
                .json(&json!({"fields": {"expires_at": {"integerValue": "1000"}}}))
                .send()
                .await
                .unwrap()
                .status();
            assert!(status.is_success(), "could not expire the key: {status}");
        }
        None => {
            let db = app.data_dir.path().join("acekeys.db");
            let script = "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); \
                n=c.execute('UPDATE keys SET expires_at = 1000 WHERE id = ?', (sys.argv[2],)).rowcount; \
                c.commit(); sys.exit(0 if n==1 else 1)";
            let status = std::process::Command::new("python3")
                .args(["-c", script, db.to_str().unwrap(), key_id])
                .status()
                .expect("python3 (used to edit the SQLite file behind the server's back)");
            assert!(status.success(), "could not expire the key");
        }
    }
}

/// README "Hardening": unknown, expired, revoked and other-deployment keys
/// get one identical 401 — same status, same `WWW-Authenticate`, same body.
/// All four are compared, each a real key of the right shape.
#[tokio::test]
async fn unknown_expired_revoked_and_foreign_keys_get_one_identical_answer() {
    let app = spawn_app().await;
    // Revoked: minted here, then revoked.
    let (revoked, revoked_id) = app.mint("revoked", &["svc:keys:read"]).await;
    let response = app
        .post(
            &app.admin,
            &format!("/api/v1/keys/{revoked_id}/revoke"),
            json!({}),
        )
        .await;
    assert_eq!(response.status(), 200);
    // Expired: minted here, its expiry moved into the past before it was
    // ever presented.
    let (expired, expired_id) = app.mint("expired", &["svc:keys:read"]).await;
    expire_behind_the_servers_back(&app, "acme", &expired_id).await;
    // Unknown: well-formed with a valid checksum, never minted anywhere.
    let unknown = authority::keys::generate(authority::Env::Live)
        .raw
        .expose_secret()
        .to_owned();
    // Foreign: a real key of another deployment (another pepper, another
    // store), for an org of the same name.
    let elsewhere = tempfile::tempdir().unwrap();
    let (status, foreign, _) =
        crate::harness::run_cli(elsewhere.path(), &["bootstrap", "--org", "acme"]);
    assert!(status.success());
    let foreign = foreign.trim().to_owned();

    let answers = [
        ("unknown", refusal(&app, &unknown).await),
        ("expired", refusal(&app, &expired).await),
        ("revoked", refusal(&app, &revoked).await),
        ("foreign", refusal(&app, &foreign).await),
    ];
    let (_, first) = &answers[0];
    assert_eq!(first.status, 401, "{first:?}");
    let body: Value = serde_json::from_str(&first.body).unwrap();
    assert_eq!(body["error"]["code"], "invalid_key", "{first:?}");
    assert!(
        first
            .challenge
            .starts_with(r#"Bearer realm="acekeys", error="invalid_token""#),
        "{first:?}"
    );
    for (kind, answer) in &answers[1..] {
        assert_eq!(
            answer, first,
            "a {kind} key is told apart from an unknown one"
        );
    }
    // The key really is expired (not merely unknown): its record says so.
    let record: Value = app
        .get(&app.admin, &format!("/api/v1/keys/{expired_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(record["status"], "expired", "{record}");
}

/// README "REST API v1" / policies: minting into another org is a 403
/// (`insufficient_scope`-style refusal, never a 404 that would say "no such
/// org" for one name and 403 for another), and nothing is created there.
#[tokio::test]
async fn minting_into_another_org_is_403_whether_or_not_it_exists() {
    let app = spawn_app().await;
    let mut codes = Vec::new();
    for org in ["globex", "no-such-org"] {
        let response = app
            .post(
                &app.admin,
                "/api/v1/keys/mint",
                json!({ "orgId": org, "name": "x", "scopes": ["svc:wiki:read"] }),
            )
            .await;
        assert_eq!(response.status(), 403, "minting into {org}");
        let body: Value = response.json().await.unwrap();
        codes.push(body["error"]["code"].as_str().unwrap().to_owned());
        assert!(
            !body.to_string().contains(org),
            "the refusal echoes the org: {body}"
        );
    }
    assert_eq!(
        codes[0], codes[1],
        "an existing and a missing org are told apart"
    );
    let theirs: Value = app
        .get(&app.other_admin, "/api/v1/keys")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        theirs["keys"].as_array().unwrap().len(),
        1,
        "globex still has its admin key only: {theirs}"
    );
}

/// README: "Expiry beyond the minter's is refused with the latest allowed
/// instant, not clamped."
#[tokio::test]
async fn expiry_beyond_the_minters_is_refused_naming_the_latest_allowed_instant() {
    let app = spawn_app().await;
    let short = app
        .post(
            &app.admin,
            "/api/v1/keys/mint",
            json!({ "name": "short", "scopes": ["svc:keys:write", "svc:wiki:read"], "expires_days": 1 }),
        )
        .await;
    assert_eq!(short.status(), 201);
    let short: Value = short.json().await.unwrap();
    let (key, expires_at) = (
        short["key"].as_str().unwrap(),
        short["expires_at"].as_str().unwrap(),
    );
    for body in [
        json!({ "name": "long", "scopes": ["svc:wiki:read"], "expires_days": 30 }),
        json!({ "name": "never", "scopes": ["svc:wiki:read"], "expires_days": null }),
    ] {
        let response = app.post(key, "/api/v1/keys/mint", body.clone()).await;
        assert_eq!(response.status(), 403, "{body}");
        let refusal: Value = response.json().await.unwrap();
        let message = refusal["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(expires_at),
            "the refusal of {body} does not name the latest allowed instant {expires_at}: {message}"
        );
    }
    // Not clamped: nothing was minted.
    let keys: Value = app
        .get(&app.admin, "/api/v1/keys")
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert!(
        !names.contains(&"long") && !names.contains(&"never"),
        "{names:?}"
    );
}

/// A signed-in dashboard session, over the real dashboard HTTP: the form
/// POST of the sign-in page and the session cookie it sets.
pub(crate) async fn sign_in(app: &TestApp, key: &str) -> String {
    sign_in_at(&app.base, key).await
}

/// Signs in through the dashboard at `base` (a server or a proxy in front
/// of several); returns the session cookie (`name=value`).
async fn sign_in_at(base: &str, key: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client
        .get(format!("{base}/sign-in"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = page
        .split("<form")
        .find(|f| f.contains(r#"id="sign-in-form""#))
        .expect("the sign-in form");
    let action = form
        .split(r#"action=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form's action")
        .to_owned();
    let response = client
        .post(format!("{base}{action}"))
        .header("origin", base)
        .form(&[("key", key)])
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_redirection() || response.status().is_success(),
        "sign-in refused: {}",
        response.status()
    );
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("acekeys_session="))
        .expect("a session cookie");
    cookie.split(';').next().unwrap().to_owned()
}

/// (status, location) of the keys page fetched with `cookie`.
async fn keys_page(app: &TestApp, cookie: &str) -> (u16, String, String) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .get(app.url("/keys"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, response.text().await.unwrap())
}

/// README "Sessions": the session dies with its key — revoking a signed-in
/// admin key ends its dashboard session at once (a revocation evicts the
/// 5 s cache), while another admin's session lives on.
#[tokio::test]
async fn revoking_a_signed_in_admin_key_ends_its_dashboard_session() {
    let app = spawn_app().await;
    let (victim, victim_id) = app.mint("victim-admin", &["admin:org"]).await;
    let victim_session = sign_in(&app, &victim).await;
    let admin_session = sign_in(&app, &app.admin).await;
    // Signed in: the keys page renders, with the victim's own key listed.
    let (status, _, html) = keys_page(&app, &victim_session).await;
    assert_eq!(status, 200);
    assert!(html.contains(&victim_id), "the keys page lists the keys");
    let (status, location, _) = keys_page(&app, "acekeys_session=forged").await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/sign-in"),
        "a page without a session is not a page"
    );

    let response = app
        .post(
            &app.admin,
            &format!("/api/v1/keys/{victim_id}/revoke"),
            json!({}),
        )
        .await;
    assert_eq!(response.status(), 200);
    // The very next request with the victim's cookie is signed out.
    let (status, location, _) = keys_page(&app, &victim_session).await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/sign-in"),
        "the session outlived its revoked key"
    );
    // The other admin's session is untouched.
    let (status, _, _) = keys_page(&app, &admin_session).await;
    assert_eq!(status, 200, "revoking one key ended another's session");
}

/// The action URL of the form on `html` whose action contains `name`.
fn form_action(html: &str, name: &str) -> String {
    html.split(r#"action=""#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|action| action.contains(name))
        .unwrap_or_else(|| panic!("no form posting to {name}"))
        .to_owned()
}

/// README "Sessions": sessions live in the store, not in a server. A
/// session signed in through one server works on another sharing the
/// store, outlives the server it was made on (a restart signs nobody out),
/// and a sign-out through any server ends it on all of them.
#[tokio::test]
async fn a_dashboard_session_belongs_to_the_store_not_to_a_server() {
    let dir = tempfile::tempdir().unwrap();
    let store = shareable_store(dir.path());
    let mut first = spawn_app_on(dir, Some(store), &[]).await;
    let second = spawn_second_server(&first).await;
    let cookie = sign_in(&first, &first.admin).await;
    let (status, _, html) = keys_page(&second, &cookie).await;
    assert_eq!(status, 200, "another server refused the session");
    assert!(html.contains("acme"), "not the signed-in keys page");

    assert!(first.terminate().success());
    let restarted = spawn_second_server(&second).await;
    let (status, _, html) = keys_page(&restarted, &cookie).await;
    assert_eq!(status, 200, "a restart signed the session out");

    let sign_out = form_action(&html, "sign_out");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .post(restarted.url(&sign_out))
        .header("origin", &restarted.base)
        .header("cookie", &cookie)
        .form(&[("", "")])
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_redirection() || response.status().is_success(),
        "sign-out refused: {}",
        response.status()
    );
    let (status, location, _) = keys_page(&second, &cookie).await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/sign-in"),
        "the session outlived its sign-out on another server"
    );
}

/// A round-robin TCP proxy on loopback: each connection goes to the next
/// upstream in turn. `upstreams` may change while it runs (a restart
/// moves a server to another port).
async fn round_robin_proxy(upstreams: Arc<Mutex<Vec<String>>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut turn = 0_usize;
        while let Ok((mut inbound, _)) = listener.accept().await {
            let upstream = {
                let list = upstreams.lock().unwrap();
                turn += 1;
                list[turn % list.len()]
                    .trim_start_matches("http://")
                    .to_owned()
            };
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    format!("http://{addr}")
}

/// Issue 13: two servers on one store behind a round-robin proxy. A
/// sign-in through the proxy lands on one server; every dashboard page,
/// fetched through the proxy (a new connection each, so the servers
/// alternate), works; both servers restart and the session still works.
#[tokio::test]
async fn the_dashboard_works_through_a_round_robin_proxy_and_survives_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let store = shareable_store(dir.path());
    let mut first = spawn_app_on(dir, Some(store), &[]).await;
    let mut second = spawn_second_server(&first).await;
    let upstreams = Arc::new(Mutex::new(vec![first.base.clone(), second.base.clone()]));
    let proxy = round_robin_proxy(upstreams.clone()).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let cookie = sign_in_at(&proxy, &first.admin).await;
    let pages = [
        ("/keys", "API keys"),
        ("/keys/new", "scope"),
        ("/incident", "Incident switch"),
        ("/audit", "audit"),
        ("/members", "People"),
    ];
    let check_every_page = |round: &'static str| {
        let (client, proxy, cookie) = (client.clone(), proxy.clone(), cookie.clone());
        async move {
            // Twice over, so each page is served by both servers.
            for _ in 0..2 {
                for (path, marker) in pages {
                    let response = client
                        .get(format!("{proxy}{path}"))
                        .header("cookie", &cookie)
                        .send()
                        .await
                        .unwrap();
                    let status = response.status().as_u16();
                    let html = response.text().await.unwrap();
                    assert_eq!(status, 200, "{round}: {path} answered {status}");
                    assert!(
                        html.to_lowercase().contains(&marker.to_lowercase()),
                        "{round}: {path} is not the signed-in page"
                    );
                }
            }
        }
    };
    check_every_page("both up").await;

    assert!(first.terminate().success());
    assert!(second.terminate().success());
    let third = spawn_second_server(&first).await;
    let fourth = spawn_second_server(&first).await;
    *upstreams.lock().unwrap() = vec![third.base.clone(), fourth.base.clone()];
    check_every_page("after both restarted").await;
}
