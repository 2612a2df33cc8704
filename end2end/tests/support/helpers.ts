// Shared helpers for the dashboard specs: admin keys of the bootstrapped
// orgs, signing in, minting through the REST API, waiting for hydration.
import { expect, type Page, type APIRequestContext } from "@playwright/test";
import { readFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

export const screenshots = join(__dirname, "..", "..", "screenshots");
mkdirSync(screenshots, { recursive: true });

export function adminKey(org: "acme" | "globex"): string {
  const dir = process.env.ACEKEYS_DATA_DIR;
  if (!dir) throw new Error("ACEKEYS_DATA_DIR is not set; run through scripts/test");
  return readFileSync(join(dir, `${org}.key`), "utf8").trim();
}

export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

export async function hydrated(page: Page) {
  await expect(page.locator("main[data-hydrated=true]")).toBeVisible();
  await page.waitForLoadState("networkidle");
}

export async function signIn(page: Page, org: "acme" | "globex" = "acme") {
  await page.goto("/sign-in");
  await hydrated(page);
  await page.getByLabel("Admin key").fill(adminKey(org));
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/keys$/);
  await hydrated(page);
}

export async function mintViaApi(
  request: APIRequestContext,
  body: { name: string; scopes: string[]; expires_days?: number },
  org: "acme" | "globex" = "acme",
): Promise<{ key: string; id: string }> {
  const response = await request.post("/api/v1/keys/mint", {
    headers: { Authorization: `Bearer ${adminKey(org)}` },
    data: body,
  });
  expect(response.status(), await response.text()).toBe(201);
  const json = await response.json();
  return { key: json.key, id: json.id };
}

export async function listStatus(request: APIRequestContext, key: string): Promise<number> {
  const response = await request.get("/api/v1/keys", { headers: { Authorization: `Bearer ${key}` } });
  return response.status();
}

/** Fails the test on any JS dialog (alert/confirm/prompt): nothing may run one. */
export function forbidDialogs(page: Page, seen: string[]) {
  page.on("dialog", async (dialog) => {
    seen.push(dialog.message());
    await dialog.dismiss();
  });
}

/**
 * Text that becomes live markup if a page ever renders it as HTML: each
 * payload creates an element of class `xss-probe` and sets `window.__xss`
 * from an inline handler or script (the CSP would block those, so the
 * element is what shows a broken escape; the flag shows escape and CSP
 * broken together). `svg` and `quote` also break out of a double- or
 * single-quoted attribute.
 */
export const xss = {
  img: `<img class=xss-probe src=x onerror=window.__xss=1>`,
  script: `<script class=xss-probe>window.__xss=2</script>`,
  svg: `"><svg class=xss-probe onload=window.__xss=3>`,
  quote: `'><img class=xss-probe src=x onerror=window.__xss=4>`,
};

/** Nothing injected is in the DOM and no injected handler or script ran. */
export async function expectInert(page: Page) {
  await expect(page.locator(".xss-probe")).toHaveCount(0);
  expect(await page.evaluate(() => document.querySelectorAll("[onerror], [onload]").length)).toBe(0);
  expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
}

/** Every key of `org` as the REST API lists it. */
export async function listKeys(
  request: APIRequestContext,
  org: "acme" | "globex" = "acme",
): Promise<{ id: string; name: string; status: string }[]> {
  const response = await request.get("/api/v1/keys", { headers: { Authorization: `Bearer ${adminKey(org)}` } });
  expect(response.status(), await response.text()).toBe(200);
  return (await response.json()).keys;
}

/** Reports tool calls for `org` and checks every one was recorded. */
export async function ingest(
  request: APIRequestContext,
  events: Record<string, unknown>[],
  org: "acme" | "globex" = "acme",
): Promise<string[]> {
  const response = await request.post("/api/v1/audit/events", {
    headers: { Authorization: `Bearer ${adminKey(org)}` },
    data: { events },
  });
  expect(response.status(), await response.text()).toBe(201);
  const answer = await response.json();
  expect(answer.accepted).toBe(events.length);
  expect(answer.ids).toHaveLength(events.length);
  return answer.ids;
}

/** Clicks through `act` in the dashboard and captures, without letting it
 * through, the server-function request it makes to `/api/<name>…`. */
export async function captureServerFn(page: Page, name: string, act: () => Promise<void>) {
  let captured: { url: string; body: string } | undefined;
  const matches = (url: URL) => url.pathname.startsWith(`/api/${name}`);
  await page.route(matches, async (route) => {
    captured ??= { url: route.request().url(), body: route.request().postData() ?? "" };
    await route.abort();
  });
  await act();
  await expect.poll(() => captured).toBeTruthy();
  await page.unroute(matches);
  return captured!;
}
