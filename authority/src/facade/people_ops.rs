//! What people do: an owner invites, the invitee enrols with a passkey, a
//! member signs in with one, an owner changes roles or removes members,
//! and a member manages their own passkeys. See [`crate::people`] for the
//! rules; this file applies them.

use serde::{Deserialize, Serialize};

use super::Authority;
use crate::error::AuthorityError;
use crate::ids::{KeyId, MemberId, OrgId};
use crate::people::passkeys::{PasskeyError, PasskeyVerifier};
use crate::people::{
    MemberRecord, PasskeyRecord, TicketPurpose, TicketRecord, MAX_PASSKEYS, MAX_PASSKEY_NAME,
};
use crate::policy::rules::require;
use crate::policy::KeyContext;
use crate::scopes::{Scope, ScopeSet};
use crate::sessions::{SessionActor, SessionToken, TokenHash};
use crate::store::StoreError;
use model::people::{normalize_email, Person, Role, SignInMethod};

/// How long an invitation link works.
pub const INVITATION_SECS: i64 = 72 * 3600;
/// How long a WebAuthn ceremony may take between its start and finish.
const CEREMONY_SECS: i64 = 300;
/// Services whose scopes belong to the authority itself: a key admin holds
/// only the ones its role names, never the rest (members, catalog writes).
pub(super) const AUTHORITY_SERVICES: [&str; 3] = ["keys", "audit", "catalog"];

/// A fresh invitation: the link's token is shown once, like a key.
#[derive(Debug)]
pub struct Invitation {
    pub token: SessionToken,
    pub email: String,
    pub role: Role,
    pub expires_at: crate::time::Timestamp,
}

/// A WebAuthn ceremony started: the browser gets the options and the
/// ceremony token, and sends both back with its answer.
#[derive(Debug)]
pub struct PasskeyChallenge {
    pub ceremony: SessionToken,
    pub options: serde_json::Value,
}

/// A person who just proved who they are, with their new session.
#[derive(Debug)]
pub struct PersonSignedIn {
    pub session: SessionToken,
    pub principal: KeyContext,
}

#[derive(Serialize, Deserialize)]
struct InvitationPayload {
    email: String,
    role: Role,
    invited_by: String,
}

#[derive(Serialize, Deserialize)]
struct RegistrationPayload {
    /// Enrolment: the invitation this registration spends when it finishes.
    invitation: Option<String>,
    /// Adding a passkey: the member it is for.
    member: Option<MemberId>,
    email: String,
    role: Role,
    user_handle: [u8; 16],
    passkey_name: String,
    state: String,
}

#[derive(Serialize, Deserialize)]
struct SignInPayload {
    /// `None` for a decoy ceremony (no such person): it never verifies.
    member: Option<MemberId>,
    state: Option<String>,
}

fn refused(message: &str) -> AuthorityError {
    AuthorityError::Conflict(message.to_owned())
}

fn passkey_error(e: PasskeyError) -> AuthorityError {
    match e {
        PasskeyError::Config(m) => AuthorityError::Internal { cause: m },
        PasskeyError::Malformed(m) => AuthorityError::invalid("credential", m),
        PasskeyError::Rejected(m) => {
            tracing::info!(reason = %m, "passkey refused");
            refused("the passkey could not be verified; try again or use another passkey")
        }
    }
}

fn json<T: Serialize>(value: &T) -> Result<String, AuthorityError> {
    serde_json::to_string(value).map_err(|e| AuthorityError::Internal {
        cause: e.to_string(),
    })
}

fn from_json<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, AuthorityError> {
    serde_json::from_str(text).map_err(|e| AuthorityError::Internal {
        cause: format!("ticket payload: {e}"),
    })
}

fn check_passkey_name(name: &str) -> Result<String, AuthorityError> {
    let name = name.trim();
    let name = if name.is_empty() { "passkey" } else { name };
    if name.chars().count() > MAX_PASSKEY_NAME || model::text::first_deceptive(name).is_some() {
        return Err(AuthorityError::invalid(
            "passkey_name",
            format!("1-{MAX_PASSKEY_NAME} printable characters"),
        ));
    }
    Ok(name.to_owned())
}

fn random_handle() -> [u8; 16] {
    let mut bytes = [0_u8; 16];
    getrandom::fill(&mut bytes).expect("the OS CSPRNG is unavailable");
    bytes
}

