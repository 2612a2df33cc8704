//! OAuth 2.1 against the real binary: discovery, dynamic registration, the
//! consent page's server functions (as a signed-in admin), code exchange
//! with PKCE, refresh rotation, revocation, and every way to get it wrong.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::guarantees::sign_in;
use crate::harness::{spawn_app, TestApp};

const RESOURCE: &str = "https://wiki.example.com/mcp";
const REDIRECT: &str = "http://127.0.0.1/callback";

/// A signed-in admin and a registered public client.
pub(crate) struct Flow {
    pub(crate) app: TestApp,
    pub(crate) cookie: String,
    pub(crate) client_id: String,
}

/// A fresh PKCE pair: a 64-character verifier (hex of a unique seed's
/// digest) and its S256 challenge.
pub(crate) fn pkce() -> (String, String) {
    static SEED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = SEED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let seed = format!("{n} {:?}", std::time::SystemTime::now());
    let verifier: String = Sha256::digest(seed.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

impl Flow {
    async fn start() -> Self {
        Self::start_on(spawn_app().await).await
    }

    /// A flow on a server the caller started (with its own settings).
    pub(crate) async fn start_on(app: TestApp) -> Self {
        let cookie = sign_in(&app, &app.admin).await;
        let client_id = register(
            &app,
            json!({
                "redirect_uris": [REDIRECT],
                "client_name": "Test assistant",
                "token_endpoint_auth_method": "none",
                "application_type": "native",
            }),
        )
        .await["client_id"]
            .as_str()
            .unwrap()
            .to_owned();
        Self {
            app,
            cookie,
            client_id,
        }
    }

    pub(crate) fn params(&self, challenge: &str) -> Value {
        json!({
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": "http://127.0.0.1:54321/callback",
            "scope": "svc:wiki:read svc:wiki:write",
            "state": "st-123",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "resource": RESOURCE,
        })
    }

    /// A dashboard server function, as the consent page calls it.
    pub(crate) async fn server_fn(&self, name: &str, body: Value) -> (u16, Value) {
        let response = self
            .app
            .client
            .post(self.app.url(&format!("/api/{name}")))
            .header("origin", &self.app.base)
            .header("cookie", &self.cookie)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub(crate) async fn consent(&self, params: Value) -> Value {
        let (status, step) = self
            .server_fn("oauth_consent", json!({ "params": params }))
            .await;
        assert_eq!(status, 200, "{step}");
        step
    }

    /// The consent page's form post; answers like the page would show it:
    /// `{"Return": url}` for the page that sends the browser on to the app,
    /// `{"Refused": text}` for a page to the person.
    pub(crate) async fn decide(&self, params: Value, approve: bool, scopes: &[&str]) -> Value {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(
                params
                    .as_object()
                    .unwrap()
                    .iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned()))),
            )
            .finish();
        let mut form = vec![
            ("request".to_owned(), format!("?{query}")),
            ("agent".to_owned(), "assistant".to_owned()),
            ("expires_days".to_owned(), "7".to_owned()),
            (
                "decision".to_owned(),
                if approve { "approve" } else { "deny" }.to_owned(),
            ),
        ];
        form.extend(scopes.iter().map(|s| ("scope".to_owned(), (*s).to_owned())));
        let response = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .post(self.app.url("/oauth/consent"))
            .header("origin", &self.app.base)
            .header("cookie", &self.cookie)
            .form(&form)
            .send()
            .await
            .unwrap();
        match response.status().as_u16() {
            200 => {
                let page = response.text().await.unwrap();
                let href = page
                    .split(r#"id="return-to-app" href=""#)
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .expect("the way back to the app")
                    .replace("&amp;", "&");
                json!({ "Return": href })
            }
            status => {
                assert!((400..500).contains(&status), "{status}");
                json!({ "Refused": response.text().await.unwrap() })
            }
        }
    }

    /// Approves and returns the code from the redirect.
    pub(crate) async fn code(&self, challenge: &str) -> String {
        let step = self
            .decide(self.params(challenge), true, &["svc:wiki:read"])
            .await;
        let url = reqwest::Url::parse(step["Return"].as_str().expect("a redirect")).unwrap();
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["state"], "st-123");
        assert_eq!(q["iss"], self.app.base, "RFC 9207 iss");
        assert_eq!(url.port(), Some(54321), "the port the client asked for");
        q["code"].clone()
    }

    pub(crate) async fn token(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let response = self
            .app
            .client
            .post(self.app.url("/oauth/token"))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert_eq!(
            response
                .headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap()),
            Some("no-store")
        );
        (status, response.json().await.unwrap())
    }

    pub(crate) async fn exchange(&self, code: &str, verifier: &str) -> (u16, Value) {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", "http://127.0.0.1:54321/callback"),
            ("code_verifier", verifier),
            ("client_id", &self.client_id),
            ("resource", RESOURCE),
        ])
        .await
    }

    /// Consent, then the code exchanged: the token answer.
    pub(crate) async fn granted(&self) -> Value {
        let (verifier, challenge) = pkce();
        let code = self.code(&challenge).await;
        let (status, tokens) = self.exchange(&code, &verifier).await;
        assert_eq!(status, 200, "{tokens}");
        tokens
    }

    pub(crate) async fn refresh(&self, refresh_token: &str) -> (u16, Value) {
        self.token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", &self.client_id),
        ])
        .await
    }

    /// Whether the authority calls the token active (asked by a tool
    /// server's introspection key).
    pub(crate) async fn active(&self, token: &str) -> Value {
        let (introspector, _) = self
            .app
            .mint("introspector", &["svc:keys:introspect"])
            .await;
        let response = self
            .app
            .post(
                &introspector,
                "/api/v1/introspect",
                json!({ "token": token }),
            )
            .await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }
}

