//! Quarantine: a reversible hold between active and revoked. A held key is
//! refused everywhere, like a revoked one, until a person releases it (or
//! revokes it). Holding a key holds its active descendants too (rule
//! `parent`, `source` naming the key); releasing it releases exactly those.
//! Every backend decides what changes with [`plan_hold`].

use model::wire::{QuarantineRule, QuarantineView};

use super::KeyRecord;
use crate::keys::KeyStatus;
use crate::time::Timestamp;

/// The new quarantine state of each key a hold or release changes: `root`
/// first (when it changes), then its descendants, in the order given.
/// `hold` is `None` for a release.
pub(crate) fn plan_hold<'a>(
    root: &'a KeyRecord,
    descendants: impl IntoIterator<Item = &'a KeyRecord>,
    hold: Option<&QuarantineView>,
    now: Timestamp,
) -> Vec<(&'a KeyRecord, Option<QuarantineView>)> {
    let mut changes = Vec::new();
    match hold {
        Some(q) => {
            if root.status(now) == KeyStatus::Active {
                changes.push((root, Some(q.clone())));
            }
            let inherited = QuarantineView {
                at: q.at,
                rule: QuarantineRule::Parent,
                evidence: format!(
                    "its parent {} was put in quarantine ({})",
                    root.id,
                    q.rule.as_str()
                ),
                by: q.by.clone(),
                source: Some(root.id.clone()),
            };
            for d in descendants {
                if d.status(now) == KeyStatus::Active {
                    changes.push((d, Some(inherited.clone())));
                }
            }
        }
        None => {
            if root.quarantine.is_some() {
                changes.push((root, None));
            }
            for d in descendants {
                if d.quarantine.as_ref().and_then(|q| q.source.as_ref()) == Some(&root.id) {
                    changes.push((d, None));
                }
            }
        }
    }
    changes
}
