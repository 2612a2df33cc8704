//! Just enough JSON-RPC to find a `tools/call` in a request body and to
//! answer one with an error, without depending on an MCP implementation.

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};

/// What a POST body holds, as far as the guard cares.
#[derive(Debug, PartialEq)]
pub(super) enum Peek {
    /// A `tools/call` request: the tool's name, its arguments (for the
    /// loop rule's fingerprint) and the request id.
    ToolCall {
        tool: String,
        arguments: Value,
        id: Value,
    },
    /// A batch that contains a `tools/call`: refused, because answering
    /// part of a batch from the guard would reorder the replies.
    BatchWithToolCall,
    /// Another JSON-RPC message (initialize, tools/list, a notification):
    /// its method names it if a refusal is audited; the MCP server answers it.
    Request { method: String, id: Value },
    /// Anything else (a batch without `tools/call`, bad JSON, not a POST):
    /// the MCP server answers it.
    Other,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    id: Value,
    #[serde(default)]
    params: Option<Params>,
}

#[derive(Deserialize)]
struct Params {
    #[serde(default)]
    name: Value,
    #[serde(default)]
    arguments: Value,
}

pub(super) fn peek(body: &[u8]) -> Peek {
    let trimmed = body.iter().position(|b| !b.is_ascii_whitespace());
    match trimmed.map(|i| body[i]) {
        Some(b'{') => match serde_json::from_slice::<Message>(body) {
            Ok(m) if m.method.as_deref() == Some("tools/call") => {
                let (name, arguments) = m
                    .params
                    .map_or((Value::Null, Value::Null), |p| (p.name, p.arguments));
                Peek::ToolCall {
                    // A non-string name cannot match a declared tool; "" is refused.
                    tool: name.as_str().map(str::to_owned).unwrap_or_default(),
                    arguments,
                    id: m.id,
                }
            }
            Ok(Message {
                method: Some(method),
                id,
                ..
            }) => Peek::Request { method, id },
            _ => Peek::Other,
        },
        Some(b'[') => match serde_json::from_slice::<Vec<Message>>(body) {
            Ok(batch)
                if batch
                    .iter()
                    .any(|m| m.method.as_deref() == Some("tools/call")) =>
            {
                Peek::BatchWithToolCall
            }
            _ => Peek::Other,
        },
        _ => Peek::Other,
    }
}

/// A JSON-RPC error response body.
pub(super) fn error(id: &Value, code: i64, message: &str, data: Value) -> Bytes {
    Bytes::from(
        json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": { "code": code, "message": message, "data": data },
        })
        .to_string(),
    )
}

/// The request id as text, for the audit event.
pub(super) fn id_text(id: &Value) -> Option<String> {
    match id {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_tool_calls() {
        let body = br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"read_page","arguments":{}}}"#;
        assert_eq!(
            peek(body),
            Peek::ToolCall {
                tool: "read_page".into(),
                arguments: json!({}),
                id: json!(7)
            }
        );
        assert_eq!(
            peek(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#),
            Peek::Request {
                method: "tools/list".into(),
                id: json!(1)
            }
        );
        assert_eq!(
            peek(br#"{"jsonrpc":"2.0","result":{},"id":1}"#),
            Peek::Other
        );
        assert_eq!(peek(b"not json"), Peek::Other);
        assert_eq!(
            peek(br#"[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}]"#),
            Peek::BatchWithToolCall
        );
        assert_eq!(
            peek(br#"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":5}}"#),
            Peek::ToolCall {
                tool: String::new(),
                arguments: Value::Null,
                id: json!("a")
            }
        );
    }
}
