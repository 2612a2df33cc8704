"""The official MCP Python SDK (`mcp`, pinned in requirements.txt) against
wiki-mcp in local and remote mode. Real processes: the `seed` example, the
`acekeys` server and `wiki-mcp` (paths from the environment; run through
scripts/test-mcp)."""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import urllib.parse

import httpx2 as httpx
from mcp.client.auth import OAuthClientProvider
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client  # mcp 2.x speaks httpx2
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata

CONSENT_JS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "consent.mjs")
# Nothing listens there: the browser's visit is answered by consent.mjs.
REDIRECT = "http://127.0.0.1:9/callback"


def start(cmd, env, prefix, log):
    with open(log, "a") as err:
        proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=subprocess.PIPE,
                                stderr=err, text=True)
    deadline = time.time() + 60
    lines = []
    while time.time() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if line.startswith(prefix):
            return proc, line[len(prefix):].strip(), lines
        if not line and proc.poll() is not None:
            break
    raise RuntimeError(f"{cmd[0]} did not print {prefix!r}; see {log}")


def get_json(url, key=None):
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    with urllib.request.urlopen(req) as r:
        return json.load(r)


class Env:
    def __init__(self, mode):
        self.dir = tempfile.mkdtemp(prefix=f"acekeys-py-{mode}-")
        self.mode = mode
        self.keys = json.loads(subprocess.check_output([os.environ["SEED_BIN"], self.dir], text=True))
        self.acekeys, self.base, _ = start(
            [os.environ["ACEKEYS_BIN"], "serve"],
            {"ACEKEYS_DATA_DIR": self.dir, "LEPTOS_SITE_ADDR": "127.0.0.1:0", "RUST_LOG": "info"},
            "acekeys listening on ", os.path.join(self.dir, "acekeys.log"))
        # The seed's org; /status on its own (loopback) listener, announced before "listening".
        args = ["--data-dir", self.dir, "--org", "acme"] if mode == "local" else \
            ["--authority", self.base, "--spool-dir", os.path.join(self.dir, "spool")]
        self.wiki, self.mcp_url, lines = start(
            [os.environ["WIKI_MCP_BIN"], "--addr", "127.0.0.1:0", "--status-addr", "127.0.0.1:0", *args],
            {"RUST_LOG": "info", "WIKI_MCP_SERVICE_KEY": self.keys["service"]},
            "wiki-mcp listening on ", os.path.join(self.dir, "wiki.log"))
        prefix = "wiki-mcp status on "
        self.status_url = next(l[len(prefix):].strip() for l in lines if l.startswith(prefix))
        if mode == "remote":
            self.until(lambda: self.status()["guard"]["stream_connected"])

    def status(self):
        return get_json(self.status_url)

    def until(self, check, seconds=15):
        deadline = time.time() + seconds
        while not check():
            if time.time() > deadline:
                raise TimeoutError("condition not met")
            time.sleep(0.05)

    def tool_events(self):
        if self.mode == "remote":
            self.until(lambda: self.status()["guard"]["spool_pending"] == 0)
        return get_json(f"{self.base}/api/v1/audit?kind=tool_call&limit=1000", self.keys["admin"])["events"]

    def stop(self):
        for proc in (self.wiki, self.acekeys):
            proc.kill()
            proc.wait()
            proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)


async def session_call(url, key, tool, args):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with httpx.AsyncClient(headers=headers, timeout=20) as http:
        async with streamable_http_client(url, http_client=http) as (read, write, *_):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = await session.list_tools()
                result = await session.call_tool(tool, args)
                return tools, result


def status_of_first_request(url, key):
    """What the server answers to an initialize with this key (HTTP status)."""
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "py", "version": "1"}}}
    r = httpx.post(url, headers=headers, json=body)
    return r.status_code, r.headers.get("www-authenticate", "")


