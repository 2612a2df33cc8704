// Screenshots of every page at desktop and phone widths, and the time to
// interactive of the keys page (navigation start → hydrated, then a click
// that only the hydrated page answers), with a bound.
import { test, expect } from "@playwright/test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { hydrated, mintViaApi, screenshots, signIn, unique } from "./support/helpers";

const pages = [
  ["keys", "/keys"],
  ["new-key", "/keys/new"],
  ["incident", "/incident"],
  ["audit", "/audit"],
  ["leaks", "/leaks"],
  ["webhooks", "/webhooks"],
  ["settings", "/settings"],
] as const;

for (const width of [1280, 390]) {
  test(`every page at ${width} px`, async ({ page, request }) => {
    const minted = await mintViaApi(request, { name: unique("screenshot"), scopes: ["svc:wiki:read"], expires_days: 3 });
    // Any CSP violation (a script without the nonce) or hydration error shows here.
    const problems: string[] = [];
    page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
    page.on("pageerror", (e) => problems.push(e.message));
    await page.setViewportSize({ width, height: 900 });
    await page.goto("/sign-in");
    await hydrated(page);
    await page.screenshot({ path: join(screenshots, `sign-in-${width}.png`), fullPage: true });
    await signIn(page);
    for (const [name, path] of [...pages, ["key", `/keys/${minted.id}`] as const]) {
      await page.goto(path);
      await hydrated(page);
      // Nothing is wider than the viewport.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (name !== "keys" && name !== "audit") expect(overflow).toBeLessThanOrEqual(1);
      if (name === "keys" && width === 1280) {
        // On a desktop the row actions are on screen without scrolling sideways.
        const box = await page.getByRole("button", { name: "Revoke" }).first().boundingBox();
        expect(box).not.toBeNull();
        expect(box!.x + box!.width).toBeLessThanOrEqual(width);
      }
      await page.screenshot({ path: join(screenshots, `${name}-${width}.png`), fullPage: true });
    }
    expect(problems).toEqual([]);
  });
}

// The README's figure on this machine is a median of ~190 ms; ten times that
// still fails a page that takes seconds to hydrate, without failing on a
// busy CI runner.
const TTI_BOUND_MS = 2_000;

test("time to interactive of the keys page", async ({ page, request }) => {
  const { id } = await mintViaApi(request, { name: unique("tti"), scopes: ["svc:wiki:read"] });
  await signIn(page);
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    await page.goto("/keys");
    await page.locator("main[data-hydrated=true]").waitFor();
    samples.push(await page.evaluate(() => performance.now()));
    // Interactive, not only painted: the row's Revoke button opens its
    // dialog, which only the hydrated page's click handler does.
    await page.locator(`tr[data-key-id="${id}"]`).getByRole("button", { name: "Revoke" }).click();
    await expect(page.locator("dialog#revoke-dialog")).toBeVisible();
  }
  samples.sort((a, b) => a - b);
  const result = { samples_ms: samples.map(Math.round), median_ms: Math.round(samples[2]) };
  writeFileSync(join(__dirname, "..", "test-results", "tti.json"), JSON.stringify(result));
  console.log(`keys page time to interactive: ${JSON.stringify(result)}`);
  expect(result.median_ms).toBeLessThan(TTI_BOUND_MS);
});
