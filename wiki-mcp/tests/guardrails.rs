//! Guardrails on keys against the real `acekeys` binary and remote-mode
//! `wiki-mcp` guards: allowed networks and not-before hold at the guard and
//! the REST API, introspection hands tool servers the key's metadata, and
//! revoking an agent's key revokes the keys derived from it at every guard.

mod common;

use std::time::{Duration, Instant};

use common::authority_proc::{AcekeysProc, Api};
use common::{call, connect, wait_for, WikiProc};
use serde_json::json;

const SERVICE_SCOPES: [&str; 3] = [
    "svc:keys:introspect",
    "svc:audit:write",
    "svc:catalog:write",
];

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn refused(err: &str) -> bool {
    err.contains("401") || err.contains("AuthRequired")
}

#[tokio::test]
async fn networks_not_before_and_metadata_hold_at_the_guard_and_the_api() {
    let data = tempfile::tempdir().unwrap();
    let admin = AcekeysProc::bootstrap(data.path(), "acme");
    let acekeys = AcekeysProc::start(data.path(), "127.0.0.1:0");
    let api = Api::new(&acekeys.base, &admin);
    let (service_key, _) = api.mint("wiki-mcp", &SERVICE_SCOPES).await;
    let wiki = WikiProc::spawn_remote(&acekeys.base, &service_key, data.path()).await;
    let mint = async |name: &str, scopes: &[&str], terms: serde_json::Value| {
        let mut body = json!({"name": name, "scopes": scopes, "expires_days": 1});
        body.as_object_mut()
            .unwrap()
            .extend(terms.as_object().unwrap().clone());
        let (status, v) = api.mint_as(&admin, body).await;
        assert_eq!(status, 201, "{v}");
        (v["key"].as_str().unwrap().to_owned(), v)
    };

    // Outside its networks (every call here comes from loopback): refused,
    // at the guard and at the API, and the trail says why.
    let (elsewhere, view) = mint(
        "elsewhere",
        &["svc:wiki:read", "svc:keys:read"],
        json!({"allowed_networks": ["10.0.0.0/8", "2001:db8::/32"]}),
    )
    .await;
    assert_eq!(
        view["allowed_networks"],
        json!(["10.0.0.0/8", "2001:db8::/32"])
    );
    let err = connect(&wiki.url, Some(&elsewhere))
        .await
        .expect_err("refused");
    assert!(refused(&err), "{err}");
    let (status, body) = api.get_as(&elsewhere, "/api/v1/keys").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        body["error"]["code"], "invalid_key",
        "as vague as an unknown key"
    );

    // Inside them: works, and introspection hands over the metadata.
    let (here, _) = mint(
        "here",
        &["svc:wiki:read", "svc:keys:read"],
        json!({"allowed_networks": ["127.0.0.0/8", "::1"], "metadata": {"team": "search", "tier": 2}}),
    )
    .await;
    let client = connect(&wiki.url, Some(&here))
        .await
        .expect("loopback is allowed");
    call(&client, "read_page", json!({"title": "Home"}))
        .await
        .expect("allowed");
    assert_eq!(api.get_as(&here, "/api/v1/keys").await.0, 200);
    let answer = api.introspect_as(&service_key, &here).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["metadata"], json!({"team": "search", "tier": 2}));
    assert_eq!(
        answer["allowed_networks"],
        json!(["127.0.0.0/8", "::1/128"])
    );

    // Not before: refused until then, then accepted with no restart.
    let start = authority::time::Timestamp::from_millis(
        i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis(),
        )
        .unwrap()
            + 1500,
    );
    let (later, view) = mint(
        "later",
        &["svc:wiki:read"],
        json!({"not_before": start.to_string()}),
    )
    .await;
    assert_eq!(view["not_before"], json!(start.to_string()));
    let err = connect(&wiki.url, Some(&later))
        .await
        .expect_err("too early");
    assert!(refused(&err), "{err}");
    assert_eq!(
        api.introspect_as(&service_key, &later).await,
        json!({"active": false})
    );
    let waited = Instant::now();
    wait_for("the key's start", Duration::from_secs(10), async || {
        connect(&wiki.url, Some(&later)).await.is_ok()
    })
    .await;
    assert!(
        waited.elapsed() >= Duration::from_millis(500),
        "it was refused before its start"
    );

    // Both refusals are in the trail with their reasons.
    wait_for(
        "the refusals in the trail",
        Duration::from_secs(10),
        async || {
            let (_, page) = api
                .get_as(&admin, "/api/v1/audit?decision=denied&limit=500")
                .await;
            let events = page["events"].as_array().cloned().unwrap_or_default();
            let reason = |r: &str| events.iter().any(|e| e["reason"] == r);
            reason("network_not_allowed") && reason("not_yet_valid")
        },
    )
    .await;

    // Bad terms get a 422 that says what is wrong.
    for (terms, field) in [
        (
            json!({"allowed_networks": ["10.0.0.1/8"]}),
            "allowed_networks",
        ),
        (
            json!({"allowed_networks": ["wiki.example.com"]}),
            "allowed_networks",
        ),
        (json!({"metadata": ["not", "an", "object"]}), "metadata"),
        (json!({"metadata": {"blob": "x".repeat(2000)}}), "metadata"),
        (json!({"not_before": "2099-01-01T00:00:00Z"}), "not_before"),
    ] {
        let mut body = json!({"name": "bad", "scopes": ["svc:wiki:read"], "expires_days": 1});
        body.as_object_mut()
            .unwrap()
            .extend(terms.as_object().unwrap().clone());
        let (status, v) = api.mint_as(&admin, body).await;
        assert_eq!(status, 422, "{terms}: {v}");
        let message = v["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(field), "{terms}: {v}");
    }
}

