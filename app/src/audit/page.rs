//! The explorer page. Every filter lives in the URL query, so a view can be
//! shared by copying the address; the form is a plain GET form.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use super::chart::Timeline;
use super::{audit_event, audit_timeline, load_audit_page};
use ::model::Decision;

use crate::model::{AuditFilters, AuditRow};
use crate::ui::fmt::short_time;
use crate::ui::{class, ErrorBox, Layout};

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        query.with(|q| {
            let get = |k: &str| q.get(k).filter(|v| !v.is_empty());
            AuditFilters {
                key_id: get("key_id"),
                agent: get("agent"),
                tool: get("tool"),
                decision: get("decision"),
                kind: get("kind"),
                since: get("since"),
                until: get("until"),
                range: get("range"),
            }
        })
    });
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

    let qs = move || filters.with(crate::ui::fmt::filters_query);
    let link_with = move |extra: &str| {
        let base = qs();
        match (base.is_empty(), extra.is_empty()) {
            (true, true) => "/audit".to_owned(),
            (true, false) => format!("/audit?{extra}"),
            (false, true) => format!("/audit?{base}"),
            (false, false) => format!("/audit?{base}&{extra}"),
        }
    };
    let export = move |format: &str| {
        let base = qs();
        if base.is_empty() {
            format!("/dashboard/export?format={format}")
        } else {
            format!("/dashboard/export?format={format}&{base}")
        }
    };
    let value = move |k: &'static str| move || query.with(|q| q.get(k).unwrap_or_default());

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
            <Form method="GET" action="/audit" attr:id="audit-filters" attr:class=format!("mt-4 grid grid-cols-2 gap-3 sm:grid-cols-4 lg:grid-cols-8 {}", class::CARD)>
                <div class="col-span-2">
                    <label for="f-key" class=class::LABEL>"Key id"</label>
                    <input id="f-key" name="key_id" class=class::INPUT placeholder="key_…" prop:value=value("key_id")/>
                </div>
                <div>
                    <label for="f-agent" class=class::LABEL>"Agent"</label>
                    <input id="f-agent" name="agent" class=class::INPUT prop:value=value("agent")/>
                </div>
                <div>
                    <label for="f-tool" class=class::LABEL>"Tool or action"</label>
                    <input id="f-tool" name="tool" class=class::INPUT prop:value=value("tool")/>
                </div>
                <div>
                    <label for="f-decision" class=class::LABEL>"Decision"</label>
                    <select id="f-decision" name="decision" class=class::INPUT prop:value=value("decision")>
                        <option value="">"Any"</option>
                        <option value="allowed" selected=move || value("decision")() == "allowed">"Allowed"</option>
                        <option value="denied" selected=move || value("decision")() == "denied">"Denied"</option>
                    </select>
                </div>
                <div>
                    <label for="f-range" class=class::LABEL>"Range"</label>
                    <select id="f-range" name="range" class=class::INPUT prop:value=value("range")>
                        <option value="">"Last 24 h (chart)"</option>
                        {[("1h", "Last hour"), ("24h", "Last 24 hours"), ("7d", "Last 7 days"), ("30d", "Last 30 days")].into_iter().map(|(v, l)| view! {
                            <option value=v selected=move || value("range")() == v>{l}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="f-since" class=class::LABEL>"Since"</label>
                    <input id="f-since" name="since" class=class::INPUT placeholder="2026-01-01T00:00:00Z" prop:value=value("since")/>
                </div>
                <div>
                    <label for="f-until" class=class::LABEL>"Until"</label>
                    <input id="f-until" name="until" class=class::INPUT placeholder="now" prop:value=value("until")/>
                </div>
                <div class="col-span-2 flex items-end gap-2 sm:col-span-4 lg:col-span-8">
                    <button type="submit" id="apply-filters" class=class::BUTTON>"Apply filters"</button>
                    <a href="/audit" class=class::BUTTON_SECONDARY>"Clear"</a>
                    <label class="ml-auto inline-flex items-center gap-2 text-sm">
                        <input type="checkbox" id="live-tail" prop:checked=live on:change=move |ev| live.set(event_target_checked(&ev))/>
                        "Live tail (refresh every 2 s)"
                    </label>
                </div>
            </Form>
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
                            Ok(p) if p.events.is_empty() => view! {
                                <p id="audit-empty" class=format!("text-sm text-slate-600 {}", class::CARD)>"No events match these filters. Widen the range or clear a filter."</p>
                            }.into_any(),
                            Ok(p) => {
                                let next = p.next_cursor.clone().map(|c| link_with(&format!("cursor={}", crate::ui::fmt::encode_component(&c))));
                                let first = cursor.get().is_some().then(|| link_with(""));
                                view! {
                                    <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
                                        <table id="audit-table" class="min-w-full divide-y divide-slate-200 text-sm">
                                            <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
                                                <tr>
                                                    <th scope="col" class="px-3 py-2">"Time"</th>
                                                    <th scope="col" class="px-3 py-2">"Decision"</th>
                                                    <th scope="col" class="px-3 py-2">"Tool / action"</th>
                                                    <th scope="col" class="px-3 py-2">"Agent"</th>
                                                    <th scope="col" class="px-3 py-2">"Key"</th>
                                                </tr>
                                            </thead>
                                            <tbody class="divide-y divide-slate-100">
                                                {p.events.into_iter().map(|e| {
                                                    let href = link_with(&format!("{}event={}", cursor.get().map(|c| format!("cursor={}&", crate::ui::fmt::encode_component(&c))).unwrap_or_default(), e.id));
                                                    event_row(e, href)
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                    <nav aria-label="Pages" class="mt-3 flex gap-3">
                                        {first.map(|h| view! { <a class=class::BUTTON_SECONDARY href=h>"First page"</a> })}
                                        {next.map(|h| view! { <a id="next-page" class=class::BUTTON_SECONDARY href=h>"Next page"</a> })}
                                    </nav>
                                }.into_any()
                            }
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

fn decision_badge(d: Decision) -> &'static str {
    match d {
        Decision::Denied => "inline-flex rounded-full bg-red-50 px-2 py-0.5 text-xs font-medium text-red-700 ring-1 ring-inset ring-red-600/20",
        Decision::Allowed => "inline-flex rounded-full bg-emerald-50 px-2 py-0.5 text-xs font-medium text-emerald-700 ring-1 ring-inset ring-emerald-600/20",
    }
}

fn event_row(e: AuditRow, href: String) -> impl IntoView {
    let b = e.body;
    view! {
        <tr data-event-id=e.id.to_string()>
            <td class="px-3 py-2 whitespace-nowrap"><a class="text-indigo-700 underline" href=href>{short_time(&b.ts.to_rfc3339())}</a></td>
            <td class="px-3 py-2"><span class=decision_badge(b.decision)>{b.decision.as_str()}</span></td>
            <td class="px-3 py-2 font-mono text-xs event-action">{b.action}</td>
            <td class="px-3 py-2">{b.agent.unwrap_or_else(|| "—".to_owned())}</td>
            <td class="px-3 py-2 font-mono text-xs">{b.actor_key_id.map_or_else(|| "—".to_owned(), |k| k.to_string())}</td>
        </tr>
    }
}

fn detail_view(e: AuditRow) -> impl IntoView {
    let b = e.body;
    let text = |v: Option<String>| v.unwrap_or_default();
    let fields: Vec<(&'static str, String)> = vec![
        ("Id", e.id.to_string()),
        ("Time", b.ts.to_rfc3339()),
        ("Kind", b.kind.as_str().to_owned()),
        ("Decision", b.decision.as_str().to_owned()),
        ("Tool / action", b.action),
        ("Required scope", text(b.required_scope)),
        ("Reason", text(b.reason)),
        (
            "Key",
            b.actor_key_id.map(|k| k.to_string()).unwrap_or_default(),
        ),
        ("Agent", text(b.agent)),
        ("Subject", text(b.subject)),
        ("Server", text(b.server)),
        ("Request id", text(b.request_id)),
        ("Client IP", text(b.client_ip)),
        (
            "Latency",
            b.latency_us.map(|u| format!("{u} µs")).unwrap_or_default(),
        ),
        (
            "Chain",
            format!(
                "{} #{} {}",
                e.chain.writer,
                e.chain.seq,
                e.chain.hash.to_hex()
            ),
        ),
    ];
    view! {
        <dl class="mt-2 space-y-2 text-sm">
            {fields.into_iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| view! {
                <div>
                    <dt class="text-xs font-medium uppercase tracking-wide text-slate-500">{k}</dt>
                    <dd class="break-all font-mono text-xs text-slate-900">{v}</dd>
                </div>
            }).collect_view()}
        </dl>
    }
}