impl Authority {
    fn passkeys(&self) -> Result<&PasskeyVerifier, AuthorityError> {
        self.inner.passkeys.as_deref().ok_or_else(|| {
            AuthorityError::Conflict(
                "passkeys are off on this server: start it with ACEKEYS_PUBLIC_URL set to the \
                 dashboard's address (a domain name, e.g. http://localhost:3000)"
                    .into(),
            )
        })
    }

    /// The origin passkeys are bound to, when passkeys are on.
    pub fn passkey_origin(&self) -> Option<&str> {
        self.inner.passkeys.as_deref().map(PasskeyVerifier::origin)
    }

    pub(super) async fn put_ticket(
        &self,
        org: &OrgId,
        purpose: TicketPurpose,
        secs: i64,
        payload: String,
    ) -> Result<(SessionToken, crate::time::Timestamp), AuthorityError> {
        let token = SessionToken::generate();
        let expires_at = self.now().plus_secs(secs);
        self.inner
            .store
            .put_ticket(&TicketRecord {
                hash: token.hash(),
                org: org.clone(),
                purpose,
                expires_at,
                payload,
            })
            .await?;
        Ok((token, expires_at))
    }

    /// Takes a ticket for `purpose`; a missing, expired, or other-purpose
    /// ticket answers the same refusal (and is spent all the same).
    async fn take_ticket(
        &self,
        token: &str,
        purpose: TicketPurpose,
        refusal: &str,
    ) -> Result<TicketRecord, AuthorityError> {
        let token = SessionToken::parse(token).ok_or_else(|| refused(refusal))?;
        self.inner
            .store
            .take_ticket(&token.hash(), self.now())
            .await?
            .filter(|t| t.purpose == purpose)
            .ok_or_else(|| refused(refusal))
    }

    /// The principal a member acts as: their role's scopes as they are now
    /// (a key admin's include the org's tool scopes, so it can grant them).
    pub(super) fn member_principal(&self, m: &MemberRecord, method: SignInMethod) -> KeyContext {
        let mut scopes = m.role.scopes();
        scopes.push(Scope::Org(m.org.to_string()));
        if m.role.holds_tool_scopes() {
            for service in self.catalog_view(&m.org).services() {
                if AUTHORITY_SERVICES.contains(&service.service.as_str()) {
                    continue;
                }
                scopes.extend(
                    service
                        .actions
                        .iter()
                        .map(|a| Scope::service(&service.service, &a.action)),
                );
            }
        }
        KeyContext {
            key_id: m.credential_id.clone(),
            org: m.org.clone(),
            name: m.email.clone(),
            env: self.inner.validator.env(),
            agent: None,
            scopes: scopes.into_iter().collect::<ScopeSet>(),
            expires_at: None,
            created_by: None,
            person: Some(Person {
                member_id: m.id.clone(),
                email: m.email.clone(),
                role: m.role,
                method,
            }),
            resources: Vec::new(),
            oauth: None,
            networks: Default::default(),
            limits: Default::default(),
            metadata: None,
        }
    }

    /// An owner (or the break-glass key) invites a person with a role.
    pub async fn invite_member(
        &self,
        p: &KeyContext,
        email: &str,
        role: Role,
    ) -> Result<Invitation, AuthorityError> {
        require(p, &Scope::AdminOrg)?;
        let email =
            normalize_email(email).map_err(|e| AuthorityError::invalid("email", e.to_string()))?;
        if self
            .inner
            .store
            .find_member_by_email(&p.org, &email)
            .await?
            .is_some()
        {
            return Err(AuthorityError::Conflict(format!(
                "{email} is already a member of this org"
            )));
        }
        let payload = json(&InvitationPayload {
            email: email.clone(),
            role,
            invited_by: p.key_id.to_string(),
        })?;
        let (token, expires_at) = self
            .put_ticket(&p.org, TicketPurpose::Invitation, INVITATION_SECS, payload)
            .await?;
        let mut event = self.admin_event(Some(p), &p.org, "member_invite", self.now());
        event.subject = Some(email.clone());
        event.reason = Some(format!("role {}", role.as_str()));
        self.append_admin_event(event).await?;
        Ok(Invitation {
            token,
            email,
            role,
            expires_at,
        })
    }

