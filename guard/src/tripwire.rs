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
//! - **Rate surge**: allowed calls within one window reach `surge_factor`
//!   times the key's own recent rate (an average over the windows it was
//!   used in, once it has been seen in [`LEARN_WINDOWS`] of them), and at
//!   least `surge_floor`: an agent that suddenly goes wild.
//! - **New tool** (off unless asked for): once a key has a usual set of
//!   tools (seen over [`LEARN_WINDOWS`] windows), the first call of any
//!   other tool.
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
use authority::wire::{QuarantineRule, RuleSettings};
use parking_lot::{Mutex, RwLock};
use sha2::{Digest, Sha256};

/// The rules' thresholds; 0 turns a rule off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TripwireConfig {
    /// Identical calls (tool and arguments) within `window` that make a loop.
    pub loop_calls: u32,
    /// Refused calls of one valid key within `window` that make a burst.
    pub denial_burst: u32,
    /// How many times its usual rate a key's calls in one window may reach.
    pub surge_factor: u32,
    /// The fewest calls in a window that can make a surge (a key that
    /// usually makes 1 call is not wild at 10).
    pub surge_floor: u32,
    /// Whether a key's first call of a tool outside its usual set trips.
    pub new_tool: bool,
    pub window: Duration,
}

impl Default for TripwireConfig {
    fn default() -> Self {
        let d = RuleSettings::GUARD_DEFAULTS;
        Self {
            loop_calls: d.loop_calls,
            denial_burst: d.denial_burst,
            surge_factor: d.surge_factor,
            surge_floor: d.surge_floor,
            new_tool: d.new_tool,
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
/// Windows a key must have been used in before its rate and its tools
/// count as usual.
pub const LEARN_WINDOWS: u32 = 3;
/// A key's history is forgotten after this many idle windows.
const REMEMBERED_WINDOWS: u32 = 60;
/// The most tools remembered as a key's usual set.
const MAX_USUAL_TOOLS: usize = 64;

#[derive(Default)]
struct Window {
    started: Option<Instant>,
    same_calls: HashMap<u64, u32>,
    denials: u32,
    allowed: u32,
    history: History,
}

/// What a key usually does, over the windows it was used in.
#[derive(Default, Clone)]
struct History {
    /// Windows with at least one allowed call.
    windows: u32,
    /// Average allowed calls per such window.
    rate: f64,
    tools: std::collections::BTreeSet<String>,
    /// Tools of the current window, joining `tools` while learning.
    new_tools: std::collections::BTreeSet<String>,
}

impl History {
    fn learned(&self) -> bool {
        self.windows >= LEARN_WINDOWS
    }

    /// Folds a finished window in.
    fn close(&mut self, allowed: u32) {
        if allowed == 0 {
            return;
        }
        self.windows = self.windows.saturating_add(1);
        let n = f64::from(self.windows.min(20));
        self.rate += (f64::from(allowed) - self.rate) / n;
        let learning = !self.learned() || self.windows == LEARN_WINDOWS;
        let new_tools = std::mem::take(&mut self.new_tools);
        if learning {
            for t in new_tools {
                if self.tools.len() < MAX_USUAL_TOOLS {
                    self.tools.insert(t);
                }
            }
        }
    }
}

impl Default for Tripwires {
    fn default() -> Self {
        Self::new(TripwireConfig::default())
    }
}

pub(crate) struct Tripwires {
    /// The guard's own thresholds (its flags).
    own: RwLock<TripwireConfig>,
    /// The org's thresholds, when it set any: they replace the guard's own
    /// (the window stays the guard's).
    org: RwLock<Option<RuleSettings>>,
    watched: moka::sync::Cache<KeyId, Arc<Mutex<Window>>>,
    held: moka::sync::Cache<KeyId, ()>,
}

impl Tripwires {
    pub(crate) fn new(config: TripwireConfig) -> Self {
        Self {
            own: RwLock::new(config),
            org: RwLock::new(None),
            watched: moka::sync::Cache::builder()
                .max_capacity(MAX_KEYS)
                .time_to_idle(config.window.max(Duration::from_secs(1)) * REMEMBERED_WINDOWS)
                .build(),
            held: moka::sync::Cache::builder()
                .max_capacity(MAX_KEYS)
                .time_to_live(LOCAL_HOLD)
                .build(),
        }
    }

    pub(crate) fn configure(&self, config: TripwireConfig) {
        *self.own.write() = config;
    }

    /// The org's rule settings as last read from the authority (`None`:
    /// the org set none, the guard's own apply).
    pub(crate) fn apply_org_rules(&self, rules: Option<RuleSettings>) {
        *self.org.write() = rules;
    }

    pub(crate) fn org_rules(&self) -> Option<RuleSettings> {
        *self.org.read()
    }

    /// The thresholds in force: the org's if it set them, else the guard's.
    pub(crate) fn config(&self) -> TripwireConfig {
        let own = *self.own.read();
        match *self.org.read() {
            None => own,
            Some(r) => TripwireConfig {
                loop_calls: r.loop_calls,
                denial_burst: r.denial_burst,
                surge_factor: r.surge_factor,
                surge_floor: r.surge_floor,
                new_tool: r.new_tool,
                window: own.window,
            },
        }
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
        let config = self.config();
        let window = self.watched.get_with(key.clone(), Arc::default);
        let trip = {
            let mut w = window.lock();
            if w.started
                .is_none_or(|s| now.duration_since(s) >= config.window)
            {
                let mut history = std::mem::take(&mut w.history);
                history.close(w.allowed);
                *w = Window {
                    started: Some(now),
                    history,
                    ..Window::default()
                };
            }
            if let Observed::Allowed { tool, .. } = call {
                w.allowed = w.allowed.saturating_add(1);
                if let Some(trip) = unusual(&mut w, tool, &config) {
                    drop(w);
                    self.held.insert(key.clone(), ());
                    return Some(trip);
                }
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

/// The rules that compare a key's allowed call with its history: a surge
/// above its usual rate, a tool outside its usual set.
fn unusual(w: &mut Window, tool: &str, config: &TripwireConfig) -> Option<Trip> {
    let h = &mut w.history;
    if !h.learned() {
        if h.new_tools.len() < MAX_USUAL_TOOLS {
            h.new_tools.insert(tool.to_owned());
        }
        return None;
    }
    if config.new_tool && !h.tools.contains(tool) {
        return Some(Trip {
            rule: QuarantineRule::NewTool,
            evidence: format!(
                "first call of `{tool}`, outside the {} tools it used over its last {} active windows at this guard",
                h.tools.len(),
                h.windows
            ),
        });
    }
    if config.surge_factor > 0 {
        // Trips once, on the call that crosses the line.
        let line = (h.rate * f64::from(config.surge_factor))
            .ceil()
            .max(f64::from(config.surge_floor.max(1)));
        if f64::from(w.allowed) == line {
            return Some(Trip {
                rule: QuarantineRule::RateSurge,
                evidence: format!(
                    "{} calls within {}s at this guard, {}× its usual {:.1} per window",
                    w.allowed,
                    config.window.as_secs(),
                    config.surge_factor,
                    h.rate
                ),
            });
        }
    }
    None
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
            surge_factor: 0,
            new_tool: false,
            ..TripwireConfig::default()
        })
    }

    fn tool(name: &'static str, fp: u64) -> Observed<'static> {
        Observed::Allowed {
            tool: name,
            fingerprint: fp,
        }
    }

    /// `windows` windows of `calls` allowed calls each, of `tools` in turn.
    fn history(
        t: &Tripwires,
        key: &KeyId,
        start: Instant,
        windows: u32,
        calls: u64,
        tools: &[&'static str],
    ) -> Instant {
        let mut now = start;
        for _ in 0..windows {
            for i in 0..calls {
                let name = tools[(i as usize) % tools.len()];
                assert_eq!(t.observe(key, tool(name, i), now), None);
            }
            now += Duration::from_secs(61);
        }
        now
    }

    #[test]
    fn the_orgs_thresholds_replace_the_guards_own_until_cleared() {
        let t = wires(0, 0);
        let now = Instant::now();
        let key = KeyId::from_stored("key_o".into());
        for i in 0..10 {
            assert_eq!(
                t.observe(&key, tool("read_page", 7), now),
                None,
                "loop rule off: {i}"
            );
        }
        t.apply_org_rules(Some(RuleSettings {
            loop_calls: 3,
            denial_burst: 0,
            surge_factor: 0,
            surge_floor: 1,
            new_tool: false,
        }));
        let other = KeyId::from_stored("key_p".into());
        assert_eq!(t.observe(&other, tool("read_page", 7), now), None);
        assert_eq!(t.observe(&other, tool("read_page", 7), now), None);
        let trip = t
            .observe(&other, tool("read_page", 7), now)
            .expect("the org's 3rd");
        assert_eq!(trip.rule, QuarantineRule::Loop);
        assert_eq!(
            t.config().window,
            Duration::from_secs(60),
            "the window stays the guard's"
        );
        t.apply_org_rules(None);
        assert_eq!(t.config().loop_calls, 0);
    }

    #[test]
    fn a_surge_far_above_the_keys_own_rate_trips_once_learned() {
        let t = Tripwires::new(TripwireConfig {
            loop_calls: 0,
            denial_burst: 0,
            surge_factor: 10,
            surge_floor: 30,
            new_tool: false,
            window: Duration::from_secs(60),
        });
        let key = KeyId::from_stored("key_s".into());
        // While learning, even 200 calls in a window are no surge.
        let now = history(&t, &key, Instant::now(), 1, 200, &["read_page"]);
        let now = history(&t, &key, now, 2, 5, &["read_page"]);
        // Usual: (200 + 5 + 5) / 3 = 70 per window; the line is 700.
        for i in 0..699 {
            assert_eq!(t.observe(&key, tool("read_page", i), now), None, "call {i}");
        }
        let trip = t
            .observe(&key, tool("read_page", 0), now)
            .expect("the 700th");
        assert_eq!(trip.rule, QuarantineRule::RateSurge);
        assert!(trip.evidence.contains("700 calls"), "{}", trip.evidence);
        assert!(t.is_held(&key));

        // A quiet key is judged against the floor, not 10 × 1.
        let quiet = KeyId::from_stored("key_q".into());
        let now = history(&t, &quiet, Instant::now(), 3, 1, &["read_page"]);
        for i in 0..29 {
            assert_eq!(t.observe(&quiet, tool("read_page", i), now), None);
        }
        assert!(t.observe(&quiet, tool("read_page", 0), now).is_some());
    }

    #[test]
    fn a_tool_outside_the_usual_set_trips_only_when_asked_for() {
        let config = TripwireConfig {
            loop_calls: 0,
            denial_burst: 0,
            surge_factor: 0,
            surge_floor: 100,
            new_tool: true,
            window: Duration::from_secs(60),
        };
        let t = Tripwires::new(config);
        let key = KeyId::from_stored("key_n".into());
        let now = history(
            &t,
            &key,
            Instant::now(),
            3,
            4,
            &["read_page", "search_pages"],
        );
        assert_eq!(t.observe(&key, tool("search_pages", 1), now), None);
        let trip = t
            .observe(&key, tool("delete_page", 1), now)
            .expect("a new tool");
        assert_eq!(trip.rule, QuarantineRule::NewTool);
        assert!(trip.evidence.contains("`delete_page`"), "{}", trip.evidence);

        let off = Tripwires::new(TripwireConfig {
            new_tool: false,
            ..config
        });
        let now = history(&off, &key, Instant::now(), 3, 4, &["read_page"]);
        assert_eq!(off.observe(&key, tool("delete_page", 1), now), None);
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
