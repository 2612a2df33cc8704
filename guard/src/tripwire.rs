//! Tripwires: guardrail rules the guard applies to each key's calls as
//! they happen, before the next tool runs, and that put a key in
//! quarantine on their own.
//!
//! - **Loop**: the same tool with the same arguments `loop_calls` times
//!   within `window`. Arguments are reduced to a 64-bit fingerprint
//!   (SHA-256 of the tool and the canonical JSON of the arguments); they are
//!   never stored or logged.
//! - **Denial burst**: `denial_burst` refused calls of a valid key (missing
//!   scope, unknown tool) within `window`: a prompt-injected agent trying
//!   every tool.
//!
//! Counting is per guard process, in fixed windows: behind a balancer that
//! spreads one key over `n` guards a rule trips after at most
//! `n × threshold` calls, and a loop straddling two windows after at most
//! twice the threshold. When a rule trips, the guard holds the key itself
//! at once (refusing its next call without asking anyone) and reports the
//! hold to the authority, which stores it, audits it with the evidence,
//! and tells every other guard through the revocation stream. Once the
//! authority has it, its word replaces the guard's own hold; if the report
//! fails, the guard's hold lasts a minute.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use authority::ids::KeyId;
use authority::wire::QuarantineRule;
use parking_lot::{Mutex, RwLock};
use sha2::{Digest, Sha256};

/// The rules' thresholds; 0 turns a rule off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TripwireConfig {
    /// Identical calls (tool and arguments) within `window` that make a loop.
    pub loop_calls: u32,
    /// Refused calls of one valid key within `window` that make a burst.
    pub denial_burst: u32,
    pub window: Duration,
}

impl Default for TripwireConfig {
    fn default() -> Self {
        Self {
            loop_calls: 50,
            denial_burst: 20,
            window: Duration::from_secs(60),
        }
    }
}

/// A rule that tripped, with what it saw (the audit evidence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Trip {
    pub(crate) rule: QuarantineRule,
    pub(crate) evidence: String,
}

