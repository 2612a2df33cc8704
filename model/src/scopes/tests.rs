use proptest::prelude::*;

use super::catalog::levenshtein;
use super::*;

fn s(x: &str) -> Scope {
    Scope::parse(x).unwrap()
}

#[test]
fn forms_and_canonical() {
    assert_eq!(s("read:wiki"), s("svc:wiki:read"));
    assert_eq!(s("read:wiki").to_string(), "svc:wiki:read");
    assert_eq!(s("admin:org"), Scope::AdminOrg);
    assert_eq!(s("org:acme"), Scope::Org("acme".into()));
    assert_eq!(s("agent:devops"), Scope::Agent("devops".into()));
    assert_eq!(s("admin:wiki").to_string(), "svc:wiki:admin");
    for bad in [
        "",
        "read",
        "Read:wiki",
        "svc:wiki",
        "svc:wiki:read:x",
        "a::b",
        "a:b c",
        "svc:a:b:",
        ":x",
        "svc:x",
    ] {
        assert!(Scope::parse(bad).is_err(), "{bad:?} should be refused");
    }
    assert_eq!(Scope::parse(&"a".repeat(200)), Err(ScopeError::TooLong));
}

#[test]
fn action_order() {
    let org = "acme";
    assert!(s("svc:wiki:admin").implies(org, &s("svc:wiki:write")));
    assert!(s("svc:wiki:admin").implies(org, &s("svc:wiki:read")));
    assert!(s("svc:wiki:write").implies(org, &s("svc:wiki:read")));
    assert!(!s("svc:wiki:read").implies(org, &s("svc:wiki:write")));
    assert!(!s("svc:wiki:write").implies(org, &s("svc:wiki:admin")));
    assert!(!s("svc:wiki:admin").implies(org, &s("svc:kb:read")));
}

#[test]
fn introspect_is_implied_by_keys_admin_only() {
    let org = "acme";
    let i = s("svc:keys:introspect");
    assert!(s("svc:keys:admin").implies(org, &i));
    assert!(!s("svc:keys:write").implies(org, &i));
    assert!(!s("svc:keys:read").implies(org, &i));
    assert!(!i.implies(org, &s("svc:keys:read")));
    assert!(s("admin:org").implies(org, &i));
}

#[test]
fn admin_org_is_confined_to_its_org() {
    let a = Scope::AdminOrg;
    assert!(a.implies("acme", &s("org:acme")));
    assert!(!a.implies("acme", &s("org:evil")));
    assert!(a.implies("acme", &s("svc:anything:admin")));
    assert!(a.implies("acme", &s("agent:x")));
    assert!(!s("org:acme").implies("acme", &a));
    assert!(!s("svc:keys:admin").implies("acme", &a));
}

