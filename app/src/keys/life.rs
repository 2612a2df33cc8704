//! A key's page (`/keys/<id>`): everything about one key at a glance
//! during an incident. What it is now (scopes, agent, status, who created,
//! rotated or revoked it and why) from the key record, and below it the
//! newest events about it from the trail: its mint, every call it made,
//! allowed or denied, its rotation and its revocation. The full history
//! continues in the explorer, filtered by the key.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use model::KeyStatus;

use crate::audit::{key_cell, EventTable};
use crate::error::DashError;
use crate::model::{AuditPageData, KeyRow};
use crate::ui::fmt::{encode_component, time_with_seconds};
use crate::ui::{class, ErrorBox, Layout};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyLifeData {
    pub key: KeyRow,
    pub trail: AuditPageData,
    /// The keys derived from it, which die with it.
    pub derived: Vec<KeyRow>,
}

/// One key of the signed-in org and the newest events about it.
#[server]
pub async fn load_key_life(id: String) -> Result<KeyLifeData, DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    // The explorer's page size; older events are a click away.
    let life = dash
        .authority
        .key_life(&p, &id, crate::audit::PAGE_SIZE)
        .await?;
    let now = dash.authority.now();
    Ok(KeyLifeData {
        key: super::convert::row(&life.key, now),
        trail: life.trail,
        derived: life
            .derived
            .iter()
            .map(|k| super::convert::row(k, now))
            .collect(),
    })
}

#[component]
pub fn KeyLifePage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let life = Resource::new(move || id.get(), load_key_life);
    view! {
        <Layout>
            <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
                {move || life.get().map(|r| match r {
                    Ok(data) => life_view(data, Callback::new(move |()| life.refetch())).into_any(),
                    Err(DashError::NotFound) => view! {
                        <h1 class="text-2xl font-bold tracking-tight">"No such key"</h1>
                        <p class="mt-2 text-sm text-slate-600">"This org has no key with that id. "<a class="text-indigo-700 underline" href="/keys">"Back to keys"</a></p>
                    }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                })}
            </Transition>
        </Layout>
    }
}

