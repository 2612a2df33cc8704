//! Conformance cases for members and single-use tickets.

use super::*;
use crate::ids::MemberId;
use crate::people::{MemberRecord, PasskeyRecord, TicketPurpose, TicketRecord};
use crate::sessions::SessionToken;
use model::people::Role;

fn member(org: &str, email: &str, role: Role) -> MemberRecord {
    MemberRecord {
        id: MemberId::generate(),
        org: org_id(org),
        email: email.into(),
        role,
        credential_id: KeyId::generate(),
        user_handle: [9; 16],
        created_at: T0,
        created_by: "key_bootstrap".into(),
        passkeys: vec![PasskeyRecord {
            id: "cred-1".into(),
            name: "laptop".into(),
            created_at: T0,
            last_used_at: None,
            credential: "{\"public\":\"key\"}".into(),
        }],
        revision: 1,
    }
}

/// Members round-trip whole, survive a reopen, are unique by email in
/// their org (not across orgs), are found by id and email in their org
/// only, are updated only from the revision the writer read (a lost race
/// is a conflict, never a lost change), and are removed with their event.
/// Every change writes its admin event in the same transaction.
pub async fn members_live_in_the_store<F: StoreFactory>(f: &F) {
    let mut ev = Events::new();
    let (loc, s, _) = with_org(f, &mut ev).await;
    s.create_org(
        &org("beta"),
        &key("beta", "admin", None, T0),
        &ev.admin("beta", "bootstrap", T0),
    )
    .await
    .unwrap();
    let alice = member("acme", "alice@acme.com", Role::Owner);
    let bob = member("acme", "bob@acme.com", Role::Auditor);
    s.create_member(&alice, &ev.admin("acme", "member_join", T0))
        .await
        .unwrap();
    s.create_member(&bob, &ev.admin("acme", "member_join", T0))
        .await
        .unwrap();
    let twin = member("acme", "alice@acme.com", Role::Auditor);
    let again = s
        .create_member(&twin, &ev.admin("acme", "member_join", T0))
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let elsewhere = member("beta", "alice@acme.com", Role::Owner);
    s.create_member(&elsewhere, &ev.admin("beta", "member_join", T0))
        .await
        .expect("the same email may be a member of another org");
    let nowhere = member("gamma", "x@y.z", Role::Owner);
    let missing_org = s
        .create_member(&nowhere, &ev.admin("gamma", "member_join", T0))
        .await;
    assert_eq!(missing_org, Err(StoreError::NotFound));

    drop(s);
    let s = f.open(&loc).await;
    let acme = org_id("acme");
    assert_eq!(
        s.get_member(&acme, &alice.id).await.unwrap(),
        Some(alice.clone())
    );
    assert_eq!(
        s.get_member(&org_id("beta"), &alice.id).await.unwrap(),
        None
    );
    assert_eq!(
        s.find_member_by_email(&acme, "bob@acme.com").await.unwrap(),
        Some(bob.clone())
    );
    assert_eq!(
        s.find_member_by_email(&acme, "carol@acme.com")
            .await
            .unwrap(),
        None
    );
    let listed = s.list_members(&acme).await.unwrap();
    assert_eq!(listed, vec![alice.clone(), bob.clone()], "by email");

    // An update from the revision read wins once; a second writer that
    // read the same revision gets a conflict and its change is not applied.
    let mut promoted = bob.clone();
    promoted.role = Role::KeyAdmin;
    promoted.revision = 2;
    s.update_member(&promoted, Some(&ev.admin("acme", "member_role", T0)))
        .await
        .unwrap();
    let mut stale = bob.clone();
    stale.passkeys.clear();
    stale.revision = 2;
    let lost = s.update_member(&stale, None).await;
    assert!(matches!(lost, Err(StoreError::Conflict(_))), "{lost:?}");
    assert_eq!(
        s.get_member(&acme, &bob.id).await.unwrap(),
        Some(promoted.clone())
    );
    let mut ghost = member("acme", "ghost@acme.com", Role::Auditor);
    ghost.revision = 2;
    assert_eq!(
        s.update_member(&ghost, None).await,
        Err(StoreError::NotFound)
    );

    assert!(s
        .delete_member(&acme, &bob.id, &ev.admin("acme", "member_remove", T0))
        .await
        .unwrap());
    assert!(!s
        .delete_member(&acme, &bob.id, &ev.admin("acme", "member_remove", T0))
        .await
        .unwrap());
    assert_eq!(s.get_member(&acme, &bob.id).await.unwrap(), None);
    assert_eq!(
        s.find_member_by_email(&acme, "bob@acme.com").await.unwrap(),
        None
    );

    // bootstrap, two joins, the role change, one removal: the failed join,
    // the stale update and the second removal wrote nothing.
    let actions: Vec<String> = events_of(&*s, "acme", AuditFilter::default())
        .await
        .into_iter()
        .map(|e| e.body.action)
        .collect();
    let mut sorted = actions.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "bootstrap",
            "member_join",
            "member_join",
            "member_remove",
            "member_role"
        ],
        "{actions:?}"
    );
}

