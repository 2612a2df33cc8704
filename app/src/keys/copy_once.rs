//! The copy-once dialog for a freshly minted or rotated key: the shared
//! [`OnceDialog`] with the keys page's wording and ids.

use leptos::prelude::*;

use crate::model::MintedKey;
use crate::ui::{OnceDialog, OnceWords};

const WORDS: OnceWords = OnceWords {
    dialog_id: "copy-once",
    title: "Copy your new key",
    warning: "You will not see this key again. Copy it now and store it in your secret manager.",
    label: "Secret key",
    value_id: "new-key-value",
    copy_id: "copy-key",
    status_id: "copy-status",
    noun: "key",
    close_id: "close-copy-once",
    confirm: "Close for good? The key cannot be shown again.",
    confirm_id: "confirm-close",
};

#[component]
pub fn CopyOnce(
    /// Holds the freshly minted key while the dialog is open.
    minted: RwSignal<Option<MintedKey>>,
) -> impl IntoView {
    view! {
        <OnceDialog
            shown=minted
            secret=|m: &MintedKey| m.key.clone()
            about=|m: &MintedKey| format!("Key “{}” ({})", m.row.name, m.row.id)
            words=WORDS
        />
    }
}
