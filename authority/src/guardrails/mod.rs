//! Guardrails: what limits a key beyond its scopes and expiry, and acts on
//! its own where a person would be too slow.
//!
//! - [`networks`]: the client addresses a key may be used from.
//! - [`metadata`]: the small JSON object tool servers receive with a key.
//! - [`terms`]: a key's terms as stored (not-before, networks, metadata).
//! - [`leaks`]: signed leaked-key reports (GitHub secret scanning format).
//! - [`limits`]: rate limits and budgets on a key's tool calls, and how
//!   guards share them without a global write per call.
//!
//! The rules that plan them at mint time are the policy's
//! (`policy::rules::plan_terms`); derived keys, which die with their
//! parent, are `store::lineage`'s. This module depends on nothing else of
//! the authority's but its clock type.

pub mod leaks;
pub mod limits;
pub mod metadata;
pub mod networks;
pub mod terms;

pub use limits::{ChargedLimit, KeyLimits, Limit, LimitError};
pub use metadata::KeyMetadata;
pub use networks::{AddressRanges, NetworkError};
pub use terms::KeyTerms;
