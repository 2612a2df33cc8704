//! When a failed delivery is tried again, and when it is given up.
//!
//! The wait grows fourfold from `first` (5 s by default: 5 s, 20 s, 80 s,
//! 5 min, 21 min, 85 min, 5.7 h, then every 6 h), so an endpoint that is down for
//! a deploy gets its messages within seconds of coming back, and one that
//! is gone costs a few attempts a day. After [`MAX_ATTEMPTS`] the delivery
//! is failed and shows so in the delivery log.

use std::time::Duration;

/// Attempts per delivery, the first included (over about 32 hours with
/// the default schedule).
pub const MAX_ATTEMPTS: u32 = 12;
/// The longest wait between two attempts.
pub const MAX_WAIT: Duration = Duration::from_secs(6 * 3600);

/// The wait after the `attempts`-th failed attempt, or `None` when that was
/// the last one.
pub fn wait_after(attempts: u32, first: Duration) -> Option<Duration> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let factor = 4u32.saturating_pow(attempts.saturating_sub(1));
    Some(first.saturating_mul(factor).min(MAX_WAIT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_fourfold_up_to_six_hours_then_stop() {
        let first = Duration::from_secs(5);
        let waits: Vec<u64> = (1..MAX_ATTEMPTS)
            .map(|n| wait_after(n, first).unwrap().as_secs())
            .collect();
        assert_eq!(
            waits,
            [5, 20, 80, 320, 1280, 5120, 20480, 21600, 21600, 21600, 21600]
        );
        assert_eq!(wait_after(MAX_ATTEMPTS, first), None);
        let total: u64 = waits.iter().sum();
        assert!((31 * 3600..32 * 3600).contains(&total), "{total}");
    }
}
