//! Mapping between the authority's types and the dashboard's wire types
//! (server only). Parsing only: the authority decides.

use ::model::KeyStatus;
use authority::scopes::ServiceInfo;
use authority::time::Timestamp;
use authority::{Env, ExpiryChoice, KeyContext, KeyView, MintLimits, MintRequest, Scope};

use crate::error::DashError;
use crate::model::{
    KeyRow, LimitInput, MintOptions, MintedKey, PickerAction, PickerService, TermsInput,
};
use ::model::wire::{KeyLimit, KeyTermsRequest, Refill};

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
        terms: Default::default(),
    })
}

/// The form's optional terms as the mint request carries them: a
/// `datetime-local` start read as UTC, networks split on whitespace and
/// commas, metadata parsed as JSON (the authority checks the rest).
pub fn key_terms(input: &TermsInput) -> Result<KeyTermsRequest, DashError> {
    let not_before = match input.not_before.trim() {
        "" => None,
        local => {
            // `datetime-local` sends minutes, sometimes seconds.
            let text = if local.len() == 16 {
                format!("{local}:00Z")
            } else {
                format!("{local}Z")
            };
            Some(Timestamp::parse(&text).ok_or_else(|| {
                DashError::Invalid(
                    "Valid from: pick a date and time (UTC), or leave it empty to start at once."
                        .to_owned(),
                )
            })?)
        }
    };
    let metadata = match input.metadata.trim() {
        "" => None,
        text => Some(serde_json::from_str(text).map_err(|e| {
            DashError::Invalid(format!(
                "Metadata is not valid JSON ({e}): write an object such as {{\"team\": \"search\"}}, or leave it empty."
            ))
        })?),
    };
    Ok(KeyTermsRequest {
        not_before,
        allowed_networks: input
            .networks
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        metadata,
        limits: key_limits(&input.limits)?,
    })
}

/// The limits as typed; numbers and choices checked here, the rules (one
/// per kind and scope, ranges, scopes the key holds) by the authority.
pub fn key_limits(inputs: &[LimitInput]) -> Result<Vec<KeyLimit>, DashError> {
    inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            let row = i + 1;
            let number = |text: &str, what: &str| {
                text.trim().parse::<u64>().map_err(|_| {
                    DashError::Invalid(format!(
                        "Limit {row}: {what} must be a whole number of at least 1 (got “{}”).",
                        text.trim()
                    ))
                })
            };
            let scope = Some(input.scope.trim().to_owned()).filter(|s| !s.is_empty());
            match input.kind.as_str() {
                "rate" => Ok(KeyLimit::Rate {
                    scope,
                    max: number(&input.amount, "the number of calls")?,
                    per_seconds: number(&input.per_seconds, "the window in seconds")?,
                }),
                "budget" => Ok(KeyLimit::Budget {
                    scope,
                    calls: number(&input.amount, "the number of calls")?,
                    refill: match input.refill.as_str() {
                        "never" | "" => Refill::Never,
                        "daily" => Refill::Daily,
                        "monthly" => Refill::Monthly,
                        _ => {
                            return Err(DashError::Invalid(format!(
                                "Limit {row}: a budget refills never, daily or monthly."
                            )))
                        }
                    },
                }),
                _ => Err(DashError::Invalid(format!(
                    "Limit {row}: choose a rate limit or a budget."
                ))),
            }
        })
        .collect()
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

    #[test]
    fn limits_are_read_as_typed_and_bad_ones_name_their_row() {
        let row = |kind: &str, amount: &str, per: &str, refill: &str, scope: &str| LimitInput {
            kind: kind.into(),
            amount: amount.into(),
            per_seconds: per.into(),
            refill: refill.into(),
            scope: scope.into(),
        };
        assert_eq!(
            key_limits(&[
                row("rate", " 100 ", "60", "", ""),
                row("budget", "5", "", "daily", "svc:wiki:write"),
            ])
            .unwrap(),
            vec![
                KeyLimit::Rate {
                    scope: None,
                    max: 100,
                    per_seconds: 60
                },
                KeyLimit::Budget {
                    scope: Some("svc:wiki:write".into()),
                    calls: 5,
                    refill: Refill::Daily
                },
            ]
        );
        for (bad, says) in [
            (
                row("rate", "ten", "60", "", ""),
                "Limit 2: the number of calls",
            ),
            (row("rate", "10", "-1", "", ""), "Limit 2: the window"),
            (
                row("budget", "10", "", "weekly", ""),
                "Limit 2: a budget refills",
            ),
            (row("credits", "10", "", "", ""), "Limit 2: choose"),
        ] {
            let err = key_limits(&[row("rate", "1", "1", "", ""), bad])
                .unwrap_err()
                .to_string();
            assert!(err.contains(says), "{err}");
        }
        let back = LimitInput::from_limit(&KeyLimit::Budget {
            scope: None,
            calls: 7,
            refill: Refill::Monthly,
        });
        assert_eq!(
            key_limits(&[back]).unwrap()[0].kind(),
            ::model::wire::LimitKind::Budget
        );
    }

    #[test]
    fn terms_are_parsed_and_bad_ones_say_how_to_fix_them() {
        let input = |nb: &str, nets: &str, meta: &str| TermsInput {
            not_before: nb.into(),
            networks: nets.into(),
            metadata: meta.into(),
            limits: Vec::new(),
        };
        let t = key_terms(&input(
            "2026-12-01T09:30",
            "10.0.0.0/8, 2001:db8::/32\n203.0.113.7",
            r#"{"team":"search"}"#,
        ))
        .unwrap();
        assert_eq!(t.not_before, Timestamp::parse("2026-12-01T09:30:00Z"));
        assert_eq!(
            t.allowed_networks,
            ["10.0.0.0/8", "2001:db8::/32", "203.0.113.7"]
        );
        assert_eq!(t.metadata.unwrap()["team"], "search");
        assert_eq!(
            key_terms(&input("", "", "")).unwrap(),
            KeyTermsRequest::default()
        );
        let err = key_terms(&input("", "", "{team: x}"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not valid JSON"), "{err}");
        assert!(key_terms(&input("tomorrow", "", "")).is_err());
    }
}
