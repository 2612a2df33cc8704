//! The server's few hand-written HTML pages (the API reference, the
//! consent answer) put text into markup through [`escape`].

/// `text` safe inside an HTML element or a double-quoted attribute.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
