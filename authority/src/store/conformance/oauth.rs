//! Conformance cases for OAuth: registered clients, grants started once,
//! refresh tokens rotated once, and a grant's revocation reaching its
//! access tokens in the same commit.

use super::*;
use crate::ids::GrantId;
use crate::keys::{generate_credential, CredentialKind, KeyHash};
use crate::oauth::{
    ApplicationType, AuthMethod, ClientId, GrantRecord, OAuthClient, RefreshRecord, ResourceId,
    TokenOrigin,
};

fn client() -> OAuthClient {
    OAuthClient {
        id: ClientId::generate(),
        name: "Desktop assistant".into(),
        redirect_uris: vec!["http://127.0.0.1/callback".into()],
        application_type: ApplicationType::Native,
        auth_method: AuthMethod::ClientSecretBasic,
        secret_hash: Some(Pepper::random().hash("secret")),
        created_at: T0,
    }
}

fn resource() -> ResourceId {
    ResourceId::parse("https://wiki.example.com/mcp").expect("resource")
}

fn grant(org: &str, client: &OAuthClient) -> GrantRecord {
    GrantRecord {
        id: GrantId::of_code_digest(Pepper::random().hash("code").as_bytes()),
        org: org_id(org),
        env: Env::Live,
        client_id: client.id.clone(),
        client_name: client.name.clone(),
        resource: resource(),
        scopes: [Scope::service("wiki", "read")].into_iter().collect(),
        agent: Some("assistant".into()),
        granted_by: KeyId::generate(),
        granted_by_email: "ana@acme.test".into(),
        created_at: T0,
        expires_at: Some(T0.plus_days(30)),
        revoked_at: None,
        revoked_by: None,
        revoke_reason: None,
        refresh_generation: 0,
        refreshed_at: T0,
    }
}

fn refresh(g: &GrantRecord, generation: u64) -> RefreshRecord {
    let raw = generate_credential(CredentialKind::RefreshToken, Env::Live).raw;
    RefreshRecord {
        hash: Pepper::random().hash(raw.expose_secret()),
        grant: g.id.clone(),
        org: g.org.clone(),
        generation,
    }
}

/// An access token of `g` issued at `at`, living an hour.
fn access(g: &GrantRecord, at: Timestamp) -> KeyRecord {
    let mut k = key(g.org.as_str(), &g.client_name, g.agent.as_deref(), at);
    k.expires_at = Some(at.plus_secs(3600));
    k.resources = vec![g.resource.clone()];
    k.oauth = Some(TokenOrigin {
        grant: g.id.clone(),
        client: g.client_id.clone(),
    });
    k
}

pub async fn oauth_clients_are_registered_once<F: StoreFactory>(f: &F) {
    let mut ev = Events::new();
    let (_loc, s, _) = with_org(f, &mut ev).await;
    let c = client();
    s.insert_oauth_client(&c, &ev.admin("acme", "oauth.register", T0))
        .await
        .unwrap();
    assert_eq!(s.get_oauth_client(&c.id).await.unwrap(), Some(c.clone()));
    let again = s
        .insert_oauth_client(&c, &ev.admin("acme", "oauth.register", T0))
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(
        s.get_oauth_client(&ClientId::generate()).await.unwrap(),
        None
    );
    let registered = events_of(&*s, "acme", AuditFilter::default())
        .await
        .into_iter()
        .filter(|e| e.body.action == "oauth.register")
        .count();
    assert_eq!(registered, 1, "the refused duplicate wrote no event");
}

