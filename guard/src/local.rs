//! Local mode: the guard asks an in-process [`Authority`] over the same
//! store as the key authority, and records through its group-commit
//! recorder (one fsync per batch; an error means "not durable").

use authority::Outcome;
use authority::{Authority, ToolCall};

pub(super) async fn validate(authority: &Authority, raw: &str) -> Outcome {
    authority.validate(raw, None).await
}

pub(super) async fn record(authority: &Authority, call: ToolCall) -> Result<(), String> {
    authority
        .record_tool_call(call)
        .await
        .map(|_| ())
        .map_err(|e| e.internal_cause().unwrap_or("unavailable").to_owned())
}
