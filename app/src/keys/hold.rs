//! Quarantine on a key's page: the banner that says why a key is held,
//! with one click to release or revoke it, and the button that holds an
//! active key by hand. The rules (who may hold or release what) are the
//! authority's; these server functions only parse and call it.

use leptos::prelude::*;

use super::revoke_key;
use crate::error::DashError;
use crate::model::KeyRow;
use crate::ui::class;
use crate::ui::fmt::time_with_seconds;

/// Holds a key (and its derived keys) in quarantine by hand.
#[server]
pub async fn quarantine_key(id: String, reason: String) -> Result<KeyRow, DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    let body = authority::wire::QuarantineBody {
        rule: None,
        reason: Some(reason).filter(|r| !r.trim().is_empty()),
    };
    let view = dash.authority.quarantine(&p, &id, body).await?;
    Ok(super::convert::row(&view, dash.authority.now()))
}

/// Releases a key from quarantine (with the derived keys its hold held).
#[server]
pub async fn release_key(id: String, reason: String) -> Result<KeyRow, DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    let reason = Some(reason).filter(|r| !r.trim().is_empty());
    let view = dash.authority.release(&p, &id, reason).await?;
    Ok(super::convert::row(&view, dash.authority.now()))
}

/// The key page's quarantine controls; `changed` runs after a success.
#[component]
pub fn HoldPanel(key: KeyRow, changed: Callback<()>) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let id = key.id.to_string();
    let act = move |result: Result<KeyRow, DashError>| match result {
        Ok(_) => {
            error.set(None);
            changed.run(());
        }
        Err(e) => error.set(Some(e.to_string())),
    };
    let release = Action::new(|id: &String| release_key(id.clone(), String::new()));
    let revoke =
        Action::new(|id: &String| revoke_key(id.clone(), "revoked from quarantine".to_owned()));
    let hold = Action::new(|id: &String| {
        quarantine_key(id.clone(), "held by hand from the dashboard".to_owned())
    });
    Effect::new(move |_| release.value().get().map(act));
    Effect::new(move |_| revoke.value().get().map(act));
    Effect::new(move |_| hold.value().get().map(act));
    let pending = move || release.pending().get() || revoke.pending().get() || hold.pending().get();
    // Buttons only for a role that may change keys (the server refuses the
    // rest all the same); the banner is for everyone who can see the key.
    let me = Resource::new(|| (), |()| crate::session::whoami());
    let may_write = move || {
        me.get()
            .and_then(Result::ok)
            .is_some_and(|m| m.may_write_keys)
    };
    let alert = move || {
        error.get().map(
            |e| view! { <p role="alert" id="hold-error" class="mt-2 text-sm text-red-700">{e}</p> },
        )
    };
    match (key.quarantine.clone(), key.can_revoke()) {
        (Some(q), _) => {
            let (release_id, revoke_id) = (id.clone(), id);
            let by_parent = q.source.is_some();
            view! {
                <section id="key-quarantine" role="status" class="mt-4 rounded-lg border border-amber-300 bg-amber-50 p-4 text-sm text-amber-900">
                    <h2 class="font-semibold">"In quarantine: every call with this key is refused until a person releases it."</h2>
                    <p class="mt-1">
                        "Since "{time_with_seconds(&q.at.to_rfc3339())}" · rule "
                        <code id="key-quarantine-rule" class="rounded bg-amber-100 px-1">{q.rule.as_str()}</code>
                        " · by "{q.by.clone()}
                    </p>
                    <p id="key-quarantine-evidence" class="mt-1 break-words">{q.evidence.clone()}</p>
                    <Suspense>
                        {move || may_write().then(|| {
                            let (release_id, revoke_id) = (release_id.clone(), revoke_id.clone());
                            view! {
                                <div class="mt-3 flex flex-wrap gap-2">
                                    {(!by_parent).then(|| view! {
                                        <button id="release-key" class=class::BUTTON disabled=pending
                                            on:click=move |_| { release.dispatch(release_id.clone()); }>"Release"</button>
                                    })}
                                    <button id="revoke-held-key" class=class::BUTTON_DANGER disabled=pending
                                        on:click=move |_| { revoke.dispatch(revoke_id.clone()); }>"Revoke"</button>
                                </div>
                            }
                        })}
                    </Suspense>
                    {by_parent.then(|| view! { <p class="mt-2 text-xs">"Held because its parent key is: release the parent to release this key."</p> })}
                    {alert}
                </section>
            }
            .into_any()
        }
        (None, true) => view! {
            <Suspense>
                {move || may_write().then(|| {
                    let id = id.clone();
                    view! {
                        <div class="mt-3">
                            <button id="quarantine-key" class=class::BUTTON_SECONDARY disabled=pending
                                on:click=move |_| { hold.dispatch(id.clone()); }>"Quarantine"</button>
                            <span class="ml-2 text-xs text-slate-500">"Refuses every call until a person releases it; its derived keys too."</span>
                            {alert}
                        </div>
                    }
                })}
            </Suspense>
        }
        .into_any(),
        (None, false) => ().into_any(),
    }
}
