//! The sign-in page: people sign in with a passkey (org, email, then the
//! browser's prompt); an `admin:org` key is the break-glass way in (and
//! how the first owner enrols), which works without WASM too (a plain
//! form POST to the server function).

use leptos::prelude::*;

use crate::session::SignIn;
use crate::ui::class;

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    // Set when the consent page sent the person here to sign in first.
    let next = leptos_router::hooks::use_query_map().with_untracked(|q| q.get("next"));
    let is_hydrated = crate::ui::layout_hydrated();
    let error = move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    };
    let org = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let passkey = {
        let next = next.clone();
        Action::new_local(move |(org, email): &(String, String)| {
            crate::people::sign_in_with_passkey(org.clone(), email.clone(), next.clone())
        })
    };
    let passkey_error = move || passkey.value().get().and_then(Result::err);
    view! {
        <main
            class="mx-auto flex min-h-screen max-w-md flex-col justify-center px-4 py-10"
            data-hydrated=move || is_hydrated.get().to_string()
        >
            <h1 class="text-2xl font-bold tracking-tight">"Sign in to acekeys"</h1>
            <div class=format!("mt-6 {}", class::CARD)>
                <h2 class="text-base font-semibold">"With your passkey"</h2>
                <form id="passkey-form" class="mt-2" on:submit=move |ev| {
                    ev.prevent_default();
                    passkey.dispatch((org.get_untracked(), email.get_untracked()));
                }>
                    <label for="passkey-org" class=class::LABEL>"Organization"</label>
                    <input id="passkey-org" required autocomplete="organization" class=class::INPUT prop:value=move || org.get() on:input=move |ev| org.set(event_target_value(&ev))/>
                    <label for="passkey-email" class=format!("mt-3 {}", class::LABEL)>"Email"</label>
                    <input id="passkey-email" type="email" required autocomplete="username webauthn" class=class::INPUT prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev))/>
                    <button type="submit" id="passkey-sign-in" class=format!("mt-4 w-full {}", class::BUTTON) disabled=move || !is_hydrated.get() || passkey.pending().get()>
                        {move || if passkey.pending().get() { "Waiting for your passkey…" } else { "Sign in with a passkey" }}
                    </button>
                </form>
                <p id="passkey-error" role="alert" class="mt-3 text-sm text-red-700">{passkey_error}</p>
            </div>
            <h2 class="mt-8 text-base font-semibold">"Break-glass: an admin key"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "Paste a key with the scope " <code>"admin:org"</code>
                " (how the first owner gets in, and the way in when passkeys cannot be used; audited). The key is checked and forgotten: the dashboard keeps a session, never the key."
            </p>
            <div class=format!("mt-3 {}", class::CARD)>
                <ActionForm action=action attr:id="sign-in-form">
                    {next.map(|n| view! { <input type="hidden" name="next" value=n/> })}
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
