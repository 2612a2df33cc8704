// The foundation's proof: the server renders the page, the WASM bundle
// hydrates it, and a server-function round trip answers.
import { test, expect } from "@playwright/test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const screenshots = join(__dirname, "..", "screenshots");

test("start page renders, hydrates and reaches the server", async ({ page }) => {
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));

  const response = await page.goto("/");
  expect(response?.status()).toBe(200);

  // Server-rendered content is there before any script runs.
  await expect(page.getByRole("heading", { name: "acekeys", level: 1 })).toBeVisible();

  // The flag flips only when the WASM bundle has hydrated the page.
  await expect(page.locator("main[data-hydrated=true]")).toBeVisible();
  await page.waitForLoadState("networkidle");

  await page.getByRole("button", { name: "Check server" }).click();
  await expect(page.locator("#server-answer")).toHaveText(/^acekeys \d+\.\d+\.\d+ · store: sqlite$/);

  mkdirSync(screenshots, { recursive: true });
  await page.screenshot({ path: join(screenshots, "home.png"), fullPage: true });

  expect(problems).toEqual([]);
});

test("unknown pages answer 404 with a way back", async ({ page }) => {
  const response = await page.goto("/no-such-page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
});

test("health check answers 200", async ({ request }) => {
  const response = await request.get("/healthz");
  expect(response.status()).toBe(200);
  expect(await response.text()).toBe("ok");
});
