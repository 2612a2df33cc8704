//! The incident page: pick the agent (or the whole org), confirm by typing
//! the target, then watch the denials that follow.

use leptos::prelude::*;

use super::incident_revoke;
use crate::audit::denials_since;
use crate::error::DashError;
use crate::keys::list_keys;
use crate::model::{AuditRow, KeyRow};
use crate::ui::fmt::time_with_seconds;
use crate::ui::{class, ErrorBox, Layout, Modal};

/// On a phone (below 640 px) the page is used with one thumb: controls
/// span the width and are at least 48 px tall, text is 16 px (so phones do
/// not zoom into a focused field). Nothing changes from 640 px up.
const THUMB_BUTTON: &str = "max-sm:min-h-12 max-sm:w-full max-sm:text-base";
const THUMB_INPUT: &str = "max-sm:min-h-12 max-sm:text-base";
/// A dialog's buttons share its width on a phone, the confirming one on the
/// right, under the thumb.
const THUMB_DIALOG_BUTTON: &str = "max-sm:min-h-12 max-sm:flex-1 max-sm:text-base";

#[component]
pub fn IncidentPage() -> impl IntoView {
    let keys = Resource::new(|| (), |()| list_keys());
    let target = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let confirm_text = RwSignal::new(String::new());
    let confirming = RwSignal::new(false);
    let revoke = Action::new(|(a, r): &(String, String)| incident_revoke(a.clone(), r.clone()));
    let feed = RwSignal::new(Vec::<AuditRow>::new());
    let feed_error = RwSignal::new(None::<DashError>);

    // Poll the denials after a successful switch, every 2 s.
    Effect::new(move |_| {
        if let Some(Ok(result)) = revoke.value().get() {
            // Every denial of the org, not only the agent's: a revoked key's
            // denials carry no agent (the key no longer vouches for one).
            let poll = move || {
                leptos::task::spawn_local(async move {
                    match denials_since(result.at_ms, None).await {
                        Ok(rows) => {
                            feed.set(rows);
                            feed_error.set(None);
                        }
                        Err(e) => feed_error.set(Some(e)),
                    }
                });
            };
            poll();
            if let Ok(handle) = set_interval_with_handle(poll, std::time::Duration::from_secs(2)) {
                on_cleanup(move || handle.clear());
            }
        }
    });

    view! {
        <Layout>
            <h1 class="text-2xl font-bold tracking-tight">"Incident switch"</h1>
            <p class="mt-1 text-sm text-slate-600">"Suspect a leak? Revoke every key of one agent, or every key of the org, at once. Your own key is spared so you stay in control."</p>
            <Suspense fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Loading keys…"</p> }>
                {move || keys.get().map(|r| match r {
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    Ok(rows) => {
                        view! { <TargetForm keys=rows target=target reason=reason confirm_text=confirm_text confirming=confirming/> }.into_any()
                    }
                })}
            </Suspense>
            <ConfirmDialog open=confirming target=target confirm_text=confirm_text on_confirm=Callback::new(move |()| {
                revoke.dispatch((target.get_untracked(), reason.get_untracked()));
            })/>
            <div role="status" id="incident-result" class="mt-4">
                {move || revoke.value().get().map(|r| match r {
                    Ok(res) => view! {
                        <p class="rounded-md border border-emerald-200 bg-emerald-50 p-3 text-sm text-emerald-900">
                            {format!("Revoked {} {}.", res.revoked, if res.revoked == 1 { "key" } else { "keys" })}
                            {(res.spared > 0).then(|| format!(" {} {} still active: {} scopes your key does not; revoke {} with a key that holds them (an admin:org key).", res.spared, if res.spared == 1 { "key is" } else { "keys are" }, if res.spared == 1 { "it holds" } else { "they hold" }, if res.spared == 1 { "it" } else { "them" }))}
                            " Denied calls that follow appear below."
                        </p>
                    }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                })}
            </div>
            <Show when=move || matches!(revoke.value().get(), Some(Ok(_)))>
                <DenialFeed feed=feed error=feed_error/>
            </Show>
        </Layout>
    }
}

/// What the person must type to confirm: the agent's name, or `revoke all`.
fn confirmation_for(target: &str) -> String {
    if target.is_empty() {
        "revoke all".to_owned()
    } else {
        target.to_owned()
    }
}

