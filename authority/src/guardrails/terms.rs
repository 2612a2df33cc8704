//! A key's terms beyond scopes and expiry: when it starts working, where
//! from, and what tool servers learn about it. Planned once at mint time
//! (and carried over by rotation); checked by every validator.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::metadata::{KeyMetadata, MetadataError};
use super::networks::AddressRanges;
use crate::error::AuthorityError;
use crate::policy::KeyContext;
use crate::time::Timestamp;
use model::wire::KeyTermsRequest;

/// The most address ranges one key may be limited to.
pub const MAX_KEY_NETWORKS: usize = 20;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyTerms {
    /// Refused before this instant.
    pub not_before: Option<Timestamp>,
    /// The client addresses it may be used from; empty: any.
    pub networks: AddressRanges,
    pub metadata: Option<KeyMetadata>,
}

/// Plans the terms of a key `p` mints that expires at `expires_at`:
/// - a `not_before` at or before `now` is no restriction (dropped); one at
///   or after the expiry would make a key that never works (refused);
/// - networks parse as [`AddressRanges`]; a minter limited to networks
///   mints only keys limited to ranges inside its own (an unlimited child
///   would carry the parent's key out of its network);
/// - metadata is a capped object without credentials ([`KeyMetadata`]).
pub(crate) fn plan_terms(
    p: &KeyContext,
    req: &KeyTermsRequest,
    expires_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<KeyTerms, AuthorityError> {
    let not_before = req.not_before.filter(|nb| *nb > now);
    if let (Some(nb), Some(exp)) = (not_before, expires_at) {
        if nb >= exp {
            return Err(AuthorityError::invalid(
                "not_before",
                format!("{nb} is not before the key's expiry ({exp}); choose an earlier start or a longer expiry"),
            ));
        }
    }
    let networks = AddressRanges::parse(
        req.allowed_networks.iter().map(String::as_str),
        MAX_KEY_NETWORKS,
    )
    .map_err(|e| AuthorityError::invalid("allowed_networks", e.to_string()))?;
    if !p.networks.is_empty() && (networks.is_empty() || !networks.within(&p.networks)) {
        return Err(AuthorityError::forbidden(format!(
            "this key may only be used from {}; it can only mint keys limited to ranges inside those",
            p.networks
        )));
    }
    let metadata = match &req.metadata {
        None | Some(serde_json::Value::Null) => None,
        Some(value) => KeyMetadata::parse(value.clone())
            .map_err(|e: MetadataError| AuthorityError::invalid("metadata", e.to_string()))?,
    };
    Ok(KeyTerms {
        not_before,
        networks,
        metadata,
    })
}

impl Serialize for AddressRanges {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_strings().serialize(s)
    }
}

impl<'de> Deserialize<'de> for AddressRanges {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let items = Vec::<String>::deserialize(d)?;
        AddressRanges::parse(items.iter().map(String::as_str), usize::MAX)
            .map_err(serde::de::Error::custom)
    }
}

impl Serialize for KeyMetadata {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.as_map().serialize(s)
    }
}

impl<'de> Deserialize<'de> for KeyMetadata {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        KeyMetadata::parse(value)
            .map_err(serde::de::Error::custom)?
            .ok_or_else(|| serde::de::Error::custom("empty metadata"))
    }
}