pub async fn a_grant_starts_once_with_its_tokens<F: StoreFactory>(f: &F) {
    let mut ev = Events::new();
    let (_loc, s, _) = with_org(f, &mut ev).await;
    let c = client();
    let g = grant("acme", &c);
    let (r0, a0) = (refresh(&g, 0), access(&g, T0));
    s.start_grant(&g, &r0, &a0, &ev.admin("acme", "oauth.grant", T0))
        .await
        .unwrap();
    assert_eq!(s.get_grant(&g.id).await.unwrap(), Some(g.clone()));
    assert_eq!(s.find_refresh(&r0.hash).await.unwrap(), Some(r0.clone()));
    assert_eq!(
        s.find_key_by_hash(&a0.hash).await.unwrap(),
        Some(a0.clone()),
        "the access token is a key record with its resource and origin"
    );
    // The same code exchanged again starts nothing.
    let a_dup = access(&g, T0.plus_secs(1));
    let again = s
        .start_grant(
            &g,
            &refresh(&g, 0),
            &a_dup,
            &ev.admin("acme", "oauth.grant", T0),
        )
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(s.find_key_by_hash(&a_dup.hash).await.unwrap(), None);
    // A grant of an org that does not exist.
    let ghost = grant("ghost", &c);
    let missing = s
        .start_grant(
            &ghost,
            &refresh(&ghost, 0),
            &access(&ghost, T0),
            &ev.admin("acme", "oauth.grant", T0),
        )
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    // Listing: newest first, per org only.
    s.create_org(
        &org("other"),
        &key("other", "admin", None, T0),
        &ev.admin("other", "bootstrap", T0),
    )
    .await
    .unwrap();
    let mut later = grant("acme", &c);
    later.created_at = T0.plus_secs(5);
    s.start_grant(
        &later,
        &refresh(&later, 0),
        &access(&later, later.created_at),
        &ev.admin("acme", "oauth.grant", T0),
    )
    .await
    .unwrap();
    let theirs = grant("other", &c);
    s.start_grant(
        &theirs,
        &refresh(&theirs, 0),
        &access(&theirs, T0),
        &ev.admin("other", "oauth.grant", T0),
    )
    .await
    .unwrap();
    let ids: Vec<GrantId> = s
        .list_grants(&org_id("acme"))
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.id)
        .collect();
    assert_eq!(ids, vec![later.id.clone(), g.id.clone()]);
}

