//! Audit exports: each event as one CSV row or one NDJSON line. The
//! streaming itself is the server's; what a row says is decided here, once.

use model::audit::AuditEvent;

use crate::error::AuthorityError;

/// How an export is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// RFC 4180 CSV with a header row (the default).
    Csv,
    /// One JSON object per line.
    Ndjson,
}

impl ExportFormat {
    /// `csv` (or nothing) or `ndjson`.
    pub fn parse(format: Option<&str>) -> Result<Self, AuthorityError> {
        match format.map(str::trim) {
            None | Some("" | "csv") => Ok(ExportFormat::Csv),
            Some("ndjson") => Ok(ExportFormat::Ndjson),
            Some(_) => Err(AuthorityError::invalid(
                "format",
                "is not supported: use `csv` or `ndjson`",
            )),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Ndjson => "application/x-ndjson",
        }
    }

    pub fn file_extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Ndjson => "ndjson",
        }
    }

    /// What the file starts with.
    pub fn header(self) -> &'static str {
        match self {
            ExportFormat::Csv => CSV_HEADER,
            ExportFormat::Ndjson => "",
        }
    }

    /// Appends `event` as one row or line. An event that cannot be encoded
    /// is an error, never an empty line.
    pub fn write_event(self, out: &mut String, event: &AuditEvent) -> Result<(), AuthorityError> {
        match self {
            ExportFormat::Csv => csv_row(out, event),
            ExportFormat::Ndjson => {
                let line = serde_json::to_string(event).map_err(|e| AuthorityError::Internal {
                    cause: format!("cannot encode audit event {}: {e}", event.id),
                })?;
                out.push_str(&line);
                out.push('\n');
            }
        }
        Ok(())
    }
}

const CSV_HEADER: &str = "id,ts,org,kind,actor_key_id,agent,action,required_scope,decision,reason,subject,server,request_id,client_ip,latency_us,writer,seq,hash,reported_by,person,subject_agent\n";

fn csv_row(out: &mut String, event: &AuditEvent) {
    let body = &event.body;
    let fields: [String; 21] = [
        event.id.to_string(),
        body.ts.to_rfc3339(),
        body.org.to_string(),
        body.kind.as_str().to_owned(),
        body.actor_key_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        body.agent.clone().unwrap_or_default(),
        body.action.clone(),
        body.required_scope.clone().unwrap_or_default(),
        body.decision.as_str().to_owned(),
        body.reason.clone().unwrap_or_default(),
        body.subject.clone().unwrap_or_default(),
        body.server.clone().unwrap_or_default(),
        body.request_id.clone().unwrap_or_default(),
        body.client_ip.clone().unwrap_or_default(),
        body.latency_us.map(|us| us.to_string()).unwrap_or_default(),
        event.chain.writer.clone(),
        event.chain.seq.to_string(),
        event.chain.hash.to_hex(),
        body.reported_by
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        body.person
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        body.subject_agent.clone().unwrap_or_default(),
    ];
    for (index, field) in fields.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        csv_field(out, field);
    }
    out.push('\n');
}

/// RFC 4180 quoting, plus a leading `'` on values a spreadsheet would run
/// as a formula (tool names and reasons come from callers).
fn csv_field(out: &mut String, value: &str) {
    let formula = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let needs_quotes = formula || value.contains([',', '"', '\n', '\r']);
    if !needs_quotes {
        out.push_str(value);
        return;
    }
    out.push('"');
    if formula {
        out.push('\'');
    }
    out.push_str(&value.replace('"', "\"\""));
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    fn field(value: &str) -> String {
        let mut out = String::new();
        csv_field(&mut out, value);
        out
    }

    #[test]
    fn plain_values_are_unquoted() {
        assert_eq!(field("wiki.read"), "wiki.read");
    }

    #[test]
    fn separators_and_quotes_are_quoted() {
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn formulas_are_defused() {
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("@SUM(A1)"), "\"'@SUM(A1)\"");
    }
}