    /// The invitee opened the link: starts registering their first
    /// passkey. The invitation is spent only when registration finishes,
    /// so a cancelled browser prompt can be retried.
    pub async fn start_enrolment(
        &self,
        invitation: &str,
        passkey_name: &str,
    ) -> Result<(PasskeyChallenge, OrgId, String, Role), AuthorityError> {
        let rp = self.passkeys()?;
        let refusal =
            "this invitation is unknown, expired or already used; ask an owner for a new one";
        let token = SessionToken::parse(invitation).ok_or_else(|| refused(refusal))?;
        let ticket = self
            .inner
            .store
            .get_ticket(&token.hash(), self.now())
            .await?
            .filter(|t| t.purpose == TicketPurpose::Invitation)
            .ok_or_else(|| refused(refusal))?;
        let invite: InvitationPayload = from_json(&ticket.payload)?;
        let user_handle = random_handle();
        let challenge = rp
            .start_registration(user_handle, &invite.email, &[])
            .map_err(passkey_error)?;
        let payload = json(&RegistrationPayload {
            invitation: Some(token.hash().to_hex()),
            member: None,
            email: invite.email.clone(),
            role: invite.role,
            user_handle,
            passkey_name: check_passkey_name(passkey_name)?,
            state: challenge.state,
        })?;
        let (ceremony, _) = self
            .put_ticket(
                &ticket.org,
                TicketPurpose::PasskeyRegistration,
                CEREMONY_SECS,
                payload,
            )
            .await?;
        Ok((
            PasskeyChallenge {
                ceremony,
                options: challenge.options,
            },
            ticket.org,
            invite.email,
            invite.role,
        ))
    }

    /// Finishes enrolment: verifies the new passkey, spends the
    /// invitation, adds the member (audited) and signs them in.
    pub async fn finish_enrolment(
        &self,
        ceremony: &str,
        answer: &str,
        client_ip: Option<String>,
    ) -> Result<PersonSignedIn, AuthorityError> {
        let rp = self.passkeys()?;
        let ticket = self
            .take_ticket(
                ceremony,
                TicketPurpose::PasskeyRegistration,
                "this registration expired; open the invitation link again",
            )
            .await?;
        let reg: RegistrationPayload = from_json(&ticket.payload)?;
        let invitation = reg
            .invitation
            .as_deref()
            .ok_or_else(|| AuthorityError::Internal {
                cause: "enrolment ceremony without invitation".into(),
            })?;
        let (credential_id, credential) = rp
            .finish_registration(answer, &reg.state)
            .map_err(passkey_error)?;
        let invitation_hash = model::hex::decode32(invitation)
            .map(TokenHash::from_bytes)
            .ok_or_else(|| AuthorityError::Internal {
                cause: "bad invitation hash in ceremony".into(),
            })?;
        let spent = self
            .inner
            .store
            .take_ticket(&invitation_hash, self.now())
            .await?
            .filter(|t| t.purpose == TicketPurpose::Invitation && t.org == ticket.org);
        let Some(spent) = spent else {
            return Err(refused(
                "this invitation is unknown, expired or already used; ask an owner for a new one",
            ));
        };
        let invite: InvitationPayload = from_json(&spent.payload)?;
        let now = self.now();
        let member = MemberRecord {
            id: MemberId::generate(),
            org: ticket.org.clone(),
            email: reg.email,
            role: reg.role,
            credential_id: KeyId::generate(),
            user_handle: reg.user_handle,
            created_at: now,
            created_by: invite.invited_by,
            passkeys: vec![PasskeyRecord {
                id: credential_id,
                name: reg.passkey_name,
                created_at: now,
                last_used_at: Some(now),
                credential,
            }],
            revision: 1,
        };
        let principal = self.member_principal(&member, SignInMethod::Passkey);
        let mut event = self.admin_event(Some(&principal), &member.org, "member_join", now);
        event.subject = Some(member.id.to_string());
        event.client_ip = client_ip;
        self.with_admin_event(event, |ev| {
            let store = &self.inner.store;
            let member = &member;
            async move { store.create_member(member, &ev).await.map(|()| ((), true)) }
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => AuthorityError::Conflict(format!(
                "{} is already a member of this org",
                member.email
            )),
            other => other.into(),
        })?;
        let session = self
            .start_session(&member.org, SessionActor::Member(member.id.clone()))
            .await?;
        Ok(PersonSignedIn { session, principal })
    }

