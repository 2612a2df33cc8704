//! The start page: what acekeys is, plus a live check that the browser and
//! the server talk to each other (hydration and a server-function round trip).

use leptos::prelude::*;

use crate::server_info::fetch_server_facts;

/// The start page.
#[component]
pub fn HomePage() -> impl IntoView {
    // Effects run only in the browser, so this flag turns true exactly when
    // the WASM bundle has hydrated the page; tests wait for it.
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));

    let check = Action::new(|_: &()| fetch_server_facts());
    let result = check.value();

    view! {
        <main
            class="mx-auto max-w-3xl px-4 py-10 sm:px-8"
            data-hydrated=move || hydrated.get().to_string()
        >
            <h1 class="text-3xl font-bold tracking-tight">"acekeys"</h1>
            <p class="mt-2 text-slate-600">
                "Scoped, auditable, revocable API keys for AI agents."
            </p>
            <p class="mt-4">
                <a id="go-sign-in" class="inline-flex rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-700" href="/sign-in">
                    "Sign in to the dashboard"
                </a>
            </p>
            <section class="mt-8 rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
                <h2 class="text-lg font-semibold">"Server status"</h2>
                <p class="mt-1 text-sm text-slate-600">
                    "Ask the server which version it runs and which store it uses."
                </p>
                <button
                    id="check-server"
                    class="mt-4 rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 disabled:opacity-50"
                    disabled=move || !hydrated.get() || check.pending().get()
                    on:click=move |_| {
                        check.dispatch(());
                    }
                >
                    "Check server"
                </button>
                <p id="server-answer" class="mt-4 text-sm" aria-live="polite">
                    {move || match result.get() {
                        None => String::new(),
                        Some(Ok(facts)) => {
                            format!("acekeys {} · store: {}", facts.version, facts.store_kind)
                        }
                        Some(Err(error)) => format!("The server did not answer: {error}"),
                    }}
                </p>
            </section>
        </main>
    }
}
