//! The leaked-key reports page: every key a scanner reported exposed
//! (GitHub secret scanning, or any scanner that signs its reports the same
//! way), newest first, from the audit trail, with what the server did.

use leptos::prelude::*;

use crate::model::{AuditFilters, AuditPageData};
use crate::ui::fmt::{encode_component, time_with_seconds};
use crate::ui::{class, ErrorBox, Layout};

fn leak_filters() -> AuditFilters {
    AuditFilters {
        tool: Some("leak_reported".to_owned()),
        kind: Some("admin".to_owned()),
        range: Some("all".to_owned()),
        ..AuditFilters::default()
    }
}

#[component]
pub fn LeaksPage() -> impl IntoView {
    let reports = Resource::new(
        || (),
        |()| crate::audit::load_audit_page(leak_filters(), None),
    );
    view! {
        <Layout>
            <h1 class="text-2xl font-bold tracking-tight">"Leaked-key reports"</h1>
            <p class="mt-1 text-sm text-slate-600">
                "Keys a secret scanner found exposed (a public repository, a gist, a paste). "
                "Each was revoked on the spot, or held in quarantine if this server is set up to let a person decide; "
                "the event names where it was found. The endpoint and how to register it with GitHub are in the README."
            </p>
            <section id="leak-reports" class=format!("mt-4 {}", class::CARD)>
                <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
                    {move || reports.get().map(|r| match r {
                        Ok(page) if page.events.is_empty() => view! {
                            <p id="leak-reports-empty" class="text-sm text-slate-600">"No leak reported. Good."</p>
                        }.into_any(),
                        Ok(page) => reports_table(page).into_any(),
                        Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    })}
                </Transition>
            </section>
        </Layout>
    }
}

/// When, which key, and where it was found (the event's reason); the
/// newest page only: the explorer link shows the rest.
fn reports_table(page: AuditPageData) -> impl IntoView {
    let names = page.key_names.clone();
    let more = page.next_cursor.is_some();
    view! {
        <table class="w-full text-left text-sm">
            <thead class="text-xs text-slate-500">
                <tr><th class="py-1 pr-3">"When"</th><th class="py-1 pr-3">"Key"</th><th class="py-1">"Where it was found"</th></tr>
            </thead>
            <tbody>
                {page.events.iter().map(|e| {
                    let subject = e.body.subject.clone().unwrap_or_default();
                    let name = names.get(&subject).cloned().unwrap_or_else(|| subject.clone());
                    // A leaked refresh token names its grant (under Apps).
                    let href = if subject.starts_with("key_") {
                        format!("/keys/{}", encode_component(&subject))
                    } else {
                        "/apps".to_owned()
                    };
                    view! {
                        <tr class="leak-report border-t border-slate-100 align-top">
                            <td class="py-1 pr-3 whitespace-nowrap">{time_with_seconds(&e.body.ts.to_rfc3339())}</td>
                            <td class="py-1 pr-3"><a class="text-indigo-700 underline" href=href>{name}</a></td>
                            <td class="py-1 break-all">{e.body.reason.clone().unwrap_or_default()}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        {more.then(|| view! {
            <p class="mt-2 text-sm"><a class="text-indigo-700 underline" href="/audit?tool=leak_reported&kind=admin&range=all">"Older reports in the explorer"</a></p>
        })}
    }
}
