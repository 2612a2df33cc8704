use super::rules::*;
use super::*;
use crate::error::AuthorityError;
use crate::ids::{KeyId, OrgId};
use crate::keys::{Env, KeyHash, KeyHint};
use crate::scopes::{Scope, ScopeCatalog, ScopeSet};
use crate::store::{KeyRecord, OrgRecord};
use crate::time::Timestamp;

const NOW: Timestamp = Timestamp::from_millis(1_700_000_000_000);

fn set(v: &[&str]) -> ScopeSet {
    v.iter().map(|s| Scope::parse(s).unwrap()).collect()
}

fn principal(scopes: &[&str], exp_days: Option<i64>) -> KeyContext {
    let scopes = set(scopes);
    KeyContext {
        key_id: KeyId::from_stored("key_p".into()),
        org: OrgId::parse("acme").unwrap(),
        name: "p".into(),
        env: Env::Live,
        agent: scopes.agent().map(str::to_owned),
        scopes,
        expires_at: exp_days.map(|d| NOW.plus_days(d)),
        created_by: None,
        person: None,
        resources: Vec::new(),
        oauth: None,
        networks: Default::default(),
        limits: Default::default(),
        metadata: None,
    }
}

fn org(allow_never: bool) -> OrgRecord {
    OrgRecord {
        id: OrgId::parse("acme").unwrap(),
        name: "Acme".into(),
        created_at: NOW,
        allow_never_expiry: allow_never,
    }
}

fn req(scopes: &[&str], exp: ExpiryChoice) -> MintRequest {
    MintRequest {
        org_id: Some("acme".into()),
        name: "devops-agent-key".into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        expires_days: exp,
        env: None,
        resources: Vec::new(),
        terms: Default::default(),
    }
}

fn mint(p: &KeyContext, r: &MintRequest) -> Result<rules::MintPlan, AuthorityError> {
    plan_mint(p, &org(true), r, &ScopeCatalog::builtin(), NOW)
}

fn record(scopes: &[&str], exp_days: Option<i64>) -> KeyRecord {
    let scopes = set(scopes);
    KeyRecord {
        id: KeyId::from_stored("key_old".into()),
        org: OrgId::parse("acme").unwrap(),
        name: "old".into(),
        env: Env::Live,
        agent: scopes.agent().map(str::to_owned),
        scopes,
        hash: KeyHash::from_bytes([0; 32]),
        hint: KeyHint::from_stored("h".into()),
        created_by: None,
        created_at: NOW.plus_days(-10),
        expires_at: exp_days.map(|d| NOW.plus_days(-10 + d)),
        revoked_at: None,
        revoked_by: None,
        revoke_reason: None,
        last_used_at: None,
        rotated_from: None,
        rotated_to: None,
        resources: Vec::new(),
        oauth: None,
        terms: Default::default(),
        parent: None,
        quarantine: None,
    }
}

#[test]
fn announcement_mint_works_for_an_admin() {
    let p = principal(&["admin:org", "org:acme"], None);
    let plan = mint(
        &p,
        &req(
            &["org:acme", "agent:devops", "svc:mcp:write"],
            ExpiryChoice::Days(90),
        ),
    )
    .unwrap();
    assert_eq!(
        plan.scopes.to_strings(),
        ["org:acme", "agent:devops", "svc:mcp:write"]
    );
    assert_eq!(plan.agent.as_deref(), Some("devops"));
    assert_eq!(plan.expires_at, Some(NOW.plus_days(90)));
    assert_eq!(plan.env, Env::Live);
}

#[test]
fn short_forms_are_canonicalised_and_default_expiry_is_90_days() {
    let p = principal(&["admin:org"], None);
    let plan = mint(&p, &req(&["read:wiki"], ExpiryChoice::Default)).unwrap();
    assert_eq!(plan.scopes.to_strings(), ["svc:wiki:read"]);
    assert_eq!(plan.expires_at, Some(NOW.plus_days(90)));
}

#[test]
fn other_org_is_refused() {
    let p = principal(&["admin:org"], None);
    let mut r = req(&["read:wiki"], ExpiryChoice::Default);
    r.org_id = Some("evil".into());
    assert!(matches!(
        mint(&p, &r),
        Err(AuthorityError::Forbidden { .. })
    ));
    let r = req(&["org:evil", "read:wiki"], ExpiryChoice::Default);
    assert!(matches!(
        mint(&p, &r),
        Err(AuthorityError::InvalidField {
            field: "scopes",
            ..
        })
    ));
}

