// People in the dashboard, in Chromium with a virtual authenticator (the
// DevTools Protocol's WebAuthn domain: a CTAP2 platform authenticator with
// user verification): the break-glass key invites the first owner, who
// enrols with a passkey, signs out and back in with it, invites an
// auditor; the auditor's dashboard offers no write controls and the server
// refuses a forced mint; removing the auditor ends their open session in
// their own browser context at once. Passkeys need a domain name, so every
// page here is opened on localhost, not 127.0.0.1.
import { test, expect, type Browser, type Page } from "@playwright/test";
import { adminKey, captureServerFn, hydrated, screenshots, unique } from "./support/helpers";
import { join } from "node:path";

const port = process.env.ACEKEYS_E2E_PORT ?? "3000";
const origin = `http://localhost:${port}`;

/** A new browser context whose page has a passkey-capable authenticator. */
async function personWithAuthenticator(browser: Browser, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { context, page };
}

async function breakGlassSignIn(page: Page) {
  await page.goto(`${origin}/sign-in`);
  await hydrated(page);
  await page.getByLabel("Admin key").fill(adminKey("acme"));
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/keys$/);
}

async function invite(page: Page, email: string, role: "owner" | "key_admin" | "auditor") {
  await page.goto(`${origin}/members`);
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Role", { exact: true }).first().selectOption(role);
  await page.getByRole("button", { name: "Create invitation" }).click();
  const link = page.locator("#invitation-link");
  await expect(link).toContainText("/invite#");
  return (await link.textContent())!.trim();
}

async function enrol(page: Page, link: string) {
  await page.goto(link);
  await hydrated(page);
  await page.getByRole("button", { name: "Create passkey and join" }).click();
  await expect(page).toHaveURL(/\/keys$/);
  await hydrated(page);
}

test("a person is invited, enrols with a passkey, and signs in with it again", async ({ browser }) => {
  const admin = await browser.newContext();
  const adminPage = await admin.newPage();
  await breakGlassSignIn(adminPage);
  const ownerEmail = `${unique("owner")}@acme.test`;
  const link = await invite(adminPage, ownerEmail, "owner");
  expect(link.startsWith(`${origin}/invite#`)).toBe(true);

  const owner = await personWithAuthenticator(browser);
  await enrol(owner.page, link);
  await expect(owner.page.locator("#whoami")).toContainText(`${ownerEmail} (owner, passkey)`);

  // The link works once.
  const replay = await personWithAuthenticator(browser);
  await replay.page.goto(link);
  await hydrated(replay.page);
  await replay.page.getByRole("button", { name: "Create passkey and join" }).click();
  await expect(replay.page.locator("#invite-error")).toContainText("already used");
  await replay.context.close();

  // Sign out, then back in with the passkey alone. An attacker's planted
  // cookie (session fixation) never becomes the signed-in session.
  await owner.page.getByRole("button", { name: "Sign out" }).click();
  await expect(owner.page).toHaveURL(/\/sign-in$/);
  const planted = "ab".repeat(32);
  await owner.context.addCookies([{ name: "acekeys_session", value: planted, url: origin }]);
  await owner.page.reload();
  await hydrated(owner.page);
  await owner.page.getByLabel("Organization").fill("acme");
  await owner.page.getByLabel("Email").fill(ownerEmail);
  await owner.page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await expect(owner.page).toHaveURL(/\/keys$/);
  await expect(owner.page.locator("#whoami")).toContainText(ownerEmail);
  const session = (await owner.context.cookies(origin)).find((c) => c.name === "acekeys_session");
  expect(session?.value).toMatch(/^[0-9a-f]{64}$/);
  expect(session?.value).not.toBe(planted);

  // An email that is no member gets no session (a decoy challenge).
  const stranger = await personWithAuthenticator(browser);
  await stranger.page.goto(`${origin}/sign-in`);
  await hydrated(stranger.page);
  await stranger.page.getByLabel("Organization").fill("acme");
  await stranger.page.getByLabel("Email").fill("nobody@acme.test");
  await stranger.page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await expect(stranger.page.locator("#passkey-error")).not.toBeEmpty();
  await expect(stranger.page).toHaveURL(/\/sign-in$/);
  await stranger.context.close();

  // The trail names the person on their own actions (their sign-in),
  // and the People page links to everything they did.
  await owner.page.goto(`${origin}/members`);
  await hydrated(owner.page);
  await owner.page.locator(`li.member[data-email="${ownerEmail}"] a.member-trail`).click();
  await expect(owner.page).toHaveURL(/\/audit\?key_id=key_/);
  await hydrated(owner.page);
  const signIn = owner.page.locator("#audit-table tr", { has: owner.page.locator(".event-action", { hasText: /^sign_in$/ }) });
  await expect(signIn.first().locator(".event-person")).toHaveText(`${ownerEmail} (owner, passkey)`);
  await expect(owner.page.locator("#audit-table .event-action", { hasText: "member_join" })).toHaveCount(1);
  await admin.close();
  await owner.context.close();
});