    /// Starts a passkey sign-in for `email` in `org`. An unknown person
    /// gets a decoy challenge shaped like a real one (its credential id a
    /// keyed hash of org and email, stable across asks), which never
    /// verifies: the answer does not tell who is a member.
    pub async fn start_passkey_sign_in(
        &self,
        org: &str,
        email: &str,
    ) -> Result<PasskeyChallenge, AuthorityError> {
        let rp = self.passkeys()?;
        let org = OrgId::parse(org).map_err(|e| AuthorityError::invalid("org", e.to_string()))?;
        let email =
            normalize_email(email).map_err(|e| AuthorityError::invalid("email", e.to_string()))?;
        let member = self.inner.store.find_member_by_email(&org, &email).await?;
        let (options, payload) = match member.filter(|m| !m.passkeys.is_empty()) {
            Some(m) => {
                let challenge = rp.start_sign_in(&m.passkeys).map_err(passkey_error)?;
                let payload = SignInPayload {
                    member: Some(m.id),
                    state: Some(challenge.state),
                };
                (challenge.options, payload)
            }
            None => (
                self.decoy_options(rp, &org, &email),
                SignInPayload {
                    member: None,
                    state: None,
                },
            ),
        };
        let (ceremony, _) = self
            .put_ticket(
                &org,
                TicketPurpose::PasskeySignIn,
                CEREMONY_SECS,
                json(&payload)?,
            )
            .await?;
        Ok(PasskeyChallenge { ceremony, options })
    }

    fn decoy_options(&self, rp: &PasskeyVerifier, org: &OrgId, email: &str) -> serde_json::Value {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let keyed = self
            .inner
            .validator
            .pepper()
            .hash(&format!("passkey-decoy\n{org}\n{email}"));
        let mut challenge = [0_u8; 32];
        getrandom::fill(&mut challenge).expect("the OS CSPRNG is unavailable");
        let rp_id = rp.rp_id();
        serde_json::json!({
            "challenge": b64.encode(challenge),
            "timeout": 300000,
            "rpId": rp_id,
            "allowCredentials": [{ "type": "public-key", "id": b64.encode(&keyed.as_bytes()[..16]) }],
            "userVerification": "required",
        })
    }

    /// Finishes a passkey sign-in: verifies the answer against the
    /// member's passkeys, records the counter and last use, audits the
    /// sign-in naming the person, and starts their session.
    pub async fn finish_passkey_sign_in(
        &self,
        ceremony: &str,
        answer: &str,
        client_ip: Option<String>,
    ) -> Result<PersonSignedIn, AuthorityError> {
        let rp = self.passkeys()?;
        let refusal = "this sign-in expired or was already used; start again";
        let ticket = self
            .take_ticket(ceremony, TicketPurpose::PasskeySignIn, refusal)
            .await?;
        let payload: SignInPayload = from_json(&ticket.payload)?;
        let not_verified =
            || refused("the passkey could not be verified; try again or use another passkey");
        let (Some(member_id), Some(state)) = (payload.member, payload.state) else {
            return Err(not_verified());
        };
        let store = &self.inner.store;
        let mut member = store
            .get_member(&ticket.org, &member_id)
            .await?
            .ok_or_else(not_verified)?;
        let verified = rp
            .finish_sign_in(answer, &state, &member.passkeys)
            .map_err(passkey_error)?;
        let now = self.now();
        // The counter and last use are bookkeeping: losing a race to
        // another change of this member only costs that bookkeeping.
        for _ in 0..3 {
            if let Some(pk) = member
                .passkeys
                .iter_mut()
                .find(|p| p.id == verified.credential_id)
            {
                pk.last_used_at = Some(now);
                if let Some(updated) = &verified.updated_credential {
                    pk.credential = updated.clone();
                }
            }
            member.revision += 1;
            match store.update_member(&member, None).await {
                Err(StoreError::Conflict(_)) => {
                    member = store
                        .get_member(&ticket.org, &member_id)
                        .await?
                        .ok_or_else(not_verified)?;
                }
                other => {
                    other?;
                    break;
                }
            }
        }
        let principal = self.member_principal(&member, SignInMethod::Passkey);
        let mut event = self.admin_event(Some(&principal), &member.org, "sign_in", now);
        event.client_ip = client_ip;
        self.append_admin_event(event).await?;
        let session = self
            .start_session(&member.org, SessionActor::Member(member.id.clone()))
            .await?;
        Ok(PersonSignedIn { session, principal })
    }