/// The fingerprint of one call's tool and arguments.
pub(crate) fn fingerprint(tool: &str, arguments: &serde_json::Value) -> u64 {
    let mut h = Sha256::new();
    h.update(tool.as_bytes());
    h.update([0]);
    // serde_json's maps are sorted (no `preserve_order`): canonical text.
    h.update(arguments.to_string().as_bytes());
    let digest = h.finalize();
    u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// The most distinct fingerprints remembered per key per window: a key
/// calling with ever-new arguments is not looping, and must not grow memory.
const MAX_FINGERPRINTS: usize = 256;
/// Keys watched at once (the least recently seen are forgotten).
const MAX_KEYS: u64 = 100_000;
/// How long the guard holds a key on its own word: past it, the
/// authority's answer (held until a person releases it) takes over.
const LOCAL_HOLD: Duration = Duration::from_secs(60);

#[derive(Default)]
struct Window {
    started: Option<Instant>,
    same_calls: HashMap<u64, u32>,
    denials: u32,
}

impl Default for Tripwires {
    fn default() -> Self {
        Self::new(TripwireConfig::default())
    }
}

pub(crate) struct Tripwires {
    config: RwLock<TripwireConfig>,
    watched: moka::sync::Cache<KeyId, Arc<Mutex<Window>>>,
    held: moka::sync::Cache<KeyId, ()>,
}

impl Tripwires {
    pub(crate) fn new(config: TripwireConfig) -> Self {
        Self {
            config: RwLock::new(config),
            watched: moka::sync::Cache::builder()
                .max_capacity(MAX_KEYS)
                .time_to_idle(config.window.max(Duration::from_secs(1)))
                .build(),
            held: moka::sync::Cache::builder()
                .max_capacity(MAX_KEYS)
                .time_to_live(LOCAL_HOLD)
                .build(),
        }
    }

    pub(crate) fn configure(&self, config: TripwireConfig) {
        *self.config.write() = config;
    }

    pub(crate) fn is_held(&self, key: &KeyId) -> bool {
        self.held.contains_key(key)
    }

    /// A person released the key: this guard's own hold ends too.
    pub(crate) fn release(&self, key: &KeyId) {
        self.held.invalidate(key);
        self.watched.invalidate(key);
    }

    /// Counts one call of `key` (an allowed call's fingerprint, or a
    /// refusal) and says whether a rule tripped with it. A tripped key is
    /// held here from now on.
    pub(crate) fn observe(&self, key: &KeyId, call: Observed, now: Instant) -> Option<Trip> {
        let config = *self.config.read();
        let window = self.watched.get_with(key.clone(), Arc::default);
        let trip = {
            let mut w = window.lock();
            if w.started
                .is_none_or(|s| now.duration_since(s) >= config.window)
            {
                *w = Window {
                    started: Some(now),
                    ..Window::default()
                };
            }
            match call {
                Observed::Allowed { tool, fingerprint } if config.loop_calls > 0 => {
                    if w.same_calls.len() >= MAX_FINGERPRINTS
                        && !w.same_calls.contains_key(&fingerprint)
                    {
                        w.same_calls.clear();
                    }
                    let n = w.same_calls.entry(fingerprint).or_insert(0);
                    *n += 1;
                    (*n == config.loop_calls).then(|| Trip {
                        rule: QuarantineRule::Loop,
                        evidence: format!(
                            "`{tool}` called {n} times with the same arguments (fingerprint {fingerprint:016x}) within {}s at this guard",
                            config.window.as_secs()
                        ),
                    })
                }
                Observed::Refused { code } if config.denial_burst > 0 => {
                    w.denials += 1;
                    (w.denials == config.denial_burst).then(|| Trip {
                        rule: QuarantineRule::DenialBurst,
                        evidence: format!(
                            "{} refused calls within {}s at this guard (the last: {code})",
                            w.denials,
                            config.window.as_secs()
                        ),
                    })
                }
                _ => None,
            }
        };
        if trip.is_some() {
            self.held.insert(key.clone(), ());
        }
        trip
    }
}

/// One call of a valid key, as the tripwires count it.
pub(crate) enum Observed<'a> {
    Allowed { tool: &'a str, fingerprint: u64 },
    Refused { code: &'a str },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wires(loop_calls: u32, denial_burst: u32) -> Tripwires {
        Tripwires::new(TripwireConfig {
            loop_calls,
            denial_burst,
            window: Duration::from_secs(60),
        })
    }

    fn allowed(fp: u64) -> Observed<'static> {
        Observed::Allowed {
            tool: "write_page",
            fingerprint: fp,
        }
    }

    #[test]
    fn a_loop_trips_on_the_nth_identical_call_and_holds_the_key() {
        let t = wires(5, 0);
        let key = KeyId::from_stored("key_a".into());
        let now = Instant::now();
        for i in 0..4 {
            assert_eq!(t.observe(&key, allowed(7), now), None, "call {i}");
            // Other arguments are other calls.
            assert_eq!(t.observe(&key, allowed(100 + i), now), None);
        }
        assert!(!t.is_held(&key));
        let trip = t.observe(&key, allowed(7), now).expect("the fifth trips");
        assert_eq!(trip.rule, QuarantineRule::Loop);
        assert!(trip.evidence.contains("5 times"), "{}", trip.evidence);
        assert!(t.is_held(&key));
        // A sixth does not report again.
        assert_eq!(t.observe(&key, allowed(7), now), None);
        t.release(&key);
        assert!(!t.is_held(&key));
    }

    #[test]
    fn a_new_window_starts_counting_again() {
        let t = wires(3, 0);
        let key = KeyId::from_stored("key_a".into());
        let now = Instant::now();
        t.observe(&key, allowed(1), now);
        t.observe(&key, allowed(1), now);
        let later = now + Duration::from_secs(61);
        assert_eq!(t.observe(&key, allowed(1), later), None);
        assert_eq!(t.observe(&key, allowed(1), later), None);
        assert!(t.observe(&key, allowed(1), later).is_some());
    }

    #[test]
    fn a_denial_burst_trips_and_zero_turns_rules_off() {
        let t = wires(0, 3);
        let key = KeyId::from_stored("key_b".into());
        let now = Instant::now();
        for _ in 0..10 {
            assert_eq!(t.observe(&key, allowed(1), now), None, "loops are off");
        }
        let refused = || Observed::Refused {
            code: "insufficient_scope",
        };
        assert_eq!(t.observe(&key, refused(), now), None);
        assert_eq!(t.observe(&key, refused(), now), None);
        let trip = t.observe(&key, refused(), now).unwrap();
        assert_eq!(trip.rule, QuarantineRule::DenialBurst);
    }

    #[test]
    fn fingerprints_ignore_key_order_and_differ_by_tool() {
        let a = serde_json::json!({"title": "Home", "text": "x"});
        let b: serde_json::Value = serde_json::from_str(r#"{"text":"x","title":"Home"}"#).unwrap();
        assert_eq!(fingerprint("write_page", &a), fingerprint("write_page", &b));
        assert_ne!(fingerprint("write_page", &a), fingerprint("read_page", &a));
        assert_ne!(
            fingerprint("write_page", &a),
            fingerprint(
                "write_page",
                &serde_json::json!({"title": "Home", "text": "y"})
            )
        );
    }
}
