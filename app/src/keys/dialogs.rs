//! The keys table's confirmation dialogs: revoke (with a reason for the
//! audit trail) and rotate (with a grace period for the old key).

use leptos::prelude::*;

use crate::model::KeyRow;
use crate::ui::{class, Modal};

/// On a phone (below 640 px) a dialog's fields and buttons are thumb-sized
/// (48 px tall, 16 px text so phones do not zoom into a focused field) and
/// the buttons share the width, the confirming one on the right. Nothing
/// changes from 640 px up.
const THUMB_INPUT: &str = "max-sm:min-h-12 max-sm:text-base";
const THUMB_BUTTON: &str = "max-sm:min-h-12 max-sm:flex-1 max-sm:text-base";

#[component]
pub fn RevokeDialog(
    target: RwSignal<Option<KeyRow>>,
    action: Action<(String, String), Result<KeyRow, crate::error::DashError>>,
) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let open = Signal::derive(move || target.with(Option::is_some));
    let close = Callback::new(move |()| target.set(None));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(k) = target.get_untracked() {
            action.dispatch((k.id.to_string(), reason.get_untracked()));
        }
    };
    view! {
        <Modal open=open on_close=close title="Revoke key" id="revoke-dialog">
            <form on:submit=submit>
                <p class="mt-2 text-sm text-slate-600">
                    "Revoke “" {move || target.with(|t| t.as_ref().map(|k| k.name.clone()))} "”? Every call with it fails from now on. This cannot be undone."
                </p>
                <label for="revoke-reason" class=format!("mt-4 {}", class::LABEL)>"Reason (recorded in the audit trail)"</label>
                <input id="revoke-reason" class=format!("{} {THUMB_INPUT}", class::INPUT) maxlength="500" placeholder="e.g. leaked in a CI log"
                    prop:value=reason on:input=move |ev| reason.set(event_target_value(&ev))/>
                <div class="mt-5 flex justify-end gap-3">
                    <button type="button" class=format!("{} {THUMB_BUTTON}", class::BUTTON_SECONDARY) on:click=move |_| close.run(())>"Cancel"</button>
                    <button type="submit" id="confirm-revoke" class=format!("{} {THUMB_BUTTON}", class::BUTTON_DANGER) disabled=move || action.pending().get()>"Revoke key"</button>
                </div>
            </form>
        </Modal>
    }
}

#[component]
pub fn RotateDialog(
    target: RwSignal<Option<KeyRow>>,
    action: Action<(String, u64), Result<crate::model::Rotated, crate::error::DashError>>,
) -> impl IntoView {
    let grace = RwSignal::new(3600_u64);
    let open = Signal::derive(move || target.with(Option::is_some));
    let close = Callback::new(move |()| target.set(None));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(k) = target.get_untracked() {
            action.dispatch((k.id.to_string(), grace.get_untracked()));
        }
    };
    view! {
        <Modal open=open on_close=close title="Rotate key" id="rotate-dialog">
            <form on:submit=submit>
                <p class="mt-2 text-sm text-slate-600">
                    "Rotate “" {move || target.with(|t| t.as_ref().map(|k| k.name.clone()))} "”: a new key with the same scopes is created; the old one keeps working for the grace period so you can roll it out."
                </p>
                <label for="rotate-grace" class=format!("mt-4 {}", class::LABEL)>"Old key keeps working for"</label>
                <select id="rotate-grace" class=format!("{} {THUMB_INPUT}", class::INPUT) on:change=move |ev| grace.set(event_target_value(&ev).parse().unwrap_or(3600))>
                    <option value="0">"No grace: stop it now"</option>
                    <option value="3600" selected>"1 hour"</option>
                    <option value="86400">"24 hours"</option>
                    <option value="604800">"7 days"</option>
                </select>
                <div class="mt-5 flex justify-end gap-3">
                    <button type="button" class=format!("{} {THUMB_BUTTON}", class::BUTTON_SECONDARY) on:click=move |_| close.run(())>"Cancel"</button>
                    <button type="submit" id="confirm-rotate" class=format!("{} {THUMB_BUTTON}", class::BUTTON) disabled=move || action.pending().get()>"Rotate key"</button>
                </div>
            </form>
        </Modal>
    }
}
