// Guardrails in the browser: a leaked-key report signed like GitHub's
// secret scanning revokes the key, and the Leaks page and the key's page
// say where it was found; limits are set and changed; webhook endpoints
// are added, their secret shown once and rotated, and deleted; the org's
// guardrail settings are changed, checked and set back.
import { test, expect } from "@playwright/test";
import { createPrivateKey, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { adminKey, forbidDialogs, hydrated, listStatus, mintViaApi, signIn, unique } from "./support/helpers";

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

test("webhooks: an endpoint is added with two types, its secret shown once and rotated, its log opened, and deleted; http is refused", async ({ page }) => {
  const dialogs: string[] = [];
  forbidDialogs(page, dialogs);
  await signIn(page);
  await page.getByRole("link", { name: "Webhooks", exact: true }).click();
  await expect(page).toHaveURL(/\/webhooks$/);
  await hydrated(page);

  // Creation only checks the URL: nothing needs to listen there.
  const url = `https://hooks.example.com/acekeys/${unique("hook")}`;
  await page.locator("#webhook-url").fill(url);
  for (const type of ["key-expiring", "key-quarantined", "key-released"]) {
    await page.locator(`#webhook-event-${type}`).uncheck();
  }
  await expect(page.locator("#webhook-event-key-revoked")).toBeChecked();
  await expect(page.locator("#webhook-event-leak-reported")).toBeChecked();
  await page.locator("#webhook-description").fill("security alerts");
  await page.locator("#webhook-create").click();

  const dialog = page.locator("dialog#webhook-secret-once");
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText("You will not see this secret again");
  const first = await page.locator("#webhook-secret-value").inputValue();
  expect(first).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
  const closeSecret = async () => {
    await page.locator("#close-webhook-secret").click();
    await page.locator("#confirm-close-webhook-secret").click();
    await expect(dialog).toBeHidden();
  };
  await closeSecret();
  // The form is ready for the next endpoint.
  await expect(page.locator("#webhook-url")).toHaveValue("");

  const row = page.locator("li.webhook", { hasText: url });
  await expect(row).toHaveCount(1);
  await expect(row.locator(".webhook-events code")).toHaveText(["key.revoked", "leak.reported"]);
  await expect(row.locator(".webhook-description")).toHaveText("security alerts");

  // Shown once: a reload lists the endpoint and no secret, in the DOM or
  // in the page's serialized data.
  await page.reload();
  await hydrated(page);
  await expect(row).toHaveCount(1);
  await expect(row.locator(".webhook-previous")).toHaveCount(0);
  expect(await page.content()).not.toContain("whsec_");

  // Rotation: a new secret, once more; the old one still signs for a while.
  await row.locator(".webhook-rotate").click();
  await expect(dialog).toBeVisible();
  const second = await page.locator("#webhook-secret-value").inputValue();
  expect(second).toMatch(/^whsec_/);
  expect(second).not.toBe(first);
  await closeSecret();
  await expect(row.locator(".webhook-previous")).toContainText(/previous secret valid until/i);

  await row.locator(".webhook-log-toggle").click();
  await expect(row.locator(".webhook-log")).toBeVisible();
  await expect(row.locator(".webhook-log-empty, .webhook-log-table")).toBeVisible();

  // Delete asks first; Cancel keeps it.
  await row.locator(".webhook-delete").click();
  await row.getByRole("button", { name: "Cancel" }).click();
  await expect(row).toHaveCount(1);
  await row.locator(".webhook-delete").click();
  await row.locator(".webhook-delete-confirm").click();
  await expect(row).toHaveCount(0);
  await page.reload();
  await hydrated(page);
  await expect(page.locator("li.webhook", { hasText: url })).toHaveCount(0);

  // The suite's server keeps the default (https to public hosts only),
  // unless whoever runs it turned insecure webhooks on in the environment
  // the server inherits.
  const insecure = ["true", "1", "yes", "on"].includes((process.env.ACEKEYS_ALLOW_INSECURE_WEBHOOKS ?? "").toLowerCase());
  if (!insecure) {
    const local = `http://127.0.0.1/${unique("hook")}`;
    await page.locator("#webhook-url").fill(local);
    await page.locator("#webhook-create").click();
    await expect(page.locator("#webhook-form-error [role=alert]")).toContainText("must use https");
    await expect(dialog).toBeHidden();
    await expect(page.locator("li.webhook", { hasText: local })).toHaveCount(0);
  }
  expect(dialogs).toEqual([]);
});

test("settings: leaks go to quarantine and the org's rules apply, kept across a reload; a bad threshold is refused by name; back to defaults", async ({ page, request }) => {
  const dialogs: string[] = [];
  forbidDialogs(page, dialogs);
  const api = { Authorization: `Bearer ${adminKey("acme")}` };
  const stored = async () => {
    const response = await request.get("/api/v1/org/settings", { headers: api });
    expect(response.status(), await response.text()).toBe(200);
    return response.json();
  };
  try {
    await signIn(page);
    await page.getByRole("link", { name: "Settings", exact: true }).click();
    await expect(page).toHaveURL(/\/settings$/);
    await hydrated(page);

    // Nothing set: the server's leak response and each guard's own rules.
    await expect(page.locator("#leak-response-server")).toBeChecked();
    await expect(page.locator("#rules-guard")).toBeChecked();
    await expect(page.locator("#rule-loop-calls")).toHaveCount(0);

    // The org's rules start from the guards' defaults.
    await page.locator("#leak-response-quarantine").check();
    await page.locator("#rules-org").check();
    await expect(page.locator("#rule-loop-calls")).toHaveValue("50");
    await expect(page.locator("#rule-denial-burst")).toHaveValue("20");
    await expect(page.locator("#rule-surge-factor")).toHaveValue("10");
    await expect(page.locator("#rule-surge-floor")).toHaveValue("100");
    await expect(page.locator("#rule-new-tool")).not.toBeChecked();
    await page.locator("#rule-loop-calls").fill("7");
    await page.locator("#rule-new-tool").check();
    await page.locator("#settings-save").click();
    await expect(page.locator("#settings-saved")).toHaveText("Saved.");
    await expect(page.locator("#settings-error [role=alert]")).toHaveCount(0);

    await page.reload();
    await hydrated(page);
    await expect(page.locator("#leak-response-quarantine")).toBeChecked();
    await expect(page.locator("#rules-org")).toBeChecked();
    await expect(page.locator("#rule-loop-calls")).toHaveValue("7");
    await expect(page.locator("#rule-denial-burst")).toHaveValue("20");
    await expect(page.locator("#rule-new-tool")).toBeChecked();
    expect(await stored()).toEqual({
      leak_response: "quarantine",
      rules: { loop_calls: 7, denial_burst: 20, surge_factor: 10, surge_floor: 100, new_tool: true },
    });

    // One identical call is not a loop: the authority refuses it, naming the field.
    await page.locator("#rule-loop-calls").fill("1");
    await page.locator("#settings-save").click();
    await expect(page.locator("#settings-error [role=alert]")).toContainText("rules.loop_calls");
    await expect(page.locator("#settings-saved")).toHaveText("");
    await page.reload();
    await hydrated(page);
    await expect(page.locator("#rule-loop-calls")).toHaveValue("7");

    // Back to the defaults.
    await page.locator("#leak-response-server").check();
    await page.locator("#rules-guard").check();
    await expect(page.locator("#rule-loop-calls")).toHaveCount(0);
    await page.locator("#settings-save").click();
    await expect(page.locator("#settings-saved")).toHaveText("Saved.");
    await page.reload();
    await hydrated(page);
    await expect(page.locator("#leak-response-server")).toBeChecked();
    await expect(page.locator("#rules-guard")).toBeChecked();
    const after = await stored();
    expect(after.leak_response ?? null).toBeNull();
    expect(after.rules ?? null).toBeNull();
    expect(dialogs).toEqual([]);
  } finally {
    // Other specs expect a leak report to revoke: never leave quarantine set.
    await request.put("/api/v1/org/settings", { headers: api, data: {} });
  }
});
