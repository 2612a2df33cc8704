//! A key's terms beyond scopes and expiry: when it starts working, where
//! from, and what tool servers learn about it. Planned once at mint time
//! (`policy::rules::plan_terms`), carried over by rotation, checked by
//! every validator.

use super::limits::KeyLimits;
use super::metadata::KeyMetadata;
use super::networks::AddressRanges;
use crate::time::Timestamp;

/// The most address ranges one key may be limited to.
pub const MAX_KEY_NETWORKS: usize = 20;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyTerms {
    /// Refused before this instant.
    pub not_before: Option<Timestamp>,
    /// The client addresses it may be used from; empty: any.
    pub networks: AddressRanges,
    pub metadata: Option<KeyMetadata>,
    /// Rate limits and budgets on its tool calls, own and inherited.
    pub limits: KeyLimits,
}
