//! `/oauth/authorize`: which app asks, for which tool server, for what;
//! the person narrows the scopes, may bind an agent name, picks how long
//! the grant lasts, and approves or denies.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{decide_consent, load_consent, ConsentStep};
use crate::ui::{class, ErrorBox, Layout};
use model::wire::{AuthorizationParams, ConsentDecision, ConsentView};

fn params_from_query() -> Memo<AuthorizationParams> {
    let query = use_query_map();
    Memo::new(move |_| {
        query.with(|q| AuthorizationParams {
            response_type: q.get("response_type"),
            client_id: q.get("client_id"),
            redirect_uri: q.get("redirect_uri"),
            scope: q.get("scope"),
            state: q.get("state"),
            code_challenge: q.get("code_challenge"),
            code_challenge_method: q.get("code_challenge_method"),
            resource: q.get("resource"),
        })
    })
}

#[component]
pub fn ConsentPage() -> impl IntoView {
    let params = params_from_query();
    let request = Resource::new(move || params.get(), load_consent);
    view! {
        <Layout>
            <h1 class="text-2xl font-bold tracking-tight">"Connect an app"</h1>
            <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
                {move || request.get().map(|step| match step {
                    Ok(ConsentStep::Ask(view)) => consent_form(view, params.get_untracked()).into_any(),
                    Ok(ConsentStep::Refused(message)) => refused(message).into_any(),
                    Ok(ConsentStep::Return(url)) => returning(url).into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                })}
            </Transition>
        </Layout>
    }
}

fn refused(message: String) -> impl IntoView {
    view! {
        <div id="consent-refused" role="alert" class="mt-4 rounded-md border border-red-200 bg-red-50 p-4 text-sm text-red-800">
            <p class="font-semibold">"This request cannot be answered."</p>
            <p class="mt-1">{message}</p>
        </div>
    }
}

fn returning(url: String) -> impl IntoView {
    Effect::new({
        let url = url.clone();
        move |_| crate::people::go(&url)
    });
    view! {
        <p id="consent-returning" class="mt-4 text-sm text-slate-600">
            "Returning to the app… "
            <a class="font-medium text-indigo-700 underline" href=url>"Continue"</a>
        </p>
    }
}

fn consent_form(view: ConsentView, params: AuthorizationParams) -> impl IntoView {
    let chosen: Vec<(String, RwSignal<bool>)> = view
        .scopes
        .iter()
        .map(|s| (s.scope.clone(), RwSignal::new(s.grantable)))
        .collect();
    let agent = RwSignal::new(String::new());
    let days = RwSignal::new(view.default_days);
    let decide = Action::new(|d: &ConsentDecision| decide_consent(d.clone()));
    let answer = {
        let chosen = chosen.clone();
        move |approve: bool| {
            let scopes = chosen
                .iter()
                .filter(|(_, on)| on.get_untracked())
                .map(|(s, _)| s.clone())
                .collect();
            decide.dispatch(ConsentDecision {
                params: params.clone(),
                approve,
                scopes,
                agent: Some(agent.get_untracked()).filter(|a| !a.trim().is_empty()),
                expires_days: Some(days.get_untracked()),
            });
        }
    };
    let (approve, deny) = (answer.clone(), answer);
    let outcome = move || {
        decide.value().get().map(|r| match r {
            Ok(ConsentStep::Return(url)) => returning(url).into_any(),
            Ok(ConsentStep::Refused(m)) => view! {
                <p id="consent-error" role="alert" class="mt-3 text-sm text-red-700">{m}</p>
            }
            .into_any(),
            Ok(ConsentStep::Ask(_)) => ().into_any(),
            Err(e) => view! { <ErrorBox error=e/> }.into_any(),
        })
    };
    let verified = view.verified_domain.clone();
    view! {
        <div class=format!("mt-4 max-w-2xl {}", class::CARD)>
            <p class="text-base">
                <strong id="consent-client">{view.client_name.clone()}</strong>
                {match verified {
                    Some(domain) => view! { <span class="ml-2 text-sm text-slate-600">"from " {domain}</span> }.into_any(),
                    None => view! {
                        <span id="consent-unverified" class="ml-2 rounded bg-amber-100 px-1.5 py-0.5 text-xs font-medium text-amber-800">"unverified"</span>
                    }.into_any(),
                }}
                " wants to use tools for " <strong>{view.person.clone()}</strong> " in org " <strong>{view.org.to_string()}</strong> "."
            </p>
            <dl class="mt-3 grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
                <dt class="text-slate-500">"Tool server"</dt>
                <dd id="consent-resource" class="break-all font-mono">{view.resource.clone()}</dd>
                <dt class="text-slate-500">"Answer goes to"</dt>
                <dd id="consent-redirect-host" class="font-mono">{view.redirect_host.clone()}</dd>
                <dt class="text-slate-500">"App id"</dt>
                <dd class="break-all font-mono text-xs">{view.client_id.clone()}</dd>
            </dl>
            <fieldset class="mt-4">
                <legend class=class::LABEL>"It asks for"</legend>
                <ul class="mt-1 space-y-1">
                    {view.scopes.iter().zip(chosen.iter()).map(|(s, (_, on))| {
                        let on = *on;
                        let id = format!("consent-scope-{}", s.scope.replace(':', "-"));
                        view! {
                            <li class="flex items-start gap-2 text-sm">
                                <input type="checkbox" id=id.clone() class="mt-1" disabled=!s.grantable
                                    prop:checked=move || on.get() on:change=move |ev| on.set(event_target_checked(&ev))/>
                                <label for=id>
                                    <code>{s.scope.clone()}</code>
                                    {s.description.clone().map(|d| view! { <span class="ml-2 text-slate-600">{d}</span> })}
                                    {(!s.grantable).then(|| view! { <span class="ml-2 text-amber-700">"(you cannot grant this)"</span> })}
                                </label>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </fieldset>
            <label for="consent-agent" class=format!("mt-4 {}", class::LABEL)>"Bind to an agent (optional)"</label>
            <input id="consent-agent" class=class::INPUT placeholder="e.g. desktop-assistant"
                prop:value=move || agent.get() on:input=move |ev| agent.set(event_target_value(&ev))/>
            <label for="consent-days" class=format!("mt-4 {}", class::LABEL)>"The grant lasts"</label>
            <select id="consent-days" class=class::INPUT on:change=move |ev| {
                if let Ok(d) = event_target_value(&ev).parse() { days.set(d) }
            }>
                {view.expiry_days.iter().map(|d| {
                    let d = *d;
                    view! { <option value=d.to_string() selected=d == view.default_days>{format!("{d} days")}</option> }
                }).collect_view()}
            </select>
            <div class="mt-5 flex gap-3">
                <button id="consent-approve" type="button" class=class::BUTTON
                    disabled=move || decide.pending().get()
                    on:click=move |_| approve(true)>"Approve"</button>
                <button id="consent-deny" type="button" class=class::BUTTON_SECONDARY
                    disabled=move || decide.pending().get()
                    on:click=move |_| deny(false)>"Deny"</button>
            </div>
            {outcome}
        </div>
    }
}
