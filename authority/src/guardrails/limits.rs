//! Rate limits and budgets on a key's tool calls.
//!
//! How they hold across many guards and many authority servers without a
//! global write per call: each limit has one counter in the store per
//! window (`store::Store::take_allowance`). A guard asks for an allowance
//! of calls, spends it locally, and asks again when it runs out. A grant is
//! taken from the counter in one atomic step and never exceeds what is
//! left, so the calls let through never exceed the limit: the overshoot is
//! zero by construction. The price is undershoot: calls granted to a guard
//! that then sees no traffic are unavailable to the others until the window
//! ends (a budget that never refills: until its limit changes or the guard
//! restarts). Grants shrink as the counter fills ([`lease_size`]), so the
//! last calls of a limit go out one at a time.
//!
//! Windows are fixed and aligned to the Unix epoch (rates), to 00:00 UTC
//! (daily budgets) or to the first of the month (monthly), so every guard
//! and server agrees where a window ends.

use chrono::{Datelike, TimeZone, Utc};
use model::wire::{KeyLimit, LimitKind, LimitView, Refill};

use crate::ids::KeyId;
use crate::scopes::Scope;
use crate::time::Timestamp;

/// The most limits a key may set for itself.
pub const MAX_OWN_LIMITS: usize = 10;
/// The most limits a key may carry with those it inherited.
pub const MAX_LIMITS: usize = 32;
/// The largest rate window: a day (longer periods are budgets).
pub const MAX_RATE_WINDOW_SECS: u64 = 86_400;
/// The largest number a limit may count to.
pub const MAX_CALLS: u64 = 1_000_000_000_000;
/// The most calls one grant hands a guard.
pub const MAX_GRANT: u64 = 1_000;

/// Why a limit is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("at most {MAX_OWN_LIMITS} limits per key; merge some")]
    TooMany,
    #[error("the key would carry {0} limits with those it inherits, more than {MAX_LIMITS}; set fewer of its own")]
    TooManyInherited(usize),
    #[error("`{0}` is not a scope: {1}")]
    Scope(String, String),
    #[error("{0} must be between 1 and {max}", max = MAX_CALLS)]
    Calls(&'static str),
    #[error("per_seconds must be between 1 and {MAX_RATE_WINDOW_SECS} (a day); use a budget with a refill for longer periods")]
    Window,
    #[error("two {kind} limits on {on}: keep one")]
    Duplicate { kind: &'static str, on: String },
}

/// One validated limit: what it counts and how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    scope: Option<Scope>,
    rule: Rule,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    Rate { max: u64, per_secs: u64 },
    Budget { calls: u64, refill: Refill },
}

/// The window a limit counts in at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Where it starts (seconds since the epoch; 0 for a budget that never
    /// refills): the counter starts over when this moves.
    pub start: i64,
    /// Where it ends; `None`: never.
    pub ends: Option<Timestamp>,
}

impl Limit {
    pub fn parse(wire: &KeyLimit) -> Result<Self, LimitError> {
        let scope = wire
            .scope()
            .map(|s| Scope::parse(s).map_err(|e| LimitError::Scope(s.to_owned(), e.to_string())))
            .transpose()?;
        let in_range = |n: u64| (1..=MAX_CALLS).contains(&n);
        let rule = match *wire {
            KeyLimit::Rate {
                max, per_seconds, ..
            } => {
                if !in_range(max) {
                    return Err(LimitError::Calls("max"));
                }
                if !(1..=MAX_RATE_WINDOW_SECS).contains(&per_seconds) {
                    return Err(LimitError::Window);
                }
                Rule::Rate {
                    max,
                    per_secs: per_seconds,
                }
            }
            KeyLimit::Budget { calls, refill, .. } => {
                if !in_range(calls) {
                    return Err(LimitError::Calls("calls"));
                }
                Rule::Budget { calls, refill }
            }
        };
        Ok(Self { scope, rule })
    }

    pub fn to_wire(&self) -> KeyLimit {
        let scope = self.scope.as_ref().map(ToString::to_string);
        match self.rule {
            Rule::Rate { max, per_secs } => KeyLimit::Rate {
                scope,
                max,
                per_seconds: per_secs,
            },
            Rule::Budget { calls, refill } => KeyLimit::Budget {
                scope,
                calls,
                refill,
            },
        }
    }

    pub fn kind(&self) -> LimitKind {
        match self.rule {
            Rule::Rate { .. } => LimitKind::Rate,
            Rule::Budget { .. } => LimitKind::Budget,
        }
    }

    /// The tool scope it counts; `None`: every tool call.
    pub fn scope(&self) -> Option<&Scope> {
        self.scope.as_ref()
    }

