//! Parsing the explorer's URL filters into the authority's filter (server only).

use authority::audit::{AuditEvent, AuditFilter, Decision};
use authority::time::Timestamp;
use authority::KeyId;

use crate::error::DashError;
use crate::model::{AuditFilters, AuditRow};

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn time(field: &str, s: &Option<String>) -> Result<Option<Timestamp>, DashError> {
    nonempty(s)
        .map(|t| {
            Timestamp::parse(t).ok_or_else(|| {
                DashError::Invalid(format!(
                    "“{field}” must be a time like 2026-11-26T10:00:00Z (or epoch milliseconds)."
                ))
            })
        })
        .transpose()
}

pub fn filter(f: &AuditFilters, now: Timestamp) -> Result<AuditFilter, DashError> {
    let key_id = nonempty(&f.key_id)
        .map(|k| {
            KeyId::parse(k).ok_or_else(|| {
                DashError::Invalid(format!("“{k}” is not a key id (they look like key_…)."))
            })
        })
        .transpose()?;
    let decision =
        match nonempty(&f.decision) {
            None => None,
            Some(d) => Some(Decision::parse(d).ok_or_else(|| {
                DashError::Invalid("Decision must be allowed or denied.".to_owned())
            })?),
        };
    let mut since = time("since", &f.since)?;
    if since.is_none() {
        let secs = match nonempty(&f.range) {
            None | Some("all") => None,
            Some("1h") => Some(3600),
            Some("24h") => Some(86_400),
            Some("7d") => Some(7 * 86_400),
            Some("30d") => Some(30 * 86_400),
            Some(_) => {
                return Err(DashError::Invalid(
                    "Range must be 1h, 24h, 7d, 30d or all.".to_owned(),
                ))
            }
        };
        since = secs.map(|s| now.plus_secs(-s));
    }
    Ok(AuditFilter {
        key_id,
        agent: nonempty(&f.agent).map(str::to_owned),
        tool: nonempty(&f.tool).map(str::to_owned),
        decision,
        kind: None,
        since,
        until: time("until", &f.until)?,
    })
}

pub fn row(e: &AuditEvent) -> AuditRow {
    let b = &e.body;
    AuditRow {
        id: e.id.to_string(),
        ts: b.ts.to_rfc3339(),
        kind: b.kind.as_str().to_owned(),
        key_id: b.actor_key_id.as_ref().map(ToString::to_string),
        agent: b.agent.clone(),
        action: b.action.clone(),
        required_scope: b.required_scope.clone(),
        decision: b.decision.as_str().to_owned(),
        reason: b.reason.clone(),
        subject: b.subject.clone(),
        server: b.server.clone(),
        request_id: b.request_id.clone(),
        client_ip: b.client_ip.clone(),
        latency_us: b.latency_us,
        chain: format!(
            "{} #{} {}",
            e.chain.writer,
            e.chain.seq,
            e.chain.hash.to_hex()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_filters_parse() {
        let now = Timestamp::from_millis(10_000_000_000);
        let f = AuditFilters {
            range: Some("1h".into()),
            decision: Some("denied".into()),
            agent: Some(" ".into()),
            ..Default::default()
        };
        let parsed = filter(&f, now).unwrap();
        assert_eq!(parsed.since, Some(now.plus_secs(-3600)));
        assert_eq!(parsed.decision, Some(Decision::Denied));
        assert_eq!(parsed.agent, None);
        let bad = AuditFilters {
            key_id: Some("nope".into()),
            ..Default::default()
        };
        assert!(filter(&bad, now).is_err());
    }
}
