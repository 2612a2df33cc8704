//! Text formatting for the browser and the server alike (no clock, no locale).

/// `2026-05-01T12:34:56.789Z` → `2026-05-01 12:34:56 UTC`: an incident is
/// ordered in seconds. Anything else unchanged.
pub fn time_with_seconds(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..19)) {
        (Some(date), Some(time)) if rfc3339.ends_with('Z') => format!("{date} {time} UTC"),
        _ => rfc3339.to_owned(),
    }
}

/// `2026-05-01T12:34:56.789Z` → `2026-05-01 12:34 UTC`; anything else unchanged.
pub fn short_time(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(date), Some(time)) if rfc3339.ends_with('Z') => format!("{date} {time} UTC"),
        _ => rfc3339.to_owned(),
    }
}

/// The URL query string of the explorer's filters (without `?`), percent-encoded.
pub fn filters_query(filters: &::model::wire::AuditFilterParams) -> String {
    filters
        .pairs()
        .into_iter()
        .map(|(k, v)| format!("{k}={}", encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes a URL query component (RFC 3986 unreserved kept).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shortened() {
        assert_eq!(
            short_time("2026-05-01T12:34:56.789Z"),
            "2026-05-01 12:34 UTC"
        );
        assert_eq!(short_time("soon"), "soon");
        assert_eq!(
            time_with_seconds("2026-05-01T12:34:56.789Z"),
            "2026-05-01 12:34:56 UTC"
        );
        assert_eq!(time_with_seconds("soon"), "soon");
    }

    #[test]
    fn components_are_encoded() {
        assert_eq!(encode_component("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(encode_component("evt_AZ-9.~"), "evt_AZ-9.~");
    }
}