    /// Whether a call needing `required` counts against it.
    pub fn counts(&self, required: &Scope) -> bool {
        self.scope.as_ref().is_none_or(|s| s == required)
    }

    /// How many calls a window holds.
    pub fn cap(&self) -> u64 {
        match self.rule {
            Rule::Rate { max, .. } => max,
            Rule::Budget { calls, .. } => calls,
        }
    }

    /// The counter's name among its owner's: one per kind and scope.
    pub fn counter(&self) -> String {
        counter_name(self.kind(), self.scope.as_ref())
    }

    /// The window `now` falls in.
    pub fn window(&self, now: Timestamp) -> Window {
        let secs = now.as_secs();
        match self.rule {
            Rule::Rate { per_secs, .. } => {
                let per = i64::try_from(per_secs).unwrap_or(i64::MAX);
                let start = secs.div_euclid(per) * per;
                Window {
                    start,
                    ends: Some(Timestamp::from_secs(start.saturating_add(per))),
                }
            }
            Rule::Budget {
                refill: Refill::Never,
                ..
            } => Window {
                start: 0,
                ends: None,
            },
            Rule::Budget {
                refill: Refill::Daily,
                ..
            } => {
                let start = secs.div_euclid(86_400) * 86_400;
                Window {
                    start,
                    ends: Some(Timestamp::from_secs(start + 86_400)),
                }
            }
            Rule::Budget {
                refill: Refill::Monthly,
                ..
            } => month_window(now),
        }
    }
}

/// The calendar month (UTC) of `now`.
fn month_window(now: Timestamp) -> Window {
    let Some(dt) = now.to_datetime() else {
        return Window {
            start: 0,
            ends: None,
        };
    };
    let first = |year: i32, month: u32| {
        Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0)
            .single()
            .map_or(0, |d| d.timestamp())
    };
    let (year, month) = (dt.year(), dt.month());
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    Window {
        start: first(year, month),
        ends: Some(Timestamp::from_secs(first(next_year, next_month))),
    }
}

/// A counter's name: `rate:*`, `budget:svc:wiki:write`.
pub fn counter_name(kind: LimitKind, scope: Option<&Scope>) -> String {
    match scope {
        Some(s) => format!("{}:{s}", kind.as_str()),
        None => format!("{}:*", kind.as_str()),
    }
}

/// How many calls one grant hands out when `left` remain: an eighth of
/// what is left (at least one, at most [`MAX_GRANT`]). A guard that asks
/// often gets smaller grants as the limit fills, so what idle guards hold
/// back shrinks with it.
pub fn lease_size(left: u64) -> u64 {
    left.div_ceil(8).clamp(1, MAX_GRANT).min(left)
}

/// What one grant takes from a counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Take {
    /// The window the counter counts in after it.
    pub window_start: i64,
    /// Calls used in that window, this grant included.
    pub used: u64,
    pub granted: u64,
}

/// The grant a counter last written as `stored` (its window's start and
/// the calls used in it) makes for the window starting at `window_start`:
/// a counter of an earlier window starts over; one already in a later
/// window (another server's clock is ahead) is taken from as it is.
/// `None` when nothing is left. Every store decides with this, inside its
/// atomic step.
pub fn take(stored: Option<(i64, u64)>, window_start: i64, cap: u64) -> Option<Take> {
    let (window_start, used) = match stored {
        Some((w, used)) if w >= window_start => (w, used),
        _ => (window_start, 0),
    };
    let granted = lease_size(cap.saturating_sub(used));
    (granted > 0).then_some(Take {
        window_start,
        used: used + granted,
        granted,
    })
}

/// A limit a key's calls count against, and whose counter they spend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargedLimit {
    /// The key the counter belongs to: the key itself (or, after a
    /// rotation, the key it rotated from: a rotation does not refill a
    /// budget), or the key it inherited the limit from.
    pub owner: KeyId,
    pub limit: Limit,
    /// Inherited from the key that minted it: not the key's own to change.
    pub inherited: bool,
}

/// The limits a key's calls count against: its own, then those it
/// inherited from the key that minted it. Private so that every list was
/// checked ([`KeyLimits::own`], [`KeyLimits::minted_by`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyLimits(Vec<ChargedLimit>);

