//! Prometheus metrics at `/metrics`.
//!
//! Labels are drawn from fixed vocabularies (outcome codes, event kinds):
//! never a key, a hash, a key id or anything a caller typed.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder (once; later calls reuse it).
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("_seconds".to_owned()),
                    &[
                        0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5,
                        0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                    ],
                )
                .and_then(PrometheusBuilder::install_recorder)
                .map_err(|error| tracing::warn!(%error, "metrics recorder not installed"))
                .ok()
                .inspect(|_| {
                    // Present from the first scrape, so dashboards and alerts
                    // need not special-case "never happened yet".
                    metrics::counter!("acekeys_keys_minted_total").increment(0);
                    metrics::counter!("acekeys_revocations_total").increment(0);
                })
        })
        .clone()
}

/// `GET /metrics`: the recorder's metrics plus the authority's counters,
/// read at scrape time.
pub fn render(authority: &authority::Authority) -> String {
    let stats = authority.stats();
    metrics::counter!("acekeys_validator_cache_hits_total").absolute(stats.cache_hits);
    metrics::counter!("acekeys_validator_negative_cache_hits_total")
        .absolute(stats.negative_cache_hits);
    metrics::counter!("acekeys_validator_store_lookups_total").absolute(stats.store_lookups);
    let lookups = stats.cache_hits + stats.negative_cache_hits + stats.store_lookups;
    let ratio = if lookups == 0 {
        0.0
    } else {
        (stats.cache_hits + stats.negative_cache_hits) as f64 / lookups as f64
    };
    metrics::gauge!("acekeys_validator_cache_hit_ratio").set(ratio);
    metrics::counter!("acekeys_audit_commits_total").absolute(stats.audit_commits);
    metrics::counter!("acekeys_audit_events_committed_total").absolute(stats.audit_events);
    metrics::counter!("acekeys_audit_commit_failures_total").absolute(stats.audit_commit_failures);
    metrics::counter!("acekeys_audit_seals_total").absolute(stats.audit_seals);
    metrics::counter!("acekeys_audit_tamper_detected_total").absolute(stats.audit_tamper_detected);
    metrics::gauge!("acekeys_audit_commit_seconds_total").set(stats.audit_commit_seconds);
    metrics::gauge!("acekeys_audit_queue_depth").set(stats.audit_queue_depth as f64);
    HANDLE
        .get()
        .and_then(Option::as_ref)
        .map(PrometheusHandle::render)
        .unwrap_or_default()
}

pub fn validation_latency(elapsed: Duration) {
    metrics::histogram!("acekeys_validation_duration_seconds").record(elapsed.as_secs_f64());
}

/// `reason` is an outcome code from a fixed set (`invalid_key`, `insufficient_scope`, …).
pub fn denied(reason: &'static str) {
    metrics::counter!("acekeys_denials_total", "reason" => reason).increment(1);
}

pub fn key_minted() {
    metrics::counter!("acekeys_keys_minted_total").increment(1);
}

pub fn keys_revoked(count: u64) {
    metrics::counter!("acekeys_revocations_total").increment(count);
}
