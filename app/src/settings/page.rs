//! The settings page: the leak response and the quarantine rules as radio
//! choices, the org's thresholds when it sets its own, and Save. People
//! without `admin:org` see the same form, read-only.

use leptos::prelude::*;
use model::wire::{LeakResponseSetting, OrgSettings};

use super::{load_org_settings, save_org_settings, RulesInput, GUARD_DEFAULTS};
use crate::error::DashError;
use crate::ui::{class, ErrorBox, Layout};

/// What Save sends.
#[derive(Clone)]
struct Chosen {
    leak: Option<LeakResponseSetting>,
    rules: Option<RulesInput>,
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let settings = Resource::new(|| (), |()| load_org_settings());
    // Changing them takes `admin:org`, which is what `may_manage_members`
    // reports; readers (svc:audit:read) only look. The server refuses a
    // forced call all the same.
    let me = Resource::new(|| (), |()| crate::session::whoami());
    view! {
        <Layout>
            <h1 class="text-2xl font-bold tracking-tight">"Settings"</h1>
            <p class="mt-1 text-sm text-slate-600">
                "How this org's guardrails respond: to a key reported leaked, and to a key whose calls look like a runaway agent."
            </p>
            <Transition fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Loading…"</p> }>
                {move || settings.get().map(|r| match r {
                    Ok(s) => {
                        let manage = me.get().and_then(Result::ok).is_some_and(|m| m.may_manage_members);
                        view! { <SettingsForm initial=s may_manage=manage/> }.into_any()
                    }
                    Err(e) => view! { <div id="settings-error" class="mt-4"><ErrorBox error=e/></div> }.into_any(),
                })}
            </Transition>
        </Layout>
    }
}

#[component]
fn SettingsForm(initial: OrgSettings, may_manage: bool) -> impl IntoView {
    let leak = RwSignal::new(initial.leak_response);
    let org_rules = RwSignal::new(initial.rules.is_some());
    let rules = RwSignal::new(RulesInput::from(initial.rules.unwrap_or(GUARD_DEFAULTS)));
    let saved = RwSignal::new(false);
    let error = RwSignal::new(None::<DashError>);
    let save = Action::new(|c: &Chosen| {
        let c = c.clone();
        save_org_settings(c.leak, c.rules)
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(s)) => {
            error.set(None);
            saved.set(true);
            // Show what the authority stored.
            leak.set(s.leak_response);
            org_rules.set(s.rules.is_some());
            if let Some(r) = s.rules {
                rules.set(r.into());
            }
        }
        Some(Err(e)) => {
            saved.set(false);
            error.set(Some(e));
        }
        None => {}
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        save.dispatch(Chosen {
            leak: leak.get_untracked(),
            rules: org_rules.get_untracked().then(|| rules.get_untracked()),
        });
    };
    // Each part is its own type-erased view: one nested view type for the
    // whole form overflows the compiler's query depth in the release build.
    view! {
        <form id="settings-form" on:submit=submit>
            <LeakSection leak=leak may_manage=may_manage/>
            <RulesSection org_rules=org_rules rules=rules may_manage=may_manage/>
            <div class="mt-4 flex flex-wrap items-center gap-3">
                {if may_manage {
                    view! {
                        <button type="submit" id="settings-save" class=class::BUTTON disabled=move || save.pending().get()>
                            {move || if save.pending().get() { "Saving…" } else { "Save" }}
                        </button>
                        <span id="settings-saved" role="status" class="text-sm text-green-700">
                            {move || saved.get().then_some("Saved.")}
                        </span>
                    }.into_any()
                } else {
                    view! {
                        <p id="settings-readonly" class="text-sm text-slate-600">"Read-only: changing these takes an admin (admin:org)."</p>
                    }.into_any()
                }}
            </div>
        </form>
        <div id="settings-error" class="mt-3">
            {move || error.get().map(|e| view! { <ErrorBox error=e/> })}
        </div>
    }
    .into_any()
}

/// One radio button and its label.
fn radio(
    id: &'static str,
    name: &'static str,
    text: &'static str,
    may_manage: bool,
    checked: impl Fn() -> bool + Send + Sync + 'static,
    pick: impl Fn() + 'static,
) -> AnyView {
    view! {
        <li class="flex items-start gap-2">
            <input type="radio" id=id name=name class="mt-1" disabled=!may_manage
                prop:checked=checked on:change=move |_| pick()/>
            <label for=id>{text}</label>
        </li>
    }
    .into_any()
}

