//! Rate limits and budgets at the guard. A limited call is let through on
//! an allowance: calls taken from the limit's counter at the authority
//! (`authority::guardrails::limits`) and spent here, so the authority is
//! asked once per grant, not once per call, and the calls all guards let
//! through never add up to more than the limit.
//!
//! A grant holds until its window ends (a budget that never refills: until
//! its limits change, which the revocation stream says). A refusal is
//! remembered as long as the window lasts, so a key hammering a spent limit
//! costs the authority nothing.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use authority::guardrails::ChargedLimit;
use authority::ids::{KeyId, OrgId};
use authority::scopes::Scope;
use authority::KeyContext;
use model::wire::{AllowanceGrant, AllowanceRequest, LimitKind};
use parking_lot::Mutex;

/// How long a spent budget that never refills is taken as spent before the
/// authority is asked again (a raised budget is heard at once anyway).
const SPENT_RECHECK: Duration = Duration::from_secs(5);
/// Allowances held at most; past it, expired ones go, then all (dropping an
/// allowance only ever lets fewer calls through).
const MAX_ALLOWANCES: usize = 100_000;
/// Grants one call asks for at most (each ask hands the asker its own call
/// first, so one is enough unless the limit changes meanwhile).
const MAX_ASKS: usize = 4;

/// Why a limit refused a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitReached {
    pub kind: LimitKind,
    /// When the window or the budget's period ends; `None`: a budget that
    /// never refills.
    pub retry_after_secs: Option<u64>,
}

/// What a limited call got.
#[derive(Debug)]
pub(crate) enum Spend {
    Allowed,
    Refused(LimitReached),
    /// The authority could not be asked: fail closed.
    Unavailable(String),
}

/// Where grants come from: the authority in-process, or over HTTP.
pub(crate) trait GrantSource {
    async fn grant(
        &self,
        key: &KeyId,
        request: &AllowanceRequest,
    ) -> Result<AllowanceGrant, String>;
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Counter {
    org: OrgId,
    owner: KeyId,
    counter: String,
}

#[derive(Debug, Clone, Copy)]
enum Held {
    /// Calls left of a grant.
    Calls(u64),
    /// The limit is spent; `retry_after` is what callers are told.
    Spent { retry_after: Option<Instant> },
    /// The key no longer has the limit.
    Unlimited,
}

#[derive(Debug, Clone, Copy)]
struct Allowance {
    held: Held,
    /// When it stops holding; `None`: until the key's limits change.
    until: Option<Instant>,
}

enum Take {
    Taken,
    Spent(Option<Instant>),
    Ask,
}

/// The allowances this guard holds, per limit counter.
#[derive(Default)]
pub(crate) struct Allowances {
    held: Mutex<HashMap<Counter, Allowance>>,
    /// One ask at a time per counter: when a grant runs out under many
    /// concurrent calls, one of them asks and the others wait for its
    /// answer instead of each sending the authority a write.
    asking: Mutex<HashMap<Counter, std::sync::Arc<tokio::sync::Mutex<()>>>>,
}

impl Allowances {
    /// Takes one call from every limit a call needing `scope` counts
    /// against, asking `source` for grants as needed. All or nothing: a
    /// refusal gives back what was taken.
    pub(crate) async fn spend(
        &self,
        ctx: &KeyContext,
        scope: &Scope,
        source: &impl GrantSource,
    ) -> Spend {
        let mut taken: Vec<Counter> = Vec::new();
        for limit in ctx.limits.counting(scope) {
            let counter = Counter {
                org: ctx.org.clone(),
                owner: limit.owner.clone(),
                counter: limit.limit.counter(),
            };
            let mut asks = 0;
            loop {
                match self.take(&counter, Instant::now()) {
                    Take::Taken => {
                        taken.push(counter);
                        break;
                    }
                    Take::Spent(retry_after) => {
                        self.give_back(&taken);
                        return Spend::Refused(LimitReached {
                            kind: limit.limit.kind(),
                            retry_after_secs: retry_after.map(|at| {
                                at.saturating_duration_since(Instant::now())
                                    .as_secs_f64()
                                    .ceil() as u64
                            }),
                        });
                    }
                    Take::Ask => {
                        let gate = self.gate(&counter);
                        let _one_asker = gate.lock().await;
                        if !self.needs_ask(&counter, Instant::now()) {
                            // Another call's ask answered while this one waited.
                            continue;
                        }
                        if asks >= MAX_ASKS {
                            self.give_back(&taken);
                            return Spend::Unavailable(format!(
                                "{MAX_ASKS} grants asked for one call: the limit keeps changing"
                            ));
                        }
                        asks += 1;
                        let asked_at = Instant::now();
                        match source.grant(&ctx.key_id, &request_for(limit)).await {
                            Ok(grant) => {
                                if self.hold_taking_one(counter.clone(), &grant, asked_at) {
                                    taken.push(counter);
                                    break;
                                }
                            }
                            Err(cause) => {
                                self.give_back(&taken);
                                return Spend::Unavailable(cause);
                            }
                        }
                    }
                }
            }
        }
        Spend::Allowed
    }

