// The official MCP TypeScript SDK against wiki-mcp, in local and remote mode.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { discoverOAuthProtectedResourceMetadata, extractWWWAuthenticateParams } from "@modelcontextprotocol/sdk/client/auth.js";
import { setup } from "./harness.mjs";

async function connect(url, key) {
  const headers = key ? { Authorization: `Bearer ${key}` } : {};
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  const client = new Client({ name: "acekeys-ts-test", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

for (const mode of ["local", "remote"]) {
  describe(`TypeScript SDK, ${mode} mode`, () => {
    let env;
    before(async () => { env = await setup(mode); });
    after(async () => { await env?.stop(); });

    test("an allowed call succeeds and is in the audit trail", async () => {
      const client = await connect(env.mcpUrl, env.keys.reader);
      const tools = await client.listTools();
      assert.equal(tools.tools.length, 5);
      const result = await client.callTool({ name: "read_page", arguments: { title: "Home" } });
      assert.match(result.content[0].text, /Welcome/);
      const events = await env.toolEvents();
      assert.ok(events.some((e) => e.action === "read_page" && e.decision === "allowed"), JSON.stringify(events));
      await client.close();
    });

    test("a call without the scope is denied, names the scope, and is audited", async () => {
      const client = await connect(env.mcpUrl, env.keys.reader);
      await assert.rejects(
        client.callTool({ name: "write_page", arguments: { title: "X", body: "y" } }),
        (err) => { assert.match(err.message, /svc:wiki:write/); return true; },
      );
      const events = await env.toolEvents();
      const denied = events.find((e) => e.action === "write_page" && e.decision === "denied");
      assert.ok(denied, JSON.stringify(events));
      assert.equal(denied.reason, "insufficient_scope");
      assert.equal(denied.required_scope, "svc:wiki:write");
      await client.close();
    });

    test("the SDK discovers the resource metadata and reads the 403 step-up challenge", async () => {
      // RFC 9728 through the SDK's own discovery (path-suffixed well-known URI).
      const metadata = await discoverOAuthProtectedResourceMetadata(env.mcpUrl);
      assert.equal(metadata.resource, env.mcpUrl);
      assert.deepEqual(metadata.scopes_supported, ["admin:org", "svc:kb:write", "svc:wiki:read", "svc:wiki:write"]);
      assert.equal(metadata.authorization_servers?.length ?? 0, mode === "remote" ? 1 : 0);
      const r = await fetch(env.mcpUrl, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${env.keys.reader}` },
        body: JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "write_page", arguments: { title: "X", body: "y" } } }),
      });
      assert.equal(r.status, 403);
      const challenge = extractWWWAuthenticateParams(r);
      assert.equal(challenge.error, "insufficient_scope");
      assert.equal(challenge.scope, "svc:wiki:write");
      assert.equal(String(challenge.resourceMetadataUrl), env.mcpUrl.replace("/mcp", "/.well-known/oauth-protected-resource/mcp"));
      const body = await r.json();
      assert.equal(body.error.data.required_scope, "svc:wiki:write");
    });

    for (const which of ["missing", "unknown", "expired", "revoked"]) {
      test(`a ${which} key gets 401`, async () => {
        const key = which === "missing" ? null : env.keys[which];
        await assert.rejects(connect(env.mcpUrl, key), (err) => {
          assert.equal(err.code, 401, String(err));
          return true;
        });
      });
    }

    test("the 401 carries WWW-Authenticate: Bearer", async () => {
      const r = await fetch(env.mcpUrl, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${env.keys.revoked}` },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "read_page", arguments: { title: "Home" } } }),
      });
      assert.equal(r.status, 401);
      assert.match(r.headers.get("www-authenticate"), /^Bearer .*error="invalid_token"/);
    });

    test("unknown, expired and revoked keys get one identical 401 (the trail keeps the reason)", async () => {
      const answer = async (key) => {
        const r = await fetch(env.mcpUrl, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${key}` },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
        });
        return [r.status, r.headers.get("www-authenticate"), await r.text()];
      };
      const unknown = await answer(env.keys.unknown);
      assert.equal(unknown[0], 401);
      assert.deepEqual(await answer(env.keys.expired), unknown);
      assert.deepEqual(await answer(env.keys.revoked), unknown);
    });
  });
}