impl KeyLimits {
    /// A key's own limits, checked: at most [`MAX_OWN_LIMITS`], one per
    /// kind and scope; `owner` names their counters.
    pub fn own(owner: &KeyId, wire: &[KeyLimit]) -> Result<Vec<ChargedLimit>, LimitError> {
        if wire.len() > MAX_OWN_LIMITS {
            return Err(LimitError::TooMany);
        }
        let mut own: Vec<ChargedLimit> = Vec::with_capacity(wire.len());
        for w in wire {
            let limit = Limit::parse(w)?;
            if own.iter().any(|c| c.limit.counter() == limit.counter()) {
                return Err(LimitError::Duplicate {
                    kind: limit.kind().as_str(),
                    on: limit
                        .scope()
                        .map_or_else(|| "all tools".to_owned(), ToString::to_string),
                });
            }
            own.push(ChargedLimit {
                owner: owner.clone(),
                limit,
                inherited: false,
            });
        }
        Ok(own)
    }

    /// A new key's limits: its own, then every limit of the key that
    /// minted it, inherited (the new key's calls spend those too).
    pub fn minted_by(own: Vec<ChargedLimit>, minter: &KeyLimits) -> Result<Self, LimitError> {
        let mut all = own;
        all.extend(minter.0.iter().map(|c| ChargedLimit {
            inherited: true,
            ..c.clone()
        }));
        if all.len() > MAX_LIMITS {
            return Err(LimitError::TooManyInherited(all.len()));
        }
        Ok(Self(all))
    }

    /// Whose counters the key's own limits spend: the owner of the ones it
    /// has (kept through rotations), else `key` itself.
    pub fn own_owner(&self, key: &KeyId) -> KeyId {
        self.0
            .iter()
            .find(|c| !c.inherited)
            .map_or_else(|| key.clone(), |c| c.owner.clone())
    }

    /// The same limits with the own ones replaced by `own` (checked: at
    /// most [`MAX_LIMITS`] with the inherited ones).
    pub fn with_own(&self, own: Vec<ChargedLimit>) -> Result<Self, LimitError> {
        let mut all = own;
        all.extend(self.0.iter().filter(|c| c.inherited).cloned());
        if all.len() > MAX_LIMITS {
            return Err(LimitError::TooManyInherited(all.len()));
        }
        Ok(Self(all))
    }

    /// The limit whose counter is `owner`'s `counter`.
    pub fn find(&self, owner: &KeyId, counter: &str) -> Option<&Limit> {
        self.0
            .iter()
            .find(|c| &c.owner == owner && c.limit.counter() == counter)
            .map(|c| &c.limit)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &ChargedLimit> {
        self.0.iter()
    }

    /// The limits a call needing `required` counts against.
    pub fn counting<'a>(
        &'a self,
        required: &'a Scope,
    ) -> impl Iterator<Item = &'a ChargedLimit> + 'a {
        self.0.iter().filter(move |c| c.limit.counts(required))
    }

    pub fn views(&self) -> Vec<LimitView> {
        self.0
            .iter()
            .map(|c| LimitView {
                owner: c.owner.clone(),
                limit: c.limit.to_wire(),
                inherited: c.inherited,
            })
            .collect()
    }