#[test]
fn escalation_by_mint_is_refused() {
    let p = principal(&["svc:keys:write", "svc:wiki:read"], None);
    assert!(mint(&p, &req(&["svc:wiki:read"], ExpiryChoice::Default)).is_ok());
    for wanted in [
        "svc:wiki:write",
        "admin:org",
        "svc:keys:admin",
        "svc:keys:introspect",
        "agent:x",
    ] {
        match mint(&p, &req(&[wanted], ExpiryChoice::Default)) {
            Err(AuthorityError::Forbidden {
                missing: Some(m), ..
            }) => {
                assert_eq!(m, Scope::parse(wanted).unwrap())
            }
            other => panic!("{wanted}: {other:?}"),
        }
    }
}

#[test]
fn minting_needs_keys_write() {
    let p = principal(&["svc:wiki:admin"], None);
    match mint(&p, &req(&["svc:wiki:read"], ExpiryChoice::Default)) {
        Err(AuthorityError::Forbidden {
            missing: Some(m), ..
        }) => assert_eq!(m.to_string(), "svc:keys:write"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn agent_bound_minter_keeps_binding() {
    let p = principal(&["agent:a", "svc:keys:write", "svc:wiki:read"], None);
    assert!(mint(
        &p,
        &req(&["agent:a", "svc:wiki:read"], ExpiryChoice::Default)
    )
    .is_ok());
    assert!(mint(&p, &req(&["svc:wiki:read"], ExpiryChoice::Default)).is_err());
    assert!(mint(
        &p,
        &req(&["agent:b", "svc:wiki:read"], ExpiryChoice::Default)
    )
    .is_err());
    assert!(mint(&p, &req(&["agent:a", "agent:b"], ExpiryChoice::Default)).is_err());
}

#[test]
fn expiry_rules() {
    let admin = principal(&["admin:org"], None);
    assert!(mint(&admin, &req(&["read:wiki"], ExpiryChoice::Days(0))).is_err());
    assert!(mint(&admin, &req(&["read:wiki"], ExpiryChoice::Days(367))).is_err());
    assert!(mint(&admin, &req(&["read:wiki"], ExpiryChoice::Days(366))).is_ok());
    assert_eq!(
        mint(&admin, &req(&["read:wiki"], ExpiryChoice::Never))
            .unwrap()
            .expires_at,
        None
    );
    let r = req(&["read:wiki"], ExpiryChoice::Never);
    assert!(plan_mint(&admin, &org(false), &r, &ScopeCatalog::builtin(), NOW).is_err());

    let short = principal(&["admin:org"], Some(30));
    assert!(mint(&short, &req(&["read:wiki"], ExpiryChoice::Days(30))).is_ok());
    assert!(mint(&short, &req(&["read:wiki"], ExpiryChoice::Days(31))).is_err());
    assert!(mint(&short, &req(&["read:wiki"], ExpiryChoice::Default)).is_err());
    assert!(mint(&short, &req(&["read:wiki"], ExpiryChoice::Never)).is_err());
}

#[test]
fn unknown_scope_names_it_with_suggestions() {
    let p = principal(&["admin:org"], None);
    let e = mint(&p, &req(&["svc:mpc:write"], ExpiryChoice::Default)).unwrap_err();
    assert_eq!(e.code(), "unknown_scope");
    assert!(
        e.to_string().contains("svc:mpc:write") && e.to_string().contains("svc:mcp:write"),
        "{e}"
    );
}

#[test]
fn json_mint_request_matches_the_announcement() {
    let body = r#"{"orgId": "acme", "name": "devops-agent-key",
        "scopes": ["org:acme", "agent:devops", "svc:mcp:write"], "expires_days": 90}"#;
    let r: MintRequest = serde_json::from_str(body).unwrap();
    assert_eq!(r.expires_days, ExpiryChoice::Days(90));
    assert_eq!(r.org_id.as_deref(), Some("acme"));
    let r: MintRequest =
        serde_json::from_str(r#"{"name":"x","scopes":[],"expires_days":null}"#).unwrap();
    assert_eq!(r.expires_days, ExpiryChoice::Never);
    let r: MintRequest = serde_json::from_str(r#"{"name":"x","scopes":[]}"#).unwrap();
    assert_eq!(r.expires_days, ExpiryChoice::Default);
}

#[test]
fn rotation_keeps_lifetime_and_never_widens() {
    let p = principal(&["admin:org"], None);
    let old = record(&["svc:wiki:read"], Some(30));
    let (exp, revoke_at) = plan_rotation(&p, &org(true), &old, None, NOW).unwrap();
    assert_eq!(exp, Some(NOW.plus_days(30)));
    assert_eq!(revoke_at, NOW.plus_secs(3600));
    let (_, now_revoke) = plan_rotation(&p, &org(true), &old, Some(0), NOW).unwrap();
    assert_eq!(now_revoke, NOW);
    assert!(plan_rotation(&p, &org(true), &old, Some(MAX_GRACE_SECS + 1), NOW).is_err());

    // Capped at the principal's expiry.
    let short = principal(&["admin:org"], Some(5));
    assert_eq!(
        plan_rotation(&short, &org(true), &old, None, NOW)
            .unwrap()
            .0,
        Some(NOW.plus_days(5))
    );

    // A never-expiring key rotated by an expiring principal gains an expiry.
    let never = record(&["svc:wiki:read"], None);
    assert_eq!(
        plan_rotation(&short, &org(true), &never, None, NOW)
            .unwrap()
            .0,
        Some(NOW.plus_days(5))
    );
    assert_eq!(
        plan_rotation(&p, &org(true), &never, None, NOW).unwrap().0,
        None
    );
    assert!(plan_rotation(&p, &org(false), &never, None, NOW)
        .unwrap()
        .0
        .is_some());
}

#[test]
fn escalation_by_rotate_is_refused() {
    let p = principal(&["svc:keys:write", "svc:wiki:read"], None);
    let admin_key = record(&["admin:org"], Some(30));
    assert!(matches!(
        plan_rotation(&p, &org(true), &admin_key, None, NOW),
        Err(AuthorityError::Forbidden { .. })
    ));
}

#[test]
fn inactive_or_rotated_keys_cannot_rotate() {
    let p = principal(&["admin:org"], None);
    let mut k = record(&["svc:wiki:read"], Some(5));
    assert!(matches!(
        plan_rotation(&p, &org(true), &k, None, NOW),
        Err(AuthorityError::Conflict(_))
    ));
    k.expires_at = None;
    k.revoked_at = Some(NOW);
    assert!(matches!(
        plan_rotation(&p, &org(true), &k, None, NOW),
        Err(AuthorityError::Conflict(_))
    ));
    k.revoked_at = None;
    k.rotated_to = Some(KeyId::from_stored("key_x".into()));
    assert!(matches!(
        plan_rotation(&p, &org(true), &k, None, NOW),
        Err(AuthorityError::Conflict(_))
    ));
}

#[test]
fn names_and_reasons() {
    assert!(check_name("  ok  ").is_ok());
    assert!(check_name("").is_err());
    assert!(check_name("a\nb").is_err());
    assert!(check_name(&"x".repeat(101)).is_err());
    assert_eq!(check_reason(Some("  ".into())).unwrap(), None);
    assert!(check_reason(Some("x".repeat(501))).is_err());
}

#[test]
fn names_and_reasons_are_accepted_up_to_their_limits() {
    assert_eq!(check_name(&"x".repeat(100)).unwrap(), "x".repeat(100));
    assert_eq!(
        check_reason(Some("  key leaked in a log  ".into())).unwrap(),
        Some("key leaked in a log".to_owned())
    );
    assert_eq!(
        check_reason(Some("r".repeat(500))).unwrap(),
        Some("r".repeat(500))
    );
    assert!(check_reason(Some("r".repeat(501))).is_err());
    assert!(check_reason(Some("a\u{202e}b".into())).is_err());
    assert_eq!(check_reason(None).unwrap(), None);
}

#[test]
fn a_key_holds_one_to_32_scopes() {
    let mut catalog = ScopeCatalog::builtin();
    let actions: Vec<String> = (0..33).map(|i| format!("a{i}")).collect();
    for a in &actions {
        catalog.register("tickets", a, "test action").unwrap();
    }
    let p = principal(&["admin:org"], None);
    let scopes = |n: usize| -> Vec<String> {
        actions[..n]
            .iter()
            .map(|a| format!("svc:tickets:{a}"))
            .collect()
    };
    assert_eq!(parse_scopes(&p, &scopes(32), &catalog).unwrap().len(), 32);
    for n in [0, 33] {
        assert!(
            matches!(
                parse_scopes(&p, &scopes(n), &catalog),
                Err(AuthorityError::InvalidField {
                    field: "scopes",
                    ..
                })
            ),
            "{n} scopes must be refused"
        );
    }
}

#[test]
fn rotation_grace_period_is_at_most_30_days() {
    let p = principal(&["admin:org"], None);
    let old = record(&["svc:wiki:read"], Some(30));
    let (_, revoke_at) = plan_rotation(&p, &org(true), &old, Some(30 * 86_400), NOW).unwrap();
    assert_eq!(revoke_at, NOW.plus_days(30));
    assert!(matches!(
        plan_rotation(&p, &org(true), &old, Some(30 * 86_400 + 1), NOW),
        Err(AuthorityError::InvalidField {
            field: "grace_secs",
            ..
        })
    ));
}

#[test]
fn a_key_can_only_revoke_keys_whose_scopes_it_holds() {
    let writer = principal(&["svc:keys:write", "svc:wiki:write"], None);
    assert!(check_may_revoke(&writer, &set(&["svc:wiki:read"])).is_ok());
    match check_may_revoke(&writer, &set(&["admin:org"])) {
        Err(AuthorityError::Forbidden {
            missing: Some(m), ..
        }) => assert_eq!(m, Scope::AdminOrg),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        check_may_revoke(&writer, &set(&["svc:wiki:read", "svc:kb:read"])),
        Err(AuthorityError::Forbidden { .. })
    ));
}

#[test]
fn an_agent_bound_key_can_only_revoke_keys_of_its_agent() {
    let p = principal(&["agent:a", "svc:keys:write", "svc:wiki:read"], None);
    assert!(check_may_revoke(&p, &set(&["agent:a", "svc:wiki:read"])).is_ok());
    for target in [&["agent:b", "svc:wiki:read"][..], &["svc:wiki:read"][..]] {
        assert!(
            matches!(
                check_may_revoke(&p, &set(target)),
                Err(AuthorityError::Forbidden { .. })
            ),
            "{target:?}"
        );
    }
}

#[test]
fn a_test_key_reaches_only_test_keys_and_a_live_key_reaches_both() {
    let mut sandbox = principal(&["admin:org"], None);
    sandbox.env = Env::Test;
    let live = principal(&["admin:org"], None);
    let with_env = |env: Option<Env>| MintRequest {
        env,
        ..req(&["read:wiki"], ExpiryChoice::Default)
    };

    assert_eq!(mint(&sandbox, &with_env(None)).unwrap().env, Env::Test);
    assert_eq!(
        mint(&sandbox, &with_env(Some(Env::Test))).unwrap().env,
        Env::Test
    );
    assert!(matches!(
        mint(&sandbox, &with_env(Some(Env::Live))),
        Err(AuthorityError::Forbidden { .. })
    ));
    for env in [Env::Test, Env::Live] {
        assert_eq!(mint(&live, &with_env(Some(env))).unwrap().env, env);
    }

    let mut test_key = record(&["svc:wiki:read"], Some(30));
    test_key.env = Env::Test;
    let live_key = record(&["svc:wiki:read"], Some(30));
    assert!(plan_rotation(&sandbox, &org(true), &test_key, None, NOW).is_ok());
    assert!(matches!(
        plan_rotation(&sandbox, &org(true), &live_key, None, NOW),
        Err(AuthorityError::Forbidden { .. })
    ));
    assert!(plan_rotation(&live, &org(true), &test_key, None, NOW).is_ok());
    assert!(check_env_reach(&sandbox, Env::Test, "revoke").is_ok());
    assert!(check_env_reach(&sandbox, Env::Live, "revoke").is_err());
}

#[test]
fn keys_limited_to_tool_servers_mint_only_keys_limited_to_those() {
    use crate::keys::resource::ResourceId;
    let wiki = "https://wiki.example.com/mcp";
    let with = |resources: &[&str]| MintRequest {
        resources: resources.iter().map(|r| (*r).to_owned()).collect(),
        ..req(&["read:wiki"], ExpiryChoice::Default)
    };
    let admin = principal(&["admin:org"], None);
    let plan = mint(&admin, &with(&[wiki, wiki])).unwrap();
    assert_eq!(
        plan.resources,
        vec![ResourceId::parse(wiki).unwrap()],
        "duplicates dropped"
    );
    assert!(mint(&admin, &with(&["ftp://wiki.example.com/"])).is_err());
    let eleven: Vec<String> = (0..11)
        .map(|i| format!("https://t{i}.example.com/mcp"))
        .collect();
    let eleven: Vec<&str> = eleven.iter().map(String::as_str).collect();
    assert!(mint(&admin, &with(&eleven)).is_err());

    let mut limited = principal(&["admin:org"], None);
    limited.resources = vec![ResourceId::parse(wiki).unwrap()];
    assert!(mint(&limited, &with(&[wiki])).is_ok());
    for escalation in [
        &[][..],
        &["https://kb.example.com/mcp"][..],
        &[wiki, "https://kb.example.com/mcp"][..],
    ] {
        assert!(
            matches!(
                mint(&limited, &with(escalation)),
                Err(AuthorityError::Forbidden { .. })
            ),
            "{escalation:?}"
        );
    }
}

/// A key limited to networks mints only keys limited inside them: an
/// unlimited child would carry its access out of the network.
#[test]
fn a_network_limited_minter_cannot_widen_networks() {
    let mut p = principal(&["admin:org"], None);
    p.networks = crate::guardrails::AddressRanges::parse(["10.0.0.0/8"], 20).unwrap();
    let with = |nets: &[&str]| {
        let mut r = req(&["read:wiki"], ExpiryChoice::Default);
        r.terms.allowed_networks = nets.iter().map(|s| s.to_string()).collect();
        mint(&p, &r)
    };
    assert!(matches!(with(&[]), Err(AuthorityError::Forbidden { .. })));
    assert!(matches!(
        with(&["10.0.0.0/7"]),
        Err(AuthorityError::Forbidden { .. })
    ));
    assert!(matches!(
        with(&["10.1.0.0/16", "192.168.0.1"]),
        Err(AuthorityError::Forbidden { .. })
    ));
    let plan = with(&["10.1.0.0/16", "10.2.3.4"]).unwrap();
    assert_eq!(
        plan.terms.networks.to_strings(),
        ["10.1.0.0/16", "10.2.3.4/32"]
    );
    assert!(matches!(
        with(&["10.1.0.1/16"]),
        Err(AuthorityError::InvalidField {
            field: "allowed_networks",
            ..
        })
    ));
}

#[test]
fn not_before_must_precede_the_expiry_and_a_past_one_is_dropped() {
    let p = principal(&["admin:org"], None);
    let with = |nb: Timestamp, exp: ExpiryChoice| {
        let mut r = req(&["read:wiki"], exp);
        r.terms.not_before = Some(nb);
        mint(&p, &r)
    };
    assert_eq!(
        with(NOW.plus_days(1), ExpiryChoice::Days(2))
            .unwrap()
            .terms
            .not_before,
        Some(NOW.plus_days(1))
    );
    assert_eq!(
        with(NOW.plus_secs(-5), ExpiryChoice::Days(2))
            .unwrap()
            .terms
            .not_before,
        None
    );
    assert!(matches!(
        with(NOW.plus_days(2), ExpiryChoice::Days(2)),
        Err(AuthorityError::InvalidField {
            field: "not_before",
            ..
        })
    ));
}

#[test]
fn metadata_is_a_small_object_without_credentials() {
    let p = principal(&["admin:org"], None);
    let with = |m: serde_json::Value| {
        let mut r = req(&["read:wiki"], ExpiryChoice::Default);
        r.terms.metadata = Some(m);
        mint(&p, &r)
    };
    let plan = with(serde_json::json!({"team": "search"})).unwrap();
    assert_eq!(plan.terms.metadata.unwrap().as_map()["team"], "search");
    for bad in [
        serde_json::json!([1]),
        serde_json::json!({"x": "y".repeat(2000)}),
        serde_json::json!({"k": format!("ace_live_{}", "a".repeat(38))}),
    ] {
        assert!(matches!(
            with(bad),
            Err(AuthorityError::InvalidField {
                field: "metadata",
                ..
            })
        ),);
    }
}

/// A key minted by an agent's key derives from it; keys minted by admin
/// keys without an agent, or by people, do not.
#[test]
fn only_an_agent_key_becomes_a_parent() {
    let agent = principal(&["agent:ops", "svc:keys:write", "read:wiki"], None);
    assert_eq!(rules::parent_for(&agent), Some(agent.key_id.clone()));
    let admin = principal(&["admin:org"], None);
    assert_eq!(rules::parent_for(&admin), None);
}