#[test]
fn catalog_known_and_suggestions() {
    let c = ScopeCatalog::builtin();
    assert_eq!(c.check("read:wiki").unwrap(), s("svc:wiki:read"));
    assert!(c.check("org:acme").is_ok());
    assert!(c.check("svc:keys:introspect").is_ok());
    match c.check("svc:wikki:read") {
        Err(ScopeError::Unknown { scope, suggestions }) => {
            assert_eq!(scope, "svc:wikki:read");
            assert_eq!(
                suggestions.first().map(String::as_str),
                Some("svc:wiki:read")
            );
        }
        other => panic!("{other:?}"),
    }
    match c.check("raed:mcp") {
        Err(e @ ScopeError::Unknown { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("svc:mcp:raed"), "{msg}");
            assert!(msg.contains("svc:mcp:read"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
    match c.check("svc:zzzzzzzz:qqqq") {
        Err(ScopeError::Unknown { suggestions, .. }) => assert!(suggestions.is_empty()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn catalog_is_extensible() {
    let mut c = ScopeCatalog::builtin();
    assert!(c.check("svc:tickets:close").is_err());
    c.register("tickets", "close", "Close tickets").unwrap();
    assert!(c.check("svc:tickets:close").is_ok());
    assert!(c.register("Tickets", "x", "").is_err());
    let svc = c
        .services()
        .into_iter()
        .find(|s| s.service == "keys")
        .unwrap();
    let order: Vec<_> = svc.actions.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        order,
        ["read", "write", "admin", "introspect", "quarantine"]
    );
}

#[test]
fn levenshtein_basics() {
    assert_eq!(levenshtein("", "abc"), 3);
    assert_eq!(levenshtein("kitten", "sitting"), 3);
    assert_eq!(levenshtein("same", "same"), 0);
}

#[test]
fn levenshtein_counts_each_deletion_insertion_and_substitution() {
    assert_eq!(levenshtein("kitten", "kit"), 3);
    assert_eq!(levenshtein("kit", "kitten"), 3);
    assert_eq!(levenshtein("abc", ""), 3);
    assert_eq!(levenshtein("abc", "abd"), 1);
    assert_eq!(levenshtein("abc", "xyz"), 3);
}

fn seg() -> impl Strategy<Value = String> {
    "[a-z0-9_-]{1,8}"
}

fn scope_strategy() -> impl Strategy<Value = Scope> {
    let svc_names = prop::sample::select(vec!["wiki", "kb", "mcp", "keys"]);
    let actions = prop::sample::select(vec!["read", "write", "admin", "introspect", "publish"]);
    prop_oneof![
        3 => (svc_names, actions).prop_map(|(s, a)| Scope::service(s, a)),
        1 => (seg(), seg()).prop_map(|(s, a)| Scope::service(&s, &a)),
        1 => prop::sample::select(vec!["acme", "other"]).prop_map(|o| Scope::Org(o.to_owned())),
        1 => seg().prop_map(Scope::Agent),
        1 => Just(Scope::AdminOrg),
    ]
}

proptest! {
    #[test]
    fn print_parse_round_trip(sc in scope_strategy()) {
        let printed = sc.to_string();
        prop_assert_eq!(Scope::parse(&printed).unwrap(), sc);
    }

    #[test]
    fn short_form_equals_long_form(svc in seg(), act in seg()) {
        prop_assume!(!["svc", "org", "agent", "admin"].contains(&act.as_str()));
        let short = Scope::parse(&format!("{act}:{svc}")).unwrap();
        let long = Scope::parse(&format!("svc:{svc}:{act}")).unwrap();
        prop_assert_eq!(short.to_string(), long.to_string());
    }

    #[test]
    fn parse_never_panics(x in "\\PC{0,60}") {
        if let Ok(sc) = Scope::parse(&x) {
            // Whatever parses prints to something that parses the same.
            prop_assert_eq!(Scope::parse(&sc.to_string()).unwrap(), sc);
        }
    }

    #[test]
    fn implication_is_reflexive(sc in scope_strategy()) {
        prop_assert!(sc.implies("acme", &sc));
    }

    #[test]
    fn implication_is_transitive(a in scope_strategy(), b in scope_strategy(), c in scope_strategy()) {
        if a.implies("acme", &b) && b.implies("acme", &c) {
            prop_assert!(a.implies("acme", &c));
        }
    }

    #[test]
    fn admin_org_never_reaches_another_org(o in seg()) {
        prop_assume!(o != "acme");
        prop_assert!(!Scope::AdminOrg.implies("acme", &Scope::Org(o.clone())));
        // Nor does anything else a key of acme can hold.
        prop_assert!(!Scope::service("keys", "admin").implies("acme", &Scope::Org(o)));
    }

    #[test]
    fn only_admin_org_implies_admin_org(a in scope_strategy()) {
        prop_assert_eq!(a.implies("acme", &Scope::AdminOrg), a == Scope::AdminOrg);
    }

    #[test]
    fn storage_round_trip(v in prop::collection::vec(scope_strategy(), 0..6)) {
        let set: ScopeSet = v.into_iter().collect();
        prop_assert_eq!(ScopeSet::from_storage(&set.to_storage()), set);
    }
}

#[test]
fn a_scope_is_at_most_128_bytes() {
    let fits = format!("svc:{}:read", "a".repeat(128 - "svc::read".len()));
    assert_eq!(fits.len(), 128);
    assert!(Scope::parse(&fits).is_ok());
    let over = format!("svc:{}:read", "a".repeat(129 - "svc::read".len()));
    assert_eq!(Scope::parse(&over), Err(ScopeError::TooLong));
}

#[test]
fn scopes_print_and_serialize_in_canonical_form() {
    assert_eq!(format!("{:?}", s("read:wiki")), "Scope(svc:wiki:read)");
    assert_eq!(
        serde_json::to_string(&s("read:wiki")).unwrap(),
        r#""svc:wiki:read""#
    );
    let parsed: Scope = serde_json::from_str(r#""read:wiki""#).unwrap();
    assert_eq!(parsed, s("svc:wiki:read"));
    assert!(serde_json::from_str::<Scope>(r#""Read:Wiki""#).is_err());
    assert_eq!(
        "agent:x".parse::<Scope>().unwrap(),
        Scope::Agent("x".into())
    );
}

#[test]
fn a_set_is_canonically_ordered_without_duplicates() {
    let set: ScopeSet = [
        "svc:wiki:read",
        "read:wiki",
        "agent:a",
        "org:acme",
        "admin:org",
    ]
    .into_iter()
    .map(s)
    .collect();
    let canonical = ["admin:org", "org:acme", "agent:a", "svc:wiki:read"];
    assert_eq!(set.to_strings(), canonical);
    assert_eq!(
        set.iter().map(ToString::to_string).collect::<Vec<_>>(),
        canonical
    );
    assert_eq!((set.len(), set.is_empty()), (4, false));
    assert_eq!(
        format!("{set:?}"),
        r#"{"admin:org", "org:acme", "agent:a", "svc:wiki:read"}"#
    );
    assert_eq!(set.to_storage(), "admin:org org:acme agent:a svc:wiki:read");
    let empty = ScopeSet::default();
    assert_eq!((empty.len(), empty.is_empty()), (0, true));
    assert_eq!(empty.to_storage(), "");
}

#[test]
fn contains_is_membership_and_allows_is_implication() {
    let set: ScopeSet = ["svc:wiki:write", "agent:a"].into_iter().map(s).collect();
    assert!(set.contains(&s("write:wiki")));
    assert!(!set.contains(&s("svc:wiki:read")));
    assert!(set.allows("acme", &s("svc:wiki:read")));
    assert!(!set.allows("acme", &s("svc:wiki:admin")));
    assert!(!ScopeSet::default().allows("acme", &s("svc:wiki:read")));
}

#[test]
fn missing_lists_exactly_the_scopes_not_granted() {
    let held: ScopeSet = ["svc:wiki:write", "svc:kb:admin"]
        .into_iter()
        .map(s)
        .collect();
    let wanted: ScopeSet = [
        "svc:wiki:read",
        "svc:wiki:admin",
        "svc:kb:publish",
        "svc:mcp:read",
    ]
    .into_iter()
    .map(s)
    .collect();
    let missing: Vec<String> = held
        .missing("acme", &wanted)
        .into_iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(missing, ["svc:mcp:read", "svc:wiki:admin"]);
    let subset: ScopeSet = ["svc:wiki:read", "svc:kb:write"]
        .into_iter()
        .map(s)
        .collect();
    assert!(held.missing("acme", &subset).is_empty());
}

#[test]
fn the_agent_binding_is_the_agent_scope() {
    let bound: ScopeSet = ["svc:wiki:read", "agent:devops"]
        .into_iter()
        .map(s)
        .collect();
    assert_eq!(bound.agent(), Some("devops"));
    let unbound: ScopeSet = ["svc:wiki:read", "org:acme"].into_iter().map(s).collect();
    assert_eq!(unbound.agent(), None);
}

#[test]
fn unparsable_stored_scopes_are_dropped() {
    let set = ScopeSet::from_storage("svc:wiki:read  BAD svc:x admin:org");
    assert_eq!(set.to_strings(), ["admin:org", "svc:wiki:read"]);
}

#[test]
fn unknown_scope_without_close_match_suggests_nothing() {
    let e = ScopeCatalog::builtin()
        .check("svc:zzzzzzzz:qqqq")
        .unwrap_err();
    assert_eq!(e.to_string(), "unknown scope `svc:zzzzzzzz:qqqq`");
}

#[test]
fn a_typo_of_admin_org_suggests_admin_org() {
    // `admin:orgs` is the short form of `svc:orgs:admin`; the input as typed
    // is one edit from `admin:org`, its canonical form is not.
    match ScopeCatalog::builtin().check("admin:orgs") {
        Err(ScopeError::Unknown { scope, suggestions }) => {
            assert_eq!(scope, "svc:orgs:admin");
            // Closest first: one edit from what was typed.
            assert_eq!(suggestions.first().map(String::as_str), Some("admin:org"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn registering_checks_names_and_sets_descriptions() {
    let mut c = ScopeCatalog::empty();
    assert_eq!(c.tool_scope_count(), 0);
    assert!(c.register_service("Tickets", "x").is_err());
    assert!(c.register("tickets", "Close", "x").is_err());
    assert!(c.register("tickets", "close", "Close tickets").is_ok());
    assert!(c.register_service("tickets", "The ticket tracker").is_ok());
    assert!(c.register("tickets", "open", "Open tickets").is_ok());
    // Registering again is idempotent; the later description wins.
    assert!(c
        .register("tickets", "close", "Close or archive tickets")
        .is_ok());
    assert_eq!(c.tool_scope_count(), 2);
    let services = c.services();
    assert_eq!(services.len(), 1);
    assert_eq!(services[0].description, "The ticket tracker");
    let actions: Vec<(&str, &str)> = services[0]
        .actions
        .iter()
        .map(|a| (a.scope.as_str(), a.description.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("svc:tickets:close", "Close or archive tickets"),
            ("svc:tickets:open", "Open tickets")
        ]
    );
}

#[test]
fn the_builtin_catalog_describes_every_service() {
    let c = ScopeCatalog::builtin();
    let services = c.services();
    assert!(services.iter().all(|s| !s.description.is_empty()));
    let scopes: usize = services.iter().map(|s| s.actions.len()).sum();
    assert_eq!(c.tool_scope_count(), scopes);
    assert!(scopes >= 16, "{scopes}");
}

#[test]
fn register_if_new_never_changes_an_existing_scope() {
    let mut c = ScopeCatalog::builtin();
    let before = c.tool_scope_count();
    assert_eq!(
        c.register_if_new("wiki", "read", "Delete the wiki"),
        Ok(false)
    );
    let wiki = c
        .services()
        .into_iter()
        .find(|s| s.service == "wiki")
        .unwrap();
    assert_eq!(wiki.actions[0].description, "Read wiki pages");
    assert_eq!(
        c.register_if_new("tickets", "close", "Close tickets"),
        Ok(true)
    );
    assert_eq!(c.register_if_new("tickets", "close", "Other"), Ok(false));
    assert_eq!(c.tool_scope_count(), before + 1);
    assert!(c.check("svc:tickets:close").is_ok());
    let tickets = c
        .services()
        .into_iter()
        .find(|s| s.service == "tickets")
        .unwrap();
    assert_eq!(tickets.description, "Registered by a tool server");
    assert_eq!(tickets.actions[0].description, "Close tickets");
    for (svc, act) in [("Tickets", "close"), ("tickets", "Close"), ("", "x")] {
        assert!(c.register_if_new(svc, act, "x").is_err(), "{svc}:{act}");
    }
    assert_eq!(c.tool_scope_count(), before + 1);
}

#[cfg(feature = "openapi")]
#[test]
fn the_openapi_schema_of_a_set_is_an_array_of_unique_scopes() {
    use utoipa::PartialSchema;
    let schema = serde_json::to_value(ScopeSet::schema()).unwrap();
    assert_eq!(schema["type"], "array", "{schema}");
    assert_eq!(schema["uniqueItems"], true, "{schema}");
    assert_eq!(
        schema["items"],
        serde_json::to_value(Scope::schema()).unwrap(),
        "{schema}"
    );
    assert_eq!(schema["items"]["type"], "string", "{schema}");
}