/// A ticket can be read any number of times and taken once: the second take, a take after expiry and a take
/// of an unknown token answer nothing; the sweep deletes expired ones only.
pub async fn tickets_are_taken_once<F: StoreFactory>(f: &F) {
    let loc = f.fresh().await;
    let s = f.open(&loc).await;
    let ticket = |token: &SessionToken, expires: i64| TicketRecord {
        hash: token.hash(),
        org: org_id("acme"),
        purpose: TicketPurpose::Invitation,
        expires_at: T0.plus_secs(expires),
        payload: "{\"email\":\"a@b.c\"}".into(),
    };
    let (live, old, swept) = (
        SessionToken::generate(),
        SessionToken::generate(),
        SessionToken::generate(),
    );
    s.put_ticket(&ticket(&live, 60)).await.unwrap();
    s.put_ticket(&ticket(&old, 10)).await.unwrap();
    s.put_ticket(&ticket(&swept, 5)).await.unwrap();
    let again = s.put_ticket(&ticket(&live, 60)).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");

    drop(s);
    let s = f.open(&loc).await;
    for _ in 0..2 {
        assert_eq!(
            s.get_ticket(&live.hash(), T0).await.unwrap(),
            Some(ticket(&live, 60)),
            "reading does not spend"
        );
    }
    assert_eq!(
        s.get_ticket(&old.hash(), T0.plus_secs(10)).await.unwrap(),
        None
    );
    assert_eq!(
        s.take_ticket(&live.hash(), T0).await.unwrap(),
        Some(ticket(&live, 60))
    );
    assert_eq!(s.get_ticket(&live.hash(), T0).await.unwrap(), None);
    assert_eq!(
        s.take_ticket(&live.hash(), T0).await.unwrap(),
        None,
        "single use"
    );
    assert_eq!(
        s.take_ticket(&old.hash(), T0.plus_secs(10)).await.unwrap(),
        None,
        "expired at its instant"
    );
    assert_eq!(
        s.take_ticket(&SessionToken::generate().hash(), T0)
            .await
            .unwrap(),
        None
    );

    let kept = SessionToken::generate();
    s.put_ticket(&ticket(&kept, 600)).await.unwrap();
    assert!(s.sweep_tickets(T0.plus_secs(5)).await.unwrap() >= 1);
    assert_eq!(s.take_ticket(&swept.hash(), T0).await.unwrap(), None);
    assert!(s.take_ticket(&kept.hash(), T0).await.unwrap().is_some());
}

/// Two takes of one ticket at once: exactly one gets it.
pub async fn a_ticket_taken_concurrently_goes_to_one<F: StoreFactory>(f: &F) {
    let loc = f.fresh().await;
    let s = f.open(&loc).await;
    for _ in 0..5 {
        let token = SessionToken::generate();
        s.put_ticket(&TicketRecord {
            hash: token.hash(),
            org: org_id("acme"),
            purpose: TicketPurpose::PasskeySignIn,
            expires_at: T0.plus_secs(60),
            payload: "{}".into(),
        })
        .await
        .unwrap();
        let hash = token.hash();
        let (a, b) = tokio::join!(s.take_ticket(&hash, T0), s.take_ticket(&hash, T0));
        let winners = [a.unwrap(), b.unwrap()]
            .iter()
            .filter(|t| t.is_some())
            .count();
        assert_eq!(winners, 1);
    }
}
