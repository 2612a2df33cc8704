//! People: an invitation, enrolment with a passkey, passkey sign-in, roles
//! that bind a person exactly as scopes bind a key, and the attacks on
//! them (replayed and expired invitations, a passkey answer from another
//! org, escalation by a key admin, removal ending sessions). The passkeys
//! are `webauthn-authenticator-rs`'s software authenticator: real
//! credentials, real signatures, verified by the real relying party.

mod common;

use std::sync::Arc;

use authority::people::passkeys::PasskeyVerifier;
use authority::sessions::SessionActor;
use authority::{
    AuthorityError, BootstrapRequest, Env, KeyContext, MintRequest, PersonSignedIn, Scope,
    ScopeRegistration,
};
use common::{harness_with, Harness};
use model::people::Role;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_rs_proto::{CreationChallengeResponse, RequestChallengeResponse};

const ORIGIN: &str = "http://localhost:3000";

fn people_harness() -> Harness {
    harness_with(Env::Live, |cfg| {
        cfg.passkeys = Some(Arc::new(PasskeyVerifier::new(ORIGIN).unwrap()));
    })
}

fn origin() -> url::Url {
    url::Url::parse(ORIGIN).unwrap()
}

async fn break_glass(h: &Harness, org: &str) -> Arc<KeyContext> {
    let minted = h.auth.bootstrap(BootstrapRequest::new(org)).await.unwrap();
    h.auth
        .authorize(minted.key.expose_secret(), &Scope::AdminOrg)
        .await
        .unwrap()
}

/// The browser's part of a registration, done by a software authenticator.
fn register(device: &mut SoftPasskey, options: &serde_json::Value) -> String {
    let ccr: CreationChallengeResponse =
        serde_json::from_value(serde_json::json!({ "publicKey": options })).unwrap();
    let answer = device.do_registration(origin(), ccr).unwrap();
    serde_json::to_string(&answer).unwrap()
}

fn assert_(device: &mut SoftPasskey, options: &serde_json::Value) -> String {
    let rcr: RequestChallengeResponse =
        serde_json::from_value(serde_json::json!({ "publicKey": options })).unwrap();
    let answer = device.do_authentication(origin(), rcr).unwrap();
    serde_json::to_string(&answer).unwrap()
}

/// Invites `email` with `role` as `inviter`, enrols them with a new
/// software passkey; returns their signed-in state and their device.
async fn enrol(
    h: &Harness,
    inviter: &KeyContext,
    email: &str,
    role: Role,
) -> (PersonSignedIn, SoftPasskey) {
    let invitation = h.auth.invite_member(inviter, email, role).await.unwrap();
    let (challenge, org, shown_email, shown_role) = h
        .auth
        .start_enrolment(invitation.token.expose_secret(), "laptop")
        .await
        .unwrap();
    assert_eq!(
        (org, shown_email, shown_role),
        (inviter.org.clone(), email.to_lowercase(), role)
    );
    let mut device = SoftPasskey::new(true);
    let answer = register(&mut device, &challenge.options);
    let signed_in = h
        .auth
        .finish_enrolment(challenge.ceremony.expose_secret(), &answer, None)
        .await
        .unwrap();
    (signed_in, device)
}

async fn sign_in(
    h: &Harness,
    org: &str,
    email: &str,
    device: &mut SoftPasskey,
) -> Result<PersonSignedIn, AuthorityError> {
    let challenge = h.auth.start_passkey_sign_in(org, email).await?;
    let answer = assert_(device, &challenge.options);
    h.auth
        .finish_passkey_sign_in(challenge.ceremony.expose_secret(), &answer, None)
        .await
}

fn mint(scopes: &[&str]) -> MintRequest {
    MintRequest {
        org_id: None,
        name: "minted by a person".into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        expires_days: Default::default(),
        env: None,
        resources: Vec::new(),
        terms: Default::default(),
    }
}

