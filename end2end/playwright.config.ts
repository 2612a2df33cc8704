// Playwright drives Debian's Chromium (/usr/bin/chromium): `npx playwright
// install` downloads a browser and cannot work on machines without internet.
// The server under test is the release build, started by Playwright on the
// port and with the throwaway data dir that scripts/test chose. Without
// ACEKEYS_BIN (and a data dir) the suite refuses to run: it must never test
// whatever else happens to listen on the port.
import { defineConfig } from "@playwright/test";

const binary = process.env.ACEKEYS_BIN;
const dataDir = process.env.ACEKEYS_DATA_DIR;
if (!binary || !dataDir) {
  throw new Error(
    "ACEKEYS_BIN and ACEKEYS_DATA_DIR must be set: the browser suite starts its own server " +
      "(the release build) on a throwaway data dir and never tests one already running. " +
      "Run scripts/test, or: ACEKEYS_BIN=$CARGO_TARGET_DIR/release/acekeys ACEKEYS_DATA_DIR=$(mktemp -d) " +
      "ACEKEYS_E2E_PORT=<free port> npx playwright test --config end2end/playwright.config.ts",
  );
}
const port = process.env.ACEKEYS_E2E_PORT ?? "3000";
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  outputDir: "./test-results",
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    // Bootstraps the test orgs (keys written to the data dir) before the
    // server starts: Playwright starts webServer before globalSetup. With
    // reuseExistingServer false, Playwright fails if the port is taken.
    command: `sh ${__dirname}/tests/support/serve.sh`,
    url: `${baseURL}/healthz`,
    timeout: 60_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: process.env.LEPTOS_SITE_ROOT ?? "target/site",
      LEPTOS_OUTPUT_NAME: "acekeys",
      LEPTOS_SITE_PKG_DIR: "pkg",
      LEPTOS_ENV: "PROD",
      ACEKEYS_DATA_DIR: dataDir,
      ACEKEYS_BIN: binary,
      // Passkeys are bound to a domain name: the people spec opens the
      // dashboard at localhost (a secure context for WebAuthn), not 127.0.0.1.
      ACEKEYS_PUBLIC_URL: `http://localhost:${port}`,
    },
  },
});
