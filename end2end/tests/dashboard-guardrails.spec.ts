// Guardrails in the browser: a leaked-key report signed like GitHub's
// secret scanning revokes the key, and the Leaks page and the key's page
// say where it was found.
import { test, expect } from "@playwright/test";
import { createPrivateKey, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { hydrated, listStatus, mintViaApi, signIn, unique } from "./support/helpers";

function scannerKey() {
  const dir = process.env.ACEKEYS_DATA_DIR!;
  return createPrivateKey(readFileSync(join(dir, "leak-signer.pem"), "utf8"));
}

test("a signed leak report revokes the key; the Leaks page and the key's page show where it was found", async ({ page, request }) => {
  const name = unique("pasted");
  const { key, id } = await mintViaApi(request, { name, scopes: ["svc:keys:read"], expires_days: 5 });
  expect(await listStatus(request, key)).toBe(200);
  const url = `https://github.com/acme/${name}/blob/main/.env`;
  const body = JSON.stringify([{ token: key, type: "acekeys_api_key", url, source: "content" }]);
  const post = (signature: Buffer) =>
    request.post("/api/v1/leaks/github", {
      headers: {
        "content-type": "application/json",
        "Github-Public-Key-Identifier": "e2e-scanner",
        "Github-Public-Key-Signature": signature.toString("base64"),
      },
      data: body,
    });
  // A signature of another body changes nothing.
  const forged = await post(sign("sha256", Buffer.from("[]"), scannerKey()));
  expect(forged.status()).toBe(401);
  expect(await listStatus(request, key)).toBe(200);

  const reported = await post(sign("sha256", Buffer.from(body), scannerKey()));
  expect(reported.status(), await reported.text()).toBe(200);
  expect((await reported.json())[0].label).toBe("true_positive");
  expect(await listStatus(request, key)).toBe(401);

  await signIn(page);
  await page.goto("/leaks");
  await hydrated(page);
  await expect(page.locator("#leak-reports")).toContainText(url);
  await page.goto(`/keys/${id}`);
  await hydrated(page);
  await expect(page.locator("#key-life-name .key-status")).toHaveText("revoked");
  await expect(page.locator("#key-life-facts")).toContainText(url);
});

test("limits: set in the new-key form, shown on the key's page, changed there; the API answers with them", async ({ page, request }) => {
  await signIn(page);
  await page.goto("/keys/new");
  await hydrated(page);
  const name = unique("metered");
  await page.getByLabel("Name").fill(name);
  await page.locator('fieldset[data-service="keys"]').getByLabel("Read").check();
  await page.locator("#limit-add").click();
  await page.locator("#limit-amount-0").fill("100");
  await page.locator("#limit-per-0").fill("60");
  await page.locator("#limit-add").click();
  await page.locator("#limit-kind-1").selectOption("budget");
  await page.locator("#limit-amount-1").fill("5000");
  await page.locator("#limit-refill-1").selectOption("monthly");
  await page.locator("#limit-scope-1").fill("svc:keys:read");
  await page.getByRole("button", { name: "Create key" }).click();
  await expect(page.locator("dialog#copy-once")).toBeVisible();
  const key = await page.locator("#new-key-value").inputValue();
  const self = await request.get("/api/v1/keys", { headers: { Authorization: `Bearer ${key}` } });
  expect(self.status()).toBe(200);

  await page.goto("/keys");
  await hydrated(page);
  await page.locator("#keys-table a.key-name", { hasText: name }).first().click();
  await expect(page.locator("#key-limits-list")).toContainText("100 calls per 60 s on all tools");
  await expect(page.locator("#key-limits-list")).toContainText("5000 calls per calendar month (UTC) on svc:keys:read");

  // Changed on its page: the budget goes, the rate tightens.
  await page.locator("#edit-limits").click();
  await page.locator("#limit-remove-1").click();
  await page.locator("#limit-amount-0").fill("10");
  await page.locator("#save-limits").click();
  await expect(page.locator("#key-limits-list")).toHaveText("10 calls per 60 s on all tools");
  const id = page.url().split("/keys/")[1];
  const view = await request.get(`/api/v1/keys/${id}`, { headers: { Authorization: `Bearer ${key}` } });
  expect((await view.json()).limits).toEqual([
    { owner: id, limit: { kind: "rate", max: 10, per_seconds: 60 } },
  ]);

  // A bad row is refused with what to fix, and nothing changes.
  await page.locator("#edit-limits").click();
  await page.locator("#limit-amount-0").fill("0");
  await page.locator("#save-limits").click();
  await expect(page.locator("#limits-error")).toContainText("max must be between 1");
  await page.reload();
  await hydrated(page);
  await expect(page.locator("#key-limits-list")).toHaveText("10 calls per 60 s on all tools");
});
