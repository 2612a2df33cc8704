//! The copy-once dialog for a secret the server hands out a single time (a
//! new API key, a webhook's signing secret): the secret, a copy button, a
//! clear warning, and a close that asks first. Closing clears the owner's
//! signal, so no later render, reload or history entry can show it again.
//! Each use supplies its wording and element ids ([`OnceWords`]).

use leptos::prelude::*;

use super::{class, Modal};

/// What one copy-once dialog says, and its elements' ids (the browser
/// tests find them by id, so each use keeps its own).
#[derive(Clone, Copy)]
pub struct OnceWords {
    /// The `<dialog>`'s id.
    pub dialog_id: &'static str,
    pub title: &'static str,
    /// That it is shown only now, and what to do with it.
    pub warning: &'static str,
    /// The label of the field that holds the secret.
    pub label: &'static str,
    pub value_id: &'static str,
    pub copy_id: &'static str,
    pub status_id: &'static str,
    /// "key", "secret": what to select by hand when copying fails.
    pub noun: &'static str,
    pub close_id: &'static str,
    /// The question before closing for good.
    pub confirm: &'static str,
    pub confirm_id: &'static str,
}

#[component]
pub fn OnceDialog<T>(
    /// Holds the answer that carries the secret while the dialog is open.
    shown: RwSignal<Option<T>>,
    /// The secret in the answer.
    secret: fn(&T) -> String,
    /// What the secret belongs to, in a line.
    about: fn(&T) -> String,
    words: OnceWords,
) -> impl IntoView
where
    T: Send + Sync + 'static,
{
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
        let Some(text) = shown.with_untracked(|s| s.as_ref().map(secret)) else {
            return;
        };
        copy_to_clipboard(text, copied);
    };
    let failed = format!(
        "Copy failed: select the {} and copy it by hand.",
        words.noun
    );
    view! {
        <Modal open=open on_close=ask_close title=words.title id=words.dialog_id>
            <p class="mt-2 rounded-md bg-amber-50 p-3 text-sm font-medium text-amber-900">{words.warning}</p>
            <p class="mt-3 break-all text-sm text-slate-600">{move || shown.with(|s| s.as_ref().map(about))}</p>
            <label for=words.value_id class=format!("mt-3 {}", class::LABEL)>{words.label}</label>
            <input
                id=words.value_id
                readonly
                class=format!("{} font-mono", class::INPUT)
                prop:value=move || shown.with(|s| s.as_ref().map(secret).unwrap_or_default())
            />
            <div class="mt-3 flex flex-wrap items-center gap-3">
                <button type="button" id=words.copy_id class=class::BUTTON on:click=copy autofocus>"Copy to clipboard"</button>
                <span role="status" class="text-sm" id=words.status_id>
                    {move || match copied.get() {
                        Some(true) => "Copied.".to_owned(),
                        Some(false) => failed.clone(),
                        None => String::new(),
                    }}
                </span>
            </div>
            <div class="mt-6 border-t border-slate-200 pt-4">
                <Show
                    when=move || confirming.get()
                    fallback=move || view! {
                        <button type="button" id=words.close_id class=class::BUTTON_SECONDARY on:click=move |_| confirming.set(true)>
                            "I have stored it, close"
                        </button>
                    }
                >
                    <p class="text-sm text-slate-700">{words.confirm}</p>
                    <div class="mt-3 flex gap-3">
                        <button type="button" id=words.confirm_id class=class::BUTTON_DANGER on:click=move |_| close()>
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
fn copy_to_clipboard(text: String, copied: RwSignal<Option<bool>>) {
    let clipboard = window().navigator().clipboard();
    let promise = clipboard.write_text(&text);
    leptos::task::spawn_local(async move {
        let ok = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
        copied.set(Some(ok));
    });
}

#[cfg(not(feature = "hydrate"))]
fn copy_to_clipboard(_text: String, _copied: RwSignal<Option<bool>>) {}
