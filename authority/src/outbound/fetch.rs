//! [`Fetcher`]: a GET (or a JSON POST) that reaches public https hosts
//! only, follows no redirect, and gives up on an answer that is too slow or
//! too large.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::address::is_public;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Where outbound requests may go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// Development only: allow `http` and loopback or private addresses
    /// (a client metadata document served from this machine).
    pub allow_insecure: bool,
}

/// How much one request may cost the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchLimits {
    pub max_bytes: usize,
    /// From the first connection attempt to the last byte of the body.
    pub timeout: Duration,
}

/// Why a fetch was refused or failed; each says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("the URL is not an absolute http(s) URL with a host")]
    BadUrl,
    #[error("the URL must use https")]
    NotHttps,
    #[error("`{host}` is not a public internet address; only public hosts are fetched")]
    NotPublic { host: String },
    #[error("`{host}` does not resolve to any address")]
    Unresolved { host: String },
    #[error("the server answered with a redirect (HTTP {status}); redirects are not followed, serve the document at its own URL")]
    Redirect { status: u16 },
    #[error("the server answered HTTP {status}")]
    Status { status: u16 },
    #[error("the answer is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("no complete answer within {millis} ms")]
    Timeout { millis: u128 },
    #[error("could not connect or read the answer: {0}")]
    Transport(String),
}

impl OutboundPolicy {
    /// Whether the policy lets a request go to `url` as far as the URL
    /// alone tells (scheme, and the address when the host is a literal);
    /// names are checked again when they resolve.
    pub fn check_url(&self, url: &url::Url) -> Result<(), FetchError> {
        match url.scheme() {
            "https" => {}
            "http" if self.allow_insecure => {}
            "http" => return Err(FetchError::NotHttps),
            _ => return Err(FetchError::BadUrl),
        }
        // An address literal never reaches the resolver: check it here.
        let ip = match url.host().ok_or(FetchError::BadUrl)? {
            url::Host::Domain(_) => return Ok(()),
            url::Host::Ipv4(ip) => IpAddr::V4(ip),
            url::Host::Ipv6(ip) => IpAddr::V6(ip),
        };
        if self.allow_insecure || is_public(ip) {
            Ok(())
        } else {
            Err(FetchError::NotPublic {
                host: url.host_str().unwrap_or_default().to_owned(),
            })
        }
    }
}

/// An HTTP client bound to an [`OutboundPolicy`] and [`FetchLimits`].
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    policy: OutboundPolicy,
    limits: FetchLimits,
}

impl Fetcher {
    pub fn new(policy: OutboundPolicy, limits: FetchLimits) -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would make the connection somewhere this module never checked.
            .no_proxy()
            .dns_resolver(CheckedResolver { policy })
            .https_only(!policy.allow_insecure)
            .connect_timeout(limits.timeout)
            .timeout(limits.timeout)
            .user_agent(concat!("acekeys/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError::Transport(e.to_string()))?;
        Ok(Self {
            client,
            policy,
            limits,
        })
    }

    /// The body of `url`, if it answers 200 within the limits.
    pub async fn get(&self, url: &url::Url) -> Result<Vec<u8>, FetchError> {
        self.policy.check_url(url)?;
        tokio::time::timeout(self.limits.timeout, self.read(url))
            .await
            .map_err(|_| self.timed_out())?
    }

    /// POSTs a JSON `body` with `headers` to `url` and returns the answer's
    /// status (its body is not read). A redirect is an error, as for `get`.
    pub async fn post_json(
        &self,
        url: &url::Url,
        headers: &[(&'static str, String)],
        body: String,
    ) -> Result<u16, FetchError> {
        self.policy.check_url(url)?;
        let mut request = self
            .client
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let send = async {
            let response = request
                .body(body)
                .send()
                .await
                .map_err(|e| self.classify(e))?;
            let status = response.status();
            if status.is_redirection() {
                return Err(FetchError::Redirect {
                    status: status.as_u16(),
                });
            }
            Ok(status.as_u16())
        };
        tokio::time::timeout(self.limits.timeout, send)
            .await
            .map_err(|_| self.timed_out())?
    }

    fn timed_out(&self) -> FetchError {
        FetchError::Timeout {
            millis: self.limits.timeout.as_millis(),
        }
    }

    async fn read(&self, url: &url::Url) -> Result<Vec<u8>, FetchError> {
        let mut response = self
            .client
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        let status = response.status();
        if status.is_redirection() {
            return Err(FetchError::Redirect {
                status: status.as_u16(),
            });
        }
        if status != reqwest::StatusCode::OK {
            return Err(FetchError::Status {
                status: status.as_u16(),
            });
        }
        let limit = self.limits.max_bytes;
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(FetchError::TooLarge { limit });
        }
        // The declared length may lie or be absent: count what arrives.
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.classify(e))? {
            if body.len() + chunk.len() > limit {
                return Err(FetchError::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn classify(&self, error: reqwest::Error) -> FetchError {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&error);
        while let Some(e) = cause {
            if let Some(Refused(why)) = e.downcast_ref::<Refused>() {
                return why.clone();
            }
            cause = e.source();
        }
        if error.is_timeout() {
            return FetchError::Timeout {
                millis: self.limits.timeout.as_millis(),
            };
        }
        FetchError::Transport(source_chain(&error))
    }
}

/// A resolver that hands the connector only addresses the policy allows,
/// so what was checked is what is connected to.
struct CheckedResolver {
    policy: OutboundPolicy,
}

/// The resolver's refusal, found again in reqwest's error chain.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Refused(FetchError);

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_any = self.policy.allow_insecure;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let unresolved = || Refused(FetchError::Unresolved { host: host.clone() });
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|_| Box::new(unresolved()) as BoxError)?
                .collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| allow_any || is_public(a.ip()))
                .collect();
            match (found.is_empty(), allowed.is_empty()) {
                (true, _) => Err(Box::new(unresolved()) as BoxError),
                (false, true) => {
                    Err(Box::new(Refused(FetchError::NotPublic { host: host.clone() })) as BoxError)
                }
                (false, false) => Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs),
            }
        })
    }
}

/// "a: b: c" from an error and its sources (reqwest's own message alone
/// says only "error sending request").
fn source_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}
