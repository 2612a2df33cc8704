// On call from a phone (390 x 844, an iPhone 12-15's CSS viewport): the keys
// page shows each key as a card with its Revoke button in view and the page
// never scrolls sideways; revoking from a card works like on a desktop; the
// incident page is usable with one thumb. At 1280 px the table stays a table.
// Screenshots of what the phone shows go to end2end/screenshots/.
import { test, expect, type Locator, type Page } from "@playwright/test";
import { join } from "node:path";
import { hydrated, listStatus, mintViaApi, screenshots, signIn, unique } from "./support/helpers";

const PHONE = { width: 390, height: 844 };
/** Apple's and WCAG 2.5.5's minimum for a target touched with a finger. */
const MIN_TAP_PX = 44;

/** Collects console errors (CSP violations, hydration errors) and page errors. */
function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
  page.on("pageerror", (e) => problems.push(e.message));
  return problems;
}

/** The document is no wider than the viewport: nothing scrolls sideways. */
async function expectNoSidewaysScroll(page: Page) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  expect(innerWidth).toBe(PHONE.width);
  expect(scrollWidth).toBeLessThanOrEqual(PHONE.width);
}

/** The whole box is inside the viewport horizontally. */
async function expectInViewHorizontally(page: Page, selector: string | Locator) {
  const locator = typeof selector === "string" ? page.locator(selector) : selector;
  const box = await locator.boundingBox();
  expect(box, `${locator} has a box`).not.toBeNull();
  expect(box!.x).toBeGreaterThanOrEqual(0);
  expect(box!.x + box!.width).toBeLessThanOrEqual(PHONE.width);
  return box!;
}

test("keys at 390 px: a card per key, every Revoke in view, revoke from a card", async ({ page, request }) => {
  const problems = watchProblems(page);
  const agent = unique("phone-agent").toLowerCase();
  const target = await mintViaApi(request, {
    name: unique("phone-revoke-me"),
    scopes: ["svc:keys:read", `agent:${agent}`],
    expires_days: 5,
  });
  await mintViaApi(request, { name: unique("phone-bystander-with-a-rather-long-name"), scopes: ["svc:wiki:read", "svc:wiki:write"] });
  await mintViaApi(request, { name: unique("phone-third"), scopes: ["svc:keys:read"], expires_days: 30 });

  await page.setViewportSize(PHONE);
  await signIn(page);
  await page.goto("/keys");
  await hydrated(page);
  await expectNoSidewaysScroll(page);

  // Every row is a card: its cells carry visible labels (the header row is
  // there for screen readers only), and every card and every Revoke button
  // fit the screen's width; the buttons are thumb-sized.
  const rows = page.locator("#keys-table tbody tr");
  const count = await rows.count();
  expect(count).toBeGreaterThanOrEqual(3);
  const head = await page.locator("#keys-table thead").boundingBox();
  expect(head === null || head.width <= 1).toBe(true);
  const label = await page.locator(`tr[data-key-id="${target.id}"] td[data-label="Status"]`).evaluate(
    (td) => getComputedStyle(td, "::before").content,
  );
  expect(label).toBe('"Status"');
  const revokes = page.locator("#keys-table tbody tr").getByRole("button", { name: "Revoke", exact: true });
  const buttons = await revokes.count();
  expect(buttons).toBeGreaterThanOrEqual(3);
  for (let i = 0; i < count; i++) await expectInViewHorizontally(page, rows.nth(i));
  for (let i = 0; i < buttons; i++) {
    const box = await expectInViewHorizontally(page, revokes.nth(i));
    expect(box.height).toBeGreaterThanOrEqual(MIN_TAP_PX);
  }
  // The card shows what on-call needs to decide, without scrolling sideways.
  const card = page.locator(`tr[data-key-id="${target.id}"]`);
  for (const cell of ["Env", "Agent", "Status", "Expires"]) {
    await expectInViewHorizontally(page, card.locator(`td[data-label="${cell}"]`));
  }
  await expect(card.locator('td[data-label="Agent"]')).toHaveText(agent);
  await expect(card.locator(".key-status")).toHaveText("active");
  await expectInViewHorizontally(page, card.getByRole("button", { name: "Rotate" }));
  await page.screenshot({ path: join(screenshots, "keys-cards-390.png") });

  // Revoke from the card: the same confirmation as on a desktop.
  await card.getByRole("button", { name: "Revoke", exact: true }).click();
  const dialog = page.locator("dialog#revoke-dialog");
  await expect(dialog).toBeVisible();
  await expectInViewHorizontally(page, dialog);
  await page.getByLabel("Reason (recorded in the audit trail)").fill("phone on call: leaked in a CI log");
  const confirm = dialog.getByRole("button", { name: "Revoke key" });
  const confirmBox = await expectInViewHorizontally(page, confirm);
  expect(confirmBox.height).toBeGreaterThanOrEqual(MIN_TAP_PX);
  await page.screenshot({ path: join(screenshots, "keys-revoke-390.png") });
  await confirm.click();
  await expect(dialog).toBeHidden();
  await expect(card.locator(".key-status")).toHaveText("revoked");
  await expect(page.locator("#keys-notice")).toContainText("Revoked “phone-revoke-me");
  // A revoked key's card has no actions left, and still nothing overflows.
  await expect(card.getByRole("button")).toHaveCount(0);
  await expectNoSidewaysScroll(page);
  expect(await listStatus(request, target.key)).toBe(401);
  expect(problems).toEqual([]);
});

