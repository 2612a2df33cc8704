//! Hash chains over audit events, and their verification.
//!
//! `hash = SHA-256("acekeys-audit-v1" ‖ prev_hash ‖ writer ‖ seq ‖ id ‖ every
//! event field)`, each variable-length field length-prefixed and each optional
//! field tagged, so no two different events encode to the same bytes.
//!
//! [`ChainVerifier`] walks one chain in sequence order and reports:
//! - **modified**: an event's fields no longer match its hash;
//! - **missing**: a gap in sequence numbers (a deleted event);
//! - **duplicate**: a sequence number seen twice (an inserted event);
//! - **broken link**: `prev_hash` is not the previous event's hash (an event
//!   inserted with a forged sequence, or events reordered);
//! - against the chain's [seal](super::seal) (a signed head): **truncated**
//!   (the chain ends before the sealed sequence number), **seal mismatch**
//!   (the event there no longer has the sealed hash: the chain was rewritten
//!   with recomputed hashes), and, from the facade, **bad seal** (not signed
//!   by the trusted key) and **chain deleted** (a writer a seal names has no
//!   chain left, or a registered chain has no events and no checkpoint).
//!
//! Limits: events after a chain's newest seal can be dropped unseen, and a
//! retention checkpoint is not signed (see the README's threat model).

use std::collections::HashMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::ids::{EventId, OrgId};
use model::audit::{AuditEvent, ChainHash, ChainLink, Checkpoint, NewEvent};

const DOMAIN: &[u8] = b"acekeys-audit-v1";

fn put_bytes(h: &mut Sha256, b: &[u8]) {
    h.update((b.len() as u64).to_be_bytes());
    h.update(b);
}

fn put_opt(h: &mut Sha256, s: Option<&str>) {
    match s {
        None => h.update([0u8]),
        Some(s) => {
            h.update([1u8]);
            put_bytes(h, s.as_bytes());
        }
    }
}

/// The hash of an event at (`writer`, `seq`) following `prev`.
pub fn event_hash(
    id: &EventId,
    e: &NewEvent,
    writer: &str,
    seq: u64,
    prev: &ChainHash,
) -> ChainHash {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(prev.0);
    put_bytes(&mut h, writer.as_bytes());
    h.update(seq.to_be_bytes());
    put_bytes(&mut h, id.as_str().as_bytes());
    h.update(e.ts.as_millis().to_be_bytes());
    put_bytes(&mut h, e.org.as_str().as_bytes());
    put_opt(&mut h, e.actor_key_id.as_ref().map(|k| k.as_str()));
    put_opt(&mut h, e.agent.as_deref());
    put_bytes(&mut h, e.kind.as_str().as_bytes());
    put_bytes(&mut h, e.action.as_bytes());
    put_opt(&mut h, e.required_scope.as_deref());
    put_bytes(&mut h, e.decision.as_str().as_bytes());
    put_opt(&mut h, e.reason.as_deref());
    put_opt(&mut h, e.subject.as_deref());
    put_opt(&mut h, e.server.as_deref());
    put_opt(&mut h, e.request_id.as_deref());
    put_opt(&mut h, e.client_ip.as_deref());
    match e.latency_us {
        None => h.update([0u8]),
        Some(l) => {
            h.update([1u8]);
            h.update(l.to_be_bytes());
        }
    }
    // Added after the first chains were written: hashed only when present,
    // so every event written before it still verifies.
    if let Some(reporter) = &e.reported_by {
        h.update([2u8]);
        put_bytes(&mut h, reporter.as_str().as_bytes());
    }
    // Added with members, likewise hashed only when present.
    if let Some(person) = &e.person {
        h.update([3u8]);
        put_bytes(&mut h, person.member_id.as_str().as_bytes());
        put_bytes(&mut h, person.email.as_bytes());
        put_bytes(&mut h, person.role.as_str().as_bytes());
        put_bytes(&mut h, person.method.as_str().as_bytes());
    }
    // Added with "everything about this agent", likewise.
    if let Some(agent) = &e.subject_agent {
        h.update([4u8]);
        put_bytes(&mut h, agent.as_bytes());
    }
    let out = h.finalize();
    let mut b = [0u8; 32];
    b.copy_from_slice(&out);
    ChainHash(b)
}