    /// Reads limits back from their views (the store's and introspection's
    /// form), checking each again.
    pub fn from_views(views: &[LimitView]) -> Result<Self, LimitError> {
        if views.len() > MAX_LIMITS {
            return Err(LimitError::TooManyInherited(views.len()));
        }
        views
            .iter()
            .map(|v| {
                Ok(ChargedLimit {
                    owner: v.owner.clone(),
                    limit: Limit::parse(&v.limit)?,
                    inherited: v.inherited,
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }
}

impl serde::Serialize for KeyLimits {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.views().serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for KeyLimits {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let views = Vec::<LimitView>::deserialize(d)?;
        Self::from_views(&views).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(max: u64, per: u64) -> KeyLimit {
        KeyLimit::Rate {
            scope: None,
            max,
            per_seconds: per,
        }
    }

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn limits_are_checked() {
        let id = KeyId::generate();
        assert!(KeyLimits::own(&id, &[rate(100, 60)]).is_ok());
        assert_eq!(Limit::parse(&rate(0, 60)), Err(LimitError::Calls("max")));
        assert_eq!(Limit::parse(&rate(1, 0)), Err(LimitError::Window));
        assert_eq!(Limit::parse(&rate(1, 86_401)), Err(LimitError::Window));
        let bad_scope = KeyLimit::Budget {
            scope: Some("wiki".into()),
            calls: 5,
            refill: Refill::Never,
        };
        assert!(matches!(
            Limit::parse(&bad_scope),
            Err(LimitError::Scope(..))
        ));
        assert!(matches!(
            KeyLimits::own(&id, &[rate(1, 1), rate(2, 2)]),
            Err(LimitError::Duplicate { .. })
        ));
        assert_eq!(
            KeyLimits::own(&id, &vec![rate(1, 1); 11]),
            Err(LimitError::TooMany)
        );
    }

    #[test]
    fn windows_align_so_every_guard_agrees() {
        let r = Limit::parse(&rate(10, 60)).unwrap();
        let w = r.window(at("2026-11-27T13:05:42.500Z"));
        assert_eq!(Timestamp::from_secs(w.start), at("2026-11-27T13:05:00Z"));
        assert_eq!(w.ends, Some(at("2026-11-27T13:06:00Z")));
        let daily = Limit::parse(&KeyLimit::Budget {
            scope: None,
            calls: 5,
            refill: Refill::Daily,
        })
        .unwrap();
        let w = daily.window(at("2026-11-27T23:59:59Z"));
        assert_eq!(Timestamp::from_secs(w.start), at("2026-11-27T00:00:00Z"));
        assert_eq!(w.ends, Some(at("2026-11-28T00:00:00Z")));
        let monthly = Limit::parse(&KeyLimit::Budget {
            scope: None,
            calls: 5,
            refill: Refill::Monthly,
        })
        .unwrap();
        let w = monthly.window(at("2026-12-31T12:00:00Z"));
        assert_eq!(Timestamp::from_secs(w.start), at("2026-12-01T00:00:00Z"));
        assert_eq!(w.ends, Some(at("2027-01-01T00:00:00Z")));
        let never = Limit::parse(&KeyLimit::Budget {
            scope: None,
            calls: 5,
            refill: Refill::Never,
        })
        .unwrap();
        assert_eq!(never.window(at("2026-12-31T12:00:00Z")).ends, None);
    }

    #[test]
    fn grants_shrink_as_a_limit_fills_and_never_exceed_it() {
        assert_eq!(lease_size(100), 13);
        assert_eq!(lease_size(7), 1);
        assert_eq!(lease_size(1), 1);
        assert_eq!(lease_size(0), 0);
        assert_eq!(lease_size(u64::MAX), MAX_GRANT);
        let mut left = 100u64;
        let mut grants = 0;
        while left > 0 {
            let g = lease_size(left);
            assert!(g >= 1 && g <= left);
            left -= g;
            grants += 1;
        }
        assert!(grants < 40, "{grants} grants for 100 calls");
    }

    #[test]
    fn a_counter_starts_over_in_a_new_window_and_never_goes_back() {
        assert_eq!(
            take(None, 60, 10),
            Some(Take {
                window_start: 60,
                used: 2,
                granted: 2
            })
        );
        assert_eq!(take(Some((0, 10)), 60, 10).unwrap().used, 2, "a new window");
        assert_eq!(take(Some((60, 10)), 60, 10), None, "spent");
        assert_eq!(
            take(Some((120, 9)), 60, 10).map(|t| (t.window_start, t.used)),
            Some((120, 10)),
            "a later window is never reset by a clock behind"
        );
    }

    #[test]
    fn a_call_counts_against_key_wide_limits_and_its_scopes() {
        let id = KeyId::generate();
        let write = Scope::parse("svc:wiki:write").unwrap();
        let read = Scope::parse("svc:wiki:read").unwrap();
        let own = KeyLimits::own(
            &id,
            &[
                rate(100, 60),
                KeyLimit::Budget {
                    scope: Some(write.to_string()),
                    calls: 5,
                    refill: Refill::Daily,
                },
            ],
        )
        .unwrap();
        let limits = KeyLimits::minted_by(own, &KeyLimits::default()).unwrap();
        assert_eq!(limits.counting(&write).count(), 2);
        assert_eq!(limits.counting(&read).count(), 1);
        let child = KeyId::generate();
        let inherited =
            KeyLimits::minted_by(KeyLimits::own(&child, &[]).unwrap(), &limits).unwrap();
        assert!(inherited.iter().all(|c| c.owner == id && c.inherited));
        assert_eq!(inherited.own_owner(&child), child);
        let edited = inherited
            .with_own(KeyLimits::own(&child, &[rate(1, 1)]).unwrap())
            .unwrap();
        assert_eq!(edited.iter().count(), 3);
        assert_eq!(edited.iter().filter(|c| !c.inherited).count(), 1);
        assert!(edited.find(&child, "rate:*").is_some());
        assert!(edited.find(&id, "budget:svc:wiki:write").is_some());
        // A rotated key keeps spending its predecessor's counters.
        assert_eq!(limits.own_owner(&KeyId::generate()), id);
        assert_eq!(KeyLimits::from_views(&edited.views()), Ok(edited));
    }
}
