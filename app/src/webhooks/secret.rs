//! The copy-once dialog for a webhook's signing secret (created or
//! rotated): the shared [`OnceDialog`] with this page's wording and ids.

use leptos::prelude::*;

use super::ShownSecret;
use crate::ui::{OnceDialog, OnceWords};

const WORDS: OnceWords = OnceWords {
    dialog_id: "webhook-secret-once",
    title: "Copy the signing secret",
    warning: "You will not see this secret again. Copy it now and give it to the receiver: it checks every message's signature with it.",
    label: "Signing secret",
    value_id: "webhook-secret-value",
    copy_id: "copy-webhook-secret",
    status_id: "copy-webhook-secret-status",
    noun: "secret",
    close_id: "close-webhook-secret",
    confirm: "Close for good? The secret cannot be shown again; only a rotation makes a new one.",
    confirm_id: "confirm-close-webhook-secret",
};

#[component]
pub fn SecretOnce(
    /// Holds the secret of a created or rotated endpoint while the dialog is open.
    shown: RwSignal<Option<ShownSecret>>,
) -> impl IntoView {
    view! {
        <OnceDialog
            shown=shown
            secret=|s: &ShownSecret| s.secret.clone()
            about=|s: &ShownSecret| format!("Endpoint {} ({})", s.webhook.url, s.webhook.id)
            words=WORDS
        />
    }
}
