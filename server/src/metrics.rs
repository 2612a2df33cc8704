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
        })
        .clone()
}

/// `GET /metrics`
pub async fn render() -> String {
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
