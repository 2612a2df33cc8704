//! The explorer's filter form: a plain GET form whose fields are the URL
//! query, so the address bar always holds the view, plus the live-tail
//! switch.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::model::AuditFilters;
use crate::ui::class;

/// The filters in the current URL (empty values are no filter).
pub fn filters_from_url() -> Memo<AuditFilters> {
    let query = use_query_map();
    Memo::new(move |_| {
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
    })
}

/// `/audit` with the current filters and `extra` (already encoded).
pub fn audit_link(filters_query: &str, extra: &str) -> String {
    match (filters_query.is_empty(), extra.is_empty()) {
        (true, true) => "/audit".to_owned(),
        (true, false) => format!("/audit?{extra}"),
        (false, true) => format!("/audit?{filters_query}"),
        (false, false) => format!("/audit?{filters_query}&{extra}"),
    }
}

#[component]
pub fn AuditFilterForm(live: RwSignal<bool>) -> impl IntoView {
    let query = use_query_map();
    let value = move |k: &'static str| move || query.with(|q| q.get(k).unwrap_or_default());
    view! {
        <Form method="GET" action="/audit" attr:id="audit-filters" attr:class=format!("mt-4 grid grid-cols-2 gap-3 sm:grid-cols-4 lg:grid-cols-8 {}", class::CARD)>
            <div class="col-span-2">
                <label for="f-key" class=class::LABEL>"Key id (by or about it)"</label>
                <input id="f-key" name="key_id" class=class::INPUT placeholder="key_…" prop:value=value("key_id")/>
            </div>
            <div>
                <label for="f-agent" class=class::LABEL title="Its calls, and every mint, rotation and revocation of its keys">"Agent (by or about)"</label>
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
    }
}
