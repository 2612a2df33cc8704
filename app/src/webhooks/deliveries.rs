//! One endpoint's delivery log: its newest messages, where each stands,
//! and why the last attempt failed, to debug a receiver.

use leptos::prelude::*;
use model::wire::{DeliveryState, DeliveryView};

use super::webhook_deliveries;
use crate::ui::fmt::time_with_seconds;
use crate::ui::ErrorBox;

/// Loaded when opened (not with the page): most people never look.
#[component]
pub fn DeliveryLog(id: String) -> impl IntoView {
    let log = Resource::new(|| (), move |()| webhook_deliveries(id.clone()));
    view! {
        <div class="webhook-log mt-3 border-t border-slate-100 pt-3">
            <div class="flex items-center gap-3">
                <h3 class="text-sm font-semibold">"Delivery log"</h3>
                <button type="button" class="webhook-log-refresh text-xs text-indigo-700 underline" on:click=move |_| log.refetch()>"Refresh"</button>
            </div>
            <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
                {move || log.get().map(|r| match r {
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    Ok(rows) if rows.is_empty() => view! {
                        <p class="webhook-log-empty mt-1 text-sm text-slate-600">"No messages yet: one is sent when something it receives happens."</p>
                    }.into_any(),
                    Ok(rows) => log_table(rows).into_any(),
                })}
            </Transition>
        </div>
    }
}

fn log_table(rows: Vec<DeliveryView>) -> impl IntoView {
    view! {
        <div class="mt-2 overflow-x-auto">
            <table class="webhook-log-table min-w-full text-left text-sm">
                <thead class="text-xs text-slate-500">
                    <tr>
                        <th scope="col" class="py-1 pr-3">"Message id"</th>
                        <th scope="col" class="py-1 pr-3">"Type"</th>
                        <th scope="col" class="py-1 pr-3">"State"</th>
                        <th scope="col" class="py-1 pr-3">"Attempts"</th>
                        <th scope="col" class="py-1 pr-3">"Last answer"</th>
                        <th scope="col" class="py-1">"Next attempt"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|d| {
                        let badge = match d.state {
                            DeliveryState::Delivered => "bg-emerald-50 text-emerald-700",
                            DeliveryState::Pending => "bg-amber-50 text-amber-800",
                            DeliveryState::Failed => "bg-red-50 text-red-700",
                        };
                        // An HTTP status if the endpoint answered, else why not.
                        let last = match (d.last_status, d.last_error) {
                            (Some(status), Some(e)) => format!("HTTP {status}: {e}"),
                            (Some(status), None) => format!("HTTP {status}"),
                            (None, Some(e)) => e,
                            (None, None) => "—".to_owned(),
                        };
                        view! {
                            <tr class="webhook-delivery border-t border-slate-100 align-top" data-state=d.state.as_str()>
                                <td class="py-1 pr-3 font-mono text-xs">{d.message_id}</td>
                                <td class="py-1 pr-3"><code class="text-xs">{d.event_type.as_str()}</code></td>
                                <td class="py-1 pr-3"><span class=format!("rounded-full px-2 py-0.5 text-xs font-medium {badge}")>{d.state.as_str()}</span></td>
                                <td class="py-1 pr-3">{d.attempts}</td>
                                <td class="py-1 pr-3 wrap-anywhere">{last}</td>
                                <td class="py-1 whitespace-nowrap">{d.next_attempt_at.map_or_else(|| "—".to_owned(), |t| time_with_seconds(&t.to_rfc3339()))}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