#[tokio::test]
async fn an_invited_person_enrols_with_a_passkey_and_signs_in_with_it_again() {
    let h = people_harness();
    let root = break_glass(&h, "acme").await;
    let (alice, mut device) = enrol(&h, &root, "Alice@Acme.com", Role::Owner).await;
    let person = alice.principal.person.clone().expect("a person");
    assert_eq!(person.email, "alice@acme.com");
    assert_eq!(person.role, Role::Owner);
    assert!(alice.principal.allows(&Scope::AdminOrg));

    // The session resolves to the person, on any server sharing the store.
    let session = h
        .auth
        .resume_session(&alice.session)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        session.actor,
        SessionActor::Member(person.member_id.clone())
    );
    let p = h.auth.session_principal(&session).await.unwrap();
    assert_eq!(p.person.as_ref().map(|p| &p.email), Some(&person.email));

    // Sign out, sign in again with the same passkey.
    h.auth.end_session(&alice.session).await.unwrap();
    let again = sign_in(&h, "acme", "alice@acme.com", &mut device)
        .await
        .unwrap();
    assert_eq!(again.principal.person, Some(person.clone()));

    // The trail names the person on the join and on the sign-in.
    let page = h
        .auth
        .audit_query(&again.principal, Default::default())
        .await
        .unwrap();
    for action in ["member_join", "sign_in"] {
        let ev = page
            .events
            .iter()
            .find(|e| e.body.action == action && e.body.person.is_some())
            .unwrap_or_else(|| panic!("no {action} naming a person"));
        assert_eq!(
            ev.body.person.as_ref().unwrap().to_string(),
            "alice@acme.com (owner, passkey)"
        );
        assert_eq!(ev.body.actor_key_id.as_ref(), Some(&again.principal.key_id));
    }
    let invite = page
        .events
        .iter()
        .find(|e| e.body.action == "member_invite")
        .unwrap();
    assert_eq!(
        invite.body.actor_key_id.as_ref(),
        Some(&root.key_id),
        "the break-glass key invited"
    );
    assert_eq!(invite.body.subject.as_deref(), Some("alice@acme.com"));
}

#[tokio::test]
async fn an_invitation_works_once_and_not_after_it_expires() {
    let h = people_harness();
    let root = break_glass(&h, "acme").await;
    let invitation = h
        .auth
        .invite_member(&root, "bob@acme.com", Role::Auditor)
        .await
        .unwrap();
    let token = invitation.token.expose_secret().to_owned();

    // A cancelled prompt can be retried: starting twice is fine.
    let (first, ..) = h.auth.start_enrolment(&token, "a").await.unwrap();
    let (second, ..) = h.auth.start_enrolment(&token, "b").await.unwrap();
    let mut device = SoftPasskey::new(true);
    let answer = register(&mut device, &second.options);
    h.auth
        .finish_enrolment(second.ceremony.expose_secret(), &answer, None)
        .await
        .unwrap();

    // Replays: the link, the other started ceremony, the finished one.
    let replayed = h.auth.start_enrolment(&token, "c").await.unwrap_err();
    assert!(replayed.to_string().contains("already used"), "{replayed}");
    let mut other_device = SoftPasskey::new(true);
    let late = register(&mut other_device, &first.options);
    let spent = h
        .auth
        .finish_enrolment(first.ceremony.expose_secret(), &late, None)
        .await
        .unwrap_err();
    assert!(spent.to_string().contains("already used"), "{spent}");
    let twice = h
        .auth
        .finish_enrolment(second.ceremony.expose_secret(), &answer, None)
        .await
        .unwrap_err();
    assert!(twice.to_string().contains("expired"), "{twice}");
    assert_eq!(h.auth.list_members(&root).await.unwrap().len(), 1);

    // An invitation dies at its expiry (72 h).
    let old = h
        .auth
        .invite_member(&root, "carol@acme.com", Role::Auditor)
        .await
        .unwrap();
    h.clock.advance_secs(authority::INVITATION_SECS);
    let expired = h
        .auth
        .start_enrolment(old.token.expose_secret(), "x")
        .await
        .unwrap_err();
    assert!(expired.to_string().contains("expired"), "{expired}");
}

