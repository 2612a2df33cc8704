//! The frame of every signed-in page: header with navigation and sign-out.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::error::DashError;
use crate::session::{whoami, SignOut};

/// True once the WASM bundle has hydrated the page (provided by `App`).
#[derive(Clone, Copy)]
pub struct Hydrated(pub ReadSignal<bool>);

pub fn hydrated() -> ReadSignal<bool> {
    use_context::<Hydrated>().map_or_else(|| signal(false).0, |h| h.0)
}

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let me = Resource::new(|| (), |()| whoami());
    let sign_out = ServerAction::<SignOut>::new();
    let is_hydrated = hydrated();
    let link = "rounded-md px-2 py-1 text-sm font-medium text-slate-600 hover:bg-slate-100 hover:text-slate-900 aria-[current=page]:bg-indigo-50 aria-[current=page]:text-indigo-700";
    view! {
        <header class="border-b border-slate-200 bg-white">
            <div class="mx-auto flex max-w-7xl flex-wrap items-center gap-x-4 gap-y-2 px-4 py-3 sm:px-6">
                <a href="/keys" class="text-lg font-bold tracking-tight text-slate-900">"acekeys"</a>
                <nav aria-label="Main" class="flex flex-wrap items-center gap-1">
                    <A href="/keys" attr:class=link exact=true>"Keys"</A>
                    // Only what the signed-in role may use is offered; the
                    // server refuses the rest if forced.
                    <Suspense>
                        {move || me.get().and_then(Result::ok).filter(|me| me.may_write_keys).map(|_| view! {
                            <A href="/keys/new" attr:class=link>"New key"</A>
                            <A href="/incident" attr:class=link>"Incident"</A>
                        })}
                    </Suspense>
                    <A href="/audit" attr:class=link>"Audit"</A>
                    <A href="/leaks" attr:class=link>"Leaks"</A>
                    <A href="/webhooks" attr:class=link>"Webhooks"</A>
                    <A href="/settings" attr:class=link>"Settings"</A>
                    <A href="/members" attr:class=link>"People"</A>
                    <A href="/apps" attr:class=link>"Apps"</A>
                </nav>
                <div class="ml-auto flex items-center gap-3 text-sm text-slate-600">
                    <Suspense>
                        {move || me.get().and_then(Result::ok).map(|me| view! {
                            <span id="whoami" class="hidden sm:inline">
                                {me.person.unwrap_or(me.key_name)} " · org " <strong class="text-slate-900">{me.org}</strong>
                            </span>
                        })}
                    </Suspense>
                    <ActionForm action=sign_out>
                        <button type="submit" id="sign-out" class=super::class::BUTTON_SECONDARY>"Sign out"</button>
                    </ActionForm>
                </div>
            </div>
        </header>
        <main
            class="mx-auto max-w-7xl px-4 py-6 sm:px-6"
            data-hydrated=move || is_hydrated.get().to_string()
        >
            {children()}
        </main>
    }
}

/// An error with what to do about it; signed-out errors link to sign-in.
#[component]
pub fn ErrorBox(error: DashError) -> impl IntoView {
    let signed_out = error == DashError::SignedOut;
    view! {
        <div role="alert" class="rounded-md border border-red-200 bg-red-50 p-4 text-sm text-red-800">
            <p>{error.to_string()}</p>
            {signed_out.then(|| view! {
                <a class="mt-2 inline-block font-medium underline" href="/sign-in">"Go to sign-in"</a>
            })}
        </div>
    }
}
