//! Attack tests: cross-org ids, escalation, forged keys, hostile bodies,
//! identical answers for bad keys, rate limiting, and no raw key in logs or
//! on disk.

use serde_json::{json, Value};

use crate::harness::{error_code, spawn_app, spawn_app_with};

/// The review's attack on the shared catalog: globex's tool-server key
/// registers `svc:wiki:delete` as a "read-only preview". Registrations are
/// per org: acme's catalog never shows it, and acme cannot mint it.
#[tokio::test]
async fn a_scope_registration_never_reaches_another_orgs_catalog() {
    let app = spawn_app().await;
    let (tool_server, _) = app
        .mint_as(&app.other_admin, "globex-tools", &["svc:catalog:write"])
        .await;
    let squat =
        json!({"scopes": [{"scope": "svc:wiki:delete", "description": "read-only preview"}]});
    let response = app.post(&tool_server, "/api/v1/scopes", squat).await;
    assert_eq!(response.status(), 200);
    let theirs = app
        .get(&app.other_admin, "/api/v1/scopes")
        .await
        .text()
        .await
        .unwrap();
    assert!(theirs.contains("read-only preview"), "{theirs}");
    let ours = app
        .get(&app.admin, "/api/v1/scopes")
        .await
        .text()
        .await
        .unwrap();
    assert!(!ours.contains("read-only preview"), "{ours}");
    assert!(!ours.contains("svc:wiki:delete"), "{ours}");
    let mint = app
        .post(
            &app.admin,
            "/api/v1/keys/mint",
            json!({"name": "k", "scopes": ["svc:wiki:delete"]}),
        )
        .await;
    assert_eq!(error_code(mint, 422).await, "unknown_scope");
}