#[tokio::test]
async fn a_passkey_answer_for_another_org_or_person_does_not_sign_in() {
    let h = people_harness();
    let acme = break_glass(&h, "acme").await;
    let evil = break_glass(&h, "evil").await;
    let (_, mut alice_device) = enrol(&h, &acme, "alice@acme.com", Role::Owner).await;
    let (_, mut mallory_device) = enrol(&h, &evil, "mallory@evil.com", Role::Owner).await;

    // Mallory answers her own org's challenge and sends it to a ceremony
    // started for alice: the challenge and the credential do not match.
    let for_alice = h
        .auth
        .start_passkey_sign_in("acme", "alice@acme.com")
        .await
        .unwrap();
    let for_mallory = h
        .auth
        .start_passkey_sign_in("evil", "mallory@evil.com")
        .await
        .unwrap();
    let mallorys = assert_(&mut mallory_device, &for_mallory.options);
    let refused = h
        .auth
        .finish_passkey_sign_in(for_alice.ceremony.expose_secret(), &mallorys, None)
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("could not be verified"),
        "{refused}"
    );

    // Mallory's passkey cannot sign in as mallory@acme (not a member):
    // the decoy challenge never verifies, and looks like a real one.
    let decoy = h
        .auth
        .start_passkey_sign_in("acme", "mallory@evil.com")
        .await
        .unwrap();
    let decoy_again = h
        .auth
        .start_passkey_sign_in("acme", "mallory@evil.com")
        .await
        .unwrap();
    assert_eq!(
        decoy.options["allowCredentials"], decoy_again.options["allowCredentials"],
        "a decoy is stable, like a real person's credential list"
    );
    // Field for field what a member's challenge has (a member's stored
    // transports, if their authenticator reported any, are the one
    // difference left).
    let fields = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(fields(&decoy.options), fields(&for_alice.options));
    for same in ["timeout", "rpId", "userVerification"] {
        assert_eq!(decoy.options[same], for_alice.options[same], "{same}");
    }
    assert_eq!(
        fields(&decoy.options["allowCredentials"][0]),
        fields(&for_alice.options["allowCredentials"][0])
    );
    let forged = assert_(&mut alice_device, &for_alice.options);
    let refused = h
        .auth
        .finish_passkey_sign_in(decoy.ceremony.expose_secret(), &forged, None)
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("could not be verified"),
        "{refused}"
    );
}

#[tokio::test]
async fn roles_bind_people_like_scopes_bind_keys() {
    let h = people_harness();
    let root = break_glass(&h, "acme").await;
    h.auth
        .register_tool_scopes(
            &root,
            &[ScopeRegistration {
                scope: "svc:wiki:read".into(),
                description: "Read wiki pages".into(),
            }],
        )
        .await
        .unwrap();
    let (owner, _) = enrol(&h, &root, "olive@acme.com", Role::Owner).await;
    let (keys, _) = enrol(&h, &owner.principal, "kim@acme.com", Role::KeyAdmin).await;
    let (audit, _) = enrol(&h, &owner.principal, "ava@acme.com", Role::Auditor).await;

    // A key admin mints tool scopes, never more than its role.
    let minted = h
        .auth
        .mint(&keys.principal, mint(&["svc:wiki:read"]))
        .await
        .unwrap();
    assert_eq!(
        minted.view.created_by.as_ref(),
        Some(&keys.principal.key_id)
    );
    let escalation = h.auth.mint(&keys.principal, mint(&["admin:org"])).await;
    assert!(
        matches!(escalation, Err(AuthorityError::Forbidden { .. })),
        "{escalation:?}"
    );
    // ... and cannot make itself owner or invite anyone.
    let kim = keys
        .principal
        .person
        .as_ref()
        .unwrap()
        .member_id
        .to_string();
    let promote = h
        .auth
        .change_member_role(&keys.principal, &kim, Role::Owner)
        .await;
    assert!(
        matches!(promote, Err(AuthorityError::Forbidden { .. })),
        "{promote:?}"
    );
    let invite = h
        .auth
        .invite_member(&keys.principal, "x@acme.com", Role::Owner)
        .await;
    assert!(
        matches!(invite, Err(AuthorityError::Forbidden { .. })),
        "{invite:?}"
    );

    // An auditor reads keys and the trail, changes nothing.
    assert!(h
        .auth
        .list_keys(&audit.principal, Default::default())
        .await
        .is_ok());
    assert!(h
        .auth
        .audit_query(&audit.principal, Default::default())
        .await
        .is_ok());
    let mint_try = h
        .auth
        .mint(&audit.principal, mint(&["svc:wiki:read"]))
        .await;
    assert!(
        matches!(mint_try, Err(AuthorityError::Forbidden { .. })),
        "{mint_try:?}"
    );
    let revoke_try = h
        .auth
        .revoke(&audit.principal, minted.view.id.as_str(), None)
        .await;
    assert!(
        matches!(revoke_try, Err(AuthorityError::Forbidden { .. })),
        "{revoke_try:?}"
    );
    let members_try = h.auth.list_members(&audit.principal).await;
    assert!(
        matches!(members_try, Err(AuthorityError::Forbidden { .. })),
        "{members_try:?}"
    );
}

