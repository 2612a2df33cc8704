//! Sealing: signing the heads of this process's chains at a fixed interval
//! and on shutdown, and noticing when the store lost what was sealed.
//!
//! A round reads, per org whose heads moved, the org's chains (one store
//! query), compares what this process sealed before with what the store
//! holds now (a missing or replaced seal means someone wrote the database
//! behind the authority: logged, counted, and recorded as an
//! `audit_tamper_detected` event), and signs one seal per moved chain,
//! naming every writer of the org known so far. The round's seals are then
//! written together (one commit per [`MAX_SEALS_PER_CALL`]), so sealing
//! costs the store's writer one commit per interval, not one per org.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::Authority;
use crate::audit::heads::{Head, Unsealed};
use crate::audit::{ChainInfo, Seal, SealTrust};
use crate::error::AuthorityError;
use crate::ids::OrgId;
use crate::stats::Stats;
use crate::store::MAX_SEALS_PER_CALL;

impl Authority {
    /// The public key this deployment's seals verify with (derived from the
    /// pepper; print it with `acekeys audit seal-key` to pin it elsewhere).
    pub fn seal_trust(&self) -> SealTrust {
        self.inner.seal_key.trust()
    }

    /// Signs and stores the head of every chain of this process that moved
    /// since its last seal. Runs every `seal_interval` on its own; call it
    /// on shutdown so the newest events are sealed too. Returns how many
    /// seals were written.
    pub async fn seal_chains(&self) -> Result<usize, AuthorityError> {
        let _one_round = self.inner.sealing.lock().await;
        let mut by_org: BTreeMap<OrgId, Vec<Unsealed>> = BTreeMap::new();
        for chain in self.inner.heads.unsealed() {
            by_org.entry(chain.org.clone()).or_default().push(chain);
        }
        let mut seals = Vec::new();
        for (org, chains) in by_org {
            seals.extend(self.seal_org(&org, chains).await?);
        }
        for batch in seals.chunks(MAX_SEALS_PER_CALL) {
            self.inner.store.seal_audit_chains(batch).await?;
            for seal in batch {
                let head = Head {
                    seq: seal.seq,
                    hash: seal.hash,
                };
                self.inner.heads.mark_sealed(&seal.org, &seal.writer, head);
            }
            Stats::add(&self.inner.stats.audit_seals, batch.len() as u64);
        }
        Ok(seals.len())
    }

    /// Signs the moved chains of one org (written by the caller).
    async fn seal_org(
        &self,
        org: &OrgId,
        chains: Vec<Unsealed>,
    ) -> Result<Vec<Seal>, AuthorityError> {
        let store = &self.inner.store;
        let stored = store.audit_chains(Some(org)).await?;
        self.check_own_seals(org, &stored).await;
        let trust = self.seal_trust();
        let seen = stored.iter().flat_map(|c| {
            let from_seal = c
                .seal
                .as_ref()
                .filter(|s| s.is_signed_by(&trust))
                .map(|s| s.writers.clone())
                .unwrap_or_default();
            std::iter::once(c.writer.clone()).chain(from_seal)
        });
        // This round's own chains count too: a chain's first seal may come
        // before the store lists it.
        let own = chains.iter().map(|c| c.writer.clone());
        let writers = self.inner.heads.remember_writers(org, seen.chain(own));
        let now = self.now();
        let seals = chains
            .iter()
            .map(|c| {
                self.inner.seal_key.seal(
                    org.clone(),
                    c.writer.clone(),
                    c.head.seq,
                    c.head.hash,
                    writers.clone(),
                    now,
                )
            })
            .collect();
        Ok(seals)
    }

    /// Only this process writes its chains' seals, so the store must still
    /// hold each one it wrote (or a newer one of its own).
    async fn check_own_seals(&self, org: &OrgId, stored: &[ChainInfo]) {
        for (writer, sealed) in self.inner.heads.sealed_of(org) {
            let now_stored = stored
                .iter()
                .find(|c| c.writer == writer)
                .and_then(|c| c.seal.as_ref());
            let intact = now_stored.is_some_and(|s| {
                s.seq > sealed.seq || (s.seq == sealed.seq && s.hash == sealed.hash)
            });
            if !intact {
                self.report_tamper(org, &writer, sealed, now_stored.map(|s| s.seq))
                    .await;
            }
        }
    }

    async fn report_tamper(&self, org: &OrgId, writer: &str, sealed: Head, found: Option<u64>) {
        Stats::add(&self.inner.stats.audit_tamper_detected, 1);
        let found = found.map_or("no seal".to_owned(), |s| format!("a seal at {s}"));
        let reason = format!(
            "chain {writer} was sealed at sequence {} by this server, but the store now holds {found}: \
             the database was changed outside acekeys; run `acekeys audit verify`",
            sealed.seq
        );
        tracing::error!(org = %org, writer, "audit trail tampered with: {reason}");
        let mut body = self.admin_event(None, org, "audit_tamper_detected", self.now());
        body.decision = crate::audit::Decision::Denied;
        body.subject = Some(writer.to_owned());
        body.reason = Some(reason);
        if let Err(error) = self.append_admin_event(body).await {
            tracing::error!(%error, "could not record the tamper event");
        }
        // Sealed again on the next round, from the head this process holds.
        self.inner.heads.forget_seal(org, writer);
    }
}

/// Seals every `interval` until the authority is dropped.
pub(super) fn spawn_sealer(authority: &Authority, interval: Duration) {
    let weak = Arc::downgrade(&authority.inner);
    let mut stop = authority.inner._stop.subscribe();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => return,
            }
            let Some(inner) = weak.upgrade() else { return };
            if let Err(error) = (Authority { inner }).seal_chains().await {
                tracing::warn!(%error, "could not seal the audit chains this round; retrying");
            }
        }
    });
}
