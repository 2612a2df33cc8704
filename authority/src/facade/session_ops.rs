//! What the dashboard's sessions ask of the authority: starting, resuming
//! and ending a session (stored, see [`crate::sessions`]), is the key
//! behind a session still good, and what may it grant when minting.

use super::Authority;
use crate::error::{AuthorityError, SessionEnd, Unauthenticated};
use crate::ids::{KeyId, OrgId};
use crate::policy::KeyContext;
use crate::scopes::Scope;
use crate::sessions::{SessionActor, SessionRecord, SessionTimeouts, SessionToken};
use crate::store::KeyStatus;
use crate::time::Timestamp;
use std::sync::atomic::Ordering;

/// What the new-key form may offer the signed-in principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintLimits {
    /// Whether `never` may be chosen (org allows it and the principal never expires).
    pub never_allowed: bool,
    /// No key may outlive this (the principal's own expiry).
    pub latest_expiry: Option<Timestamp>,
    /// Set when the principal is agent-bound: minted keys must carry it.
    pub agent: Option<String>,
}

/// Expired sessions are swept at most this often (on a sign-in).
const SWEEP_EVERY_MS: i64 = 10 * 60 * 1000;

impl Authority {
    pub fn session_timeouts(&self) -> SessionTimeouts {
        self.inner.session_timeouts
    }

    /// Starts a dashboard session for a key or a person who just signed in
    /// (the caller checked them); returns the token for the cookie, its
    /// only copy.
    pub async fn start_session(
        &self,
        org: &OrgId,
        actor: SessionActor,
    ) -> Result<SessionToken, AuthorityError> {
        let now = self.now();
        self.sweep_sessions_now_and_then(now).await;
        let token = SessionToken::generate();
        let session = SessionRecord {
            actor,
            org: org.clone(),
            created_at: now,
            last_seen_at: now,
        };
        self.inner
            .store
            .create_session(&token.hash(), &session)
            .await?;
        Ok(token)
    }

    /// The live session behind a cookie: `None` when there is none or it
    /// timed out (then it is deleted). Writes the last-seen mark at most
    /// once a minute, so most requests only read.
    pub async fn resume_session(
        &self,
        token: &SessionToken,
    ) -> Result<Option<SessionRecord>, AuthorityError> {
        let hash = token.hash();
        let store = &self.inner.store;
        let Some(session) = store.get_session(&hash).await? else {
            return Ok(None);
        };
        let now = self.now();
        if self.inner.session_timeouts.check(&session, now).is_err() {
            store.delete_session(&hash).await?;
            return Ok(None);
        }
        if session.needs_touch(now) {
            store.touch_session(&hash, now).await?;
        }
        Ok(Some(session))
    }

    /// Sign-out.
    pub async fn end_session(&self, token: &SessionToken) -> Result<(), AuthorityError> {
        Ok(self.inner.store.delete_session(&token.hash()).await?)
    }

    /// Ends every session of a key or person that can no longer sign in.
    pub async fn end_sessions_of(
        &self,
        org: &OrgId,
        actor: &SessionActor,
    ) -> Result<u64, AuthorityError> {
        Ok(self.inner.store.delete_sessions_of(org, actor).await?)
    }

    async fn sweep_sessions_now_and_then(&self, now: Timestamp) {
        let last = &self.inner.last_session_sweep;
        let previous = last.load(Ordering::Relaxed);
        if now.as_millis() - previous < SWEEP_EVERY_MS
            || last
                .compare_exchange(
                    previous,
                    now.as_millis(),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_err()
        {
            return;
        }
        let t = self.inner.session_timeouts;
        let swept = self
            .inner
            .store
            .sweep_sessions(now.plus_secs(-t.absolute_secs), now.plus_secs(-t.idle_secs))
            .await;
        if let Err(error) = swept {
            tracing::warn!(%error, "could not sweep expired sessions");
        }
        if let Err(error) = self.inner.store.sweep_tickets(now).await {
            tracing::warn!(%error, "could not sweep expired invitations and challenges");
        }
    }

    /// The principal behind a dashboard session, loaded fresh on every
    /// request: a person while they are a member (acting with their role's
    /// scopes as they are now), or a break-glass key while it is active, in
    /// its org, and still holds `admin:org`. Anything else answers
    /// `Unauthenticated`, and the caller ends the session.
    pub async fn session_principal(
        &self,
        session: &SessionRecord,
    ) -> Result<KeyContext, AuthorityError> {
        match &session.actor {
            SessionActor::Key(key_id) => self.key_session_principal(key_id, &session.org).await,
            SessionActor::Member(member_id) => {
                let member = self
                    .inner
                    .store
                    .get_member(&session.org, member_id)
                    .await?
                    .ok_or(AuthorityError::Unauthenticated(
                        Unauthenticated::SessionEnded(SessionEnd::MemberGone),
                    ))?;
                Ok(self.member_principal(&member, model::people::SignInMethod::Passkey))
            }
        }
    }

    async fn key_session_principal(
        &self,
        key_id: &KeyId,
        org: &OrgId,
    ) -> Result<KeyContext, AuthorityError> {
        let ended = |why| AuthorityError::Unauthenticated(Unauthenticated::SessionEnded(why));
        let record = self
            .inner
            .store
            .get_key(org, key_id)
            .await?
            .filter(|k| &k.org == org)
            .ok_or_else(|| ended(SessionEnd::KeyGone))?;
        match record.status(self.now()) {
            KeyStatus::Active => {}
            KeyStatus::Revoked => return Err(ended(SessionEnd::KeyRevoked)),
            KeyStatus::Expired => return Err(ended(SessionEnd::KeyExpired)),
            KeyStatus::Quarantined => return Err(ended(SessionEnd::KeyQuarantined)),
        }
        let ctx = KeyContext::from_record(&record);
        if !ctx.allows(&Scope::AdminOrg) {
            return Err(ended(SessionEnd::NotAdmin));
        }
        Ok(ctx)
    }

    /// Limits the new-key form shows; the mint rules enforce the same.
    pub async fn mint_limits(&self, p: &KeyContext) -> Result<MintLimits, AuthorityError> {
        let org = self
            .inner
            .store
            .get_org(&p.org)
            .await?
            .ok_or(AuthorityError::NotFound)?;
        Ok(MintLimits {
            never_allowed: org.allow_never_expiry && p.expires_at.is_none(),
            latest_expiry: p.expires_at,
            agent: p.agent.clone(),
        })
    }
}
