//! Leaked-key reports (the secret scanning partner endpoint): a verified
//! report's tokens are looked up by their keyed hash and each key of this
//! authority is revoked, or held in quarantine, as the server is set up to,
//! with the leak's URL in the audit trail.

use sha2::{Digest, Sha256};

use super::Authority;
use crate::error::AuthorityError;
use crate::guardrails::leaks::{LeakReport, LeakReportError};
use crate::keys;
use crate::revocation::KeyChange;
use crate::store::{KeyRecord, Revocation};
use model::wire::{LeakVerdict, QuarantineRule, QuarantineView};

/// What the authority does with a key reported leaked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LeakResponse {
    /// Revoke it (and its derived keys): the default.
    #[default]
    Revoke,
    /// Hold it in quarantine for a person to decide.
    Quarantine,
}

/// Why a leak report was not handled.
#[derive(Debug, thiserror::Error)]
pub enum LeakError {
    #[error(transparent)]
    Report(#[from] LeakReportError),
    #[error(transparent)]
    Authority(#[from] AuthorityError),
}

impl Authority {
    /// `POST /api/v1/leaks/github`: verifies the report's signature over
    /// `body`, then answers one verdict per token: `true_positive` for a
    /// key of this authority (revoked or held now, or already dead), else
    /// `false_positive`. Tokens are named in the answer by their SHA-256,
    /// never echoed.
    pub async fn receive_leak_report(
        &self,
        key_id: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<Vec<LeakVerdict>, LeakError> {
        let reports = self.inner.leaks.keys.open(key_id, signature, body)?;
        let mut verdicts = Vec::with_capacity(reports.len());
        for report in &reports {
            let ours = self.respond_to_leak(report).await?;
            verdicts.push(LeakVerdict {
                token_hash: model::hex::encode(&Sha256::digest(report.token.as_bytes())),
                token_type: model::text::quote_input(&report.token_type, 100),
                label: if ours {
                    "true_positive"
                } else {
                    "false_positive"
                }
                .to_owned(),
            });
        }
        Ok(verdicts)
    }

    /// Whether the token is a key of this authority; if it is, it is
    /// revoked or held, and the leak is in its org's trail either way.
    async fn respond_to_leak(&self, report: &LeakReport) -> Result<bool, AuthorityError> {
        let Ok(parsed) = keys::parse(report.token.trim()) else {
            return Ok(false);
        };
        let hash = self.inner.validator.pepper().hash(parsed.expose_secret());
        if !parsed.kind().is_bearer() {
            // A refresh token: its whole grant ends (whatever the setting:
            // a refresh token has no quarantine, only its grant).
            return self.end_leaked_grant(&hash, report).await;
        }
        let Some(key) = self
            .inner
            .store
            .find_key_by_hash(&hash)
            .await?
            .filter(|k| k.hash == hash)
        else {
            return Ok(false);
        };
        let place = format!("found at {}", where_found(report));
        self.record_leak(&key.org, key.id.to_string(), key.agent.clone(), &place)
            .await?;
        match self.leak_response_of(&key.org).await? {
            LeakResponse::Revoke => self.revoke_leaked(&key, place).await?,
            LeakResponse::Quarantine => self.hold_leaked(&key, place).await?,
        }
        Ok(true)
    }

    async fn end_leaked_grant(
        &self,
        hash: &crate::keys::KeyHash,
        report: &LeakReport,
    ) -> Result<bool, AuthorityError> {
        let Some(refresh) = self.inner.store.find_refresh(hash).await? else {
            return Ok(false);
        };
        let Some(grant) = self.inner.store.get_grant(&refresh.grant).await? else {
            return Ok(false);
        };
        let place = format!("refresh token found at {}", where_found(report));
        self.record_leak(
            &grant.org,
            grant.id.to_string(),
            grant.agent.clone(),
            &place,
        )
        .await?;
        self.end_grant(&grant, None, &format!("leaked: {place}"))
            .await?;
        Ok(true)
    }

    /// The `leak_reported` event in the org of what leaked.
    async fn record_leak(
        &self,
        org: &crate::ids::OrgId,
        subject: String,
        agent: Option<String>,
        place: &str,
    ) -> Result<(), AuthorityError> {
        let mut event = self.admin_event(None, org, "leak_reported", self.now());
        event.subject = Some(subject);
        event.subject_agent = agent;
        event.reason = Some(place.to_owned());
        Ok(self.append_admin_event(event).await?)
    }

    async fn revoke_leaked(&self, key: &KeyRecord, place: String) -> Result<(), AuthorityError> {
        let now = self.now();
        let rev = Revocation {
            at: now,
            by: "system".to_owned(),
            reason: Some(format!("leaked: {place}")),
        };
        let mut event = self.admin_event(None, &key.org, "revoke", now);
        event.subject = Some(key.id.to_string());
        event.subject_agent = key.agent.clone();
        event.reason = rev.reason.clone();
        self.revoke_tree(&key.org, &key.id, &rev, event).await?;
        Ok(())
    }

    async fn hold_leaked(&self, key: &KeyRecord, place: String) -> Result<(), AuthorityError> {
        let now = self.now();
        let hold = QuarantineView {
            at: now,
            rule: QuarantineRule::Leaked,
            evidence: place.clone(),
            by: "system".to_owned(),
            source: None,
        };
        let mut event = self.admin_event(None, &key.org, "quarantine", now);
        event.subject = Some(key.id.to_string());
        event.subject_agent = key.agent.clone();
        event.reason = Some(format!("leaked: {place}"));
        self.apply_hold(key, Some(&hold), KeyChange::Quarantined, event)
            .await
            .map(drop)
    }
}

/// Where a scanner found a token, as the trail records it: the scanner's
/// text, quoted and bounded.
fn where_found(report: &LeakReport) -> String {
    format!(
        "{} ({})",
        model::text::quote_input(&report.url, 300),
        model::text::quote_input(&report.source, 100)
    )
}