/// The in-memory heads of one writer's chains, one per org.
///
/// Links are computed on a copy and only [`commit`](Self::commit)ted once the
/// store confirms the write, so a failed write never leaves a gap.
#[derive(Debug, Clone)]
pub(crate) struct ChainState {
    base: String,
    restarts: u32,
    writer: String,
    heads: HashMap<OrgId, (u64, ChainHash)>,
}

impl ChainState {
    pub(crate) fn new(writer: String) -> Self {
        Self {
            base: writer.clone(),
            restarts: 0,
            writer,
            heads: HashMap::new(),
        }
    }

    /// New chains (writer `<base>-r<n>`) after a write whose outcome is
    /// unknown: a store that timed out may still have committed it, and the
    /// next event must not collide with one already stored. The old chains
    /// simply end there, whichever way the write went.
    pub(crate) fn restarted(&self) -> Self {
        let restarts = self.restarts + 1;
        Self {
            base: self.base.clone(),
            restarts,
            writer: format!("{}-r{restarts}", self.base),
            heads: HashMap::new(),
        }
    }

    /// Places `body` after the current head of its org's chain (in `self`,
    /// which the caller treats as scratch until commit).
    pub(crate) fn place(&mut self, id: EventId, body: NewEvent) -> AuditEvent {
        let (seq, prev) = self
            .heads
            .get(&body.org)
            .copied()
            .unwrap_or((0, ChainHash::GENESIS));
        let seq = seq + 1;
        let hash = event_hash(&id, &body, &self.writer, seq, &prev);
        self.heads.insert(body.org.clone(), (seq, hash));
        AuditEvent {
            id,
            body,
            chain: ChainLink {
                writer: self.writer.clone(),
                seq,
                prev_hash: prev,
                hash,
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    Modified,
    Missing,
    Duplicate,
    BrokenLink,
    /// The chain ends before the sequence number its seal signed.
    Truncated,
    /// The event at the sealed sequence number has another hash.
    SealMismatch,
    /// The chain's seal is not signed by the trusted key.
    BadSeal,
    /// A chain that existed (named by a seal, or registered) has no events
    /// and no checkpoint left.
    ChainDeleted,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainProblem {
    pub seq: u64,
    pub kind: ProblemKind,
    pub event_id: Option<EventId>,
}

/// The outcome for one (org, writer) chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    pub org: OrgId,
    pub writer: String,
    /// Sequence the walk started after (the checkpoint, or 0).
    pub from_seq: u64,
    pub events: u64,
    pub last_seq: u64,
    /// The sequence number of the chain's newest valid seal, if any.
    pub sealed_seq: Option<u64>,
    /// Events after that seal (all of them when there is none): the ones a
    /// database writer could still drop unseen.
    pub unsealed_events: u64,
    /// Up to 20 problems, in sequence order.
    pub problems: Vec<ChainProblem>,
}

impl ChainReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub ok: bool,
    pub events: u64,
    /// Events after their chain's newest seal, summed over chains.
    pub unsealed_events: u64,
    /// The public key seals were checked against (hex).
    pub seal_key: String,
    pub chains: Vec<ChainReport>,
}

impl VerifyReport {
    pub(crate) fn from_chains(chains: Vec<ChainReport>, seal_key: String) -> Self {
        Self {
            ok: chains.iter().all(ChainReport::ok),
            events: chains.iter().map(|c| c.events).sum(),
            unsealed_events: chains.iter().map(|c| c.unsealed_events).sum(),
            seal_key,
            chains,
        }
    }
}

/// Walks one chain in ascending sequence order.
pub struct ChainVerifier {
    report: ChainReport,
    expect_seq: u64,
    expect_prev: ChainHash,
    /// The head a valid seal signed: (seq, hash).
    sealed: Option<(u64, ChainHash)>,
    had_checkpoint: bool,
}

const MAX_PROBLEMS: usize = 20;

impl ChainVerifier {
    pub fn new(org: OrgId, writer: String, checkpoint: Option<&Checkpoint>) -> Self {
        let (from, prev) = checkpoint.map_or((0, ChainHash::GENESIS), |c| (c.seq, c.hash));
        Self {
            report: ChainReport {
                org,
                writer,
                from_seq: from,
                events: 0,
                last_seq: from,
                sealed_seq: None,
                unsealed_events: 0,
                problems: vec![],
            },
            expect_seq: from + 1,
            expect_prev: prev,
            sealed: None,
            had_checkpoint: checkpoint.is_some(),
        }
    }

    /// Checks the chain against a head whose seal has been verified.
    pub fn expect_seal(&mut self, seq: u64, hash: ChainHash) {
        self.sealed = Some((seq, hash));
        self.report.sealed_seq = Some(seq);
        // A seal at or before the checkpoint pinned events retention has
        // since removed; only an exact match can still be compared (at seq 0,
        // with no checkpoint, that is the genesis hash).
        if seq == self.report.from_seq && hash != self.expect_prev {
            self.problem(seq, ProblemKind::SealMismatch, None);
        }
    }

    /// Records a problem found outside the walk (a bad seal).
    pub fn flag(&mut self, seq: u64, kind: ProblemKind) {
        self.problem(seq, kind, None);
    }

    fn problem(&mut self, seq: u64, kind: ProblemKind, id: Option<&EventId>) {
        if self.report.problems.len() < MAX_PROBLEMS {
            self.report.problems.push(ChainProblem {
                seq,
                kind,
                event_id: id.cloned(),
            });
        }
    }

    pub fn feed(&mut self, e: &AuditEvent) {
        self.report.events += 1;
        let c = &e.chain;
        let recomputed = event_hash(&e.id, &e.body, &c.writer, c.seq, &c.prev_hash);
        if recomputed != c.hash || c.writer != self.report.writer || e.body.org != self.report.org {
            self.problem(c.seq, ProblemKind::Modified, Some(&e.id));
        }
        if c.seq < self.expect_seq {
            self.problem(c.seq, ProblemKind::Duplicate, Some(&e.id));
        } else if c.seq > self.expect_seq {
            self.problem(self.expect_seq, ProblemKind::Missing, None);
        }
        if c.prev_hash != self.expect_prev {
            self.problem(c.seq, ProblemKind::BrokenLink, Some(&e.id));
        }
        match self.sealed {
            Some((seq, hash)) if c.seq == seq && c.hash != hash => {
                self.problem(c.seq, ProblemKind::SealMismatch, Some(&e.id));
            }
            Some((seq, _)) if c.seq <= seq => {}
            _ => self.report.unsealed_events += 1,
        }
        self.expect_prev = c.hash;
        self.expect_seq = c.seq.max(self.expect_seq.saturating_sub(1)) + 1;
        self.report.last_seq = self.report.last_seq.max(c.seq);
    }

    pub fn finish(mut self) -> ChainReport {
        if self.report.events == 0 && !self.had_checkpoint {
            self.problem(1, ProblemKind::ChainDeleted, None);
        }
        if let Some((seq, _)) = self.sealed {
            if seq > self.report.last_seq {
                self.problem(self.report.last_seq + 1, ProblemKind::Truncated, None);
            }
        }
        self.report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Decision, EventKind};
    use crate::ids::{KeyId, MemberId};
    use crate::time::Timestamp;

    fn chain(n: usize) -> Vec<AuditEvent> {
        let mut st = ChainState::new("w1".into());
        (0..n)
            .map(|i| {
                let mut e = NewEvent::new(
                    Timestamp::from_millis(1000 + i as i64),
                    OrgId::parse("acme").unwrap(),
                    EventKind::ToolCall,
                    "search",
                    Decision::Allowed,
                );
                e.latency_us = Some(i as u64);
                st.place(EventId::generate(), e)
            })
            .collect()
    }

    fn verify(events: &[AuditEvent], cp: Option<&Checkpoint>) -> ChainReport {
        let mut v = ChainVerifier::new(OrgId::parse("acme").unwrap(), "w1".into(), cp);
        for e in events {
            v.feed(e);
        }
        v.finish()
    }

    fn kinds(r: &ChainReport) -> Vec<ProblemKind> {
        r.problems.iter().map(|p| p.kind).collect()
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(10);
        let r = verify(&c, None);
        assert!(r.ok(), "{r:?}");
        assert_eq!(r.events, 10);
        assert_eq!(r.last_seq, 10);
    }

    #[test]
    fn modification_is_detected() {
        let mut c = chain(5);
        c[2].body.decision = Decision::Denied;
        assert_eq!(kinds(&verify(&c, None)), [ProblemKind::Modified]);
    }

    #[test]
    fn deletion_is_detected() {
        let mut c = chain(5);
        c.remove(2);
        let k = kinds(&verify(&c, None));
        assert!(
            k.contains(&ProblemKind::Missing) && k.contains(&ProblemKind::BrokenLink),
            "{k:?}"
        );
    }

    #[test]
    fn insertion_is_detected() {
        let mut c = chain(5);
        let mut forged = c[2].clone();
        forged.id = EventId::generate();
        forged.chain.hash = event_hash(&forged.id, &forged.body, "w1", 3, &forged.chain.prev_hash);
        c.insert(3, forged);
        let k = kinds(&verify(&c, None));
        assert!(
            k.contains(&ProblemKind::Duplicate) || k.contains(&ProblemKind::BrokenLink),
            "{k:?}"
        );
    }

    #[test]
    fn reordering_is_detected() {
        let mut c = chain(5);
        // Swap positions and sequence numbers of two events.
        let (s1, s3) = (c[1].chain.seq, c[3].chain.seq);
        c.swap(1, 3);
        c[1].chain.seq = s1;
        c[3].chain.seq = s3;
        assert!(!verify(&c, None).ok());
    }

    #[test]
    fn suffix_verifies_from_checkpoint() {
        let c = chain(6);
        let cp = Checkpoint {
            seq: 3,
            hash: c[2].chain.hash,
            pruned_at: Timestamp::from_millis(0),
        };
        assert!(verify(&c[3..], Some(&cp)).ok());
        assert!(!verify(&c[3..], None).ok());
        let wrong = Checkpoint {
            hash: c[1].chain.hash,
            ..cp
        };
        assert!(!verify(&c[3..], Some(&wrong)).ok());
    }

    fn verify_sealed(events: &[AuditEvent], seq: u64, hash: ChainHash) -> ChainReport {
        let mut v = ChainVerifier::new(OrgId::parse("acme").unwrap(), "w1".into(), None);
        v.expect_seal(seq, hash);
        for e in events {
            v.feed(e);
        }
        v.finish()
    }

    #[test]
    fn a_sealed_chain_verifies_and_counts_what_came_after_its_seal() {
        let c = chain(10);
        let r = verify_sealed(&c, 7, c[6].chain.hash);
        assert!(r.ok(), "{r:?}");
        assert_eq!((r.sealed_seq, r.unsealed_events), (Some(7), 3));
        assert_eq!(verify(&c, None).unsealed_events, 10);
    }

    #[test]
    fn a_truncated_tail_is_detected_against_the_seal() {
        let c = chain(10);
        let seal = c[9].chain.hash;
        // Without the seal, dropping the newest events is invisible.
        assert!(verify(&c[..6], None).ok());
        let r = verify_sealed(&c[..6], 10, seal);
        assert_eq!(kinds(&r), [ProblemKind::Truncated]);
        assert_eq!(r.problems[0].seq, 7);
    }

    #[test]
    fn a_chain_rewritten_with_recomputed_hashes_is_detected_against_the_seal() {
        let original = chain(5);
        // Rebuild the same chain with one event changed: every hash is
        // recomputed, so the chain on its own is consistent.
        let mut st = ChainState::new("w1".into());
        let rewritten: Vec<AuditEvent> = original
            .iter()
            .map(|e| {
                let mut body = e.body.clone();
                if e.chain.seq == 2 {
                    body.decision = Decision::Denied;
                }
                st.place(e.id.clone(), body)
            })
            .collect();
        assert!(verify(&rewritten, None).ok());
        let r = verify_sealed(&rewritten, 4, original[3].chain.hash);
        assert_eq!(kinds(&r), [ProblemKind::SealMismatch]);
    }

    #[test]
    fn an_empty_chain_without_a_checkpoint_was_deleted() {
        assert_eq!(kinds(&verify(&[], None)), [ProblemKind::ChainDeleted]);
        let c = chain(3);
        let cp = Checkpoint {
            seq: 3,
            hash: c[2].chain.hash,
            pruned_at: Timestamp::from_millis(0),
        };
        // Fully pruned by retention: nothing is missing.
        assert!(verify(&[], Some(&cp)).ok());
    }

    #[test]
    fn chains_are_per_org() {
        let mut st = ChainState::new("w".into());
        let a = st.place(
            EventId::generate(),
            NewEvent::new(
                Timestamp::from_millis(1),
                OrgId::parse("a").unwrap(),
                EventKind::Admin,
                "x",
                Decision::Allowed,
            ),
        );
        let b = st.place(
            EventId::generate(),
            NewEvent::new(
                Timestamp::from_millis(1),
                OrgId::parse("b").unwrap(),
                EventKind::Admin,
                "x",
                Decision::Allowed,
            ),
        );
        assert_eq!((a.chain.seq, b.chain.seq), (1, 1));
    }

    fn full_event() -> NewEvent {
        use model::people::{Person, Role, SignInMethod};
        NewEvent {
            actor_key_id: Some(KeyId::from_stored("key_actor".into())),
            agent: Some("devops".into()),
            required_scope: Some("svc:wiki:read".into()),
            reason: Some("ok".into()),
            subject: Some("key_subject".into()),
            server: Some("wiki".into()),
            request_id: Some("req-1".into()),
            client_ip: Some("192.0.2.1".into()),
            latency_us: Some(42),
            reported_by: Some(KeyId::from_stored("key_reporter".into())),
            person: Some(Person {
                member_id: MemberId::from_stored("mem_1".into()),
                email: "alice@acme.test".into(),
                role: Role::Owner,
                method: SignInMethod::Passkey,
            }),
            subject_agent: Some("builder".into()),
            ..NewEvent::new(
                Timestamp::from_millis(1000),
                OrgId::parse("acme").unwrap(),
                EventKind::ToolCall,
                "search",
                Decision::Allowed,
            )
        }
    }

    #[test]
    fn every_field_of_an_event_is_in_its_hash() {
        use model::people::Role;
        let id = EventId::generate();
        let base = full_event();
        let h = |id: &EventId, e: &NewEvent| event_hash(id, e, "w1", 1, &ChainHash::GENESIS);
        let original = h(&id, &base);
        /// A field's name and a change to it.
        type Edit = (&'static str, fn(&mut NewEvent));
        let edits: Vec<Edit> = vec![
            ("ts", |e| e.ts = Timestamp::from_millis(1001)),
            ("org", |e| e.org = OrgId::parse("other").unwrap()),
            ("actor_key_id", |e| e.actor_key_id = None),
            ("agent", |e| e.agent = Some("devopz".into())),
            ("kind", |e| e.kind = EventKind::Admin),
            ("action", |e| e.action = "searcH".into()),
            ("required_scope", |e| e.required_scope = None),
            ("decision", |e| e.decision = Decision::Denied),
            ("reason", |e| e.reason = Some("ko".into())),
            ("subject", |e| e.subject = None),
            ("server", |e| e.server = Some("kb".into())),
            ("request_id", |e| e.request_id = None),
            ("client_ip", |e| e.client_ip = Some("192.0.2.2".into())),
            ("latency_us", |e| e.latency_us = Some(43)),
            ("latency_us absent", |e| e.latency_us = None),
            ("reported_by", |e| e.reported_by = None),
            ("person.member_id", |e| {
                e.person.as_mut().unwrap().member_id = MemberId::from_stored("mem_2".into())
            }),
            ("person.email", |e| {
                e.person.as_mut().unwrap().email = "mallory@acme.test".into()
            }),
            ("person.role", |e| {
                e.person.as_mut().unwrap().role = Role::Auditor
            }),
            ("person", |e| e.person = None),
            ("subject_agent", |e| {
                e.subject_agent = Some("buildor".into())
            }),
            ("subject_agent absent", |e| e.subject_agent = None),
        ];
        for (field, edit) in &edits {
            let mut e = base.clone();
            edit(&mut e);
            assert_ne!(h(&id, &e), original, "{field} is not covered by the hash");
        }
        assert_ne!(h(&EventId::generate(), &base), original, "id");
        assert_ne!(
            event_hash(&id, &base, "w2", 1, &ChainHash::GENESIS),
            original,
            "writer"
        );
        assert_ne!(
            event_hash(&id, &base, "w1", 2, &ChainHash::GENESIS),
            original,
            "seq"
        );
        assert_ne!(event_hash(&id, &base, "w1", 1, &original), original, "prev");
    }

    #[test]
    fn moving_text_between_fields_changes_the_hash() {
        // Length prefixes and presence tags: the same bytes split differently
        // over adjacent fields are a different event.
        let id = EventId::generate();
        let h = |e: &NewEvent| event_hash(&id, e, "w1", 1, &ChainHash::GENESIS);
        let mut a = full_event();
        let mut b = a.clone();
        a.subject = Some("ab".into());
        a.server = Some("c".into());
        b.subject = Some("a".into());
        b.server = Some("bc".into());
        assert_ne!(h(&a), h(&b));
        let mut c = full_event();
        let mut d = c.clone();
        c.reason = None;
        c.subject = Some(String::new());
        d.reason = Some(String::new());
        d.subject = None;
        assert_ne!(h(&c), h(&d));
    }

    #[test]
    fn an_event_of_another_writer_or_org_is_reported_modified() {
        let mut other_writer = ChainState::new("w2".into());
        let foreign = other_writer.place(EventId::generate(), full_event());
        assert_eq!(kinds(&verify(&[foreign], None)), [ProblemKind::Modified]);

        let mut st = ChainState::new("w1".into());
        let mut body = full_event();
        body.org = OrgId::parse("other").unwrap();
        let other_org = st.place(EventId::generate(), body);
        assert_eq!(kinds(&verify(&[other_org], None)), [ProblemKind::Modified]);
    }

    #[test]
    fn a_chain_sealed_at_its_head_verifies() {
        let c = chain(4);
        let r = verify_sealed(&c, 4, c[3].chain.hash);
        assert!(r.ok(), "{r:?}");
        assert_eq!((r.sealed_seq, r.unsealed_events), (Some(4), 0));
    }

    #[test]
    fn a_seal_at_the_checkpoint_must_match_the_checkpoint_hash() {
        let c = chain(6);
        let cp = Checkpoint {
            seq: 3,
            hash: c[2].chain.hash,
            pruned_at: Timestamp::from_millis(0),
        };
        let sealed = |hash: ChainHash| {
            let mut v = ChainVerifier::new(OrgId::parse("acme").unwrap(), "w1".into(), Some(&cp));
            v.expect_seal(3, hash);
            for e in &c[3..] {
                v.feed(e);
            }
            v.finish()
        };
        let r = sealed(c[2].chain.hash);
        assert!(r.ok(), "{r:?}");
        assert_eq!(r.unsealed_events, 3);
        let r = sealed(c[1].chain.hash);
        assert_eq!(kinds(&r), [ProblemKind::SealMismatch]);
        assert_eq!(r.problems[0].seq, 3);
    }

    #[test]
    fn a_seal_of_an_empty_chain_must_carry_the_genesis_hash() {
        let sealed_empty = |hash: ChainHash| {
            let mut v = ChainVerifier::new(OrgId::parse("acme").unwrap(), "w1".into(), None);
            v.expect_seal(0, hash);
            v.finish()
        };
        // No events and no checkpoint is a deleted chain either way; a seal
        // at 0 naming any other hash is also a seal that does not match.
        let r = sealed_empty(ChainHash::GENESIS);
        assert_eq!(kinds(&r), [ProblemKind::ChainDeleted]);
        let c = chain(1);
        assert_eq!(
            kinds(&sealed_empty(c[0].chain.hash)),
            [ProblemKind::SealMismatch, ProblemKind::ChainDeleted]
        );
    }

    #[test]
    fn a_bad_seal_flagged_by_the_caller_fails_the_chain() {
        let c = chain(3);
        let mut v = ChainVerifier::new(OrgId::parse("acme").unwrap(), "w1".into(), None);
        v.flag(3, ProblemKind::BadSeal);
        for e in &c {
            v.feed(e);
        }
        let r = v.finish();
        assert!(!r.ok());
        assert_eq!(kinds(&r), [ProblemKind::BadSeal]);
    }

    #[test]
    fn at_most_20_problems_are_reported_the_first_ones() {
        let mut c = chain(30);
        for e in &mut c {
            e.body.decision = Decision::Denied;
        }
        let r = verify(&c, None);
        assert_eq!(r.problems.len(), MAX_PROBLEMS);
        assert_eq!(MAX_PROBLEMS, 20);
        let seqs: Vec<u64> = r.problems.iter().map(|p| p.seq).collect();
        assert_eq!(seqs, (1..=20).collect::<Vec<u64>>());
        assert!(r.problems.iter().all(|p| p.kind == ProblemKind::Modified));
    }

    #[test]
    fn a_restarted_writer_starts_new_chains_under_a_new_name() {
        let mut st = ChainState::new("w".into());
        let first = st.place(EventId::generate(), full_event());
        assert_eq!((first.chain.writer.as_str(), first.chain.seq), ("w", 1));
        let mut r1 = st.restarted();
        let e = r1.place(EventId::generate(), full_event());
        assert_eq!(
            (e.chain.writer.as_str(), e.chain.seq, e.chain.prev_hash),
            ("w-r1", 1, ChainHash::GENESIS)
        );
        // Counted from the base name, not appended to the restarted one.
        let mut r2 = r1.restarted();
        let e = r2.place(EventId::generate(), full_event());
        assert_eq!((e.chain.writer.as_str(), e.chain.seq), ("w-r2", 1));
    }
}
