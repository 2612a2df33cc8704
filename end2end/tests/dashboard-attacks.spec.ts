// Attacks in the browser: markup in every name or text a page shows (key
// names, audit events, the incident page, scope descriptions), cross-origin
// server-function calls with and without a signed-in cookie, and one org
// peeking at another.
import { test, expect, type Page } from "@playwright/test";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  adminKey,
  captureServerFn,
  expectInert,
  forbidDialogs,
  hydrated,
  ingest,
  listKeys,
  listStatus,
  mintViaApi,
  signIn,
  unique,
  xss,
} from "./support/helpers";

test("a key named like markup is shown as text and runs nothing", async ({ page, request }) => {
  const name = `<img src=x onerror=alert(1)> ${unique("x")}`;
  const { id } = await mintViaApi(request, { name, scopes: ["svc:wiki:read"] });
  const dialogs: string[] = [];
  forbidDialogs(page, dialogs);
  await signIn(page);
  const cell = page.locator(`tr[data-key-id="${id}"] .key-name`);
  await expect(cell).toHaveText(name);
  await expect(page.locator(`tr[data-key-id="${id}"] img`)).toHaveCount(0);
  await page.reload();
  await hydrated(page);
  await page.waitForTimeout(500);
  expect(dialogs).toEqual([]);
});

test("server functions refuse cross-origin POSTs; pages carry a nonce CSP", async ({ page, request, baseURL }) => {
  await page.goto("/sign-in");
  const action = await page.locator("#sign-in-form").getAttribute("action");
  expect(action).toMatch(/^\/api\//);
  const foreign = await request.post(action!, {
    headers: { Origin: "https://evil.example", "Content-Type": "application/x-www-form-urlencoded" },
    data: `key=${encodeURIComponent(adminKey("acme"))}`,
  });
  expect(foreign.status()).toBe(403);
  const noOrigin = await request.post(action!, {
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    data: `key=${encodeURIComponent(adminKey("acme"))}`,
  });
  expect(noOrigin.status()).toBe(403);
  const own = await request.post(action!, {
    headers: { Origin: baseURL!, "Content-Type": "application/x-www-form-urlencoded" },
    data: `key=${encodeURIComponent(adminKey("acme"))}`,
  });
  expect(own.status()).toBeLessThan(400);

  const response = await request.get("/sign-in");
  const csp = response.headers()["content-security-policy"];
  expect(csp).toContain("frame-ancestors 'none'");
  const nonce = /'nonce-([^']+)'/.exec(csp)![1];
  expect(await response.text()).toContain(`nonce="${nonce}"`);
  const again = (await request.get("/sign-in")).headers()["content-security-policy"];
  expect(again).not.toBe(csp);
});

test("a second org's admin never sees the first org's keys or events", async ({ page, browser, request }) => {
  const secret = unique("acme-only");
  await mintViaApi(request, { name: secret, scopes: ["svc:wiki:read"] }, "acme");
  const tool = unique("acme.tool");
  await ingest(request, [{ tool, decision: "denied" }], "acme");
  // The same view shows the event to its own org: an empty page below is
  // isolation, not a missing event.
  const own = await browser.newContext();
  const acme = await own.newPage();
  await signIn(acme, "acme");
  await expect(acme.locator("#keys-table")).toContainText(secret);
  await acme.goto(`/audit?tool=${encodeURIComponent(tool)}`);
  await hydrated(acme);
  await expect(acme.locator("#audit-table tbody tr")).toHaveCount(1);
  await expect(acme.locator("#audit-table .event-action")).toHaveText(tool);
  await own.close();

  await signIn(page, "globex");
  await expect(page.locator("#whoami")).toContainText("globex");
  expect(await page.content()).not.toContain(secret);
  await page.goto(`/audit?tool=${encodeURIComponent(tool)}`);
  await hydrated(page);
  await expect(page.locator("#audit-empty")).toBeVisible();
  expect(await page.content()).not.toContain(secret);
});

