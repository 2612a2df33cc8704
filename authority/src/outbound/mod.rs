//! Requests the authority makes on its own to URLs that others supply
//! (client metadata documents, webhook deliveries): the one place that decides which
//! hosts the server may reach, so a URL chosen by a client cannot point it
//! at its own network (SSRF) or hold it with a slow or endless answer.
//!
//! Rules:
//! - https only, and only to public addresses; every address a name
//!   resolves to is checked, and the connection goes to a checked address
//!   (no second lookup a rebinding DNS server could answer differently).
//! - No redirects, no proxy, a total time limit and a size limit.
//! - [`OutboundPolicy::allow_insecure`] lifts the first rule for
//!   development (a document served by `localhost`), never by default.

mod address;
mod fetch;

pub use address::is_public;
pub use fetch::{FetchError, FetchLimits, Fetcher, OutboundPolicy};
