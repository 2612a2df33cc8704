//! The audit log: hash chains over the model's events, group-committed recording,
//! queries and retention.
//!
//! Rules:
//! - Every tool-call decision and every state change is an [`AuditEvent`].
//!   Admin events are written by the store in the same transaction as the
//!   change they describe; tool-call events go through the [`Recorder`](crate::recorder::Recorder),
//!   which answers a caller only once its event is durable and answers with
//!   an error if it is not (fail closed).
//! - Events never contain key material: actors are key ids, never keys.
//! - Tamper evidence: each (org, writer) pair is a hash chain. A writer is one
//!   recorder instance (a fresh random id per process start, so no two
//!   processes ever extend the same chain and nothing global is written per
//!   event). Each event stores its writer, a gap-free sequence number starting
//!   at 1, the previous event's hash and its own hash over all fields; see
//!   [`chain`] for what `verify` detects and what it cannot.
//! - Seals: each process signs the heads of its chains at a fixed interval
//!   and on shutdown ([`seal`]), so a truncated tail, a deleted chain or a
//!   chain rewritten with recomputed hashes is reported too.
//! - Retention deletes a prefix of each chain and records a [`Checkpoint`]
//!   (seq and hash of the last deleted event) in the same transaction, so the
//!   remaining suffix still verifies from the checkpoint.

pub mod chain;
mod export;
pub(crate) mod heads;
mod query;
pub mod seal;

pub use chain::{ChainProblem, ChainReport, ProblemKind, VerifyReport};
pub use export::ExportFormat;
pub use model::audit::{
    AuditEvent, ChainHash, ChainLink, Checkpoint, Decision, EventKind, NewEvent,
};
pub use model::wire::{AuditPage, TimelineBucket};
pub(crate) use query::about_keys;
pub use query::{
    about_key_and_agent_tags, about_tags, AuditCursor, AuditFilter, AuditQuery, ChainInfo,
    PruneStats, TimelineQuery,
};
pub use seal::{Seal, SealKey, SealTrust};
