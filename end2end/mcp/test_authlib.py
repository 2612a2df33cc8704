"""Every way an OAuth client can get it wrong, sent by a generic OAuth
library nobody here wrote (Authlib's requests client), against the real
acekeys and two wiki-mcp tool servers (remote mode).

The person's consent is the dashboard's own form post, signed in with the
break-glass admin key (the browser-driven consent is covered by the SDK
tests); everything the client sends is Authlib's: authorization URLs with
PKCE, the code exchange, the refresh.
"""
import json
import os
import unittest
import urllib.parse

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError

from test_python_sdk import Env, REDIRECT, start, status_of_first_request


class Dashboard:
    """A signed-in person's browser, without the browser: the sign-in form,
    the consent server function and the consent form."""

    def __init__(self, base, admin_key):
        self.base, self.http = base, requests.Session()
        page = self.http.get(f"{base}/sign-in").text
        action = page.split('id="sign-in-form"')[0].rsplit('action="', 1)[1].split('"')[0]
        r = self.http.post(f"{base}{action}", data={"key": admin_key}, headers={"origin": base}, allow_redirects=False)
        assert r.status_code in (200, 303), r.text

    def consent_step(self, authorization_url):
        """What the consent page would do: ask (a view), refuse (a page to
        the person), or send the browser back to the app at once (an error)."""
        params = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(authorization_url).query))
        r = self.http.post(f"{self.base}/api/oauth_consent", json={"params": params}, headers={"origin": self.base})
        assert r.status_code == 200, r.text
        return r.json()

    def approve(self, authorization_url, scopes):
        """Approves `scopes`; answers the URL the browser is sent back to."""
        query = "?" + urllib.parse.urlparse(authorization_url).query
        form = [("request", query), ("expires_days", "7"), ("decision", "approve")] + [("scope", s) for s in scopes]
        r = self.http.post(f"{self.base}/oauth/consent", data=form, headers={"origin": self.base})
        assert r.status_code == 200, r.text
        return r.text.split('id="return-to-app" href="')[1].split('"')[0].replace("&amp;", "&")


