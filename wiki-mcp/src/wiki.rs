//! The wiki itself: in-memory pages and knowledge-base entries behind five
//! MCP tools. The tools contain no auth code; the guard in front of them
//! decided before they run, and they only read who the caller is.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use guard::GuardedCaller;
use parking_lot::RwLock;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::Extension;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{Implementation, ServerCapabilities, ServerConfig};
use rmcp::{schemars, tool, tool_handler, tool_router, ErrorData, ServerHandler};
use serde::Deserialize;

/// Shared wiki state; clones share it (rmcp builds one handler per session).
#[derive(Clone)]
pub struct Wiki {
    pages: Arc<RwLock<BTreeMap<String, Page>>>,
    kb: Arc<RwLock<Vec<String>>>,
    bodies_run: Arc<AtomicU64>,
    tool_router: ToolRouter<Self>,
}

#[derive(Clone)]
struct Page {
    body: String,
    author: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ReadPage {
    /// The page's title, e.g. `Home`.
    pub title: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SearchPages {
    /// A word to look for in titles and bodies (case-insensitive).
    pub query: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct WritePage {
    pub title: String,
    pub body: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct WriteKb {
    /// One knowledge-base entry.
    pub entry: String,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct OrgReport {}

impl Default for Wiki {
    fn default() -> Self {
        Self::new()
    }
}

impl Wiki {
    pub fn new() -> Self {
        let mut pages = BTreeMap::new();
        for (title, body) in [
            (
                "Home",
                "Welcome to the acme wiki. See Onboarding and the Incident runbook.",
            ),
            (
                "Onboarding",
                "New agents get a key with exactly the scopes they need.",
            ),
            (
                "Incident runbook",
                "Revoke the agent's keys first, then read the audit trail.",
            ),
        ] {
            pages.insert(
                title.to_owned(),
                Page {
                    body: body.to_owned(),
                    author: "seed".to_owned(),
                },
            );
        }
        Self {
            pages: Arc::new(RwLock::new(pages)),
            kb: Arc::new(RwLock::new(Vec::new())),
            bodies_run: Arc::new(AtomicU64::new(0)),
            tool_router: Self::tool_router(),
        }
    }

    /// How many tool bodies have run: a refused call must not move it.
    pub fn bodies_run(&self) -> u64 {
        self.bodies_run.load(Ordering::SeqCst)
    }

    pub fn page_count(&self) -> usize {
        self.pages.read().len()
    }

    fn ran(&self) {
        self.bodies_run.fetch_add(1, Ordering::SeqCst);
    }
}

/// Who called, as the guard recorded it (agent name, else key id).
fn caller_name(parts: &http::request::Parts) -> String {
    GuardedCaller::from_parts(parts).map_or_else(
        || "unknown".to_owned(),
        |c| c.agent.clone().unwrap_or_else(|| c.key_id.to_string()),
    )
}

#[tool_router]
impl Wiki {
    #[tool(description = "Read a wiki page by its title. Requires svc:wiki:read.")]
    async fn read_page(
        &self,
        Parameters(ReadPage { title }): Parameters<ReadPage>,
    ) -> Result<String, ErrorData> {
        self.ran();
        self.pages
            .read()
            .get(&title)
            .map(|p| format!("# {title}\n\n{}\n\n(last edited by {})", p.body, p.author))
            .ok_or_else(|| ErrorData::invalid_params(format!("no page titled {title:?}"), None))
    }

    #[tool(description = "Search wiki pages for a word. Requires svc:wiki:read.")]
    async fn search_pages(
        &self,
        Parameters(SearchPages { query }): Parameters<SearchPages>,
    ) -> String {
        self.ran();
        let needle = query.to_lowercase();
        let hits: Vec<String> = self
            .pages
            .read()
            .iter()
            .filter(|(t, p)| {
                t.to_lowercase().contains(&needle) || p.body.to_lowercase().contains(&needle)
            })
            .map(|(t, _)| t.clone())
            .collect();
        if hits.is_empty() {
            format!("no page mentions {query:?}")
        } else {
            hits.join("\n")
        }
    }

    #[tool(description = "Create or replace a wiki page. Requires svc:wiki:write.")]
    async fn write_page(
        &self,
        Parameters(WritePage { title, body }): Parameters<WritePage>,
        Extension(parts): Extension<http::request::Parts>,
    ) -> String {
        self.ran();
        let author = caller_name(&parts);
        self.pages.write().insert(
            title.clone(),
            Page {
                body,
                author: author.clone(),
            },
        );
        format!("saved {title:?} (author {author})")
    }

    #[tool(description = "Add an entry to the knowledge base. Requires svc:kb:write.")]
    async fn write_kb(&self, Parameters(WriteKb { entry }): Parameters<WriteKb>) -> String {
        self.ran();
        let mut kb = self.kb.write();
        kb.push(entry);
        format!("knowledge base now has {} entries", kb.len())
    }

    #[tool(description = "Usage report for the caller's org. Requires admin:org.")]
    async fn org_report(
        &self,
        Parameters(OrgReport {}): Parameters<OrgReport>,
        Extension(parts): Extension<http::request::Parts>,
    ) -> String {
        self.ran();
        let org = GuardedCaller::from_parts(&parts).map_or_else(String::new, |c| c.org.to_string());
        format!(
            "org {org}: {} pages, {} knowledge-base entries, {} tool calls served",
            self.pages.read().len(),
            self.kb.read().len(),
            self.bodies_run()
        )
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Wiki {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("wiki-mcp", env!("CARGO_PKG_VERSION")))
            .with_instructions("A small wiki. Every tool call is checked and audited by acekeys.")
    }
}
