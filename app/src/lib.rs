//! The acekeys dashboard: the Leptos application shared by the server
//! (server-side rendering, feature `ssr`) and the browser (hydration, feature
//! `hydrate`).
//!
//! Pages live in their own modules; `#[server]` functions stay thin — each
//! one calls a single authority method and maps its error. Every rule (who
//! may mint what, expiry limits, tenant isolation) is the authority's.

pub mod audit;
pub mod error;
pub mod home;
pub mod incident;
pub mod keys;
pub mod leaks;
pub mod model;
pub mod oauth;
pub mod people;
pub mod server_info;
pub mod session;
pub mod settings;
pub mod sign_in;
pub mod ui;
pub mod webhooks;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, StaticSegment,
};

/// The HTML document around the app, rendered once per request on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased">
                <App/>
            </body>
        </html>
    }
}

/// The root component: metadata, stylesheet and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser: this flips once hydration is done,
    // and every page exposes it as `data-hydrated` for tests and timing.
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    provide_context(ui::Hydrated(hydrated));

    view! {
        <Stylesheet id="leptos" href="/pkg/acekeys.css"/>
        <Title text="acekeys"/>
        <Router>
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=StaticSegment("") view=home::HomePage/>
                <Route path=path!("/sign-in") view=sign_in::SignInPage/>
                <Route path=path!("/keys") view=keys::KeysPage/>
                <Route path=path!("/keys/new") view=keys::NewKeyPage/>
                // After `/keys/new`: routes match in order.
                <Route path=path!("/keys/:id") view=keys::KeyLifePage/>
                <Route path=path!("/incident") view=incident::IncidentPage/>
                <Route path=path!("/audit") view=audit::AuditPage/>
                <Route path=path!("/leaks") view=leaks::LeaksPage/>
                <Route path=path!("/webhooks") view=webhooks::WebhooksPage/>
                <Route path=path!("/settings") view=settings::SettingsPage/>
                <Route path=path!("/members") view=people::MembersPage/>
                <Route path=path!("/invite") view=people::InvitePage/>
                <Route path=path!("/oauth/authorize") view=oauth::ConsentPage/>
                <Route path=path!("/apps") view=oauth::ConnectedAppsPage/>
            </Routes>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <main class="mx-auto max-w-3xl p-8">
            <h1 class="text-2xl font-semibold">"Page not found"</h1>
            <p class="mt-2 text-slate-600">
                "There is nothing at this address. "
                <a class="text-indigo-700 underline" href="/">"Go to the start page."</a>
            </p>
        </main>
    }
}
