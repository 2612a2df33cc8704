// The dashboard's key jobs in a real browser: sign in and out, mint with the
// scope picker and an expiry, copy once, revoke and rotate, each checked
// against the REST API in the same test.
import { test, expect } from "@playwright/test";
import { adminKey, hydrated, listStatus, mintViaApi, signIn, unique } from "./support/helpers";

test("signed-out visitors are sent to sign-in; sign-in and sign-out work", async ({ page }) => {
  const first = await page.goto("/keys");
  expect(first?.status()).toBe(200);
  await expect(page).toHaveURL(/\/sign-in$/);

  // A wrong key is refused with a message that says what to do.
  await hydrated(page);
  await page.getByLabel("Admin key").fill("ace_live_not-a-key");
  const refused = page.waitForResponse((response) => response.request().method() === "POST");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  // A refused key is the caller's problem, not a server fault: 401, never 500.
  expect((await refused).status()).toBe(401);
  await expect(page.locator("#sign-in-error")).toContainText("cannot sign in");

  await signIn(page);
  await expect(page.getByRole("heading", { name: "API keys" })).toBeVisible();
  await expect(page.locator("#whoami")).toContainText("acme");
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === "acekeys_session");
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe("Strict");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.goto("/keys");
  await expect(page).toHaveURL(/\/sign-in$/);
  // The old cookie value no longer opens a session.
  await page.context().addCookies([{ ...session!, expires: -1 }]);
  await page.goto("/keys");
  await expect(page).toHaveURL(/\/sign-in$/);
});

test("mint with the picker and an expiry; the key is shown once and then nowhere", async ({ page, context, request }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  const bodies: string[] = [];
  page.on("response", async (response) => {
    try {
      bodies.push(await response.text());
    } catch {
      /* redirects and aborted bodies have no text */
    }
  });
  await signIn(page);
  await page.goto("/keys/new");
  await hydrated(page);
  const name = unique("wiki-writer");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Agent (optional)").fill("wiki-bot");
  await page.locator('fieldset[data-service="wiki"]').getByLabel("Write").check();
  await page.locator('fieldset[data-service="keys"]').getByLabel("Read").check();
  await page.getByLabel("30 days").check();
  await expect(page.locator("#chosen-scopes")).toContainText("svc:wiki:write");
  await page.getByRole("button", { name: "Create key" }).click();

  const dialog = page.locator("dialog#copy-once");
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText("You will not see this key again");
  const key = await page.locator("#new-key-value").inputValue();
  expect(key).toMatch(/^ace_live_/);
  await page.getByRole("button", { name: "Copy to clipboard" }).click();
  await expect(page.locator("#copy-status")).toHaveText("Copied.");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);

  // The key works (it may read keys) — proof it is the real one.
  expect(await listStatus(request, key)).toBe(200);

  // Escape asks before closing; then confirm.
  await page.keyboard.press("Escape");
  await expect(page.getByText("Close for good?")).toBeVisible();
  await page.getByRole("button", { name: "Yes, close" }).click();
  await expect(dialog).toBeHidden();
  const mark = bodies.length;

  // Nowhere after closing: page, reload, history, any later server answer.
  expect(await page.content()).not.toContain(key);
  await page.reload();
  await hydrated(page);
  await expect(page.getByText(name)).toHaveCount(0); // the new-key page lists no keys
  expect(await page.content()).not.toContain(key);
  await page.goto("/keys");
  await hydrated(page);
  await expect(page.locator("#keys-table")).toContainText(name);
  expect(await page.content()).not.toContain(key);
  await page.goBack();
  await hydrated(page);
  expect(await page.content()).not.toContain(key);
  expect(page.url()).not.toContain(key);
  for (const body of bodies.slice(mark)) expect(body).not.toContain(key);
});

