//! Derived keys: a key minted by an agent's key (a sub-agent's key)
//! records that key as its parent and dies with it. Revoking a parent
//! revokes its descendants in the same store operation; rotating one does
//! not (a rotation is routine, and a derived key never outlives the
//! parent's own expiry or grace period anyway: minting caps it there).

use std::collections::{HashMap, HashSet};

use crate::ids::KeyId;
use crate::policy::KeyContext;
use crate::store::KeyRecord;

/// The parent a key minted by `minter` records: the minting key when it is
/// an agent's key (bound to `agent:<name>`). Keys minted by people in the
/// dashboard, by admin or automation keys without an agent, and bootstrap
/// keys have none: revoking an admin's key must not take the org down.
pub(crate) fn parent_for(minter: &KeyContext) -> Option<KeyId> {
    (minter.agent.is_some() && minter.person.is_none() && minter.oauth.is_none())
        .then(|| minter.key_id.clone())
}

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
