//! The webhooks page: the add-endpoint form, then one row per endpoint
//! with its message types, its secret's state and its actions (rotate the
//! secret, delete after a confirmation, open the delivery log).

use leptos::prelude::*;
use model::wire::WebhookView;

use super::deliveries::DeliveryLog;
use super::form::AddEndpointForm;
use super::secret::SecretOnce;
use super::{delete_webhook, list_webhooks, rotate_webhook_secret, ShownSecret};
use crate::error::DashError;
use crate::ui::fmt::short_time;
use crate::ui::{class, ErrorBox, Layout};

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let hooks = Resource::new(|| (), |()| list_webhooks());
    // Managing endpoints takes `admin:org`, which is what
    // `may_manage_members` reports; readers (svc:audit:read) only look.
    // The server refuses a forced call all the same.
    let me = Resource::new(|| (), |()| crate::session::whoami());
    let may_manage = move || {
        me.get()
            .and_then(Result::ok)
            .is_some_and(|m| m.may_manage_members)
    };
    let shown = RwSignal::new(None::<ShownSecret>);
    let error = RwSignal::new(None::<DashError>);
    let rotate = Action::new(|id: &String| rotate_webhook_secret(id.clone()));
    let delete = Action::new(|id: &String| delete_webhook(id.clone()));
    Effect::new(move |_| match rotate.value().get() {
        Some(Ok(s)) => {
            error.set(None);
            shown.set(Some(s));
            // Only the dialog's signal keeps the secret.
            rotate.value().set(None);
            hooks.refetch();
        }
        Some(Err(e)) => error.set(Some(e)),
        None => {}
    });
    Effect::new(move |_| match delete.value().get() {
        Some(Ok(())) => {
            error.set(None);
            hooks.refetch();
        }
        Some(Err(e)) => error.set(Some(e)),
        None => {}
    });
    let created = Callback::new(move |()| hooks.refetch());

    view! {
        <Layout>
            <h1 class="text-2xl font-bold tracking-tight">"Webhooks"</h1>
            <p class="mt-1 text-sm text-slate-600">
                "Endpoints that are told when keys expire soon, are revoked or quarantined, or are reported leaked. "
                "Each message is signed with the endpoint's secret (Standard Webhooks) and sent again until the endpoint answers 2xx."
            </p>
            <Suspense>
                {move || may_manage().then(|| view! { <AddEndpointForm shown=shown created=created/> })}
            </Suspense>
            <section id="webhooks" class=format!("mt-4 {}", class::CARD) aria-labelledby="webhooks-heading">
                <h2 id="webhooks-heading" class="text-lg font-semibold">"Endpoints"</h2>
                <div id="webhooks-error">{move || error.get().map(|e| view! { <div class="mt-2"><ErrorBox error=e/></div> })}</div>
                <Transition fallback=|| view! { <p class="mt-2 text-sm text-slate-500">"Loading…"</p> }>
                    {move || hooks.get().map(|r| match r {
                        Err(e) => view! { <div class="mt-2"><ErrorBox error=e/></div> }.into_any(),
                        Ok(list) if list.webhooks.is_empty() => view! {
                            <p id="webhooks-empty" class="mt-2 text-sm text-slate-600">"No endpoint yet."</p>
                        }.into_any(),
                        Ok(list) => {
                            let manage = may_manage();
                            view! {
                                <ul id="webhook-list" class="mt-2 divide-y divide-slate-200">
                                    {list.webhooks.into_iter().map(|w| view! {
                                        <EndpointItem w=w rotate=rotate delete=delete may_manage=manage/>
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }
                    })}
                </Transition>
            </section>
            <SecretOnce shown=shown/>
        </Layout>
    }
}

#[component]
fn EndpointItem(
    w: WebhookView,
    rotate: Action<String, Result<ShownSecret, DashError>>,
    delete: Action<String, Result<(), DashError>>,
    may_manage: bool,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let log_open = RwSignal::new(false);
    let id = StoredValue::new(w.id.to_string());
    let events = w
        .events
        .iter()
        .map(|t| view! { <code class="rounded bg-slate-100 px-1 text-xs">{t.as_str()}</code> })
        .collect_view();
    view! {
        <li class="webhook py-3" data-webhook-id=id.get_value() data-url=w.url.clone()>
            <p class="webhook-url break-all font-mono text-sm font-medium">{w.url.clone()}</p>
            {w.description.clone().map(|d| view! { <p class="webhook-description text-sm text-slate-700">{d}</p> })}
            <div class="webhook-events mt-1 flex flex-wrap gap-1">{events}</div>
            <p class="mt-1 text-xs text-slate-500">
                {format!("{} · created {} · secret since {}", id.get_value(), short_time(&w.created_at.to_rfc3339()), short_time(&w.secret_since.to_rfc3339()))}
            </p>
            {w.previous_secret_until.map(|t| view! {
                <p class="webhook-previous mt-1 text-xs text-amber-800">
                    {format!("Previous secret valid until {}: messages carry a signature with each until then.", short_time(&t.to_rfc3339()))}
                </p>
            })}
            <div class="mt-2 flex flex-wrap items-center gap-2">
                <button type="button" class=format!("webhook-log-toggle {}", class::BUTTON_SECONDARY)
                    aria-expanded=move || log_open.get().to_string()
                    on:click=move |_| log_open.update(|o| *o = !*o)>"Delivery log"</button>
                {may_manage.then(|| view! {
                    <button type="button" class=format!("webhook-rotate {}", class::BUTTON_SECONDARY) disabled=move || rotate.pending().get()
                        on:click=move |_| { rotate.dispatch(id.get_value()); }>"Rotate secret"</button>
                    <Show
                        when=move || confirming.get()
                        fallback=move || view! {
                            <button type="button" class=format!("webhook-delete {}", class::BUTTON_SECONDARY) on:click=move |_| confirming.set(true)>"Delete"</button>
                        }
                    >
                        <span class="text-sm text-slate-700">"Delete? It gets no more messages."</span>
                        <button type="button" class=format!("webhook-delete-confirm {}", class::BUTTON_DANGER) disabled=move || delete.pending().get()
                            on:click=move |_| { delete.dispatch(id.get_value()); }>"Delete now"</button>
                        <button type="button" class=class::BUTTON_SECONDARY on:click=move |_| confirming.set(false)>"Cancel"</button>
                    </Show>
                })}
            </div>
            <Show when=move || log_open.get()>
                <DeliveryLog id=id.get_value()/>
            </Show>
        </li>
    }
}
