//! A modal built on the native `<dialog>`: `showModal()` traps focus and
//! makes the page inert; Escape fires `cancel`, which we route to
//! `on_close` so the owner decides (the copy-once dialog asks first).

use leptos::html;
use leptos::prelude::*;

#[component]
pub fn Modal(
    /// Whether the dialog is shown.
    #[prop(into)]
    open: Signal<bool>,
    /// Called on Escape; the owner sets `open` to false (or not).
    #[prop(into)]
    on_close: Callback<()>,
    /// The dialog's accessible name.
    #[prop(into)]
    title: String,
    #[prop(into, optional)] id: String,
    children: Children,
) -> impl IntoView {
    let node = NodeRef::<html::Dialog>::new();
    let label = title.clone();
    Effect::new(move |_| {
        let want = open.get();
        #[cfg(feature = "hydrate")]
        if let Some(dialog) = node.get() {
            if want && !dialog.open() {
                let _ = dialog.show_modal();
            } else if !want && dialog.open() {
                dialog.close();
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (want, node);
    });
    view! {
        <dialog
            node_ref=node
            id=id
            aria-label=label
            class="w-[calc(100%-2rem)] max-w-lg rounded-lg border border-slate-200 p-0 shadow-xl backdrop:bg-slate-900/50"
            on:cancel=move |ev: leptos::ev::Event| {
                ev.prevent_default();
                on_close.run(());
            }
        >
            <div class="p-5 sm:p-6">
                <h2 class="text-lg font-semibold text-slate-900">{title}</h2>
                {children()}
            </div>
        </dialog>
    }
}