/// The authorization server's RFC 8414 metadata.
pub(crate) async fn metadata(app: &TestApp) -> Value {
    let response = app
        .client
        .get(app.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn register(app: &TestApp, body: Value) -> Value {
    let response = app
        .client
        .post(app.url("/oauth/register"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
    response.json().await.unwrap()
}

/// RFC 8414 §2's required fields, and what MCP clients look for.
#[tokio::test]
async fn the_metadata_names_every_endpoint_and_s256_only() {
    let app = spawn_app().await;
    let meta = metadata(&app).await;
    assert_eq!(meta["issuer"], app.base);
    for field in [
        "authorization_endpoint",
        "token_endpoint",
        "registration_endpoint",
        "revocation_endpoint",
    ] {
        assert!(
            meta[field].as_str().unwrap().starts_with(&app.base),
            "{field}: {meta}"
        );
    }
    assert_eq!(meta["response_types_supported"], json!(["code"]));
    assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(meta["authorization_response_iss_parameter_supported"], true);
    let scopes = meta["scopes_supported"].as_array().unwrap();
    assert!(scopes.contains(&json!("svc:wiki:read")), "{scopes:?}");
    assert!(
        !scopes
            .iter()
            .any(|s| s.as_str().unwrap().starts_with("svc:keys:")),
        "the authority's own scopes are not offered: {scopes:?}"
    );
}

/// The whole flow: consent, code, tokens; the access token is an authority
/// credential bound to its resource; refresh rotates; reuse of a spent
/// refresh token revokes the grant (and its live access token).
#[tokio::test]
async fn code_exchange_refresh_rotation_and_reuse_detection() {
    let flow = Flow::start().await;
    let (verifier, challenge) = pkce();
    let ask = flow.consent(flow.params(&challenge)).await;
    let view = &ask["Ask"];
    assert_eq!(view["client_name"], "Test assistant");
    assert_eq!(
        view["verified_domain"],
        Value::Null,
        "a registered client is unverified"
    );
    assert_eq!(view["redirect_host"], "127.0.0.1");
    assert_eq!(view["resource"], RESOURCE);
    assert_eq!(view["scopes"].as_array().unwrap().len(), 2);

    let code = flow.code(&challenge).await;
    let (status, tokens) = flow.exchange(&code, &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert!(access.starts_with("ace_at_live_"), "{access}");
    assert!(refresh.starts_with("ace_rt_live_"));
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert_eq!(
        tokens["scope"], "agent:assistant svc:wiki:read",
        "narrowed to what was approved"
    );

    let info = flow.active(&access).await;
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["aud"], json!([RESOURCE]));
    assert_eq!(info["client_id"], flow.client_id);
    assert_eq!(info["agent"], "assistant");

    // The authority's own API is not the token's resource.
    assert_eq!(flow.app.get(&access, "/api/v1/keys").await.status(), 401);
    // Tokens are listed by their grant (Apps), not among the keys; each is
    // still reachable by its id, where the trail links to it.
    let listed: Value = flow
        .app
        .get(&flow.app.admin, "/api/v1/keys")
        .await
        .json()
        .await
        .unwrap();
    let token_id = info["key_id"].as_str().unwrap();
    assert!(
        !listed["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["id"] == token_id),
        "{listed}"
    );
    let page = flow
        .app
        .get(&flow.app.admin, &format!("/api/v1/keys/{token_id}"))
        .await;
    assert_eq!(page.status(), 200);
    let view: Value = page.json().await.unwrap();
    assert_eq!(view["resources"], json!([RESOURCE]));
    assert!(view["grant"].as_str().unwrap().starts_with("grant_"));
    // A refresh token is no bearer credential anywhere.
    assert_eq!(flow.active(&refresh).await["active"], false);

    let (status, second) = flow.refresh(&refresh).await;
    assert_eq!(status, 200, "{second}");
    let refresh2 = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(refresh2, refresh, "rotated");
    let access2 = second["access_token"].as_str().unwrap().to_owned();
    assert_eq!(flow.active(&access2).await["active"], true);

    // The spent refresh token again: the grant dies, with both tokens.
    let (status, err) = flow.refresh(&refresh).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant")),
        "{err}"
    );
    assert_eq!(flow.active(&access2).await["active"], false);
    assert_eq!(flow.active(&access).await["active"], false);
    let (status, _) = flow.refresh(&refresh2).await;
    assert_eq!(status, 400, "the current refresh token died with the grant");
}

/// A code works once; presenting it again revokes what it started.
#[tokio::test]
async fn a_replayed_code_is_refused_and_revokes_its_grant() {
    let flow = Flow::start().await;
    let (verifier, challenge) = pkce();
    let code = flow.code(&challenge).await;
    let (status, tokens) = flow.exchange(&code, &verifier).await;
    assert_eq!(status, 200);
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(flow.active(access).await["active"], true);
    let (status, err) = flow.exchange(&code, &verifier).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(
        flow.active(access).await["active"],
        false,
        "the first exchange's token died"
    );
    let (status, _) = flow
        .refresh(tokens["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(status, 400);
}

/// Every PKCE and binding mistake at the token endpoint is `invalid_grant`
/// (or `invalid_target` for the resource) and burns the code.
#[tokio::test]
async fn the_token_endpoint_refuses_what_does_not_match_the_request() {
    let flow = Flow::start().await;
    let redirect = "http://127.0.0.1:54321/callback";
    let cases: [(&str, Box<FormOf>, &str); 5] = [
        (
            "wrong verifier",
            Box::new(|code, _| form(code, &"w".repeat(50), redirect, RESOURCE)),
            "invalid_grant",
        ),
        (
            "no verifier",
            Box::new(|code, _| {
                let mut f = form(code, "", redirect, RESOURCE);
                f.retain(|(k, _)| k != "code_verifier");
                f
            }),
            "invalid_grant",
        ),
        (
            "other redirect_uri",
            Box::new(|code, v| form(code, v, "http://127.0.0.1:54321/other", RESOURCE)),
            "invalid_grant",
        ),
        (
            "other resource",
            Box::new(|code, v| form(code, v, redirect, "https://other.example.com/mcp")),
            "invalid_target",
        ),
        (
            "unknown code",
            Box::new(|_, v| form(&"ab".repeat(32), v, redirect, RESOURCE)),
            "invalid_grant",
        ),
    ];
    for (what, make, expected) in cases {
        let (verifier, challenge) = pkce();
        let code = flow.code(&challenge).await;
        let mut body = make(&code, &verifier);
        body.push(("client_id".into(), flow.client_id.clone()));
        let pairs: Vec<(&str, &str)> = body.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (status, err) = flow.token(&pairs).await;
        assert_eq!(
            (status, err["error"].as_str()),
            (400, Some(expected)),
            "{what}: {err}"
        );
        let (status, _) = flow.exchange(&code, &verifier).await;
        if what == "unknown code" {
            assert_eq!(status, 200, "a guessed code touches no real one");
        } else {
            assert_eq!(
                status, 400,
                "{what}: the code is spent after a failed exchange"
            );
        }
    }
    // Another client cannot exchange this client's code.
    let other = register(&flow.app, json!({
        "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none", "application_type": "native"
    }))
    .await["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (verifier, challenge) = pkce();
    let code = flow.code(&challenge).await;
    let (status, err) = flow
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect),
            ("code_verifier", &verifier),
            ("client_id", &other),
        ])
        .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant")),
        "{err}"
    );
    let (status, err) = flow
        .token(&[("grant_type", "password"), ("client_id", &flow.client_id)])
        .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (status, err) = flow
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", "cli_nope"),
        ])
        .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (401, Some("invalid_client"))
    );
}

