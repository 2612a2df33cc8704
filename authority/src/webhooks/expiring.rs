//! `key.expiring` notices: 7 days and 1 day before a key expires.
//!
//! No change in the store announces these, so the dispatcher scans for
//! keys whose threshold passed since its last scan ([`windows`]) and makes
//! one notice per key and threshold, under an id derived from both
//! ([`notice`]): two servers scanning the same window, or one scanning it
//! twice after a restart, write the same message once.
//!
//! A key only gets a notice for a threshold its life is longer than: a key
//! minted for 3 days gets the 1-day notice but not the 7-day one, and a
//! key minted for an hour gets none (it was never going to live long;
//! OAuth access tokens, which live minutes, never do).

use serde_json::json;

use super::messages::body;
use super::{WebhookEventType, WebhookMessage};
use crate::keys::record::KeyRecord;
use crate::time::Timestamp;

const DAY_SECS: i64 = 86_400;

/// The two thresholds, as `(label, seconds before expiry)`.
pub const THRESHOLDS: [(&str, i64); 2] = [("7d", 7 * DAY_SECS), ("1d", DAY_SECS)];

/// The ranges of expiry instants `(after, up_to]` whose threshold passed
/// in `(since, now]`: one per threshold.
pub fn windows(since: Timestamp, now: Timestamp) -> [(Timestamp, Timestamp); 2] {
    THRESHOLDS.map(|(_, before)| (since.plus_secs(before), now.plus_secs(before)))
}

/// The notice `key` is owed at `now`, if a threshold passed for it in
/// `(since, now]`: the nearest threshold only (a key found a day before
/// expiry is not told it has a week).
pub fn notice(key: &KeyRecord, since: Timestamp, now: Timestamp) -> Option<WebhookMessage> {
    let expires = key.expires_at?;
    if key.revoked_at.is_some() || key.oauth.is_some() || expires <= now {
        return None;
    }
    let left_ms = expires.as_millis() - now.as_millis();
    let (label, before) = THRESHOLDS
        .into_iter()
        .rev()
        .find(|(_, before)| left_ms <= before * 1000)?;
    let passed_after_since = expires.as_millis() - since.as_millis() > before * 1000;
    let lives_longer = expires.as_millis() - key.created_at.as_millis() > before * 1000;
    if !(passed_after_since && lives_longer) {
        return None;
    }
    let data = json!({
        "org": key.org,
        "key_id": key.id,
        "name": key.name,
        "agent": key.agent,
        "expires_at": expires,
        "notice": label,
    });
    Some(WebhookMessage {
        id: format!("exp{label}_{}", key.id),
        org: key.org.clone(),
        event_type: WebhookEventType::KeyExpiring,
        audit_event: None,
        created_at: now,
        payload: body(WebhookEventType::KeyExpiring, now, data),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::record::test_key;

    const NOW: Timestamp = Timestamp::from_millis(1_800_000_000_000);

    fn key(lifetime_days: i64, left_secs: i64) -> KeyRecord {
        let mut k = test_key("acme", "key_a");
        k.expires_at = Some(NOW.plus_secs(left_secs));
        k.created_at = NOW.plus_secs(left_secs - lifetime_days * DAY_SECS);
        k
    }

    fn label(k: &KeyRecord, since: Timestamp) -> Option<String> {
        notice(k, since, NOW).map(|m| m.id.split('_').next().unwrap().to_owned())
    }

    #[test]
    fn each_threshold_is_noticed_in_the_scan_it_passes_in() {
        let since = NOW.plus_secs(-60);
        assert_eq!(
            label(&key(90, 7 * DAY_SECS - 30), since).as_deref(),
            Some("exp7d")
        );
        assert_eq!(
            label(&key(90, DAY_SECS - 30), since).as_deref(),
            Some("exp1d")
        );
        // Passed before the last scan: that scan noticed it.
        assert_eq!(label(&key(90, 7 * DAY_SECS - 90), since), None);
        // Not yet.
        assert_eq!(label(&key(90, 7 * DAY_SECS + 30), since), None);
    }

    #[test]
    fn a_late_scan_sends_only_the_nearest_notice() {
        let since = NOW.plus_secs(-8 * DAY_SECS);
        assert_eq!(label(&key(90, 3600), since).as_deref(), Some("exp1d"));
    }

    #[test]
    fn short_lived_revoked_and_expired_keys_get_no_notice() {
        let since = NOW.plus_secs(-60);
        assert_eq!(
            label(&key(7, 7 * DAY_SECS - 30), since),
            None,
            "minted for 7 days"
        );
        assert_eq!(
            label(&key(3, DAY_SECS - 30), since).as_deref(),
            Some("exp1d")
        );
        let mut revoked = key(90, DAY_SECS - 30);
        revoked.revoked_at = Some(NOW);
        assert_eq!(label(&revoked, since), None);
        assert_eq!(label(&key(90, -1), NOW.plus_secs(-DAY_SECS)), None);
    }

    #[test]
    fn the_notice_id_is_the_same_for_every_scan() {
        let k = key(90, DAY_SECS - 30);
        let a = notice(&k, NOW.plus_secs(-60), NOW).unwrap();
        let b = notice(&k, NOW.plus_secs(-600), NOW.plus_secs(1)).unwrap();
        assert_eq!(a.id, b.id);
        assert_eq!(a.id, "exp1d_key_a");
    }

    #[test]
    fn windows_cover_each_threshold_passed_since_the_last_scan() {
        let since = NOW.plus_secs(-60);
        let [week, day] = windows(since, NOW);
        assert_eq!(
            week,
            (since.plus_secs(7 * DAY_SECS), NOW.plus_secs(7 * DAY_SECS))
        );
        assert_eq!(day, (since.plus_secs(DAY_SECS), NOW.plus_secs(DAY_SECS)));
    }
}
