//! Records ↔ Firestore document fields.
//!
//! Written by hand rather than through serde so that the stored shape is
//! explicit: instants are integer milliseconds (the authority's clock is
//! injectable, so no server timestamps), absent optionals are `null` (a
//! query can still tell them apart), and hashes are bytes.

use std::collections::HashMap;

use firestore::gcloud_sdk::google::firestore::v1::{value::ValueType, Document, Value};

use crate::audit::{AuditEvent, ChainHash, ChainLink, Decision, EventKind, NewEvent, Seal};
use crate::ids::{EventId, KeyId, OrgId};
use crate::keys::{Env, KeyHash, KeyHint};
use crate::scopes::ScopeSet;
use crate::store::{KeyRecord, OrgRecord, Revocation, StoreError};
use crate::time::Timestamp;

pub(super) type Fields = HashMap<String, Value>;

pub(super) fn string(v: &str) -> Value {
    Value {
        value_type: Some(ValueType::StringValue(v.to_owned())),
    }
}

pub(super) fn int(v: i64) -> Value {
    Value {
        value_type: Some(ValueType::IntegerValue(v)),
    }
}

fn boolean(v: bool) -> Value {
    Value {
        value_type: Some(ValueType::BooleanValue(v)),
    }
}

fn bytes(v: &[u8]) -> Value {
    Value {
        value_type: Some(ValueType::BytesValue(v.to_vec())),
    }
}

pub(super) fn null() -> Value {
    Value {
        value_type: Some(ValueType::NullValue(0)),
    }
}

/// An array of strings (what `array-contains` queries look into).
fn strings<'a>(v: impl Iterator<Item = &'a str>) -> Value {
    use firestore::gcloud_sdk::google::firestore::v1::ArrayValue;
    Value {
        value_type: Some(ValueType::ArrayValue(ArrayValue {
            values: v.map(string).collect(),
        })),
    }
}

fn opt_string(v: Option<&str>) -> Value {
    v.map_or_else(null, string)
}

fn opt_int(v: Option<i64>) -> Value {
    v.map_or_else(null, int)
}

fn millis(t: Option<Timestamp>) -> Value {
    opt_int(t.map(Timestamp::as_millis))
}

/// Typed access to a stored document's fields; a missing or mistyped field
/// is a [`StoreError::Corrupt`] naming it.
pub(super) struct Reader<'a> {
    fields: &'a Fields,
}

impl<'a> Reader<'a> {
    pub(super) fn new(doc: &'a Document) -> Self {
        Self {
            fields: &doc.fields,
        }
    }

