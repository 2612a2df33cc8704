//! The keys table: search and filters, revoke (with a reason) and rotate
//! (with a grace period) per row.

use leptos::prelude::*;

use super::{list_keys, revoke_key, rotate_key, CopyOnce};
use ::model::KeyStatus;

use crate::model::{KeyRow, MintedKey};
use crate::ui::fmt::short_time;
use crate::ui::{class, ErrorBox, Layout, Modal};

#[component]
pub fn KeysPage() -> impl IntoView {
    let keys = Resource::new(|| (), |()| list_keys());
    let search = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let env = RwSignal::new(String::new());
    let notice = RwSignal::new(None::<String>);

    let revoking = RwSignal::new(None::<KeyRow>);
    let rotating = RwSignal::new(None::<KeyRow>);
    let minted = RwSignal::new(None::<MintedKey>);

    let revoke =
        Action::new(|(id, reason): &(String, String)| revoke_key(id.clone(), reason.clone()));
    let rotate = Action::new(|(id, grace): &(String, u64)| rotate_key(id.clone(), *grace));

    Effect::new(move |_| {
        if let Some(result) = revoke.value().get() {
            match result {
                Ok(row) => {
                    notice.set(Some(format!(
                        "Revoked “{}”. It stops working now.",
                        row.name
                    )));
                    revoking.set(None);
                    keys.refetch();
                }
                Err(e) => notice.set(Some(e.to_string())),
            }
        }
    });
    Effect::new(move |_| {
        if let Some(result) = rotate.value().get() {
            match result {
                Ok(rotated) => {
                    notice.set(Some(format!("Rotated “{}”.", rotated.previous.name)));
                    rotating.set(None);
                    minted.set(Some(rotated.successor));
                    // The raw key now lives only in the dialog's signal.
                    rotate.value().set(None);
                    keys.refetch();
                }
                Err(e) => notice.set(Some(e.to_string())),
            }
        }
    });

    let visible = move |rows: Vec<KeyRow>| {
        let q = search.get().to_lowercase();
        let (st, en) = (status.get(), env.get());
        rows.into_iter()
            .filter(|k| {
                q.is_empty()
                    || k.name.to_lowercase().contains(&q)
                    || k.id.as_str().to_lowercase().contains(&q)
                    || k.agent.as_deref().is_some_and(|a| a.contains(&q))
                    || k.scopes.iter().any(|s| s.to_string().contains(&q))
            })
            .filter(|k| st.is_empty() || k.status.as_str() == st)
            .filter(|k| en.is_empty() || k.env.as_str() == en)
            .collect::<Vec<_>>()
    };

    view! {
        <Layout>
            <div class="flex flex-wrap items-end justify-between gap-3">
                <div>
                    <h1 class="text-2xl font-bold tracking-tight">"API keys"</h1>
                    <p class="mt-1 text-sm text-slate-600">"Every key of your org. Revoke or rotate a key from its row."</p>
                </div>
                <a href="/keys/new" class=class::BUTTON>"New key"</a>
            </div>
            <div class="mt-4 grid grid-cols-1 gap-3 sm:grid-cols-3">
                <div>
                    <label for="key-search" class=class::LABEL>"Search"</label>
                    <input id="key-search" type="search" placeholder="Name, id, agent or scope" class=class::INPUT
                        prop:value=search on:input=move |ev| search.set(event_target_value(&ev))/>
                </div>
                <div>
                    <label for="key-status" class=class::LABEL>"Status"</label>
                    <select id="key-status" class=class::INPUT on:change=move |ev| status.set(event_target_value(&ev))>
                        <option value="">"Any"</option>
                        <option value="active">"Active"</option>
                        <option value="revoked">"Revoked"</option>
                        <option value="expired">"Expired"</option>
                    </select>
                </div>
                <div>
                    <label for="key-env" class=class::LABEL>"Environment"</label>
                    <select id="key-env" class=class::INPUT on:change=move |ev| env.set(event_target_value(&ev))>
                        <option value="">"Any"</option>
                        <option value="live">"live"</option>
                        <option value="test">"test"</option>
                    </select>
                </div>
            </div>
            <p role="status" id="keys-notice" class="mt-3 text-sm text-slate-700">{move || notice.get()}</p>
            <Transition fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Loading keys…"</p> }>
                {move || keys.get().map(|result| match result {
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    Ok(rows) if rows.is_empty() => view! {
                        <div class=format!("mt-4 {}", class::CARD)>
                            <p class="text-sm text-slate-600">"No keys yet. "<a class="text-indigo-700 underline" href="/keys/new">"Create the first one."</a></p>
                        </div>
                    }.into_any(),
                    Ok(rows) => {
                        let shown = visible(rows);
                        if shown.is_empty() {
                            return view! { <p class="mt-4 text-sm text-slate-600">"No key matches these filters. Clear the search or pick “Any”."</p> }.into_any();
                        }
                        view! {
                            <div class="mt-4 overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
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
                                        {shown.into_iter().map(|k| key_row(k, revoking, rotating)).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any()
                    }
                })}
            </Transition>
            <RevokeDialog target=revoking action=revoke/>
            <RotateDialog target=rotating action=rotate/>
            <CopyOnce minted=minted/>
        </Layout>
    }
}

fn key_row(
    k: KeyRow,
    revoking: RwSignal<Option<KeyRow>>,
    rotating: RwSignal<Option<KeyRow>>,
) -> impl IntoView {
    let badge = match k.status {
        KeyStatus::Active => "bg-emerald-50 text-emerald-700 ring-emerald-600/20",
        KeyStatus::Revoked => "bg-red-50 text-red-700 ring-red-600/20",
        KeyStatus::Expired => "bg-slate-100 text-slate-600 ring-slate-500/20",
    };
    let (for_revoke, for_rotate) = (k.clone(), k.clone());
    view! {
        <tr data-key-id=k.id.to_string() class="align-top">
            <td class="px-3 py-2">
                <div class="font-medium text-slate-900 key-name">{k.name.clone()}</div>
                <div class="font-mono text-xs text-slate-500">{k.hint.to_string()}</div>
            </td>
            <td class="px-3 py-2">{k.env.as_str()}</td>
            <td class="px-3 py-2">{k.agent.clone().unwrap_or_else(|| "—".to_owned())}</td>
            <td class="px-3 py-2">
                <div class="flex max-w-xs flex-wrap gap-1">
                    {k.scopes.iter().map(|s| view! { <code class="rounded bg-slate-100 px-1 text-xs">{s.to_string()}</code> }).collect_view()}
                </div>
            </td>
            <td class="px-3 py-2">
                <span class=format!("key-status inline-flex rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {badge}")>{k.status.as_str()}</span>
                {k.revokes_at.map(|t| view! { <div class="mt-1 text-xs text-amber-700">"stops " {short_time(&t.to_rfc3339())}</div> })}
            </td>
            <td class="px-3 py-2">
                <div class="whitespace-nowrap">{k.expires_at.map_or_else(|| "never".to_owned(), |t| short_time(&t.to_rfc3339()))}</div>
                {k.expiring_soon.then(|| view! { <span class="mt-1 inline-flex rounded-full bg-amber-100 px-2 py-0.5 text-xs font-medium text-amber-800">"expires soon"</span> })}
            </td>
            <td class="px-3 py-2 whitespace-nowrap">{k.last_used_at.map_or_else(|| "never".to_owned(), |t| short_time(&t.to_rfc3339()))}</td>
            // Key ids are long; the full id stays in the tooltip.
            <td class="max-w-[7rem] truncate px-3 py-2 font-mono text-xs" title=k.created_by.as_ref().map_or_else(|| "bootstrap".to_owned(), ToString::to_string)>
                {k.created_by.as_ref().map_or_else(|| "bootstrap".to_owned(), ToString::to_string)}
            </td>
            <td class="px-3 py-2 whitespace-nowrap text-right">
                {k.can_rotate().then(|| view! {
                    <button type="button" class=format!("{} mr-2", class::BUTTON_SECONDARY) on:click=move |_| rotating.set(Some(for_rotate.clone()))>"Rotate"</button>
                })}
                {k.can_revoke().then(|| view! {
                    <button type="button" class=class::BUTTON_DANGER on:click=move |_| revoking.set(Some(for_revoke.clone()))>"Revoke"</button>
                })}
            </td>
        </tr>
    }
}

#[component]
fn RevokeDialog(
    target: RwSignal<Option<KeyRow>>,
    action: Action<(String, String), Result<KeyRow, crate::error::DashError>>,
) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let open = Signal::derive(move || target.with(Option::is_some));
    let close = Callback::new(move |()| target.set(None));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(k) = target.get_untracked() {
            action.dispatch((k.id.to_string(), reason.get_untracked()));
        }
    };
    view! {
        <Modal open=open on_close=close title="Revoke key" id="revoke-dialog">
            <form on:submit=submit>
                <p class="mt-2 text-sm text-slate-600">
                    "Revoke “" {move || target.with(|t| t.as_ref().map(|k| k.name.clone()))} "”? Every call with it fails from now on. This cannot be undone."
                </p>
                <label for="revoke-reason" class=format!("mt-4 {}", class::LABEL)>"Reason (recorded in the audit trail)"</label>
                <input id="revoke-reason" class=class::INPUT maxlength="500" placeholder="e.g. leaked in a CI log"
                    prop:value=reason on:input=move |ev| reason.set(event_target_value(&ev))/>
                <div class="mt-5 flex justify-end gap-3">
                    <button type="button" class=class::BUTTON_SECONDARY on:click=move |_| close.run(())>"Cancel"</button>
                    <button type="submit" id="confirm-revoke" class=class::BUTTON_DANGER disabled=move || action.pending().get()>"Revoke key"</button>
                </div>
            </form>
        </Modal>
    }
}

