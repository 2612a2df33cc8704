//! Bodies of the leaked-key report endpoint, in the format of GitHub's
//! secret scanning partner program.

use serde::{Deserialize, Serialize};

/// One reported token, as a scanner sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LeakReportItem {
    /// The exposed token as found.
    pub token: String,
    /// The token type the scanner registered (e.g. `acekeys_api_key`).
    #[serde(rename = "type")]
    pub token_type: String,
    /// Where it was found.
    pub url: String,
    /// What kind of place (`content`, `commit`, `gist`, …).
    pub source: String,
}

/// The answer for one reported token. The token is named by its SHA-256
/// (hex), never echoed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LeakVerdict {
    pub token_hash: String,
    pub token_type: String,
    /// `true_positive`: a key of this authority (now revoked or held);
    /// `false_positive`: not one.
    pub label: String,
}