    fn value(&self, name: &str) -> Option<&'a ValueType> {
        self.fields.get(name).and_then(|v| v.value_type.as_ref())
    }

    fn corrupt(name: &str) -> StoreError {
        StoreError::Corrupt(format!(
            "firestore field `{name}` missing or of the wrong type"
        ))
    }

    pub(super) fn opt_str(&self, name: &str) -> Result<Option<String>, StoreError> {
        match self.value(name) {
            None | Some(ValueType::NullValue(_)) => Ok(None),
            Some(ValueType::StringValue(s)) => Ok(Some(s.clone())),
            Some(_) => Err(Self::corrupt(name)),
        }
    }

    /// An array of strings; `None` when absent or null.
    pub(super) fn opt_strings(&self, name: &str) -> Result<Option<Vec<String>>, StoreError> {
        match self.value(name) {
            None | Some(ValueType::NullValue(_)) => Ok(None),
            Some(ValueType::ArrayValue(a)) => a
                .values
                .iter()
                .map(|v| match &v.value_type {
                    Some(ValueType::StringValue(s)) => Ok(s.clone()),
                    _ => Err(Self::corrupt(name)),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(Self::corrupt(name)),
        }
    }

    pub(super) fn str(&self, name: &str) -> Result<String, StoreError> {
        self.opt_str(name)?.ok_or_else(|| Self::corrupt(name))
    }

    pub(super) fn opt_int(&self, name: &str) -> Result<Option<i64>, StoreError> {
        match self.value(name) {
            None | Some(ValueType::NullValue(_)) => Ok(None),
            Some(ValueType::IntegerValue(i)) => Ok(Some(*i)),
            Some(_) => Err(Self::corrupt(name)),
        }
    }

    pub(super) fn int(&self, name: &str) -> Result<i64, StoreError> {
        self.opt_int(name)?.ok_or_else(|| Self::corrupt(name))
    }

    fn opt_millis(&self, name: &str) -> Result<Option<Timestamp>, StoreError> {
        Ok(self.opt_int(name)?.map(Timestamp::from_millis))
    }

    fn boolean(&self, name: &str) -> Result<bool, StoreError> {
        match self.value(name) {
            Some(ValueType::BooleanValue(b)) => Ok(*b),
            _ => Err(Self::corrupt(name)),
        }
    }

    pub(super) fn hash32(&self, name: &str) -> Result<[u8; 32], StoreError> {
        match self.value(name) {
            Some(ValueType::BytesValue(b)) => {
                <[u8; 32]>::try_from(b.as_slice()).map_err(|_| Self::corrupt(name))
            }
            _ => Err(Self::corrupt(name)),
        }
    }
}

pub(super) fn org_fields(o: &OrgRecord) -> Fields {
    Fields::from([
        ("id".into(), string(o.id.as_str())),
        ("name".into(), string(&o.name)),
        ("created_at".into(), int(o.created_at.as_millis())),
        ("allow_never_expiry".into(), boolean(o.allow_never_expiry)),
    ])
}

pub(super) fn org_from(doc: &Document) -> Result<OrgRecord, StoreError> {
    let r = Reader::new(doc);
    Ok(OrgRecord {
        id: OrgId::from_stored(r.str("id")?),
        name: r.str("name")?,
        created_at: Timestamp::from_millis(r.int("created_at")?),
        allow_never_expiry: r.boolean("allow_never_expiry")?,
    })
}

pub(super) fn key_fields(k: &KeyRecord) -> Fields {
    let mut f = Fields::from([
        ("id".into(), string(k.id.as_str())),
        ("org".into(), string(k.org.as_str())),
        ("name".into(), string(&k.name)),
        ("env".into(), string(k.env.as_str())),
        ("agent".into(), opt_string(k.agent.as_deref())),
        ("scopes".into(), string(&k.scopes.to_storage())),
        ("hash".into(), bytes(k.hash.as_bytes())),
        ("hint".into(), string(k.hint.as_str())),
        (
            "created_by".into(),
            opt_string(k.created_by.as_ref().map(KeyId::as_str)),
        ),
        ("created_at".into(), int(k.created_at.as_millis())),
        ("expires_at".into(), millis(k.expires_at)),
        (
            "rotated_from".into(),
            opt_string(k.rotated_from.as_ref().map(KeyId::as_str)),
        ),
        (
            "rotated_to".into(),
            opt_string(k.rotated_to.as_ref().map(KeyId::as_str)),
        ),
        (
            "resources".into(),
            string(&crate::oauth::resources_to_storage(&k.resources)),
        ),
        (
            "grant_id".into(),
            opt_string(k.oauth.as_ref().map(|o| o.grant.as_str())),
        ),
        (
            "client_id".into(),
            opt_string(k.oauth.as_ref().map(|o| o.client.as_str())),
        ),
        ("not_before".into(), millis(k.terms.not_before)),
        (
            "networks".into(),
            strings(k.terms.networks.to_strings().iter().map(String::as_str)),
        ),
        (
            "metadata".into(),
            opt_string(
                k.terms
                    .metadata
                    .as_ref()
                    .map(crate::guardrails::KeyMetadata::to_storage)
                    .as_deref(),
            ),
        ),
        (
            "parent".into(),
            opt_string(k.parent.as_ref().map(KeyId::as_str)),
        ),
    ]);
    f.extend(quarantine_fields(k.quarantine.as_ref()));
    f.extend(limits_fields(&k.terms.limits));
    f.extend(revocation_fields(
        k.revoked_at,
        k.revoked_by.as_deref(),
        k.revoke_reason.as_deref(),
    ));
    f
}

/// The fields a revocation changes (an update masked to exactly these).
pub(super) const REVOCATION_FIELDS: [&str; 3] = ["revoked_at", "revoked_by", "revoke_reason"];

fn revocation_fields(at: Option<Timestamp>, by: Option<&str>, reason: Option<&str>) -> Fields {
    Fields::from([
        ("revoked_at".into(), millis(at)),
        ("revoked_by".into(), opt_string(by)),
        ("revoke_reason".into(), opt_string(reason)),
    ])
}

pub(super) fn revoked_fields(rev: &Revocation) -> Fields {
    revocation_fields(Some(rev.at), Some(&rev.by), rev.reason.as_deref())
}

/// `orgs/{org}/usage/{key id}`: `last_used_at`, apart from the key so that
/// the marks written every few seconds never touch the document whose
/// update time guards revocations.
pub(super) fn usage_fields(k: &KeyRecord) -> Fields {
    Fields::from([("last_used_at".into(), millis(k.last_used_at))])
}

pub(super) fn usage_from(doc: &Document) -> Result<Option<Timestamp>, StoreError> {
    Reader::new(doc).opt_millis("last_used_at")
}

/// A key record without its `last_used_at` (kept in the usage document).
pub(super) fn key_from(doc: &Document) -> Result<KeyRecord, StoreError> {
    let r = Reader::new(doc);
    let env = r.str("env")?;
    let env = Env::parse(&env).ok_or_else(|| StoreError::Corrupt(format!("key env `{env}`")))?;
    let key_id = |name: &str| -> Result<Option<KeyId>, StoreError> {
        Ok(r.opt_str(name)?.map(KeyId::from_stored))
    };
    Ok(KeyRecord {
        id: KeyId::from_stored(r.str("id")?),
        org: OrgId::from_stored(r.str("org")?),
        name: r.str("name")?,
        env,
        agent: r.opt_str("agent")?,
        scopes: ScopeSet::from_storage(&r.str("scopes")?),
        hash: KeyHash::from_bytes(r.hash32("hash")?),
        hint: KeyHint::from_stored(r.str("hint")?),
        created_by: key_id("created_by")?,
        created_at: Timestamp::from_millis(r.int("created_at")?),
        expires_at: r.opt_millis("expires_at")?,
        revoked_at: r.opt_millis("revoked_at")?,
        revoked_by: r.opt_str("revoked_by")?,
        revoke_reason: r.opt_str("revoke_reason")?,
        last_used_at: None,
        rotated_from: key_id("rotated_from")?,
        rotated_to: key_id("rotated_to")?,
        // Keys written before OAuth have none of these three fields.
        resources: crate::oauth::resources_from_storage(
            &r.opt_str("resources")?.unwrap_or_default(),
        ),
        oauth: match (r.opt_str("grant_id")?, r.opt_str("client_id")?) {
            (Some(grant), Some(client)) => Some(crate::oauth::TokenOrigin {
                grant: crate::ids::GrantId::from_stored(grant),
                client: crate::oauth::ClientId::from_stored(client),
            }),
            _ => None,
        },
        // Keys written before guardrails have none of these four fields.
        terms: crate::guardrails::KeyTerms {
            not_before: r.opt_millis("not_before")?,
            networks: crate::guardrails::AddressRanges::from_stored(
                &r.opt_strings("networks")?.unwrap_or_default(),
            ),
            metadata: r
                .opt_str("metadata")?
                .as_deref()
                .and_then(crate::guardrails::KeyMetadata::from_storage),
            limits: match r.opt_str("limits")? {
                None => crate::guardrails::KeyLimits::default(),
                Some(json) => serde_json::from_str::<Vec<model::wire::LimitView>>(&json)
                    .map_err(|e| e.to_string())
                    .and_then(|v| {
                        crate::guardrails::KeyLimits::from_views(&v).map_err(|e| e.to_string())
                    })
                    .map_err(|e| StoreError::Corrupt(format!("key limits: {e}")))?,
            },
        },
        parent: key_id("parent")?,
        quarantine: match r.opt_str("quarantine")? {
            None => None,
            Some(json) => Some(
                serde_json::from_str(&json)
                    .map_err(|e| StoreError::Corrupt(format!("key quarantine: {e}")))?,
            ),
        },
    })
}

/// The field a change of limits writes (an update masked to it).
pub(super) const LIMITS_FIELD: &str = "limits";

/// Limits as their JSON views (a string: nothing queries inside them).
pub(super) fn limits_fields(l: &crate::guardrails::KeyLimits) -> Fields {
    Fields::from([(
        LIMITS_FIELD.into(),
        opt_string(
            (!l.is_empty())
                .then(|| serde_json::to_string(&l.views()).expect("limit views serialize"))
                .as_deref(),
        ),
    )])
}

/// The field a quarantine or release changes (an update masked to it).
pub(super) const QUARANTINE_FIELD: &str = "quarantine";

pub(super) fn quarantine_fields(q: Option<&model::wire::QuarantineView>) -> Fields {
    Fields::from([(
        QUARANTINE_FIELD.into(),
        opt_string(
            q.map(|q| serde_json::to_string(q).expect("a quarantine view serializes"))
                .as_deref(),
        ),
    )])
}

/// `scopes/{service}:{action}`: a registered tool scope.
pub(super) fn catalog_fields(e: &crate::store::CatalogEntry) -> Fields {
    Fields::from([
        ("service".into(), string(&e.service)),
        ("action".into(), string(&e.action)),
        ("description".into(), string(&e.description)),
    ])
}

/// `meta/pepper`: the fingerprint of the servers' shared pepper.
pub(super) fn fingerprint_fields(fingerprint: &[u8; 32]) -> Fields {
    Fields::from([("fingerprint".into(), bytes(fingerprint))])
}

/// `key_hashes/{hash}`: where the key with this hash lives.
pub(super) fn hash_lookup_fields(k: &KeyRecord) -> Fields {
    Fields::from([
        ("org".into(), string(k.org.as_str())),
        ("key_id".into(), string(k.id.as_str())),
    ])
}

/// `revocations/{hash}`: what other servers' listeners evict on.
pub(super) fn revocation_notice_fields(k: &KeyRecord, at: Timestamp, written_at: i64) -> Fields {
    change_notice_fields(k, crate::revocation::KeyChange::Revoked, at, written_at)
}

/// `revocations/{hash}`: what every server's listener hears about a key
/// (`revoked_at` holds the instant of any change, as it did before
/// quarantine; `change` says which).
pub(super) fn change_notice_fields(
    k: &KeyRecord,
    change: crate::revocation::KeyChange,
    at: Timestamp,
    written_at: i64,
) -> Fields {
    Fields::from([
        ("org".into(), string(k.org.as_str())),
        ("key_id".into(), string(k.id.as_str())),
        ("revoked_at".into(), int(at.as_millis())),
        ("written_at".into(), int(written_at)),
        ("change".into(), string(change.as_str())),
    ])
}

pub(super) fn event_fields(e: &AuditEvent) -> Fields {
    let b = &e.body;
    let latency = b.latency_us.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
    Fields::from([
        ("id".into(), string(e.id.as_str())),
        ("ts".into(), int(b.ts.as_millis())),
        ("org".into(), string(b.org.as_str())),
        (
            "actor".into(),
            opt_string(b.actor_key_id.as_ref().map(KeyId::as_str)),
        ),
        ("agent".into(), opt_string(b.agent.as_deref())),
        ("kind".into(), string(b.kind.as_str())),
        ("action".into(), string(&b.action)),
        ("scope".into(), opt_string(b.required_scope.as_deref())),
        ("decision".into(), string(b.decision.as_str())),
        ("reason".into(), opt_string(b.reason.as_deref())),
        ("subject".into(), opt_string(b.subject.as_deref())),
        ("server".into(), opt_string(b.server.as_deref())),
        ("request_id".into(), opt_string(b.request_id.as_deref())),
        ("client_ip".into(), opt_string(b.client_ip.as_deref())),
        ("latency_us".into(), opt_int(latency)),
        (
            "reported_by".into(),
            opt_string(b.reported_by.as_ref().map(KeyId::as_str)),
        ),
        (
            "person".into(),
            opt_string(
                b.person
                    .as_ref()
                    .and_then(|person| serde_json::to_string(person).ok())
                    .as_deref(),
            ),
        ),
        (
            "subject_agent".into(),
            opt_string(b.subject_agent.as_deref()),
        ),
        (
            "about".into(),
            strings(crate::audit::about_tags(b).iter().map(String::as_str)),
        ),
        ("writer".into(), string(&e.chain.writer)),
        ("seq".into(), int(seq_to_i64(e.chain.seq))),
        ("prev_hash".into(), bytes(&e.chain.prev_hash.0)),
        ("hash".into(), bytes(&e.chain.hash.0)),
    ])
}

pub(super) fn seq_to_i64(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

pub(super) fn event_from(doc: &Document) -> Result<AuditEvent, StoreError> {
    let r = Reader::new(doc);
    let kind = EventKind::parse(&r.str("kind")?);
    let decision = Decision::parse(&r.str("decision")?);
    let (Some(kind), Some(decision)) = (kind, decision) else {
        return Err(StoreError::Corrupt("audit kind/decision".into()));
    };
    Ok(AuditEvent {
        id: EventId::from_stored(r.str("id")?),
        body: NewEvent {
            ts: Timestamp::from_millis(r.int("ts")?),
            org: OrgId::from_stored(r.str("org")?),
            actor_key_id: r.opt_str("actor")?.map(KeyId::from_stored),
            agent: r.opt_str("agent")?,
            kind,
            action: r.str("action")?,
            required_scope: r.opt_str("scope")?,
            decision,
            reason: r.opt_str("reason")?,
            subject: r.opt_str("subject")?,
            server: r.opt_str("server")?,
            request_id: r.opt_str("request_id")?,
            client_ip: r.opt_str("client_ip")?,
            latency_us: r.opt_int("latency_us")?.map(|v| v.max(0) as u64),
            reported_by: r.opt_str("reported_by")?.map(KeyId::from_stored),
            person: r
                .opt_str("person")?
                .map(|text| serde_json::from_str(&text))
                .transpose()
                .map_err(|_| StoreError::Corrupt("audit person".into()))?,
            subject_agent: r.opt_str("subject_agent")?,
        },
        chain: ChainLink {
            writer: r.str("writer")?,
            seq: r.int("seq")?.max(0) as u64,
            prev_hash: ChainHash(r.hash32("prev_hash")?),
            hash: ChainHash(r.hash32("hash")?),
        },
    })
}

/// `orgs/{org}/chains/{writer}`: one per chain, so chains can be listed
/// without scanning events; written with a chain's first event and by
/// retention (its checkpoint), never per event.
pub(super) fn chain_fields(org: &OrgId, writer: &str) -> Fields {
    Fields::from([
        ("org".into(), string(org.as_str())),
        ("writer".into(), string(writer)),
    ])
}

/// A chain's newest seal, on its chain document (see `audit::seal`).
pub(super) const SEAL_FIELDS: [&str; 7] = [
    "org",
    "writer",
    "seal_seq",
    "seal_hash",
    "seal_writers",
    "sealed_at",
    "seal_signature",
];

pub(super) fn seal_fields(seal: &Seal) -> Fields {
    let writers = serde_json::to_string(&seal.writers).unwrap_or_default();
    let mut f = chain_fields(&seal.org, &seal.writer);
    f.extend([
        ("seal_seq".into(), int(seq_to_i64(seal.seq))),
        ("seal_hash".into(), bytes(&seal.hash.0)),
        ("seal_writers".into(), string(&writers)),
        ("sealed_at".into(), int(seal.sealed_at.as_millis())),
        ("seal_signature".into(), bytes(&seal.signature)),
    ]);
    f
}

/// The seal on a chain document, if any. Damaged fields give a seal whose
/// signature cannot verify, so verification reports it instead of failing.
pub(super) fn seal_from(r: &Reader<'_>, org: &OrgId, writer: &str) -> Option<Seal> {
    let seq = r.opt_int("seal_seq").ok().flatten()?;
    let raw = |name: &str| match r.value(name) {
        Some(ValueType::BytesValue(b)) => Some(b.clone()),
        _ => None,
    };
    Some(Seal {
        org: org.clone(),
        writer: writer.to_owned(),
        seq: seq.max(0) as u64,
        hash: ChainHash(r.hash32("seal_hash").unwrap_or_default()),
        writers: r
            .opt_str("seal_writers")
            .ok()
            .flatten()
            .and_then(|w| serde_json::from_str(&w).ok())
            .unwrap_or_default(),
        sealed_at: Timestamp::from_millis(r.opt_int("sealed_at").ok().flatten().unwrap_or(0)),
        signature: raw("seal_signature")
            .and_then(|s| <[u8; 64]>::try_from(s.as_slice()).ok())
            .unwrap_or([0; 64]),
    })
}

pub(super) const CHECKPOINT_FIELDS: [&str; 3] = ["checkpoint_seq", "checkpoint_hash", "pruned_at"];

pub(super) fn checkpoint_fields(seq: u64, hash: &ChainHash, pruned_at: Timestamp) -> Fields {
    Fields::from([
        ("checkpoint_seq".into(), int(seq_to_i64(seq))),
        ("checkpoint_hash".into(), bytes(&hash.0)),
        ("pruned_at".into(), int(pruned_at.as_millis())),
    ])
}
