//! The in-process session table and its expiry rules.

use std::collections::HashMap;

use parking_lot::Mutex;

use super::token::{SessionToken, TokenHash};
use crate::ids::{KeyId, OrgId};
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

/// One signed-in browser. No secret in here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub key_id: KeyId,
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

/// Sessions by token hash. Cheap to share behind an `Arc`.
#[derive(Debug, Default)]
pub struct SessionTable {
    timeouts: SessionTimeouts,
    rows: Mutex<HashMap<TokenHash, SessionRecord>>,
}

/// Above this many rows, creating a session first sweeps expired ones, so
/// abandoned sessions cannot grow the table without bound.
const SWEEP_ABOVE: usize = 10_000;

impl SessionTable {
    pub fn new(timeouts: SessionTimeouts) -> Self {
        Self {
            timeouts,
            rows: Mutex::default(),
        }
    }

    pub fn timeouts(&self) -> SessionTimeouts {
        self.timeouts
    }

    /// Starts a session for a key that just signed in; returns the token
    /// for the cookie (the only copy).
    pub fn create(&self, key_id: KeyId, org: OrgId, now: Timestamp) -> SessionToken {
        let token = SessionToken::generate();
        let mut rows = self.rows.lock();
        if rows.len() > SWEEP_ABOVE {
            let t = self.timeouts;
            rows.retain(|_, s| t.check(s, now).is_ok());
        }
        rows.insert(
            token.hash(),
            SessionRecord {
                key_id,
                org,
                created_at: now,
                last_seen_at: now,
            },
        );
        token
    }

    /// Looks a token up, applies the timeouts (deleting an expired
    /// session) and marks it seen now.
    pub fn touch(&self, token: &SessionToken, now: Timestamp) -> Result<SessionRecord, SessionEnd> {
        let hash = token.hash();
        let mut rows = self.rows.lock();
        let row = rows.get_mut(&hash).ok_or(SessionEnd::Unknown)?;
        if let Err(end) = self.timeouts.check(row, now) {
            rows.remove(&hash);
            return Err(end);
        }
        row.last_seen_at = row.last_seen_at.max(now);
        Ok(row.clone())
    }

    /// Sign-out. Returns the ended session, if there was one.
    pub fn end(&self, token: &SessionToken) -> Option<SessionRecord> {
        self.rows.lock().remove(&token.hash())
    }

    /// Ends every session of a key (it was revoked or has expired).
    pub fn end_for_key(&self, key_id: &KeyId) -> usize {
        let mut rows = self.rows.lock();
        let before = rows.len();
        rows.retain(|_, s| &s.key_id != key_id);
        before - rows.len()
    }

    pub fn len(&self) -> usize {
        self.rows.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> KeyId {
        KeyId::parse("key_abc").unwrap()
    }
    fn org() -> OrgId {
        OrgId::parse("acme").unwrap()
    }
    fn at(secs: i64) -> Timestamp {
        Timestamp::from_millis(1_700_000_000_000).plus_secs(secs)
    }

    #[test]
    fn active_use_keeps_a_session_alive_until_the_absolute_limit() {
        let table = SessionTable::new(SessionTimeouts {
            idle_secs: 60,
            absolute_secs: 300,
        });
        let token = table.create(key(), org(), at(0));
        for t in (50..300).step_by(50) {
            assert!(table.touch(&token, at(t)).is_ok(), "at {t}s");
        }
        assert_eq!(table.touch(&token, at(300)), Err(SessionEnd::Absolute));
        // An expired session is gone, not just refused once.
        assert_eq!(table.touch(&token, at(1)), Err(SessionEnd::Unknown));
    }

    #[test]
    fn idleness_ends_a_session() {
        let table = SessionTable::new(SessionTimeouts {
            idle_secs: 60,
            absolute_secs: 3600,
        });
        let token = table.create(key(), org(), at(0));
        assert!(table.touch(&token, at(59)).is_ok());
        assert_eq!(table.touch(&token, at(119)), Err(SessionEnd::Idle));
    }

    #[test]
    fn a_clock_going_backwards_does_not_shorten_a_session() {
        let table = SessionTable::new(SessionTimeouts::default());
        let token = table.create(key(), org(), at(100));
        assert!(table.touch(&token, at(50)).is_ok());
        assert_eq!(table.touch(&token, at(100)).unwrap().last_seen_at, at(100));
    }

    #[test]
    fn sign_out_and_key_revocation_end_sessions() {
        let table = SessionTable::default();
        let a = table.create(key(), org(), at(0));
        let b = table.create(key(), org(), at(0));
        let other = table.create(KeyId::parse("key_other").unwrap(), org(), at(0));
        assert!(table.end(&a).is_some());
        assert_eq!(table.touch(&a, at(1)), Err(SessionEnd::Unknown));
        assert_eq!(table.end_for_key(&key()), 1);
        assert_eq!(table.touch(&b, at(1)), Err(SessionEnd::Unknown));
        assert!(table.touch(&other, at(1)).is_ok());
    }

    #[test]
    fn the_table_holds_only_hashes() {
        let table = SessionTable::default();
        let token = table.create(key(), org(), at(0));
        let dump = format!("{:?}", table.rows.lock());
        assert!(!dump.contains(token.expose_secret()));
    }

    #[test]
    fn unknown_tokens_are_refused() {
        let table = SessionTable::default();
        assert_eq!(
            table.touch(&SessionToken::generate(), at(0)),
            Err(SessionEnd::Unknown)
        );
    }
}
