// The OAuth pages in the hydrated dashboard: the consent page an app sends
// a person to (what it shows, narrowing, approve) and Connected apps (the
// grant, revoke), with screenshots at desktop and phone widths.
import { test, expect } from "@playwright/test";
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { hydrated, screenshots, signIn, unique } from "./support/helpers";

const REDIRECT = "http://127.0.0.1:9/callback";
const RESOURCE = "https://wiki.example.com/mcp";

test("an app is approved with fewer scopes, listed, and revoked", async ({ page, request }) => {
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(e.message));
  const name = unique("Desk assistant");
  const registered = await request.post("/oauth/register", {
    data: { redirect_uris: [REDIRECT], client_name: name, token_endpoint_auth_method: "none", application_type: "native" },
  });
  expect(registered.status()).toBe(201);
  const clientId = (await registered.json()).client_id;
  const verifier = randomBytes(48).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const query = new URLSearchParams({
    response_type: "code", client_id: clientId, redirect_uri: REDIRECT, state: "st",
    scope: "svc:wiki:read svc:wiki:write", code_challenge: challenge, code_challenge_method: "S256", resource: RESOURCE,
  });
  await page.route(`${REDIRECT}**`, (route) => route.fulfill({ status: 200, contentType: "text/plain", body: "back in the app" }));

  // Signed out, the consent page sends the person to sign in, then back.
  await page.goto(`/oauth/authorize?${query}`);
  await expect(page).toHaveURL(/\/sign-in\?next=/);
  await signIn(page);
  await page.goto(`/oauth/authorize?${query}`);
  await hydrated(page);
  await expect(page.locator("#consent-client")).toHaveText(name);
  await expect(page.locator("#consent-unverified")).toBeVisible();
  await expect(page.locator("#consent-resource")).toHaveText(RESOURCE);
  await expect(page.locator("#consent-redirect-host")).toHaveText("127.0.0.1");
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: join(screenshots, `consent-${width}.png`), fullPage: true });
  }
  await page.uncheck("#consent-scope-svc-wiki-write");
  await page.fill("#consent-agent", "desk");
  // Wait for the navigation back to the app to finish, not only to start:
  // the answer page's meta refresh would otherwise interrupt the next goto.
  await Promise.all([
    page.waitForURL((url) => url.href.startsWith(REDIRECT)),
    page.click("#consent-approve"),
  ]);
  const answer = new URL(page.url());
  expect(answer.searchParams.get("state")).toBe("st");
  const issuer = (await (await request.get("/.well-known/oauth-authorization-server")).json()).issuer;
  expect(answer.searchParams.get("iss")).toBe(issuer);
  const tokens = await request.post("/oauth/token", {
    form: { grant_type: "authorization_code", code: answer.searchParams.get("code")!, redirect_uri: REDIRECT, code_verifier: verifier, client_id: clientId },
  });
  expect(tokens.status()).toBe(200);
  expect((await tokens.json()).scope).toBe("agent:desk svc:wiki:read");

  await page.goto("/apps");
  await hydrated(page);
  const card = page.locator("li[data-grant]", { hasText: name });
  await expect(card).toHaveAttribute("data-status", "active");
  await expect(card).toContainText("svc:wiki:read");
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: join(screenshots, `apps-${width}.png`), fullPage: true });
  }
  await card.locator("[data-revoke]").click();
  await expect(page.locator("li[data-grant]", { hasText: name })).toHaveAttribute("data-status", "revoked");
  expect(problems).toEqual([]);
});
