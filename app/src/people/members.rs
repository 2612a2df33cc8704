//! The people page (`/members`): owners invite people, change roles and
//! remove members; every person manages their own passkeys here.

use leptos::prelude::*;
use model::people::Role;

use super::{list_members, my_passkeys};
use crate::error::DashError;
use crate::model::{InvitationShown, MemberRow, PasskeyRow};
use crate::session::whoami;
use crate::ui::{class, ErrorBox, Layout};

fn role_options(selected: Role) -> impl IntoView {
    Role::ALL
        .into_iter()
        .map(|r| view! { <option value=r.as_str() selected=r == selected>{r.label()}</option> })
        .collect_view()
}

fn date(ms: i64) -> String {
    crate::ui::fmt::short_time(&model::Timestamp::from_millis(ms).to_rfc3339())
}

#[component]
pub fn MembersPage() -> impl IntoView {
    let me = Resource::new(|| (), |()| whoami());
    view! {
        <Layout>
            <h1 class="text-2xl font-bold tracking-tight">"People"</h1>
            <Suspense>
                {move || me.get().map(|r| match r {
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    Ok(me) => view! {
                        {me.may_manage_members.then(|| view! { <Members/> })}
                        {me.person.is_some().then(|| view! { <OwnPasskeys/> })}
                        {(!me.may_manage_members && me.person.is_none()).then(|| view! {
                            <p class="mt-2 text-sm text-slate-600">"Nothing to manage here with this key."</p>
                        })}
                    }.into_any(),
                })}
            </Suspense>
        </Layout>
    }
}

