//! `/apps`: every OAuth grant of the org (client, person, scopes, tool
//! server, created, last used), and a button that ends one everywhere.

use leptos::prelude::*;

use super::list_grants;
use crate::ui::fmt::time_with_seconds;
use crate::ui::{class, ErrorBox, Layout};
use model::wire::GrantView;

#[component]
pub fn ConnectedAppsPage() -> impl IntoView {
    let grants = Resource::new(|| (), |()| list_grants());
    view! {
        <Layout>
            <h1 class="text-2xl font-bold tracking-tight">"Connected apps"</h1>
            <p class="mt-1 text-sm text-slate-600">
                "Apps people connected with OAuth. Revoking a grant stops its tokens at every tool server within a second."
            </p>
            <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
                {move || grants.get().map(|r| match r {
                    Ok(list) if list.grants.is_empty() => view! {
                        <p id="no-grants" class="mt-4 text-sm text-slate-600">"No app is connected yet."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <ul id="grants" class="mt-4 space-y-3">
                            {list.grants.into_iter().map(grant_card).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                })}
            </Transition>
        </Layout>
    }
}

fn grant_card(g: GrantView) -> impl IntoView {
    let id = g.id.to_string();
    let scopes = g
        .scopes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    let status = if g.active {
        "active"
    } else if g.revoked_at.is_some() {
        "revoked"
    } else {
        "expired"
    };
    view! {
        <li class=class::CARD data-grant=id.clone() data-status=status>
            <div class="flex flex-wrap items-center gap-2">
                <strong>{g.client_name.clone()}</strong>
                <span class="rounded bg-slate-100 px-1.5 py-0.5 text-xs">{status}</span>
                <span class="ml-auto text-xs text-slate-500">{g.id.to_string()}</span>
            </div>
            <dl class="mt-2 grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
                <dt class="text-slate-500">"Tool server"</dt><dd class="break-all font-mono">{g.resource.clone()}</dd>
                <dt class="text-slate-500">"Scopes"</dt><dd class="font-mono">{scopes}</dd>
                <dt class="text-slate-500">"Agent"</dt><dd>{g.agent.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt class="text-slate-500">"Granted by"</dt><dd>{g.granted_by_email.clone()}</dd>
                <dt class="text-slate-500">"Created"</dt><dd>{time_with_seconds(&g.created_at.to_string())}</dd>
                <dt class="text-slate-500">"Last used"</dt><dd>{g.last_used_at.map_or_else(|| "never".into(), |t| time_with_seconds(&t.to_string()))}</dd>
            </dl>
            // A plain form: the server revokes, then shows this page again.
            {g.active.then(|| view! {
                <form method="post" action="/apps/revoke" class="mt-3">
                    <input type="hidden" name="grant" value=id.clone()/>
                    <button type="submit" class=class::BUTTON_DANGER data-revoke=id.clone()>"Revoke"</button>
                </form>
            })}
        </li>
    }
}