/// What a reported leak does: the server's default, revoke, or quarantine.
#[component]
fn LeakSection(leak: RwSignal<Option<LeakResponseSetting>>, may_manage: bool) -> impl IntoView {
    let choice = move |id, value: Option<LeakResponseSetting>, text| {
        radio(
            id,
            "leak-response",
            text,
            may_manage,
            move || leak.get() == value,
            move || leak.set(value),
        )
    };
    view! {
        <section id="settings-leaks" class=format!("mt-4 {}", class::CARD) aria-labelledby="settings-leaks-heading">
            <h2 id="settings-leaks-heading" class="text-lg font-semibold">"Leaked keys"</h2>
            <p class="mt-1 text-sm text-slate-600">"What happens to a key of this org that a secret scanner reports exposed."</p>
            <fieldset class="mt-3">
                <legend class="sr-only">"Response to a leaked key"</legend>
                <ul class="space-y-2 text-sm">
                    {choice("leak-response-server", None, "The server's default: revoke, unless the server was started with --leak-response quarantine")}
                    {choice("leak-response-revoke", Some(LeakResponseSetting::Revoke), "Revoke it, and the keys derived from it")}
                    {choice("leak-response-quarantine", Some(LeakResponseSetting::Quarantine), "Hold it in quarantine for a person to release or revoke")}
                </ul>
            </fieldset>
        </section>
    }
    .into_any()
}

/// Whose thresholds the guards use, and the org's when it sets its own.
#[component]
fn RulesSection(
    org_rules: RwSignal<bool>,
    rules: RwSignal<RulesInput>,
    may_manage: bool,
) -> impl IntoView {
    let choice = move |id, org: bool, text| {
        radio(
            id,
            "rules",
            text,
            may_manage,
            move || org_rules.get() == org,
            move || org_rules.set(org),
        )
    };
    view! {
        <section id="settings-rules" class=format!("mt-4 {}", class::CARD) aria-labelledby="settings-rules-heading">
            <h2 id="settings-rules-heading" class="text-lg font-semibold">"Quarantine rules"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "A guard puts a key in quarantine when its calls trip one of these rules. "
                "A minute is the guard's window (60 s unless its flags say otherwise); guards pick up a change within a minute."
            </p>
            <fieldset class="mt-3">
                <legend class="sr-only">"Whose thresholds"</legend>
                <ul class="space-y-2 text-sm">
                    {choice("rules-guard", false, "Each guard's own flags (by default: loop 50, denial burst 20, surge ×10 and at least 100, new tool off)")}
                    {choice("rules-org", true, "The org's, for all its guards:")}
                </ul>
            </fieldset>
            <Show when=move || org_rules.get()>
                <Thresholds rules=rules may_manage=may_manage/>
            </Show>
        </section>
    }
    .into_any()
}

/// The four thresholds and the new-tool switch, each with what it means.
#[component]
fn Thresholds(rules: RwSignal<RulesInput>, may_manage: bool) -> impl IntoView {
    // One threshold: its label, the field as typed, and what it means.
    let number = move |id: &'static str,
                       label: &'static str,
                       help: &'static str,
                       get: fn(&RulesInput) -> String,
                       set: fn(&mut RulesInput, String)| {
        view! {
            <div>
                <label for=id class=class::LABEL>{label}</label>
                <input id=id type="number" min="0" step="1" inputmode="numeric" required disabled=!may_manage
                    class=format!("mt-1 w-32 {}", class::INPUT_INLINE)
                    prop:value=move || rules.with(get)
                    on:input=move |ev| {
                        let value = event_target_value(&ev);
                        rules.update(|r| set(r, value));
                    }/>
                <p class="mt-1 text-xs text-slate-500">{help}</p>
            </div>
        }
        .into_any()
    };
    view! {
        <div id="rule-thresholds" class="mt-3 grid gap-4 sm:grid-cols-2">
            {number("rule-loop-calls", "Loop", "Trips when a key makes the same call (tool and arguments) this many times in a minute.",
                |r| r.loop_calls.clone(), |r, v| r.loop_calls = v)}
            {number("rule-denial-burst", "Denial burst", "Trips after this many refused calls of a key in a minute.",
                |r| r.denial_burst.clone(), |r, v| r.denial_burst = v)}
            {number("rule-surge-factor", "Surge factor", "Trips when a key calls this many times its usual rate in a minute…",
                |r| r.surge_factor.clone(), |r, v| r.surge_factor = v)}
            {number("rule-surge-floor", "Surge floor", "…and at least this many calls: a quiet key's few calls are no surge.",
                |r| r.surge_floor.clone(), |r, v| r.surge_floor = v)}
            <div class="flex items-start gap-2 sm:col-span-2">
                <input type="checkbox" id="rule-new-tool" class="mt-1" disabled=!may_manage
                    prop:checked=move || rules.with(|r| r.new_tool)
                    on:change=move |ev| rules.update(|r| r.new_tool = event_target_checked(&ev))/>
                <label for="rule-new-tool" class="text-sm">
                    <span class="font-medium text-slate-700">"New tool"</span>
                    <span class="text-slate-600">": trips on a key's first call of a tool outside its usual set."</span>
                </label>
            </div>
            <p class="text-xs text-slate-500 sm:col-span-2">"0 turns a rule off."</p>
        </div>
    }
    .into_any()
}
