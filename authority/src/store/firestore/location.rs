//! Where a Firestore store lives (`firestore://PROJECT[/DATABASE]`), and
//! the emulator location the test suites use.

/// Where a Firestore store lives: `firestore://PROJECT[/DATABASE]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirestoreLocation {
    pub project: String,
    pub database: String,
}

impl FirestoreLocation {
    pub const DEFAULT_DATABASE: &'static str = "(default)";

    /// Parses `firestore://PROJECT[/DATABASE]`, with a message saying what
    /// is wrong otherwise.
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = url.strip_prefix("firestore://").ok_or_else(|| {
            format!("`{url}` is not a Firestore location: use firestore://PROJECT[/DATABASE]")
        })?;
        let (project, database) = match rest.split_once('/') {
            Some((p, d)) => (p, d),
            None => (rest, Self::DEFAULT_DATABASE),
        };
        let ok = |s: &str, extra: &str| {
            !s.is_empty()
                && s.len() <= 63
                && s.chars().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || extra.contains(c)
                })
        };
        if !ok(project, "") {
            return Err(format!(
                "Firestore project `{project}` is not a project id (lowercase letters, digits, hyphens): use firestore://PROJECT[/DATABASE]"
            ));
        }
        if database != Self::DEFAULT_DATABASE && !ok(database, "") {
            return Err(format!(
                "Firestore database `{database}` is not a database id (lowercase letters, digits, hyphens, or (default))"
            ));
        }
        Ok(Self {
            project: project.to_owned(),
            database: database.to_owned(),
        })
    }
}

impl std::fmt::Display for FirestoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "firestore://{}/{}", self.project, self.database)
    }
}

/// For tests: a fresh, isolated location (its own project) on the
/// emulator at `FIRESTORE_EMULATOR_HOST`, or why there is none.
#[doc(hidden)]
pub fn emulator_test_location() -> Result<FirestoreLocation, String> {
    match std::env::var("FIRESTORE_EMULATOR_HOST") {
        Ok(host) if !host.is_empty() => {
            let suffix = crate::keys::base62::random_string(12).to_ascii_lowercase();
            Ok(FirestoreLocation {
                project: format!("acekeys-test-{suffix}"),
                database: FirestoreLocation::DEFAULT_DATABASE.to_owned(),
            })
        }
        _ => Err("FIRESTORE_EMULATOR_HOST is not set, so the Firestore tests cannot run. \
             Run them through scripts/test, which starts Google's Firestore emulator \
             (/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar, \
             Java 17) and exports FIRESTORE_EMULATOR_HOST, or start it yourself (see README)."
            .to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::FirestoreLocation;

    #[test]
    fn locations_parse_with_a_default_database_and_reject_junk() {
        let l = FirestoreLocation::parse("firestore://acme-prod").unwrap();
        assert_eq!(
            (l.project.as_str(), l.database.as_str()),
            ("acme-prod", "(default)")
        );
        let l = FirestoreLocation::parse("firestore://acme-prod/keys-db").unwrap();
        assert_eq!(l.database, "keys-db");
        for bad in [
            "acme",
            "firestore://",
            "firestore://Acme",
            "firestore://a/b/c",
            "firestore://a/",
        ] {
            let err = FirestoreLocation::parse(bad).unwrap_err();
            assert!(
                err.contains("firestore://PROJECT") || err.contains("database id"),
                "{bad}: {err}"
            );
        }
    }
}
