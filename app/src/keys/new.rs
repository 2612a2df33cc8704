//! The new-key form: details (name, environment, agent), permissions (the
//! scope picker) and expiry, each its own section; minting opens the
//! copy-once dialog.

use leptos::prelude::*;

use super::picker::ScopePicker;
use super::{load_mint_options, mint_key, CopyOnce};
use crate::model::{MintedKey, TermsInput};
use crate::ui::{class, ErrorBox, Layout};

#[derive(Clone)]
struct MintInput {
    name: String,
    env: String,
    agent: String,
    scopes: String,
    expiry: String,
    resources: String,
    terms: TermsInput,
}

#[component]
pub fn NewKeyPage() -> impl IntoView {
    let options = Resource::new(|| (), |()| load_mint_options());
    let name = RwSignal::new(String::new());
    let env = RwSignal::new("live".to_owned());
    let agent = RwSignal::new(String::new());
    let resources = RwSignal::new(String::new());
    let terms = RwSignal::new(TermsInput::default());
    let limits = RwSignal::new(Vec::<crate::model::LimitInput>::new());
    let chosen = RwSignal::new(Vec::<String>::new());
    let expiry = RwSignal::new("90".to_owned());
    let custom_date = RwSignal::new(String::new());
    let minted = RwSignal::new(None::<MintedKey>);
    let error = RwSignal::new(None::<String>);

    let mint = Action::new(|i: &MintInput| {
        let i = i.clone();
        mint_key(
            i.name,
            i.env,
            i.agent,
            i.scopes,
            i.expiry,
            i.resources,
            i.terms,
        )
    });
    Effect::new(move |_| {
        if let Some(result) = mint.value().get() {
            match result {
                Ok(m) => {
                    error.set(None);
                    minted.set(Some(m));
                    // Only the dialog's signal keeps the key.
                    mint.value().set(None);
                    name.set(String::new());
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let expiry = match expiry.get_untracked().as_str() {
            "custom" => format!("date:{}", custom_date.get_untracked()),
            other => other.to_owned(),
        };
        mint.dispatch(MintInput {
            name: name.get_untracked(),
            env: env.get_untracked(),
            agent: agent.get_untracked(),
            scopes: chosen.get_untracked().join(","),
            expiry,
            resources: resources.get_untracked(),
            terms: TermsInput {
                limits: limits.get_untracked(),
                ..terms.get_untracked()
            },
        });
    };

    view! {
        <Layout>
            <h1 class="text-2xl font-bold tracking-tight">"New key"</h1>
            <p class="mt-1 text-sm text-slate-600">"Give the key only what its agent needs. You can grant at most what your own key holds."</p>
            <Suspense fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Loading scopes…"</p> }>
                {move || options.get().map(|r| match r {
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    Ok(opts) => {
                        if let Some(a) = opts.forced_agent.clone() { agent.set(a); }
                        let forced = opts.forced_agent.is_some();
                        view! {
                            <form id="new-key-form" class="mt-4 space-y-6" on:submit=submit>
                                <DetailsSection name=name env=env agent=agent forced_agent=forced resources=resources/>
                                <PermissionsSection services=opts.services.clone() chosen=chosen/>
                                <ExpirySection expiry=expiry custom_date=custom_date never_allowed=opts.never_allowed latest_expiry=opts.latest_expiry.clone()/>
                                <TermsSection terms=terms/>
                                <LimitsSection limits=limits chosen=chosen/>
                                <div class="flex items-center gap-3">
                                    <button type="submit" id="create-key" class=class::BUTTON disabled=move || mint.pending().get()>
                                        {move || if mint.pending().get() { "Creating…" } else { "Create key" }}
                                    </button>
                                    <a href="/keys" class=class::BUTTON_SECONDARY>"Back to keys"</a>
                                </div>
                                <p role="alert" id="mint-error" class="text-sm text-red-700">{move || error.get()}</p>
                            </form>
                        }.into_any()
                    }
                })}
            </Suspense>
            <CopyOnce minted=minted/>
        </Layout>
    }
}

#[component]
fn DetailsSection(
    name: RwSignal<String>,
    env: RwSignal<String>,
    agent: RwSignal<String>,
    /// The signed-in key is bound to an agent: new keys get the same one.
    forced_agent: bool,
    /// Tool server URLs, one per line.
    resources: RwSignal<String>,
) -> impl IntoView {
    view! {
        <section class=class::CARD>
            <h2 class="text-base font-semibold">"Details"</h2>
            <div class="mt-3 grid grid-cols-1 gap-4 sm:grid-cols-3">
                <div>
                    <label for="key-name" class=class::LABEL>"Name"</label>
                    <input id="key-name" required maxlength="100" class=class::INPUT placeholder="e.g. wiki-bot production"
                        prop:value=name on:input=move |ev| name.set(event_target_value(&ev))/>
                </div>
                <div>
                    <label for="key-env-new" class=class::LABEL>"Environment"</label>
                    <select id="key-env-new" class=class::INPUT on:change=move |ev| env.set(event_target_value(&ev))>
                        <option value="live" selected>"live"</option>
                        <option value="test">"test"</option>
                    </select>
                </div>
                <div>
                    <label for="key-agent" class=class::LABEL>"Agent (optional)"</label>
                    <input id="key-agent" class=class::INPUT placeholder="e.g. support-bot" pattern="[a-z0-9_-]+"
                        title="lowercase letters, digits, - and _" disabled=forced_agent
                        prop:value=agent on:input=move |ev| agent.set(event_target_value(&ev))/>
                    <p class="mt-1 text-xs text-slate-500">"Binds the key to one agent, so you can revoke all of an agent's keys at once."</p>
                </div>
                <div class="sm:col-span-3">
                    <label for="key-resources" class=class::LABEL>"Only at these tool servers (optional)"</label>
                    <textarea id="key-resources" rows="2" class=format!("{} font-mono", class::INPUT)
                        placeholder="https://wiki.example.com/mcp"
                        prop:value=resources on:input=move |ev| resources.set(event_target_value(&ev))></textarea>
                    <p class="mt-1 text-xs text-slate-500">"One URL per line, as the tool server names itself. Every other tool server refuses the key; empty means any of the org's."</p>
                </div>
            </div>
        </section>
    }
    // Type-erased: the form nests three sections, and their full view
    // types together exceed the compiler's query depth in release builds.
    .into_any()
}

/// When and where the key works, and what tool servers learn about it.
#[component]
fn TermsSection(terms: RwSignal<TermsInput>) -> impl IntoView {
    view! {
        <section class=class::CARD aria-labelledby="terms-heading">
            <h2 id="terms-heading" class="text-base font-semibold">"Where and when (optional)"</h2>
            <div class="mt-3 grid grid-cols-1 gap-4 sm:grid-cols-3">
                <div>
                    <label for="key-not-before" class=class::LABEL>"Valid from (UTC)"</label>
                    <input id="key-not-before" type="datetime-local" class=class::INPUT
                        prop:value=move || terms.with(|t| t.not_before.clone())
                        on:input=move |ev| terms.update(|t| t.not_before = event_target_value(&ev))/>
                    <p class="mt-1 text-xs text-slate-500">"Refused before then; empty: at once."</p>
                </div>
                <div class="sm:col-span-2">
                    <label for="key-networks" class=class::LABEL>"Only from these networks"</label>
                    <textarea id="key-networks" rows="2" class=format!("{} font-mono", class::INPUT)
                        placeholder="10.0.0.0/8\n2001:db8::/32"
                        prop:value=move || terms.with(|t| t.networks.clone())
                        on:input=move |ev| terms.update(|t| t.networks = event_target_value(&ev))></textarea>
                    <p class="mt-1 text-xs text-slate-500">"IPv4 or IPv6 addresses and CIDR ranges, one per line. Calls from anywhere else are refused; empty means any address."</p>
                </div>
                <div class="sm:col-span-3">
                    <label for="key-metadata" class=class::LABEL>"Metadata for tool servers (JSON object)"</label>
                    <textarea id="key-metadata" rows="2" class=format!("{} font-mono", class::INPUT)
                        placeholder=r#"{"team": "search"}"#
                        prop:value=move || terms.with(|t| t.metadata.clone())
                        on:input=move |ev| terms.update(|t| t.metadata = event_target_value(&ev))></textarea>
                    <p class="mt-1 text-xs text-slate-500">"At most 1 KiB. Tool servers receive it with the key; never put a secret here."</p>
                </div>
            </div>
        </section>
    }
    .into_any()
}

/// Rate limits and budgets on the key's tool calls.
#[component]
fn LimitsSection(
    limits: RwSignal<Vec<crate::model::LimitInput>>,
    chosen: RwSignal<Vec<String>>,
) -> impl IntoView {
    view! {
        <section class=class::CARD aria-labelledby="limits-heading">
            <h2 id="limits-heading" class="text-base font-semibold">"Limits (optional)"</h2>
            <p class="mt-1 text-xs text-slate-500">"Rate limits and budgets on its tool calls, for all tools or one scope. Tool servers refuse calls past them (429). Keys this key mints share them."</p>
            <div class="mt-3">
                <super::LimitsEditor limits=limits scopes=chosen/>
            </div>
        </section>
    }
    .into_any()
}

#[component]
fn PermissionsSection(
    services: Vec<crate::model::PickerService>,
    chosen: RwSignal<Vec<String>>,
) -> impl IntoView {
    view! {
        <section class=class::CARD aria-labelledby="scopes-heading">
            <h2 id="scopes-heading" class="text-base font-semibold">"Permissions"</h2>
            <p class="text-xs text-slate-500">"Write includes read; admin includes write. Greyed-out levels exceed your own key."</p>
            <div class="mt-2" id="scope-picker">
                <ScopePicker services=services chosen=chosen/>
            </div>
            <p class="mt-2 text-xs text-slate-600" id="chosen-scopes">
                "Selected: " {move || { let c = chosen.get(); if c.is_empty() { "nothing yet".to_owned() } else { c.join(", ") } }}
            </p>
        </section>
    }
    // Type-erased: the form nests three sections, and their full view
    // types together exceed the compiler's query depth in release builds.
    .into_any()
}

/// Expiry presets, a custom date, and "never" when the signed-in key may
/// grant it.
#[component]
fn ExpirySection(
    expiry: RwSignal<String>,
    custom_date: RwSignal<String>,
    never_allowed: bool,
    /// The signed-in key's own expiry, which new keys cannot outlive.
    latest_expiry: Option<String>,
) -> impl IntoView {
    let presets = [
        ("7", "7 days"),
        ("30", "30 days"),
        ("90", "90 days"),
        ("366", "1 year (366 days)"),
    ];
    view! {
        <section class=class::CARD>
            <fieldset>
                <legend class="text-base font-semibold">"Expiry"</legend>
                <div class="mt-3 flex flex-wrap gap-4 text-sm">
                    {presets.into_iter().map(|(v, label)| view! {
                        <label class="inline-flex items-center gap-1">
                            <input type="radio" name="expiry" value=v checked=v == "90" on:change=move |_| expiry.set(v.to_owned())/>
                            {label}
                        </label>
                    }).collect_view()}
                    <label class="inline-flex items-center gap-1">
                        <input type="radio" name="expiry" value="custom" on:change=move |_| expiry.set("custom".to_owned())/>
                        "Custom date"
                    </label>
                    {never_allowed.then(|| view! {
                        <label class="inline-flex items-center gap-1">
                            <input type="radio" name="expiry" value="never" on:change=move |_| expiry.set("never".to_owned())/>
                            "Never"
                        </label>
                    })}
                </div>
                <Show when=move || expiry.get() == "custom">
                    <label for="expiry-date" class=format!("mt-3 {}", class::LABEL)>"Expires at the end of (UTC)"</label>
                    <input id="expiry-date" type="date" class=class::INPUT required
                        prop:value=custom_date on:input=move |ev| custom_date.set(event_target_value(&ev))/>
                </Show>
                {latest_expiry.map(|t| view! {
                    <p class="mt-2 text-xs text-slate-500">"Your key expires " {crate::ui::fmt::short_time(&t)} "; new keys cannot outlive it."</p>
                })}
            </fieldset>
        </section>
    }
    // Type-erased: the form nests three sections, and their full view
    // types together exceed the compiler's query depth in release builds.
    .into_any()
}
