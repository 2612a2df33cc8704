//! `/oauth/authorize`: which app asks, for which tool server, for what;
//! the person narrows the scopes, may bind an agent name, picks how long
//! the grant lasts, and approves or denies (a form the server answers with
//! the redirect to the app).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{load_consent, ConsentStep};
use crate::ui::{class, ErrorBox, Layout};
use model::wire::{AuthorizationParams, ConsentView};

fn params_from_query() -> Memo<AuthorizationParams> {
    let query = use_query_map();
    Memo::new(move |_| query.with(|q| AuthorizationParams::from_query(|name| q.get(name))))
}

#[component]
pub fn ConsentPage() -> impl IntoView {
    let params = params_from_query();
    let search = leptos_router::hooks::use_location().search;
    let request = Resource::new(move || params.get(), load_consent);
    view! {
        <Layout>
            <h1 class="text-2xl font-bold tracking-tight">"Connect an app"</h1>
            <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
                {move || request.get().map(|step| match step {
                    Ok(ConsentStep::Ask(view)) => consent_form(view, search.get_untracked()).into_any(),
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

/// A plain form to `POST /oauth/consent`: it works before (and without)
/// the WASM bundle, and the server answers with the redirect to the app.
fn consent_form(view: ConsentView, request: String) -> impl IntoView {
    let verified = view.verified_domain.clone();
    view! {
        <form method="post" action="/oauth/consent" id="consent-form" class=format!("mt-4 max-w-2xl {}", class::CARD)>
            <input type="hidden" name="request" value=request/>
            <p class="text-base">
                <strong id="consent-client">{view.client_name.clone()}</strong>
                {match verified {
                    Some(domain) => view! { <span class="ml-2 text-sm text-slate-600">"from " <span id="consent-verified-domain">{domain}</span></span> }.into_any(),
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
                <legend class=class::LABEL>"It asks for (untick to narrow)"</legend>
                <ul class="mt-1 space-y-1">
                    {view.scopes.iter().map(|s| {
                        let id = format!("consent-scope-{}", s.scope.replace(':', "-"));
                        view! {
                            <li class="flex items-start gap-2 text-sm">
                                <input type="checkbox" name="scope" value=s.scope.clone() id=id.clone() class="mt-1"
                                    checked=s.grantable disabled=!s.grantable/>
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
            <input id="consent-agent" name="agent" class=class::INPUT placeholder="e.g. desktop-assistant"/>
            <label for="consent-days" class=format!("mt-4 {}", class::LABEL)>"The grant lasts"</label>
            <select id="consent-days" name="expires_days" class=class::INPUT>
                {view.expiry_days.iter().map(|d| {
                    let d = *d;
                    view! { <option value=d.to_string() selected=d == view.default_days>{format!("{d} days")}</option> }
                }).collect_view()}
            </select>
            <div class="mt-5 flex gap-3">
                <button id="consent-approve" type="submit" name="decision" value="approve" class=class::BUTTON>"Approve"</button>
                <button id="consent-deny" type="submit" name="decision" value="deny" class=class::BUTTON_SECONDARY>"Deny"</button>
            </div>
        </form>
    }
}
