//! The copy-once dialog for a webhook's signing secret, the keys page's
//! copy-once pattern: the secret, a copy button, a clear warning, and a
//! close that asks first. Closing clears the signal, so no later render,
//! reload or history entry can show the secret again.

use leptos::prelude::*;

use super::ShownSecret;
use crate::ui::{class, Modal};

#[component]
pub fn SecretOnce(
    /// Holds the secret of a created or rotated endpoint while the dialog is open.
    shown: RwSignal<Option<ShownSecret>>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let copied = RwSignal::new(None::<bool>);
    let open = Signal::derive(move || shown.with(Option::is_some));
    let close = move || {
        shown.set(None);
        confirming.set(false);
        copied.set(None);
    };
    let ask_close = Callback::new(move |()| confirming.set(true));
    let copy = move |_| {
        let Some(secret) = shown.with_untracked(|s| s.as_ref().map(|s| s.secret.clone())) else {
            return;
        };
        copy_to_clipboard(secret, copied);
    };
    view! {
        <Modal open=open on_close=ask_close title="Copy the signing secret" id="webhook-secret-once">
            <p class="mt-2 rounded-md bg-amber-50 p-3 text-sm font-medium text-amber-900">
                "You will not see this secret again. Copy it now and give it to the receiver: it checks every message's signature with it."
            </p>
            <p class="mt-3 break-all text-sm text-slate-600">
                {move || shown.with(|s| s.as_ref().map(|s| format!("Endpoint {} ({})", s.webhook.url, s.webhook.id)))}
            </p>
            <label for="webhook-secret-value" class=format!("mt-3 {}", class::LABEL)>"Signing secret"</label>
            <input
                id="webhook-secret-value"
                readonly
                class=format!("{} font-mono", class::INPUT)
                prop:value=move || shown.with(|s| s.as_ref().map(|s| s.secret.clone()).unwrap_or_default())
            />
            <div class="mt-3 flex flex-wrap items-center gap-3">
                <button type="button" id="copy-webhook-secret" class=class::BUTTON on:click=copy autofocus>"Copy to clipboard"</button>
                <span role="status" class="text-sm" id="copy-webhook-secret-status">
                    {move || match copied.get() {
                        Some(true) => "Copied.",
                        Some(false) => "Copy failed: select the secret and copy it by hand.",
                        None => "",
                    }}
                </span>
            </div>
            <div class="mt-6 border-t border-slate-200 pt-4">
                <Show
                    when=move || confirming.get()
                    fallback=move || view! {
                        <button type="button" id="close-webhook-secret" class=class::BUTTON_SECONDARY on:click=move |_| confirming.set(true)>
                            "I have stored it, close"
                        </button>
                    }
                >
                    <p class="text-sm text-slate-700">"Close for good? The secret cannot be shown again; only a rotation makes a new one."</p>
                    <div class="mt-3 flex gap-3">
                        <button type="button" id="confirm-close-webhook-secret" class=class::BUTTON_DANGER on:click=move |_| close()>
                            "Yes, close"
                        </button>
                        <button type="button" class=class::BUTTON_SECONDARY on:click=move |_| confirming.set(false)>
                            "Back"
                        </button>
                    </div>
                </Show>
            </div>
        </Modal>
    }
}

#[cfg(feature = "hydrate")]
fn copy_to_clipboard(secret: String, copied: RwSignal<Option<bool>>) {
    let clipboard = window().navigator().clipboard();
    let promise = clipboard.write_text(&secret);
    leptos::task::spawn_local(async move {
        let ok = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
        copied.set(Some(ok));
    });
}

#[cfg(not(feature = "hydrate"))]
fn copy_to_clipboard(_secret: String, _copied: RwSignal<Option<bool>>) {}
