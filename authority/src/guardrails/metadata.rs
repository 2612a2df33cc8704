//! A key's metadata: a small JSON object its minter attaches and tool
//! servers receive through introspection (a team, a cost center, a ticket).
//! It is shown to everyone who can read the key and to every tool server of
//! the org, so it is capped and may not hold a credential.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// The most bytes the object may take, serialized.
pub const MAX_METADATA_BYTES: usize = 1024;
/// The deepest nesting allowed (an object in an object is depth 2).
pub const MAX_METADATA_DEPTH: usize = 4;

/// A checked metadata object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMetadata(Map<String, Value>);

/// Why a value is not acceptable metadata; the message says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error("must be a JSON object, e.g. {{\"team\": \"search\"}}")]
    NotAnObject,
    #[error("takes {bytes} bytes serialized; at most {MAX_METADATA_BYTES}")]
    TooLarge { bytes: usize },
    #[error("is nested deeper than {MAX_METADATA_DEPTH} levels")]
    TooDeep,
    #[error("holds what looks like an acekeys credential; metadata is shown to every tool server")]
    HoldsCredential,
}

impl KeyMetadata {
    /// Checks a requested value: an object within the caps, no credential.
    /// An empty object is no metadata (`None`).
    pub fn parse(value: Value) -> Result<Option<Self>, MetadataError> {
        let Value::Object(map) = value else {
            return Err(MetadataError::NotAnObject);
        };
        if map.is_empty() {
            return Ok(None);
        }
        let text = Value::Object(map.clone()).to_string();
        if text.len() > MAX_METADATA_BYTES {
            return Err(MetadataError::TooLarge { bytes: text.len() });
        }
        if depth(&Value::Object(map.clone())) > MAX_METADATA_DEPTH {
            return Err(MetadataError::TooDeep);
        }
        if model::text::holds_credential(&text) {
            return Err(MetadataError::HoldsCredential);
        }
        Ok(Some(Self(map)))
    }

    /// Metadata as stored (written by [`Self::to_storage`]); `None` when
    /// the text is not an object.
    pub fn from_storage(text: &str) -> Option<Self> {
        match serde_json::from_str(text) {
            Ok(Value::Object(map)) if !map.is_empty() => Some(Self(map)),
            _ => None,
        }
    }

    pub fn to_storage(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }

    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

impl Serialize for KeyMetadata {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.as_map().serialize(s)
    }
}

impl<'de> Deserialize<'de> for KeyMetadata {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        KeyMetadata::parse(value)
            .map_err(serde::de::Error::custom)?
            .ok_or_else(|| serde::de::Error::custom("empty metadata"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_small_objects_and_round_trips() {
        let m = KeyMetadata::parse(json!({"team": "search", "cost_center": 42}))
            .unwrap()
            .unwrap();
        assert_eq!(KeyMetadata::from_storage(&m.to_storage()), Some(m.clone()));
        assert_eq!(m.as_map()["cost_center"], 42);
        assert_eq!(KeyMetadata::parse(json!({})), Ok(None));
    }

    #[test]
    fn refuses_non_objects_big_deep_and_credentials() {
        assert_eq!(
            KeyMetadata::parse(json!(["a"])),
            Err(MetadataError::NotAnObject)
        );
        assert_eq!(
            KeyMetadata::parse(json!("x")),
            Err(MetadataError::NotAnObject)
        );
        let big = json!({"note": "x".repeat(MAX_METADATA_BYTES)});
        assert!(matches!(
            KeyMetadata::parse(big),
            Err(MetadataError::TooLarge { .. })
        ));
        let deep = json!({"a": {"b": {"c": {"d": {"e": 1}}}}});
        assert_eq!(KeyMetadata::parse(deep), Err(MetadataError::TooDeep));
        let ok_depth = json!({"a": {"b": {"c": {"d": 1}}}});
        assert!(KeyMetadata::parse(ok_depth).is_ok());
        let key = format!("ace_live_{}", "a".repeat(38));
        assert_eq!(
            KeyMetadata::parse(json!({ "leak": key })),
            Err(MetadataError::HoldsCredential)
        );
    }
}
