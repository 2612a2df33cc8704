//! `POST /introspect`: RFC 7662-style key checks for tool servers.

use serde::{Deserialize, Deserializer, Serialize};

use crate::ids::{GrantId, KeyId, OrgId};
use crate::keys::{Env, RawKey};
use crate::scopes::ScopeSet;
use crate::time::Timestamp;

/// The key to check.
#[derive(Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntrospectRequest {
    /// The raw key (RFC 7662 calls it `token`).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub token: RawKey,
}

impl<'de> Deserialize<'de> for IntrospectRequest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wire {
            token: String,
        }
        let wire = Wire::deserialize(d)?;
        Ok(Self {
            token: RawKey::new_unchecked(wire.token),
        })
    }
}

impl Serialize for IntrospectRequest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            token: &'a str,
        }
        Wire {
            token: self.token.expose_secret(),
        }
        .serialize(s)
    }
}

/// RFC 7662 names plus acekeys' own fields. An inactive key (unknown,
/// expired, revoked, another org's) answers `{"active": false}` and nothing
/// else.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntrospectAnswer {
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<KeyId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<OrgId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Env>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// Space-separated scopes, as RFC 7662 has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<ScopeSet>,
    /// Expiry in whole seconds since the epoch (RFC 7662).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Expiry to the millisecond (what the guard's cache uses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// The resources (tool server URLs) the credential is limited to
    /// (RFC 7662 `aud`); absent: any. A guard whose own identifier is not
    /// listed must refuse the credential.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aud: Vec<String>,
    /// For an OAuth access token: the client it was issued to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// For an OAuth access token: the grant it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<GrantId>,
    /// The client addresses (CIDR ranges) the key may be used from; absent:
    /// any. A guard must refuse a call from any other address, and a call
    /// whose address it does not know.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_networks: Vec<String>,
    /// The key's metadata, as its minter set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// The limits the key's tool calls count against: a guard asks for an
    /// allowance on each (`POST /keys/{owner}/allowance`) before letting a
    /// call through.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<super::LimitView>,
}

impl IntrospectAnswer {
    pub fn inactive() -> Self {
        Self::default()
    }

    /// The answer for an active key.
    pub fn active(
        key_id: KeyId,
        org: OrgId,
        env: Env,
        agent: Option<String>,
        scopes: ScopeSet,
        expires_at: Option<Timestamp>,
    ) -> Self {
        Self {
            active: true,
            key_id: Some(key_id),
            org: Some(org),
            env: Some(env),
            agent,
            scope: Some(
                scopes
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            scopes: Some(scopes),
            exp: expires_at.map(Timestamp::as_secs),
            expires_at,
            token_type: Some("Bearer".to_owned()),
            aud: Vec::new(),
            client_id: None,
            grant_id: None,
            allowed_networks: Vec::new(),
            metadata: None,
            limits: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scopes::Scope;

    #[test]
    fn inactive_says_nothing_else() {
        assert_eq!(
            serde_json::to_string(&IntrospectAnswer::inactive()).unwrap(),
            r#"{"active":false}"#
        );
    }

    #[test]
    fn active_round_trips_to_the_millisecond() {
        let scopes: ScopeSet = [Scope::parse("read:wiki").unwrap(), Scope::AdminOrg]
            .into_iter()
            .collect();
        let at = Timestamp::from_millis(1_735_689_600_123);
        let answer = IntrospectAnswer::active(
            KeyId::parse("key_a").unwrap(),
            OrgId::parse("acme").unwrap(),
            Env::Live,
            Some("ops".into()),
            scopes,
            Some(at),
        );
        let json = serde_json::to_value(&answer).unwrap();
        assert_eq!(json["scope"], "admin:org svc:wiki:read");
        assert_eq!(json["exp"], 1_735_689_600);
        let back: IntrospectAnswer = serde_json::from_value(json).unwrap();
        assert_eq!(back, answer);
        assert_eq!(back.expires_at, Some(at));
    }

    #[test]
    fn request_debug_hides_the_token() {
        let r: IntrospectRequest = serde_json::from_str(r#"{"token":"ace_live_s3cret"}"#).unwrap();
        assert!(!format!("{r:?}").contains("s3cret"));
        assert!(serde_json::from_str::<IntrospectRequest>(r#"{"token":"x","y":1}"#).is_err());
    }
}
