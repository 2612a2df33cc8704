// Attacks in the browser: script in a key name, cross-origin server-function
// calls, and one org peeking at another.
import { test, expect } from "@playwright/test";
import { adminKey, forbidDialogs, hydrated, mintViaApi, signIn, unique } from "./support/helpers";

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

test("a second org's admin never sees the first org's keys or events", async ({ page, request }) => {
  const secret = unique("acme-only");
  await mintViaApi(request, { name: secret, scopes: ["svc:wiki:read"] }, "acme");
  const tool = unique("acme.tool");
  await request.post("/api/v1/audit/events", {
    headers: { Authorization: `Bearer ${adminKey("acme")}` },
    data: { events: [{ tool, decision: "denied" }] },
  });
  await signIn(page, "globex");
  await expect(page.locator("#whoami")).toContainText("globex");
  expect(await page.content()).not.toContain(secret);
  await page.goto(`/audit?tool=${encodeURIComponent(tool)}`);
  await hydrated(page);
  await expect(page.locator("#audit-empty")).toBeVisible();
  expect(await page.content()).not.toContain(secret);
});
