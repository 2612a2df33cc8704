//! Timestamps.
//!
//! Every instant in acekeys is a [`Timestamp`]: milliseconds since the Unix
//! epoch, UTC. Integers are what every backend stores cheaply and compares
//! exactly; RFC 3339 (through `chrono`) is only the wire format. Clocks
//! live in the authority: reading "now" is the server's business.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Milliseconds since the Unix epoch (UTC).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Whole seconds since the epoch, rounded down (RFC 7662's `exp`).
    pub const fn as_secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    pub const fn from_secs(secs: i64) -> Self {
        Self(secs.saturating_mul(1000))
    }

    pub fn plus_secs(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs.saturating_mul(1000)))
    }

    pub fn plus_days(self, days: i64) -> Self {
        self.plus_secs(days.saturating_mul(86_400))
    }

    /// The instant as a `chrono` date-time, if it is within chrono's range
    /// (±262,000 years).
    pub fn to_datetime(self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_millis(self.0)
    }

    /// RFC 3339 in UTC with milliseconds, e.g. `2025-01-31T12:00:00.123Z`
    /// (whole seconds print without a fraction). Instants outside chrono's
    /// range print as their integer milliseconds, which [`parse`](Self::parse)
    /// reads back.
    pub fn to_rfc3339(self) -> String {
        let Some(dt) = self.to_datetime() else {
            return self.0.to_string();
        };
        let precision = if self.0.rem_euclid(1000) == 0 {
            SecondsFormat::Secs
        } else {
            SecondsFormat::Millis
        };
        dt.to_rfc3339_opts(precision, true)
    }

    /// Parses RFC 3339 (any offset) or a plain integer of epoch
    /// milliseconds; only instants that RFC 3339 can also express (years
    /// 0000 to 9999), so that whatever is accepted is answered as RFC 3339
    /// again.
    pub fn parse(s: &str) -> Option<Self> {
        if let Ok(ms) = s.parse::<i64>() {
            return Self::representable(ms);
        }
        DateTime::parse_from_rfc3339(s)
            .ok()
            .and_then(|dt| Self::representable(dt.timestamp_millis()))
    }

    fn representable(ms: i64) -> Option<Self> {
        (Self::RFC3339_MIN.0..=Self::RFC3339_MAX.0)
            .contains(&ms)
            .then_some(Self(ms))
    }

    /// `0000-01-01T00:00:00Z`, the first instant RFC 3339 can write.
    pub const RFC3339_MIN: Self = Self(-62_167_219_200_000);
    /// `9999-12-31T23:59:59.999Z`, the last.
    pub const RFC3339_MAX: Self = Self(253_402_300_799_999);
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Int(i64),
            Str(String),
        }
        match Repr::deserialize(d)? {
            Repr::Int(ms) => Self::representable(ms).ok_or_else(|| {
                serde::de::Error::custom(
                    "expected epoch milliseconds within the years 0000 to 9999",
                )
            }),
            Repr::Str(s) => Self::parse(&s)
                .ok_or_else(|| serde::de::Error::custom("expected an RFC 3339 timestamp")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip() {
        let t = Timestamp::from_millis(1_735_689_600_123);
        let s = t.to_rfc3339();
        assert_eq!(s, "2025-01-01T00:00:00.123Z");
        assert_eq!(Timestamp::parse(&s), Some(t));
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
        let whole = Timestamp::from_millis(1_735_689_600_000);
        assert_eq!(whole.to_rfc3339(), "2025-01-01T00:00:00Z");
        assert_eq!(
            Timestamp::parse("2025-01-01T01:00:00+01:00"),
            Some(whole),
            "offsets are honoured"
        );
    }

    #[test]
    fn what_is_accepted_is_answered_as_rfc3339() {
        for ms in [Timestamp::RFC3339_MIN.0, -1, 0, Timestamp::RFC3339_MAX.0] {
            let t = Timestamp::from_millis(ms);
            assert_eq!(Timestamp::parse(&t.to_rfc3339()), Some(t), "{ms}");
            assert!(t.to_rfc3339().contains('T'), "{ms}");
        }
        assert_eq!(Timestamp::from_millis(-1).as_secs(), -1);
        // Beyond RFC 3339's reach: refused on input, never panicking on output.
        for ms in [
            i64::MIN,
            Timestamp::RFC3339_MIN.0 - 1,
            Timestamp::RFC3339_MAX.0 + 1,
            i64::MAX,
        ] {
            assert_eq!(Timestamp::parse(&ms.to_string()), None, "{ms}");
            assert!(serde_json::from_str::<Timestamp>(&ms.to_string()).is_err());
        }
        assert_eq!(
            Timestamp::from_millis(i64::MAX).to_rfc3339(),
            i64::MAX.to_string()
        );
        // An offset that moves an instant out of years 0000-9999.
        assert_eq!(Timestamp::parse("0000-01-01T00:00:00+01:00"), None);
        assert_eq!(Timestamp::parse("9999-12-31T23:59:59-01:00"), None);
    }
}
