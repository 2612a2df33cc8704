//! The "Add endpoint" form: URL, the message types (all checked to start
//! with) and a note. The authority decides what URL is acceptable.

use leptos::prelude::*;
use model::wire::WebhookEventType;

use super::{create_webhook, ShownSecret};
use crate::error::DashError;
use crate::ui::{class, ErrorBox};

/// What the form sends.
#[derive(Clone)]
struct NewEndpoint {
    url: String,
    events: Vec<WebhookEventType>,
    description: String,
}

/// When each type is sent, for the person choosing.
fn describe(t: WebhookEventType) -> &'static str {
    match t {
        WebhookEventType::KeyExpiring => "a key expires in 7 days, and again in 1 day",
        WebhookEventType::KeyRevoked => "keys were revoked",
        WebhookEventType::KeyQuarantined => "a key was put in quarantine",
        WebhookEventType::KeyReleased => "a key was released from quarantine",
        WebhookEventType::LeakReported => "a scanner reported a key or token exposed",
    }
}

/// `key.expiring` → `webhook-event-key-expiring`: a stable id per checkbox.
fn checkbox_id(t: WebhookEventType) -> String {
    format!("webhook-event-{}", t.as_str().replace('.', "-"))
}

#[component]
pub fn AddEndpointForm(
    /// Receives the new endpoint's secret, for the copy-once dialog.
    shown: RwSignal<Option<ShownSecret>>,
    /// Called once an endpoint was added, to reload the list.
    created: Callback<()>,
) -> impl IntoView {
    let url = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let chosen = RwSignal::new(WebhookEventType::ALL.to_vec());
    let error = RwSignal::new(None::<DashError>);
    let create = Action::new(|e: &NewEndpoint| {
        let e = e.clone();
        create_webhook(e.url, e.events, e.description)
    });
    Effect::new(move |_| match create.value().get() {
        Some(Ok(s)) => {
            error.set(None);
            shown.set(Some(s));
            // Only the dialog's signal keeps the secret.
            create.value().set(None);
            url.set(String::new());
            description.set(String::new());
            chosen.set(WebhookEventType::ALL.to_vec());
            created.run(());
        }
        Some(Err(e)) => error.set(Some(e)),
        None => {}
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let events = chosen.get_untracked();
        create.dispatch(NewEndpoint {
            url: url.get_untracked(),
            // Keep the catalog's order whatever order they were ticked in.
            events: WebhookEventType::ALL
                .into_iter()
                .filter(|t| events.contains(t))
                .collect(),
            description: description.get_untracked(),
        });
    };
    let toggle = move |t: WebhookEventType, on: bool| {
        chosen.update(|c| {
            c.retain(|x| *x != t);
            if on {
                c.push(t);
            }
        });
    };
    view! {
        <section id="add-webhook" class=format!("mt-4 {}", class::CARD) aria-labelledby="add-webhook-heading">
            <h2 id="add-webhook-heading" class="text-lg font-semibold">"Add endpoint"</h2>
            <form id="webhook-form" class="mt-3 space-y-4" on:submit=submit>
                <div>
                    <label for="webhook-url" class=class::LABEL>"URL"</label>
                    <input id="webhook-url" type="url" required maxlength="2000" class=format!("{} font-mono", class::INPUT)
                        placeholder="https://hooks.example.com/acekeys"
                        prop:value=url on:input=move |ev| url.set(event_target_value(&ev))/>
                    <p class="mt-1 text-xs text-slate-500">"An https URL of a public host. Messages are POSTed there, signed (Standard Webhooks)."</p>
                </div>
                <fieldset>
                    <legend class=class::LABEL>"Messages it receives"</legend>
                    <ul class="mt-1 space-y-1 text-sm">
                        {WebhookEventType::ALL.into_iter().map(|t| view! {
                            <li class="flex items-center gap-2">
                                <input type="checkbox" id=checkbox_id(t) value=t.as_str()
                                    prop:checked=move || chosen.with(|c| c.contains(&t))
                                    on:change=move |ev| toggle(t, event_target_checked(&ev))/>
                                <label for=checkbox_id(t)>
                                    <code class="rounded bg-slate-100 px-1 text-xs">{t.as_str()}</code>
                                    <span class="text-slate-600">{format!(": {}", describe(t))}</span>
                                </label>
                            </li>
                        }).collect_view()}
                    </ul>
                    <p class="mt-1 text-xs text-slate-500">"None ticked means every type."</p>
                </fieldset>
                <div>
                    <label for="webhook-description" class=class::LABEL>"Description (optional)"</label>
                    <input id="webhook-description" maxlength="200" class=class::INPUT placeholder="e.g. security team's alerting"
                        prop:value=description on:input=move |ev| description.set(event_target_value(&ev))/>
                </div>
                <button type="submit" id="webhook-create" class=class::BUTTON disabled=move || create.pending().get()>
                    {move || if create.pending().get() { "Adding…" } else { "Add endpoint" }}
                </button>
            </form>
            <div id="webhook-form-error" class="mt-3">
                {move || error.get().map(|e| view! { <ErrorBox error=e/> })}
            </div>
        </section>
    }
    .into_any()
}
