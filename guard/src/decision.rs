//! One tool call's decision and the audit event that records it, from
//! what the guard learnt about the key and the tool's declared scope.

use std::sync::Arc;

use authority::scopes::Scope;
use authority::{KeyContext, Outcome, ToolCall};

use super::Refusal;

/// What the guard learnt about a request's key.
pub(crate) enum KeyCheck {
    Missing,
    Checked(Outcome),
}

impl KeyCheck {
    /// No key, or one the guard refuses as invalid (not: the authority
    /// could not be asked).
    pub(crate) fn is_unauthenticated(&self) -> bool {
        match self {
            KeyCheck::Missing => true,
            KeyCheck::Checked(outcome) => outcome.unauthenticated().is_some(),
        }
    }
}

/// The start of a caller's text that decides its bounded form:
/// [`ToolCall::bounded`] keeps at most `max` characters, so `max + 1` tell
/// it whether to cut. Cutting here first spares it revealing (and copying)
/// megabytes a caller sent; the result is the same because revealing a
/// character never depends on the ones after it.
pub(crate) fn head(s: &str, max: usize) -> &str {
    s.char_indices().nth(max + 1).map_or(s, |(i, _)| &s[..i])
}

/// The tool name as the trail records it ([`ToolCall::bounded`]: deceptive
/// characters written out, cut to [`ToolCall::MAX_TOOL`] characters and
/// marked `…`), also for answers and logs: the caller chose it, so a
/// 1.5 MB or misleading name is never echoed or logged as sent.
pub(crate) fn shown(tool: &str) -> String {
    let max = ToolCall::MAX_TOOL;
    let revealed = model::text::reveal(head(tool, max));
    match revealed.char_indices().nth(max - 1) {
        Some((end, _)) if revealed.chars().nth(max).is_some() => {
            let mut cut = revealed[..end].to_owned();
            cut.push('…');
            cut
        }
        _ => revealed.into_owned(),
    }
}

pub(crate) fn refusal_of(outcome: Outcome) -> Refusal {
    match outcome.unauthenticated() {
        Some(why) => Refusal::InvalidKey(why),
        // Valid keys never get here; a store that cannot answer fails closed.
        None => Refusal::Unavailable,
    }
}

/// The audit event and the decision for one call (before recording).
pub(crate) fn decide(
    check: KeyCheck,
    tool: &str,
    scope: Option<Scope>,
) -> (ToolCall, Result<Arc<KeyContext>, Refusal>) {
    let outcome = match check {
        KeyCheck::Missing => {
            let mut call = Outcome::Unknown.tool_call(tool, &Scope::AdminOrg);
            call.required_scope = scope.map(|s| s.to_string());
            call.reason = Some("missing_key".into());
            return (call, Err(Refusal::MissingKey));
        }
        KeyCheck::Checked(outcome) => outcome,
    };
    let Some(scope) = scope else {
        let mut call = outcome.tool_call(tool, &Scope::AdminOrg);
        call.required_scope = None;
        let decision = match outcome {
            Outcome::Valid(_) => Err(Refusal::UnknownTool {
                tool: tool.to_owned(),
            }),
            other => Err(refusal_of(other)),
        };
        call.decision = authority::audit::Decision::Denied;
        call.reason = Some(decision.as_ref().err().map_or("", Refusal::code).to_owned());
        return (call, decision);
    };
    let outcome = match outcome {
        Outcome::Valid(ctx) if !ctx.allows(&scope) => Outcome::InsufficientScope {
            context: ctx,
            missing: scope.clone(),
        },
        other => other,
    };
    let call = outcome.tool_call(tool, &scope);
    let decision = match outcome {
        Outcome::Valid(ctx) => Ok(ctx),
        Outcome::InsufficientScope { missing, .. } => Err(Refusal::InsufficientScope {
            tool: tool.to_owned(),
            scope: missing,
        }),
        other => Err(refusal_of(other)),
    };
    (call, decision)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(tool: &str) -> String {
        let mut call = Outcome::Unknown.tool_call(tool, &Scope::AdminOrg);
        call.tool = tool.to_owned();
        call.bounded().tool
    }

    #[test]
    fn a_name_is_shown_as_the_trail_records_it() {
        let max = ToolCall::MAX_TOOL;
        for tool in [
            "read_page".to_owned(),
            "x".repeat(max),
            "x".repeat(max + 1),
            "x".repeat(1_500_000),
            "é".repeat(max + 5),
            "\u{1}".repeat(max),
            format!("{}\u{202E}exe", "a".repeat(max - 3)),
            "\u{200B}".repeat(max + 1),
        ] {
            assert_eq!(shown(&tool), recorded(&tool), "{tool:.20}");
            let mut call = Outcome::Unknown.tool_call("", &Scope::AdminOrg);
            call.tool = head(&tool, max).to_owned();
            assert_eq!(call.bounded().tool, recorded(&tool), "{tool:.20}");
        }
    }
}