test("a key limited to one tool server: its page names it, the authority's API refuses it", async ({ page, request }) => {
  await signIn(page);
  await page.goto("/keys/new");
  await hydrated(page);
  const name = unique("wiki-only");
  await page.getByLabel("Name").fill(name);
  await page.locator('fieldset[data-service="keys"]').getByLabel("Read").check();
  await page.locator("#key-resources").fill("https://wiki.example.com/mcp\n");
  await page.getByRole("button", { name: "Create key" }).click();
  await expect(page.locator("dialog#copy-once")).toBeVisible();
  const key = await page.locator("#new-key-value").inputValue();
  expect(await listStatus(request, key)).toBe(401);
  await page.goto("/keys");
  await hydrated(page);
  await page.locator("#keys-table a.key-name", { hasText: name }).first().click();
  await expect(page.locator("#key-life-resources")).toHaveText("https://wiki.example.com/mcp");

  // A URL that is not a tool server's is refused with what to fix.
  await page.goto("/keys/new");
  await hydrated(page);
  await page.getByLabel("Name").fill(unique("bad-resource"));
  await page.locator('fieldset[data-service="keys"]').getByLabel("Read").check();
  await page.locator("#key-resources").fill("wiki.example.com");
  await page.getByRole("button", { name: "Create key" }).click();
  await expect(page.locator("#mint-error")).toContainText("resources");
});

test("where and when: networks, start and metadata from the form; a derived key's page names its parent", async ({ page, request }) => {
  await signIn(page);
  await page.goto("/keys/new");
  await hydrated(page);
  const name = unique("fenced");
  await page.getByLabel("Name").fill(name);
  await page.locator('fieldset[data-service="keys"]').getByLabel("Read").check();
  await page.locator("#key-networks").fill("10.0.0.0/8\n2001:db8::/32");
  // Ten days from now (inside the default 90-day life), as datetime-local.
  const start = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 16);
  await page.locator("#key-not-before").fill(start);
  await page.locator("#key-metadata").fill('{"team": "search"}');
  await page.getByRole("button", { name: "Create key" }).click();
  await expect(page.locator("dialog#copy-once")).toBeVisible();
  const key = await page.locator("#new-key-value").inputValue();
  // Not yet valid, and Playwright calls from loopback: refused either way.
  expect(await listStatus(request, key)).toBe(401);
  await page.goto("/keys");
  await hydrated(page);
  await page.locator("#keys-table a.key-name", { hasText: name }).first().click();
  await expect(page.locator("#key-life-networks")).toContainText("10.0.0.0/8");
  await expect(page.locator("#key-life-networks")).toContainText("2001:db8::/32");
  await expect(page.locator("#key-life-not-before")).toContainText(start.slice(0, 10));
  await expect(page.locator("#key-life-metadata")).toHaveText('{"team":"search"}');

  // A bad range and bad JSON are refused with what to fix.
  await page.goto("/keys/new");
  await hydrated(page);
  await page.getByLabel("Name").fill(unique("bad-terms"));
  await page.locator('fieldset[data-service="keys"]').getByLabel("Read").check();
  await page.locator("#key-networks").fill("10.0.0.1/8");
  await page.getByRole("button", { name: "Create key" }).click();
  await expect(page.locator("#mint-error")).toContainText("10.0.0.0/8");
  await page.locator("#key-networks").fill("");
  await page.locator("#key-metadata").fill("{team: search}");
  await page.getByRole("button", { name: "Create key" }).click();
  await expect(page.locator("#mint-error")).toContainText("not valid JSON");

  // An agent's key mints a sub-agent's key: the tree shows on both pages.
  const lead = await mintViaApi(request, { name: unique("lead"), scopes: ["agent:crawler", "svc:keys:write", "svc:wiki:read"], expires_days: 5 });
  const childName = unique("helper");
  const minted = await request.post("/api/v1/keys/mint", {
    headers: { Authorization: `Bearer ${lead.key}` },
    data: { name: childName, scopes: ["agent:crawler", "svc:wiki:read"], expires_days: 1 },
  });
  expect(minted.status(), await minted.text()).toBe(201);
  const child = await minted.json();
  await page.goto(`/keys/${lead.id}`);
  await hydrated(page);
  await expect(page.locator("#key-life-derived")).toContainText(childName);
  await page.locator("#key-life-derived a", { hasText: childName }).click();
  await expect(page.locator("#key-life-name")).toContainText(childName);
  await expect(page.locator("#key-life-parent")).toContainText("revoking it revokes this key");
  expect(page.url()).toContain(child.id);
});

