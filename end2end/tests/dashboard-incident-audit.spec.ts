// The incident switch and the audit explorer.
import { test, expect } from "@playwright/test";
import { adminKey, hydrated, listStatus, mintViaApi, signIn, unique } from "./support/helpers";

test("incident: revoke every key of one agent, see the count and the denials that follow", async ({ page, request }) => {
  const agent = unique("rogue").toLowerCase();
  const a = await mintViaApi(request, { name: `${agent}-1`, scopes: ["svc:keys:read", `agent:${agent}`] });
  const b = await mintViaApi(request, { name: `${agent}-2`, scopes: ["svc:keys:read", `agent:${agent}`] });
  const bystander = await mintViaApi(request, { name: unique("bystander"), scopes: ["svc:keys:read"] });

  await signIn(page);
  await page.goto("/incident");
  await hydrated(page);
  await page.getByLabel("Revoke", { exact: true }).selectOption(agent);
  await page.getByLabel("Reason (recorded in the audit trail)").fill("prompt injection");
  await page.getByRole("button", { name: "Revoke keys…" }).click();
  const confirm = page.locator("dialog#incident-dialog");
  await expect(confirm).toBeVisible();
  await expect(confirm.getByRole("button", { name: "Revoke now" })).toBeDisabled();
  await page.locator("#incident-confirm").fill(agent);
  await confirm.getByRole("button", { name: "Revoke now" }).click();
  await expect(page.locator("#incident-result")).toContainText("Revoked 2 keys.");

  expect(await listStatus(request, a.key)).toBe(401);
  expect(await listStatus(request, b.key)).toBe(401);
  expect(await listStatus(request, bystander.key)).toBe(200);

  // A tool server reports the denied calls that follow; the feed shows them.
  const tool = unique("wiki.delete_page");
  const ingest = await request.post("/api/v1/audit/events", {
    headers: { Authorization: `Bearer ${adminKey("acme")}` },
    data: { events: [{ tool, decision: "denied", reason: "revoked_key", key_id: a.id, agent }] },
  });
  expect(ingest.status()).toBe(201);
  await expect(page.locator("#denial-feed")).toContainText(tool, { timeout: 10_000 });
});

test("audit explorer: filters in the URL, shared view, detail panel, export", async ({ page, browser, request }) => {
  const tool = unique("kb.search");
  const events = [
    { tool, decision: "allowed", agent: "explorer-bot" },
    { tool, decision: "denied", reason: "insufficient_scope", agent: "explorer-bot" },
    { tool, decision: "denied", reason: "insufficient_scope", agent: "explorer-bot" },
    { tool: unique("other.tool"), decision: "denied" },
  ];
  const ingest = await request.post("/api/v1/audit/events", {
    headers: { Authorization: `Bearer ${adminKey("acme")}` },
    data: { events },
  });
  expect(ingest.status()).toBe(201);

  await signIn(page);
  await page.goto("/audit");
  await hydrated(page);
  await expect(page.locator("#timeline")).toBeVisible();
  await page.getByLabel("Tool or action").fill(tool);
  await page.getByLabel("Decision").selectOption("denied");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(new RegExp(`tool=${tool.replace(".", "\\.")}`));
  await expect(page).toHaveURL(/decision=denied/);
  const rows = page.locator("#audit-table tbody tr");
  await expect(rows).toHaveCount(2);
  for (const action of await page.locator("#audit-table .event-action").allTextContents()) expect(action).toBe(tool);
  // An incident is ordered in seconds, and the chart has a time axis.
  await expect(rows.first().locator("td").first()).toHaveText(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/);
  await expect(page.locator("#timeline-axis span")).toHaveCount(5);

  // The shared URL reproduces the view in a fresh, signed-in context.
  const shared = page.url();
  const other = await browser.newContext();
  const second = await other.newPage();
  await signIn(second);
  await second.goto(shared);
  await expect(second.locator("#audit-table tbody tr")).toHaveCount(2);
  await expect(second.getByLabel("Tool or action")).toHaveValue(tool);
  await other.close();

  // Detail panel.
  await rows.first().getByRole("link").click();
  await expect(page.locator("#event-detail")).toContainText("insufficient_scope");
  await expect(page).toHaveURL(/event=evt_/);

  // Export of the current filter.
  const download = page.waitForEvent("download");
  await page.locator("#export-csv").click();
  const file = await download;
  const path = await file.path();
  const csv = require("node:fs").readFileSync(path, "utf8") as string;
  const lines = csv.trim().split("\n");
  expect(lines[0]).toContain("id,ts,org");
  expect(lines.length).toBe(3);
  expect(csv).toContain(tool);
  expect(csv).not.toContain("allowed,");
  const nd = await page.request.get(`/dashboard/export?format=ndjson&tool=${encodeURIComponent(tool)}`);
  expect(nd.status()).toBe(200);
  expect((await nd.text()).trim().split("\n")).toHaveLength(3);
  // Without the session cookie, the export refuses.
  const anonymous = await request.get(`/dashboard/export?tool=${encodeURIComponent(tool)}`, { headers: { Cookie: "" } });
  expect(anonymous.status()).toBe(401);

  // Admin events say which key they acted on, by name beside its id.
  await page.goto("/audit?kind=admin&tool=mint");
  const subject = page.locator("#audit-table .event-subject").first();
  await expect(subject.locator(".key-name")).not.toBeEmpty();
  await expect(subject).toContainText("key_");
});