#[tokio::test]
async fn removing_a_person_or_changing_their_role_ends_their_sessions() {
    let h = people_harness();
    let root = break_glass(&h, "acme").await;
    let (owner, _) = enrol(&h, &root, "olive@acme.com", Role::Owner).await;
    let (kim, mut kim_device) = enrol(&h, &owner.principal, "kim@acme.com", Role::KeyAdmin).await;
    let kim_id = kim.principal.person.as_ref().unwrap().member_id.to_string();
    assert!(h.auth.resume_session(&kim.session).await.unwrap().is_some());

    let demoted = h
        .auth
        .change_member_role(&owner.principal, &kim_id, Role::Auditor)
        .await
        .unwrap();
    assert_eq!(demoted.role, Role::Auditor);
    assert!(
        h.auth.resume_session(&kim.session).await.unwrap().is_none(),
        "role change ends sessions"
    );
    let back = sign_in(&h, "acme", "kim@acme.com", &mut kim_device)
        .await
        .unwrap();
    assert!(
        !back.principal.allows(&Scope::service("keys", "write")),
        "signed in as auditor now"
    );

    // A sign-in answered before the removal and finished after it fails,
    // and a new one gets only a decoy (the device has no such credential).
    let pending = h
        .auth
        .start_passkey_sign_in("acme", "kim@acme.com")
        .await
        .unwrap();
    let answer = assert_(&mut kim_device, &pending.options);
    h.auth
        .remove_member(&owner.principal, &kim_id)
        .await
        .unwrap();
    assert!(h
        .auth
        .resume_session(&back.session)
        .await
        .unwrap()
        .is_none());
    let late = h
        .auth
        .finish_passkey_sign_in(pending.ceremony.expose_secret(), &answer, None)
        .await;
    assert!(
        late.is_err(),
        "a removed person's passkey no longer signs in"
    );
    let decoy = h
        .auth
        .start_passkey_sign_in("acme", "kim@acme.com")
        .await
        .unwrap();
    assert_ne!(
        decoy.options["allowCredentials"], pending.options["allowCredentials"],
        "no credential of the removed person is offered"
    );

    // The last owner stays.
    let olive = owner
        .principal
        .person
        .as_ref()
        .unwrap()
        .member_id
        .to_string();
    let last = h
        .auth
        .remove_member(&owner.principal, &olive)
        .await
        .unwrap_err();
    assert!(last.to_string().contains("at least one owner"), "{last}");
    let demote_last = h
        .auth
        .change_member_role(&owner.principal, &olive, Role::Auditor)
        .await
        .unwrap_err();
    assert!(
        demote_last.to_string().contains("at least one owner"),
        "{demote_last}"
    );
}