pub async fn refresh_tokens_rotate_once<F: StoreFactory>(f: &F) {
    let mut ev = Events::new();
    let (_loc, s, _) = with_org(f, &mut ev).await;
    let g = grant("acme", &client());
    let r0 = refresh(&g, 0);
    s.start_grant(
        &g,
        &r0,
        &access(&g, T0),
        &ev.admin("acme", "oauth.grant", T0),
    )
    .await
    .unwrap();
    let t1 = T0.plus_secs(60);
    let (r1, a1) = (refresh(&g, 1), access(&g, t1));
    let after = s
        .refresh_grant(&r1, &a1, &ev.admin("acme", "oauth.refresh", t1))
        .await
        .unwrap();
    assert_eq!((after.refresh_generation, after.refreshed_at), (1, t1));
    assert_eq!(s.get_grant(&g.id).await.unwrap(), Some(after));
    assert_eq!(s.find_key_by_hash(&a1.hash).await.unwrap(), Some(a1));
    // The spent token is still recognised, with its generation.
    assert_eq!(
        s.find_refresh(&r0.hash).await.unwrap().unwrap().generation,
        0
    );
    // A second use of generation 0 (as another generation 1) is refused.
    let stale = s
        .refresh_grant(
            &refresh(&g, 1),
            &access(&g, t1),
            &ev.admin("acme", "oauth.refresh", t1),
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    // Two refreshes racing for generation 2: exactly one wins.
    let t2 = T0.plus_secs(120);
    let (ra, rb) = (refresh(&g, 2), refresh(&g, 2));
    let (aa, ab) = (access(&g, t2), access(&g, t2));
    let (ea, eb) = (
        ev.admin("acme", "oauth.refresh", t2),
        ev.admin("acme", "oauth.refresh", t2),
    );
    let (x, y) = tokio::join!(
        s.refresh_grant(&ra, &aa, &ea),
        s.refresh_grant(&rb, &ab, &eb)
    );
    assert_eq!(
        [x.is_ok(), y.is_ok()].iter().filter(|ok| **ok).count(),
        1,
        "{x:?} {y:?}"
    );
    let unknown = RefreshRecord {
        grant: GrantId::of_code_digest(&[9; 32]),
        ..refresh(&g, 1)
    };
    let missing = s
        .refresh_grant(
            &unknown,
            &access(&g, t2),
            &ev.admin("acme", "oauth.refresh", t2),
        )
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    assert_eq!(
        s.find_refresh(&KeyHash::from_bytes([7; 32])).await.unwrap(),
        None
    );
}

pub async fn revoking_a_grant_revokes_its_live_tokens<F: StoreFactory>(f: &F) {
    let mut ev = Events::new();
    let (_loc, s, _) = with_org(f, &mut ev).await;
    let g = grant("acme", &client());
    let old = access(&g, T0);
    s.start_grant(
        &g,
        &refresh(&g, 0),
        &old,
        &ev.admin("acme", "oauth.grant", T0),
    )
    .await
    .unwrap();
    let t1 = T0.plus_secs(3000);
    let newer = access(&g, t1);
    s.refresh_grant(
        &refresh(&g, 1),
        &newer,
        &ev.admin("acme", "oauth.refresh", t1),
    )
    .await
    .unwrap();
    let other_key = key("acme", "unrelated", Some("assistant"), T0);
    s.insert_key(&other_key, &ev.admin("acme", "mint", T0))
        .await
        .unwrap();
    // At T0 + 1 h 10 min the first token has expired: only the newer one
    // still works and needs revoking.
    let at = T0.plus_secs(4200);
    assert_eq!(
        s.revoke_grant(
            &org_id("other"),
            &g.id,
            &rev(at, "x"),
            &ev.admin("other", "oauth.revoke", at)
        )
        .await
        .unwrap(),
        None,
        "another org cannot reach the grant"
    );
    let done = s
        .revoke_grant(
            &org_id("acme"),
            &g.id,
            &rev(at, "lost laptop"),
            &ev.admin("acme", "oauth.revoke", at),
        )
        .await
        .unwrap()
        .expect("the grant");
    assert!(done.changed);
    assert_eq!(done.grant.revoked_at, Some(at));
    assert_eq!(done.grant.revoke_reason.as_deref(), Some("lost laptop"));
    assert_eq!(
        done.tokens.iter().map(|k| k.id.clone()).collect::<Vec<_>>(),
        vec![newer.id.clone()]
    );
    let stored = |id: KeyId| {
        let s = s.clone();
        async move { s.get_key(&org_id("acme"), &id).await.unwrap().unwrap() }
    };
    assert_eq!(stored(newer.id.clone()).await.revoked_at, Some(at));
    assert_eq!(stored(old.id.clone()).await.revoked_at, None);
    assert_eq!(stored(other_key.id.clone()).await.revoked_at, None);
    assert!(s
        .revoked_since(&org_id("acme"), at, 10)
        .await
        .unwrap()
        .iter()
        .any(|k| k.id == newer.id));
    assert_eq!(s.get_grant(&g.id).await.unwrap(), Some(done.grant.clone()));
    // A refresh after the revocation is refused.
    let late = s
        .refresh_grant(
            &refresh(&g, 2),
            &access(&g, at),
            &ev.admin("acme", "oauth.refresh", at),
        )
        .await;
    assert!(matches!(late, Err(StoreError::Conflict(_))), "{late:?}");
    // Idempotent: nothing changes and no event is written.
    let before = events_of(&*s, "acme", AuditFilter::default()).await.len();
    let again = s
        .revoke_grant(
            &org_id("acme"),
            &g.id,
            &rev(at.plus_secs(1), "x"),
            &ev.admin("acme", "oauth.revoke", at),
        )
        .await
        .unwrap()
        .expect("the grant");
    assert!(!again.changed && again.tokens.is_empty());
    assert_eq!(
        again.grant.revoked_at,
        Some(at),
        "the first revocation stands"
    );
    assert_eq!(
        events_of(&*s, "acme", AuditFilter::default()).await.len(),
        before
    );
}
