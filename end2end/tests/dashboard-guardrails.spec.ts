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
