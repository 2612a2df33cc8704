//! The error envelope every REST error and every guard refusal uses:
//! `{"error": {"code": "...", "message": "..."}}`.

use serde::{Deserialize, Serialize};

/// Every error: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `invalid_key`, `insufficient_scope`.
    pub code: String,
    /// What went wrong and how to fix it.
    pub message: String,
}

impl ErrorEnvelope {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error: ErrorBody {
                code: code.into(),
                message: message.into(),
            },
        }
    }

    /// The envelope as JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| {
            // Two strings in a fixed shape never fail to serialize; if that
            // ever changes, say so rather than send an empty body.
            r#"{"error":{"code":"internal","message":"internal error"}}"#.to_owned()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_text_matches_serde() {
        let e = ErrorEnvelope::new("bad", "a \"quoted\"\n\u{1}\\ message ü");
        let parsed: ErrorEnvelope = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(parsed, e);
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::from_str::<serde_json::Value>(&e.to_json()).unwrap()
        );
    }
}
