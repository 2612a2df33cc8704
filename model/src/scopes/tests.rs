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
    assert_eq!(order, ["read", "write", "admin", "introspect"]);
}

#[test]
fn levenshtein_basics() {
    assert_eq!(levenshtein("", "abc"), 3);
    assert_eq!(levenshtein("kitten", "sitting"), 3);
    assert_eq!(levenshtein("same", "same"), 0);
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
