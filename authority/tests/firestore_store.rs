//! Firestore-specific behaviour through the facade, on the emulator: what
//! the shared conformance suite cannot express (several processes, commit
//! size limits).
#![cfg(feature = "firestore")]

use std::sync::Arc;
use std::time::Duration;

use authority::audit::{AuditFilter, AuditQuery};
use authority::store::firestore::emulator_test_location;
use authority::store::{FirestoreStore, Store};
use authority::validator::Origin;
use authority::{
    Authority, AuthorityConfig, BootstrapRequest, BulkRevokeRequest, Env, MintRequest, Pepper,
    Scope,
};

async fn authority_on(location: &authority::store::FirestoreLocation, pepper: Pepper) -> Authority {
    let store: Arc<dyn Store> = Arc::new(FirestoreStore::open(location).await.expect("open"));
    Authority::new(store, pepper, Env::Live, AuthorityConfig::default())
}

/// Bootstraps org `acme` and returns its admin principal.
async fn acme_admin(auth: &Authority) -> Arc<authority::KeyContext> {
    let admin = auth.bootstrap(BootstrapRequest::new("acme")).await.unwrap();
    auth.authorize(admin.key.expose_secret(), &Scope::AdminOrg)
        .await
        .unwrap()
}

fn mint_req(name: String) -> MintRequest {
    MintRequest {
        org_id: None,
        name,
        scopes: vec!["svc:wiki:read".into()],
        expires_days: Default::default(),
        env: None,
        resources: Vec::new(),
        terms: Default::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_switch_larger_than_one_commit_revokes_every_key_and_audits_once() {
    let location = emulator_test_location().unwrap_or_else(|why| panic!("{why}"));
    let auth = authority_on(&location, Pepper::random()).await;
    let p = acme_admin(&auth).await;
    // More keys than one 500-write commit can revoke (two writes per key).
    const KEYS: usize = 300;
    let mut minting = tokio::task::JoinSet::new();
    for chunk in 0..10 {
        let (auth, p) = (auth.clone(), p.clone());
        minting.spawn(async move {
            for i in 0..KEYS / 10 {
                auth.mint(&p, mint_req(format!("k{chunk}-{i}")))
                    .await
                    .unwrap();
            }
        });
    }
    while let Some(done) = minting.join_next().await {
        done.unwrap();
    }
    let result = auth
        .bulk_revoke(
            &p,
            BulkRevokeRequest {
                reason: Some("incident".into()),
                ..BulkRevokeRequest::whole_org()
            },
        )
        .await
        .unwrap();
    assert_eq!(result.revoked, KEYS as u64);
    let store = FirestoreStore::open(&location).await.unwrap();
    let keys = store.list_keys(&p.org).await.unwrap();
    assert_eq!(keys.len(), KEYS + 1);
    assert_eq!(
        keys.iter().filter(|k| k.revoked_at.is_some()).count(),
        KEYS,
        "every key but the caller's"
    );
    let events = auth
        .audit_query(
            &p,
            AuditQuery {
                filter: AuditFilter {
                    tool: Some("bulk_revoke".into()),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(events.events.len(), 1, "one event for the whole switch");
    assert!(auth.verify_all_audit().await.unwrap().ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_on_one_authority_reaches_the_others_cache_and_stream() {
    let location = emulator_test_location().unwrap_or_else(|why| panic!("{why}"));
    let pepper = Pepper::random();
    let a = authority_on(&location, pepper.clone()).await;
    let b = authority_on(&location, pepper).await;
    let p = acme_admin(&a).await;
    let minted = a.mint(&p, mint_req("agent".into())).await.unwrap();
    let raw = minted.key.expose_secret().to_owned();
    assert!(a.validate(&raw, None).await.is_valid());
    assert!(b.validate(&raw, None).await.is_valid(), "warm in B's cache");
    let mut b_stream = b.subscribe_revocations();

    a.revoke(&p, minted.view.id.as_str(), None).await.unwrap();
    let heard = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let ev = b_stream.recv().await.unwrap();
            if ev.key_id == minted.view.id {
                return ev;
            }
        }
    })
    .await
    .expect("B's revocation stream carries A's revocation (tool servers on B hear it)");
    assert_eq!(heard.origin, Origin::Remote);
    assert!(
        !b.validate(&raw, None).await.is_valid(),
        "B's cache entry was evicted, not left to its 60 s TTL"
    );
}

/// The key document's `updateTime`, read over the emulator's REST API.
fn key_update_time(project: &str, org: &str, key_id: &str) -> String {
    let host = std::env::var("FIRESTORE_EMULATOR_HOST").unwrap();
    let url = format!(
        "http://{host}/v1/projects/{project}/databases/(default)/documents/orgs/{org}/keys/{key_id}"
    );
    let script = "import json,sys,urllib.request as u; \
        r=u.Request(sys.argv[1], headers={'Authorization': 'Bearer owner'}); \
        print(json.load(u.urlopen(r))['updateTime'])";
    let out = std::process::Command::new("python3")
        .args(["-c", script, &url])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_marks_never_touch_the_document_that_guards_revocation() {
    // Revoke, rotate and bulk revoke commit only if the key document is
    // unchanged since they read it; `last_used_at` marks, written every few
    // seconds by every server, must not count as a change.
    let location = emulator_test_location().unwrap_or_else(|why| panic!("{why}"));
    let auth = authority_on(&location, Pepper::random()).await;
    let p = acme_admin(&auth).await;
    let minted = auth.mint(&p, mint_req("agent".into())).await.unwrap();
    let store = FirestoreStore::open(&location).await.unwrap();
    let before = key_update_time(&location.project, "acme", minted.view.id.as_str());
    let at = authority::time::Timestamp::from_millis(1_800_000_000_000);
    store
        .touch_keys(&[(p.org.clone(), minted.view.id.clone(), at)])
        .await
        .unwrap();
    let key = store
        .get_key(&p.org, &minted.view.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(key.last_used_at, Some(at), "the mark was written");
    assert_eq!(
        key_update_time(&location.project, "acme", minted.view.id.as_str()),
        before,
        "the key document itself is unchanged"
    );
}
