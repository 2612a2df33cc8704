//! The keys table: one row per key with its status, expiry, usage and the
//! actions the authority says the key allows (`can_rotate`, `can_revoke`).
//! Below 640 px each row is a card (`style/main.css`, "keys table as
//! cards"): the cells' `data-label` names them, the `key-cell-wide` cells
//! span the card, and the actions sit full-width at its foot, so a phone
//! never scrolls sideways to reach Revoke.

use leptos::prelude::*;
use model::KeyStatus;

use crate::model::KeyRow;
use crate::ui::class;
use crate::ui::fmt::short_time;

#[component]
pub fn KeyTable(
    rows: Vec<KeyRow>,
    /// Set to open the revoke dialog for a row.
    revoking: RwSignal<Option<KeyRow>>,
    /// Set to open the rotate dialog for a row.
    rotating: RwSignal<Option<KeyRow>>,
    /// Whether the signed-in role may rotate and revoke (an auditor may not).
    may_write: bool,
) -> impl IntoView {
    view! {
        <div class="keys-list mt-4 overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
            <table id="keys-table" class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
                    <tr>
                        <th scope="col" class="px-3 py-2">"Name"</th>
                        <th scope="col" class="px-3 py-2">"Env"</th>
                        <th scope="col" class="px-3 py-2">"Agent"</th>
                        <th scope="col" class="px-3 py-2">"Scopes"</th>
                        <th scope="col" class="px-3 py-2">"Status"</th>
                        <th scope="col" class="px-3 py-2">"Expires"</th>
                        <th scope="col" class="px-3 py-2">"Last used"</th>
                        <th scope="col" class="px-3 py-2">"Created by"</th>
                        <th scope="col" class="px-3 py-2"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {rows.into_iter().map(|k| key_row(k, revoking, rotating, may_write)).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

fn key_row(
    k: KeyRow,
    revoking: RwSignal<Option<KeyRow>>,
    rotating: RwSignal<Option<KeyRow>>,
    may_write: bool,
) -> impl IntoView {
    let badge = match k.status {
        KeyStatus::Active => "bg-emerald-50 text-emerald-700 ring-emerald-600/20",
        KeyStatus::Revoked => "bg-red-50 text-red-700 ring-red-600/20",
        KeyStatus::Quarantined => "bg-amber-50 text-amber-800 ring-amber-600/30",
        KeyStatus::Expired => "bg-slate-100 text-slate-600 ring-slate-500/20",
    };
    let (for_revoke, for_rotate) = (k.clone(), k.clone());
    view! {
        <tr data-key-id=k.id.to_string() class="align-top">
            <td class="key-cell-wide px-3 py-2">
                <a class="font-medium text-indigo-700 underline key-name" href=format!("/keys/{}", k.id)>{k.name.clone()}</a>
                <div class="font-mono text-xs text-slate-500">{k.hint.to_string()}</div>
            </td>
            <td data-label="Env" class="px-3 py-2">{k.env.as_str()}</td>
            <td data-label="Agent" class="px-3 py-2">{k.agent.clone().unwrap_or_else(|| "—".to_owned())}</td>
            <td data-label="Scopes" class="key-cell-wide px-3 py-2">
                <div class="flex max-w-xs flex-wrap gap-1">
                    {k.scopes.iter().map(|s| view! { <code class="rounded bg-slate-100 px-1 text-xs">{s.to_string()}</code> }).collect_view()}
                </div>
            </td>
            <td data-label="Status" class="px-3 py-2">
                <span class=format!("key-status inline-flex rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {badge}")>{k.status.as_str()}</span>
                {k.revokes_at.map(|t| view! { <div class="mt-1 text-xs text-amber-700">"stops " {short_time(&t.to_rfc3339())}</div> })}
            </td>
            <td data-label="Expires" class="px-3 py-2">
                <div class="whitespace-nowrap">{k.expires_at.map_or_else(|| "never".to_owned(), |t| short_time(&t.to_rfc3339()))}</div>
                {k.expiring_soon.then(|| view! { <span class="mt-1 inline-flex rounded-full bg-amber-100 px-2 py-0.5 text-xs font-medium text-amber-800">"expires soon"</span> })}
            </td>
            <td data-label="Last used" class="px-3 py-2 whitespace-nowrap">{k.last_used_at.map_or_else(|| "never".to_owned(), |t| short_time(&t.to_rfc3339()))}</td>
            // Key ids are long; the full id stays in the tooltip.
            <td data-label="Created by" class="max-w-[7rem] truncate px-3 py-2 font-mono text-xs" title=k.created_by.as_ref().map_or_else(|| "bootstrap".to_owned(), ToString::to_string)>
                {k.created_by.as_ref().map_or_else(|| "bootstrap".to_owned(), ToString::to_string)}
            </td>
            <td class="key-cell-wide key-actions px-3 py-2 whitespace-nowrap text-right">
                {(may_write && k.can_rotate()).then(|| view! {
                    <button type="button" class=format!("{} mr-2", class::BUTTON_SECONDARY) on:click=move |_| rotating.set(Some(for_rotate.clone()))>"Rotate"</button>
                })}
                {(may_write && k.can_revoke()).then(|| view! {
                    <button type="button" class=class::BUTTON_DANGER on:click=move |_| revoking.set(Some(for_revoke.clone()))>"Revoke"</button>
                })}
            </td>
        </tr>
    }
}
