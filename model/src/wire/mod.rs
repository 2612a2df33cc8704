//! The REST API's request and response bodies, declared once.
//!
//! The server parses and renders these; the remote guard and the tests read
//! them back; with the `openapi` feature each describes itself to `utoipa`,
//! so `/api/openapi.json` is generated from these very types.

mod audit;
pub mod bearer;
mod error;
mod introspect;
mod keys;
mod leaks;
mod limits;
mod oauth;
mod org_settings;
mod scopes;
mod webhooks;

pub use audit::{
    AuditFilterParams, AuditPage, IngestAnswer, IngestBody, KeyLife, TimelineAnswer,
    TimelineBucket, ToolCall, MAX_INGEST_EVENTS, MAX_REQUEST_BYTES,
};
pub use error::{ErrorBody, ErrorEnvelope};
pub use introspect::{IntrospectAnswer, IntrospectRequest};
pub use keys::{
    BulkRevokeBody, BulkRevokeRequest, BulkRevokeResult, BulkRevokeTarget, ExpiryChoice, KeyList,
    KeyListFilter, KeyTermsRequest, KeyView, MintRequest, MintedKey, QuarantineBody,
    QuarantineRule, QuarantineView, RevokeBody, RotateRequest, RotatedKey,
};
pub use leaks::{LeakReportItem, LeakVerdict};
pub use limits::{
    AllowanceGrant, AllowanceRequest, KeyLimit, LimitKind, LimitView, LimitsRequest, Refill,
};
pub use oauth::{
    AuthorizationParams, AuthorizationServerMetadata, ClientRegistrationAnswer,
    ClientRegistrationRequest, ConsentDecision, ConsentScope, ConsentView, GrantList, GrantView,
    OAuthErrorBody, TokenAnswer, TokenRequest, TokenRevocationRequest,
};
pub use org_settings::{LeakResponseSetting, OrgSettings, RuleSettings};
pub use scopes::{RegisterScopesBody, RegisteredScopes, ScopeCatalogAnswer, ScopeRegistration};
pub use webhooks::{
    DeliveryLog, DeliveryState, DeliveryView, WebhookEventType, WebhookList, WebhookRequest,
    WebhookView, WebhookWithSecret,
};