    /// The org's members (owners only: the list is who can sign in).
    pub async fn list_members(&self, p: &KeyContext) -> Result<Vec<MemberRecord>, AuthorityError> {
        require(p, &Scope::AdminOrg)?;
        Ok(self.inner.store.list_members(&p.org).await?)
    }

    /// The signed-in person's own record (their passkeys).
    pub async fn own_member(&self, p: &KeyContext) -> Result<MemberRecord, AuthorityError> {
        let person = p.person.as_ref().ok_or_else(|| AuthorityError::Forbidden {
            message:
                "only a person signed in with a passkey has passkeys; the break-glass key has none"
                    .into(),
            missing: None,
        })?;
        self.inner
            .store
            .get_member(&p.org, &person.member_id)
            .await?
            .ok_or(AuthorityError::NotFound)
    }

    /// Owners change a member's role; the member's open sessions end (they
    /// sign in again into the new role). The last owner cannot be demoted.
    pub async fn change_member_role(
        &self,
        p: &KeyContext,
        member: &str,
        role: Role,
    ) -> Result<MemberRecord, AuthorityError> {
        require(p, &Scope::AdminOrg)?;
        let id = MemberId::parse(member).ok_or(AuthorityError::NotFound)?;
        let store = &self.inner.store;
        let mut record = store
            .get_member(&p.org, &id)
            .await?
            .ok_or(AuthorityError::NotFound)?;
        if record.role == role {
            return Ok(record);
        }
        if record.role == Role::Owner {
            self.keep_an_owner(&p.org, &id).await?;
        }
        let before = record.role;
        record.role = role;
        record.revision += 1;
        let mut event = self.admin_event(Some(p), &p.org, "member_role", self.now());
        event.subject = Some(id.to_string());
        event.reason = Some(format!("{} -> {}", before.as_str(), role.as_str()));
        self.with_admin_event(event, |ev| {
            let record = &record;
            async move {
                store
                    .update_member(record, Some(&ev))
                    .await
                    .map(|()| ((), true))
            }
        })
        .await?;
        self.end_sessions_of(&p.org, &SessionActor::Member(id))
            .await?;
        Ok(record)
    }

    /// Owners remove a member: their sessions end at once everywhere and
    /// their passkeys stop working. The last owner cannot be removed.
    pub async fn remove_member(&self, p: &KeyContext, member: &str) -> Result<(), AuthorityError> {
        require(p, &Scope::AdminOrg)?;
        let id = MemberId::parse(member).ok_or(AuthorityError::NotFound)?;
        let store = &self.inner.store;
        let record = store
            .get_member(&p.org, &id)
            .await?
            .ok_or(AuthorityError::NotFound)?;
        if record.role == Role::Owner {
            self.keep_an_owner(&p.org, &id).await?;
        }
        let mut event = self.admin_event(Some(p), &p.org, "member_remove", self.now());
        event.subject = Some(id.to_string());
        event.reason = Some(record.email.clone());
        let org = p.org.clone();
        let removed = self
            .with_admin_event(event, |ev| {
                let (org, id) = (&org, &id);
                async move {
                    let removed = store.delete_member(org, id, &ev).await?;
                    Ok((removed, removed))
                }
            })
            .await?;
        if !removed {
            return Err(AuthorityError::NotFound);
        }
        self.end_sessions_of(&p.org, &SessionActor::Member(id))
            .await?;
        Ok(())
    }

    async fn keep_an_owner(&self, org: &OrgId, leaving: &MemberId) -> Result<(), AuthorityError> {
        let owners = self
            .inner
            .store
            .list_members(org)
            .await?
            .into_iter()
            .filter(|m| m.role == Role::Owner && &m.id != leaving)
            .count();
        if owners == 0 {
            return Err(AuthorityError::Conflict(
                "an org keeps at least one owner: make someone else owner first".into(),
            ));
        }
        Ok(())
    }

