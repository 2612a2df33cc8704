//! An org's guardrail settings as the REST API and the dashboard speak
//! them: what a reported leak does to the org's keys, and the thresholds of
//! the quarantine rules its guards apply. Unset parts fall back to the
//! server's (`--leak-response`) and each guard's own configuration.

use serde::{Deserialize, Serialize};

/// What a leaked-key report does to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LeakResponseSetting {
    /// Revoke it and the keys derived from it.
    Revoke,
    /// Hold it in quarantine for a person to decide.
    Quarantine,
}

/// The quarantine rules' thresholds for every guard of the org (0 turns a
/// rule off). The window they count in stays each guard's own (60 s by
/// default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RuleSettings {
    /// Identical calls (tool and arguments) in a window that make a loop.
    pub loop_calls: u32,
    /// Refused calls of a valid key in a window that make a burst.
    pub denial_burst: u32,
    /// How many times its usual rate a key may reach in one window.
    pub surge_factor: u32,
    /// The fewest calls in a window that can make a surge.
    pub surge_floor: u32,
    /// Whether a key's first call of a tool outside its usual set trips.
    pub new_tool: bool,
}

impl RuleSettings {
    /// The highest threshold accepted (a larger one would never trip).
    pub const MAX_THRESHOLD: u32 = 1_000_000;

    /// A guard's thresholds when neither its flags nor its org say
    /// otherwise (the guard's `TripwireConfig::default` and the dashboard's
    /// starting values both read them here).
    pub const GUARD_DEFAULTS: RuleSettings = RuleSettings {
        loop_calls: 50,
        denial_burst: 20,
        surge_factor: 10,
        surge_floor: 100,
        new_tool: false,
    };
}

/// `GET` / `PUT /api/v1/org/settings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OrgSettings {
    /// Absent: the server's `--leak-response` (revoke unless configured).
    #[serde(default)]
    pub leak_response: Option<LeakResponseSetting>,
    /// Absent: each guard's own thresholds (its command-line flags).
    #[serde(default)]
    pub rules: Option<RuleSettings>,
}
