//! The heads of the chains this process writes, as the recorder and the
//! admin chain commit them, and what the sealer last signed of each.
//!
//! Kept apart from [`ChainState`](super::chain::ChainState) (which the
//! writers own and clone as scratch) so the sealer reads committed heads
//! without taking a writer's lock.

use std::collections::{BTreeSet, HashMap};

use parking_lot::Mutex;

use crate::ids::OrgId;
use model::audit::{AuditEvent, ChainHash, ChainLink};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head {
    pub(crate) seq: u64,
    pub(crate) hash: ChainHash,
}

#[derive(Debug, Default)]
struct Book {
    /// (org, writer) → (committed head, last sealed head).
    chains: HashMap<(OrgId, String), (Head, Option<Head>)>,
    /// Every writer of each org this process has seen in the store or in a
    /// valid seal: only grows, so a chain deleted from the store stays
    /// named in this process's next seals.
    writers: HashMap<OrgId, BTreeSet<String>>,
}

/// One chain the sealer should sign now.
#[derive(Debug, Clone)]
pub(crate) struct Unsealed {
    pub(crate) org: OrgId,
    pub(crate) writer: String,
    pub(crate) head: Head,
}

#[derive(Debug, Default)]
pub(crate) struct HeadBook(Mutex<Book>);

impl HeadBook {
    /// After a commit: raises each chain's head to its newest event.
    pub(crate) fn advance(&self, events: &[AuditEvent]) {
        let mut book = self.0.lock();
        for e in events {
            raise(&mut book, &e.body.org, &e.chain);
        }
    }

    pub(crate) fn advance_link(&self, org: &OrgId, link: &ChainLink) {
        raise(&mut self.0.lock(), org, link);
    }

    /// Chains whose head moved since their last seal, oldest org first.
    pub(crate) fn unsealed(&self) -> Vec<Unsealed> {
        let book = self.0.lock();
        let mut out: Vec<Unsealed> = book
            .chains
            .iter()
            .filter(|(_, (head, sealed))| *sealed != Some(*head))
            .map(|((org, writer), (head, _))| Unsealed {
                org: org.clone(),
                writer: writer.clone(),
                head: *head,
            })
            .collect();
        out.sort_by(|a, b| (&a.org, &a.writer).cmp(&(&b.org, &b.writer)));
        out
    }

    /// What this process last sealed of each of its chains of `org`.
    pub(crate) fn sealed_of(&self, org: &OrgId) -> Vec<(String, Head)> {
        self.0
            .lock()
            .chains
            .iter()
            .filter(|((o, _), _)| o == org)
            .filter_map(|((_, w), (_, sealed))| sealed.map(|s| (w.clone(), s)))
            .collect()
    }

    pub(crate) fn mark_sealed(&self, org: &OrgId, writer: &str, head: Head) {
        if let Some(entry) = self
            .0
            .lock()
            .chains
            .get_mut(&(org.clone(), writer.to_owned()))
        {
            entry.1 = Some(head);
        }
    }

    /// Makes the chain due for a seal again.
    pub(crate) fn forget_seal(&self, org: &OrgId, writer: &str) {
        if let Some(entry) = self
            .0
            .lock()
            .chains
            .get_mut(&(org.clone(), writer.to_owned()))
        {
            entry.1 = None;
        }
    }

    /// Adds `seen` to the org's writers and returns them all.
    pub(crate) fn remember_writers(
        &self,
        org: &OrgId,
        seen: impl IntoIterator<Item = String>,
    ) -> Vec<String> {
        let mut book = self.0.lock();
        let known = book.writers.entry(org.clone()).or_default();
        known.extend(seen);
        known.iter().cloned().collect()
    }
}

fn raise(book: &mut Book, org: &OrgId, link: &ChainLink) {
    let head = Head {
        seq: link.seq,
        hash: link.hash,
    };
    book.chains
        .entry((org.clone(), link.writer.clone()))
        .and_modify(|(h, _)| {
            if head.seq > h.seq {
                *h = head;
            }
        })
        .or_insert((head, None));
}
