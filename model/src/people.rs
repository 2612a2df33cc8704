//! People of an org: their roles, how they signed in, and how an audit
//! event names the person who acted.
//!
//! A role is a set of scopes in the ordinary grammar (see
//! [`Role::scopes`]): the authority checks a person's actions with the
//! same rules as a key's, so a role can never grant what its scopes do not
//! (a key admin mints only what a key admin holds).

use serde::{Deserialize, Serialize};

use crate::ids::MemberId;
use crate::scopes::Scope;

/// What a person may do in their org.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything in the org, including managing members (`admin:org`).
    Owner,
    /// Mints, rotates and revokes keys, the incident switch; reads the trail.
    KeyAdmin,
    /// Reads keys (never a secret) and the whole audit trail, exports it.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::KeyAdmin, Role::Auditor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::KeyAdmin => "key_admin",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// How the dashboard names the role.
    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::KeyAdmin => "key admin",
            Role::Auditor => "auditor",
        }
    }

    /// The role's fixed scopes. A key admin also holds every tool scope of
    /// the org's catalog (so it can grant them); those are added by the
    /// authority, which knows the catalog ([`Role::holds_tool_scopes`]).
    pub fn scopes(self) -> Vec<Scope> {
        match self {
            Role::Owner => vec![Scope::AdminOrg],
            Role::KeyAdmin => vec![
                Scope::service("keys", "admin"),
                Scope::service("audit", "read"),
            ],
            Role::Auditor => vec![
                Scope::service("keys", "read"),
                Scope::service("audit", "read"),
            ],
        }
    }

    /// Whether the role may grant the org's tool scopes (`svc:<tool>:…`).
    pub fn holds_tool_scopes(self) -> bool {
        matches!(self, Role::KeyAdmin)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// How a person proved who they are for the session they act in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SignInMethod {
    Passkey,
}

impl SignInMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            SignInMethod::Passkey => "passkey",
        }
    }
}

/// The person behind an action, as the audit trail records it: who, in
/// which role, signed in how (at the time of the action).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Person {
    pub member_id: MemberId,
    pub email: String,
    pub role: Role,
    pub method: SignInMethod,
}

impl std::fmt::Display for Person {
    /// `alice@acme.com (owner, passkey)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}, {})",
            self.email,
            self.role.label(),
            self.method.as_str()
        )
    }
}

/// Longest email address accepted (RFC 5321's path limit).
pub const MAX_EMAIL: usize = 254;

/// Why an email address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an email address is 3-254 characters with one `@`, no spaces or control characters, e.g. alice@example.com")]
pub struct InvalidEmail;

/// Checks the shape of an email address and lower-cases it, so one person
/// cannot be invited twice under two spellings. Deliverability is not
/// checked: acekeys sends no mail (the invitation link is handed over by
/// the owner).
pub fn normalize_email(raw: &str) -> Result<String, InvalidEmail> {
    let email = raw.trim().to_lowercase();
    let ok = (3..=MAX_EMAIL).contains(&email.len())
        && email.split('@').count() == 2
        && email.split('@').all(|part| !part.is_empty())
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || crate::text::is_deceptive(c));
    if ok {
        Ok(email)
    } else {
        Err(InvalidEmail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_hold_their_scopes() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
        assert_eq!(Role::parse("admin"), None);
        assert!(Role::Owner.scopes().contains(&Scope::AdminOrg));
        assert!(!Role::KeyAdmin.scopes().contains(&Scope::AdminOrg));
        assert!(!Role::Auditor
            .scopes()
            .iter()
            .any(|s| s.to_string().ends_with(":write") || s.to_string().ends_with(":admin")));
        assert!(Role::KeyAdmin.holds_tool_scopes());
        assert!(!Role::Auditor.holds_tool_scopes() && !Role::Owner.holds_tool_scopes());
    }

    #[test]
    fn emails_are_checked_and_lower_cased() {
        assert_eq!(
            normalize_email(" Alice@Acme.COM ").unwrap(),
            "alice@acme.com"
        );
        for bad in [
            "",
            "a",
            "alice",
            "@acme",
            "alice@",
            "a@b@c",
            "al ice@x.y",
            "a\u{202e}b@x.y",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
        assert!(normalize_email(&format!("{}@x.y", "a".repeat(260))).is_err());
    }

    #[test]
    fn a_person_reads_as_the_trail_shows_them() {
        let p = Person {
            member_id: MemberId::parse("mem_abc").unwrap(),
            email: "alice@acme.com".into(),
            role: Role::Owner,
            method: SignInMethod::Passkey,
        };
        assert_eq!(p.to_string(), "alice@acme.com (owner, passkey)");
    }
}