test("a key's page tells its whole life, and the agent filter finds what was done to its keys", async ({ page, request }) => {
  const agent = unique("life").toLowerCase();
  const admin = { Authorization: `Bearer ${adminKey("acme")}` };
  const name = `${agent}-key`;
  const key = await mintViaApi(request, { name, scopes: ["svc:keys:read", `agent:${agent}`] });
  const tool = unique("wiki.read_page");
  const ingest = await request.post("/api/v1/audit/events", {
    headers: admin,
    data: {
      events: [
        { tool, decision: "allowed", key_id: key.id, agent },
        { tool, decision: "denied", reason: "insufficient_scope", key_id: key.id, agent },
      ],
    },
  });
  expect(ingest.status()).toBe(201);
  const rotated = await request.post(`/api/v1/keys/${key.id}/rotate`, { headers: admin, data: { grace_secs: 0 } });
  expect(rotated.status(), await rotated.text()).toBe(201);
  const successor: string = (await rotated.json()).successor.id;
  const revoked = await request.post(`/api/v1/keys/${successor}/revoke`, { headers: admin, data: { reason: "agent retired" } });
  expect(revoked.status()).toBe(200);

  await signIn(page);
  // From the keys list, the name opens the key's page.
  await page.locator(`#keys-table tr[data-key-id="${key.id}"] a.key-name`).click();
  await expect(page).toHaveURL(new RegExp(`/keys/${key.id}$`));
  await hydrated(page);
  await expect(page.locator("#key-life-name")).toContainText(name);
  const facts = page.locator("#key-life-facts");
  await expect(facts).toContainText(agent);
  await expect(facts).toContainText("svc:keys:read");
  await expect(facts).toContainText("Rotated to");
  const actions = page.locator("#audit-table .event-action");
  // Newest first: rotated, its two calls (one batch: same instant), minted.
  await expect(actions).toHaveText(["rotate", tool, tool, "mint"]);
  const rows = page.locator("#audit-table tbody tr");
  const callDecisions = [await rows.nth(1).locator("td").nth(1).innerText(), await rows.nth(2).locator("td").nth(1).innerText()];
  expect(callDecisions.sort()).toEqual(["allowed", "denied"]);

  // The successor's page: born of the rotation, revoked with its reason.
  await facts.getByRole("link", { name }).click();
  await expect(page).toHaveURL(new RegExp(`/keys/${successor}$`));
  await expect(page.locator("#key-life-facts")).toContainText("agent retired");
  await expect(page.locator("#audit-table .event-action")).toHaveText(["revoke", "rotate"]);
  const revokeRow = page.locator("#audit-table tbody tr").first();
  await expect(revokeRow.locator(".event-subject-agent")).toHaveText(`agent ${agent}`);

  // The agent filter: its calls and everything done to its keys.
  await page.goto(`/audit?agent=${agent}`);
  await expect(page.locator("#audit-table .event-action")).toHaveText(["revoke", "rotate", tool, tool, "mint"]);

  // Another org's key is no page here.
  const foreign = await mintViaApi(request, { name: unique("globex-key"), scopes: ["svc:keys:read"] }, "globex");
  await page.goto(`/keys/${foreign.id}`);
  await expect(page.locator("h1")).toHaveText("No such key");
  await expect(page.locator("main")).not.toContainText(foreign.id);
});