/// A token request's form from a code and a verifier.
type FormOf = dyn Fn(&str, &str) -> Vec<(String, String)>;

fn form(code: &str, verifier: &str, redirect: &str, resource: &str) -> Vec<(String, String)> {
    [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect),
        ("code_verifier", verifier),
        ("resource", resource),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

/// RFC 6749 §4.1.2.1: an unknown client or an unregistered redirect URI is
/// told to the person and never redirected to; other mistakes go back to
/// the client with `state`; `plain` and a missing challenge are refused.
#[tokio::test]
async fn the_authorization_endpoint_never_redirects_to_an_unregistered_uri() {
    let flow = Flow::start().await;
    let (_, challenge) = pkce();
    let mut evil = flow.params(&challenge);
    evil["redirect_uri"] = json!("https://evil.example/steal");
    assert!(flow.consent(evil.clone()).await["Refused"].is_string());
    assert!(
        flow.decide(evil, true, &["svc:wiki:read"]).await["Refused"].is_string(),
        "no code for it either"
    );
    let mut unknown = flow.params(&challenge);
    unknown["client_id"] = json!("cli_unknown");
    assert!(flow.consent(unknown).await["Refused"].is_string());

    for (change, value, error) in [
        ("code_challenge_method", json!("plain"), "invalid_request"),
        ("code_challenge", Value::Null, "invalid_request"),
        ("resource", Value::Null, "invalid_target"),
        (
            "resource",
            json!("http://wiki.example.com/mcp"),
            "invalid_target",
        ),
        ("scope", json!("svc:nosuch:read"), "invalid_scope"),
        ("response_type", json!("token"), "unsupported_response_type"),
    ] {
        let mut params = flow.params(&challenge);
        params[change] = value.clone();
        let step = flow.consent(params).await;
        let url = reqwest::Url::parse(
            step["Return"]
                .as_str()
                .unwrap_or_else(|| panic!("{change}={value}: {step}")),
        )
        .unwrap();
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["error"], error, "{change}={value}");
        assert_eq!(q["state"], "st-123");
        assert!(!q.contains_key("code"));
    }
    // Denying tells the client `access_denied`.
    let step = flow.decide(flow.params(&challenge), false, &[]).await;
    assert!(
        step["Return"]
            .as_str()
            .unwrap()
            .contains("error=access_denied"),
        "{step}"
    );
    // A consent posted from another site (CSRF) is refused before it is read.
    let forged = flow
        .app
        .client
        .post(flow.app.url("/oauth/consent"))
        .header("origin", "https://evil.example")
        .header("cookie", &flow.cookie)
        .form(&[("request", "?client_id=x"), ("decision", "approve")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    // Asking for more than requested is refused on the page.
    let step = flow
        .decide(flow.params(&challenge), true, &["svc:wiki:admin"])
        .await;
    assert!(
        step["Refused"].as_str().unwrap().contains("not asked for"),
        "{step}"
    );
}

/// Confidential clients authenticate with `client_secret_basic` or
/// `client_secret_post`; a wrong or missing secret is `invalid_client`.
#[tokio::test]
async fn confidential_clients_prove_their_secret() {
    let flow = Flow::start().await;
    let registered = register(
        &flow.app,
        json!({
            "redirect_uris": ["https://app.example/cb"], "client_name": "Web app"
        }),
    )
    .await;
    assert_eq!(
        registered["token_endpoint_auth_method"],
        "client_secret_basic"
    );
    let id = registered["client_id"].as_str().unwrap();
    let secret = registered["client_secret"].as_str().unwrap();
    let revoke = |auth: Option<(&str, &str)>, form: Vec<(&'static str, String)>| {
        let mut req = flow
            .app
            .client
            .post(flow.app.url("/oauth/revoke"))
            .form(&form);
        if let Some((u, p)) = auth {
            req = req.basic_auth(u, Some(p));
        }
        req.send()
    };
    let token = || vec![("token", "ace_at_live_unknown".to_owned())];
    assert_eq!(
        revoke(Some((id, secret)), token()).await.unwrap().status(),
        200
    );
    let mut post = token();
    post.extend([
        ("client_id", id.to_owned()),
        ("client_secret", secret.to_owned()),
    ]);
    assert_eq!(revoke(None, post).await.unwrap().status(), 200);
    assert_eq!(
        revoke(Some((id, "wrong")), token()).await.unwrap().status(),
        401
    );
    let mut missing = token();
    missing.push(("client_id", id.to_owned()));
    let response = revoke(None, missing).await.unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
}

/// RFC 7009: a client revokes its own access token (dead at once) or its
/// refresh token (the whole grant); another client's tokens are untouched.
#[tokio::test]
async fn clients_revoke_their_own_tokens_only() {
    let flow = Flow::start().await;
    let tokens = flow.granted().await;
    let (access, refresh) = (
        tokens["access_token"].as_str().unwrap(),
        tokens["refresh_token"].as_str().unwrap(),
    );
    let other = register(&flow.app, json!({
        "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none", "application_type": "native"
    }))
    .await["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoke = |client: &str, token: &str| {
        flow.app
            .client
            .post(flow.app.url("/oauth/revoke"))
            .form(&[("token", token), ("client_id", client)])
            .send()
    };
    assert_eq!(revoke(&other, access).await.unwrap().status(), 200);
    assert_eq!(
        flow.active(access).await["active"],
        true,
        "not the other client's to revoke"
    );
    assert_eq!(revoke(&flow.client_id, access).await.unwrap().status(), 200);
    assert_eq!(flow.active(access).await["active"], false);
    let (status, _) = flow.refresh(refresh).await;
    assert_eq!(status, 200, "revoking the access token left the grant");
    assert_eq!(
        revoke(&flow.client_id, refresh).await.unwrap().status(),
        200
    );
    let (status, _) = flow.refresh(refresh).await;
    assert_eq!(status, 400);
}

/// Registration: bad metadata is refused with RFC 7591's codes; more than
/// ten registrations a minute from one address get 429.
#[tokio::test]
async fn registration_is_checked_and_rate_limited() {
    let app = spawn_app().await;
    let post = |body: Value| {
        app.client
            .post(app.url("/oauth/register"))
            .json(&body)
            .send()
    };
    for (body, code) in [
        (
            json!({ "redirect_uris": ["javascript:alert(1)"], "application_type": "native" }),
            "invalid_redirect_uri",
        ),
        (
            json!({ "redirect_uris": ["http://app.example/cb"] }),
            "invalid_redirect_uri",
        ),
        (json!({ "redirect_uris": [] }), "invalid_redirect_uri"),
        (
            json!({ "redirect_uris": ["https://a.example/cb"], "grant_types": ["client_credentials"] }),
            "invalid_client_metadata",
        ),
        (
            json!({ "redirect_uris": ["https://a.example/cb"], "application_type": "robot" }),
            "invalid_client_metadata",
        ),
        (json!("not an object"), "invalid_client_metadata"),
    ] {
        let response = post(body.clone()).await.unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let err: Value = response.json().await.unwrap();
        assert_eq!(err["error"], code, "{body}: {err}");
    }
    // Six refused above count too: four more, then 429.
    let ok = json!({ "redirect_uris": ["https://a.example/cb"] });
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(post(ok.clone()).await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, [201, 201, 201, 201, 429, 429]);
}

/// A form-encoded dashboard server function (its path from the app).
async fn form_fn(app: &TestApp, cookie: &str, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url(path))
        .header("origin", &app.base)
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Connected apps: the org's grants, and a revoke that kills the grant's
/// tokens; another org's admin neither sees nor revokes them.
#[tokio::test]
async fn a_grant_revoked_in_the_dashboard_kills_its_tokens() {
    use leptos::server_fn::ServerFn;
    let list = <app::oauth::ListGrants as ServerFn>::PATH;
    let revoke = "/apps/revoke";
    let flow = Flow::start().await;
    let tokens = flow.granted().await;
    let access = tokens["access_token"].as_str().unwrap();
    let other = sign_in(&flow.app, &flow.app.other_admin).await;
    let (status, theirs) = form_fn(&flow.app, &other, list, &[]).await;
    assert_eq!(
        (status, theirs["grants"].as_array().map(Vec::len)),
        (200, Some(0))
    );
    let (status, mine) = form_fn(&flow.app, &flow.cookie, list, &[]).await;
    assert_eq!(status, 200, "{mine}");
    let grants = mine["grants"].as_array().unwrap();
    assert_eq!(grants.len(), 1, "{grants:?}");
    assert_eq!(grants[0]["client_name"], "Test assistant");
    assert_eq!(grants[0]["resource"], RESOURCE);
    assert_eq!(grants[0]["active"], true);
    let id = grants[0]["id"].as_str().unwrap().to_owned();
    let (status, _) = form_fn(&flow.app, &other, revoke, &[("grant", &id)]).await;
    assert_eq!(status, 404, "another org's admin cannot revoke it");
    assert_eq!(flow.active(access).await["active"], true);
    let (status, _) = form_fn(&flow.app, &flow.cookie, revoke, &[("grant", &id)]).await;
    assert_eq!(status, 303, "back to Connected apps");
    let (_, mine) = form_fn(&flow.app, &flow.cookie, list, &[]).await;
    assert_eq!(mine["grants"][0]["active"], false, "{mine}");
    assert_eq!(flow.active(access).await["active"], false);
    let (status, _) = flow
        .refresh(tokens["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(status, 400);
}

/// The incident switch for an agent also ends its OAuth grants: the access
/// token and the refresh token both stop working.
#[tokio::test]
async fn the_incident_switch_ends_the_agents_grants() {
    let flow = Flow::start().await;
    let tokens = flow.granted().await;
    let access = tokens["access_token"].as_str().unwrap();
    let response = flow
        .app
        .post(
            &flow.app.admin,
            "/api/v1/keys/revoke",
            json!({ "agent": "assistant", "reason": "incident 7" }),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(flow.active(access).await["active"], false);
    let (status, err) = flow
        .refresh(tokens["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant")),
        "{err}"
    );
}
