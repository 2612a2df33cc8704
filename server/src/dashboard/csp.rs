//! The dashboard's Content-Security-Policy. Scripts run only from our own
//! origin or with this response's nonce (Leptos puts it on its hydration
//! scripts); WebAssembly needs `'wasm-unsafe-eval'`; no inline styles, no
//! framing, no plugins, forms and fetches only to ourselves.

/// The header value for one response.
pub fn policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

#[cfg(test)]
mod tests {
    use super::policy;

    #[test]
    fn the_nonce_is_in_script_src_and_framing_is_refused() {
        let p = policy("abc123");
        let script = p
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap();
        assert!(script.contains("'nonce-abc123'"));
        assert!(!script.contains("unsafe-inline"));
        assert!(p.contains("frame-ancestors 'none'"));
        assert!(p.contains("object-src 'none'"));
    }
}