#[component]
fn Members() -> impl IntoView {
    let invite = ServerAction::<super::InviteMember>::new();
    let change = ServerAction::<super::ChangeMemberRole>::new();
    let remove = ServerAction::<super::RemoveMember>::new();
    let members = Resource::new(
        move || {
            (
                invite.version().get(),
                change.version().get(),
                remove.version().get(),
            )
        },
        |_| list_members(),
    );
    let action_error = move || {
        [
            change.value().get().and_then(Result::err),
            remove.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
    };
    view! {
        <section class=format!("mt-4 {}", class::CARD) aria-labelledby="invite-title">
            <h2 id="invite-title" class="text-lg font-semibold">"Invite a person"</h2>
            <p class="mt-1 text-sm text-slate-600">"They get a link (valid 72 hours, once) to register a passkey. An owner does everything; a key admin mints, rotates and revokes keys; an auditor reads keys and the audit trail."</p>
            <ActionForm action=invite attr:id="invite-form" attr:class="mt-3 flex flex-wrap items-end gap-3">
                <div class="min-w-0 flex-1">
                    <label for="invite-email" class=class::LABEL>"Email"</label>
                    <input id="invite-email" name="email" type="email" required maxlength="254" class=class::INPUT placeholder="alice@example.com"/>
                </div>
                <div>
                    <label for="invite-role" class=class::LABEL>"Role"</label>
                    <select id="invite-role" name="role" class=class::INPUT>{role_options(Role::Auditor)}</select>
                </div>
                <button type="submit" id="invite-submit" class=class::BUTTON disabled=move || invite.pending().get()>"Create invitation"</button>
            </ActionForm>
            {move || invite.value().get().map(|r| match r {
                Err(e) => view! { <div class="mt-3"><ErrorBox error=e/></div> }.into_any(),
                Ok(shown) => view! { <InvitationLink shown=shown/> }.into_any(),
            })}
        </section>
        <section class=format!("mt-4 {}", class::CARD) aria-labelledby="members-title">
            <h2 id="members-title" class="text-lg font-semibold">"Members"</h2>
            {move || action_error().map(|e| view! { <div class="mt-2"><ErrorBox error=e/></div> })}
            <Suspense fallback=|| view! { <p class="mt-2 text-sm text-slate-500">"Loading…"</p> }>
                {move || members.get().map(|r| match r {
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    Ok(rows) if rows.is_empty() => view! {
                        <p id="no-members" class="mt-2 text-sm text-slate-600">"No members yet: invite the first person above."</p>
                    }.into_any(),
                    Ok(rows) => view! {
                        <ul id="members" class="mt-2 divide-y divide-slate-200">
                            {rows.into_iter().map(|m| view! { <MemberItem m=m change=change remove=remove/> }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn InvitationLink(shown: InvitationShown) -> impl IntoView {
    let origin = RwSignal::new(String::new());
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(o) = web_sys::window().and_then(|w| w.location().origin().ok()) {
            origin.set(o);
        }
    });
    let token = shown.token.clone();
    let link = move || format!("{}/invite#{}", origin.get(), token);
    view! {
        <div id="invitation" role="status" class="mt-3 rounded-md border border-amber-200 bg-amber-50 p-3 text-sm text-amber-900">
            <p>
                "Invitation for " <strong>{shown.email.clone()}</strong> " as " {shown.role.label()}
                ", valid until " {date(shown.expires_ms)} ". Send this link to them now: it is shown only once."
            </p>
            <code id="invitation-link" class="mt-2 block break-all rounded bg-white p-2 text-xs">{link}</code>
        </div>
    }
}

#[component]
fn MemberItem(
    m: MemberRow,
    change: ServerAction<super::ChangeMemberRole>,
    remove: ServerAction<super::RemoveMember>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let (id, id2) = (m.id.clone(), StoredValue::new(m.id.clone()));
    view! {
        <li class="member flex flex-wrap items-center gap-3 py-3" data-email=m.email.clone()>
            <div class="min-w-0 flex-1">
                <p class="truncate font-medium">{m.email.clone()} {m.is_me.then_some(" (you)")}</p>
                <p class="text-xs text-slate-500">
                    {format!("joined {} · {} passkey{} · ", date(m.joined_ms), m.passkeys, if m.passkeys == 1 { "" } else { "s" })}
                    <a class="member-trail text-indigo-700 underline" href=format!("/audit?key_id={}", m.credential_id)>"everything they did"</a>
                </p>
            </div>
            <ActionForm action=change attr:class="flex items-center gap-2">
                <input type="hidden" name="member" value=id/>
                <label class="sr-only" for=format!("role-{}", m.id)>"Role"</label>
                <select id=format!("role-{}", m.id) name="role" class="member-role rounded-md border border-slate-300 px-2 py-1 text-sm">
                    {role_options(m.role)}
                </select>
                <button type="submit" class=format!("member-role-save {}", class::BUTTON_SECONDARY)>"Change role"</button>
            </ActionForm>
            <Show
                when=move || confirming.get()
                fallback=move || view! {
                    <button type="button" class=format!("member-remove {}", class::BUTTON_SECONDARY) on:click=move |_| confirming.set(true)>"Remove"</button>
                }
            >
                <ActionForm action=remove attr:class="flex items-center gap-2">
                    <input type="hidden" name="member" value=id2.get_value()/>
                    <button type="submit" class=format!("member-remove-confirm {}", class::BUTTON_DANGER)>"Remove now"</button>
                    <button type="button" class=class::BUTTON_SECONDARY on:click=move |_| confirming.set(false)>"Cancel"</button>
                </ActionForm>
            </Show>
        </li>
    }
}

#[component]
fn OwnPasskeys() -> impl IntoView {
    let name = RwSignal::new("another device".to_owned());
    let add = Action::new_local(|name: &String| super::add_passkey(name.clone()));
    let remove = ServerAction::<super::RemovePasskey>::new();
    let passkeys = Resource::new(
        move || (add.version().get(), remove.version().get()),
        |_| my_passkeys(),
    );
    let is_hydrated = crate::ui::layout_hydrated();
    view! {
        <section class=format!("mt-4 {}", class::CARD) aria-labelledby="passkeys-title">
            <h2 id="passkeys-title" class="text-lg font-semibold">"Your passkeys"</h2>
            <Suspense>
                {move || passkeys.get().map(|r: Result<Vec<PasskeyRow>, DashError>| match r {
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    Ok(rows) => view! {
                        <ul id="passkeys" class="mt-2 divide-y divide-slate-200">
                            {rows.into_iter().map(|pk| view! {
                                <li class="passkey flex flex-wrap items-center gap-3 py-2">
                                    <span class="min-w-0 flex-1 truncate">{pk.name.clone()}</span>
                                    <span class="text-xs text-slate-500">{format!("added {}", date(pk.created_ms))}</span>
                                    <ActionForm action=remove>
                                        <input type="hidden" name="passkey" value=pk.id.clone()/>
                                        <button type="submit" class=format!("passkey-remove {}", class::BUTTON_SECONDARY)>"Remove"</button>
                                    </ActionForm>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Suspense>
            {move || remove.value().get().and_then(Result::err).map(|e| view! { <ErrorBox error=e/> })}
            <div class="mt-3 flex flex-wrap items-end gap-3">
                <div class="min-w-0 flex-1">
                    <label for="new-passkey-name" class=class::LABEL>"Add a passkey named"</label>
                    <input id="new-passkey-name" maxlength="60" class=class::INPUT prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                </div>
                <button id="add-passkey" type="button" class=class::BUTTON disabled=move || !is_hydrated.get() || add.pending().get() on:click=move |_| { add.dispatch(name.get_untracked()); }>"Add passkey"</button>
            </div>
            <p id="passkey-error" role="alert" class="mt-2 text-sm text-red-700">{move || add.value().get().and_then(Result::err)}</p>
        </section>
    }
}
