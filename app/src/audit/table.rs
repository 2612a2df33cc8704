//! One page of the explorer's event table, with its paging links. Every
//! link keeps the current filters (and the page, when an event is opened).

use leptos::prelude::*;
use model::Decision;

use super::filters::audit_link;
use crate::model::{AuditPageData, AuditRow};
use crate::ui::class;
use std::collections::BTreeMap;

use crate::ui::fmt::{encode_component, time_with_seconds};

#[component]
pub fn EventTable(
    page: AuditPageData,
    /// The current filters as a query string.
    filters_query: String,
    /// The cursor of the page shown (none on the first page).
    cursor: Option<String>,
) -> impl IntoView {
    if page.events.is_empty() {
        return view! {
            <p id="audit-empty" class=format!("text-sm text-slate-600 {}", class::CARD)>"No events match these filters. Widen the range or clear a filter."</p>
        }
        .into_any();
    }
    let at_cursor = cursor
        .as_deref()
        .map(|c| format!("cursor={}&", encode_component(c)))
        .unwrap_or_default();
    let next = page
        .next_cursor
        .as_deref()
        .map(|c| audit_link(&filters_query, &format!("cursor={}", encode_component(c))));
    let first = cursor.is_some().then(|| audit_link(&filters_query, ""));
    let names = page.key_names;
    let rows = page
        .events
        .into_iter()
        .map(|e| {
            let href = audit_link(&filters_query, &format!("{at_cursor}event={}", e.id));
            event_row(e, href, &names)
        })
        .collect_view();
    view! {
        <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
            <table id="audit-table" class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
                    <tr>
                        <th scope="col" class="px-3 py-2">"Time"</th>
                        <th scope="col" class="px-3 py-2">"Decision"</th>
                        <th scope="col" class="px-3 py-2">"Tool / action"</th>
                        <th scope="col" class="px-3 py-2">"Agent"</th>
                        <th scope="col" class="px-3 py-2">"Key or person"</th>
                        <th scope="col" class="px-3 py-2">"Subject"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">{rows}</tbody>
            </table>
        </div>
        <nav aria-label="Pages" class="mt-3 flex gap-3">
            {first.map(|h| view! { <a class=class::BUTTON_SECONDARY href=h>"First page"</a> })}
            {next.map(|h| view! { <a id="next-page" class=class::BUTTON_SECONDARY href=h>"Next page"</a> })}
        </nav>
    }
    .into_any()
}

fn decision_badge(d: Decision) -> &'static str {
    match d {
        Decision::Denied => "inline-flex rounded-full bg-red-50 px-2 py-0.5 text-xs font-medium text-red-700 ring-1 ring-inset ring-red-600/20",
        Decision::Allowed => "inline-flex rounded-full bg-emerald-50 px-2 py-0.5 text-xs font-medium text-emerald-700 ring-1 ring-inset ring-emerald-600/20",
    }
}

/// A key as people know it: its name, linking to the key's page, with the
/// id beside it (ids are what the REST API and the logs use). Unknown keys
/// (deleted, another org's claim, a member's credential) show their id
/// alone.
pub(crate) fn key_cell(id: Option<String>, names: &BTreeMap<String, String>) -> impl IntoView {
    match id {
        None => view! { <span>"—"</span> }.into_any(),
        Some(id) => {
            let name = names.get(&id).cloned().map(|name| {
                view! {
                    <a class="key-name font-medium text-indigo-700 underline" href=format!("/keys/{}", encode_component(&id))>{name}</a>
                }
            });
            view! {
                {name}
                " "
                <span class="font-mono text-xs text-slate-500">{id}</span>
            }
            .into_any()
        }
    }
}

/// What an admin event acted on: each key it names (a rotation names two)
/// as a key, anything else (an agent, scopes, an email) as text, then the
/// agent those keys belong to.
fn subject_cell(
    subject: Option<String>,
    subject_agent: Option<String>,
    names: &BTreeMap<String, String>,
) -> impl IntoView {
    let parts = subject
        .unwrap_or_default()
        .split_whitespace()
        .map(|token| {
            if names.contains_key(token) {
                view! { <span class="mr-2">{key_cell(Some(token.to_owned()), names)}</span> }
                    .into_any()
            } else {
                view! { <span class="mr-2 font-mono text-xs">{token.to_owned()}</span> }.into_any()
            }
        })
        .collect_view();
    let agent = subject_agent.map(|agent| {
        view! { <span class="event-subject-agent text-xs text-slate-500">"agent "{agent}</span> }
    });
    view! { {parts}{agent} }
}

fn event_row(e: AuditRow, href: String, names: &BTreeMap<String, String>) -> impl IntoView {
    let b = e.body;
    // Admin events say what they acted on (a key, an agent, scopes).
    let subject = subject_cell(b.subject.clone(), b.subject_agent.clone(), names);
    view! {
        <tr data-event-id=e.id.to_string()>
            <td class="px-3 py-2 whitespace-nowrap"><a class="text-indigo-700 underline" href=href>{time_with_seconds(&b.ts.to_rfc3339())}</a></td>
            <td class="px-3 py-2"><span class=decision_badge(b.decision)>{b.decision.as_str()}</span></td>
            <td class="px-3 py-2 font-mono text-xs event-action">{b.action}</td>
            <td class="px-3 py-2">{b.agent.unwrap_or_else(|| "—".to_owned())}</td>
            <td class="px-3 py-2 event-key">
                // A person is named as the trail recorded them (role and
                // sign-in method at the time); a key by its current name.
                {match b.person {
                    Some(person) => view! {
                        <span class="event-person font-medium">{person.to_string()}</span>
                        " "
                        <span class="font-mono text-xs text-slate-500">{b.actor_key_id.map(|k| k.to_string())}</span>
                    }.into_any(),
                    None => key_cell(b.actor_key_id.map(|k| k.to_string()), names).into_any(),
                }}
            </td>
            <td class="px-3 py-2 event-subject">{subject}</td>
        </tr>
    }
}
