//! Rate limits and budgets in the dashboard: the rows of limits on the
//! new-key form, and the key page's panel that lists a key's limits (its
//! own and those it inherited) and lets a person change its own. The rules
//! are the authority's (`set_limits`); the server function only parses.

use leptos::prelude::*;

use crate::error::DashError;
use crate::model::{KeyRow, LimitInput};
use crate::ui::class;

/// Replaces a key's own limits.
#[server]
pub async fn set_key_limits(id: String, limits: Vec<LimitInput>) -> Result<KeyRow, DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    let request = authority::wire::LimitsRequest {
        limits: super::convert::key_limits(&limits)?,
    };
    let view = dash.authority.set_limits(&p, &id, request).await?;
    Ok(super::convert::row(&view, dash.authority.now()))
}

/// Editable rows of limits; `scopes` are suggested for the scope field.
#[component]
pub fn LimitsEditor(
    limits: RwSignal<Vec<LimitInput>>,
    #[prop(into)] scopes: Signal<Vec<String>>,
) -> impl IntoView {
    let rows = move || {
        limits
            .get()
            .into_iter()
            .enumerate()
            .map(|(i, row)| limit_row(limits, i, row))
            .collect_view()
    };
    view! {
        <datalist id="limit-scopes">
            {move || scopes.get().into_iter().map(|s| view! { <option value=s></option> }).collect_view()}
        </datalist>
        <ul class="space-y-2">{rows}</ul>
        <button id="limit-add" type="button" class=format!("mt-2 {}", class::BUTTON_SECONDARY)
            on:click=move |_| limits.update(|l| l.push(LimitInput::default()))>"Add a limit"</button>
    }
}

fn limit_row(limits: RwSignal<Vec<LimitInput>>, i: usize, row: LimitInput) -> impl IntoView {
    let set = move |f: fn(&mut LimitInput, String)| {
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            limits.update(|l| {
                if let Some(r) = l.get_mut(i) {
                    f(r, value);
                }
            });
        }
    };
    let is_rate = row.kind == "rate";
    view! {
        <li class="limit-row flex flex-wrap items-center gap-2 text-sm">
            <select id=format!("limit-kind-{i}") aria-label="Kind of limit" class=class::INPUT_INLINE
                on:change=set(|r, v| r.kind = v)>
                <option value="rate" selected=is_rate>"Rate limit"</option>
                <option value="budget" selected=!is_rate>"Budget"</option>
            </select>
            <input id=format!("limit-amount-{i}") aria-label="Calls" type="number" min="1" class=format!("w-28 {}", class::INPUT_INLINE)
                prop:value=row.amount.clone() on:input=set(|r, v| r.amount = v)/>
            {if is_rate {
                view! {
                    <span>"calls per"</span>
                    <input id=format!("limit-per-{i}") aria-label="Window in seconds" type="number" min="1" max="86400" class=format!("w-24 {}", class::INPUT_INLINE)
                        prop:value=row.per_seconds.clone() on:input=set(|r, v| r.per_seconds = v)/>
                    <span>"s"</span>
                }.into_any()
            } else {
                let refill = row.refill.clone();
                view! {
                    <span>"calls"</span>
                    <select id=format!("limit-refill-{i}") aria-label="Refill" class=class::INPUT_INLINE
                        on:change=set(|r, v| r.refill = v)>
                        <option value="never" selected=refill == "never">"in all"</option>
                        <option value="daily" selected=refill == "daily">"per UTC day"</option>
                        <option value="monthly" selected=refill == "monthly">"per month"</option>
                    </select>
                }.into_any()
            }}
            <span>"on"</span>
            <input id=format!("limit-scope-{i}") aria-label="Scope" list="limit-scopes" placeholder="all tools" class=format!("w-48 font-mono {}", class::INPUT_INLINE)
                prop:value=row.scope.clone() on:input=set(|r, v| r.scope = v)/>
            <button id=format!("limit-remove-{i}") type="button" class="text-xs text-red-700 underline"
                on:click=move |_| limits.update(|l| { if i < l.len() { l.remove(i); } })>"Remove"</button>
        </li>
    }
}

/// The key page's limits: what its calls count against, and (for people
/// who may change keys, on a key that is not revoked) its own to edit.
#[component]
pub fn LimitsPanel(key: KeyRow, changed: Callback<()>) -> impl IntoView {
    let own: Vec<LimitInput> = key
        .limits
        .iter()
        .filter(|l| !l.inherited)
        .map(|l| LimitInput::from_limit(&l.limit))
        .collect();
    let editing = RwSignal::new(own);
    let open = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let id = key.id.to_string();
    let save = Action::new(move |rows: &Vec<LimitInput>| set_key_limits(id.clone(), rows.clone()));
    Effect::new(move |_| match save.value().get() {
        Some(Ok(_)) => {
            error.set(None);
            open.set(false);
            changed.run(());
        }
        Some(Err(e)) => error.set(Some(e.to_string())),
        None => {}
    });
    let me = Resource::new(|| (), |()| crate::session::whoami());
    let may_write = move || {
        me.get()
            .and_then(Result::ok)
            .is_some_and(|m| m.may_write_keys)
    };
    let editable = key.revoked_at.is_none();
    let scopes: Vec<String> = key.scopes.iter().map(ToString::to_string).collect();
    let listed = key
        .limits
        .iter()
        .map(|l| {
            let whose = if l.inherited {
                format!(" (inherited from {}: shared with it)", l.owner)
            } else {
                String::new()
            };
            view! { <li class="key-limit">{l.limit.describe()}<span class="text-xs text-slate-500">{whose}</span></li> }
        })
        .collect_view();
    let none = key.limits.is_empty();
    view! {
        <section id="key-limits" class=format!("mt-4 {}", class::CARD) aria-labelledby="key-limits-heading">
            <h2 id="key-limits-heading" class="text-base font-semibold">"Limits"</h2>
            {if none {
                view! { <p id="key-limits-none" class="text-sm text-slate-600">"No rate limits or budgets: its calls are limited only by its scopes."</p> }.into_any()
            } else {
                view! { <ul id="key-limits-list" class="mt-1 list-disc pl-5 text-sm">{listed}</ul> }.into_any()
            }}
            <Suspense>
                {move || (editable && may_write()).then(|| {
                    let scopes = scopes.clone();
                    view! {
                        <Show when=move || open.get() fallback=move || view! {
                            <button id="edit-limits" type="button" class=format!("mt-3 {}", class::BUTTON_SECONDARY)
                                on:click=move |_| open.set(true)>"Change limits"</button>
                        }>
                            <div class="mt-3">
                                <LimitsEditor limits=editing scopes=Signal::stored(scopes.clone())/>
                                <div class="mt-3 flex gap-2">
                                    <button id="save-limits" type="button" class=class::BUTTON disabled=move || save.pending().get()
                                        on:click=move |_| { save.dispatch(editing.get_untracked()); }>"Save limits"</button>
                                    <button type="button" class=class::BUTTON_SECONDARY on:click=move |_| open.set(false)>"Cancel"</button>
                                </div>
                                <p class="mt-2 text-xs text-slate-500">"Counting carries on: lowering a budget below what was spent stops the key. Inherited limits change only on the key they came from."</p>
                            </div>
                        </Show>
                    }
                })}
            </Suspense>
            {move || error.get().map(|e| view! { <p role="alert" id="limits-error" class="mt-2 text-sm text-red-700">{e}</p> })}
        </section>
    }
}
