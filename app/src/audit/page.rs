//! The explorer page: the URL's filters drive a timeline, a page of events
//! and the event panel (each in its own module); exports and the live tail
//! use the same filters.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::chart::Timeline;
use super::detail::detail_view;
use super::filters::{filters_from_url, AuditFilterForm};
use super::table::EventTable;
use super::{audit_event, audit_timeline, load_audit_page};

use crate::ui::{class, ErrorBox, Layout};

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let filters = filters_from_url();
    let cursor = Memo::new(move |_| query.with(|q| q.get("cursor")));
    let selected = Memo::new(move |_| query.with(|q| q.get("event")));
    let tick = RwSignal::new(0_u32);
    let live = RwSignal::new(false);

    let page = Resource::new(
        move || (filters.get(), cursor.get(), tick.get()),
        |(f, c, _)| load_audit_page(f, c),
    );
    let timeline = Resource::new(
        move || (filters.get(), tick.get()),
        |(f, _)| audit_timeline(f),
    );
    let detail = Resource::new(
        move || selected.get(),
        |id| async move {
            match id {
                Some(id) => audit_event(id).await.map(Some),
                None => Ok(None),
            }
        },
    );

    // Live tail: refetch the first page and the chart every 2 s while on.
    Effect::new(move |_| {
        if live.get() {
            if let Ok(handle) = set_interval_with_handle(
                move || tick.update(|t| *t += 1),
                std::time::Duration::from_secs(2),
            ) {
                on_cleanup(move || handle.clear());
            }
        }
    });

    let filters_query = move || filters.with(crate::ui::fmt::filters_query);
    let export = move |format: &str| {
        let base = filters_query();
        if base.is_empty() {
            format!("/dashboard/export?format={format}")
        } else {
            format!("/dashboard/export?format={format}&{base}")
        }
    };

    view! {
        <Layout>
            <div class="flex flex-wrap items-end justify-between gap-3">
                <div>
                    <h1 class="text-2xl font-bold tracking-tight">"Audit trail"</h1>
                    <p class="mt-1 text-sm text-slate-600">"Every tool call and admin action of your org. The address bar holds the filters: copy it to share this view."</p>
                </div>
                <div class="flex flex-wrap gap-2">
                    <a id="export-csv" class=class::BUTTON_SECONDARY href=move || export("csv") download>"Export CSV"</a>
                    <a id="export-ndjson" class=class::BUTTON_SECONDARY href=move || export("ndjson") download>"Export NDJSON"</a>
                </div>
            </div>
            <AuditFilterForm live=live/>
            <section class=format!("mt-4 {}", class::CARD) aria-labelledby="timeline-heading">
                <h2 id="timeline-heading" class="text-base font-semibold">"Calls over time"</h2>
                <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
                    {move || timeline.get().map(|r| match r {
                        Ok(b) => view! { <Timeline buckets=b/> }.into_any(),
                        Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    })}
                </Transition>
            </section>
            <div class="mt-4 grid grid-cols-1 gap-4 lg:grid-cols-3">
                <section class="lg:col-span-2" aria-label="Events">
                    <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading events…"</p> }>
                        {move || page.get().map(|r| match r {
                            Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                            Ok(p) => view! {
                                <EventTable page=p filters_query=filters_query() cursor=cursor.get()/>
                            }.into_any(),
                        })}
                    </Transition>
                </section>
                <aside aria-label="Event detail" id="event-detail" class=class::CARD>
                    <h2 class="text-base font-semibold">"Event detail"</h2>
                    <Transition fallback=|| ()>
                        {move || detail.get().map(|r| match r {
                            Ok(None) => view! { <p class="mt-2 text-sm text-slate-500">"Select an event to see everything recorded about it."</p> }.into_any(),
                            Ok(Some(e)) => detail_view(e).into_any(),
                            Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                        })}
                    </Transition>
                </aside>
            </div>
        </Layout>
    }
}
