//! The invitation page (`/invite#TOKEN`): the invitee names and registers
//! their first passkey and is signed in. The token travels in the URL's
//! fragment, which browsers never send to a server, so it is in no access
//! log and no `Referer`.

use leptos::prelude::*;

use super::{finish_enrolment, start_enrolment};
use crate::ui::class;

/// Start, browser ceremony, finish; the error says what to do next.
async fn enrol(name: String) -> Result<(), String> {
    let token = super::fragment_token();
    if token.is_empty() {
        return Err("This link has no invitation in it. Open the whole link you were sent.".into());
    }
    let start = start_enrolment(token, name)
        .await
        .map_err(|e| e.to_string())?;
    let answer = super::browser_create(&start.options).await?;
    finish_enrolment(start.ceremony, answer)
        .await
        .map_err(|e| e.to_string())?;
    super::go("/keys");
    Ok(())
}

#[component]
pub fn InvitePage() -> impl IntoView {
    let is_hydrated = crate::ui::layout_hydrated();
    let name = RwSignal::new("laptop".to_owned());
    let run = Action::new_local(|name: &String| enrol(name.clone()));
    let error = move || run.value().get().and_then(Result::err);
    view! {
        <main
            class="mx-auto flex min-h-screen max-w-md flex-col justify-center px-4 py-10"
            data-hydrated=move || is_hydrated.get().to_string()
        >
            <h1 class="text-2xl font-bold tracking-tight">"Join acekeys"</h1>
            <p class="mt-2 text-sm text-slate-600">
                "You were invited to an organization. Register a passkey (this device's screen lock or a security key); "
                "you will sign in with it from now on, and no password or key is ever typed."
            </p>
            <div class=format!("mt-6 {}", class::CARD)>
                <label for="passkey-name" class=class::LABEL>"Name this passkey"</label>
                <input
                    id="passkey-name"
                    maxlength="60"
                    class=class::INPUT
                    prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))
                />
                <button
                    id="create-passkey"
                    type="button"
                    class=format!("mt-4 w-full {}", class::BUTTON)
                    disabled=move || !is_hydrated.get() || run.pending().get()
                    on:click=move |_| { run.dispatch(name.get_untracked()); }
                >
                    {move || if run.pending().get() { "Waiting for your passkey…" } else { "Create passkey and join" }}
                </button>
                <p id="invite-error" role="alert" class="mt-3 text-sm text-red-700">{error}</p>
            </div>
        </main>
    }
}
