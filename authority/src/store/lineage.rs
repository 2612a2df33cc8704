//! Derived keys: a key minted by an agent's key (a sub-agent's key)
//! records that key as its parent (`policy::rules::parent_for`) and dies
//! with it. Revoking a parent
//! revokes its descendants in the same store operation; rotating one does
//! not (a rotation is routine, and a derived key never outlives the
//! parent's own expiry or grace period anyway: minting caps it there).

use std::collections::{HashMap, HashSet};

use super::KeyRecord;
use crate::ids::KeyId;

/// The ids of the descendants of any of `roots` among `keys` (children,
/// their children, …), roots excluded unless one descends from another.
/// Parents are older than their children, so there is no cycle; the
/// visited set guards against corrupt data anyway.
pub(crate) fn descendants<'a>(
    keys: impl IntoIterator<Item = &'a KeyRecord>,
    roots: &[&KeyId],
) -> HashSet<KeyId> {
    let mut children: HashMap<&KeyId, Vec<&KeyId>> = HashMap::new();
    for k in keys {
        if let Some(parent) = &k.parent {
            children.entry(parent).or_default().push(&k.id);
        }
    }
    let mut found: HashSet<KeyId> = HashSet::new();
    let mut frontier: Vec<&KeyId> = roots.to_vec();
    while let Some(id) = frontier.pop() {
        for child in children.get(id).into_iter().flatten() {
            if found.insert((*child).clone()) {
                frontier.push(child);
            }
        }
    }
    found
}