#[tokio::test]
async fn revoking_an_agent_key_revokes_its_derived_keys_at_every_guard() {
    let data = tempfile::tempdir().unwrap();
    let admin = AcekeysProc::bootstrap(data.path(), "acme");
    let acekeys = AcekeysProc::start(data.path(), "127.0.0.1:0");
    let api = Api::new(&acekeys.base, &admin);
    let (service_key, _) = api.mint("wiki-mcp", &SERVICE_SCOPES).await;
    for g in ["g1", "g2"] {
        std::fs::create_dir_all(data.path().join(g)).unwrap();
    }
    let guards = [
        WikiProc::spawn_remote(&acekeys.base, &service_key, &data.path().join("g1")).await,
        WikiProc::spawn_remote(&acekeys.base, &service_key, &data.path().join("g2")).await,
    ];
    let scopes = ["agent:ops", "svc:keys:write", "svc:wiki:read"];
    let (status, lead_view) = api
        .mint_as(
            &admin,
            json!({"name": "lead", "scopes": scopes, "expires_days": 3}),
        )
        .await;
    assert_eq!(status, 201, "{lead_view}");
    let lead = lead_view["key"].as_str().unwrap().to_owned();
    let lead_id = lead_view["id"].as_str().unwrap().to_owned();
    let (bystander, _) = api.mint("bystander", &["agent:ops", "svc:wiki:read"]).await;
    let child_of = async |parent: &str, name: &str, days: u32| {
        let (status, v) = api
            .mint_as(
                parent,
                json!({"name": name, "scopes": scopes, "expires_days": days}),
            )
            .await;
        assert_eq!(status, 201, "{v}");
        (v["key"].as_str().unwrap().to_owned(), v)
    };
    let (child, child_view) = child_of(&lead, "child", 2).await;
    assert_eq!(child_view["parent"], json!(lead_id));
    let (grandchild, grandchild_view) = child_of(&child, "grandchild", 1).await;
    assert_eq!(grandchild_view["parent"], child_view["id"]);

    let mut clients = Vec::new();
    for guard in &guards {
        for key in [&child, &grandchild, &bystander] {
            let c = connect(&guard.url, Some(key)).await.expect("connects");
            call(&c, "read_page", json!({"title": "Home"}))
                .await
                .expect("warm");
            clients.push(c);
        }
    }

    let revoked_at = Instant::now();
    api.revoke(&lead_id).await;
    wait_for(
        "derived keys refused at both guards",
        Duration::from_secs(2),
        async || {
            let mut all_refused = true;
            for (i, c) in clients.iter().enumerate() {
                let is_bystander = i % 3 == 2;
                let r = call(c, "read_page", json!({"title": "Home"})).await;
                if is_bystander {
                    assert!(
                        r.is_ok(),
                        "an unrelated key of the same agent keeps working: {r:?}"
                    );
                } else if r.is_ok() {
                    all_refused = false;
                }
            }
            all_refused
        },
    )
    .await;
    println!(
        "derived keys refused at 2 guards {:?} after the revoke",
        revoked_at.elapsed()
    );
    for key in [&child, &grandchild] {
        let (status, _) = api.get_as(key, "/api/v1/keys").await;
        assert_eq!(status, 401);
    }
    let (_, grandchild_now) = api
        .get_as(
            &admin,
            &format!("/api/v1/keys/{}", grandchild_view["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(grandchild_now["status"], "revoked");
}

/// A loop of identical calls at one guard puts the key in quarantine after
/// exactly N calls; the next call is refused there at once and at the two
/// other guards through the revocation stream; the hold reaches the key's
/// derived keys; a person releases it and every guard lets it through.
#[tokio::test]
async fn a_loop_is_held_at_every_guard_until_a_person_releases_it() {
    const N: usize = 5;
    let data = tempfile::tempdir().unwrap();
    let admin = AcekeysProc::bootstrap(data.path(), "acme");
    let acekeys = AcekeysProc::start(data.path(), "127.0.0.1:0");
    let api = Api::new(&acekeys.base, &admin);
    let mut scopes = SERVICE_SCOPES.to_vec();
    scopes.push("svc:keys:quarantine");
    let (service_key, _) = api.mint("wiki-mcp", &scopes).await;
    let mut guards = Vec::new();
    for g in ["g1", "g2", "g3"] {
        let dir = data.path().join(g);
        std::fs::create_dir_all(&dir).unwrap();
        guards.push(
            WikiProc::spawn_remote_with(&acekeys.base, &service_key, &dir, &["--loop-calls", "5"])
                .await,
        );
    }
    let (status, lead) = api
        .mint_as(&admin, json!({"name": "looper", "scopes": ["agent:looper", "svc:keys:write", "svc:wiki:read"], "expires_days": 3}))
        .await;
    assert_eq!(status, 201, "{lead}");
    let looper = lead["key"].as_str().unwrap().to_owned();
    let looper_id = lead["id"].as_str().unwrap().to_owned();
    let (status, child) = api
        .mint_as(&looper, json!({"name": "helper", "scopes": ["agent:looper", "svc:wiki:read"], "expires_days": 1}))
        .await;
    assert_eq!(status, 201, "{child}");
    let helper = child["key"].as_str().unwrap().to_owned();
    let (steady, _) = api.mint("steady", &["svc:wiki:read"]).await;

    let mut looping = Vec::new();
    let mut others = Vec::new();
    for g in &guards {
        looping.push(connect(&g.url, Some(&looper)).await.expect("connects"));
        others.push((
            connect(&g.url, Some(&helper))
                .await
                .expect("helper connects"),
            connect(&g.url, Some(&steady))
                .await
                .expect("steady connects"),
        ));
    }
    let same = json!({"title": "Home"});
    for i in 0..N {
        call(&looping[0], "read_page", same.clone())
            .await
            .unwrap_or_else(|e| panic!("call {} of {N} is allowed: {e}", i + 1));
    }
    let tripped = Instant::now();
    let err = call(&looping[0], "search_pages", json!({"query": "anything"}))
        .await
        .expect_err("held at the guard that saw the loop, whatever the call");
    assert!(refused(&err), "{err}");
    wait_for(
        "the hold at every guard",
        Duration::from_secs(2),
        async || {
            // Each try asks something new: only the hold can refuse it.
            let mut held = true;
            for (c, (h, _)) in looping.iter().zip(&others).skip(1) {
                for client in [c, h] {
                    let query = json!({"query": format!("q{}", rand_suffix())});
                    held &=
                        matches!(call(client, "search_pages", query).await, Err(e) if refused(&e));
                }
            }
            held
        },
    )
    .await;
    println!(
        "loop held at 3 guards {:?} after the tripping call",
        tripped.elapsed()
    );
    for (_, s) in &others {
        call(s, "read_page", same.clone())
            .await
            .expect("another key is untouched");
    }
    let (_, view) = api
        .get_as(&admin, &format!("/api/v1/keys/{looper_id}"))
        .await;
    assert_eq!(view["status"], "quarantined", "{view}");
    assert_eq!(view["quarantine"]["rule"], "loop", "{view}");
    let evidence = view["quarantine"]["evidence"].as_str().unwrap();
    assert!(
        evidence.contains("5 times") && !evidence.contains("Home"),
        "{evidence}"
    );
    let (_, child_view) = api
        .get_as(
            &admin,
            &format!("/api/v1/keys/{}", child["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(child_view["quarantine"]["rule"], "parent", "{child_view}");
    // The derived key cannot be released alone.
    let release = |id: String| {
        let api = &api;
        let admin = admin.clone();
        async move {
            reqwest::Client::new()
                .post(format!("{}/api/v1/keys/{id}/release", api.base))
                .bearer_auth(admin)
                .json(&json!({"reason": "fixed the agent's prompt"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(release(child["id"].as_str().unwrap().to_owned()).await, 409);
    // The service key may hold keys but not release them.
    let (status, _) = {
        let r = reqwest::Client::new()
            .post(format!("{}/api/v1/keys/{looper_id}/release", api.base))
            .bearer_auth(&service_key)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), ())
    };
    assert_eq!(status, 403);

    assert_eq!(release(looper_id.clone()).await, 200);
    wait_for(
        "the release at every guard",
        Duration::from_secs(2),
        async || {
            // A refused call ends an rmcp session: each try connects anew.
            let mut free = true;
            for g in &guards {
                for key in [&looper, &helper] {
                    let r = match connect(&g.url, Some(key)).await {
                        Ok(c) => call(&c, "read_page", json!({"title": "Home"}))
                            .await
                            .map(drop),
                        Err(e) => Err(e),
                    };
                    free &= r.is_ok();
                }
            }
            free
        },
    )
    .await;
    let (_, page) = api
        .get_as(
            &admin,
            &format!("/api/v1/audit?key_id={looper_id}&limit=100"),
        )
        .await;
    let actions: Vec<&str> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"quarantine") && actions.contains(&"release"),
        "{actions:?}"
    );
}

/// `acekeys` with org `acme` and one remote guard (its service key may
/// report holds; extra flags `args`) that reads the org's settings every
/// 100 ms, once the org's `rules` are in force there.
struct OneGuard {
    admin: String,
    api: Api,
    guard: WikiProc,
    _acekeys: AcekeysProc,
    _data: tempfile::TempDir,
}

async fn one_guard_under_org_rules(args: &[&str], rules: &serde_json::Value) -> OneGuard {
    let data = tempfile::tempdir().unwrap();
    let admin = AcekeysProc::bootstrap(data.path(), "acme");
    let acekeys = AcekeysProc::start(data.path(), "127.0.0.1:0");
    let api = Api::new(&acekeys.base, &admin);
    let mut scopes = SERVICE_SCOPES.to_vec();
    scopes.push("svc:keys:quarantine");
    let (service_key, _) = api.mint("wiki-mcp", &scopes).await;
    let dir = data.path().join("g1");
    std::fs::create_dir_all(&dir).unwrap();
    let mut flags = vec!["--org-settings-refresh-ms", "100"];
    flags.extend_from_slice(args);
    let guard = WikiProc::spawn_remote_with(&acekeys.base, &service_key, &dir, &flags).await;
    let (status, set) = api
        .put_as(&admin, "/api/v1/org/settings", json!({ "rules": rules }))
        .await;
    assert_eq!(status, 200, "{set}");
    wait_for(
        "the org's rules at the guard",
        Duration::from_secs(5),
        async || &guard.status().await["guard"]["org_rules"] == rules,
    )
    .await;
    OneGuard {
        admin,
        api,
        guard,
        _acekeys: acekeys,
        _data: data,
    }
}

/// Rule thresholds an admin sets for the org reach its guards (which read
/// them every 100 ms here, 30 s by default) and replace their own flags: a
/// guard started with the loop rule off holds a key after the org's 3
/// identical calls; when the org clears its rules, the guard's own apply
/// again.
#[tokio::test]
async fn org_rules_set_by_an_admin_replace_the_guards_own() {
    let rules = json!({"loop_calls": 3, "denial_burst": 20, "surge_factor": 10, "surge_floor": 100, "new_tool": false});
    // Bound whole: the server and its data dir must outlive the test.
    let setup = one_guard_under_org_rules(&["--loop-calls", "0"], &rules).await;
    let OneGuard {
        admin, api, guard, ..
    } = &setup;

    let (looper, looper_id) = api.mint("looper", &["svc:wiki:read"]).await;
    let client = connect(&guard.url, Some(&looper)).await.expect("connects");
    let same = json!({"title": "Home"});
    for i in 0..3 {
        call(&client, "read_page", same.clone())
            .await
            .unwrap_or_else(|e| panic!("call {} of 3 is allowed: {e}", i + 1));
    }
    let err = call(&client, "read_page", same.clone())
        .await
        .expect_err("held after the org's 3 identical calls");
    assert!(refused(&err), "{err}");
    // The guard holds the key at once and reports the hold on its own time.
    wait_for(
        "the authority's loop hold",
        Duration::from_secs(5),
        async || {
            let (_, view) = api
                .get_as(admin, &format!("/api/v1/keys/{looper_id}"))
                .await;
            view["quarantine"]["rule"] == "loop"
        },
    )
    .await;

    // Cleared: the guard's own flags (loop off) apply again.
    let (status, _) = api.put_as(admin, "/api/v1/org/settings", json!({})).await;
    assert_eq!(status, 200);
    wait_for(
        "the guard's own rules again",
        Duration::from_secs(5),
        async || guard.status().await["guard"]["org_rules"].is_null(),
    )
    .await;
    let (other, _) = api.mint("other", &["svc:wiki:read"]).await;
    let client = connect(&guard.url, Some(&other)).await.expect("connects");
    for _ in 0..6 {
        call(&client, "read_page", same.clone())
            .await
            .expect("no loop rule now");
    }
}

/// A key reported leaked (a report signed the way GitHub's scanner signs)
/// is refused at every guard: measures report → refused at three remote
/// guards that had the key cached. Printed, not asserted beyond the
/// revocation bound.
#[tokio::test]
async fn a_reported_leak_is_refused_at_every_guard() {
    use base64::Engine as _;
    use p256::ecdsa::signature::Signer as _;
    use p256::pkcs8::{EncodePublicKey as _, LineEnding};

    let data = tempfile::tempdir().unwrap();
    let admin = AcekeysProc::bootstrap(data.path(), "acme");
    let scanner = p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap();
    let pem = scanner
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let keys_file = data.path().join("scanner-keys.json");
    std::fs::write(
        &keys_file,
        json!({"public_keys": [{"key_identifier": "scanner-1", "key": pem, "is_current": true}]})
            .to_string(),
    )
    .unwrap();
    let acekeys = AcekeysProc::start_with(
        data.path(),
        "127.0.0.1:0",
        &[("ACEKEYS_LEAK_REPORT_KEYS", keys_file.to_str().unwrap())],
    );
    let api = Api::new(&acekeys.base, &admin);
    let (service_key, _) = api.mint("wiki-mcp", &SERVICE_SCOPES).await;
    let mut guards = Vec::new();
    for g in ["g1", "g2", "g3"] {
        let dir = data.path().join(g);
        std::fs::create_dir_all(&dir).unwrap();
        guards.push(WikiProc::spawn_remote(&acekeys.base, &service_key, &dir).await);
    }
    let (leaked, _) = api.mint("leaky", &["svc:wiki:read"]).await;
    let mut clients = Vec::new();
    for g in &guards {
        let c = connect(&g.url, Some(&leaked)).await.expect("connects");
        call(&c, "read_page", json!({"title": "Home"}))
            .await
            .expect("allowed before the report (and cached)");
        clients.push(c);
    }

    let body = json!([{"token": leaked, "type": "acekeys_api_key",
                       "url": "https://github.com/acme/app/blob/main/.env", "source": "content"}])
    .to_string();
    let signature: p256::ecdsa::Signature = scanner.sign(body.as_bytes());
    let reported = Instant::now();
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/leaks/github", acekeys.base))
        .header("content-type", "application/json")
        .header("Github-Public-Key-Identifier", "scanner-1")
        .header(
            "Github-Public-Key-Signature",
            base64::engine::general_purpose::STANDARD.encode(signature.to_der().as_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    wait_for(
        "the leaked key refused at every guard",
        Duration::from_secs(1),
        async || {
            let mut refused_everywhere = true;
            for c in &clients {
                let query = json!({"query": format!("q{}", rand_suffix())});
                refused_everywhere &=
                    matches!(call(c, "search_pages", query).await, Err(e) if refused(&e));
            }
            refused_everywhere
        },
    )
    .await;
    println!(
        "leak report -> refused at 3 guards: {:?}",
        reported.elapsed()
    );
}

/// The two rules that learn a key's habits, against the real binaries and
/// set by the org: after three 1-second windows of ordinary use, a key's
/// first call of another tool (`new_tool`) and a key's burst to five times
/// its usual rate (`rate_surge`, floor 10) put each in quarantine, with the
/// rule recorded, and the next call is refused.
#[tokio::test]
async fn a_new_tool_and_a_surge_trip_once_the_keys_habits_are_learnt() {
    let rules = json!({"loop_calls": 50, "denial_burst": 20, "surge_factor": 5, "surge_floor": 10, "new_tool": true});
    // Bound whole: the server and its data dir must outlive the test.
    let setup = one_guard_under_org_rules(&["--tripwire-window-secs", "1"], &rules).await;
    let OneGuard {
        admin, api, guard, ..
    } = &setup;

    let (explorer, explorer_id) = api.mint("explorer", &["svc:wiki:read"]).await;
    let (surger, surger_id) = api.mint("surger", &["svc:wiki:read"]).await;
    let explorer_c = connect(&guard.url, Some(&explorer))
        .await
        .expect("connects");
    let surger_c = connect(&guard.url, Some(&surger)).await.expect("connects");
    // Each query is new: the loop rule never sees two identical calls.
    let query = |n: u32| json!({"query": format!("q{n} {}", rand_suffix())});
    // Three windows of habits: one search for the explorer, two for the surger.
    for _ in 0..3 {
        call(&explorer_c, "search_pages", query(0))
            .await
            .expect("usual");
        for n in 0..2 {
            call(&surger_c, "search_pages", query(n))
                .await
                .expect("usual");
        }
        tokio::time::sleep(Duration::from_millis(1_100)).await;
    }
    // Learnt: a tool outside the explorer's set, and 10 calls (5 × 2, the
    // floor) from the surger within one window.
    let _ = call(&explorer_c, "read_page", json!({"title": "Home"})).await;
    for n in 0..10 {
        let _ = call(&surger_c, "search_pages", query(n)).await;
    }
    for (id, rule) in [(&explorer_id, "new_tool"), (&surger_id, "rate_surge")] {
        wait_for(
            &format!("{rule} recorded"),
            Duration::from_secs(5),
            async || {
                let (_, view) = api.get_as(admin, &format!("/api/v1/keys/{id}")).await;
                view["status"] == "quarantined" && view["quarantine"]["rule"] == rule
            },
        )
        .await;
    }
    for client in [&explorer_c, &surger_c] {
        let err = call(client, "search_pages", query(99))
            .await
            .expect_err("held");
        assert!(refused(&err), "{err}");
    }
}