    /// A signed-in person starts registering another passkey.
    pub async fn start_adding_passkey(
        &self,
        p: &KeyContext,
        passkey_name: &str,
    ) -> Result<PasskeyChallenge, AuthorityError> {
        let rp = self.passkeys()?;
        let member = self.own_member(p).await?;
        if member.passkeys.len() >= MAX_PASSKEYS {
            return Err(AuthorityError::Conflict(format!(
                "a person may register at most {MAX_PASSKEYS} passkeys; remove one first"
            )));
        }
        let challenge = rp
            .start_registration(member.user_handle, &member.email, &member.passkeys)
            .map_err(passkey_error)?;
        let payload = json(&RegistrationPayload {
            invitation: None,
            member: Some(member.id.clone()),
            email: member.email.clone(),
            role: member.role,
            user_handle: member.user_handle,
            passkey_name: check_passkey_name(passkey_name)?,
            state: challenge.state,
        })?;
        let (ceremony, _) = self
            .put_ticket(
                &p.org,
                TicketPurpose::PasskeyRegistration,
                CEREMONY_SECS,
                payload,
            )
            .await?;
        Ok(PasskeyChallenge {
            ceremony,
            options: challenge.options,
        })
    }

    /// Finishes adding a passkey (audited).
    pub async fn finish_adding_passkey(
        &self,
        p: &KeyContext,
        ceremony: &str,
        answer: &str,
    ) -> Result<MemberRecord, AuthorityError> {
        let rp = self.passkeys()?;
        let ticket = self
            .take_ticket(
                ceremony,
                TicketPurpose::PasskeyRegistration,
                "this registration expired; start again",
            )
            .await?;
        let reg: RegistrationPayload = from_json(&ticket.payload)?;
        let own = self.own_member(p).await?;
        if reg.member.as_ref() != Some(&own.id) || ticket.org != p.org {
            return Err(refused("this registration belongs to someone else"));
        }
        let (credential_id, credential) = rp
            .finish_registration(answer, &reg.state)
            .map_err(passkey_error)?;
        let now = self.now();
        let name = reg.passkey_name;
        self.change_own_passkeys(p, "passkey_add", &name, |m| {
            if m.passkeys.len() >= MAX_PASSKEYS {
                return Err(AuthorityError::Conflict(format!(
                    "a person may register at most {MAX_PASSKEYS} passkeys; remove one first"
                )));
            }
            m.passkeys.push(PasskeyRecord {
                id: credential_id.clone(),
                name: name.clone(),
                created_at: now,
                last_used_at: None,
                credential: credential.clone(),
            });
            Ok(())
        })
        .await
    }

    /// Removes one of the signed-in person's passkeys (never the last).
    pub async fn remove_own_passkey(
        &self,
        p: &KeyContext,
        passkey_id: &str,
    ) -> Result<MemberRecord, AuthorityError> {
        self.change_own_passkeys(p, "passkey_remove", passkey_id, |m| {
            let before = m.passkeys.len();
            if m.passkey(passkey_id).is_none() {
                return Err(AuthorityError::NotFound);
            }
            if before == 1 {
                return Err(AuthorityError::Conflict(
                    "this is your only passkey: add another before removing it".into(),
                ));
            }
            m.passkeys.retain(|pk| pk.id != passkey_id);
            Ok(())
        })
        .await
    }

    async fn change_own_passkeys(
        &self,
        p: &KeyContext,
        action: &str,
        subject: &str,
        change: impl Fn(&mut MemberRecord) -> Result<(), AuthorityError>,
    ) -> Result<MemberRecord, AuthorityError> {
        let store = &self.inner.store;
        for _ in 0..3 {
            let mut member = self.own_member(p).await?;
            change(&mut member)?;
            member.revision += 1;
            let mut event = self.admin_event(Some(p), &p.org, action, self.now());
            event.subject = Some(subject.to_owned());
            let outcome = self
                .with_admin_event(event, |ev| {
                    let member = &member;
                    async move {
                        match store.update_member(member, Some(&ev)).await {
                            Ok(()) => Ok((true, true)),
                            Err(StoreError::Conflict(_)) => Ok((false, false)),
                            Err(e) => Err(e),
                        }
                    }
                })
                .await?;
            if outcome {
                return Ok(member);
            }
        }
        Err(AuthorityError::Conflict(
            "your passkeys changed meanwhile; try again".into(),
        ))
    }
}