test("quarantine: a guard's hold shows as a banner and a badge; one click releases it, or holds a key by hand", async ({ page, request }) => {
  const name = unique("looping");
  const { key, id } = await mintViaApi(request, { name, scopes: ["svc:keys:read"], expires_days: 5 });
  expect(await listStatus(request, key)).toBe(200);
  // What a guard sends when its loop rule trips (here with the admin key).
  const held = await request.post(`/api/v1/keys/${id}/quarantine`, {
    headers: { Authorization: `Bearer ${adminKey("acme")}` },
    data: { rule: "loop", reason: "`read_page` called 50 times with the same arguments" },
  });
  expect(held.status(), await held.text()).toBe(200);
  expect(await listStatus(request, key)).toBe(401);

  await signIn(page);
  await expect(page.locator("#quarantine-banner")).toContainText(name);
  await expect(page.locator(`tr[data-key-id="${id}"] .key-status`)).toHaveText("quarantined");
  await page.locator("#quarantine-banner a", { hasText: name }).click();
  await expect(page.locator("#key-quarantine-rule")).toHaveText("loop");
  await expect(page.locator("#key-quarantine-evidence")).toContainText("50 times");
  await page.locator("#release-key").click();
  await expect(page.locator("#key-quarantine")).toBeHidden();
  await expect(page.locator("#key-life-name .key-status")).toHaveText("active");
  expect(await listStatus(request, key)).toBe(200);

  // By hand: hold it again from its page; the API refuses it at once.
  await page.locator("#quarantine-key").click();
  await expect(page.locator("#key-quarantine-rule")).toHaveText("manual");
  expect(await listStatus(request, key)).toBe(401);
  await page.locator("#revoke-held-key").click();
  await expect(page.locator("#key-life-name .key-status")).toHaveText("revoked");
});

test("revoke from the table; the REST API refuses the key at once", async ({ page, request }) => {
  const name = unique("to-revoke");
  const { key, id } = await mintViaApi(request, { name, scopes: ["svc:keys:read"], expires_days: 5 });
  expect(await listStatus(request, key)).toBe(200);

  await signIn(page);
  const row = page.locator(`tr[data-key-id="${id}"]`);
  await expect(row).toContainText("expires soon");
  await row.getByRole("button", { name: "Revoke" }).click();
  const dialog = page.locator("dialog#revoke-dialog");
  await expect(dialog).toBeVisible();
  await page.getByLabel("Reason (recorded in the audit trail)").fill("leaked in a CI log");
  await dialog.getByRole("button", { name: "Revoke key" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.locator(`tr[data-key-id="${id}"] .key-status`)).toHaveText("revoked");
  await expect(page.locator("#keys-notice")).toContainText(`Revoked “${name}”`);

  expect(await listStatus(request, key)).toBe(401);
});

test("rotate with no grace: the successor is shown once and works, the old key stops", async ({ page, request }) => {
  const name = unique("to-rotate");
  const { key, id } = await mintViaApi(request, { name, scopes: ["svc:keys:read"] });
  await signIn(page);
  await page.locator(`tr[data-key-id="${id}"]`).getByRole("button", { name: "Rotate" }).click();
  await page.getByLabel("Old key keeps working for").selectOption("0");
  await page.locator("dialog#rotate-dialog").getByRole("button", { name: "Rotate key" }).click();
  const dialog = page.locator("dialog#copy-once");
  await expect(dialog).toBeVisible();
  const successor = await page.locator("#new-key-value").inputValue();
  expect(successor).not.toBe(key);
  await page.getByRole("button", { name: "I have stored it, close" }).click();
  await page.getByRole("button", { name: "Yes, close" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.locator(`tr[data-key-id="${id}"] .key-status`)).toHaveText("revoked");

  expect(await listStatus(request, successor)).toBe(200);
  expect(await listStatus(request, key)).toBe(401);
});
