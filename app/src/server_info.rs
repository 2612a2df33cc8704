//! What the running server says about itself: version and store kind.
//!
//! The server process provides a [`ServerFacts`] value as Leptos context; the
//! `#[server]` function only reads it, so the browser never learns anything
//! the server did not choose to publish.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Public facts about the running server, safe to show to anyone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerFacts {
    /// The acekeys version (the server crate's package version).
    pub version: String,
    /// Which store backs the authority, e.g. `sqlite`.
    pub store_kind: String,
}

/// Returns the server's version and store kind.
#[server]
pub async fn fetch_server_facts() -> Result<ServerFacts, ServerFnError> {
    use_context::<ServerFacts>()
        .ok_or_else(|| ServerFnError::new("the server did not provide its facts; this is a bug"))
}