#[tokio::test]
async fn another_orgs_key_ids_answer_404_everywhere() {
    let app = spawn_app().await;
    let (_, theirs) = app
        .mint_as(&app.other_admin, "globex-key", &["svc:wiki:read"])
        .await;
    let cases = [
        app.get(&app.admin, &format!("/api/v1/keys/{theirs}")).await,
        app.post(
            &app.admin,
            &format!("/api/v1/keys/{theirs}/revoke"),
            json!({}),
        )
        .await,
        app.post(
            &app.admin,
            &format!("/api/v1/keys/{theirs}/rotate"),
            json!({}),
        )
        .await,
    ];
    for response in cases {
        assert_eq!(response.status(), 404);
        let text = response.text().await.unwrap();
        assert!(!text.contains(&theirs), "the id was echoed back: {text}");
        assert!(!text.contains("globex"));
    }
    // Minting into another org is refused and creates nothing there.
    let response = app
        .post(
            &app.admin,
            "/api/v1/keys/mint",
            json!({ "orgId": "globex", "name": "x", "scopes": ["svc:wiki:read"] }),
        )
        .await;
    assert_eq!(response.status(), 403, "the README promises 403");
    let theirs_list: Value = app
        .get(&app.other_admin, "/api/v1/keys")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        theirs_list["keys"].as_array().unwrap().len(),
        2,
        "globex has its admin and its own key only"
    );
    // Their audit trail is not ours.
    let ours: Value = app
        .get(&app.admin, "/api/v1/audit?limit=1000")
        .await
        .json()
        .await
        .unwrap();
    assert!(ours["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|event| event["org"] == "acme"));
    // And the key id is still theirs, unrevoked.
    let still: Value = app
        .get(&app.other_admin, &format!("/api/v1/keys/{theirs}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still["status"], "active");
}

#[tokio::test]
async fn minting_and_rotating_cannot_escalate() {
    let app = spawn_app().await;
    let (minter, _) = app
        .mint("minter", &["svc:keys:write", "svc:wiki:read"])
        .await;
    for scopes in [
        json!(["svc:wiki:write"]),
        json!(["admin:org"]),
        json!(["svc:audit:read"]),
    ] {
        let response = app
            .post(
                &minter,
                "/api/v1/keys/mint",
                json!({ "name": "up", "scopes": scopes }),
            )
            .await;
        assert_eq!(
            response.status(),
            403,
            "escalation to {scopes} was not refused"
        );
    }
    // Within its own scopes it may mint.
    let child = app
        .post(
            &minter,
            "/api/v1/keys/mint",
            json!({ "name": "child", "scopes": ["svc:wiki:read"], "expires_days": 30 }),
        )
        .await;
    assert_eq!(child.status(), 201);
    let child: Value = child.json().await.unwrap();
    let child_id = child["id"].as_str().unwrap().to_owned();
    // A short-lived minter cannot mint a longer-lived key.
    let short = app
        .post(&app.admin, "/api/v1/keys/mint", json!({ "name": "short", "scopes": ["svc:keys:write", "svc:wiki:read"], "expires_days": 1 }))
        .await;
    let short: Value = short.json().await.unwrap();
    let short = short["key"].as_str().unwrap();
    let response = app
        .post(
            short,
            "/api/v1/keys/mint",
            json!({ "name": "long", "scopes": ["svc:wiki:read"], "expires_days": 30 }),
        )
        .await;
    assert_eq!(
        response.status(),
        403,
        "an expiry beyond the minter's is refused"
    );
    // Rotating the admin's key through a lesser key is escalation too.
    let keys: Value = app
        .get(&app.admin, "/api/v1/keys")
        .await
        .json()
        .await
        .unwrap();
    let admin_id = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| {
            key["scopes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|scope| scope == "admin:org")
        })
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = app
        .post(
            &minter,
            &format!("/api/v1/keys/{admin_id}/rotate"),
            json!({}),
        )
        .await;
    assert_eq!(response.status(), 403, "a lesser key rotated an admin key");
    let response = app
        .post(
            &minter,
            &format!("/api/v1/keys/{child_id}/rotate"),
            json!({}),
        )
        .await;
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn hostile_bodies_get_clear_4xx_never_500() {
    let app = spawn_app().await;
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", b"\x00\xff\xfe not json".to_vec()),
        (
            "truncated",
            br#"{"name": "x", "scopes": ["svc:wiki"#.to_vec(),
        ),
        ("array", b"[1,2,3]".to_vec()),
        ("number", b"42".to_vec()),
        ("null", b"null".to_vec()),
        (
            "wrong types",
            br#"{"name": 5, "scopes": {"a": 1}}"#.to_vec(),
        ),
        (
            "deep nesting",
            format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(),
        ),
        (
            "bad scope",
            br#"{"name": "x", "scopes": ["SVC:Wiki:Read", "a:b:c:d", ""]}"#.to_vec(),
        ),
        (
            "huge number",
            br#"{"name": "x", "scopes": [], "expires_days": 1e400}"#.to_vec(),
        ),
        ("empty", Vec::new()),
    ];
    for path in [
        "/api/v1/keys/mint",
        "/api/v1/keys/revoke",
        "/api/v1/introspect",
        "/api/v1/audit/events",
    ] {
        for (what, body) in &bodies {
            let response = app.post_raw(&app.admin, path, body.clone()).await;
            let status = response.status().as_u16();
            assert!(
                (400..500).contains(&status),
                "{what} to {path} gave {status}"
            );
            let envelope: Value = response
                .json()
                .await
                .unwrap_or_else(|_| panic!("{what} to {path}: no JSON envelope"));
            assert!(
                envelope["error"]["code"].is_string(),
                "{what} to {path}: {envelope}"
            );
        }
    }
    // The server is still healthy afterwards.
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

/// Markup in a name is data: stored and returned exactly (the dashboard
/// escapes it). Characters that change how a name reads — control, bidi
/// overrides, zero-width — are refused with a 422 naming the character.
#[tokio::test]
async fn markup_in_names_is_stored_intact_and_deceptive_characters_are_refused() {
    let app = spawn_app().await;
    let name = "<img src=x onerror=alert(1)> \"quoted\" & <script>";
    let minted: Value = app
        .post(
            &app.admin,
            "/api/v1/keys/mint",
            json!({ "name": name, "scopes": ["svc:wiki:read"] }),
        )
        .await
        .json()
        .await
        .unwrap();
    let fetched: Value = app
        .get(
            &app.admin,
            &format!("/api/v1/keys/{}", minted["id"].as_str().unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["name"], name);

    for (name, shown) in [
        ("bell\u{7}", "U+0007"),
        ("invoice\u{202E}txt.exe", "U+202E"),
        ("ad\u{200B}min", "U+200B"),
    ] {
        let response = app
            .post(
                &app.admin,
                "/api/v1/keys/mint",
                json!({ "name": name, "scopes": ["svc:wiki:read"] }),
            )
            .await;
        assert_eq!(response.status(), 422, "{name:?}");
        let body: Value = response.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(shown), "{message}");
    }
    let reason = app
        .post(
            &app.admin,
            &format!("/api/v1/keys/{}/revoke", minted["id"].as_str().unwrap()),
            json!({ "reason": "rotated\u{2066} by ops" }),
        )
        .await;
    assert_eq!(error_code(reason, 422).await, "invalid_field");
}

#[tokio::test]
async fn failed_authentications_are_rate_limited_per_address() {
    let app = spawn_app().await;
    let mut limited = None;
    for attempt in 0..40 {
        let response = app.get("ace_live_garbage", "/api/v1/keys").await;
        if response.status() == 429 {
            limited = Some((attempt, response));
            break;
        }
        assert_eq!(response.status(), 401);
    }
    let (attempt, response) = limited.expect("never rate limited");
    assert!(attempt >= 10, "limited too early, after {attempt}");
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    assert_eq!(error_code(response, 429).await, "rate_limited");
    // Only failures are throttled: a valid key behind the same address (a
    // NAT, a proxy) keeps working while the address's failures get 429.
    assert_eq!(app.get(&app.admin, "/api/v1/keys").await.status(), 200);
    assert_eq!(
        app.get("ace_live_garbage", "/api/v1/keys").await.status(),
        429
    );
}

/// Behind a trusted proxy each client has its own failure budget: one
/// client's lockout is not its neighbour's, and the header only counts on
/// connections from the proxy.
#[tokio::test]
async fn behind_a_trusted_proxy_failures_are_counted_per_forwarded_client() {
    let app = spawn_app_with(&[("ACEKEYS_TRUSTED_PROXIES", "127.0.0.1, ::1")]).await;
    let failing = |client: &'static str| {
        app.client
            .get(app.url("/api/v1/keys"))
            .bearer_auth("ace_live_garbage")
            .header("x-forwarded-for", client)
            .send()
    };
    let mut limited = false;
    for _ in 0..40 {
        if failing("198.51.100.1").await.unwrap().status() == 429 {
            limited = true;
            break;
        }
    }
    assert!(limited, "the failing client was never limited");
    assert_eq!(
        failing("198.51.100.2").await.unwrap().status(),
        401,
        "another client behind the same proxy was locked out"
    );
}

#[tokio::test]
async fn no_raw_key_in_the_log_or_the_data_directory() {
    let mut app = spawn_app().await;
    let (minted, minted_id) = app
        .mint("secret-holder", &["svc:wiki:read", "svc:keys:introspect"])
        .await;
    let rotated: Value = app
        .post(
            &app.admin,
            &format!("/api/v1/keys/{minted_id}/rotate"),
            json!({"grace_secs": 60}),
        )
        .await
        .json()
        .await
        .unwrap();
    let successor = rotated["successor"]["key"].as_str().unwrap().to_owned();
    // Use the keys, fail with them, introspect them.
    app.get(&minted, "/api/v1/keys").await;
    app.post(&successor, "/api/v1/introspect", json!({ "token": minted }))
        .await;
    app.get(&format!("{minted}x"), "/api/v1/keys").await;
    let status = app.terminate();
    assert!(status.success(), "server did not stop cleanly: {status}");

    let secrets = [&app.admin, &app.other_admin, &minted, &successor];
    let log = app.log();
    assert!(
        log.contains("acekeys listening"),
        "the log was not captured"
    );
    let secret_parts = |secret: &str| secret["ace_live_".len()..].to_owned();
    for secret in secrets {
        assert!(
            !log.contains(&secret_parts(secret)),
            "a raw key is in the server log"
        );
        assert!(
            !app.stdout().contains(&secret_parts(secret)),
            "a raw key is on stdout"
        );
    }
    for entry in walk(app.data_dir.path()) {
        if entry.ends_with("server.log") {
            continue;
        }
        let bytes = std::fs::read(&entry).unwrap();
        for secret in secrets {
            let needle = secret_parts(secret);
            let found = bytes
                .windows(needle.len())
                .any(|window| window == needle.as_bytes());
            assert!(!found, "{} holds a raw key", entry.display());
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// Revoking is as sensitive as granting, also in bulk: a `svc:keys:admin`
/// key that may not revoke an `admin:org` key by id cannot revoke it through
/// its agent either (it is spared and reported), while the agent's keys it
/// does cover are revoked.
#[tokio::test]
async fn bulk_revoke_cannot_reach_keys_beyond_the_caller() {
    let app = spawn_app().await;
    let (ops_admin, ops_admin_id) = app.mint("ops admin", &["admin:org", "agent:ops"]).await;
    let (ops_reader, ops_reader_id) = app
        .mint("ops reader", &["svc:wiki:read", "agent:ops"])
        .await;
    // It holds everything the reader holds (so it may revoke it), not admin:org.
    let (keys_admin, _) = app
        .mint(
            "keys admin",
            &["svc:keys:admin", "svc:wiki:read", "agent:ops"],
        )
        .await;

    let by_id = app
        .post(
            &keys_admin,
            &format!("/api/v1/keys/{ops_admin_id}/revoke"),
            json!({}),
        )
        .await;
    assert_eq!(error_code(by_id, 403).await, "insufficient_scope");

    let bulk = app
        .post(
            &keys_admin,
            "/api/v1/keys/revoke",
            json!({ "agent": "ops" }),
        )
        .await;
    assert_eq!(bulk.status(), 200);
    let body: Value = bulk.json().await.unwrap();
    assert_eq!(body["key_ids"], json!([ops_reader_id]), "{body}");
    assert_eq!(body["spared"], json!([ops_admin_id]), "{body}");

    assert_eq!(app.get(&ops_admin, "/api/v1/keys").await.status(), 200);
    assert_eq!(
        error_code(app.get(&ops_reader, "/api/v1/keys").await, 401).await,
        "invalid_key"
    );
}

/// A rotated key keeps working through its grace period, but it cannot
/// use that hour to mint keys that outlive it.
#[tokio::test]
async fn a_key_in_its_rotation_grace_period_cannot_mint_keys_that_outlive_it() {
    let app = spawn_app().await;
    let (old, old_id) = app.mint("old", &["svc:keys:write", "svc:wiki:read"]).await;
    let rotated = app
        .post(
            &app.admin,
            &format!("/api/v1/keys/{old_id}/rotate"),
            json!({ "grace_secs": 3600 }),
        )
        .await;
    assert_eq!(rotated.status(), 201);
    assert_eq!(
        app.get(&old, "/api/v1/keys").await.status(),
        200,
        "still valid in grace"
    );

    let outliving = app
        .post(
            &old,
            "/api/v1/keys/mint",
            json!({ "name": "heir", "scopes": ["svc:wiki:read"], "expires_days": 30 }),
        )
        .await;
    assert_eq!(outliving.status(), 403);
    let body: Value = outliving.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("rotation grace period"), "{message}");
}

/// A leaked tool-server key (`svc:audit:write`) cannot write history in
/// another key's name unnoticed: every event it reports names it as the
/// reporter, a claimed key must be a key of its org, and it cannot date an
/// event outside the accepted window (last January, next year).
#[tokio::test]
async fn reported_events_name_their_reporter_and_cannot_be_backdated_or_misattributed() {
    let app = spawn_app().await;
    let (writer, writer_id) = app.mint("tool server", &["svc:audit:write"]).await;
    let (_, admin_id) = app.mint("another admin", &["admin:org"]).await;
    let (_, foreign_id) = app
        .mint_as(&app.other_admin, "globex key", &["svc:wiki:read"])
        .await;
    let forged = |key_id: &str, ts: &str| {
        json!({ "key_id": key_id, "agent": "ops", "tool": "delete_everything",
                "decision": "allowed", "ts": ts })
    };
    let response = app
        .post(
            &writer,
            "/api/v1/audit/events",
            json!({ "events": [
                forged(&admin_id, "2026-01-01T00:00:00Z"),
                forged(&foreign_id, "2099-01-01T00:00:00Z"),
                forged("key_doesNotExist0000000", "2026-01-01T00:00:00Z"),
            ]}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let ids: Value = response.json().await.unwrap();
    let event = |i: usize| {
        let id = ids["ids"][i].as_str().unwrap().to_owned();
        let app = &app;
        async move {
            app.get(&app.admin, &format!("/api/v1/audit/events/{id}"))
                .await
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let millis = |e: &Value| {
        serde_json::from_value::<model::Timestamp>(e["ts"].clone())
            .unwrap()
            .as_millis()
    };

    let backdated = event(0).await;
    assert_eq!(backdated["reported_by"], json!(writer_id), "{backdated}");
    assert_eq!(
        backdated["actor_key_id"],
        json!(admin_id),
        "a key of the org may be named"
    );
    assert!(
        now - millis(&backdated) <= 7 * 24 * 3600 * 1000 + 60_000,
        "{backdated}"
    );
    assert!(backdated["reason"]
        .as_str()
        .unwrap()
        .contains("outside the accepted window"));

    let future = event(1).await;
    assert_eq!(
        future["actor_key_id"],
        Value::Null,
        "another org's key was accepted: {future}"
    );
    assert!(millis(&future) - now <= 5 * 60 * 1000 + 60_000, "{future}");
    assert!(future["reason"]
        .as_str()
        .unwrap()
        .contains("not a key of this org"));

    let unknown = event(2).await;
    assert_eq!(unknown["actor_key_id"], Value::Null);
    assert_eq!(unknown["reported_by"], json!(writer_id));
}

/// After a leak the attacker is whoever keeps trying the dead key: a
/// revoked key's attempts leave a trace in its org's trail, attributed to
/// the key, at most one event a minute however hard it is tried.
#[tokio::test]
async fn a_revoked_key_still_being_tried_leaves_one_attributed_trace() {
    let app = spawn_app().await;
    let (leaked, leaked_id) = app.mint("leaked", &["svc:keys:read"]).await;
    let revoked = app
        .post(
            &app.admin,
            &format!("/api/v1/keys/{leaked_id}/revoke"),
            json!({ "reason": "leaked" }),
        )
        .await;
    assert_eq!(revoked.status(), 200);
    for _ in 0..5 {
        assert_eq!(app.get(&leaked, "/api/v1/keys").await.status(), 401);
    }
    let mut traces = Vec::new();
    for _ in 0..50 {
        let page: Value = app
            .get(
                &app.admin,
                "/api/v1/audit?tool=authenticate&decision=denied",
            )
            .await
            .json()
            .await
            .unwrap();
        traces = page["events"].as_array().unwrap().clone();
        if !traces.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(traces.len(), 1, "{traces:?}");
    assert_eq!(traces[0]["actor_key_id"], json!(leaked_id));
    assert_eq!(traces[0]["reason"], "revoked_key");
    assert_eq!(traces[0]["required_scope"], "svc:keys:read");
}

/// The dashboard's sign-in server function as its form posts it, from the
/// dashboard's origin: status, body, and the session cookie if one was set.
async fn sign_in_form(app: &crate::harness::TestApp, key: &str) -> (u16, String, Option<String>) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // The function's path as the dashboard's form posts to it.
    let path = format!(
        "/api/{}",
        <app::session::SignIn as leptos::server_fn::ServerFn>::PATH.trim_start_matches("/api/")
    );
    let response = client
        .post(app.url(&path))
        .header("origin", &app.base)
        .form(&[("key", key), ("next", "/")])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("acekeys_session=") && !c.starts_with("acekeys_session=;"))
        .map(str::to_owned);
    (status, response.text().await.unwrap(), cookie)
}

/// The `authenticate` denials in acme's trail attributed to `key_id`,
/// once the asynchronous trace has landed (or after 5 s).
async fn authenticate_denials_of(app: &crate::harness::TestApp, key_id: &str) -> Vec<Value> {
    let mut traces = Vec::new();
    for _ in 0..50 {
        let page: Value = app
            .get(
                &app.admin,
                "/api/v1/audit?tool=authenticate&decision=denied",
            )
            .await
            .json()
            .await
            .unwrap();
        traces = page["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["actor_key_id"] == key_id)
            .cloned()
            .collect();
        if !traces.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    traces
}

/// README "Threat model": at the dashboard's sign-in, as at the REST API,
/// unknown, expired and revoked keys get byte-identical answers, and a
/// leaked admin key still being tried there leaves one `authenticate`
/// denial attributed to it (however often it is tried within the minute).
#[tokio::test]
async fn sign_in_answers_unknown_expired_and_revoked_keys_alike_and_traces_the_dead_ones() {
    let app = spawn_app().await;
    let (revoked, revoked_id) = app.mint("leaked admin", &["admin:org"]).await;
    let response = app
        .post(
            &app.admin,
            &format!("/api/v1/keys/{revoked_id}/revoke"),
            json!({ "reason": "leaked" }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let (expired, expired_id) = app.mint("expired admin", &["admin:org"]).await;
    crate::guarantees::expire_behind_the_servers_back(&app, "acme", &expired_id).await;
    let unknown = authority::keys::generate(authority::Env::Live)
        .raw
        .expose_secret()
        .to_owned();

    let (status, body, cookie) = sign_in_form(&app, &unknown).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("unknown, expired or revoked"), "{body}");
    assert_eq!(cookie, None);
    for (what, key) in [
        ("expired", &expired),
        ("revoked", &revoked),
        ("revoked, again", &revoked),
    ] {
        assert_eq!(
            sign_in_form(&app, key).await,
            (status, body.clone(), None),
            "the {what} key is told apart from an unknown one"
        );
    }

    for (key_id, reason) in [(&revoked_id, "revoked_key"), (&expired_id, "expired_key")] {
        let traces = authenticate_denials_of(&app, key_id).await;
        assert_eq!(traces.len(), 1, "{reason}: {traces:?}");
        assert_eq!(traces[0]["reason"], reason);
        assert_eq!(traces[0]["required_scope"], "admin:org");
    }
}

/// README "Hardening": failed sign-ins count against the client's address
/// with the REST API's failures (20 a minute), then its failures get 429;
/// only failures are throttled, so a valid admin key from the same address
/// (a NAT, a proxy) still signs in, while the next failure is still 429.
#[tokio::test]
async fn sign_in_failures_are_throttled_per_address_but_a_valid_key_still_signs_in() {
    let app = spawn_app().await;
    let unknown = || {
        authority::keys::generate(authority::Env::Live)
            .raw
            .expose_secret()
            .to_owned()
    };
    for attempt in 0..20 {
        let (status, body, _) = sign_in_form(&app, &unknown()).await;
        assert_eq!(status, 401, "failure {attempt}: {body}");
    }
    let (status, body, cookie) = sign_in_form(&app, &unknown()).await;
    assert_eq!(status, 429, "the 21st failure: {body}");
    assert!(body.contains("TooManyAttempts"), "{body}");
    assert_eq!(cookie, None);

    let (status, body, cookie) = sign_in_form(&app, &app.admin).await;
    assert!(
        (200..400).contains(&status),
        "the admin key was refused after others' failures: {status} {body}"
    );
    // A working session: the keys page, not a redirect to sign in.
    let cookie = cookie.expect("a session cookie");
    let keys = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/keys"))
        .header("cookie", cookie.split(';').next().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(keys.status(), 200, "the new session is not signed in");

    let (status, _, _) = sign_in_form(&app, &unknown()).await;
    assert_eq!(status, 429, "failures are still throttled");
}

/// Every route has the same body limit and says so the same way: a body
/// declared larger than 1 MiB gets 413 in the error envelope before any of
/// it is read, on the REST API, a dashboard page or server function, and a
/// static path alike.
#[tokio::test]
async fn oversized_bodies_get_413_in_the_envelope_on_every_route() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/keys/mint",
        "/sign-in",
        "/api/sign_in",
        "/pkg/app.js",
        "/",
    ] {
        // Only the head is sent: the answer must come without the body.
        let (status, envelope) = app.post_declared_oversized(None, path).await;
        assert_eq!(status, 413, "{path}");
        assert_eq!(envelope["error"]["code"], "body_too_large", "{path}");
    }
}

/// Issue 12: a client that sends a request head slowly (slowloris), or
/// nothing at all, cannot hold a connection: once the header timeout
/// passes (shortened here to half a second; 30 s by default) the server
/// closes it unanswered, while requests on other connections are answered
/// as usual.
#[tokio::test]
async fn a_request_head_that_does_not_arrive_in_time_is_cut_off() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app_with(&[("ACEKEYS_HEADER_TIMEOUT_MS", "500")]).await;
    let host = app.base.trim_start_matches("http://").to_owned();
    let started = Instant::now();
    // The head without its final blank line, then silence; and a
    // connection that sends nothing.
    let mut partial = tokio::net::TcpStream::connect(&host).await.unwrap();
    partial
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut silent = tokio::net::TcpStream::connect(&host).await.unwrap();
    let healthz = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(healthz.status(), 200, "a normal request was not answered");
    for (what, socket) in [("partial head", &mut partial), ("silent", &mut silent)] {
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut answer))
            .await
            .unwrap_or_else(|_| panic!("{what}: the connection was still open after 5 s"));
        let elapsed = started.elapsed();
        // Closed (end of stream, or reset) without an answer, or with 408.
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            read.is_err() || answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{what}: answered {answer:?}"
        );
        assert!(
            elapsed >= Duration::from_millis(450),
            "{what}: closed after {elapsed:?}, before the timeout"
        );
    }
    // The server still serves new connections.
    let healthz = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(healthz.status(), 200);
}

/// One key cannot pin an unbounded number of revocation streams: past the
/// per-key limit it gets 429, other keys are unaffected, and a closed
/// stream gives its slot back.
#[tokio::test]
async fn revocation_streams_per_key_are_capped() {
    let app = spawn_app().await;
    let (guard_key, _) = app.mint("guard", &["svc:keys:introspect"]).await;
    let (other_key, _) = app.mint("other guard", &["svc:keys:introspect"]).await;
    let mut open = Vec::new();
    for _ in 0..8 {
        let response = app.get(&guard_key, "/api/v1/revocations/stream").await;
        assert_eq!(response.status(), 200);
        open.push(response);
    }
    let refused = app.get(&guard_key, "/api/v1/revocations/stream").await;
    assert_eq!(error_code(refused, 429).await, "rate_limited");
    let other = app.get(&other_key, "/api/v1/revocations/stream").await;
    assert_eq!(other.status(), 200, "another key was refused");

    drop(open.pop());
    let mut reopened = None;
    for _ in 0..100 {
        let response = app.get(&guard_key, "/api/v1/revocations/stream").await;
        if response.status() == 200 {
            reopened = Some(response);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        reopened.is_some(),
        "a closed stream never gave its slot back"
    );
}

/// A filter value longer than any recorded value is refused with a clear
/// 422 (the fuzz target found a 2,000-character agent filter answered 503
/// on Firestore, which refuses to compare values over 1,500 bytes).
#[tokio::test]
async fn audit_filters_longer_than_any_recorded_value_are_refused() {
    let app = spawn_app().await;
    let long = "é".repeat(101);
    for path in [
        "/api/v1/audit",
        "/api/v1/audit/timeline",
        "/api/v1/audit/export",
    ] {
        let response = app.get(&app.admin, &format!("{path}?agent={long}")).await;
        assert_eq!(error_code(response, 422).await, "invalid_field", "{path}");
    }
    let tool = "t".repeat(201);
    let response = app
        .get(&app.admin, &format!("/api/v1/audit?tool={tool}"))
        .await;
    assert_eq!(error_code(response, 422).await, "invalid_field");
    let fits = "t".repeat(200);
    let response = app
        .get(&app.admin, &format!("/api/v1/audit?tool={fits}"))
        .await;
    assert_eq!(response.status(), 200);
}

/// A server with passkeys on (a domain-named public URL) behind a trusted
/// loopback proxy, so tests choose the client address by `X-Forwarded-For`.
async fn spawn_passkey_app_behind_proxy() -> crate::harness::TestApp {
    spawn_app_with(&[
        ("ACEKEYS_PUBLIC_URL", "http://localhost:9"),
        ("ACEKEYS_TRUSTED_PROXIES", "127.0.0.1, ::1"),
    ])
    .await
}

/// A dashboard server function's form POST from the dashboard's origin, as
/// `client_ip` (through the trusted proxy).
async fn server_fn_from(
    app: &crate::harness::TestApp,
    path: &str,
    client_ip: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url(path))
        .header("origin", &app.base)
        .header("x-forwarded-for", client_ip)
        .form(form)
        .send()
        .await
        .unwrap()
}

/// Starting a passkey sign-in needs no credential and stores a ceremony,
/// so each start counts against the caller's address: past 20 a minute
/// the address gets 429 and stores nothing more; another address is not
/// affected (checked through a trusted proxy's `X-Forwarded-For`).
#[tokio::test]
async fn passkey_sign_in_starts_are_throttled_per_address() {
    let app = spawn_passkey_app_behind_proxy().await;
    let start = |client_ip: &'static str| {
        server_fn_from(
            &app,
            "/api/start_passkey_sign_in",
            client_ip,
            &[("org", "acme"), ("email", "nobody@acme.test")],
        )
    };
    let mut statuses = Vec::new();
    for _ in 0..25 {
        statuses.push(start("203.0.113.7").await.status().as_u16());
    }
    let allowed = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(allowed, 20, "{statuses:?}");
    assert!(statuses[20..].iter().all(|s| *s == 429), "{statuses:?}");
    let refused = start("203.0.113.7").await.text().await.unwrap();
    assert!(refused.contains("TooManyAttempts"), "{refused}");
    assert_eq!(
        start("198.51.100.9").await.status(),
        200,
        "another address was throttled"
    );
}

/// Invitation tokens cannot be probed for free: a refused enrolment start
/// counts against the caller's address like a failed sign-in (20 a
/// minute), then the address is refused before any lookup; another
/// address still gets the plain refusal.
#[tokio::test]
async fn refused_enrolment_starts_are_throttled_per_address() {
    let app = spawn_passkey_app_behind_proxy().await;
    let start = |client_ip: &'static str| {
        server_fn_from(
            &app,
            "/api/start_enrolment",
            client_ip,
            &[
                ("invitation", "not-an-invitation-token"),
                ("passkey_name", "laptop"),
            ],
        )
    };
    let mut statuses = Vec::new();
    for _ in 0..25 {
        statuses.push(start("203.0.113.8").await.status().as_u16());
    }
    assert!(
        statuses[..20].iter().all(|s| *s != 429 && *s >= 400),
        "refused, not yet throttled: {statuses:?}"
    );
    assert!(statuses[20..].iter().all(|s| *s == 429), "{statuses:?}");
    let refused = start("203.0.113.8").await.text().await.unwrap();
    assert!(refused.contains("TooManyAttempts"), "{refused}");
    let other = start("198.51.100.10").await;
    assert_ne!(other.status(), 429, "another address was throttled");
    assert!(
        other
            .text()
            .await
            .unwrap()
            .contains("invitation is unknown"),
        "the plain refusal"
    );
}