    fn take(&self, counter: &Counter, now: Instant) -> Take {
        let mut held = self.held.lock();
        let Some(a) = held.get_mut(counter) else {
            return Take::Ask;
        };
        if a.until.is_some_and(|until| until <= now) {
            held.remove(counter);
            return Take::Ask;
        }
        match &mut a.held {
            Held::Unlimited => Take::Taken,
            Held::Calls(0) => Take::Ask,
            Held::Calls(n) => {
                *n -= 1;
                Take::Taken
            }
            Held::Spent { retry_after } => Take::Spent(*retry_after),
        }
    }

    fn gate(&self, counter: &Counter) -> std::sync::Arc<tokio::sync::Mutex<()>> {
        let mut asking = self.asking.lock();
        if asking.len() >= MAX_ALLOWANCES {
            asking.retain(|_, gate| std::sync::Arc::strong_count(gate) > 1);
        }
        asking.entry(counter.clone()).or_default().clone()
    }

    /// Whether a call must ask for a grant: nothing held, or an expired or
    /// spent grant.
    fn needs_ask(&self, counter: &Counter, now: Instant) -> bool {
        match self.held.lock().get(counter) {
            None => true,
            Some(a) if a.until.is_some_and(|until| until <= now) => true,
            Some(a) => matches!(a.held, Held::Calls(0)),
        }
    }

    /// Stores a grant the asker spends one call of at once (so every ask
    /// that gets calls lets its own call through); `false` when it brought
    /// no calls to take (spent, or no longer limited).
    fn hold_taking_one(&self, counter: Counter, grant: &AllowanceGrant, asked_at: Instant) -> bool {
        let mut allowance = allowance_of(grant, asked_at);
        let Held::Calls(n) = allowance.held else {
            self.store(counter, allowance);
            return false;
        };
        allowance.held = Held::Calls(n - 1);
        self.store(counter, allowance);
        true
    }

