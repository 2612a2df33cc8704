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

/// The secret prefixes of acekeys credentials (keys, access and refresh
/// tokens), as a person might paste one into the wrong field.
const CREDENTIAL_MARKS: [&str; 4] = ["ace_live_", "ace_test_", "ace_at_", "ace_rt_"];

/// Whether `text` holds what looks like an acekeys credential.
pub fn holds_credential(text: &str) -> bool {
    CREDENTIAL_MARKS.iter().any(|mark| text.contains(mark))
}

/// Input to quote back in an error message: at most `max` characters, with
/// deceptive characters written out, and never a pasted credential (a raw
/// key typed into a scope or URL field must not travel back in an error,
/// a log line or the trail).
pub fn quote_input(text: &str, max: usize) -> String {
    if holds_credential(text) {
        return "<what looks like an acekeys credential; not shown>".to_owned();
    }
    reveal(&text.chars().take(max).collect::<String>()).into_owned()
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
    fn quoted_input_is_short_visible_and_never_a_credential() {
        assert_eq!(quote_input("https://wiki.example.com", 10), "https://wi");
        assert_eq!(quote_input("a\u{202E}b", 10), "a<U+202E>b");
        for pasted in [
            "ace_live_abc",
            "x ace_test_abc",
            "ace_at_live_abc",
            "ace_rt_test_abc",
        ] {
            assert!(quote_input(pasted, 80).contains("not shown"), "{pasted}");
        }
    }

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