test("incident at 390 px: one thumb, nothing off screen, the switch works", async ({ page, request }) => {
  const problems = watchProblems(page);
  const agent = unique("phone-rogue").toLowerCase();
  const rogue = await mintViaApi(request, { name: `${agent}-1`, scopes: ["svc:keys:read", `agent:${agent}`] });

  await page.setViewportSize(PHONE);
  await signIn(page);
  await page.goto("/incident");
  await hydrated(page);
  await expectNoSidewaysScroll(page);

  // The controls span the form's width, are thumb-sized, and the main
  // action is fully on the first screen.
  const form = await expectInViewHorizontally(page, "form:has(#incident-start)");
  for (const control of ["#incident-target", "#incident-reason", "#incident-start"]) {
    const box = await expectInViewHorizontally(page, control);
    expect(box.height, control).toBeGreaterThanOrEqual(MIN_TAP_PX);
    expect(box.width, control).toBeGreaterThanOrEqual(form.width - 2 * 24);
  }
  const start = await page.locator("#incident-start").boundingBox();
  expect(start!.y).toBeGreaterThanOrEqual(0);
  expect(start!.y + start!.height).toBeLessThanOrEqual(PHONE.height);
  await page.screenshot({ path: join(screenshots, "incident-thumb-390.png") });

  // The switch itself, confirmation included, from the phone.
  await page.getByLabel("Revoke", { exact: true }).selectOption(agent);
  await page.getByLabel("Reason (recorded in the audit trail)").fill("phone on call");
  await page.locator("#incident-start").click();
  const dialog = page.locator("dialog#incident-dialog");
  await expect(dialog).toBeVisible();
  await expectInViewHorizontally(page, dialog);
  await page.locator("#incident-confirm").fill(agent);
  const now = dialog.getByRole("button", { name: "Revoke now" });
  const nowBox = await expectInViewHorizontally(page, now);
  expect(nowBox.height).toBeGreaterThanOrEqual(MIN_TAP_PX);
  await page.screenshot({ path: join(screenshots, "incident-confirm-390.png") });
  await now.click();
  await expect(page.locator("#incident-result")).toContainText("Revoked 1 key.");
  await expect(page.locator("#denial-feed")).toBeVisible();
  await expectNoSidewaysScroll(page);
  expect(await listStatus(request, rogue.key)).toBe(401);
  expect(problems).toEqual([]);
});

test("at 1280 px the keys table and the incident form keep their desktop layout", async ({ page, request }) => {
  const { id } = await mintViaApi(request, { name: unique("desktop"), scopes: ["svc:keys:read"] });
  await page.setViewportSize({ width: 1280, height: 900 });
  await signIn(page);
  const row = page.locator(`tr[data-key-id="${id}"]`);
  await expect(row).toBeVisible();
  expect(await row.evaluate((tr) => getComputedStyle(tr).display)).toBe("table-row");
  await expect(page.locator("#keys-table thead th").first()).toBeVisible();
  const label = await row.locator('td[data-label="Status"]').evaluate((td) => getComputedStyle(td, "::before").content);
  expect(label).toBe("none");
  // The row's buttons keep their desktop size (14 px text, not full-width).
  const revoke = await row.getByRole("button", { name: "Revoke", exact: true }).boundingBox();
  expect(revoke!.height).toBeLessThan(MIN_TAP_PX);
  expect(revoke!.width).toBeLessThan(120);

  await page.goto("/incident");
  await hydrated(page);
  const start = await page.locator("#incident-start").boundingBox();
  expect(start!.width).toBeLessThan(200);
  expect(start!.height).toBeLessThan(MIN_TAP_PX);
});
