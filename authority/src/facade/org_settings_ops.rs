//! An org's guardrail settings: admins set what a reported leak does to
//! the org's keys and the thresholds its guards' quarantine rules use;
//! guards (`svc:keys:introspect`) and security staff read them.

use model::wire::{LeakResponseSetting, OrgSettings, RuleSettings};

use super::{Authority, LeakResponse};
use crate::error::AuthorityError;
use crate::ids::OrgId;
use crate::policy::rules::{audit_read, keys_introspect, require};
use crate::policy::KeyContext;
use crate::scopes::Scope;

impl Authority {
    /// `GET /org/settings`
    pub async fn org_settings(&self, p: &KeyContext) -> Result<OrgSettings, AuthorityError> {
        if !(p.allows(&Scope::AdminOrg) || p.allows(&keys_introspect())) {
            require(p, &audit_read())?;
        }
        Ok(self.inner.store.org_settings(&p.org).await?)
    }

    /// An org's settings for a guard of this process (local mode), which
    /// holds no key of its own.
    pub async fn org_settings_for_guard(&self, org: &OrgId) -> Result<OrgSettings, AuthorityError> {
        Ok(self.inner.store.org_settings(org).await?)
    }

    /// `PUT /org/settings`: replaces them (absent parts fall back to the
    /// server's and the guards' own configuration).
    pub async fn set_org_settings(
        &self,
        p: &KeyContext,
        settings: OrgSettings,
    ) -> Result<OrgSettings, AuthorityError> {
        self.require_org_admin(p)?;
        if let Some(rules) = &settings.rules {
            check_rules(rules)?;
        }
        let mut event = self.admin_event(Some(p), &p.org, "org_settings", self.now());
        event.subject = Some(format!("org:{}", p.org));
        event.reason = Some(describe(&settings));
        let (store, org, settings_ref) = (&self.inner.store, &p.org, &settings);
        self.with_admin_event(event, move |ev| async move {
            store
                .set_org_settings(org, settings_ref, &ev)
                .await
                .map(|()| ((), true))
        })
        .await?;
        Ok(settings)
    }

    /// What a leak report does to a key of `org`: the org's choice, else
    /// the server's.
    pub(super) async fn leak_response_of(
        &self,
        org: &OrgId,
    ) -> Result<LeakResponse, AuthorityError> {
        Ok(
            match self.inner.store.org_settings(org).await?.leak_response {
                Some(LeakResponseSetting::Revoke) => LeakResponse::Revoke,
                Some(LeakResponseSetting::Quarantine) => LeakResponse::Quarantine,
                None => self.inner.leaks.response,
            },
        )
    }
}

/// Thresholds that can trip and can be reached: each rule is off (0) or
/// at least the smallest value that is not noise, and at most
/// [`RuleSettings::MAX_THRESHOLD`].
fn check_rules(r: &RuleSettings) -> Result<(), AuthorityError> {
    let checks = [
        ("rules.loop_calls", r.loop_calls, 3, "3 identical calls"),
        ("rules.denial_burst", r.denial_burst, 3, "3 refusals"),
        (
            "rules.surge_factor",
            r.surge_factor,
            2,
            "twice the usual rate",
        ),
    ];
    for (field, value, least, meaning) in checks {
        if value != 0 && !(least..=RuleSettings::MAX_THRESHOLD).contains(&value) {
            return Err(AuthorityError::invalid(
                field,
                format!(
                    "0 (off) or {least} to {} (fewer than {meaning} would trip on ordinary use)",
                    RuleSettings::MAX_THRESHOLD
                ),
            ));
        }
    }
    if !(1..=RuleSettings::MAX_THRESHOLD).contains(&r.surge_floor) {
        return Err(AuthorityError::invalid(
            "rules.surge_floor",
            format!("1 to {}", RuleSettings::MAX_THRESHOLD),
        ));
    }
    Ok(())
}

/// The settings as the trail records them.
fn describe(s: &OrgSettings) -> String {
    let leak = match s.leak_response {
        None => "leaks: server default".to_owned(),
        Some(LeakResponseSetting::Revoke) => "leaks: revoke".to_owned(),
        Some(LeakResponseSetting::Quarantine) => "leaks: quarantine".to_owned(),
    };
    let rules = match &s.rules {
        None => "rules: each guard's own".to_owned(),
        Some(r) => format!(
            "rules: loop {}, denial burst {}, surge x{} (floor {}), new tool {}",
            r.loop_calls,
            r.denial_burst,
            r.surge_factor,
            r.surge_floor,
            if r.new_tool { "on" } else { "off" }
        ),
    };
    format!("{leak}; {rules}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(
        loop_calls: u32,
        denial_burst: u32,
        surge_factor: u32,
        surge_floor: u32,
    ) -> RuleSettings {
        RuleSettings {
            loop_calls,
            denial_burst,
            surge_factor,
            surge_floor,
            new_tool: false,
        }
    }

    #[test]
    fn thresholds_are_off_or_meaningful() {
        assert!(check_rules(&rules(50, 20, 10, 100)).is_ok());
        assert!(check_rules(&rules(0, 0, 0, 1)).is_ok(), "all off");
        for bad in [
            rules(1, 20, 10, 100),
            rules(50, 2, 10, 100),
            rules(50, 20, 1, 100),
            rules(50, 20, 10, 0),
            rules(2_000_000, 20, 10, 100),
        ] {
            let e = check_rules(&bad).unwrap_err();
            assert!(e.to_string().contains("rules."), "{e}");
        }
    }
}
