// The official MCP TypeScript SDK's OAuth client against wiki-mcp (remote
// mode) and acekeys as its authorization server: discovery, dynamic
// registration, authorization code + PKCE with the consent page driven in
// Chromium, tool calls with the access token, refresh, step-up after a 403
// insufficient_scope, and the grant revoked in the dashboard. Then a client
// that names itself by a Client ID Metadata Document served over https.
import { test, describe, before, after } from "node:test";
import { createServer } from "node:https";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { auth, UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { setup } from "./harness.mjs";
import { loopbackCertificate } from "./tls.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// Nothing listens here: the browser's navigation to it is answered by the test.
const REDIRECT = "http://127.0.0.1:9/callback";

/// An in-memory OAuthClientProvider; `consent` answers the authorization
/// URL with a code, as a desktop app's browser window would.
class Provider {
  constructor(consent, clientMetadataUrl) {
    this.consent = consent;
    this.authorizations = 0;
    this.clientMetadataUrl = clientMetadataUrl;
  }
  get redirectUrl() { return REDIRECT; }
  get clientMetadata() {
    return {
      client_name: "acekeys TS SDK test",
      redirect_uris: [REDIRECT],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  clientInformation() { return this.client; }
  saveClientInformation(info) { this.client = info; }
  tokens() { return this.saved; }
  saveTokens(tokens) { this.saved = tokens; }
  saveCodeVerifier(v) { this.verifier = v; }
  codeVerifier() { return this.verifier; }
  async redirectToAuthorization(url) {
    this.authorizations += 1;
    this.lastUrl = url;
    this.code = await this.consent(url);
  }
}

/// Chromium with a person signed in to the dashboard (the break-glass admin
/// key form); the app's side of the redirect is a page that says so.
async function signedInBrowser(env) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  const page = await (await browser.newContext()).newPage();
  await page.route(`${REDIRECT}**`, (route) => route.fulfill({ status: 200, contentType: "text/plain", body: "back in the app" }));
  await page.goto(`${env.authorityUrl}/sign-in`);
  await page.fill("#admin-key", env.keys.admin);
  await Promise.all([page.waitForURL(/\/keys$/), page.click("#sign-in-form button[type=submit]")]);
  return { browser, page };
}

describe("TypeScript SDK OAuth, remote mode", () => {
  let env, browser, page;
  const untick = new Set();

  before(async () => {
    env = await setup("remote");
    ({ browser, page } = await signedInBrowser(env));
  });
  after(async () => { await browser?.close(); await env?.stop(); });

  /// The consent page, approved for every scope not in `untick`; answers
  /// the code from the redirect to the app.
  async function consent(url) {
    await page.goto(url.toString());
    await page.waitForSelector("#consent-approve");
    assert.equal(await page.textContent("#consent-client"), "acekeys TS SDK test");
    assert.ok(await page.isVisible("#consent-unverified"), "a self-registered client is marked unverified");
    assert.equal(await page.textContent("#consent-resource"), env.mcpUrl);
    for (const scope of untick) await page.uncheck(`#consent-scope-${scope.replaceAll(":", "-")}`);
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.url().startsWith(REDIRECT), { timeout: 10_000 }).catch(async (e) => {
        throw new Error(`no redirect to the app; the page at ${page.url()} says: ${(await page.textContent("body")).slice(0, 500)}`);
      }),
      page.click("#consent-approve"),
    ]);
    await page.waitForURL((u) => u.toString().startsWith(REDIRECT));
    const answer = new URL(request.url());
    assert.equal(answer.searchParams.get("iss"), env.authorityUrl, "RFC 9207 iss");
    return answer.searchParams.get("code");
  }

  async function connect(provider) {
    const transport = new StreamableHTTPClientTransport(new URL(env.mcpUrl), { authProvider: provider });
    const client = new Client({ name: "acekeys-ts-oauth-test", version: "1.0.0" });
    try {
      await client.connect(transport);
      return client;
    } catch (err) {
      assert.ok(err instanceof UnauthorizedError, String(err));
      await transport.finishAuth(provider.code);
      const again = new Client({ name: "acekeys-ts-oauth-test", version: "1.0.0" });
      await again.connect(new StreamableHTTPClientTransport(new URL(env.mcpUrl), { authProvider: provider }));
      return again;
    }
  }

  test("the whole flow: authorize, call, refresh, step up, revoke", async () => {
    ["admin:org", "svc:kb:write", "svc:wiki:write"].forEach((s) => untick.add(s));
    const provider = new Provider(consent);
    const client = await connect(provider);
    assert.equal(provider.authorizations, 1);
    assert.match(provider.saved.access_token, /^ace_at_live_/);
    assert.match(provider.saved.refresh_token, /^ace_rt_live_/);
    assert.equal(provider.saved.scope, "svc:wiki:read");
    const read = await client.callTool({ name: "read_page", arguments: { title: "Home" } });
    assert.match(read.content[0].text, /Welcome/);
    // The token is bound to this tool server: another one refuses it.
    const elsewhere = await fetch(await env.otherWiki(), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        authorization: `Bearer ${provider.saved.access_token}`,
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "read_page", arguments: { title: "Home" } } }),
    });
    assert.equal(elsewhere.status, 401);
    assert.match(elsewhere.headers.get("www-authenticate"), /error="invalid_token"/);
    const events = await env.toolEvents();
    assert.ok(events.some((e) => e.action === "read_page" && e.decision === "allowed"), JSON.stringify(events));

    // Refresh: a new access token and a rotated refresh token, still working.
    const before = provider.saved;
    assert.equal(await auth(provider, { serverUrl: env.mcpUrl }), "AUTHORIZED");
    assert.notEqual(provider.saved.access_token, before.access_token);
    assert.notEqual(provider.saved.refresh_token, before.refresh_token);
    const fresh = await connect(provider);
    await fresh.callTool({ name: "read_page", arguments: { title: "Home" } });

    // Step-up: the write needs svc:wiki:write, which was not granted. The
    // guard answers 403 insufficient_scope naming it; the app asks again
    // for that scope (SDK 1.32 would only refresh on its own, which cannot
    // widen a grant), the person approves, and the call succeeds.
    await assert.rejects(
      fresh.callTool({ name: "write_page", arguments: { title: "Notes", body: "hi" } }),
      (err) => { assert.match(String(err), /403|svc:wiki:write/); return true; },
    );
    untick.clear();
    provider.saveTokens(undefined);
    assert.equal(await auth(provider, { serverUrl: env.mcpUrl, scope: "svc:wiki:write" }), "REDIRECT");
    assert.equal(provider.lastUrl.searchParams.get("scope"), "svc:wiki:write");
    assert.equal(provider.lastUrl.searchParams.get("code_challenge_method"), "S256");
    assert.equal(provider.lastUrl.searchParams.get("resource"), env.mcpUrl);
    assert.equal(await auth(provider, { serverUrl: env.mcpUrl, authorizationCode: provider.code }), "AUTHORIZED");
    const wider = await connect(provider);
    const wrote = await wider.callTool({ name: "write_page", arguments: { title: "Notes", body: "hi" } });
    assert.ok(!wrote.isError, JSON.stringify(wrote));

    // Revoked in the dashboard (Connected apps): the token dies at the guard.
    await page.goto(`${env.authorityUrl}/apps`);
    const revoke = page.locator("[data-revoke]").first();
    await Promise.all([page.waitForURL(/\/apps$/), revoke.click()]);
    let refused;
    for (let i = 0; i < 40 && !refused; i++) {
      try {
        await wider.callTool({ name: "read_page", arguments: { title: "Home" } });
        await new Promise((r) => setTimeout(r, 50));
      } catch (err) { refused = err; }
    }
    assert.ok(refused, "the call still succeeded 2 s after the grant was revoked");
    // Its refresh token died with it.
    const r = await fetch(`${env.authorityUrl}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: provider.saved.refresh_token,
        client_id: provider.client.client_id,
      }),
    });
    assert.equal(r.status, 400);
    assert.equal((await r.json()).error, "invalid_grant");
    await Promise.all([client, fresh, wider].map((c) => c.close()));
  });
});

describe("TypeScript SDK OAuth, a client metadata document over https", () => {
  let env, browser, page, documents, tlsDir;
  let fetched = 0;
  const NAME = "acekeys TS SDK document client";

  before(async () => {
    // The document is served over TLS by a certificate the authority trusts
    // through SSL_CERT_FILE; loopback is allowed by the development flag.
    tlsDir = mkdtempSync(join(tmpdir(), "acekeys-cimd-"));
    const tls = loopbackCertificate(tlsDir);
    documents = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      fetched += 1;
      const self = `https://127.0.0.1:${documents.address().port}${req.url}`;
      res.writeHead(req.url === "/client.json" ? 200 : 404, { "content-type": "application/json" });
      res.end(JSON.stringify({
        client_id: self, client_name: NAME, redirect_uris: [REDIRECT], token_endpoint_auth_method: "none",
      }));
    });
    await new Promise((resolve) => documents.listen(0, "127.0.0.1", resolve));
    env = await setup("remote", { ACEKEYS_ALLOW_INSECURE_CLIENT_DOCUMENTS: "true", SSL_CERT_FILE: tls.caFile });
    ({ browser, page } = await signedInBrowser(env));
  });
  after(async () => {
    await browser?.close();
    await env?.stop();
    documents?.close();
    if (tlsDir) rmSync(tlsDir, { recursive: true, force: true });
  });

  test("the SDK names itself by its document URL, no registration, and calls tools", async () => {
    const url = `https://127.0.0.1:${documents.address().port}/client.json`;
    const provider = new Provider(async (authorization) => {
      assert.equal(authorization.searchParams.get("client_id"), url);
      await page.goto(authorization.toString());
      await page.waitForSelector("#consent-approve");
      assert.equal(await page.textContent("#consent-client"), NAME);
      assert.equal(await page.textContent("#consent-verified-domain"), "127.0.0.1");
      assert.equal(await page.isVisible("#consent-unverified"), false);
      await Promise.all([page.waitForURL((u) => u.toString().startsWith(REDIRECT)), page.click("#consent-approve")]);
      return new URL(page.url()).searchParams.get("code");
    }, url);
    const transport = new StreamableHTTPClientTransport(new URL(env.mcpUrl), { authProvider: provider });
    await assert.rejects(new Client({ name: "t", version: "1" }).connect(transport), UnauthorizedError);
    await transport.finishAuth(provider.code);
    const client = new Client({ name: "acekeys-ts-cimd-test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(env.mcpUrl), { authProvider: provider }));
    assert.equal(provider.client.client_id, url, "no dynamic registration");
    assert.match(provider.saved.access_token, /^ace_at_live_/);
    const read = await client.callTool({ name: "read_page", arguments: { title: "Home" } });
    assert.match(read.content[0].text, /Welcome/);
    assert.equal(fetched, 1, "the authority fetched the document once, over TLS");
    await client.close();
  });
});