test("markup in audit events is text in the table and the event detail, rendered by the server or the browser", async ({ page }) => {
  const tool = `${xss.img}${xss.script} ${unique("tool")}`;
  const event = {
    tool,
    decision: "denied",
    agent: xss.svg,
    reason: `${xss.quote} ${xss.script}`,
    server: xss.img,
    request_id: xss.svg,
    required_scope: xss.quote,
  };
  const [id] = await ingest(page.request, [event]);
  const dialogs: string[] = [];
  forbidDialogs(page, dialogs);
  await signIn(page);

  // The table, rendered by the server.
  await page.goto(`/audit?tool=${encodeURIComponent(tool)}`);
  await hydrated(page);
  const row = page.locator(`tr[data-event-id="${id}"]`);
  await expect(row.locator(".event-action")).toHaveText(tool);
  await expect(row.locator("td").nth(3)).toHaveText(event.agent);
  await expectInert(page);

  // The detail panel, rendered by the browser after a client-side navigation.
  await row.getByRole("link").click();
  await expect(page).toHaveURL(new RegExp(`event=${id}`));
  const detail = page.locator("#event-detail");
  const field = (label: string) =>
    detail.locator("dl > div").filter({ has: page.locator("dt").getByText(label, { exact: true }) }).locator("dd");
  const fields: [string, string][] = [
    ["Tool / action", tool],
    ["Agent", event.agent],
    ["Reason", event.reason],
    ["Server", event.server],
    ["Request id", event.request_id],
    ["Required scope", event.required_scope],
  ];
  await expect(field("Id")).toHaveText(id);
  for (const [label, text] of fields) await expect(field(label)).toHaveText(text);
  await expectInert(page);

  // The same detail rendered by the server.
  await page.reload();
  await hydrated(page);
  await expect(field("Id")).toHaveText(id);
  for (const [label, text] of fields) await expect(field(label)).toHaveText(text);
  await expectInert(page);
  expect(dialogs).toEqual([]);
});

test("markup in scope descriptions is text in the scope picker; agent names cannot hold markup", async ({ page, request }) => {
  // A tool server's key registers two scopes of a new service with markup
  // in their descriptions (the catalog is shared: any org's tool server can).
  const { key: toolServer } = await mintViaApi(request, { name: unique("tool-server"), scopes: ["svc:catalog:write"] });
  const service = unique("xss");
  const readDescription = `${xss.svg} read ${service}`;
  const purgeDescription = `${xss.img}${xss.script}${xss.quote}`;
  const registered = await request.post("/api/v1/scopes", {
    headers: { Authorization: `Bearer ${toolServer}` },
    data: {
      scopes: [
        { scope: `svc:${service}:read`, description: readDescription },
        { scope: `svc:${service}:purge`, description: purgeDescription },
      ],
    },
  });
  expect(registered.status(), await registered.text()).toBe(200);
  expect((await registered.json()).added).toBe(2);

  // The picker shows the read level's description as its title and the
  // extra action's as text: first rendered by the server, then by the
  // browser after a client-side navigation.
  await signIn(page);
  const check = async () => {
    const fieldset = page.locator(`fieldset[data-service="${service}"]`);
    await expect(fieldset.locator("label", { hasText: "Read" })).toHaveAttribute("title", readDescription);
    await expect(fieldset.locator("label", { hasText: "purge:" })).toHaveText(`purge: ${purgeDescription}`);
    await expectInert(page);
  };
  await page.goto("/keys/new");
  await hydrated(page);
  await check();
  await page.goto("/keys");
  await hydrated(page);
  await page.getByRole("main").getByRole("link", { name: "New key" }).click();
  await expect(page).toHaveURL(/\/keys\/new$/);
  await check();

  // The incident picker lists agents of keys, and an agent is a scope
  // segment ([a-z0-9_-]): markup is refused before it can reach the page.
  for (const agent of [xss.img, xss.svg]) {
    const refused = await request.post("/api/v1/keys/mint", {
      headers: { Authorization: `Bearer ${adminKey("acme")}` },
      data: { name: unique("agent-markup"), scopes: ["svc:wiki:read", `agent:${agent}`] },
    });
    expect(refused.status()).toBe(422);
    expect((await refused.json()).error.code).toBe("invalid_scope");
  }
});

test("markup in denied calls is text in the incident page's live feed", async ({ page, request }) => {
  const agent = unique("xss-agent");
  const victim = await mintViaApi(request, { name: `${agent}-key`, scopes: ["svc:keys:read", `agent:${agent}`] });
  await signIn(page);
  await page.goto("/incident");
  await hydrated(page);
  await expect(page.locator(`#incident-target option[value="${agent}"]`)).toHaveText(`Agent ${agent} (1 active)`);
  await page.getByLabel("Revoke", { exact: true }).selectOption(agent);
  await page.getByLabel("Reason (recorded in the audit trail)").fill(xss.img);
  await page.getByRole("button", { name: "Revoke keys…" }).click();
  await page.locator("#incident-confirm").fill(agent);
  await page.locator("dialog#incident-dialog").getByRole("button", { name: "Revoke now" }).click();
  await expect(page.locator("#incident-result")).toContainText("Revoked 1 key.");

  const tool = `${xss.img}${xss.script} ${unique("tool")}`;
  const reason = `${xss.svg} ${xss.quote}`;
  await ingest(request, [{ tool, decision: "denied", reason, key_id: victim.id }]);
  const item = page.locator("#denial-feed li", { hasText: tool });
  await expect(item).toBeVisible({ timeout: 10_000 });
  await expect(item.locator(".font-medium")).toHaveText(tool);
  await expect(item).toContainText(reason);
  await expectInert(page);
});

