//! A session as stored, and its expiry rules.

use crate::ids::{KeyId, MemberId, OrgId};
use crate::time::Timestamp;

/// How long a session lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimeouts {
    /// Ends a session this long after its last request.
    pub idle_secs: i64,
    /// Ends a session this long after sign-in, however active.
    pub absolute_secs: i64,
}

impl Default for SessionTimeouts {
    fn default() -> Self {
        Self {
            idle_secs: 30 * 60,
            absolute_secs: 12 * 3600,
        }
    }
}

/// Who a session signed in: a person with a passkey, or an `admin:org`
/// key (the break-glass path).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SessionActor {
    Member(MemberId),
    Key(KeyId),
}

impl SessionActor {
    /// The id as stored (the `mem_`/`key_` prefixes keep the two apart).
    pub fn stored_id(&self) -> &str {
        match self {
            SessionActor::Member(id) => id.as_str(),
            SessionActor::Key(id) => id.as_str(),
        }
    }

    /// Rebuilds what [`stored_id`](Self::stored_id) wrote.
    pub fn from_stored(id: String) -> Self {
        if id.starts_with("mem_") {
            SessionActor::Member(MemberId::from_stored(id))
        } else {
            SessionActor::Key(KeyId::from_stored(id))
        }
    }
}

/// One signed-in browser. No secret in here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub actor: SessionActor,
    pub org: OrgId,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

/// Why a session is not (or no longer) usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionEnd {
    #[error("no such session")]
    Unknown,
    #[error("the session was idle too long")]
    Idle,
    #[error("the session reached its maximum age")]
    Absolute,
}

impl SessionTimeouts {
    /// The expiry rule: absolute age first (it cannot be extended), then idleness.
    /// A clock that went backwards never ends a session early.
    pub fn check(&self, s: &SessionRecord, now: Timestamp) -> Result<(), SessionEnd> {
        let age_ms = now.as_millis() - s.created_at.as_millis();
        let idle_ms = now.as_millis() - s.last_seen_at.as_millis();
        if age_ms >= self.absolute_secs.saturating_mul(1000) {
            Err(SessionEnd::Absolute)
        } else if idle_ms >= self.idle_secs.saturating_mul(1000) {
            Err(SessionEnd::Idle)
        } else {
            Ok(())
        }
    }
}

/// How stale a session's stored last-seen mark may get before a request
/// writes it again.
pub const TOUCH_EVERY_SECS: i64 = 60;

impl SessionRecord {
    /// Whether a request at `now` should write the last-seen mark.
    pub fn needs_touch(&self, now: Timestamp) -> bool {
        now.as_millis() - self.last_seen_at.as_millis() >= TOUCH_EVERY_SECS * 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_millis(1_700_000_000_000).plus_secs(secs)
    }

    fn session(created: i64, seen: i64) -> SessionRecord {
        SessionRecord {
            actor: SessionActor::Key(KeyId::parse("key_abc").unwrap()),
            org: OrgId::parse("acme").unwrap(),
            created_at: at(created),
            last_seen_at: at(seen),
        }
    }

    const T: SessionTimeouts = SessionTimeouts {
        idle_secs: 60,
        absolute_secs: 300,
    };

    #[test]
    fn active_use_keeps_a_session_alive_until_the_absolute_limit() {
        assert_eq!(T.check(&session(0, 250), at(299)), Ok(()));
        assert_eq!(
            T.check(&session(0, 299), at(300)),
            Err(SessionEnd::Absolute)
        );
    }

    #[test]
    fn idleness_ends_a_session() {
        assert_eq!(T.check(&session(0, 0), at(59)), Ok(()));
        assert_eq!(T.check(&session(0, 0), at(60)), Err(SessionEnd::Idle));
    }

    #[test]
    fn a_clock_going_backwards_does_not_end_a_session() {
        assert_eq!(T.check(&session(100, 100), at(50)), Ok(()));
    }

    #[test]
    fn actors_round_trip_through_their_stored_id() {
        for actor in [
            SessionActor::Key(KeyId::parse("key_abc").unwrap()),
            SessionActor::Member(MemberId::parse("mem_abc").unwrap()),
        ] {
            assert_eq!(SessionActor::from_stored(actor.stored_id().into()), actor);
        }
    }

    #[test]
    fn the_last_seen_mark_is_written_once_a_minute() {
        assert!(!session(0, 0).needs_touch(at(TOUCH_EVERY_SECS - 1)));
        assert!(session(0, 0).needs_touch(at(TOUCH_EVERY_SECS)));
    }
}
