//! The org's guardrail settings in the dashboard (`/settings`): what a
//! reported leak does to the org's keys, and the thresholds of the
//! quarantine rules its guards apply. The server functions are thin calls
//! into the authority (`org_settings_ops`): it checks the caller's scopes
//! and the thresholds' ranges; here numbers are only parsed from the form.

mod page;

pub use page::SettingsPage;

use leptos::prelude::*;
use model::wire::{LeakResponseSetting, OrgSettings, RuleSettings};
use serde::{Deserialize, Serialize};

use crate::error::DashError;

/// What the form starts from when the org has no rules of its own: the
/// guards' defaults.
pub const GUARD_DEFAULTS: RuleSettings = RuleSettings::GUARD_DEFAULTS;

/// The rules' thresholds as typed (the server parses them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesInput {
    pub loop_calls: String,
    pub denial_burst: String,
    pub surge_factor: String,
    pub surge_floor: String,
    #[serde(default)]
    pub new_tool: bool,
}

impl From<RuleSettings> for RulesInput {
    fn from(r: RuleSettings) -> Self {
        Self {
            loop_calls: r.loop_calls.to_string(),
            denial_burst: r.denial_burst.to_string(),
            surge_factor: r.surge_factor.to_string(),
            surge_floor: r.surge_floor.to_string(),
            new_tool: r.new_tool,
        }
    }
}

/// The signed-in org's settings (unset parts are `None`).
#[server]
pub async fn load_org_settings() -> Result<OrgSettings, DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    Ok(dash.authority.org_settings(&p).await?)
}

/// Replaces the org's settings. No `leak_response` means the server's;
/// no `rules` means each guard's own.
#[server]
pub async fn save_org_settings(
    #[server(default)] leak_response: Option<LeakResponseSetting>,
    #[server(default)] rules: Option<RulesInput>,
) -> Result<OrgSettings, DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    let settings = OrgSettings {
        leak_response,
        rules: rules.as_ref().map(parse_rules).transpose()?,
    };
    Ok(dash.authority.set_org_settings(&p, settings).await?)
}

/// Whole numbers only; whether a threshold makes sense is the authority's
/// call, and its message names the field the same way.
#[cfg(feature = "ssr")]
fn parse_rules(input: &RulesInput) -> Result<RuleSettings, DashError> {
    let number = |text: &str, field: &str| {
        text.trim().parse::<u32>().map_err(|_| {
            DashError::Invalid(format!(
                "invalid `{field}`: a whole number is needed, 0 to turn the rule off (got “{}”)",
                text.trim()
            ))
        })
    };
    Ok(RuleSettings {
        loop_calls: number(&input.loop_calls, "rules.loop_calls")?,
        denial_burst: number(&input.denial_burst, "rules.denial_burst")?,
        surge_factor: number(&input.surge_factor, "rules.surge_factor")?,
        surge_floor: number(&input.surge_floor, "rules.surge_floor")?,
        new_tool: input.new_tool,
    })
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn typed_numbers_are_parsed_and_garbage_names_its_field() {
        let mut input = RulesInput::from(GUARD_DEFAULTS);
        input.loop_calls = " 7 ".to_owned();
        input.new_tool = true;
        let parsed = parse_rules(&input).expect("numbers");
        assert_eq!(parsed.loop_calls, 7);
        assert!(parsed.new_tool);
        assert_eq!(parsed.surge_floor, GUARD_DEFAULTS.surge_floor);
        for bad in ["", "-1", "1.5", "seven", "99999999999"] {
            input.denial_burst = bad.to_owned();
            let e = parse_rules(&input).expect_err(bad).to_string();
            assert!(e.contains("rules.denial_burst"), "{e}");
        }
    }
}