test("another origin cannot mint or revoke with a signed-in admin's cookie", async ({ page, request, baseURL }) => {
  const victim = await mintViaApi(request, { name: unique("csrf-victim"), scopes: ["svc:keys:read"] });
  const minted = unique("csrf-minted");
  await signIn(page);

  // The exact requests the dashboard sends for a mint and a revoke.
  await page.goto("/keys/new");
  await hydrated(page);
  const mint = await captureServerFn(page, "mint_key", async () => {
    await page.getByLabel("Name").fill(minted);
    await page.locator('fieldset[data-service="wiki"]').getByLabel("Read").check();
    await page.getByRole("button", { name: "Create key" }).click();
  });
  await page.goto("/keys");
  await hydrated(page);
  const revoke = await captureServerFn(page, "revoke_key", async () => {
    await page.locator(`tr[data-key-id="${victim.id}"]`).getByRole("button", { name: "Revoke" }).click();
    await page.locator("dialog#revoke-dialog").getByRole("button", { name: "Revoke key" }).click();
  });
  expect(new URLSearchParams(mint.body).get("name")).toBe(minted);
  expect(new URLSearchParams(revoke.body).get("id")).toBe(victim.id);

  // 1. A page on another loopback port (same site, so the SameSite=Strict
  //    cookie goes along; only the origin check stands in the way) posts
  //    both as plain HTML forms.
  const hidden = (body: string) =>
    [...new URLSearchParams(body)]
      .map(([k, v]) => `<input type="hidden" name="${k}" value="${v.replace(/&/g, "&amp;").replace(/"/g, "&quot;")}">`)
      .join("");
  const evil = createServer((_req, res) => {
    res.writeHead(200, { "Content-Type": "text/html" });
    res.end(
      `<!doctype html><form id="mint" method="POST" action="${mint.url}">${hidden(mint.body)}<button>mint</button></form>` +
        `<form id="revoke" method="POST" action="${revoke.url}">${hidden(revoke.body)}<button>revoke</button></form>`,
    );
  });
  await new Promise<void>((resolve) => evil.listen(0, "127.0.0.1", resolve));
  const evilOrigin = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`;
  try {
    for (const [form, target] of [
      ["#mint", mint],
      ["#revoke", revoke],
    ] as const) {
      await page.goto(evilOrigin);
      const answer = page.waitForResponse((r) => r.url() === target.url);
      await page.locator(`${form} button`).click();
      const response = await answer;
      const headers = await response.request().allHeaders();
      expect(headers["origin"]).toBe(evilOrigin);
      expect(headers["cookie"]).toContain("acekeys_session=");
      expect(response.status()).toBe(403);
    }
  } finally {
    evil.close();
  }

  // 2. The same requests with the session cookie and a foreign Origin.
  for (const target of [mint, revoke]) {
    const foreign = await page.request.post(target.url, {
      headers: { Origin: "http://evil.example", "Content-Type": "application/x-www-form-urlencoded" },
      data: target.body,
      maxRedirects: 0,
    });
    expect(foreign.status()).toBe(403);
  }

  // Nothing was minted or revoked.
  let keys = await listKeys(request);
  expect(keys.filter((k) => k.name === minted)).toEqual([]);
  expect(keys.find((k) => k.id === victim.id)?.status).toBe("active");
  expect(await listStatus(request, victim.key)).toBe(200);

  // Control: the very same requests from the dashboard's own origin work,
  // so the refusals above were the origin check and nothing else.
  for (const target of [mint, revoke]) {
    const own = await page.request.post(target.url, {
      headers: { Origin: baseURL!, "Content-Type": "application/x-www-form-urlencoded" },
      data: target.body,
      maxRedirects: 0,
    });
    expect(own.status(), await own.text()).toBeLessThan(400);
  }
  keys = await listKeys(request);
  expect(keys.filter((k) => k.name === minted)).toHaveLength(1);
  expect(await listStatus(request, victim.key)).toBe(401);
});
