//! The tools a server exposes and the scope each one requires, declared
//! once at start-up. A tool that is not declared is refused: the guard
//! cannot know what it should require, so it fails closed.

use std::collections::BTreeMap;

use authority::Scope;

use super::GuardError;

/// One declared tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolScope {
    /// The scope a key needs to call the tool.
    pub scope: Scope,
    /// One line for the scope catalog.
    pub description: String,
}

/// Tool name → required scope. Build it with [`ToolScopes::tool`]:
///
/// ```
/// use guard::ToolScopes;
/// let tools = ToolScopes::new()
///     .tool("read_page", "svc:wiki:read", "read wiki pages").unwrap()
///     .tool("write_page", "write:wiki", "edit wiki pages").unwrap();
/// assert_eq!(tools.scope_for("write_page").unwrap().to_string(), "svc:wiki:write");
/// ```
#[derive(Debug, Clone, Default)]
pub struct ToolScopes {
    tools: BTreeMap<String, ToolScope>,
}

impl ToolScopes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares `name` as requiring `scope` (long or short form).
    pub fn tool(mut self, name: &str, scope: &str, description: &str) -> Result<Self, GuardError> {
        let parsed = Scope::parse(scope).map_err(|source| GuardError::ToolScope {
            tool: name.to_owned(),
            source,
        })?;
        if self.tools.contains_key(name) {
            return Err(GuardError::DuplicateTool(name.to_owned()));
        }
        self.tools.insert(
            name.to_owned(),
            ToolScope {
                scope: parsed,
                description: description.to_owned(),
            },
        );
        Ok(self)
    }

    /// The scope `tool` requires, if it was declared.
    pub fn scope_for(&self, tool: &str) -> Option<&Scope> {
        self.tools.get(tool).map(|t| &t.scope)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &ToolScope)> {
        self.tools.iter().map(|(name, t)| (name.as_str(), t))
    }

    pub fn len(&self) -> usize {
        self.tools.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }
}