test("an auditor sees no write controls, is refused a forced mint, and is signed out when removed", async ({ browser }) => {
  const admin = await browser.newContext();
  const adminPage = await admin.newPage();
  await breakGlassSignIn(adminPage);
  // The exact request the new-key page sends, captured from the owner.
  await adminPage.goto(`${origin}/keys/new`);
  await hydrated(adminPage);
  const mint = await captureServerFn(adminPage, "mint_key", async () => {
    await adminPage.getByLabel("Name").fill(unique("forced"));
    await adminPage.locator('fieldset[data-service="keys"]').getByLabel("Read").check();
    await adminPage.getByRole("button", { name: "Create key" }).click();
  });

  const auditorEmail = `${unique("auditor")}@acme.test`;
  const link = await invite(adminPage, auditorEmail, "auditor");
  const auditor = await personWithAuthenticator(browser);
  await enrol(auditor.page, link);
  await expect(auditor.page.locator("#whoami")).toContainText(`${auditorEmail} (auditor, passkey)`);
  const nav = auditor.page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "Keys" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Audit" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "New key" })).toHaveCount(0);
  await expect(nav.getByRole("link", { name: "Incident" })).toHaveCount(0);
  // The keys are listed (no secret), with no way to mint, rotate or revoke.
  await expect(auditor.page.locator("#keys-table tbody tr").first()).toBeVisible();
  await expect(auditor.page.getByRole("link", { name: "New key" })).toHaveCount(0);
  await expect(auditor.page.getByRole("button", { name: "Revoke" })).toHaveCount(0);
  await expect(auditor.page.getByRole("button", { name: "Rotate" })).toHaveCount(0);
  await auditor.page.screenshot({ path: join(screenshots, "auditor-keys-1280.png"), fullPage: true });
  // A key's own page: its life, but no quarantine control.
  await auditor.page.locator("#keys-table a.key-name").first().click();
  await expect(auditor.page.locator("#key-life-facts")).toBeVisible();
  await hydrated(auditor.page);
  await expect(auditor.page.locator("#quarantine-key")).toHaveCount(0);

  // Forced: the new-key page's own request, from the auditor's session.
  const status = await auditor.page.evaluate(
    async ({ url, body }) =>
      (await fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body })).status,
    { url: new URL(mint.url).pathname, body: mint.body },
  );
  expect(status).toBe(403);

  // Control: the same page offers them to the admin.
  await adminPage.goto(`${origin}/keys`);
  await hydrated(adminPage);
  await expect(adminPage.getByRole("link", { name: "New key" }).first()).toBeVisible();
  await expect(adminPage.getByRole("button", { name: "Revoke" }).first()).toBeVisible();

  // The members page (owner's view) at 1280 and 390 px.
  await adminPage.goto(`${origin}/members`);
  await hydrated(adminPage);
  const row = adminPage.locator(`li.member[data-email="${auditorEmail}"]`);
  await expect(row).toBeVisible();
  await adminPage.screenshot({ path: join(screenshots, "members-1280.png"), fullPage: true });
  await adminPage.setViewportSize({ width: 390, height: 844 });
  await adminPage.screenshot({ path: join(screenshots, "members-390.png"), fullPage: true });
  await auditor.page.setViewportSize({ width: 390, height: 844 });
  await auditor.page.screenshot({ path: join(screenshots, "auditor-keys-390.png"), fullPage: true });

  // Removing the auditor ends their open session: their very next request
  // is signed out.
  await row.getByRole("button", { name: "Remove" }).click();
  await row.getByRole("button", { name: "Remove now" }).click();
  await expect(row).toHaveCount(0);
  const removedAt = Date.now();
  await auditor.page.goto(`${origin}/keys`);
  await expect(auditor.page).toHaveURL(/\/sign-in$/);
  expect(Date.now() - removedAt).toBeLessThan(1000);
  await admin.close();
  await auditor.context.close();
});