/// The target picker (every key, or one agent's, with active counts) and
/// the reason; submitting opens the confirmation.
#[component]
fn TargetForm(
    keys: Vec<KeyRow>,
    target: RwSignal<String>,
    reason: RwSignal<String>,
    confirm_text: RwSignal<String>,
    confirming: RwSignal<bool>,
) -> impl IntoView {
    let active: Vec<_> = keys
        .into_iter()
        .filter(|k| k.status == ::model::KeyStatus::Active)
        .collect();
    let mut agents: Vec<(String, usize)> = Vec::new();
    for a in active.iter().filter_map(|k| k.agent.clone()) {
        match agents.iter_mut().find(|(n, _)| *n == a) {
            Some((_, c)) => *c += 1,
            None => agents.push((a, 1)),
        }
    }
    agents.sort();
    let total = active.len();
    view! {
        <form class=format!("mt-4 space-y-4 {}", class::CARD) on:submit=move |ev| { ev.prevent_default(); confirm_text.set(String::new()); confirming.set(true); }>
            <div>
                <label for="incident-target" class=class::LABEL>"Revoke"</label>
                <select id="incident-target" class=format!("{} {THUMB_INPUT}", class::INPUT) on:change=move |ev| target.set(event_target_value(&ev))>
                    <option value="">{format!("Every key of the org ({total} active)")}</option>
                    {agents.into_iter().map(|(a, c)| view! {
                        <option value=a.clone()>{format!("Agent {a} ({c} active)")}</option>
                    }).collect_view()}
                </select>
            </div>
            <div>
                <label for="incident-reason" class=class::LABEL>"Reason (recorded in the audit trail)"</label>
                <input id="incident-reason" class=format!("{} {THUMB_INPUT}", class::INPUT) maxlength="500" placeholder="e.g. agent prompt-injected, keys exfiltrated"
                    prop:value=reason on:input=move |ev| reason.set(event_target_value(&ev))/>
            </div>
            <button type="submit" id="incident-start" class=format!("{} {THUMB_BUTTON}", class::BUTTON_DANGER)>"Revoke keys…"</button>
        </form>
    }.into_any()
}

#[component]
fn ConfirmDialog(
    open: RwSignal<bool>,
    target: RwSignal<String>,
    confirm_text: RwSignal<String>,
    on_confirm: Callback<()>,
) -> impl IntoView {
    let expected = move || confirmation_for(&target.get());
    view! {
        <Modal open=open on_close=Callback::new(move |()| open.set(false)) title="Confirm the incident revocation" id="incident-dialog">
            <form on:submit=move |ev| {
                ev.prevent_default();
                if confirm_text.get_untracked().trim() == expected() {
                    on_confirm.run(());
                    open.set(false);
                }
            }>
                <p class="mt-2 text-sm text-slate-700">
                    {move || if target.get().is_empty() { "Every key of the org except yours stops working now.".to_owned() } else { format!("Every key of agent {} stops working now.", target.get()) }}
                    " This cannot be undone."
                </p>
                <label for="incident-confirm" class=format!("mt-4 {}", class::LABEL)>
                    "Type " <code class="rounded bg-slate-100 px-1">{expected}</code> " to confirm"
                </label>
                <input id="incident-confirm" class=format!("{} {THUMB_INPUT}", class::INPUT) autocomplete="off" prop:value=confirm_text on:input=move |ev| confirm_text.set(event_target_value(&ev))/>
                <div class="mt-5 flex justify-end gap-3">
                    <button type="button" class=format!("{} {THUMB_DIALOG_BUTTON}", class::BUTTON_SECONDARY) on:click=move |_| open.set(false)>"Cancel"</button>
                    <button type="submit" id="incident-confirm-button" class=format!("{} {THUMB_DIALOG_BUTTON}", class::BUTTON_DANGER) disabled=move || confirm_text.get().trim() != expected()>"Revoke now"</button>
                </div>
            </form>
        </Modal>
    }
}

/// Denied calls since the switch, refreshed by the page.
#[component]
fn DenialFeed(feed: RwSignal<Vec<AuditRow>>, error: RwSignal<Option<DashError>>) -> impl IntoView {
    view! {
        <section class=format!("mt-4 {}", class::CARD) aria-labelledby="feed-heading">
            <h2 id="feed-heading" class="text-base font-semibold">"Denials since the switch (live)"</h2>
            {move || error.get().map(|e| view! { <ErrorBox error=e/> })}
            <ul id="denial-feed" class="mt-2 divide-y divide-slate-100 text-sm">
                {move || {
                    let rows = feed.get();
                    if rows.is_empty() {
                        view! { <li class="py-2 text-slate-500">"No denied calls yet. Agents still using a revoked key show up here within seconds."</li> }.into_any()
                    } else {
                        rows.into_iter().map(|e| view! {
                            <li class="py-2 wrap-anywhere">
                                <span class="font-mono text-xs">{time_with_seconds(&e.body.ts.to_rfc3339())}</span> " "
                                <span class="font-medium">{e.body.action}</span> " · "
                                {e.body.reason.unwrap_or_default()} " · "
                                <span class="font-mono text-xs">{e.body.actor_key_id.map(|k| k.to_string()).unwrap_or_default()}</span>
                            </li>
                        }).collect_view().into_any()
                    }
                }}
            </ul>
        </section>
    }
}