class PythonSdk:
    mode = None

    @classmethod
    def setUpClass(cls):
        cls.env = Env(cls.mode)

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()

    def test_allowed_call_succeeds_and_is_audited(self):
        tools, result = asyncio.run(session_call(self.env.mcp_url, self.env.keys["reader"], "read_page", {"title": "Home"}))
        self.assertEqual(len(tools.tools), 5)
        self.assertFalse(getattr(result, "is_error", getattr(result, "isError", False)))
        self.assertIn("Welcome", result.content[0].text)
        events = self.env.tool_events()
        self.assertTrue(any(e["action"] == "read_page" and e["decision"] == "allowed" for e in events), events)

    def test_call_without_scope_is_denied_names_scope_and_is_audited(self):
        with self.assertRaises(Exception) as ctx:
            asyncio.run(session_call(self.env.mcp_url, self.env.keys["reader"], "write_kb", {"entry": "x"}))
        self.assertIn("svc:kb:write", repr(ctx.exception) + str(getattr(ctx.exception, "exceptions", "")))
        events = self.env.tool_events()
        denied = [e for e in events if e["action"] == "write_kb" and e["decision"] == "denied"]
        self.assertEqual(len(denied), 1, events)
        self.assertEqual(denied[0]["reason"], "insufficient_scope")

    def test_missing_unknown_expired_revoked_keys_get_401(self):
        for which in ["missing", "unknown", "expired", "revoked"]:
            key = None if which == "missing" else self.env.keys[which]
            status, challenge = status_of_first_request(self.env.mcp_url, key)
            self.assertEqual(status, 401, which)
            self.assertTrue(challenge.startswith("Bearer"), which)
            # And the SDK itself refuses to proceed.
            with self.assertRaises(Exception, msg=which):
                asyncio.run(session_call(self.env.mcp_url, key, "read_page", {"title": "Home"}))


class LocalMode(PythonSdk, unittest.TestCase):
    mode = "local"


class RemoteMode(PythonSdk, unittest.TestCase):
    mode = "remote"


class MemoryStorage:
    """The SDK's TokenStorage, in memory."""

    def __init__(self):
        self.tokens, self.client = None, None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client

    async def set_client_info(self, client_info):
        self.client = client_info


class OAuthRemoteMode(unittest.TestCase):
    """The SDK's OAuthClientProvider against wiki-mcp (remote mode) and
    acekeys: discovery, registration, code + PKCE (the consent page approved
    in Chromium by consent.mjs), a call with the access token; the token
    revoked through RFC 7009 then fails at the guard."""

    @classmethod
    def setUpClass(cls):
        cls.env = Env("remote")

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()

    def test_the_sdk_completes_the_flow_and_a_revoked_token_fails(self):
        env, landed, storage = self.env, {}, MemoryStorage()

        async def redirect_handler(url):
            out = subprocess.check_output(["node", CONSENT_JS, env.base, env.keys["admin"], url, REDIRECT], text=True)
            landed["url"] = out.strip().splitlines()[-1]

        async def callback_handler():
            q = urllib.parse.parse_qs(urllib.parse.urlparse(landed["url"]).query)
            return AuthorizationCodeResult(code=q["code"][0], state=q.get("state", [None])[0], iss=q.get("iss", [None])[0])

        provider = OAuthClientProvider(
            server_url=env.mcp_url,
            client_metadata=OAuthClientMetadata(
                client_name="acekeys Python SDK test", redirect_uris=[REDIRECT],
                grant_types=["authorization_code", "refresh_token"], response_types=["code"],
                token_endpoint_auth_method="none"),
            storage=storage, redirect_handler=redirect_handler, callback_handler=callback_handler)

        async def call():
            async with httpx.AsyncClient(auth=provider, timeout=30) as http:
                async with streamable_http_client(env.mcp_url, http_client=http) as (read, write, *_):
                    async with ClientSession(read, write) as session:
                        await session.initialize()
                        return await session.call_tool("read_page", {"title": "Home"})

        result = asyncio.run(call())
        self.assertIn("Welcome", result.content[0].text)
        self.assertTrue(storage.tokens.access_token.startswith("ace_at_live_"))
        q = urllib.parse.parse_qs(urllib.parse.urlparse(landed["url"]).query)
        self.assertEqual(q["iss"], [env.base], "RFC 9207 iss")
        events = env.tool_events()
        self.assertTrue(any(e["action"] == "read_page" and e["decision"] == "allowed" for e in events), events)

        # The app signs out: RFC 7009 on its refresh token ends the grant.
        r = httpx.post(f"{env.base}/oauth/revoke", data={
            "token": storage.tokens.refresh_token, "client_id": storage.client.client_id})
        self.assertEqual(r.status_code, 200)
        env.until(lambda: status_of_first_request(env.mcp_url, storage.tokens.access_token)[0] == 401, seconds=3)


if __name__ == "__main__":
    unittest.main(verbosity=2)
