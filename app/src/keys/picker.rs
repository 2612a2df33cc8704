//! The scope picker: one row per service with None / Read / Write / Admin
//! (like Stripe's restricted keys), plus checkboxes for a service's other
//! actions. Levels the signed-in key may not grant are shown disabled.

use leptos::prelude::*;

use crate::model::PickerService;

const LEVELS: [&str; 3] = ["read", "write", "admin"];

/// The chosen scopes, one entry per picked scope.
#[component]
pub fn ScopePicker(services: Vec<PickerService>, chosen: RwSignal<Vec<String>>) -> impl IntoView {
    services
        .into_iter()
        .map(|svc| {
            let service = svc.service.clone();
            let levels: Vec<_> = svc
                .actions
                .iter()
                .filter(|a| LEVELS.contains(&a.action.as_str()))
                .cloned()
                .collect();
            let extras: Vec<_> = svc
                .actions
                .iter()
                .filter(|a| !LEVELS.contains(&a.action.as_str()))
                .cloned()
                .collect();
            let level_scopes: Vec<String> = levels.iter().map(|a| a.scope.clone()).collect();
            let pick_level = move |scope: Option<String>| {
                let level_scopes = level_scopes.clone();
                chosen.update(|c| {
                    c.retain(|s| !level_scopes.contains(s));
                    c.extend(scope);
                });
            };
            let group = format!("scope-{service}");
            let none_pick = pick_level.clone();
            view! {
                <fieldset class="border-b border-slate-100 py-3 last:border-0" data-service=service.clone()>
                    <legend class="sr-only">{format!("Access to {service}")}</legend>
                    <div class="flex flex-col gap-2 sm:flex-row sm:items-center sm:justify-between">
                        <div>
                            <div class="font-medium text-slate-900">{service.clone()}</div>
                            <div class="text-xs text-slate-500">{svc.description.clone()}</div>
                        </div>
                        <div class="flex flex-wrap gap-3 text-sm" role="radiogroup" aria-label=format!("{service} access")>
                            <label class="inline-flex items-center gap-1">
                                <input type="radio" name=group.clone() value="" checked on:change=move |_| none_pick(None)/>
                                "None"
                            </label>
                            {levels.into_iter().map(|a| {
                                let pick = pick_level.clone();
                                let scope = a.scope.clone();
                                view! {
                                    <label class="inline-flex items-center gap-1 has-[:disabled]:text-slate-400" title=a.description.clone()>
                                        <input type="radio" name=group.clone() value=a.scope.clone() disabled=!a.grantable
                                            on:change=move |_| pick(Some(scope.clone()))/>
                                        {capitalize(&a.action)}
                                    </label>
                                }
                            }).collect_view()}
                        </div>
                    </div>
                    {(!extras.is_empty()).then(|| view! {
                        <div class="mt-2 flex flex-wrap gap-4 text-sm">
                            {extras.into_iter().map(|a| {
                                let scope = a.scope.clone();
                                view! {
                                    <label class="inline-flex items-center gap-1 has-[:disabled]:text-slate-400" title=a.description.clone()>
                                        <input type="checkbox" value=a.scope.clone() disabled=!a.grantable
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                let scope = scope.clone();
                                                chosen.update(|c| {
                                                    c.retain(|s| *s != scope);
                                                    if on { c.push(scope); }
                                                });
                                            }/>
                                        {format!("{}: {}", a.action, a.description)}
                                    </label>
                                }
                            }).collect_view()}
                        </div>
                    })}
                </fieldset>
            }
        })
        .collect_view()
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
