//! The copy-once dialog: the raw key, a copy button, a clear warning, and a
//! close that asks first. Closing drops the key from memory: the signal is
//! cleared, so no later render, reload or history entry can show it.

use leptos::prelude::*;

use crate::model::MintedKey;
use crate::ui::{class, Modal};

#[component]
pub fn CopyOnce(
    /// Holds the freshly minted key while the dialog is open.
    minted: RwSignal<Option<MintedKey>>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let copied = RwSignal::new(None::<bool>);
    let open = Signal::derive(move || minted.with(Option::is_some));
    let close = move || {
        minted.set(None);
        confirming.set(false);
        copied.set(None);
    };
    let ask_close = Callback::new(move |()| confirming.set(true));
    let copy = move |_| {
        let Some(key) = minted.with_untracked(|m| m.as_ref().map(|m| m.key.clone())) else {
            return;
        };
        copy_to_clipboard(key, copied);
    };
    view! {
        <Modal open=open on_close=ask_close title="Copy your new key" id="copy-once">
            <p class="mt-2 rounded-md bg-amber-50 p-3 text-sm font-medium text-amber-900">
                "You will not see this key again. Copy it now and store it in your secret manager."
            </p>
            <p class="mt-3 text-sm text-slate-600">
                {move || minted.with(|m| m.as_ref().map(|m| format!("Key “{}” ({})", m.row.name, m.row.id)))}
            </p>
            <label for="new-key-value" class=format!("mt-3 {}", class::LABEL)>"Secret key"</label>
            <input
                id="new-key-value"
                readonly
                class=format!("{} font-mono", class::INPUT)
                prop:value=move || minted.with(|m| m.as_ref().map(|m| m.key.clone()).unwrap_or_default())
            />
            <div class="mt-3 flex flex-wrap items-center gap-3">
                <button type="button" id="copy-key" class=class::BUTTON on:click=copy autofocus>"Copy to clipboard"</button>
                <span role="status" class="text-sm" id="copy-status">
                    {move || match copied.get() {
                        Some(true) => "Copied.",
                        Some(false) => "Copy failed: select the key and copy it by hand.",
                        None => "",
                    }}
                </span>
            </div>
            <div class="mt-6 border-t border-slate-200 pt-4">
                <Show
                    when=move || confirming.get()
                    fallback=move || view! {
                        <button type="button" id="close-copy-once" class=class::BUTTON_SECONDARY on:click=move |_| confirming.set(true)>
                            "I have stored it, close"
                        </button>
                    }
                >
                    <p class="text-sm text-slate-700">"Close for good? The key cannot be shown again."</p>
                    <div class="mt-3 flex gap-3">
                        <button type="button" id="confirm-close" class=class::BUTTON_DANGER on:click=move |_| close()>
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
fn copy_to_clipboard(key: String, copied: RwSignal<Option<bool>>) {
    let clipboard = window().navigator().clipboard();
    let promise = clipboard.write_text(&key);
    leptos::task::spawn_local(async move {
        let ok = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
        copied.set(Some(ok));
    });
}

#[cfg(not(feature = "hydrate"))]
fn copy_to_clipboard(_key: String, _copied: RwSignal<Option<bool>>) {}
