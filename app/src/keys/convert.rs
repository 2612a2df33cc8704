//! Mapping between the authority's types and the dashboard's wire types
//! (server only). Parsing only: the authority decides.

use ::model::KeyStatus;
use authority::scopes::ServiceInfo;
use authority::time::Timestamp;
use authority::{Env, ExpiryChoice, KeyContext, KeyView, MintLimits, MintRequest, Scope};

use crate::error::DashError;
use crate::model::{KeyRow, MintOptions, MintedKey, PickerAction, PickerService};

/// Keys expiring sooner than this get the "expires soon" badge.
const SOON_MS: i64 = 7 * 86_400_000;

pub fn row(v: &KeyView, now: Timestamp) -> KeyRow {
    KeyRow {
        expiring_soon: v.status == KeyStatus::Active
            && v.expires_at
                .is_some_and(|e| e.as_millis() - now.as_millis() < SOON_MS),
        key: v.clone(),
    }
}

pub fn minted(m: &authority::MintedKey, now: Timestamp) -> MintedKey {
    MintedKey {
        key: m.key.expose_secret().to_owned(),
        row: row(&m.view, now),
    }
}

pub fn mint_options(p: &KeyContext, catalog: Vec<ServiceInfo>, limits: MintLimits) -> MintOptions {
    let services = catalog
        .into_iter()
        .map(|s| PickerService {
            actions: s
                .actions
                .into_iter()
                .map(|a| PickerAction {
                    grantable: Scope::parse(&a.scope).is_ok_and(|scope| p.allows(&scope)),
                    action: a.action,
                    scope: a.scope,
                    description: a.description,
                })
                .collect(),
            service: s.service,
            description: s.description,
        })
        .collect();
    MintOptions {
        services,
        never_allowed: limits.never_allowed,
        latest_expiry: limits.latest_expiry.map(Timestamp::to_rfc3339),
        forced_agent: limits.agent,
    }
}

pub fn mint_request(
    name: &str,
    env: &str,
    agent: &str,
    scopes: &str,
    expiry: &str,
    resources: &str,
    now: Timestamp,
) -> Result<MintRequest, DashError> {
    let env = match env {
        "" => None,
        other => Some(Env::parse(other).ok_or_else(|| {
            DashError::Invalid(format!(
                "Environment {other:?} is unknown: choose live or test."
            ))
        })?),
    };
    let mut scopes: Vec<String> = scopes
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let agent = agent.trim();
    if !agent.is_empty() {
        scopes.push(format!("agent:{agent}"));
    }
    Ok(MintRequest {
        org_id: None,
        name: name.to_owned(),
        scopes,
        expires_days: expiry_choice(expiry, now)?,
        env,
        // One tool server URL per line (any whitespace separates them).
        resources: resources.split_whitespace().map(str::to_owned).collect(),
    })
}

/// `never`, a number of days, or `date:YYYY-MM-DD` (end of that UTC day,
/// counted in whole days from now, rounded up).
pub fn expiry_choice(expiry: &str, now: Timestamp) -> Result<ExpiryChoice, DashError> {
    let bad = || {
        DashError::Invalid(
            "Choose an expiry: a preset, \"never\" (if allowed) or a date in the future."
                .to_owned(),
        )
    };
    if expiry == "never" {
        return Ok(ExpiryChoice::Never);
    }
    if let Some(date) = expiry.strip_prefix("date:") {
        let end = Timestamp::parse(&format!("{date}T23:59:59Z")).ok_or_else(bad)?;
        let ms = end.as_millis() - now.as_millis();
        if ms <= 0 {
            return Err(DashError::Invalid(
                "The expiry date must be in the future.".to_owned(),
            ));
        }
        let days = u32::try_from((ms + 86_399_999) / 86_400_000).map_err(|_| bad())?;
        return Ok(ExpiryChoice::Days(days));
    }
    expiry.parse().map(ExpiryChoice::Days).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        Timestamp::parse("2026-01-01T12:00:00Z").unwrap()
    }

    #[test]
    fn expiry_choices_parse() {
        assert_eq!(expiry_choice("30", now()), Ok(ExpiryChoice::Days(30)));
        assert_eq!(expiry_choice("never", now()), Ok(ExpiryChoice::Never));
        assert_eq!(
            expiry_choice("date:2026-01-08", now()),
            Ok(ExpiryChoice::Days(8))
        );
        assert!(expiry_choice("date:2025-12-31", now()).is_err());
        assert!(expiry_choice("date:nope", now()).is_err());
        assert!(expiry_choice("", now()).is_err());
    }

    #[test]
    fn the_agent_becomes_a_binding_scope() {
        let r = mint_request("ci", "test", "builder", "svc:wiki:read, ", "7", "", now()).unwrap();
        assert_eq!(r.scopes, vec!["svc:wiki:read", "agent:builder"]);
        assert_eq!(r.env, Some(Env::Test));
        assert!(r.resources.is_empty());
        assert!(mint_request("ci", "prod", "", "", "7", "", now()).is_err());
        let r = mint_request(
            "ci",
            "",
            "",
            "",
            "7",
            " https://a.example/mcp\nhttps://b.example/mcp \n",
            now(),
        );
        assert_eq!(
            r.unwrap().resources,
            vec!["https://a.example/mcp", "https://b.example/mcp"]
        );
    }
}
