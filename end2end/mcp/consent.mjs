// A person approving an app in Chromium, for SDK tests in other languages:
//   node consent.mjs AUTHORITY_URL ADMIN_KEY AUTHORIZATION_URL REDIRECT_PREFIX
// signs in to the dashboard (the break-glass admin key form), opens the
// authorization URL, approves every scope offered, and prints the URL the
// browser was sent back to (the app's redirect URI with code, state, iss).
import { chromium } from "playwright-core";

const [authority, adminKey, authorizationUrl, redirectPrefix] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
try {
  const page = await (await browser.newContext()).newPage();
  await page.route(`${redirectPrefix}**`, (route) => route.fulfill({ status: 200, contentType: "text/plain", body: "back in the app" }));
  await page.goto(`${authority}/sign-in`);
  await page.fill("#admin-key", adminKey);
  await Promise.all([page.waitForURL(/\/keys$/), page.click("#sign-in-form button[type=submit]")]);
  await page.goto(authorizationUrl);
  await page.waitForSelector("#consent-approve");
  const [request] = await Promise.all([
    page.waitForRequest((r) => r.url().startsWith(redirectPrefix)),
    page.click("#consent-approve"),
  ]);
  console.log(request.url());
} finally {
  await browser.close();
}