#[component]
fn RotateDialog(
    target: RwSignal<Option<KeyRow>>,
    action: Action<(String, u64), Result<crate::model::Rotated, crate::error::DashError>>,
) -> impl IntoView {
    let grace = RwSignal::new(3600_u64);
    let open = Signal::derive(move || target.with(Option::is_some));
    let close = Callback::new(move |()| target.set(None));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(k) = target.get_untracked() {
            action.dispatch((k.id.to_string(), grace.get_untracked()));
        }
    };
    view! {
        <Modal open=open on_close=close title="Rotate key" id="rotate-dialog">
            <form on:submit=submit>
                <p class="mt-2 text-sm text-slate-600">
                    "Rotate “" {move || target.with(|t| t.as_ref().map(|k| k.name.clone()))} "”: a new key with the same scopes is created; the old one keeps working for the grace period so you can roll it out."
                </p>
                <label for="rotate-grace" class=format!("mt-4 {}", class::LABEL)>"Old key keeps working for"</label>
                <select id="rotate-grace" class=class::INPUT on:change=move |ev| grace.set(event_target_value(&ev).parse().unwrap_or(3600))>
                    <option value="0">"No grace: stop it now"</option>
                    <option value="3600" selected>"1 hour"</option>
                    <option value="86400">"24 hours"</option>
                    <option value="604800">"7 days"</option>
                </select>
                <div class="mt-5 flex justify-end gap-3">
                    <button type="button" class=class::BUTTON_SECONDARY on:click=move |_| close.run(())>"Cancel"</button>
                    <button type="submit" id="confirm-rotate" class=class::BUTTON disabled=move || action.pending().get()>"Rotate key"</button>
                </div>
            </form>
        </Modal>
    }
}