fn life_view(data: KeyLifeData, changed: Callback<()>) -> impl IntoView {
    let KeyLifeData {
        key,
        trail,
        derived,
    } = data;
    let hold = view! { <super::hold::HoldPanel key=key.clone() changed=changed/> };
    let limits = view! { <super::limits::LimitsPanel key=key.clone() changed=changed/> };
    let names = trail.key_names.clone();
    let id = key.id.to_string();
    let by_key = format!("key_id={}", encode_component(&id));
    let badge = match key.status {
        KeyStatus::Active => "bg-emerald-50 text-emerald-700 ring-emerald-600/20",
        KeyStatus::Revoked => "bg-red-50 text-red-700 ring-red-600/20",
        KeyStatus::Quarantined => "bg-amber-50 text-amber-800 ring-amber-600/30",
        KeyStatus::Expired => "bg-slate-100 text-slate-600 ring-slate-500/20",
    };
    let when = |t: Option<model::Timestamp>| t.map(|t| time_with_seconds(&t.to_rfc3339()));
    let revoked = key.revoked_at.map(|at| {
        let by = key.revoked_by.clone().unwrap_or_default();
        let reason = key
            .revoke_reason
            .clone()
            .map(|r| format!(" — “{r}”"))
            .unwrap_or_default();
        view! {
            <span>{time_with_seconds(&at.to_rfc3339())}" by "{key_cell(Some(by), &names)}{reason}</span>
        }
    });
    view! {
        <div class="flex flex-wrap items-end justify-between gap-3">
            <div>
                <p class="text-sm"><a class="text-indigo-700 underline" href="/keys">"Keys"</a>" / key"</p>
                <h1 id="key-life-name" class="text-2xl font-bold tracking-tight">{key.name.clone()}" "
                    <span class=format!("key-status align-middle inline-flex rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {badge}")>{key.status.as_str()}</span>
                </h1>
                <p class="mt-1 font-mono text-xs text-slate-500">{id.clone()}" · "{key.hint.to_string()}</p>
            </div>
            <div class="flex flex-wrap gap-2">
                <a id="key-life-explorer" class=class::BUTTON_SECONDARY href=format!("/audit?{by_key}")>"Everything in the explorer"</a>
                <a id="key-life-denied" class=class::BUTTON_SECONDARY href=format!("/audit?{by_key}&decision=denied")>"Denied calls"</a>
            </div>
        </div>
        {hold}
        <section class=format!("mt-4 {}", class::CARD) aria-label="The key">
            <dl id="key-life-facts" class="grid grid-cols-1 gap-3 text-sm sm:grid-cols-2">
                {fact("Environment", view! { {key.env.as_str()} }.into_any())}
                {fact("Agent", match key.agent.clone() {
                    Some(agent) => view! {
                        <a class="text-indigo-700 underline" href=format!("/audit?agent={}", encode_component(&agent))>{agent.clone()}</a>
                    }.into_any(),
                    None => view! { "—" }.into_any(),
                })}
                {fact("Scopes", view! {
                    <span class="flex flex-wrap gap-1">
                        {key.scopes.iter().map(|s| view! { <code class="rounded bg-slate-100 px-1 text-xs">{s.to_string()}</code> }).collect_view()}
                    </span>
                }.into_any())}
                {fact("Tool servers", if key.resources.is_empty() {
                    view! { "any of the org's" }.into_any()
                } else {
                    view! {
                        <span id="key-life-resources" class="flex flex-col gap-0.5">
                            {key.resources.iter().map(|r| view! { <code class="break-all text-xs">{r.clone()}</code> }).collect_view()}
                        </span>
                    }.into_any()
                })}
                {key.not_before.map(|nb| fact("Valid from", view! { <span id="key-life-not-before">{time_with_seconds(&nb.to_rfc3339())}</span> }.into_any()))}
                {(!key.allowed_networks.is_empty()).then(|| fact("Only from", view! {
                    <span id="key-life-networks" class="flex flex-wrap gap-1">
                        {key.allowed_networks.iter().map(|n| view! { <code class="rounded bg-slate-100 px-1 text-xs">{n.clone()}</code> }).collect_view()}
                    </span>
                }.into_any()))}
                {key.metadata.as_ref().map(|m| fact("Metadata", view! {
                    <code id="key-life-metadata" class="break-all text-xs">{serde_json::Value::Object(m.clone()).to_string()}</code>
                }.into_any()))}
                {key.parent.clone().map(|parent| fact("Derived from", view! {
                    <span id="key-life-parent">{key_cell(Some(parent.to_string()), &names)}" (revoking it revokes this key)"</span>
                }.into_any()))}
                {fact("Created", view! {
                    {time_with_seconds(&key.created_at.to_rfc3339())}" by "
                    {match key.created_by.clone() {
                        Some(by) => key_cell(Some(by.to_string()), &names).into_any(),
                        None => view! { "bootstrap" }.into_any(),
                    }}
                }.into_any())}
                {fact("Expires", view! { {when(key.expires_at).unwrap_or_else(|| "never".to_owned())} }.into_any())}
                {fact("Last used", view! { {when(key.last_used_at).unwrap_or_else(|| "never".to_owned())} }.into_any())}
                {key.rotated_from.clone().map(|from| fact("Rotated from", key_cell(Some(from.to_string()), &names).into_any()))}
                {key.rotated_to.clone().map(|to| fact("Rotated to", key_cell(Some(to.to_string()), &names).into_any()))}
                {key.revokes_at.map(|at| fact("Stops working", view! { {time_with_seconds(&at.to_rfc3339())} }.into_any()))}
                {revoked.map(|r| fact("Revoked", r.into_any()))}
            </dl>
        </section>
        {limits}
        {(!derived.is_empty()).then(|| view! {
            <section class=format!("mt-4 {}", class::CARD) aria-labelledby="key-life-derived-heading">
                <h2 id="key-life-derived-heading" class="text-base font-semibold">"Derived keys"</h2>
                <p class="text-xs text-slate-500">"Minted by this key for sub-agents. Revoking this key revokes them, and theirs, too."</p>
                <ul id="key-life-derived" class="mt-2 space-y-1 text-sm">
                    {derived.iter().map(|row| {
                        let k = &row.key;
                        view! {
                            <li>
                                <a class="text-indigo-700 underline" href=format!("/keys/{}", encode_component(k.id.as_str()))>{k.name.clone()}</a>
                                " "<span class="key-status text-xs text-slate-500">{k.status.as_str()}</span>
                                " "<code class="text-xs text-slate-500">{k.id.to_string()}</code>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </section>
        })}
        <section class="mt-4" aria-labelledby="key-life-trail">
            <h2 id="key-life-trail" class="text-base font-semibold">"Its life in the trail"</h2>
            <p class="mb-2 text-sm text-slate-600">"Newest first: its mint, every call it made (allowed or denied), its rotation and revocation."</p>
            <EventTable page=trail filters_query=by_key cursor=None/>
        </section>
    }
}

fn fact(label: &'static str, value: AnyView) -> impl IntoView {
    view! {
        <div>
            <dt class="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</dt>
            <dd class="mt-0.5 text-slate-900">{value}</dd>
        </div>
    }
}