    fn store(&self, counter: Counter, allowance: Allowance) {
        let mut held = self.held.lock();
        if held.len() >= MAX_ALLOWANCES {
            let now = Instant::now();
            held.retain(|_, a| a.until.is_none_or(|u| u > now));
            if held.len() >= MAX_ALLOWANCES {
                held.clear();
            }
        }
        let now = Instant::now();
        match (held.get_mut(&counter), allowance.held) {
            // Calls granted to racing asks add up: the counter handed out
            // each of them once. They hold until the earlier end (never
            // past a window), and a refusal that raced with a grant waits
            // until the calls are spent.
            (Some(old), new)
                if matches!(old.held, Held::Calls(n) if n > 0)
                    && old.until.is_none_or(|u| u > now) =>
            {
                if let (Held::Calls(n), Held::Calls(more)) = (&mut old.held, new) {
                    *n += more;
                    old.until = match (old.until, allowance.until) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
            }
            _ => {
                held.insert(counter, allowance);
            }
        }
    }

    fn give_back(&self, taken: &[Counter]) {
        let mut held = self.held.lock();
        for counter in taken {
            if let Some(Allowance {
                held: Held::Calls(n),
                ..
            }) = held.get_mut(counter)
            {
                *n += 1;
            }
        }
    }

    /// The limits owned by `key` changed: what is held of them is stale.
    pub(crate) fn forget_owner(&self, key: &KeyId) {
        self.held.lock().retain(|c, _| &c.owner != key);
    }

    /// Nothing the stream said can be trusted (it lost events).
    pub(crate) fn clear(&self) {
        self.held.lock().clear();
    }

    pub(crate) fn len(&self) -> usize {
        self.held.lock().len()
    }
}

/// What a grant lets this guard do, and until when: measured from when it
/// was asked for, so it never outlives the authority's window (whose clock
/// it is).
fn allowance_of(grant: &AllowanceGrant, asked_at: Instant) -> Allowance {
    let until = grant
        .valid_for_ms
        .map(|ms| asked_at + Duration::from_millis(ms));
    if grant.unlimited {
        Allowance {
            held: Held::Unlimited,
            until,
        }
    } else if grant.granted == 0 {
        Allowance {
            held: Held::Spent { retry_after: until },
            until: Some(until.unwrap_or(asked_at + SPENT_RECHECK)),
        }
    } else {
        Allowance {
            held: Held::Calls(grant.granted),
            until,
        }
    }
}

fn request_for(limit: &ChargedLimit) -> AllowanceRequest {
    AllowanceRequest {
        owner: limit.owner.clone(),
        kind: limit.limit.kind(),
        scope: limit.limit.scope().map(ToString::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::wire::{KeyLimit, Refill};
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A counter like the authority's: hands out `lease_size` of what is
    /// left, and counts the asks.
    struct Counted {
        left: Mutex<u64>,
        asks: AtomicU64,
    }

    impl GrantSource for Counted {
        async fn grant(
            &self,
            _key: &KeyId,
            _request: &AllowanceRequest,
        ) -> Result<AllowanceGrant, String> {
            self.asks.fetch_add(1, Ordering::Relaxed);
            let mut left = self.left.lock();
            let granted = authority::guardrails::limits::lease_size(*left);
            *left -= granted;
            Ok(AllowanceGrant {
                granted,
                valid_for_ms: Some(60_000),
                unlimited: false,
            })
        }
    }

    fn limited(limits: &[KeyLimit]) -> KeyContext {
        let id = KeyId::generate();
        let own = authority::guardrails::KeyLimits::own(&id, limits).unwrap();
        KeyContext {
            key_id: id,
            org: OrgId::parse("acme").unwrap(),
            name: "bot".into(),
            env: authority::keys::Env::Test,
            agent: None,
            scopes: authority::scopes::ScopeSet::default(),
            expires_at: None,
            created_by: None,
            person: None,
            resources: Vec::new(),
            oauth: None,
            networks: Default::default(),
            metadata: None,
            limits: authority::guardrails::KeyLimits::minted_by(own, &Default::default()).unwrap(),
        }
    }

    #[tokio::test]
    async fn a_budget_lets_through_exactly_its_calls_and_asks_per_grant() {
        let ctx = limited(&[KeyLimit::Budget {
            scope: None,
            calls: 100,
            refill: Refill::Never,
        }]);
        let source = Counted {
            left: Mutex::new(100),
            asks: AtomicU64::new(0),
        };
        let allowances = Allowances::default();
        let scope = Scope::parse("svc:wiki:read").unwrap();
        let mut allowed = 0;
        for _ in 0..150 {
            match allowances.spend(&ctx, &scope, &source).await {
                Spend::Allowed => allowed += 1,
                Spend::Refused(r) => assert_eq!(r.kind, LimitKind::Budget),
                Spend::Unavailable(cause) => panic!("{cause}"),
            }
        }
        assert_eq!(allowed, 100);
        let asks = source.asks.load(Ordering::Relaxed);
        assert!(asks < 40, "{asks} asks for 100 calls");
    }

    #[tokio::test]
    async fn a_refusal_gives_back_what_other_limits_gave() {
        let write = Scope::parse("svc:wiki:write").unwrap();
        let ctx = limited(&[
            KeyLimit::Rate {
                scope: None,
                max: 1000,
                per_seconds: 60,
            },
            KeyLimit::Budget {
                scope: Some(write.to_string()),
                calls: 1,
                refill: Refill::Daily,
            },
        ]);
        struct Split;
        impl GrantSource for Split {
            async fn grant(
                &self,
                _key: &KeyId,
                request: &AllowanceRequest,
            ) -> Result<AllowanceGrant, String> {
                Ok(AllowanceGrant {
                    granted: if request.kind == LimitKind::Rate {
                        5
                    } else {
                        0
                    },
                    valid_for_ms: Some(30_000),
                    unlimited: false,
                })
            }
        }
        let allowances = Allowances::default();
        match allowances.spend(&ctx, &write, &Split).await {
            Spend::Refused(r) => {
                assert_eq!(r.kind, LimitKind::Budget);
                assert!(matches!(r.retry_after_secs, Some(29..=30)), "{r:?}");
            }
            other => panic!("{other:?}"),
        }
        let rate = Counter {
            org: ctx.org.clone(),
            owner: ctx.key_id.clone(),
            counter: "rate:*".into(),
        };
        assert!(matches!(
            allowances.held.lock().get(&rate).map(|a| a.held),
            Some(Held::Calls(5))
        ));
        allowances.forget_owner(&ctx.key_id);
        assert_eq!(allowances.len(), 0);
    }

    /// Many calls find the grant spent at once: one asks, the others wait
    /// for its answer (found by the latency example: at 64 concurrent
    /// callers every one of them asked, and the p99 tripled).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_calls_on_a_spent_grant_send_one_ask() {
        struct Slow(AtomicU64);
        impl GrantSource for Slow {
            async fn grant(
                &self,
                _key: &KeyId,
                _request: &AllowanceRequest,
            ) -> Result<AllowanceGrant, String> {
                self.0.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok(AllowanceGrant {
                    granted: 1000,
                    valid_for_ms: Some(60_000),
                    unlimited: false,
                })
            }
        }
        let ctx = std::sync::Arc::new(limited(&[KeyLimit::Rate {
            scope: None,
            max: 1_000_000,
            per_seconds: 60,
        }]));
        let allowances = std::sync::Arc::new(Allowances::default());
        let source = std::sync::Arc::new(Slow(AtomicU64::new(0)));
        let calls: Vec<_> = (0..32)
            .map(|_| {
                let (ctx, allowances, source) = (ctx.clone(), allowances.clone(), source.clone());
                tokio::spawn(async move {
                    let scope = Scope::parse("svc:wiki:read").unwrap();
                    matches!(
                        allowances.spend(&ctx, &scope, &*source).await,
                        Spend::Allowed
                    )
                })
            })
            .collect();
        for call in calls {
            assert!(call.await.unwrap());
        }
        assert_eq!(source.0.load(Ordering::Relaxed), 1);
    }

    /// Racing asks: grants add up, and a refusal that arrives after a
    /// grant does not throw the granted calls away (they were taken from
    /// the counter; losing them would let fewer calls through than the
    /// limit). Found by the 3-guard test: 11 of a rate limit of 12.
    #[test]
    fn racing_grants_add_up_and_a_late_refusal_keeps_them() {
        let allowances = Allowances::default();
        let counter = Counter {
            org: OrgId::parse("acme").unwrap(),
            owner: KeyId::generate(),
            counter: "rate:*".into(),
        };
        let grant = |granted| AllowanceGrant {
            granted,
            valid_for_ms: Some(60_000),
            unlimited: false,
        };
        let asked = Instant::now();
        allowances.store(counter.clone(), allowance_of(&grant(2), asked));
        allowances.store(
            counter.clone(),
            allowance_of(&grant(1), asked + Duration::from_millis(3)),
        );
        allowances.store(
            counter.clone(),
            allowance_of(&grant(0), asked + Duration::from_millis(5)),
        );
        let now = Instant::now();
        for _ in 0..3 {
            assert!(matches!(allowances.take(&counter, now), Take::Taken));
        }
        assert!(matches!(allowances.take(&counter, now), Take::Ask));
        allowances.store(counter.clone(), allowance_of(&grant(0), now));
        assert!(matches!(
            allowances.take(&counter, now),
            Take::Spent(Some(_))
        ));
    }
}