class AuthlibNegatives(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = Env("remote")
        env = cls.env
        # Tool server B: another wiki-mcp on the same authority, another resource.
        cls.other, cls.other_url, _ = start(
            [os.environ["WIKI_MCP_BIN"], "--addr", "127.0.0.1:0", "--authority", env.base,
             "--spool-dir", os.path.join(env.dir, "spool-b")],
            {"RUST_LOG": "info", "WIKI_MCP_SERVICE_KEY": env.keys["service"]},
            "wiki-mcp listening on ", os.path.join(env.dir, "wiki-b.log"))
        meta = requests.get(f"{env.base}/.well-known/oauth-authorization-server").json()
        cls.authorize_url, cls.token_url = meta["authorization_endpoint"], meta["token_endpoint"]
        registered = requests.post(meta["registration_endpoint"], json={
            "client_name": "Authlib negatives", "redirect_uris": [REDIRECT],
            "token_endpoint_auth_method": "none", "application_type": "native"})
        assert registered.status_code == 201, registered.text
        cls.client_id = registered.json()["client_id"]
        cls.dashboard = Dashboard(env.base, env.keys["admin"])

    @classmethod
    def tearDownClass(cls):
        cls.other.kill()
        cls.other.wait()
        cls.other.stdout.close()
        cls.env.stop()

    def session(self, **kw):
        return OAuth2Session(self.client_id, redirect_uri=REDIRECT, scope="svc:wiki:read",
                             code_challenge_method="S256",
                             token_endpoint_auth_method="none", **kw)

    def authorization(self, session, verifier, **extra):
        url, _ = session.create_authorization_url(
            self.authorize_url, code_verifier=verifier, resource=self.env.mcp_url, **extra)
        return url

    def code(self, verifier):
        """A fresh code for tool server A, approved by the person."""
        session = self.session()
        landed = self.dashboard.approve(self.authorization(session, verifier), ["svc:wiki:read"])
        return session, landed

    def exchange(self, session, landed, verifier, **kw):
        return session.fetch_token(self.token_url, authorization_response=landed, code_verifier=verifier,
                                   resource=kw.pop("resource", self.env.mcp_url), **kw)

    def assert_refused(self, error, call):
        with self.assertRaises(OAuthError) as refused:
            call()
        self.assertEqual(refused.exception.error, error, refused.exception.description)

    def test_a_wrong_verifier_burns_the_code(self):
        verifier = generate_token(64)
        session, landed = self.code(verifier)
        self.assert_refused("invalid_grant", lambda: self.exchange(session, landed, generate_token(64)))
        # The code was spent by the failed attempt: the right verifier is too late.
        self.assert_refused("invalid_grant", lambda: self.exchange(session, landed, verifier))

    def test_a_replayed_code_revokes_what_it_issued(self):
        verifier = generate_token(64)
        session, landed = self.code(verifier)
        token = self.exchange(session, landed, verifier)
        self.assertEqual(status_of_first_request(self.env.mcp_url, token["access_token"])[0], 200)
        self.assert_refused("invalid_grant", lambda: self.exchange(self.session(), landed, verifier))
        self.env.until(lambda: status_of_first_request(self.env.mcp_url, token["access_token"])[0] == 401, seconds=3)

    def test_pkce_is_s256_and_mandatory(self):
        # Authlib itself only sends S256; `plain` goes in as extra parameters.
        plain = generate_token(64)
        for extra in [{"code_challenge": plain, "code_challenge_method": "plain"}, {}]:
            session = OAuth2Session(self.client_id, redirect_uri=REDIRECT, scope="svc:wiki:read")
            url = self.authorization(session, None, **extra)
            self.assertEqual("code_challenge_method=plain" in url, bool(extra), url)
            back = self.dashboard.consent_step(url)["Return"]
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(back).query))
            self.assertEqual(query["error"], "invalid_request", back)
            self.assertTrue(back.startswith("http://127.0.0.1:9/callback"), back)

    def test_the_redirect_uri_must_be_registered_and_the_same_at_the_token_endpoint(self):
        evil = OAuth2Session(self.client_id, redirect_uri="https://evil.example/cb", scope="svc:wiki:read",
                             code_challenge_method="S256")
        step = self.dashboard.consent_step(self.authorization(evil, generate_token(64)))
        self.assertIn("Refused", step, "an unregistered redirect URI is never redirected to")
        verifier = generate_token(64)
        session, landed = self.code(verifier)
        self.assert_refused("invalid_grant", lambda: session.fetch_token(
            self.token_url, authorization_response=landed, code_verifier=verifier,
            redirect_uri="http://127.0.0.1:9/other", resource=self.env.mcp_url))

    def test_the_resource_is_bound_to_the_code_and_the_token(self):
        verifier = generate_token(64)
        session, landed = self.code(verifier)
        self.assert_refused("invalid_target", lambda: self.exchange(session, landed, verifier, resource=self.other_url))
        verifier = generate_token(64)
        session, landed = self.code(verifier)
        token = self.exchange(session, landed, verifier)
        self.assertEqual(status_of_first_request(self.env.mcp_url, token["access_token"])[0], 200)
        self.assertEqual(status_of_first_request(self.other_url, token["access_token"])[0], 401,
                         "a token for tool server A is refused by tool server B")

    def test_reusing_a_rotated_refresh_token_revokes_the_grant(self):
        verifier = generate_token(64)
        session, landed = self.code(verifier)
        first = self.exchange(session, landed, verifier)
        second = session.refresh_token(self.token_url, refresh_token=first["refresh_token"])
        self.assertNotEqual(second["refresh_token"], first["refresh_token"])
        self.assert_refused("invalid_grant", lambda: self.session().refresh_token(
            self.token_url, refresh_token=first["refresh_token"]))
        self.assert_refused("invalid_grant", lambda: self.session().refresh_token(
            self.token_url, refresh_token=second["refresh_token"]))
        self.env.until(lambda: status_of_first_request(self.env.mcp_url, second["access_token"])[0] == 401, seconds=3)

    def test_a_metadata_document_on_a_private_address_is_never_fetched(self):
        for client_id in ["https://127.0.0.1:9/client.json", "https://169.254.169.254/client.json",
                          "https://localhost:9/client.json", "http://app.example/client.json"]:
            session = OAuth2Session(client_id, redirect_uri=REDIRECT, scope="svc:wiki:read",
                                    code_challenge_method="S256")
            step = self.dashboard.consent_step(self.authorization(session, generate_token(64)))
            self.assertIn("Refused", step, client_id)
            self.assertRegex(step["Refused"], "not a public internet address|must use https", client_id)


if __name__ == "__main__":
    unittest.main(verbosity=2)
