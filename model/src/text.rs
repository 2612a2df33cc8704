//! Text a person reads in the dashboard: names, reasons, descriptions, and
//! what tool servers report.
//!
//! Some characters change what a reader sees without being seen
//! themselves: bidirectional overrides and isolates (which can make
//! `…txt.exe` read as `…exe.txt`), zero-width characters (which make two
//! different names look identical), and control characters. Text a caller
//! chooses (names, reasons, descriptions) refuses them
//! ([`first_deceptive`]); text a tool server reports about a call keeps
//! them visible instead ([`reveal`]), because refusing it would drop the
//! event from the trail.

/// Whether `c` is invisible or changes how the text around it is shown.
pub fn is_deceptive(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // Bidirectional marks, embeddings, overrides and isolates.
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
            // Zero-width and invisible formatting characters.
            | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{180E}'
            // Line and paragraph separators (a line break in a one-line field).
            | '\u{2028}' | '\u{2029}'
            // Tag characters (invisible; used to smuggle text).
            | '\u{E0000}'..='\u{E007F}'
        )
}

/// The first deceptive character of `s`, named for an error message
/// (`U+202E`).
pub fn first_deceptive(s: &str) -> Option<String> {
    s.chars()
        .find(|c| is_deceptive(*c))
        .map(|c| format!("U+{:04X}", u32::from(c)))
}

/// `s` with every deceptive character written out as `<U+XXXX>`, so a
/// reader sees it instead of being misled by it.
pub fn reveal(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(is_deceptive) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_deceptive(c) {
            out.push_str(&format!("<U+{:04X}>", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_zero_width_and_controls_are_deceptive_letters_are_not() {
        for c in [
            '\u{202E}',
            '\u{2066}',
            '\u{200B}',
            '\u{FEFF}',
            '\u{7}',
            '\n',
            '\u{E0041}',
        ] {
            assert!(is_deceptive(c), "{:04X}", u32::from(c));
        }
        for c in ['a', 'é', 'Ж', '中', '😀', '<', ' '] {
            assert!(!is_deceptive(c), "{c}");
        }
    }

    #[test]
    fn reveal_writes_them_out_and_names_the_first() {
        assert_eq!(reveal("invoice\u{202E}txt.exe"), "invoice<U+202E>txt.exe");
        assert_eq!(reveal("plain"), "plain");
        assert_eq!(first_deceptive("a\u{200B}b").as_deref(), Some("U+200B"));
        assert_eq!(first_deceptive("ok"), None);
    }
}
