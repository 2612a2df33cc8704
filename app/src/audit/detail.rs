//! The explorer's event panel: everything recorded about one event,
//! including its place in the hash chain.

use leptos::prelude::*;

use crate::model::AuditRow;

pub fn detail_view(e: AuditRow) -> impl IntoView {
    let b = e.body;
    let text = |v: Option<String>| v.unwrap_or_default();
    let fields: Vec<(&'static str, String)> = vec![
        ("Id", e.id.to_string()),
        ("Time", b.ts.to_rfc3339()),
        ("Kind", b.kind.as_str().to_owned()),
        ("Decision", b.decision.as_str().to_owned()),
        ("Tool / action", b.action),
        ("Required scope", text(b.required_scope)),
        ("Reason", text(b.reason)),
        (
            "Key",
            b.actor_key_id.map(|k| k.to_string()).unwrap_or_default(),
        ),
        (
            "Person",
            b.person.map(|p| p.to_string()).unwrap_or_default(),
        ),
        ("Agent", text(b.agent)),
        (
            "Reported by",
            b.reported_by.map(|k| k.to_string()).unwrap_or_default(),
        ),
        ("Subject", text(b.subject)),
        ("Subject's agent", text(b.subject_agent)),
        ("Server", text(b.server)),
        ("Request id", text(b.request_id)),
        ("Client IP", text(b.client_ip)),
        (
            "Latency",
            b.latency_us.map(|u| format!("{u} µs")).unwrap_or_default(),
        ),
        (
            "Chain",
            format!(
                "{} #{} {}",
                e.chain.writer,
                e.chain.seq,
                e.chain.hash.to_hex()
            ),
        ),
    ];
    view! {
        <dl class="mt-2 space-y-2 text-sm">
            {fields.into_iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| view! {
                <div>
                    <dt class="text-xs font-medium uppercase tracking-wide text-slate-500">{k}</dt>
                    <dd class="break-all font-mono text-xs text-slate-900">{v}</dd>
                </div>
            }).collect_view()}
        </dl>
    }
}
