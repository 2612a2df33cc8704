//! The sign-in page: one password field for an admin key. Works without
//! WASM too (a plain form POST to the server function).

use leptos::prelude::*;

use crate::session::SignIn;
use crate::ui::class;

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let is_hydrated = crate::ui::layout_hydrated();
    let error = move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    };
    view! {
        <main
            class="mx-auto flex min-h-screen max-w-md flex-col justify-center px-4 py-10"
            data-hydrated=move || is_hydrated.get().to_string()
        >
            <h1 class="text-2xl font-bold tracking-tight">"Sign in to acekeys"</h1>
            <p class="mt-2 text-sm text-slate-600">
                "Paste an admin key (one with the scope " <code>"admin:org"</code>
                "). The key is checked and forgotten: the dashboard keeps a session, never the key."
            </p>
            <div class=format!("mt-6 {}", class::CARD)>
                <ActionForm action=action attr:id="sign-in-form">
                    <label for="admin-key" class=class::LABEL>"Admin key"</label>
                    <input
                        id="admin-key"
                        name="key"
                        type="password"
                        required
                        autocomplete="off"
                        spellcheck="false"
                        placeholder="ace_live_…"
                        class=class::INPUT
                    />
                    <button type="submit" class=format!("mt-4 w-full {}", class::BUTTON) disabled=move || action.pending().get()>
                        {move || if action.pending().get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
                <p id="sign-in-error" role="alert" class="mt-3 text-sm text-red-700">{error}</p>
            </div>
        </main>
    }
}
