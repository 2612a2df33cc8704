//! Guardrails: what limits a key beyond its scopes and expiry, and acts on
//! its own where a person would be too slow.
//!
//! - [`networks`]: the client addresses a key may be used from.
//! - [`metadata`]: the small JSON object tool servers receive with a key.
//! - [`terms`]: a key's terms as stored (not-before, networks, metadata)
//!   and the rules that plan them at mint time.
//! - [`lineage`]: derived keys (a sub-agent's key records its parent) and
//!   which keys die with a revoked parent.

pub mod lineage;
pub mod metadata;
pub mod networks;
pub mod terms;

pub use metadata::KeyMetadata;
pub use networks::{AddressRanges, NetworkError};
pub use terms::KeyTerms;
