//! The keys page: search and filters over the org's keys, the table, and
//! the revoke, rotate and copy-once dialogs its rows open.

use leptos::prelude::*;

use super::dialogs::{RevokeDialog, RotateDialog};
use super::table::KeyTable;
use super::{list_keys, revoke_key, rotate_key, CopyOnce};

use crate::model::{KeyRow, MintedKey};
use crate::ui::{class, ErrorBox, Layout};

#[component]
pub fn KeysPage() -> impl IntoView {
    let keys = Resource::new(|| (), |()| list_keys());
    // What the signed-in role may do decides which controls are offered;
    // the server refuses a forced call all the same.
    let me = Resource::new(|| (), |()| crate::session::whoami());
    let may_write = move || {
        me.get()
            .and_then(Result::ok)
            .is_some_and(|m| m.may_write_keys)
    };
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
                <Suspense>
                    {move || may_write().then(|| view! { <a href="/keys/new" class=class::BUTTON>"New key"</a> })}
                </Suspense>
            </div>
            <KeyFilters search=search status=status env=env/>
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
                        let held: Vec<KeyRow> = rows.iter().filter(|k| k.status == model::KeyStatus::Quarantined).cloned().collect();
                        let banner = (!held.is_empty()).then(|| view! {
                            <div id="quarantine-banner" role="status" class="mt-4 rounded-lg border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900">
                                <p class="font-semibold">{format!("{} key{} in quarantine: refused until a person releases or revokes {}.", held.len(), if held.len() == 1 { "" } else { "s" }, if held.len() == 1 { "it" } else { "them" })}</p>
                                <ul class="mt-1 list-disc pl-5">
                                    {held.iter().map(|k| view! {
                                        <li><a class="underline" href=format!("/keys/{}", k.id)>{k.name.clone()}</a>" — "{k.quarantine.as_ref().map(|q| q.rule.as_str()).unwrap_or("")}</li>
                                    }).collect_view()}
                                </ul>
                            </div>
                        });
                        let shown = visible(rows);
                        if shown.is_empty() {
                            return view! { {banner}<p class="mt-4 text-sm text-slate-600">"No key matches these filters. Clear the search or pick “Any”."</p> }.into_any();
                        }
                        view! { {banner}<KeyTable rows=shown revoking=revoking rotating=rotating may_write=may_write()/> }.into_any()
                    }
                })}
            </Transition>
            <RevokeDialog target=revoking action=revoke/>
            <RotateDialog target=rotating action=rotate/>
            <CopyOnce minted=minted/>
        </Layout>
    }
}

/// Search, status and environment filters; applied in the browser to the
/// list already loaded.
#[component]
fn KeyFilters(
    search: RwSignal<String>,
    status: RwSignal<String>,
    env: RwSignal<String>,
) -> impl IntoView {
    view! {
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
                    <option value="quarantined">"Quarantined"</option>
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
    }
}
