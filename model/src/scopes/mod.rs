//! Scopes: what a key may do.
//!
//! Grammar: colon-separated lowercase segments `[a-z0-9_-]+`, at most 128
//! bytes in total. Forms, checked in this order:
//!
//! | input | parsed as |
//! |---|---|
//! | `admin:org` | [`Scope::AdminOrg`] |
//! | `svc:<service>:<action>` | [`Scope::Service`] |
//! | `org:<org_id>` | [`Scope::Org`] (must equal the key's org) |
//! | `agent:<name>` | [`Scope::Agent`] |
//! | `<action>:<resource>` (any other two segments) | short form of `svc:<resource>:<action>` |
//!
//! The reserved first segments win over the short form, so `agent:x` is
//! always an agent binding, never "action `agent` on service `x`".
//! [`Scope`]'s `Display` is the canonical form (`read:wiki` → `svc:wiki:read`)
//! and it is what stores keep.
//!
//! Implication (see [`Scope::implies`]):
//! - every scope implies itself;
//! - on one service `admin > write > read`;
//! - actions outside that order (e.g. `svc:keys:introspect`, or actions a tool
//!   server registers) are implied by `svc:<service>:admin` only, never by
//!   `read`/`write` — adding a new action must not silently widen old keys
//!   beyond their admin grant;
//! - `admin:org` implies every scope inside the key's own org (all services,
//!   all agents, `org:<own org>`) and nothing outside it (`org:<other>` is
//!   never implied).

mod catalog;
mod set;

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use catalog::{ActionInfo, ScopeCatalog, ServiceInfo};
pub use set::ScopeSet;

const MAX_SCOPE_LEN: usize = 128;

/// A parsed scope in canonical form. The variant order is the canonical
/// display order of a scope set: `admin:org`, `org:`, `agent:`, then services.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// `admin:org`
    AdminOrg,
    /// `org:<org_id>`
    Org(String),
    /// `agent:<name>`
    Agent(String),
    /// `svc:<service>:<action>`
    Service { service: String, action: String },
}

/// Why a scope string does not fit the grammar. Echoes only the scope, which
/// is not secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("invalid scope `{0}`: segments must be lowercase [a-z0-9_-]+ separated by `:`")]
    Syntax(String),
    #[error("invalid scope: longer than {MAX_SCOPE_LEN} characters")]
    TooLong,
    #[error("unknown scope `{scope}`{}", suggestion_text(.suggestions))]
    Unknown {
        scope: String,
        suggestions: Vec<String>,
    },
}

fn suggestion_text(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(
            "; did you mean {}?",
            s.iter()
                .map(|x| format!("`{x}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// The three ordered actions; anything else is an "extra" action.
pub(crate) fn action_rank(action: &str) -> Option<u8> {
    match action {
        "read" => Some(1),
        "write" => Some(2),
        "admin" => Some(3),
        _ => None,
    }
}

fn valid_segment(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'-')
}

impl Scope {
    /// Parses any accepted form (grammar only; see [`ScopeCatalog::check`] for
    /// whether a service scope is known).
    pub fn parse(input: &str) -> Result<Self, ScopeError> {
        if input.len() > MAX_SCOPE_LEN {
            return Err(ScopeError::TooLong);
        }
        let syntax = || ScopeError::Syntax(crate::text::quote_input(input, MAX_SCOPE_LEN));
        let parts: Vec<&str> = input.split(':').collect();
        if !parts.iter().all(|p| valid_segment(p)) {
            return Err(syntax());
        }
        match parts.as_slice() {
            ["admin", "org"] => Ok(Scope::AdminOrg),
            ["svc", service, action] => Ok(Scope::service(service, action)),
            ["org", org] => Ok(Scope::Org((*org).to_owned())),
            ["agent", name] => Ok(Scope::Agent((*name).to_owned())),
            [action, resource] if *action != "svc" => Ok(Scope::service(resource, action)),
            _ => Err(syntax()),
        }
    }

    pub fn service(service: &str, action: &str) -> Self {
        Scope::Service {
            service: service.to_owned(),
            action: action.to_owned(),
        }
    }

    /// Whether holding `self`, on a key of org `key_org`, grants `wanted`.
    pub fn implies(&self, key_org: &str, wanted: &Scope) -> bool {
        if self == wanted {
            return true;
        }
        match (self, wanted) {
            (Scope::AdminOrg, Scope::Org(o)) => o == key_org,
            (Scope::AdminOrg, _) => true,
            (
                Scope::Service {
                    service: s1,
                    action: a1,
                },
                Scope::Service {
                    service: s2,
                    action: a2,
                },
            ) if s1 == s2 => match (action_rank(a1), action_rank(a2)) {
                (Some(r1), Some(r2)) => r1 >= r2,
                // Extra actions: implied by admin of the same service only.
                (Some(r1), None) => r1 == 3,
                _ => false,
            },
            _ => false,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Service { service, action } => write!(f, "svc:{service}:{action}"),
            Scope::Org(o) => write!(f, "org:{o}"),
            Scope::Agent(a) => write!(f, "agent:{a}"),
            Scope::AdminOrg => f.write_str("admin:org"),
        }
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scope({self})")
    }
}

impl std::str::FromStr for Scope {
    type Err = ScopeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::parse(s)
    }
}

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Scope::parse(&s).map_err(serde::de::Error::custom)
    }
}

crate::schema::string_schema!(
    Scope,
    "A scope: `svc:<service>:<action>`, `<action>:<service>`, `org:<org>`, `agent:<name>` or `admin:org`"
);

#[cfg(test)]
mod tests;
